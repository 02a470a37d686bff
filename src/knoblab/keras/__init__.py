"""knoblab for Keras 3 (any backend): a Talos-compatible Scan, reporting and stopping callbacks, weight history,
and the honest metrics as Keras metrics. Importing this package imports Keras."""

from __future__ import annotations

from .._extras import require

require("keras", "knoblab.keras (kl.Scan, its callbacks and metrics)", "keras")  # and its backend

from ..stopping import Patience, StopOnNaN, StopRule, Threshold, TimeBudget  # noqa: E402
from .callbacks import MetricNotFoundError, Reporter, WeightHistory  # noqa: E402
from .ensemble import Ensemble  # noqa: E402
from .metrics import BalancedAccuracy, F1Score, MatthewsCorrelation  # noqa: E402
from .scan import ModelFunctionError, Scan, callbacks  # noqa: E402

__all__ = [
    "Scan",
    "Ensemble",
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
