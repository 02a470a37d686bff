"""Keras callbacks: the reporter that writes each epoch to the trial, and the weight history of walkthrough 003."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from ..stopping import StopRule
from ..trial import ObjectiveSetupError, Trial

__all__ = ["Reporter", "MetricNotFoundError", "WeightHistory"]


class MetricNotFoundError(ObjectiveSetupError, KeyError):
    """The monitored metric is not among the names Keras logs; the message lists the ones it does."""

    def __str__(self) -> str:
        return str(self.args[0])


class Reporter(keras.callbacks.Callback):
    """Writes every epoch's logs to the trial as they happen, and ends training early when asked.

    Training stops when a stop rule fires (patience, threshold, NaN, time budget: `stop_reason` says which), or
    when the trial is told to stop (a scheduler, a stop request from the dashboard, the time limit: then
    `pruned` is True). With `restore_best_weights`, the model ends with the weights of its best epoch.
    Several `fit` calls in one trial continue the epoch count.

    `smooth=k` scores each epoch by the mean of the monitored metric over the k epochs ending at it (a full window
    once k epochs ran; before that, over the epochs so far), so that the best epoch is a good stretch of training,
    not one lucky evaluation of a small validation set. `tie` (e.g. "val_loss") breaks equal scores: the epoch
    whose window has the lower mean of it wins.
    """

    def __init__(
        self,
        trial: Trial | None,
        monitor: str,
        direction: str,
        rules: Iterable[StopRule] = (),
        restore_best_weights: bool = True,
        smooth: int = 1,
        tie: str | None = None,
    ):
        super().__init__()
        if direction not in ("min", "max"):
            raise ValueError(f"direction must be 'min' or 'max', got {direction!r}")
        if not (isinstance(smooth, int) and not isinstance(smooth, bool) and smooth >= 1):
            raise ValueError(f"smooth: got {smooth!r}; give an integer >= 1 (1: no smoothing)")
        self.smooth = smooth
        self.tie = tie if tie != monitor else None
        self.trial = trial
        self.monitor = monitor
        self.direction = direction
        self.rules = [copy.deepcopy(r) for r in rules]
        for rule in self.rules:
            rule.reset()
        self.restore_best_weights = restore_best_weights
        self.epochs: list[dict[str, float]] = []
        self.best_value: float | None = None  # the best epoch's score (its window mean when smoothing)
        self.best_tie: float | None = None
        self.best_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.stop_reason: str | None = None
        self.pruned = False
        # pausing and resuming (schedulers.asha promote mode, PBT): see knoblab.keras.pbt
        self.start_step = 0
        self.resume_from: str | None = None
        self.checkpoint_dir = None

    def _improved(self, value: float, tie: float | None = None) -> bool:
        if not math.isfinite(value):
            return False
        if self.best_value is None:
            return True
        if value == self.best_value or math.isclose(value, self.best_value, rel_tol=1e-12, abs_tol=1e-12):
            return tie is not None and (self.best_tie is None or tie < self.best_tie)
        return value < self.best_value if self.direction == "min" else value > self.best_value

    def window(self, name: str, end: int | None = None) -> float | None:
        """The mean of metric `name` over the `smooth` epochs ending at epoch index `end` (default: the last);
        None when an epoch of the window lacks it or it is not finite."""
        end = len(self.epochs) - 1 if end is None else end
        found = [e.get(name) for e in self.epochs[max(0, end - self.smooth + 1) : end + 1]]
        values = [v for v in found if v is not None and math.isfinite(v)]
        if not values or len(values) < len(found):
            return None
        return float(sum(values) / len(values))

    def on_train_begin(self, logs=None):
        for rule in self.rules:  # a time budget counts from the start of training
            if hasattr(rule, "start"):
                rule.reset()
        if self.resume_from:
            from .pbt import on_train_begin

            on_train_begin(self, self.model)

    def record(self, logs: Mapping[str, Any] | None) -> dict[str, float]:
        """Stores one epoch's logs in the trial and tracks the best epoch (and its weights)."""
        logs = {k: float(v) for k, v in (logs or {}).items() if _is_scalar(v)}
        if self.monitor not in logs:
            raise MetricNotFoundError(
                f"metric {self.monitor!r} is not in the training logs; the logs hold {sorted(logs)}. "
                f"Compile the model with the metric (metrics=[...]), pass validation data for 'val_' metrics, "
                f"or monitor one of those names"
            )
        step = self.start_step + len(self.epochs)
        self.epochs.append(logs)
        if self.trial is not None:
            self.trial.report(step, **logs)
        if len(self.epochs) == self.smooth > 1:  # the first full window: the partial ones before it stop counting
            self.best_value = self.best_tie = self.best_epoch = self.best_weights = None
        score = self.window(self.monitor) if self.smooth > 1 else logs[self.monitor]
        tie = self.window(self.tie) if self.tie else None
        if score is not None and self._improved(score, tie):
            self.best_value, self.best_tie, self.best_epoch = score, tie, len(self.epochs) - 1
            if self.restore_best_weights and self.model is not None:
                self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
        return logs

    def on_epoch_end(self, epoch, logs=None):
        logs = self.record(logs)
        step = len(self.epochs) - 1
        for rule in self.rules:
            reason = rule.update(step, logs)
            if reason:
                self.stop_reason = reason
                self.model.stop_training = True
                break
        if not self.model.stop_training and self.trial is not None and not self._at_end() and self.trial.should_stop():
            self.pruned = True
            self.stop_reason = "the trial was told to stop (scheduler, stop request or time limit)"
            self.model.stop_training = True
            if self.checkpoint_dir is not None:
                from .pbt import on_told_to_stop

                on_told_to_stop(self, self.model)

    def _at_end(self) -> bool:
        """Whether the trial has trained the `epochs` its params ask for: then there is nothing left to stop (a
        resource budget spent by this very epoch must not turn a trial that ran in full into a PRUNED one)."""
        epochs = self.trial.params.get("epochs") if self.trial is not None else None
        if not isinstance(epochs, int) or isinstance(epochs, bool):
            return False
        return self.start_step + len(self.epochs) >= epochs

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != len(self.epochs) - 1:
            self.model.set_weights(self.best_weights)

    def summary(self, objective: str = "best") -> dict[str, Any]:
        """The trial's metrics: each metric at the chosen epoch (best or last) plus `last_<name>` of each. When
        smoothing, the monitored metric and the tie-breaker are their means over the window ending there
        (`smoothed_over` says over how many epochs)."""
        if not self.epochs:
            return {}
        if objective == "best" and self.best_epoch is not None:
            chosen = self.best_epoch
        else:
            chosen = len(self.epochs) - 1
        out: dict[str, Any] = dict(self.epochs[chosen])
        if self.smooth > 1:
            for name in (self.monitor, self.tie):
                if name is None:  # no tie-breaker
                    continue
                mean = self.window(name, chosen)
                if mean is not None:
                    out[name] = mean
            out["smoothed_over"] = min(self.smooth, chosen + 1)
        out.update({f"last_{k}": v for k, v in self.epochs[-1].items()})
        out.update(best_epoch=self.start_step + chosen, epochs_run=len(self.epochs))
        if self.stop_reason:
            out["stop_reason"] = self.stop_reason
        return out


def _is_scalar(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return np.ndim(v) == 0


class WeightHistory(keras.callbacks.Callback):
    """Records layer weights after every batch (or epoch), to draw how training moved them (walkthrough 003).

    `layers`: names or indices of the layers to record (default: every layer with weights). The first snapshot
    is the initial weights. Memory is capped by `max_snapshots` (and optionally `max_bytes`): when full, every
    second snapshot is dropped and from then on only every `stride`-th step is kept, so the whole path stays,
    at a coarser resolution, in bounded memory.
    """

    def __init__(
        self,
        every: str = "batch",
        layers: Sequence[str | int] | None = None,
        max_snapshots: int = 10_000,
        max_bytes: int | None = None,
        include_initial: bool = True,
    ):
        super().__init__()
        if every not in ("batch", "epoch"):
            raise ValueError(f"WeightHistory: every must be 'batch' or 'epoch', got {every!r}")
        if not (isinstance(max_snapshots, int) and max_snapshots >= 2):
            raise ValueError(f"WeightHistory: max_snapshots must be an integer >= 2, got {max_snapshots!r}")
        self.every, self.layer_keys, self.max_snapshots = every, layers, max_snapshots
        self.max_bytes, self.include_initial = max_bytes, include_initial
        self.snapshots: list[dict[str, list[np.ndarray]]] = []
        self.steps: list[tuple[int, int]] = []  # (epoch, batch); batch -1 for an epoch end or the initial weights
        self.stride = 1
        self._counter = 0
        self._epoch = 0
        self._bytes_per_snapshot = 0

    def _layers(self) -> list[keras.layers.Layer]:
        layers = [layer for layer in self.model.layers if layer.weights]
        if self.layer_keys is None:
            return layers
        out = []
        for key in self.layer_keys:
            if isinstance(key, int):
                out.append(self.model.layers[key])
            else:
                matches = [layer for layer in self.model.layers if layer.name == key]
                if not matches:
                    names = [layer.name for layer in self.model.layers]
                    raise ValueError(f"WeightHistory: no layer named {key!r}; the model's layers: {names}")
                out.append(matches[0])
        return out

    def _record(self, epoch: int, batch: int) -> None:
        snap = {layer.name: [np.array(w, copy=True) for w in layer.get_weights()] for layer in self._layers()}
        if not self._bytes_per_snapshot:
            self._bytes_per_snapshot = sum(w.nbytes for ws in snap.values() for w in ws)
        self.snapshots.append(snap)
        self.steps.append((epoch, batch))
        cap = self.max_snapshots
        if self.max_bytes is not None:
            cap = max(2, min(cap, self.max_bytes // max(self._bytes_per_snapshot, 1)))
        if len(self.snapshots) > cap:
            self.snapshots = self.snapshots[::2]
            self.steps = self.steps[::2]
            self.stride *= 2

    def _tick(self, epoch: int, batch: int) -> None:
        self._counter += 1
        if self._counter % self.stride == 0:
            self._record(epoch, batch)

    def on_train_begin(self, logs=None):
        if self.include_initial and not self.snapshots:
            self._record(0, -1)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.every == "batch":
            self._tick(self._epoch, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.every == "epoch":
            self._tick(epoch, -1)

    @property
    def nbytes(self) -> int:
        """Bytes held by the recorded snapshots."""
        return sum(w.nbytes for snap in self.snapshots for ws in snap.values() for w in ws)

    def series(self, layer: str, index: int = 0) -> np.ndarray:
        """One weight tensor of one layer across snapshots, shape ``(n_snapshots, *weight_shape)``."""
        if not self.snapshots:
            raise ValueError("WeightHistory: nothing recorded yet")
        if layer not in self.snapshots[0]:
            raise ValueError(f"WeightHistory: layer {layer!r} was not recorded; recorded: {list(self.snapshots[0])}")
        return np.stack([snap[layer][index] for snap in self.snapshots])
