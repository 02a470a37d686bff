"""`Predict(scan)`: predictions with the best round's model (or round `model_id`'s), as Talos."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["Predict"]


class Predict:
    """Probability and class predictions from the models of a finished Scan."""

    def __init__(self, scan_object: Any):
        self.scan_object = scan_object
        self.data = scan_object.data

    def _model(self, metric: str, asc: bool, model_id: int | None, custom_objects: Mapping[str, Any] | None) -> Any:
        if model_id is None:
            model_id = self.scan_object._best_row(metric, asc)
        return self.scan_object._model(model_id, custom_objects)

    def predict(
        self,
        x: Any,
        metric: str,
        asc: bool,
        model_id: int | None = None,
        saved: bool = False,
        custom_objects: Mapping[str, Any] | None = None,
    ) -> np.ndarray:
        """The model's output for x: the best round by `metric` (asc=True for a loss) unless model_id is given."""
        return self._model(metric, asc, model_id, custom_objects).predict(x, verbose=0)

    def predict_classes(
        self,
        x: Any,
        metric: str,
        asc: bool,
        task: str,
        model_id: int | None = None,
        saved: bool = False,
        custom_objects: Mapping[str, Any] | None = None,
    ) -> np.ndarray:
        """Classes: 0/1 at a 0.5 threshold for task='binary', the arg-max for 'multi_label' (one-hot labels) and
        'multi_class'."""
        if task not in ("binary", "multi_label", "multi_class"):
            raise ValueError(f"task: got {task!r}; allowed: 'binary', 'multi_label' or 'multi_class'")
        preds = self.predict(x, metric, asc, model_id, saved, custom_objects)
        if task == "binary":
            return np.where(preds >= 0.5, 1, 0)
        return np.argmax(preds, 1)
