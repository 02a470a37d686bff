"""The median stopping rule (Golovin et al., Google Vizier, 2017): stop a trial whose best value so far is worse than
the median of what the finished trials had reached by the same step."""

from __future__ import annotations

import numpy as np

from ..trial import TrialState
from .base import Scheduler, current_step, resource_of


class MedianStopping(Scheduler):
    """Stops a trial at resource r when its best value up to r is worse than the median of the COMPLETE trials'
    best values up to r.

    Only COMPLETE trials of the trial's own round count (after `exp.next_round`, a narrower space's trials are not
    compared with the wider round's).

    Args:
        n_startup_trials: no trial stops until this many trials (of the round) are COMPLETE.
        grace_period: no trial stops before this resource (epochs done).
        interval: decide every `interval` units of resource (1: at every report).
        min_trials_at_resource: how many COMPLETE trials must have reached r for a decision there.
        metric: the reported metric (default: the experiment's).
    """

    name = "median"

    def __init__(
        self,
        n_startup_trials: int = 5,
        grace_period: int = 1,
        interval: int = 1,
        min_trials_at_resource: int = 1,
        metric: str | None = None,
    ):
        super().__init__(metric)
        for arg, value, low in (
            ("n_startup_trials", n_startup_trials, 0),
            ("grace_period", grace_period, 1),
            ("interval", interval, 1),
            ("min_trials_at_resource", min_trials_at_resource, 1),
        ):
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise ValueError(f"{arg}: got {value!r}; give an integer >= {low}")
        self.n_startup_trials = n_startup_trials
        self.grace_period = grace_period
        self.interval = interval
        self.min_trials_at_resource = min_trials_at_resource

    def should_stop(self, experiment, trial) -> bool:
        step = current_step(trial)
        if step is None:
            return False
        r = resource_of(step)
        if r < self.grace_period or (r - self.grace_period) % self.interval:
            return False  # not a decision point: no storage read
        cache = self.curves(experiment)
        cache.refresh(experiment)
        round_ = trial._frozen.round  # a new round's trials compare with that round's (see SuccessiveHalving)
        complete = [
            tid
            for tid, t in cache.trials.items()
            if t.state == TrialState.COMPLETE and tid != trial.id and t.round == round_
        ]
        if len(complete) < self.n_startup_trials:
            return False
        others = [v for v in (cache.value(tid, r) for tid in complete) if v is not None]
        mine = cache.value(trial.id, r)
        if mine is None or len(others) < self.min_trials_at_resource:
            return False
        return bool(mine > float(np.median(others)))  # signed: lower is better

    def __repr__(self) -> str:
        return (
            f"MedianStopping(n_startup_trials={self.n_startup_trials}, grace_period={self.grace_period}, "
            f"interval={self.interval})"
        )
