"""Talos params dicts as knoblab spaces: a list is a knob's choices, a `(start, end, steps)` tuple is Talos' range.

Talos' range is not knoblab's `(low, high, n)` tuple: it is `numpy.arange(start, end, (end - start) / steps)`,
so `end` is left out, and when both ends are integers the values are made integers and repeats dropped
(`(2, 30, 10)` is 2, 4, 7, 10, 13, 16, 18, 21, 24, 27). Each range is written out here as an explicit list, so the
core never reads a Talos tuple as its own. Like Talos, a scalar is refused (write `[value]` for a fixed value).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["talos_range", "to_space"]


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def talos_range(name: str, spec: tuple) -> list[Any]:
    """The values of Talos' `(start, end, steps)` range for knob `name` (see the module docstring)."""
    if len(spec) != 3 or not all(_is_number(v) for v in spec):
        raise ValueError(
            f"knob {name!r}: got {spec!r}; a Talos range is (start, end, steps) with three numbers "
            "(use a list for choices)"
        )
    start, end, steps = spec
    if not steps > 0:
        raise ValueError(f"knob {name!r}: got steps={steps!r} in {spec!r}; steps must be > 0")
    if start == end:
        raise ValueError(f"knob {name!r}: got {spec!r}; start and end are equal, so the range is empty")
    values = np.arange(start, end, (end - start) / steps, dtype=float)
    if isinstance(start, numbers.Integral) and isinstance(end, numbers.Integral):
        return [int(v) for v in np.unique(values.astype(int))]
    # 15 significant digits drop arange's float noise (0.30000000000000004 -> 0.3); the values are Talos' own
    return [float(f"{v:.15g}") for v in values]


def to_space(params: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The knoblab space (a dict of choice lists) of a Talos params dict, in the dict's order."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params: got {type(params).__name__}; give a dict of lists and (start, end, steps) tuples, "
            "or a ParamSpace (knoblab.talos.parameters)"
        )
    if not params:
        raise ValueError("params: the dict is empty; give at least one knob")
    space: dict[str, list[Any]] = {}
    for name, spec in params.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"params: knob names must be non-empty strings, got {name!r}")
        if isinstance(spec, tuple):
            space[name] = talos_range(name, spec)
        elif isinstance(spec, list):
            if not spec:
                raise ValueError(f"knob {name!r}: got an empty list []; give at least one value")
            space[name] = list(spec)
        else:
            raise ValueError(
                f"knob {name!r}: got {spec!r} of type {type(spec).__name__}; Talos params are lists "
                f"([{spec!r}] for a fixed value) or (start, end, steps) tuples"
            )
    return space
