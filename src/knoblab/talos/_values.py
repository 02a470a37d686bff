"""How the Talos layer shows and compares knob values: objects (a function, a class, a Keras object) by the core's
stored form (`knoblab.values`), plain values as they are."""

from __future__ import annotations

import numbers
from typing import Any

from .. import values as _values

__all__ = ["shown", "same"]


def shown(value: Any) -> Any:
    """The value as a results table shows it: objects by name ("relu", "Adam"), plain values as they are."""
    return _values.display(value)


def same(a: Any, b: Any) -> bool:
    """Whether two knob values are one value: 1 and 1.0 are, True and 1 are not; objects by their stored form."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return a == b
    return _values.same(a, b)
