"""Experiment tracking: mirror every trial to the tools Keras users already watch.

    from knoblab.tracking import TensorBoardCallback, MLflowCallback
    exp.optimize(objective, n_trials=50, callbacks=[TensorBoardCallback("runs/"), MLflowCallback("sqlite:///mlflow.db")])

Each callback is called by the search after every trial, in the driver (so workers need neither tool), with the
finished trial and its per-epoch reports from storage. `log_experiment(exp, callback)` mirrors the trials an
experiment already holds. Neither TensorBoard nor MLflow is needed by the core: install the extra
(`knoblab[tensorboard]`, `knoblab[mlflow]`) for the one you use; each module imports its tool only when a callback
is made.
"""

from __future__ import annotations

from typing import Any

from .common import log_experiment, plain_params, result_metrics

__all__ = ["TensorBoardCallback", "MLflowCallback", "log_experiment", "plain_params", "result_metrics"]


def __getattr__(name: str) -> Any:
    if name == "TensorBoardCallback":
        from .tensorboard import TensorBoardCallback

        return TensorBoardCallback
    if name == "MLflowCallback":
        from .mlflow import MLflowCallback

        return MLflowCallback
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
