"""Talos' metric functions (`talos.utils.metrics`) for `model.compile(metrics=[...])`, on Keras 3's ops.

They compute what Talos' do, batch by batch, and Keras averages them over an epoch's batches, so f1score,
precision, recall and matthews are batch means, not the epoch's own value (on a batch with no positive they are
near 0, and the mean drags). `knoblab.keras.F1Score` / `MatthewsCorrelation` count over the whole epoch instead.
Each is registered with Keras (package "knoblab.talos"), so a saved model that uses one loads without
custom_objects.
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = ["mae", "mse", "rmae", "rmse", "mape", "msle", "rmsle", "matthews", "precision", "recall", "fbeta", "f1score"]

_register = keras.saving.register_keras_serializable(package="knoblab.talos")


def _pair(y_true, y_pred):
    y_pred = ops.convert_to_tensor(y_pred)
    dtype = y_pred.dtype if "float" in str(y_pred.dtype) else "float32"
    return ops.cast(y_true, dtype), ops.cast(y_pred, dtype)


@_register
def mae(y_true, y_pred):
    """Mean absolute error per sample."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


@_register
def mse(y_true, y_pred):
    """Mean squared error per sample."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.square(y_pred - y_true), axis=-1)


@_register
def rmae(y_true, y_pred):
    """Square root of the mean absolute error per sample."""
    return ops.sqrt(mae(y_true, y_pred))


@_register
def rmse(y_true, y_pred):
    """Root mean squared error per sample."""
    return ops.sqrt(mse(y_true, y_pred))


@_register
def mape(y_true, y_pred):
    """Mean absolute percentage error per sample (the true values' magnitude clipped at epsilon)."""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), keras.config.epsilon()))
    return 100.0 * ops.mean(diff, axis=-1)


def _logs(y_true, y_pred):
    y_true, y_pred = _pair(y_true, y_pred)
    eps = keras.config.epsilon()
    return ops.log(ops.maximum(y_pred, eps) + 1.0), ops.log(ops.maximum(y_true, eps) + 1.0)


@_register
def msle(y_true, y_pred):
    """Mean squared logarithmic error per sample."""
    first, second = _logs(y_true, y_pred)
    return ops.mean(ops.square(first - second), axis=-1)


@_register
def rmsle(y_true, y_pred):
    """Root mean squared logarithmic error per sample."""
    return ops.sqrt(msle(y_true, y_pred))


@_register
def matthews(y_true, y_pred):
    """Matthews correlation of the batch (predictions rounded at 0.5)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_pred_pos = ops.round(ops.clip(y_pred, 0, 1))
    y_pred_neg = 1 - y_pred_pos
    y_pos = ops.round(ops.clip(y_true, 0, 1))
    y_neg = 1 - y_pos
    tp = ops.sum(y_pos * y_pred_pos)
    tn = ops.sum(y_neg * y_pred_neg)
    fp = ops.sum(y_neg * y_pred_pos)
    fn = ops.sum(y_pos * y_pred_neg)
    numerator = tp * tn - fp * fn
    denominator = ops.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return numerator / (denominator + keras.config.epsilon())


@_register
def precision(y_true, y_pred):
    """Precision of the batch (predictions rounded at 0.5)."""
    y_true, y_pred = _pair(y_true, y_pred)
    true_positives = ops.sum(ops.round(ops.clip(y_true * y_pred, 0, 1)))
    predicted_positives = ops.sum(ops.round(ops.clip(y_pred, 0, 1)))
    return true_positives / (predicted_positives + keras.config.epsilon())


@_register
def recall(y_true, y_pred):
    """Recall of the batch (predictions rounded at 0.5)."""
    y_true, y_pred = _pair(y_true, y_pred)
    true_positives = ops.sum(ops.round(ops.clip(y_true * y_pred, 0, 1)))
    possible_positives = ops.sum(ops.round(ops.clip(y_true, 0, 1)))
    return true_positives / (possible_positives + keras.config.epsilon())


@_register
def fbeta(y_true, y_pred, beta=1):
    """The F-beta score of the batch from its precision and recall (beta >= 0)."""
    if beta < 0:
        raise ValueError(f"fbeta: got beta={beta!r}; the lowest choosable beta is zero (only precision)")
    p = precision(y_true, y_pred)
    r = recall(y_true, y_pred)
    bb = beta**2
    return (1 + bb) * (p * r) / (bb * p + r + keras.config.epsilon())


@_register
def f1score(y_true, y_pred):
    """The F1 score of the batch (fbeta with beta=1)."""
    return fbeta(y_true, y_pred, beta=1)
