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
    """Latin hypercubes of `block` points laid end to end: the stream's points block*b .. block*(b + 1) - 1 are one
    hypercube (seeded by b), which puts each knob's values in `block` distinct equal slices. A hypercube made per
    ask would be one random point per ask when trials are asked for one at a time (the usual case), so the design
    is indexed by the stream's position instead, as Sobol's is: asks of one point and batches give the same
    points, and concurrent processes draw different rows of the same hypercubes."""

    name = "lhs"
    max_objectives = None  # never reads a value
    block = 16  # points per hypercube: budgets of ~10-50 trials get one or a few whole designs

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        return self.distinct(history, n, self._stream(self.position(history)))

    def _stream(self, start: int) -> Iterator[dict[str, Any]]:
        if self.space.ndim == 0:
            while True:
                yield self.space.from_unit(np.empty(0))
        b, row = divmod(start, self.block)
        while True:  # past the asked-for points only to replace repeats on a finite space
            design = qmc.LatinHypercube(self.space.ndim, seed=self.rng(2, b)).random(self.block)
            for u in design[row:]:
                yield self.space.from_unit(u)
            b, row = b + 1, 0
