"""Talos' data generators: `generator` (an endless generator of batches) and `SequenceGenerator` (a Keras 3
PyDataset), both for `model.fit(...)` (Keras 3 has no fit_generator: `fit` takes them)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

__all__ = ["generator", "SequenceGenerator"]


def generator(x: Any, y: Any, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches of (x, y) as float32, in order, forever; `fit(generator(x, y, 20), steps_per_epoch=...)`."""
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"generator: batch_size must be an integer >= 1, got {batch_size!r}")
    n_batches = math.ceil(len(x) / batch_size)
    counter = 0
    while True:
        lo, hi = batch_size * counter, batch_size * (counter + 1)
        yield np.asarray(x[lo:hi]).astype("float32"), np.asarray(y[lo:hi]).astype("float32")
        counter = (counter + 1) % n_batches


class SequenceGenerator(keras.utils.PyDataset):
    """(x, y) in batches of `batch_size`, indexable; Keras' own options (workers, use_multiprocessing,
    max_queue_size) go to the PyDataset, as Keras 3 takes them there rather than in fit."""

    def __init__(self, x_set: Any, y_set: Any, batch_size: int, **kwargs: Any):
        super().__init__(**kwargs)
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"SequenceGenerator: batch_size must be an integer >= 1, got {batch_size!r}")
        self.x, self.y = x_set, y_set
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx: int) -> tuple[Any, Any]:
        lo, hi = idx * self.batch_size, (idx + 1) * self.batch_size
        return self.x[lo:hi], self.y[lo:hi]
