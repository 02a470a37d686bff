"""`recover_best_model(...)`: retrains the best n rounds of an experiment log CSV and scores each by k-fold
cross-validation (F1, or MAE for task='continuous'), as Talos. A knoblab scan rarely needs it: every round's model
is saved (`scan.best_model()`), and `Experiment.evaluate_best` scores the saved ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..evaluate import score
from .data import kfold

__all__ = ["recover_best_model"]


def recover_best_model(
    x_train: Any,
    y_train: Any,
    x_val: Any,
    y_val: Any,
    experiment_log: str,
    input_model: Callable,
    metric: str = "val_acc",
    multi_input: bool = False,
    x_cross: Any = None,
    y_cross: Any = None,
    n_models: int = 5,
    task: str = "multi_label",
) -> tuple[pd.DataFrame, list[Any]]:
    """(the best n_models rows of the log by `metric` with a crossval_mean_f1score column, their models): each row's
    params retrained with `input_model`, then scored on 5 folds of (x_cross, y_cross) (default: x_val, y_val)."""
    df = pd.read_csv(experiment_log)
    if metric not in df.columns:
        raise ValueError(f"metric {metric!r} is not a column of {experiment_log}; columns: {list(df.columns)}")
    if x_cross is None or y_cross is None:
        x_cross, y_cross = x_val, y_val
    best = df.sort_values(metric, ascending=False, kind="stable").head(n_models)
    results, models = [], []
    for row in best.to_dict("records"):  # records keep each column's type (an int column stays int)
        params = {k: _plain(v) for k, v in row.items() if k != metric}
        _history, model = input_model(x_train, y_train, x_val, y_val, params)
        kx, ky = kfold(x_cross, y_cross, 5, True, multi_input)
        results.append(float(np.mean([score(model, kx[i], ky[i], task) for i in range(5)])))
        models.append(model)
    out = best.copy()
    out["crossval_mean_f1score"] = results
    return out, models


def _plain(v: Any) -> Any:
    """A CSV cell as the model function wants it: numpy numbers as Python ones."""
    return v.item() if isinstance(v, np.generic) else v
