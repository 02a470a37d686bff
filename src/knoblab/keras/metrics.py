"""The honest metrics of `knoblab.metrics` as Keras metrics (any backend), for `compile(metrics=[...])`.

They accumulate the confusion counts over an epoch and apply the same edge-case rules as the numpy functions
(see `knoblab.metrics`): e.g. `Scan(..., metric="val_f1")` after `compile(metrics=[F1Score()])`.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["F1Score", "MatthewsCorrelation", "BalancedAccuracy"]


class _ConfusionMetric(keras.metrics.Metric):
    """Binary confusion counts over an epoch; predictions >= threshold count as positive."""

    def __init__(self, name: str, threshold: float = 0.5, **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)
        self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")
        self.fp = self.add_variable(shape=(), initializer="zeros", name="fp")
        self.tn = self.add_variable(shape=(), initializer="zeros", name="tn")
        self.fn = self.add_variable(shape=(), initializer="zeros", name="fn")

    def update_state(self, y_true, y_pred, sample_weight=None):
        t = ops.cast(ops.reshape(y_true, (-1,)) >= 0.5, "float32")
        p = ops.cast(ops.reshape(y_pred, (-1,)) >= self.threshold, "float32")
        w = ops.ones_like(t) if sample_weight is None else ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        self.tp.assign_add(ops.sum(w * t * p))
        self.fp.assign_add(ops.sum(w * (1 - t) * p))
        self.tn.assign_add(ops.sum(w * (1 - t) * (1 - p)))
        self.fn.assign_add(ops.sum(w * t * (1 - p)))

    def reset_state(self):
        for v in (self.tp, self.fp, self.tn, self.fn):
            v.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@keras.saving.register_keras_serializable(package="knoblab")
class F1Score(_ConfusionMetric):
    """F1 of the positive class; 1.0 (`zero_division`) when there are no positives and none predicted."""

    def __init__(self, name: str = "f1", threshold: float = 0.5, zero_division: float = 1.0, **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)
        self.zero_division = float(zero_division)

    def result(self):
        denominator = 2 * self.tp + self.fp + self.fn
        safe = ops.where(denominator > 0, denominator, 1.0)
        return ops.where(denominator > 0, 2 * self.tp / safe, self.zero_division)

    def get_config(self):
        return {**super().get_config(), "zero_division": self.zero_division}


@keras.saving.register_keras_serializable(package="knoblab")
class MatthewsCorrelation(_ConfusionMetric):
    """Matthews correlation in [-1, 1]; 0.0 when predictions or labels are all one class."""

    def __init__(self, name: str = "mcc", threshold: float = 0.5, **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        safe = ops.where(denominator > 0, denominator, 1.0)
        return ops.where(denominator > 0, (tp * tn - fp * fn) / ops.sqrt(safe), 0.0)


@keras.saving.register_keras_serializable(package="knoblab")
class BalancedAccuracy(_ConfusionMetric):
    """Mean recall over the classes present in the labels."""

    def __init__(self, name: str = "balanced_accuracy", threshold: float = 0.5, **kwargs):
        super().__init__(name=name, threshold=threshold, **kwargs)

    def result(self):
        pos, neg = self.tp + self.fn, self.tn + self.fp
        recall_pos = self.tp / ops.where(pos > 0, pos, 1.0)
        recall_neg = self.tn / ops.where(neg > 0, neg, 1.0)
        present = ops.cast(pos > 0, "float32") + ops.cast(neg > 0, "float32")
        total = ops.where(pos > 0, recall_pos, 0.0) + ops.where(neg > 0, recall_neg, 0.0)
        return ops.where(present > 0, total / ops.where(present > 0, present, 1.0), 0.0)
