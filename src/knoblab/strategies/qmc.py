"""Quasi-random search: Sobol and Latin hypercube points (scipy.stats.qmc) spread the budget evenly."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from ..trial import FrozenTrial
from .base import Strategy


class SobolSearch(Strategy):
    """A scrambled Sobol sequence; the stream goes on from the number of trials already in the history."""

    name = "sobol"

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        if self.space.ndim == 0:
            return [self.space.from_unit(np.empty(0)) for _ in range(n)]
        engine = qmc.Sobol(self.space.ndim, scramble=True, seed=self.rng(1))
        if history:
            engine.fast_forward(len(history))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # balance properties want powers of two; the stream is fine without
            points = engine.random(n)
        return [self.space.from_unit(u) for u in points]


class LatinHypercubeSearch(Strategy):
    """Latin hypercube batches: each ask of n points stratifies every knob into n equal slices."""

    name = "lhs"

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        if self.space.ndim == 0:
            return [self.space.from_unit(np.empty(0)) for _ in range(n)]
        engine = qmc.LatinHypercube(self.space.ndim, seed=self.rng(2, len(history)))
        return [self.space.from_unit(u) for u in engine.random(n)]
