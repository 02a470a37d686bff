"""strategy="auto": picks a strategy from the space and the budget, then delegates to it.

Today's rule (model-based strategies will refine it):
- a finite space searched by fraction (fraction_limit) -> a shuffled grid: a random subset without repeats;
- a finite space whose whole grid fits in the budget -> the grid itself;
- otherwise -> Sobol quasi-random points, which cover the space more evenly than random ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..trial import FrozenTrial
from .base import Strategy
from .grid import GridSearch
from .qmc import SobolSearch


class AutoStrategy(Strategy):
    """Chooses the strategy once the space and budget are known (see the module docstring)."""

    name = "auto"

    def __init__(self) -> None:
        self.chosen: Strategy | None = None
        self.budget: int | None = None
        self.fraction_limit: float | None = None

    def configure(self, *, n_trials: int | None, fraction_limit: float | None) -> None:
        """The experiment tells the budget before asking; the choice is made anew when it changes."""
        if (n_trials, fraction_limit) != (self.budget, self.fraction_limit) or self.chosen is None:
            self.budget, self.fraction_limit = n_trials, fraction_limit
            self.chosen = self._choose()
            self.chosen.setup(self.space, seed=self.seed, direction=self.direction)

    def _choose(self) -> Strategy:
        if self.space.is_finite:
            size = self.space.grid_size()
            if self.fraction_limit is not None:
                return GridSearch(shuffle=True)
            if self.budget is not None and size <= self.budget:
                return GridSearch(shuffle=False)
        return SobolSearch()

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        if self.chosen is None:
            self.configure(n_trials=None, fraction_limit=None)
        return self.chosen.ask(history, n)

    def tell(self, trial: FrozenTrial) -> None:
        if self.chosen is not None:
            self.chosen.tell(trial)

    def size(self) -> int | None:
        return self.chosen.size() if self.chosen is not None else None

    def __repr__(self) -> str:
        return f"AutoStrategy(chosen={self.chosen!r})"
