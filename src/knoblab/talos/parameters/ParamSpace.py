"""`ParamSpace`: Talos' explicit list of a params dict's permutations, limited up front (fraction_limit,
round_limit: a uniform sample; boolean_limit: a filter), narrowed with remove_*, handed out by round_parameters().
Scan(params=a ParamSpace) runs exactly its permutations (the Scan's own limits do not apply, as in Talos)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from .._values import same
from ..params import to_space

__all__ = ["ParamSpace"]


class ParamSpace:
    """The permutations of `params` (lists and Talos ranges) over `param_keys`, as an object array `param_space`
    (one row per permutation, one column per key) and the rows still to run, `param_index`."""

    def __init__(
        self,
        params: Mapping[str, Any],
        param_keys: Iterable[str],
        random_method: str = "uniform_mersenne",
        fraction_limit: float | None = None,
        round_limit: int | None = None,
        time_limit: str | None = None,
        boolean_limit: Callable[[dict], bool] | None = None,
        seed: int | None = None,
    ):
        self.params = params
        self.param_keys = list(param_keys)
        unknown = [k for k in self.param_keys if k not in params]
        if unknown:
            raise ValueError(f"param_keys: {unknown} are not in params; its keys: {list(params)}")
        self.random_method, self.fraction_limit, self.round_limit = random_method, fraction_limit, round_limit
        self.time_limit, self.boolean_limit = time_limit, boolean_limit
        self.round_counter = 0
        self.p = to_space({k: params[k] for k in self.param_keys})
        lists = [self.p[k] for k in self.param_keys]
        self.dimensions = math.prod(len(v) for v in lists)
        rng = np.random.default_rng(seed)
        if fraction_limit is not None:
            n = int(self.dimensions * fraction_limit)
        elif round_limit is not None:
            n = min(int(round_limit), self.dimensions)
        else:
            n = self.dimensions
        if n < 1:
            from ..exceptions import TalosDataError

            raise TalosDataError(f"the limits leave {n} of {self.dimensions} permutations; raise them")
        index = rng.choice(self.dimensions, size=n, replace=False) if n < self.dimensions else range(n)
        rows = [_point(int(i), lists) for i in index]
        if boolean_limit is not None:
            rows = [r for r in rows if boolean_limit(dict(zip(self.param_keys, r, strict=True)))]
        self.param_space = _array(rows, len(self.param_keys))
        self.param_index = list(range(len(self.param_space)))

    # ---- what a Scan reads ----
    def space_dict(self) -> dict[str, list[Any]]:
        """Every value of every knob (the space the permutations are drawn from)."""
        return {k: list(v) for k, v in self.p.items()}

    def permutations(self) -> list[dict[str, Any]]:
        """The permutations still to run, as params dicts, in order."""
        return [dict(zip(self.param_keys, self.param_space[i], strict=True)) for i in self.param_index]

    def round_parameters(self) -> dict[str, Any] | bool:
        """The next permutation to run, or False when none is left (or the time limit has passed)."""
        if not self.param_index:
            return False
        if self.time_limit is not None and datetime.strptime(self.time_limit, "%Y-%m-%d %H:%M") <= datetime.now():
            return False
        self.round_counter += 1
        return dict(zip(self.param_keys, self.param_space[self.param_index.pop(0)], strict=True))

    # ---- narrowing ----
    def _remove(self, label: str, drop: Callable[[Any], bool]) -> None:
        if label not in self.param_keys:
            raise ValueError(f"no knob {label!r}; knobs: {self.param_keys}")
        col = self.param_keys.index(label)
        self.param_index = [i for i in self.param_index if not drop(self.param_space[i][col])]

    def remove_is(self, label: str, value: Any) -> None:
        """Drops the permutations where `label` is `value`."""
        self._remove(label, lambda v: same(v, value))

    def remove_is_not(self, label: str, value: Any) -> None:
        """Keeps only the permutations where `label` is `value`."""
        self._remove(label, lambda v: not same(v, value))

    def remove_ge(self, label: str, value: Any) -> None:
        """Drops the permutations where `label` >= `value`."""
        self._remove(label, lambda v: _number(v) and v >= value)

    def remove_le(self, label: str, value: Any) -> None:
        """Drops the permutations where `label` <= `value`."""
        self._remove(label, lambda v: _number(v) and v <= value)

    def remove_lambda(self, function: Callable[[dict], bool]) -> None:
        """Keeps only the permutations where `function(params)` is True (params: a dict, as boolean_limit's)."""
        self.param_index = [
            i for i in self.param_index if function(dict(zip(self.param_keys, self.param_space[i], strict=True)))
        ]

    def __len__(self) -> int:
        return len(self.param_index)

    def __repr__(self) -> str:
        return f"ParamSpace({len(self.param_index)} of {self.dimensions} permutations, keys={self.param_keys})"


def _point(index: int, lists: list[list[Any]]) -> tuple:
    """The index-th permutation in mixed-radix order, the first key slowest (as Talos enumerates them)."""
    out = []
    for values in reversed(lists):
        index, digit = divmod(index, len(values))
        out.append(values[digit])
    return tuple(reversed(out))


def _array(rows: list[tuple], width: int) -> np.ndarray:
    out = np.empty((len(rows), width), dtype=object)
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            out[i, j] = v
    return out


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)
