"""Schedulers: decide from intermediate reports whether a running trial goes on (see `base.Scheduler`).

`Experiment(scheduler=...)` takes None, a name ("median", "asha", "hyperband", "pbt", "patience") or an instance.
"""

from __future__ import annotations

from typing import Any

from .asha import ASHA, SuccessiveHalving
from .base import SCHEDULED_ATTRS, CurveCache, Scheduler, ranked_observations, resource_of
from .hyperband import Hyperband
from .median import MedianStopping
from .pbt import PBT, PopulationBasedTraining, explore
from .rules import PatienceScheduler, RuleScheduler, ThresholdScheduler

__all__ = [
    "Scheduler",
    "CurveCache",
    "MedianStopping",
    "SuccessiveHalving",
    "ASHA",
    "Hyperband",
    "PopulationBasedTraining",
    "PBT",
    "RuleScheduler",
    "PatienceScheduler",
    "ThresholdScheduler",
    "explore",
    "make_scheduler",
    "ranked_observations",
    "resource_of",
    "SCHEDULERS",
    "SCHEDULED_ATTRS",
]

SCHEDULERS: dict[str, type[Scheduler]] = {
    "median": MedianStopping,
    "asha": SuccessiveHalving,
    "successive_halving": SuccessiveHalving,
    "hyperband": Hyperband,
    "pbt": PopulationBasedTraining,
    "patience": PatienceScheduler,
}


def make_scheduler(scheduler: Any) -> Scheduler | None:
    """None, a scheduler's name (with its defaults) or an instance -> a scheduler (or None: never stop early).

    An object with a `should_stop(experiment, trial)` method is accepted as it is (duck-typed schedulers)."""
    if scheduler is None or isinstance(scheduler, Scheduler):
        return scheduler
    if isinstance(scheduler, str):
        try:
            return SCHEDULERS[scheduler.lower()]()
        except KeyError:
            raise ValueError(
                f"scheduler: got {scheduler!r}; allowed: None, {', '.join(map(repr, SCHEDULERS))} or a Scheduler"
            ) from None
    if callable(getattr(scheduler, "should_stop", None)):
        return scheduler
    raise ValueError(
        f"scheduler: got {type(scheduler).__name__}; give None, {', '.join(map(repr, SCHEDULERS))} or a Scheduler"
    )
