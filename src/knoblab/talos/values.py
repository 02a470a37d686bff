"""How the Talos layer shows and compares knob values: by the core's stored form when values are objects
(a function, a class, a Keras object), plainly otherwise."""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["shown", "same"]


def shown(value: Any) -> Any:
    """The value as a results table shows it: objects by name ("relu", "Adam"), plain values as they are."""
    try:
        from ..values import display
    except ImportError:  # a core without object-valued knobs: every value is plain
        return value
    return display(value)


def same(a: Any, b: Any) -> bool:
    """Whether two knob values are one value: 1 and 1.0 are, True and 1 are not; objects by their stored form."""
    try:
        from ..values import same as core_same
    except ImportError:
        core_same = None
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return a == b
    if core_same is not None:
        return core_same(a, b)
    return type(a) is type(b) and a == b
