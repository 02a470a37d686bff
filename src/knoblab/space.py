"""The search space: knobs parsed once from a plain dict, validated, mapped to the unit cube, gridded lazily.

A space is written as a dict of knobs, as in Talos::

    {
        "lr": Real(1e-4, 1e-1, log=True),       # a continuous range, log scale
        "units": Int(8, 256, log=True),          # integers
        "dropout": (0.0, 0.5, 6),                # Talos tuple: 6 evenly spaced values, both ends included
        "optimizer": ["adam", "nadam"],          # a list is a categorical knob
        "epochs": 100,                           # a scalar is a fixed value
        "shuffle": Bool(),
        "layers": Branch({1: {}, 2: {"units2": Int(8, 128)}}),   # sub-knobs live only in their branch
    }

Strategies see every point as a vector in [0, 1)^d, one dimension per non-fixed knob in the whole tree
(inactive knobs of a branch not taken are simply ignored when decoding, and NaN when encoding).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import values as _values

__all__ = ["Real", "Int", "Categorical", "Fixed", "Bool", "Branch", "Space", "Knob", "BRANCH_OF_GRIDS"]

_EPS = 1e-12
# a tuple's values are listed in the space's description up to this many; longer ones are described by their ends
# and count, and indexed lazily (a (0, 1, 10**9) tuple costs nothing)
_LISTED = 10_000
# a constraint is counted exactly over grids of at most this many points (estimated from a sample above it)
CONSTRAINT_EXACT_LIMIT = 1_000_000
# the hidden knob a list of dicts (scikit-learn's list of param grids) branches on: which dict a point is from
BRANCH_OF_GRIDS = "_grid"


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same kind: 1 and 1.0 are one number, but True is not 1 (bool subclasses int, so `==` alone
    says it is), nor "1" 1."""
    a, b = _plain(a), _plain(b)
    if _is_number(a) and _is_number(b):
        return a == b
    if not (_values.is_plain(a) and _values.is_plain(b)):
        return _values.same(a, b)
    return type(a) is type(b) and a == b


def _plain(value: Any) -> Any:
    """Turns numpy scalars into Python ones, so params are JSON-able and compare equal to user values."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class Knob:
    """One hyperparameter. Subclasses say how a unit coordinate maps to a value and back."""

    name: str = ""
    finite: bool = True

    def _bind(self, name: str) -> Knob:
        self.name = name
        return self

    # a unit coordinate in [0, 1) <-> a value
    def from_unit(self, u: float) -> Any:
        """The value at a unit coordinate u in [0, 1) (what strategies propose)."""
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        """The unit coordinate in [0, 1] of a value: the inverse of `from_unit`."""
        raise NotImplementedError

    # the finite grid of values (only for finite knobs): a sequence, indexed lazily (a range, a Linspace)
    def grid_values(self, resolution: int | None = None) -> Sequence[Any]:
        """The knob's values on a grid (`resolution` points for a Real knob)."""
        raise NotImplementedError

    def grid_position(self, value: Any, resolution: int | None = None) -> int | None:
        """Where `value` is in grid_values(resolution), or None; without walking the values."""
        values = self.grid_values(resolution)
        for j, v in enumerate(values):
            if _same(v, value):
                return j
        for j, v in enumerate(values):
            if _is_number(v) and _is_number(value) and math.isclose(v, value):
                return j
        return None

    def contains(self, value: Any) -> bool:
        """True when the value is allowed by this knob."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """A JSON-able description of the knob, as stored with an experiment."""
        raise NotImplementedError

    def _error(self, value: Any, allowed: str) -> ValueError:
        return ValueError(f"knob {self.name!r}: got {value!r}; {allowed}")


class Real(Knob):
    """A continuous range [low, high]; `log=True` samples evenly on a log scale (low must be > 0)."""

    finite = False

    def __init__(self, low: float, high: float, log: bool = False):
        self.low, self.high, self.log = low, high, bool(log)

    def _bind(self, name: str) -> Real:
        super()._bind(name)
        if not (_is_number(self.low) and _is_number(self.high)):
            raise self._error((self.low, self.high), "Real needs numeric low and high")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise self._error((self.low, self.high), "Real needs finite low and high")
        if self.low >= self.high:
            raise self._error((self.low, self.high), "low must be < high")
        if self.log and self.low <= 0:
            raise self._error(self.low, "a log-scale knob needs low > 0")
        self.low, self.high = float(self.low), float(self.high)
        return self

    def _scale(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.low), math.log(self.high)
        return self.low, self.high

    def from_unit(self, u: float) -> float:
        a, b = self._scale()
        x = a + float(np.clip(u, 0.0, 1.0)) * (b - a)
        x = math.exp(x) if self.log else x
        return min(max(x, self.low), self.high)

    def to_unit(self, value: Any) -> float:
        a, b = self._scale()
        x = math.log(value) if self.log else float(value)
        return float(np.clip((x - a) / (b - a), 0.0, 1.0))

    def grid_values(self, resolution: int | None = None) -> Sequence[Any]:
        if resolution is None:
            raise ValueError(
                f"knob {self.name!r}: a continuous Real({self.low}, {self.high}) has no finite grid; "
                "give grid_resolution=N, or use a list or a (low, high, n) tuple for this knob"
            )
        return [self.from_unit(i / (resolution - 1)) for i in range(resolution)] if resolution > 1 else [self.low]

    def contains(self, value: Any) -> bool:
        return _is_number(value) and self.low - _EPS * abs(self.low) <= value <= self.high + _EPS * abs(self.high)

    def describe(self) -> dict[str, Any]:
        return {"kind": "real", "low": self.low, "high": self.high, "log": self.log}

    def __repr__(self) -> str:
        return f"Real({self.low}, {self.high}{', log=True' if self.log else ''})"


class Int(Knob):
    """Integers in [low, high] (both included) on a `step`; `log=True` samples evenly on a log scale."""

    def __init__(self, low: int, high: int, log: bool = False, step: int = 1):
        self.low, self.high, self.log, self.step = low, high, bool(log), step

    def _bind(self, name: str) -> Int:
        super()._bind(name)
        for label, v in (("low", self.low), ("high", self.high), ("step", self.step)):
            if not (isinstance(v, numbers.Integral) and not isinstance(v, bool)):
                raise self._error(v, f"Int needs an integer {label}")
        self.low, self.high, self.step = int(self.low), int(self.high), int(self.step)
        if self.low >= self.high:
            raise self._error((self.low, self.high), "low must be < high")
        if self.step < 1:
            raise self._error(self.step, "step must be >= 1")
        if self.log and self.low <= 0:
            raise self._error(self.low, "a log-scale knob needs low > 0")
        if self.log and self.step != 1:
            raise self._error(self.step, "a log-scale Int takes step=1 only")
        self.n = (self.high - self.low) // self.step + 1
        return self

    def from_unit(self, u: float) -> int:
        u = float(np.clip(u, 0.0, 1.0))
        if self.log:
            a, b = math.log(self.low - 0.5), math.log(self.high + 0.5)
            x = int(round(math.exp(a + u * (b - a))))
            return min(max(x, self.low), self.high)
        i = min(int(u * self.n), self.n - 1)
        return self.low + i * self.step

    def to_unit(self, value: Any) -> float:
        if self.log:
            a, b = math.log(self.low - 0.5), math.log(self.high + 0.5)
            return float(np.clip((math.log(value) - a) / (b - a), 0.0, 1.0))
        i = (int(value) - self.low) // self.step
        return (i + 0.5) / self.n

    def grid_values(self, resolution: int | None = None) -> Sequence[Any]:
        return range(self.low, self.high + 1, self.step)  # lazy: Int(0, 10**9) costs nothing

    def grid_position(self, value: Any, resolution: int | None = None) -> int | None:
        if _is_number(value) and float(value).is_integer() and self.contains(int(value)):
            return (int(value) - self.low) // self.step
        return None

    def contains(self, value: Any) -> bool:
        if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
            return False
        v = int(value)
        return self.low <= v <= self.high and (v - self.low) % self.step == 0

    def describe(self) -> dict[str, Any]:
        return {"kind": "int", "low": self.low, "high": self.high, "log": self.log, "step": self.step}

    def __repr__(self) -> str:
        return f"Int({self.low}, {self.high}{', log=True' if self.log else ''}{f', step={self.step}' if self.step != 1 else ''})"


class Linspace(Sequence):
    """n evenly spaced values from low to high, both ends included, computed one at a time: the values of a
    (low, high, n) tuple. Integer ends give integers (rounded half up); float values drop linspace's noise
    (0.30000000000000004 -> 0.3), so a value written by hand is on the grid."""

    def __init__(self, low: float, high: float, n: int, integer: bool):
        self.low, self.high, self.n, self.integer = low, high, int(n), integer
        self.step = (high - low) / (n - 1) if n > 1 else 0.0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        x = self.high if i == self.n - 1 else self.low + i * self.step
        return int(math.floor(x + 0.5)) if self.integer else float(f"{x:.15g}")

    def position(self, value: Any) -> int | None:
        """The index of `value`, or None when it is not one of the values (computed, not searched)."""
        if not _is_number(value) or not math.isfinite(value):
            return None
        if self.n == 1:
            return 0 if math.isclose(value, self.low) else None
        i = int(round((value - self.low) / self.step))
        near = [j for j in (i, i - 1, i + 1) if 0 <= j < self.n]
        for j in near:
            if self[j] == value:
                return j
        if not self.integer:  # float noise: the nearest value within a millionth of a step
            for j in near:
                if math.isclose(self[j], value, rel_tol=0.0, abs_tol=abs(self.step) * 1e-6):
                    return j
        return None

    def __contains__(self, value: Any) -> bool:
        return self.position(value) is not None

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        j = self.position(value)
        if j is None:
            raise ValueError(value)
        return j

    def __eq__(self, other: Any) -> bool:
        return list(self) == list(other) if len(self) <= _LISTED else NotImplemented

    def __repr__(self) -> str:
        return f"Linspace({self.low}, {self.high}, {self.n})"


class Categorical(Knob):
    """One of a list of choices. `ordered=True` (Talos tuples) keeps numeric order meaningful to strategies.

    A choice may be a plain value (str, number, bool, None), a list or tuple of them, or an object stored by
    reference (a function, a class, a Keras object, an estimator: see `knoblab.values`). Choices are matched in
    their stored form, so `relu` read back from storage is the choice `relu`, and 1, 1.0 and True stay apart."""

    def __init__(self, choices: Sequence[Any], ordered: bool = False):
        self.choices = choices if isinstance(choices, Linspace) else list(choices)
        self.ordered = ordered

    def _bind(self, name: str) -> Categorical:
        super()._bind(name)
        if len(self.choices) == 0:
            raise self._error([], "a categorical knob needs at least one choice")
        self._keys: dict[str, int] | None = None
        if isinstance(self.choices, Linspace):  # distinct and plain by construction
            return self
        for c in self.choices:
            if isinstance(c, Knob) or (isinstance(c, dict) and not _values.is_stored_object(c)):
                raise self._error(c, "choices must be plain values (str, number, bool, None); use Branch for sub-knobs")
        self.choices = [_plain(c) for c in self.choices]
        keys: dict[str, int] = {}
        for i, c in enumerate(self.choices):
            try:
                key = _values.stored_key(c)
            except ValueError as e:
                raise self._error(c, str(e)) from None
            if key in keys:
                raise self._error(c, "choices must be distinct")
            keys[key] = i
        self._keys = keys
        return self

    def index(self, value: Any) -> int:
        """The position of a value among the choices (1 and 1.0 match); a clear error if absent."""
        if isinstance(self.choices, Linspace):
            j = self.choices.position(_plain(value))
            if j is None:
                raise self._error(
                    value, f"allowed: {len(self.choices)} values from {self.choices.low} to {self.choices.high}"
                )
            return j
        value = _plain(value)
        for i, c in enumerate(self.choices):  # the common case, without encoding anything
            if c is value or (type(c) is type(value) and _values.is_plain(c) and c == value):
                return i
        for i, c in enumerate(self.choices):  # 1 == 1.0 and the like
            if _is_number(c) and _is_number(value) and c == value:
                return i
        if not _values.is_plain(value):  # an object, or its stored form: match by stored form
            try:
                key = _values.stored_key(value)
            except ValueError:
                key = None
            if key is not None and self._keys is not None and key in self._keys:
                return self._keys[key]
        raise self._error(value, f"allowed: {[_values.display(c) for c in self.choices]}")

    def from_unit(self, u: float) -> Any:
        k = len(self.choices)
        return self.choices[min(int(float(np.clip(u, 0.0, 1.0)) * k), k - 1)]

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def grid_values(self, resolution: int | None = None) -> Sequence[Any]:
        return self.choices

    def grid_position(self, value: Any, resolution: int | None = None) -> int | None:
        try:
            return self.index(value)
        except ValueError:
            return None

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
            return True
        except ValueError:
            return False

    def describe(self) -> dict[str, Any]:
        if isinstance(self.choices, Linspace) and len(self.choices) > _LISTED:
            c = self.choices
            return {"kind": "categorical", "linspace": [c.low, c.high, c.n, c.integer], "ordered": self.ordered}
        return {"kind": "categorical", "choices": [_values.encode(c) for c in self.choices], "ordered": self.ordered}

    def __repr__(self) -> str:
        if isinstance(self.choices, Linspace):
            return f"Categorical({self.choices!r})"
        return f"Categorical({[_values.display(c) for c in self.choices]!r})"


class Bool(Categorical):
    """True or False."""

    def __init__(self) -> None:
        super().__init__([False, True])

    def describe(self) -> dict[str, Any]:
        return {"kind": "bool"}

    def __repr__(self) -> str:
        return "Bool()"


class Fixed(Knob):
    """A value that never changes (a scalar in the dict). It takes no dimension in the unit cube."""

    def __init__(self, value: Any):
        self.value = _plain(value)

    def _bind(self, name: str) -> Fixed:
        super()._bind(name)
        try:
            _values.encode(self.value)
        except ValueError as e:
            raise self._error(self.value, str(e)) from None
        return self

    def from_unit(self, u: float) -> Any:
        return self.value

    def to_unit(self, value: Any) -> float:
        return 0.5

    def grid_values(self, resolution: int | None = None) -> Sequence[Any]:
        return [self.value]

    def contains(self, value: Any) -> bool:
        return _same(value, self.value)

    def describe(self) -> dict[str, Any]:
        return {"kind": "fixed", "value": _values.encode(self.value)}

    def __repr__(self) -> str:
        return f"Fixed({_values.display(self.value)!r})"


class Branch(Categorical):
    """A categorical knob whose chosen value switches on its own sub-knobs: `Branch({1: {}, 2: {"units2": ...}})`.

    Sub-spaces may hold further Branches, to any depth. Knob names are unique across the whole space.
    """

    def __init__(self, options: Mapping[Any, Mapping[str, Any]]):
        # a non-dict is reported when the knob is bound, so that the error can name the knob
        self.options = dict(options) if isinstance(options, Mapping) else options
        super().__init__(list(self.options) if isinstance(options, Mapping) else [])
        self.subspaces: list[Space] = []

    def _bind(self, name: str) -> Branch:
        if not isinstance(self.options, Mapping):
            self.name = name
            raise self._error(self.options, "Branch takes a dict {value: {sub-knobs}}")
        super()._bind(name)
        for value, sub in self.options.items():
            if not isinstance(sub, Mapping):
                raise self._error(sub, f"the branch for value {value!r} must be a dict of sub-knobs")
        return self

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "branch",
            "options": [[value, sub.describe()] for value, sub in zip(self.choices, self.subspaces, strict=True)],
        }

    def __repr__(self) -> str:
        if len(self.subspaces) != len(self.choices):  # not parsed into a space yet: show what the user wrote
            return f"Branch({self.options!r})"
        return f"Branch({dict(zip(self.choices, self.subspaces, strict=True))!r})"


def _parse_knob(name: str, spec: Any) -> Knob:
    if not isinstance(name, str) or not name:
        raise ValueError(f"knob names must be non-empty strings, got {name!r}")
    if isinstance(spec, Knob):
        # a copy: the same knob object may be given under two names (or to two spaces)
        return copy.copy(spec)._bind(name)
    if isinstance(spec, list):
        if len(spec) == 0:
            raise ValueError(f"knob {name!r}: got an empty list []; give at least one choice")
        return Categorical(spec)._bind(name)
    if isinstance(spec, tuple):
        return _parse_tuple(name, spec)
    if _is_scipy_distribution(spec):
        return _from_scipy(name, spec)
    if isinstance(spec, Mapping):
        raise ValueError(
            f"knob {name!r}: got a dict {spec!r}; allowed: a list, a (low, high, n) tuple, a scalar or kl.Real / kl.Int / "
            "kl.Bool / kl.Branch (for sub-knobs that depend on a choice, use kl.Branch({value: {sub-knobs}}))"
        )
    if isinstance(spec, bool | str | numbers.Number) or spec is None:
        return Fixed(spec)._bind(name)
    try:  # a function, a class, a Keras object, an estimator: a fixed value stored by reference
        _values.encode(spec)
    except ValueError as e:
        raise ValueError(
            f"knob {name!r}: got {_values.display(spec)!r} of type {type(spec).__name__}: {e}; allowed: a list "
            "(categorical), a (low, high, n) tuple, a scalar (fixed), a scipy.stats distribution, or kl.Real / "
            "kl.Int / kl.Bool / kl.Branch"
        ) from None
    return Fixed(spec)._bind(name)


def _parse_tuple(name: str, spec: tuple) -> Categorical:
    """A (low, high, n) tuple: n evenly spaced values, both ends included; integer ends give integers."""
    if len(spec) != 3 or not all(_is_number(v) for v in spec):
        raise ValueError(
            f"knob {name!r}: got {spec!r}; a tuple must be (low, high, n) with numbers: n evenly spaced values, "
            "both ends included (use a list for categorical choices)"
        )
    low, high, n = (_plain(v) for v in spec)
    if not all(math.isfinite(v) for v in (low, high, n)):
        raise ValueError(f"knob {name!r}: got {spec!r}; low, high and n must be finite numbers")
    if not (isinstance(n, numbers.Integral) and int(n) >= 1):
        raise ValueError(f"knob {name!r}: got n={n!r} in {spec!r}; n must be an integer >= 1")
    n = int(n)
    if low >= high:
        raise ValueError(f"knob {name!r}: got {spec!r}; low must be < high")
    integer = isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral)
    if integer and n > 1 and n - 1 > high - low:
        raise ValueError(
            f"knob {name!r}: got {spec!r}; {n} integers between {low} and {high} would repeat: at most "
            f"{high - low + 1} fit (or give float ends, e.g. ({float(low)}, {float(high)}, {n}))"
        )
    values = Linspace(low, high, n, integer)
    if len(values) <= _LISTED:
        return Categorical(list(values), ordered=True)._bind(name)
    return Categorical(values, ordered=True)._bind(name)


def _is_scipy_distribution(spec: Any) -> bool:
    return type(spec).__name__.startswith("rv_") and hasattr(spec, "dist") and hasattr(spec, "rvs")


def _from_scipy(name: str, spec: Any) -> Knob:
    """scipy.stats frozen distributions as scikit-learn's RandomizedSearchCV takes them: randint, uniform,
    loguniform (reciprocal) become Int, Real and Real(log=True) over their support; others are refused."""
    dist = spec.dist.name
    args = dict(zip(("a", "b"), spec.args, strict=False)) if dist in ("randint", "loguniform", "reciprocal") else {}
    kwds = dict(spec.kwds)
    loc = kwds.pop("loc", None)
    scale = kwds.pop("scale", None)
    if dist == "randint":
        low, high = kwds.get("low", args.get("a")), kwds.get("high", args.get("b"))
        loc = 0 if loc is None else loc
        if low is None or high is None:
            raise ValueError(f"knob {name!r}: scipy.stats.randint needs low and high")
        return Int(int(low + loc), int(high + loc) - 1)._bind(name)  # randint's high is excluded
    if dist == "uniform":
        loc = spec.args[0] if len(spec.args) > 0 and loc is None else (0.0 if loc is None else loc)
        scale = spec.args[1] if len(spec.args) > 1 and scale is None else (1.0 if scale is None else scale)
        return Real(float(loc), float(loc + scale))._bind(name)
    if dist in ("loguniform", "reciprocal"):
        a, b = kwds.get("a", args.get("a")), kwds.get("b", args.get("b"))
        if a is None or b is None:
            raise ValueError(f"knob {name!r}: scipy.stats.loguniform needs a and b")
        loc, scale = (0.0 if loc is None else loc), (1.0 if scale is None else scale)
        if loc != 0.0:
            raise ValueError(f"knob {name!r}: scipy.stats.loguniform with loc={loc} is not a log-uniform range")
        return Real(float(a * scale), float(b * scale), log=True)._bind(name)
    raise ValueError(
        f"knob {name!r}: got scipy.stats.{dist}; allowed scipy.stats distributions: randint, uniform, loguniform "
        "(a list, a (low, high, n) tuple or kl.Real / kl.Int for anything else)"
    )


@dataclass(frozen=True)
class Dimension:
    """One coordinate of the unit cube: the knob it encodes and the branch conditions that make it active."""

    knob: Knob
    conditions: tuple[tuple[str, Any], ...]  # (branch knob name, required value), outermost first


class _Scope:
    """Which knob names are taken where. A name is unique in the whole tree, except that the options of one Branch
    may each hold a knob of the same name (only one option is ever active, as in scikit-learn's list of param
    grids, where every grid has its own `C`); such a knob is a dimension of its own in each option. Branch knobs
    themselves stay unique, since strategies find a branch's column by its name."""

    def __init__(self, taken: set[str] | None = None, branches: set[str] | None = None, every: set[str] | None = None):
        self.taken = set() if taken is None else taken  # names visible here: ancestors' and siblings' knobs
        self.branches = set() if branches is None else branches  # every Branch name in the tree
        self.every = set() if every is None else every  # every name in the tree
        self.inner: set[str] = set()  # names used inside this scope's branches (taken for later siblings)
        self.mine: set[str] = set()

    def claim(self, knob: Knob) -> None:
        name = knob.name
        if name in self.taken or name in self.inner:
            raise ValueError(f"knob {name!r}: the name is used twice across branches; each knob name must be unique")
        if name in self.branches or (isinstance(knob, Branch) and name in self.every):
            raise ValueError(
                f"knob {name!r}: the name is used twice; a Branch knob's name must be unique in the whole space"
            )
        self.taken.add(name)
        self.mine.add(name)
        self.every.add(name)
        if isinstance(knob, Branch):
            self.branches.add(name)

    def enter(self) -> _Scope:
        """The scope of one option of a Branch: it sees the names taken so far, not its sibling options'."""
        return _Scope(set(self.taken), self.branches, self.every)

    def leave(self, inner: _Scope) -> None:
        self.inner |= inner.mine | inner.inner


class Space:
    """A parsed, validated search space (see the module docstring for the dict it is written as).

    `constraint(params) -> bool` (optional) rules points out: every strategy proposes only points it accepts, and
    the grid's size counts only those (exactly up to CONSTRAINT_EXACT_LIMIT points, estimated above)."""

    def __init__(
        self,
        spec: Mapping[str, Any] | Sequence[Mapping[str, Any]] | Space,
        constraint: Callable[[dict[str, Any]], bool] | None = None,
        *,
        _scope: _Scope | None = None,
    ):
        if isinstance(spec, Space):
            constraint = spec.constraint if constraint is None else constraint
            spec = spec.spec
        if isinstance(spec, list | tuple) and spec and all(isinstance(g, Mapping) for g in spec) and _scope is None:
            # scikit-learn's list of param grids: a Branch over which grid a point is from
            spec = {BRANCH_OF_GRIDS: Branch(dict(enumerate(spec)))}
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"a space is a dict of knobs (or a list of such dicts, as scikit-learn's param grids), "
                f"got {type(spec).__name__}"
            )
        if not spec and _scope is None:
            raise ValueError("space: got an empty dict {}; give at least one knob (a scalar for a fixed value)")
        if constraint is not None and not callable(constraint):
            raise ValueError(f"constraint: got {constraint!r}; give a function constraint(params) -> bool")
        self.spec: dict[str, Any] = dict(spec)
        self.constraint: Callable[[dict[str, Any]], bool] | None = constraint
        scope = _Scope() if _scope is None else _scope
        self.knobs: dict[str, Knob] = {}
        for name, raw in self.spec.items():
            knob = _parse_knob(name, raw)
            scope.claim(knob)
            if isinstance(knob, Branch):
                subs = []
                for sub in knob.options.values():
                    inner = scope.enter()
                    subs.append(Space(sub, _scope=inner))
                    scope.leave(inner)
                knob.subspaces = subs
            self.knobs[name] = knob
        self.dimensions: list[Dimension] = []
        self._collect(self, (), self.dimensions)
        self.names = [d.knob.name for d in self.dimensions]
        self.ndim = len(self.dimensions)
        self._grid_counts: dict[int | None, tuple[int, np.ndarray | None]] = {}

    @staticmethod
    def _collect(space: Space, conditions: tuple, out: list[Dimension]) -> None:
        for knob in space.knobs.values():
            if not isinstance(knob, Fixed):
                out.append(Dimension(knob, conditions))
            if isinstance(knob, Branch):
                for value, sub in zip(knob.choices, knob.subspaces, strict=True):
                    Space._collect(sub, conditions + ((knob.name, value),), out)

    # ---- what the space holds ----
    @property
    def is_conditional(self) -> bool:
        """True when the space holds a Branch."""
        return any(isinstance(d.knob, Branch) for d in self.dimensions)

    @property
    def is_finite(self) -> bool:
        """True when every knob has finitely many values (a grid can enumerate it)."""
        return all(d.knob.finite for d in self.dimensions)

    def all_knobs(self) -> dict[str, Knob]:
        """Every knob in the tree, fixed ones and those inside branches included."""
        out: dict[str, Knob] = {}
        for knob in self.knobs.values():
            out[knob.name] = knob
            if isinstance(knob, Branch):
                for sub in knob.subspaces:
                    out.update(sub.all_knobs())
        return out

    def describe(self) -> dict[str, Any]:
        """A JSON-able description, stored with an experiment and compared on reopening."""
        return {name: knob.describe() for name, knob in self.knobs.items()}

    @classmethod
    def from_description(cls, description: Mapping[str, Any]) -> Space:
        """The space back from `describe()` (as stored), so tools can reopen an experiment without its script.
        Values stored by reference stay in their stored form (nothing is imported); they are matched and handed to
        objectives as the objects they stand for. An unknown knob kind raises ValueError naming the knob."""
        knobs = {}
        for name, d in description.items():
            try:
                knobs[name] = _knob_from_description(d)
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"knob {name!r}: cannot read its stored description ({e})") from None
        return cls(knobs)

    def __repr__(self) -> str:
        return f"Space({self.knobs!r})"

    # ---- unit cube ----
    def from_unit(self, u: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """The params dict (active knobs only, fixed ones included) of a point of the unit cube."""
        x = np.asarray(u, dtype=float)
        if x.shape != (self.ndim,):
            raise ValueError(f"expected a point of {self.ndim} coordinates, got shape {x.shape}")
        coord = {id(d.knob): x[i] for i, d in enumerate(self.dimensions)}  # a name may repeat across options
        return self._decode(lambda knob: knob.from_unit(coord.get(id(knob), 0.5)))

    def to_unit(self, params: Mapping[str, Any]) -> np.ndarray:
        """The unit-cube point of a params dict; NaN on the coordinates of inactive knobs."""
        out = np.full(self.ndim, np.nan)
        for i, d in enumerate(self.dimensions):
            if d.knob.name in params and all(params.get(k) == v for k, v in d.conditions):
                out[i] = d.knob.to_unit(params[d.knob.name])
        return out

    def active_mask(self, params: Mapping[str, Any]) -> np.ndarray:
        """For each dimension, whether its knob is active in these params (inactive branch knobs are not)."""
        return np.array(
            [d.knob.name in params and all(params.get(k) == v for k, v in d.conditions) for d in self.dimensions]
        )

    def _decode(self, pick) -> dict[str, Any]:
        params: dict[str, Any] = {}

        def walk(space: Space) -> None:
            for knob in space.knobs.values():
                value = pick(knob)
                params[knob.name] = value
                if isinstance(knob, Branch):
                    walk(knob.subspaces[knob.index(value)])

        walk(self)
        return params

    def sample(self, rng: np.random.Generator | int | None = None) -> dict[str, Any]:
        """One point drawn uniformly (on each knob's own scale)."""
        rng = np.random.default_rng(rng)
        return self.from_unit(rng.random(self.ndim))

    # ---- validation of a params dict (enqueue, reopening) ----
    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Checks a hand-written params dict; fills fixed knobs; returns the clean dict or raises naming the knob."""
        if not isinstance(params, Mapping):
            raise ValueError(f"params must be a dict, got {type(params).__name__}")
        known = self.all_knobs()
        for name in params:
            if name not in known:
                raise ValueError(f"knob {name!r}: not in the space; known knobs: {sorted(known)}")
        out: dict[str, Any] = {}

        def walk(space: Space) -> None:
            for knob in space.knobs.values():
                if isinstance(knob, Fixed):
                    value = params.get(knob.name, knob.value)
                elif knob.name not in params:
                    raise ValueError(f"knob {knob.name!r}: missing; give a value ({knob!r})")
                else:
                    value = params[knob.name]
                if not knob.contains(value):
                    raise ValueError(f"knob {knob.name!r}: got {_values.display(value)!r}, which is outside {knob!r}")
                value = _plain(value)
                if isinstance(knob, Fixed):
                    value = knob.value  # 1.0 given for Fixed(1) is stored as the knob's own 1
                elif isinstance(knob, Categorical):
                    value = knob.choices[knob.index(value)]
                elif isinstance(knob, Real):
                    value = float(value)
                out[knob.name] = value
                if isinstance(knob, Branch):
                    walk(knob.subspaces[knob.index(value)])

        walk(self)
        extra = set(params) - set(out)
        if extra:
            name = sorted(extra)[0]
            raise ValueError(f"knob {name!r}: given, but its branch is not active with these params")
        return out

    def contains(self, params: Mapping[str, Any]) -> bool:
        """True when the params are a valid point of this space, exactly as given."""
        try:
            return self.validate(params) == dict(params)
        except ValueError:
            return False

    # ---- the constraint ----
    def feasible(self, params: Mapping[str, Any]) -> bool:
        """Whether a point satisfies the space's constraint (always, without one). The constraint sees the params
        as the objective does (objects, not their stored forms)."""
        if self.constraint is None:
            return True
        shown = {k: _values.decode(v) if _values.is_stored_object(v) else v for k, v in params.items()}
        try:
            return bool(self.constraint(shown))
        except Exception as e:
            raise ValueError(
                f"constraint: raised {type(e).__name__}: {e} on params {_values.display(list(shown.items()))}; "
                "it must return True or False for every point of the space"
            ) from None

    # ---- the finite grid, enumerated lazily ----
    def grid_extent(self, resolution: int | None = None) -> int:
        """How many points the grid holds, the constraint aside: the range of `grid_point`'s index. Computed,
        never enumerated. Branches add their sub-grids."""
        size = 1
        for knob in self.knobs.values():
            size *= self._knob_grid_size(knob, resolution)
        return size

    def grid_size(self, resolution: int | None = None) -> int:
        """How many points of the grid satisfy the constraint (all of them without one). With a constraint, counted
        exactly by walking the grid when it has at most CONSTRAINT_EXACT_LIMIT points, else estimated from 20,000
        random points (`grid_size_is_exact` tells which)."""
        if self.constraint is None:
            return self.grid_extent(resolution)
        return self._constrained(resolution)[0]

    def grid_size_is_exact(self, resolution: int | None = None) -> bool:
        """Whether `grid_size` was counted (True without a constraint) rather than estimated from a sample."""
        return self.constraint is None or self._constrained(resolution)[1] is not None

    def feasible_grid_indices(self, resolution: int | None = None) -> np.ndarray | None:
        """The grid indices that satisfy the constraint, in order, when they were counted exactly (else None)."""
        if self.constraint is None:
            return None
        return self._constrained(resolution)[1]

    def _constrained(self, resolution: int | None) -> tuple[int, np.ndarray | None]:
        if resolution not in self._grid_counts:
            extent = self.grid_extent(resolution)
            if extent <= CONSTRAINT_EXACT_LIMIT:
                ok = [i for i, p in enumerate(self._iter_grid(resolution)) if self.feasible(p)]
                counted: tuple[int, np.ndarray | None] = (len(ok), np.array(ok, dtype=np.int64))
            else:
                rng = np.random.default_rng(0)
                draws = 20_000
                hits = sum(self.feasible(self.grid_point(int(rng.integers(extent)), resolution)) for _ in range(draws))
                counted = (max(1, round(extent * hits / draws)) if hits else 0, None)
            if counted[0] == 0:
                raise ValueError("constraint: no point of the grid satisfies it; loosen it or widen the space")
            self._grid_counts[resolution] = counted
        return self._grid_counts[resolution]

    def _knob_grid_size(self, knob: Knob, resolution: int | None) -> int:
        if isinstance(knob, Branch):
            return sum(sub.grid_extent(resolution) for sub in knob.subspaces)
        return len(knob.grid_values(resolution))

    def grid_point(self, index: int, resolution: int | None = None) -> dict[str, Any]:
        """The index-th point of the grid (0 <= index < grid_extent), in mixed-radix order, first knob slowest.
        The index runs over every point, the constraint aside: see `feasible`."""
        size = self.grid_extent(resolution)
        if not 0 <= index < size:
            raise IndexError(f"grid index {index} outside 0..{size - 1}")
        params: dict[str, Any] = {}
        self._fill_grid_point(index, resolution, params)
        return self._in_knob_order(params)

    def _in_knob_order(self, params: dict[str, Any]) -> dict[str, Any]:
        order = self.__dict__.get("_order")
        if order is None:
            order = self._order = {name: i for i, name in enumerate(self.all_knobs())}  # the user's knob order
        return dict(sorted(params.items(), key=lambda kv: order[kv[0]]))

    def _fill_grid_point(self, index: int, resolution: int | None, params: dict[str, Any]) -> None:
        knobs = list(self.knobs.values())
        sizes = [self._knob_grid_size(k, resolution) for k in knobs]
        for knob, size in zip(reversed(knobs), reversed(sizes), strict=True):
            index, digit = divmod(index, size)
            if isinstance(knob, Branch):
                for value, sub in zip(knob.choices, knob.subspaces, strict=True):
                    n = sub.grid_extent(resolution)
                    if digit < n:
                        params[knob.name] = value
                        sub._fill_grid_point(digit, resolution, params)
                        break
                    digit -= n
            else:
                params[knob.name] = knob.grid_values(resolution)[digit]

    def _iter_grid(self, resolution: int | None) -> Iterator[dict[str, Any]]:
        """Every grid point in index order (as grid_point(0), grid_point(1), ...), much faster than by index."""
        import itertools

        parts = []
        for knob in self.knobs.values():
            if isinstance(knob, Branch):
                opts = []
                for value, sub in zip(knob.choices, knob.subspaces, strict=True):
                    opts.extend([((knob.name, value),) + tuple(p.items()) for p in sub._iter_grid(resolution)])
                parts.append(opts)
            else:
                parts.append([((knob.name, v),) for v in knob.grid_values(resolution)])
        for combo in itertools.product(*parts):
            point: dict[str, Any] = {}
            for items in combo:
                point.update(items)
            yield self._in_knob_order(point)

    def grid_index(self, params: Mapping[str, Any], resolution: int | None = None) -> int | None:
        """The inverse of grid_point: the index of a params dict, or None when it is not a grid point."""
        try:
            return self._grid_index(params, resolution)
        except (KeyError, ValueError):
            return None

    def _grid_index(self, params: Mapping[str, Any], resolution: int | None) -> int:
        index = 0
        for knob in self.knobs.values():
            size = self._knob_grid_size(knob, resolution)
            if isinstance(knob, Branch):
                i = knob.index(params[knob.name])
                digit = sum(sub.grid_extent(resolution) for sub in knob.subspaces[:i])
                digit += knob.subspaces[i]._grid_index(params, resolution)
            else:
                found = knob.grid_position(params[knob.name], resolution)
                if found is None:
                    raise ValueError(knob.name)
                digit = found
            index = index * size + digit
        return index

    def grid(self, resolution: int | None = None) -> Iterator[dict[str, Any]]:
        """Every grid point that satisfies the constraint, in order, one at a time."""
        for point in self._iter_grid(resolution):
            if self.feasible(point):
                yield point


def _knob_from_description(d: Mapping[str, Any]) -> Any:
    kind = d.get("kind")
    if kind == "real":
        return Real(d["low"], d["high"], log=d["log"])
    if kind == "int":
        return Int(d["low"], d["high"], log=d["log"], step=d["step"])
    if kind == "categorical":
        if "linspace" in d:  # a long (low, high, n) tuple, described by its ends and count
            low, high, n, integer = d["linspace"]
            return Categorical(Linspace(low, high, n, integer), ordered=d.get("ordered", True))
        return Categorical(d["choices"], ordered=d.get("ordered", False))
    if kind == "bool":
        return Bool()
    if kind == "fixed":
        return Fixed(d["value"])
    if kind == "branch":
        return Branch({value: {n: _knob_from_description(k) for n, k in sub.items()} for value, sub in d["options"]})
    raise ValueError(f"unknown knob kind {kind!r} in {d!r}")


def as_space(space: Mapping[str, Any] | Sequence[Mapping[str, Any]] | Space, constraint: Any = None) -> Space:
    if isinstance(space, Space) and (constraint is None or constraint is space.constraint):
        return space
    return Space(space, constraint)
