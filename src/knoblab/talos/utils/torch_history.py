"""`TorchHistory`: Talos' Keras-like history for PyTorch training loops (kept for code that imports it; a scan
runs Keras models: see docs/talos.md)."""

from __future__ import annotations

from typing import Any

__all__ = ["TorchHistory"]


class TorchHistory:
    """Per-epoch values in a dict of lists, as keras.callbacks.History.history holds them."""

    def __init__(self) -> None:
        self.history: dict[str, list[Any]] = {}

    def init_history(self) -> None:
        """Empties the history (call before each training loop)."""
        self.history = {}

    def append_history(self, history_data: Any, label: str) -> None:
        """Appends one epoch's value of `label`."""
        self.history.setdefault(label, []).append(history_data)

    def append_loss(self, _loss: Any) -> None:
        """Appends one epoch's training loss."""
        self.append_history(_loss, "loss")

    def append_metric(self, _metric: Any) -> None:
        """Appends one epoch's training metric."""
        self.append_history(_metric, "metric")

    def append_val_loss(self, _loss: Any) -> None:
        """Appends one epoch's validation loss."""
        self.append_history(_loss, "val_loss")

    def append_val_metric(self, _metric: Any) -> None:
        """Appends one epoch's validation metric."""
        self.append_history(_metric, "val_metric")
