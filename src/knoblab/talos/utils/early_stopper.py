"""`early_stopper(epochs, monitor, mode)`: Keras' EarlyStopping with Talos' presets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["early_stopper"]


def early_stopper(
    epochs: int | None = None,
    monitor: str = "val_loss",
    mode: str | Sequence[float] | None = "moderate",
    min_delta: float | None = None,
    patience: int | None = None,
) -> Any:
    """An EarlyStopping callback: mode 'lazy' (patience epochs/3), 'moderate' (epochs/10), 'strict' (2), a pair
    [min_delta, patience], or None to use the `min_delta` and `patience` arguments."""
    import keras

    def needs_epochs() -> int:
        if not (isinstance(epochs, int) and epochs >= 1):
            raise ValueError(f"early_stopper: mode={mode!r} needs epochs (params['epochs']), got epochs={epochs!r}")
        return epochs

    delta: float
    wait: float  # a count of epochs; a [min_delta, patience] pair may give it as a float
    if mode == "lazy":
        delta, wait = 0, int(needs_epochs() / 3)
    elif mode == "moderate":
        delta, wait = 0, int(needs_epochs() / 10)
    elif mode == "strict":
        delta, wait = 0, 2
    elif mode is None:
        delta, wait = (min_delta or 0), (patience if patience is not None else 0)
    elif isinstance(mode, Sequence) and not isinstance(mode, str) and len(mode) == 2:
        delta, wait = mode[0], mode[1]
    else:
        raise ValueError(
            f"early_stopper: mode={mode!r}; give 'lazy', 'moderate', 'strict', [min_delta, patience] or None"
        )
    return keras.callbacks.EarlyStopping(monitor=monitor, min_delta=delta, patience=int(wait), verbose=0, mode="auto")
