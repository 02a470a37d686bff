"""Per-trial stop rules (knoblab.stopping: Patience, Threshold, StopOnNaN, TimeBudget) as a scheduler, so that any
objective that reports, not only a Keras model, can use them through `Experiment(scheduler=...)`."""

from __future__ import annotations

import copy
from typing import Any

from ..stopping import Patience, StopRule, Threshold
from .base import Scheduler, current_step


class RuleScheduler(Scheduler):
    """Stops a trial when any of its rules fires on the trial's own reports (each trial gets fresh copies).

    Each call feeds the rules the steps reported since the last call; the reason is stored as the trial's
    `stop_reason` attr."""

    name = "rules"

    def __init__(self, *rules: StopRule):
        super().__init__(None)
        if not rules:
            raise ValueError("RuleScheduler: give at least one rule from knoblab.stopping")
        for rule in rules:
            if not isinstance(rule, StopRule):
                raise ValueError(f"RuleScheduler: got {rule!r}; give rules from knoblab.stopping")
        self.rules = list(rules)
        self._state: dict[tuple[int, int], tuple[list[StopRule], int]] = {}

    def should_stop(self, experiment, trial) -> bool:
        step = current_step(trial)
        if step is None:
            return False
        key = (experiment.id, trial.id)
        if key not in self._state:  # a trial seen for the first time: fresh copies of the rules
            fresh = [copy.deepcopy(r) for r in self.rules]
            for rule in fresh:
                rule.reset()
            self._state[key] = (fresh, -1)
        rules, seen = self._state[key]
        reports = experiment.storage.get_reports([trial.id]).get(trial.id, [])
        stop = None
        for s, metrics in reports:
            if s <= seen:
                continue
            seen = s
            for rule in rules:
                reason = rule.update(s, metrics)
                if reason:
                    stop = reason
                    break
            if stop:
                break
        self._state[key] = (rules, seen)
        if stop:
            experiment.storage.set_attrs(trial.id, {"stop_reason": stop})
            self._state.pop(key, None)
            return True
        return False

    def on_finish(self, experiment, trial) -> None:
        self._state.pop((experiment.id, trial.id), None)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_state"] = {}
        return state

    def __repr__(self) -> str:
        return f"RuleScheduler({', '.join(map(repr, self.rules))})"


class PatienceScheduler(RuleScheduler):
    """Stops a trial whose metric (default: the experiment's) has not improved by min_delta for `patience` steps."""

    name = "patience"

    def __init__(self, patience: int = 5, min_delta: float = 0.0, metric: str | None = None):
        self._args = (patience, min_delta, metric)
        Patience("loss", patience, min_delta, "min")  # validates the numbers now, not at the first report
        super().__init__(Patience("loss", patience, min_delta, "min"))
        self.rules = []  # built per experiment: the metric and direction are the experiment's by default

    def should_stop(self, experiment, trial) -> bool:
        if not self.rules or self.__dict__.get("_for") != experiment.id:
            patience, min_delta, metric = self._args
            self.rules = [Patience(metric or experiment.metric, patience, min_delta, experiment.direction)]
            self._for = experiment.id
        return super().should_stop(experiment, trial)

    def __repr__(self) -> str:
        return f"PatienceScheduler(patience={self._args[0]}, min_delta={self._args[1]})"


class ThresholdScheduler(RuleScheduler):
    """Stops a trial once a metric crosses a value: `ThresholdScheduler("val_loss", ">", 2.0)` (hopeless)."""

    name = "threshold"

    def __init__(self, metric: str, op: str, value: float):
        super().__init__(Threshold(metric, op, value))
