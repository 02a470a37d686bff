"""Honest metrics for imbalanced data: F1 with its edge cases spelled out, Matthews correlation, balanced accuracy.

Accuracy lies on imbalanced data: with 1% positives, predicting all zeros scores 99%. These metrics don't, and
each edge case is a decision written down here rather than a division by zero:

- F1 (of the positive class): tp = fp = fn = 0 (no positives anywhere, none predicted) -> 1.0 by default
  (`zero_division`), a perfect answer to an empty question; no true positive while there are positives to
  find or positives predicted (all-zero predictions, or all wrong) -> 0.0; all-one predictions get
  2p / (1 + p) for prevalence p, the formula's own value (low when positives are rare).
- Matthews correlation: 0.0 whenever a row or column of the confusion matrix is empty (all predictions one
  class, or all labels one class), the limit the formula tends to; otherwise the usual formula in [-1, 1].
- Balanced accuracy: the mean recall over the classes present in y_true (a class absent from y_true is left
  out); all-one or all-zero predictions score 0.5 on two classes.

Every function takes labels (0/1) or probabilities (thresholded at `threshold`); the `*_from_counts`
functions are the single source of these rules, used by the Keras metrics too.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "confusion_counts",
    "f1_score",
    "matthews_corrcoef",
    "balanced_accuracy",
    "accuracy",
    "f1_from_counts",
    "mcc_from_counts",
    "balanced_accuracy_from_counts",
]


def _binary(y: np.ndarray, threshold: float) -> np.ndarray:
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    if y.shape[1] != 1:
        raise ValueError(f"expected one column of binary labels or probabilities, got shape {y.shape}")
    y = y[:, 0]
    if np.isnan(y).any():
        raise ValueError("labels or predictions contain NaN")
    return (y >= threshold).astype(int) if not np.isin(y, (0.0, 1.0)).all() else y.astype(int)


def confusion_counts(y_true, y_pred, threshold: float = 0.5) -> tuple[int, int, int, int]:
    """(tp, fp, tn, fn) of binary labels against binary predictions or probabilities."""
    t = _binary(y_true, 0.5)
    p = _binary(y_pred, threshold)
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} rows, y_pred {len(p)}")
    tp = int(np.sum((t == 1) & (p == 1)))
    fp = int(np.sum((t == 0) & (p == 1)))
    tn = int(np.sum((t == 0) & (p == 0)))
    fn = int(np.sum((t == 1) & (p == 0)))
    return tp, fp, tn, fn


def f1_from_counts(tp: float, fp: float, fn: float, zero_division: float = 1.0) -> float:
    """F1 of the positive class; see the module docstring for the edge cases."""
    if tp + fp + fn == 0:
        return float(zero_division)
    return float(2 * tp / (2 * tp + fp + fn))


def mcc_from_counts(tp: float, fp: float, tn: float, fn: float) -> float:
    """Matthews correlation; 0.0 when any marginal of the confusion matrix is empty."""
    denominator = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
    if denominator == 0:
        return 0.0
    return float((tp * tn - fp * fn) / np.sqrt(float(denominator)))


def balanced_accuracy_from_counts(tp: float, fp: float, tn: float, fn: float) -> float:
    """Mean recall over the classes present in the labels."""
    recalls = []
    if tp + fn > 0:
        recalls.append(tp / (tp + fn))
    if tn + fp > 0:
        recalls.append(tn / (tn + fp))
    return float(np.mean(recalls)) if recalls else 0.0


def f1_score(y_true, y_pred, threshold: float = 0.5, zero_division: float = 1.0) -> float:
    """F1 of the positive class, edge cases as in the module docstring."""
    tp, fp, _, fn = confusion_counts(y_true, y_pred, threshold)
    return f1_from_counts(tp, fp, fn, zero_division)


def matthews_corrcoef(y_true, y_pred, threshold: float = 0.5) -> float:
    """Matthews correlation coefficient in [-1, 1]; 0.0 for constant predictions or labels."""
    return mcc_from_counts(*confusion_counts(y_true, y_pred, threshold))


def balanced_accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    """Mean of the recall of each class present in y_true."""
    return balanced_accuracy_from_counts(*confusion_counts(y_true, y_pred, threshold))


def accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    """Plain accuracy, for comparison (misleading on imbalanced data)."""
    tp, fp, tn, fn = confusion_counts(y_true, y_pred, threshold)
    return float((tp + tn) / max(tp + fp + tn + fn, 1))
