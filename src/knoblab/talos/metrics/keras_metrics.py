"""Talos' `talos.metrics.keras_metrics` path (the same functions as talos.utils.metrics)."""

from ..utils.metrics import f1score, fbeta, mae, mape, matthews, mse, msle, precision, recall, rmae, rmse, rmsle

__all__ = ["mae", "mse", "rmae", "rmse", "mape", "msle", "rmsle", "matthews", "precision", "recall", "fbeta", "f1score"]
