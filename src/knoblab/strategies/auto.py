"""strategy="auto": picks a strategy from the space and the budget, then delegates to it.

The rule, in order (docs/strategies.md has the table of strategies and the benchmarks behind it):
- a finite space searched by fraction (fraction_limit) -> a shuffled grid: a random subset without repeats;
- a finite space whose whole grid fits in the budget -> the grid itself;
- a scheduler that stops or pauses trials (successive halving, Hyperband, median stopping) -> TPE: most trials end
  PRUNED at a low rung, and TPE learns from all of them, ranked by the resource they reached, then by value
  (BOHB-like), where a GP would see only the few COMPLETE ones;
- a known budget of at most GP_MAX_TRIALS trials (n_trials, or a resource budget (max_resource) over the fixed
  `epochs` knob: that many full trials), at most GP_MAX_DIMS knobs and branches nested at most one
  deep -> Gaussian-process BO (which starts with a few Sobol points): the most sample-efficient when each trial
  is expensive and the budget small, at a cost per suggestion that grows with the history (~0.1-1 s);
- otherwise (a large or unknown budget, many knobs, branches within branches) -> TPE, whose cost per suggestion
  stays in milliseconds and which models each branch's sub-space on its own (it also starts with Sobol points);
- a space with no knob to search -> Sobol (every point is the same).

With several objectives the grid rules are the same, then (scheduler or not: TPE optimizes one objective)
`choose_multi_objective` picks among the multi-objective strategies, a resource budget counting as its full trials
(its docstring has the rule).

The rule reads the budget, so an experiment makes the choice once per round and stores its name (see
`Experiment.optimize`): a rerun with a larger n_trials goes on with the strategy it started with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ..trial import FrozenTrial
from .base import Strategy
from .gp import GPSearch
from .grid import GridSearch
from .mogp import MOGPSearch
from .motpe import MOTPESearch
from .nsga2 import NSGA2Search
from .qmc import SobolSearch
from .tpe import TPESearch

GP_MAX_TRIALS = 300
GP_MAX_DIMS = 20


# what the rule can choose, by the name an experiment stores
CHOICES: dict[str, Callable[[], Strategy]] = {
    "grid": lambda: GridSearch(shuffle=False),
    "shuffled-grid": lambda: GridSearch(shuffle=True),
    "sobol": SobolSearch,
    "gp": GPSearch,
    "tpe": TPESearch,
    "mogp": MOGPSearch,
    "motpe": MOTPESearch,
    "nsga2": NSGA2Search,
}

# several objectives (see `choose_multi_objective`)
MOGP_MAX_TRIALS = 300
MOGP_MAX_DIMS = 30
MOGP_MAX_OBJECTIVES = 3
NSGA2_MIN_TRIALS = 1000


class AutoStrategy(Strategy):
    """Chooses the strategy once the space and budget are known (see the module docstring)."""

    name = "auto"
    max_objectives = None  # with several objectives it chooses among the strategies for them

    def __init__(self) -> None:
        self.chosen: Strategy | None = None
        self.choice: str | None = None  # the chosen strategy's name in CHOICES
        self.budget: int | None = None
        self.fraction_limit: float | None = None

    def configure(self, *, n_trials: int | None, fraction_limit: float | None) -> None:
        """Chooses by the rule for this budget (anew when it changes). An experiment instead calls `choose` once
        per round, stores the name and calls `use` with it, so the choice survives a rerun with another budget."""
        if (n_trials, fraction_limit) != (self.budget, self.fraction_limit) or self.chosen is None:
            self.budget, self.fraction_limit = n_trials, fraction_limit
            self.use(self.choose(n_trials=n_trials, fraction_limit=fraction_limit))

    def choose(
        self,
        *,
        n_trials: int | None,
        fraction_limit: float | None,
        max_resource: int | None = None,
        scheduler: Any = None,
    ) -> str:
        """The name (a key of CHOICES) of the strategy the rule picks for this space, budget and scheduler."""
        if self.space.is_finite:
            size = self.space.grid_size()
            if fraction_limit is not None:
                return "shuffled-grid"
            if n_trials is not None and size <= n_trials:
                return "grid"
        if self.space.ndim == 0:
            return "sobol"
        if n_trials is None and max_resource is not None:
            epochs = getattr(self.space.all_knobs().get("epochs"), "value", None)
            if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:
                n_trials = math.ceil(max_resource / epochs)  # the full trials the resource budget allows
        n_objectives = len(self.directions)
        if n_objectives > 1:  # before the scheduler's rule: "tpe" optimizes one objective
            return choose_multi_objective(self.space, n_trials, n_objectives)
        if stops_trials(scheduler):
            return "tpe"
        small = n_trials is not None and n_trials <= GP_MAX_TRIALS
        if small and self.space.ndim <= GP_MAX_DIMS and branch_depth(self.space) <= 1:
            return "gp"
        return "tpe"

    def use(self, choice: str) -> None:
        """Delegates to the strategy named `choice` (a key of CHOICES), set up for this space and seed."""
        if choice not in CHOICES:
            raise ValueError(f"strategy 'auto': unknown choice {choice!r}; known: {sorted(CHOICES)}")
        if choice != self.choice or self.chosen is None:
            self.choice, self.chosen = choice, CHOICES[choice]()
            self.chosen.setup(
                self.space, seed=self.seed, direction=self.directions if len(self.directions) > 1 else self.direction
            )

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        if self.chosen is None:
            self.configure(n_trials=None, fraction_limit=None)
        assert self.chosen is not None
        return self.chosen.ask(history, n)

    def tell(self, trial: FrozenTrial) -> None:
        if self.chosen is not None:
            self.chosen.tell(trial)

    def size(self) -> int | None:
        return self.chosen.size() if self.chosen is not None else None

    def __repr__(self) -> str:
        return f"AutoStrategy(chosen={self.chosen!r})"


def choose_multi_objective(space, n_trials: int | None, n_objectives: int) -> str:
    """The rule with several objectives, once the grid rules have not applied (bench/README.md, multi-objective
    section, has the measurements behind it):
    - a known budget of at most MOGP_MAX_TRIALS trials, at most MOGP_MAX_DIMS knobs, at most MOGP_MAX_OBJECTIVES
      objectives and branches nested at most one deep -> "mogp" (GP with expected hypervolume improvement): the
      most sample-efficient when trials are expensive, at a cost per suggestion of a second or so;
    - a known budget of NSGA2_MIN_TRIALS trials or more -> "nsga2" (evolutionary, a millisecond per suggestion);
    - otherwise (an unknown budget, many knobs, deep branches) -> "motpe".
    """
    if n_trials is not None and n_trials <= MOGP_MAX_TRIALS and n_objectives <= MOGP_MAX_OBJECTIVES:
        if space.ndim <= MOGP_MAX_DIMS and branch_depth(space) <= 1:
            return "mogp"
    if n_trials is not None and n_trials >= NSGA2_MIN_TRIALS:
        return "nsga2"
    return "motpe"


def stops_trials(scheduler: Any) -> bool:
    """Whether there is a scheduler that may end trials early (so that many end PRUNED)."""
    return scheduler is not None and callable(getattr(scheduler, "should_stop", None))


def branch_depth(space) -> int:
    """How deep branches nest: 0 without branches, 1 for branches at the top level only, and so on."""
    return max((len(d.conditions) + 1 for d in space.dimensions if hasattr(d.knob, "subspaces")), default=0)
