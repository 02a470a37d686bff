"""knoblab for Keras 3 (any backend): a Talos-compatible Scan, reporting and stopping callbacks, weight history,
and the honest metrics as Keras metrics. Importing this package imports Keras."""

from __future__ import annotations

from ..stopping import Patience, StopOnNaN, StopRule, Threshold, TimeBudget
from .callbacks import MetricNotFoundError, Reporter, WeightHistory
from .metrics import BalancedAccuracy, F1Score, MatthewsCorrelation
from .scan import ModelFunctionError, Scan, callbacks

__all__ = [
    "Scan",
    "callbacks",
    "Reporter",
    "WeightHistory",
    "MetricNotFoundError",
    "ModelFunctionError",
    "Patience",
    "Threshold",
    "StopOnNaN",
    "TimeBudget",
    "StopRule",
    "F1Score",
    "MatthewsCorrelation",
    "BalancedAccuracy",
]
