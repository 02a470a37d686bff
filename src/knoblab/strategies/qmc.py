"""Quasi-random search: Sobol and Latin hypercube points (scipy.stats.qmc) spread the budget evenly."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from ..trial import FrozenTrial
from .base import Strategy


class SobolSearch(Strategy):
    """A scrambled Sobol sequence; each ask goes on from its position in the stream (see Strategy.position), so
    the points of concurrent processes together are still the sequence's own."""

    name = "sobol"
    max_objectives = None  # never reads a value

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        return self.distinct(history, n, self._stream(self.position(history), n))

    def _stream(self, start: int, n: int) -> Iterator[dict[str, Any]]:
        if self.space.ndim == 0:
            while True:
                yield self.space.from_unit(np.empty(0))
        engine = qmc.Sobol(self.space.ndim, scramble=True, seed=self.rng(1))
        if start:
            engine.fast_forward(start)
        while True:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # balance properties want powers of two; the stream is fine without
                points = engine.random(max(n, 8))
            for u in points:
                yield self.space.from_unit(u)


class LatinHypercubeSearch(Strategy):
    """Latin hypercube batches: each ask of n points stratifies every knob into n equal slices."""

    name = "lhs"
    max_objectives = None  # never reads a value

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        return self.distinct(history, n, self._stream(self.position(history), n))

    def _stream(self, start: int, n: int) -> Iterator[dict[str, Any]]:
        if self.space.ndim == 0:
            while True:
                yield self.space.from_unit(np.empty(0))
        engine = qmc.LatinHypercube(self.space.ndim, seed=self.rng(2, start))
        while True:  # the first batch is the hypercube; later ones only replace repeats on a finite space
            for u in engine.random(n):
                yield self.space.from_unit(u)
