"""`Evaluate(scan).evaluate(x, y, task, metric)`: k-fold scores of one round's trained model on data the scan did
not train on (F1 for classification, mean absolute error for task='continuous'), as Talos."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .utils.data import kfold

__all__ = ["Evaluate", "score", "TASKS"]

TASKS = ("binary", "multi_class", "multi_label", "continuous")


def score(model: Any, x: Any, y: Any, task: str, average: str | None = None) -> float:
    """One fold's score: F1 of rounded probabilities ('binary'), of the arg-max class against integer labels
    ('multi_class') or against one-hot labels ('multi_label'), or the mean absolute error ('continuous')."""
    from sklearn.metrics import f1_score, mean_absolute_error

    if task not in TASKS:
        raise ValueError(f"task: got {task!r}; allowed: {list(TASKS)}")
    pred = np.asarray(model.predict(x, verbose=0))
    y = np.asarray(y)
    if task == "binary":
        return float(f1_score(y.ravel(), (pred >= 0.5).astype(int).ravel(), average=average or "binary"))
    if task == "multi_class":
        return float(f1_score(y.ravel(), pred.argmax(axis=-1), average=average or "macro"))
    if task == "multi_label":
        return float(f1_score(y.argmax(axis=1), pred.argmax(axis=1), average=average or "macro"))
    return float(mean_absolute_error(y.reshape(len(y), -1), pred.reshape(len(pred), -1)))


class Evaluate:
    """Evaluates the models of a finished Scan."""

    def __init__(self, scan_object: Any):
        self.scan_object = scan_object
        self.data = scan_object.data

    def evaluate(
        self,
        x: Any,
        y: Any,
        task: str,
        metric: str,
        model_id: int | None = None,
        folds: int = 5,
        shuffle: bool = True,
        asc: bool = False,
        saved: bool = False,
        custom_objects: Mapping[str, Any] | None = None,
        multi_input: bool = False,
        print_out: bool = False,
        average: str | None = None,
    ) -> list[float]:
        """The scores of round `model_id` (default: the best by `metric`, asc=True for a loss) on each of `folds`
        folds of (x, y)."""
        if task not in TASKS:
            raise ValueError(f"task: got {task!r}; allowed: {list(TASKS)}")
        if model_id is None:
            model_id = self.scan_object._best_row(metric, asc)
        model = self.scan_object._model(model_id, custom_objects)
        kx, ky = kfold(x, y, folds, shuffle, multi_input)
        out = [score(model, kx[i], ky[i], task, average) for i in range(folds)]
        if print_out:
            print(f"mean : {np.mean(out):.2f} \n std : {np.std(out):.2f}")
        return out
