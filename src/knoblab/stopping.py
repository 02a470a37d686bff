"""Per-trial early-stopping rules: read each step's metrics, say why to stop (or None to go on).

Framework-free, so the Keras callback and any hand-written training loop share them::

    rules = [Patience("val_loss", patience=5, min_delta=1e-3), Threshold("val_accuracy", ">=", 0.99),
             StopOnNaN(), TimeBudget(120)]
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["StopRule", "Patience", "Threshold", "StopOnNaN", "TimeBudget", "direction_of"]

_HIGHER_IS_BETTER = ("acc", "auc", "f1", "mcc", "precision", "recall", "r2", "score", "iou", "dice")


def direction_of(metric: str) -> str:
    """'max' for metrics where higher is better (accuracy, auc, f1, mcc, ...), 'min' for losses and errors."""
    name = metric.lower()
    if "loss" in name or "error" in name or name.endswith(("mse", "mae", "mape", "rmse")):
        return "min"
    if any(k in name for k in _HIGHER_IS_BETTER):
        return "max"
    raise ValueError(f"cannot tell whether {metric!r} should go up or down; give direction='min' or 'max'")


def _metric(logs: Mapping[str, Any], name: str, rule: str) -> float:
    if name not in logs:
        raise KeyError(f"{rule}: metric {name!r} is not in the logs; available: {sorted(logs)}")
    return float(logs[name])


class StopRule:
    """One reason to end a trial early. A fresh copy is used for every trial (rules hold per-trial state)."""

    def reset(self) -> None:
        """Forgets the state of a previous trial."""

    def update(self, step: int, logs: Mapping[str, Any]) -> str | None:
        """Takes one step's metrics; returns why to stop, or None to go on."""
        raise NotImplementedError


class Patience(StopRule):
    """Stops when `metric` has not improved by at least `min_delta` for `patience` steps (any metric, custom
    ones included; direction inferred from the name unless `direction` is given)."""

    def __init__(
        self, metric: str = "val_loss", patience: int = 5, min_delta: float = 0.0, direction: str | None = None
    ):
        if not (isinstance(patience, int) and patience >= 1):
            raise ValueError(f"Patience: patience must be an integer >= 1, got {patience!r}")
        if min_delta < 0:
            raise ValueError(f"Patience: min_delta must be >= 0, got {min_delta!r}")
        self.metric, self.patience, self.min_delta = metric, patience, float(min_delta)
        self.direction = direction or direction_of(metric)
        if self.direction not in ("min", "max"):
            raise ValueError(f"Patience: direction must be 'min' or 'max', got {direction!r}")
        self.reset()

    def reset(self) -> None:
        self.best: float | None = None
        self.wait = 0

    def update(self, step, logs):
        value = _metric(logs, self.metric, "Patience")
        if math.isnan(value):
            return None
        sign = 1.0 if self.direction == "min" else -1.0
        if self.best is None or sign * (self.best - value) > self.min_delta:
            self.best, self.wait = value, 0
            return None
        self.wait += 1
        if self.wait >= self.patience:
            return (
                f"{self.metric} did not improve by more than {self.min_delta} for {self.patience} steps "
                f"(best {self.best:.6g})"
            )
        return None

    def __repr__(self) -> str:
        return f"Patience({self.metric!r}, patience={self.patience}, min_delta={self.min_delta})"


class Threshold(StopRule):
    """Stops once `metric` crosses a value: `Threshold("val_accuracy", ">=", 0.99)` (good enough) or
    `Threshold("loss", ">", 10)` (hopeless)."""

    _OPS = {">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b}

    def __init__(self, metric: str, op: str, value: float):
        if op not in self._OPS:
            raise ValueError(f"Threshold: op must be one of {list(self._OPS)}, got {op!r}")
        self.metric, self.op, self.value = metric, op, float(value)

    def update(self, step, logs):
        v = _metric(logs, self.metric, "Threshold")
        if not math.isnan(v) and self._OPS[self.op](v, self.value):
            return f"{self.metric} = {v:.6g} {self.op} {self.value:g}"
        return None

    def __repr__(self) -> str:
        return f"Threshold({self.metric!r}, {self.op!r}, {self.value})"


class StopOnNaN(StopRule):
    """Stops as soon as a watched metric (the loss, by default) is NaN or infinite: training diverged."""

    def __init__(self, metrics: tuple[str, ...] = ("loss",)):
        self.metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)

    def update(self, step, logs):
        for name in self.metrics:
            if name in logs and not math.isfinite(float(logs[name])):
                return f"{name} is {float(logs[name])}: training diverged"
        return None

    def __repr__(self) -> str:
        return f"StopOnNaN({self.metrics!r})"


class TimeBudget(StopRule):
    """Stops a trial after `seconds` of wall time (checked at each step)."""

    def __init__(self, seconds: float):
        if not seconds > 0:
            raise ValueError(f"TimeBudget: seconds must be > 0, got {seconds!r}")
        self.seconds = float(seconds)
        self.reset()

    def reset(self) -> None:
        self.start = time.monotonic()

    def update(self, step, logs):
        spent = time.monotonic() - self.start
        if spent >= self.seconds:
            return f"time budget of {self.seconds:g} s spent ({spent:.1f} s)"
        return None

    def __repr__(self) -> str:
        return f"TimeBudget({self.seconds})"
