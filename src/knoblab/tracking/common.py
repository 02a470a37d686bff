"""What every tracking callback needs from a trial: its knobs as plain scalars and its result metrics."""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from ..experiment import Experiment

__all__ = ["plain_params", "result_metrics", "epoch_metrics", "log_experiment", "seconds", "RESULT_PREFIX"]

#: the prefix of a trial's result metrics (its value at the best epoch for a Scan), kept apart from the per-epoch
#: curves of the same name so that a dashboard's "last value" is the trial's result, not its last epoch
RESULT_PREFIX = "result/"


def plain_params(params: Mapping[str, Any]) -> dict[str, bool | int | float | str]:
    """The knobs as the scalars trackers accept: bools, ints, floats and strings stay, anything else (None, a
    stored reference to a function, a list) becomes its text."""
    out: dict[str, bool | int | float | str] = {}
    for name, value in params.items():
        if isinstance(value, bool | str):
            out[name] = value
        elif isinstance(value, numbers.Integral):
            out[name] = int(value)
        elif isinstance(value, numbers.Real):
            out[name] = float(value)
        elif isinstance(value, Mapping | list | tuple):
            out[name] = json.dumps(value, default=str, sort_keys=True)
        else:
            out[name] = str(value)
    return out


def seconds(at: datetime | None) -> float | None:
    """A stored time (naive UTC, as storage keeps every time) as seconds since the epoch."""
    if at is None:
        return None
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def result_metrics(trial: FrozenTrial) -> dict[str, float]:
    """The trial's numeric result metrics (finite ones only), under `RESULT_PREFIX`; empty for a FAILED trial."""
    out = {RESULT_PREFIX + str(k): v for k, v in ((k, _finite(v)) for k, v in trial.metrics.items()) if v is not None}
    if trial.value is not None and trial.state != TrialState.FAILED and math.isfinite(trial.value):
        out.setdefault(RESULT_PREFIX + "value", float(trial.value))
    return out


def epoch_metrics(trial: FrozenTrial) -> list[tuple[int, dict[str, float]]]:
    """(step, finite metrics) of every report the trial made, in step order."""
    out = []
    for step, metrics in trial.reports or []:
        clean = {str(k): v for k, v in ((k, _finite(v)) for k, v in metrics.items()) if v is not None}
        if clean:
            out.append((int(step), clean))
    return sorted(out, key=lambda item: item[0])


def log_experiment(exp: Experiment, *callbacks: Callable[[Experiment, FrozenTrial], Any]) -> int:
    """Mirrors every finished trial an experiment already holds to the callbacks (each skips trials it has
    logged before); returns how many trials were handed over."""
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    done = [t for t in trials if t.state.finished]
    for trial in done:
        for callback in callbacks:
            callback(exp, trial)
    return len(done)
