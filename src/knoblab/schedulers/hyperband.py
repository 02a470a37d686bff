"""Hyperband (Li et al. 2018) run asynchronously: several successive-halving brackets at once, from aggressive (rungs
from min_resource) to none (every trial to max_resource), each trial in one bracket chosen from its number.

Trials compete only with trials of their own bracket. The bracket is a function of the experiment's seed and the
trial's number (a continuation keeps its parent's), so every process, a reopened experiment included, puts a trial
in the same bracket without asking anyone. Brackets get trials in proportion to Hyperband's allocation, as in
Optuna's HyperbandPruner: bracket b (rungs from min_resource * eta**b) gets ceil(B * eta**s / (s + 1)) shares,
s = B - 1 - b, with B brackets.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..trial import FrozenTrial
from .asha import SuccessiveHalving, max_resource_of


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
            f"max_resource={self.max_resource}, mode={self.mode!r})"
        )
