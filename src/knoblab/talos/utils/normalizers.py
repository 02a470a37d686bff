"""`lr_normalizer(lr, optimizer)`: one learning-rate knob across optimizers whose default rates differ."""

from __future__ import annotations

import inspect
from typing import Any

from ..exceptions import TalosModelError

__all__ = ["lr_normalizer"]


def lr_normalizer(lr: float, optimizer: Any) -> float:
    """`lr` on a scale where 1 is each optimizer's usual rate: divided by 100 for SGD and Adagrad, by 1000 for Adam
    and RMSprop, by 500 for Adamax. `optimizer` is the class (as in params: `keras.optimizers.Adam`) or an
    instance; anything else raises TalosModelError naming it."""
    import keras

    cls = optimizer if inspect.isclass(optimizer) else type(optimizer)
    o = keras.optimizers
    for classes, divisor in (((o.SGD, o.Adagrad), 100.0), ((o.Adam, o.RMSprop), 1000.0), ((o.Adamax,), 500.0)):
        # the class itself or the backend's subclass of it (torch's Adam); AdamW subclasses Adam but is not Adam
        if inspect.isclass(cls) and any(
            cls is c or (issubclass(cls, c) and cls.__name__ == c.__name__) for c in classes
        ):
            return lr / divisor
    raise TalosModelError(
        f"lr_normalizer: {optimizer!r} is not supported; give one of keras.optimizers.SGD, Adagrad, Adam, RMSprop, "
        "Adamax (the class or an instance)"
    )
