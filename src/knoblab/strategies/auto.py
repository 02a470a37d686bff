"""strategy="auto": picks a strategy from the space and the budget, then delegates to it.

The rule, in order (docs/strategies.md has the table of strategies and the benchmarks behind it):
- a finite space searched by fraction (fraction_limit) -> a shuffled grid: a random subset without repeats;
- a finite space whose whole grid fits in the budget -> the grid itself;
- a known budget of at most GP_MAX_TRIALS trials, at most GP_MAX_DIMS knobs and branches nested at most one
  deep -> Gaussian-process BO (which starts with a few Sobol points): the most sample-efficient when each trial
  is expensive and the budget small, at a cost per suggestion that grows with the history (~0.1-1 s);
- otherwise (a large or unknown budget, many knobs, branches within branches) -> TPE, whose cost per suggestion
  stays in milliseconds and which models each branch's sub-space on its own (it also starts with Sobol points);
- a space with no knob to search -> Sobol (every point is the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..trial import FrozenTrial
from .base import Strategy
from .gp import GPSearch
from .grid import GridSearch
from .qmc import SobolSearch
from .tpe import TPESearch

GP_MAX_TRIALS = 300
GP_MAX_DIMS = 20


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
        if self.space.ndim == 0:
            return SobolSearch()
        small = self.budget is not None and self.budget <= GP_MAX_TRIALS
        if small and self.space.ndim <= GP_MAX_DIMS and branch_depth(self.space) <= 1:
            return GPSearch()
        return TPESearch()

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


def branch_depth(space) -> int:
    """How deep branches nest: 0 without branches, 1 for branches at the top level only, and so on."""
    return max((len(d.conditions) + 1 for d in space.dimensions if hasattr(d.knob, "subspaces")), default=0)
