"""Hyperband (Li et al. 2018) run asynchronously: several successive-halving brackets at once, from aggressive (rungs
from min_resource) to none (every trial to max_resource), each trial in one bracket chosen from its number.

Trials compete only with trials of their own bracket. The bracket is a function of the experiment's seed and the
trial's number (a continuation keeps its parent's), so every process, a reopened experiment included, puts a trial
in the same bracket without asking anyone. Brackets get trials in proportion to Hyperband's allocation, as in
Optuna's HyperbandPruner: bracket b (rungs from min_resource * eta**b) gets ceil(B * eta**s / (s + 1)) shares,
s = B - 1 - b, with B brackets.

`Hyperband.for_budget(max_resource, budget)` sizes the brackets to a resource budget (what `Scan(epoch_budget=...)`
uses by default): see `plan_brackets`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..trial import FrozenTrial
from .asha import SuccessiveHalving, max_resource_of

#: the defaults of a schedule sized to a budget (`plan_brackets`)
PLAN_ETA = 3
PLAN_MIN_TOP = 3  # expected trials that reach max_resource: the best is chosen among them
PLAN_MAX_RUNGS = 3  # rungs below max_resource in the most aggressive bracket (min_resource >= max_resource / 27)


def bracket_cost(min_resource: int, max_resource: int, eta: int, bracket: int) -> tuple[float, float, list[int]]:
    """(expected resource per trial, fraction of trials that reach max_resource, rungs) for one bracket of
    promotion-mode successive halving: a trial trains to the first rung, 1/eta of them on to the next, and so on."""
    rungs, k = [], 0
    while (r := min_resource * eta ** (bracket + k)) < max_resource:
        rungs.append(r)
        k += 1
    levels = [*rungs, max_resource]
    cost = sum(eta**-j * (levels[j] - (levels[j - 1] if j else 0)) for j in range(len(levels)))
    return cost, float(eta ** -len(rungs)), rungs


def plan_brackets(
    max_resource: int,
    budget: int,
    eta: int = PLAN_ETA,
    min_top: float = PLAN_MIN_TOP,
    max_rungs: int = PLAN_MAX_RUNGS,
) -> dict[str, Any] | None:
    """The Hyperband schedule (min_resource, n_brackets) sized to `budget` units of resource, or None when no
    schedule with a rung fits (a budget of a few full trials: train them in full).

    Expected counts follow the allocation: bracket b gets its Hyperband share of the trials, and each of its trials
    costs what promotion-mode successive halving spends on average (`bracket_cost`). The rule: the smallest
    min_resource (the most configurations tried; at most `max_rungs` rungs below max_resource) at which the budget
    is expected to bring `min_top` trials to max_resource (the best is chosen among those), with as many
    brackets, from the most aggressive one, as each still expects at least one trial at max_resource: small
    budgets get successive halving, larger ones Hyperband's hedge across brackets."""
    if not (isinstance(max_resource, int) and max_resource >= 2 and budget >= 1):
        raise ValueError(f"plan_brackets: got max_resource={max_resource!r}, budget={budget!r}")
    for min_resource in range(1, max_resource // eta + 1):
        n_rungs = len(bracket_cost(min_resource, max_resource, eta, 0)[2])
        if n_rungs == 0 or n_rungs > max_rungs:
            continue
        chosen = None
        for n in range(1, n_rungs + 2):
            shares = [math.ceil(n * eta ** (n - 1 - b) / (n - b)) for b in range(n)]
            costs = [bracket_cost(min_resource, max_resource, eta, b) for b in range(n)]
            per_trial = sum(w * c for w, (c, _, _) in zip(shares, costs)) / sum(shares)
            trials = budget / per_trial
            tops = [trials * w / sum(shares) * f for w, (_, f, _) in zip(shares, costs)]
            if sum(tops) < min_top or min(tops) < 1:
                break
            chosen = {
                "min_resource": min_resource,
                "n_brackets": n,
                "reduction_factor": eta,
                "expected_trials": round(trials, 1),
                "expected_top": round(sum(tops), 1),
            }
        if chosen is not None:
            return chosen
    return None


class Hyperband(SuccessiveHalving):
    """Successive halving in brackets. Args as `SuccessiveHalving` (max_resource is needed: given, or the fixed
    `epochs` knob), plus `n_brackets` (default: floor(log_eta(max_resource / min_resource)) + 1)."""

    name = "hyperband"

    def __init__(
        self,
        reduction_factor: int = 3,
        min_resource: int = 1,
        max_resource: int | None = None,
        n_brackets: int | None = None,
        grace_period: int = 1,
        mode: str = "stop",
        metric: str | None = None,
        keep_checkpoints: bool = False,
    ):
        super().__init__(reduction_factor, min_resource, max_resource, grace_period, 0, mode, metric, keep_checkpoints)
        if n_brackets is not None and not (isinstance(n_brackets, int) and n_brackets >= 1):
            raise ValueError(f"n_brackets: got {n_brackets!r}; give an integer >= 1 or None")
        self.n_brackets = n_brackets

    @classmethod
    def for_budget(
        cls, max_resource: int, budget: int, mode: str = "promote", metric: str | None = None, **plan: Any
    ) -> Hyperband | None:
        """Hyperband with brackets sized to `budget` units of resource (see `plan_brackets`), or None when the
        budget allows only a few full trials (then multi-fidelity does not pay)."""
        chosen = plan_brackets(max_resource, budget, **plan)
        if chosen is None:
            return None
        return cls(
            reduction_factor=chosen["reduction_factor"],
            min_resource=chosen["min_resource"],
            max_resource=max_resource,
            n_brackets=chosen["n_brackets"],
            mode=mode,
            metric=metric,
        )

    def setup(self, experiment) -> None:
        super().setup(experiment)
        self.brackets(experiment)  # needs max_resource: say so when the experiment opens, not in every trial

    def brackets(self, experiment) -> int:
        """The number of brackets: given, or from max_resource, min_resource and the reduction factor."""
        if self.n_brackets is not None:
            return self.n_brackets
        top = max_resource_of(experiment, self.max_resource)
        if top is None:
            raise ValueError("Hyperband needs max_resource (or a fixed 'epochs' knob in the space)")
        return int(math.floor(math.log(top / self.min_resource, self.reduction_factor) + 1e-9)) + 1

    def shares(self, experiment) -> list[int]:
        """How many shares of the trials each bracket gets (bracket 0, the most aggressive, first)."""
        n = self.brackets(experiment)
        eta = self.reduction_factor
        return [math.ceil(n * eta ** (n - 1 - b) / (n - b)) for b in range(n)]

    def bracket_of(self, experiment, trial: FrozenTrial | Any) -> int:
        attrs = getattr(trial, "attrs", None) or {}
        if "bracket" in attrs:
            return int(attrs["bracket"])
        shares = self.__dict__.get("_shares")
        if shares is None or shares[0] != experiment.id:
            shares = self._shares = (experiment.id, np.cumsum(self.shares(experiment)))
        cumulative = shares[1]
        draw = int(np.random.default_rng([int(experiment.seed), int(trial.number), 7]).integers(cumulative[-1]))
        return int(np.searchsorted(cumulative, draw, side="right"))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_shares", None)
        return state

    def __repr__(self) -> str:
        return (
            f"Hyperband(reduction_factor={self.reduction_factor}, min_resource={self.min_resource}, "
            f"max_resource={self.max_resource}, n_brackets={self.n_brackets}, mode={self.mode!r})"
        )
