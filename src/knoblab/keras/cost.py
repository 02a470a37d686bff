"""What a Keras model costs, as metrics a scan can optimize or constrain: `Scan(..., extra_metrics=[...])`.

- "params": the model's parameter count (`model.count_params()`: trainable and not).
- "latency": seconds per sample of inference, measured: the median of `repeats` timed `predict_on_batch` calls on
  the first `rows` validation rows, after one untimed warm-up call, divided by the rows. It depends on the machine
  and on what else runs on it (compare trials run on the same machine, one at a time, for a fair front).
- "train_seconds": the seconds the model function took (building and fitting the model).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

__all__ = ["EXTRA_METRICS", "parameter_count", "inference_latency"]

#: the metrics Scan can add to each trial's metrics, and the direction each is optimized in by default
EXTRA_METRICS = {"params": "min", "latency": "min", "train_seconds": "min"}


def parameter_count(model: Any) -> int:
    """The number of parameters of a Keras model (trainable and not)."""
    return int(model.count_params())


def inference_latency(model: Any, x: Any, rows: int = 256, repeats: int = 5) -> float:
    """Median seconds per sample of `model.predict_on_batch` on the first `rows` rows of `x` (an array or a list of
    arrays for a multi-input model), after one warm-up call."""
    n = len(x[0]) if isinstance(x, list | tuple) else len(x)
    k = max(1, min(int(rows), n))
    batch = [np.asarray(part)[:k] for part in x] if isinstance(x, list | tuple) else _head(x, k)
    model.predict_on_batch(batch)  # the first call builds the graph and caches: not counted
    times = []
    for _ in range(max(1, int(repeats))):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / k


def _head(x: Any, k: int) -> Any:
    if hasattr(x, "iloc"):
        return x.iloc[:k].to_numpy()
    return np.asarray(x)[:k]
