"""CMA-ES (the `cmaes` package) on the unit cube, for spaces of numeric knobs: real, integer, ordered choices.

Stateless over the history: the evolution is replayed from the COMPLETE trials in number order, popsize at a
time (one generation each), so a reopened experiment rebuilds the same search distribution. The replay is kept
between asks and extended with new generations only, so its cost does not grow with every suggestion.

What it does not search: unordered categorical knobs (lists of strings, Bool) and conditional branches. CMA-ES
adapts a Gaussian over a continuous space, which neither has; `setup` refuses such spaces with an error naming
the knob (use "tpe" or "gp" there). Integer knobs and ordered choices are searched as continuous and rounded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._extras import require
from ..space import Categorical, Space
from ..trial import FrozenTrial, TrialState
from ._encoding import Encoding
from .base import Strategy


class CMAESSearch(Strategy):
    """CMA-ES with bounds on the unit cube; `popsize` defaults to 4 + 3 ln(d), `sigma0` to 1/6 of each range."""

    name = "cmaes"

    def __init__(self, popsize: int | None = None, sigma0: float = 1.0 / 6.0) -> None:
        self.popsize = popsize
        self.sigma0 = float(sigma0)

    @staticmethod
    def unsupported_knob(space: Space) -> str | None:
        """The first knob CMA-ES cannot search (an unordered categorical or a branch), or None."""
        for d in space.dimensions:
            if isinstance(d.knob, Categorical) and not d.knob.ordered:
                return d.knob.name
        return None

    def supports(self, space: Space) -> bool:
        return self.unsupported_knob(space) is None

    def setup(self, space: Space, *, seed: int, direction: str) -> None:
        name = self.unsupported_knob(space)
        if name is not None:
            raise ValueError(
                f"strategy 'cmaes': knob {name!r} is an unordered categorical or a branch, which CMA-ES cannot "
                "search; use strategy='tpe' or 'gp' for this space, or make the knob numeric (kl.Int, kl.Real, "
                "or a (low, high, n) tuple)"
            )
        super().setup(space, seed=seed, direction=direction)
        self._cmaes = require("cmaes", "strategy 'cmaes'", "strategies")
        self.enc = Encoding(space)
        d = max(space.ndim, 1)
        self._popsize = int(self.popsize or 4 + math.floor(3 * math.log(d)))
        self._replay: tuple[list[tuple], Any] | None = None  # (trial keys consumed, optimizer after them)

    def _fresh(self):
        d = self.space.ndim
        bounds = np.tile([0.0, 1.0], (max(d, 2), 1))
        return self._cmaes.CMA(
            mean=np.full(max(d, 2), 0.5),
            sigma=self.sigma0,
            bounds=bounds,
            seed=self.seed % (2**31),
            population_size=max(self._popsize, 2),
        )

    def _optimizer(self, history: Sequence[FrozenTrial]):
        """The optimizer after every full generation of COMPLETE trials, replayed (incrementally) from history."""
        X, y, _ = self.enc.rows(history, self.direction)
        keys = [
            (t.id, t.number)
            for t in history
            if t.state == TrialState.COMPLETE and t.value is not None and np.isfinite(t.value)
        ]
        n_gen = len(y) // self._popsize
        consumed = n_gen * self._popsize
        if self._replay is not None and self._replay[0] == keys[: len(self._replay[0])]:
            done, opt = self._replay
            start = len(done)
        else:
            opt, start = self._fresh(), 0
        d2 = max(self.space.ndim, 2)
        for g in range(start, consumed, self._popsize):
            xs = np.full((self._popsize, d2), 0.5)
            xs[:, : self.space.ndim] = np.clip(X[g : g + self._popsize], 0.0, 1.0)
            opt.tell([(xs[i], float(y[g + i])) for i in range(self._popsize)])
        self._replay = (keys[:consumed], opt)
        return opt

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        opt = self._optimizer(history)
        # a generator that depends on the seed and the ask's stream position alone, not on what was asked before
        saved = opt._rng
        opt._rng = np.random.RandomState(int(self.rng(20, self.position(history)).integers(2**31)))
        try:
            return self.distinct(history, n, self._stream(opt))
        finally:
            opt._rng = saved

    def _stream(self, opt):
        while True:
            x = opt.ask()
            yield self.enc.decode(np.asarray(x[: self.space.ndim], dtype=float))
