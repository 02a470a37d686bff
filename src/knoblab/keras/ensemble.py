"""A final model made of several: the mean prediction of the best trials' models (`Scan.ensemble`).

On small data a single selected network carries the luck of its split, its seed and its epoch; averaging the
predictions of the top few configurations (each retrained on every development row, or as the search saved them)
removes much of that variance without looking at any test row. bench/selection.py measures what it does to the
test score of the breast-cancer walkthrough.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Ensemble"]


class Ensemble:
    """Keras models whose predictions are averaged: `predict` has Keras' signature and returns the mean over
    `models` (every model must map the same inputs to outputs of one shape). `numbers` are the trials they come
    from, best first."""

    def __init__(self, models: Sequence[Any], numbers: Sequence[int]):
        if not models:
            raise ValueError("an ensemble needs at least one model")
        if len(models) != len(numbers):
            raise ValueError(f"{len(models)} models but {len(numbers)} trial numbers")
        self.models = list(models)
        self.numbers = list(numbers)

    def predict(self, x: Any, **kwargs: Any) -> np.ndarray:
        """The mean of the members' `model.predict(x, **kwargs)`."""
        outputs = [np.asarray(m.predict(x, **kwargs)) for m in self.models]
        shapes = {o.shape for o in outputs}
        if len(shapes) > 1:
            raise ValueError(f"the ensemble's models predict different shapes: {sorted(shapes)}")
        return np.mean(outputs, axis=0)

    def __len__(self) -> int:
        return len(self.models)

    def __repr__(self) -> str:
        return f"Ensemble(trials={self.numbers})"
