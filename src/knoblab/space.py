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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Real", "Int", "Categorical", "Fixed", "Bool", "Branch", "Space", "Knob"]

_EPS = 1e-12


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same kind: 1 and 1.0 are one number, but True is not 1 (bool subclasses int, so `==` alone
    says it is), nor "1" 1."""
    a, b = _plain(a), _plain(b)
    if _is_number(a) and _is_number(b):
        return a == b
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

    # the finite grid of values (only for finite knobs)
    def grid_values(self, resolution: int | None = None) -> list[Any]:
        """The knob's values on a grid (`resolution` points for a Real knob)."""
        raise NotImplementedError

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

    def grid_values(self, resolution: int | None = None) -> list[Any]:
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

    def grid_values(self, resolution: int | None = None) -> list[Any]:
        return list(range(self.low, self.high + 1, self.step))

    def contains(self, value: Any) -> bool:
        if not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
            return False
        return self.low <= value <= self.high and (value - self.low) % self.step == 0

    def describe(self) -> dict[str, Any]:
        return {"kind": "int", "low": self.low, "high": self.high, "log": self.log, "step": self.step}

    def __repr__(self) -> str:
        return f"Int({self.low}, {self.high}{', log=True' if self.log else ''}{f', step={self.step}' if self.step != 1 else ''})"


class Categorical(Knob):
    """One of a list of choices. `ordered=True` (Talos tuples) keeps numeric order meaningful to strategies."""

    def __init__(self, choices: Sequence[Any], ordered: bool = False):
        self.choices = list(choices)
        self.ordered = ordered

    def _bind(self, name: str) -> Categorical:
        super()._bind(name)
        if len(self.choices) == 0:
            raise self._error([], "a categorical knob needs at least one choice")
        for c in self.choices:
            if isinstance(c, Knob | dict):
                raise self._error(c, "choices must be plain values (str, number, bool, None); use Branch for sub-knobs")
        self.choices = [_plain(c) for c in self.choices]
        seen = []
        for c in self.choices:
            if any(type(c) is type(s) and c == s for s in seen):
                raise self._error(c, "choices must be distinct")
            seen.append(c)
        return self

    def index(self, value: Any) -> int:
        """The position of a value among the choices (1 and 1.0 match); a clear error if absent."""
        value = _plain(value)
        for i, c in enumerate(self.choices):
            if type(c) is type(value) and c == value:
                return i
        for i, c in enumerate(self.choices):  # 1 == 1.0 and the like
            if _is_number(c) and _is_number(value) and c == value:
                return i
        raise self._error(value, f"allowed: {self.choices}")

    def from_unit(self, u: float) -> Any:
        k = len(self.choices)
        return self.choices[min(int(float(np.clip(u, 0.0, 1.0)) * k), k - 1)]

    def to_unit(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def grid_values(self, resolution: int | None = None) -> list[Any]:
        return list(self.choices)

    def contains(self, value: Any) -> bool:
        try:
            self.index(value)
            return True
        except ValueError:
            return False

    def describe(self) -> dict[str, Any]:
        return {"kind": "categorical", "choices": list(self.choices), "ordered": self.ordered}

    def __repr__(self) -> str:
        return f"Categorical({self.choices!r})"


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

    def from_unit(self, u: float) -> Any:
        return self.value

    def to_unit(self, value: Any) -> float:
        return 0.5

    def grid_values(self, resolution: int | None = None) -> list[Any]:
        return [self.value]

    def contains(self, value: Any) -> bool:
        return _same(value, self.value)

    def describe(self) -> dict[str, Any]:
        return {"kind": "fixed", "value": self.value}

    def __repr__(self) -> str:
        return f"Fixed({self.value!r})"


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
        if len(spec) != 3 or not all(_is_number(v) for v in spec):
            raise ValueError(
                f"knob {name!r}: got {spec!r}; a tuple must be (low, high, n) with numbers: n evenly spaced values, "
                "both ends included (use a list for categorical choices)"
            )
        low, high, n = spec
        if not (isinstance(n, numbers.Integral) and n >= 1):
            raise ValueError(f"knob {name!r}: got n={n!r} in {spec!r}; n must be an integer >= 1")
        if low >= high:
            raise ValueError(f"knob {name!r}: got {spec!r}; low must be < high")
        values = np.linspace(low, high, int(n))
        if (
            isinstance(low, numbers.Integral)
            and isinstance(high, numbers.Integral)
            and np.allclose(values, np.round(values))
        ):
            out = [int(round(v)) for v in values]
            if len(set(out)) != len(out):
                raise ValueError(f"knob {name!r}: got {spec!r}; {n} values between {low} and {high} repeat integers")
        else:
            # 15 significant digits drop linspace's float noise (0.30000000000000004 -> 0.3), so a value
            # written by hand, as in enqueue({"dropout": 0.3}), is on the grid
            out = [float(f"{v:.15g}") for v in values]
        return Categorical(out, ordered=True)._bind(name)
    if isinstance(spec, bool | str | numbers.Number) or spec is None:
        return Fixed(spec)._bind(name)
    raise ValueError(
        f"knob {name!r}: got {spec!r} of type {type(spec).__name__}; allowed: a list (categorical), a (low, high, n) "
        "tuple, a scalar (fixed), or kl.Real / kl.Int / kl.Bool / kl.Branch"
    )


@dataclass(frozen=True)
class Dimension:
    """One coordinate of the unit cube: the knob it encodes and the branch conditions that make it active."""

    knob: Knob
    conditions: tuple[tuple[str, Any], ...]  # (branch knob name, required value), outermost first


class Space:
    """A parsed, validated search space (see the module docstring for the dict it is written as)."""

    def __init__(self, spec: Mapping[str, Any] | Space, _names: set[str] | None = None):
        if isinstance(spec, Space):
            spec = spec.spec
        if not isinstance(spec, Mapping):
            raise ValueError(f"a space is a dict of knobs, got {type(spec).__name__}")
        self.spec = dict(spec)
        names = set() if _names is None else _names
        self.knobs: dict[str, Knob] = {}
        for name, raw in self.spec.items():
            if name in names:
                raise ValueError(
                    f"knob {name!r}: the name is used twice across branches; each knob name must be unique"
                )
            names.add(name)
            knob = _parse_knob(name, raw)
            if isinstance(knob, Branch):
                knob.subspaces = [Space(sub, names) for sub in knob.options.values()]
            self.knobs[name] = knob
        self.dimensions: list[Dimension] = []
        self._collect(self, (), self.dimensions)
        self.names = [d.knob.name for d in self.dimensions]
        self.ndim = len(self.dimensions)

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
        """The space back from `describe()` (as stored), so tools can reopen an experiment without its script."""
        return cls({name: _knob_from_description(d) for name, d in description.items()})

    def __repr__(self) -> str:
        return f"Space({self.knobs!r})"

    # ---- unit cube ----
    def from_unit(self, u: Sequence[float]) -> dict[str, Any]:
        """The params dict (active knobs only, fixed ones included) of a point of the unit cube."""
        u = np.asarray(u, dtype=float)
        if u.shape != (self.ndim,):
            raise ValueError(f"expected a point of {self.ndim} coordinates, got shape {u.shape}")
        coord = {d.knob.name: u[i] for i, d in enumerate(self.dimensions)}
        return self._decode(lambda knob: knob.from_unit(coord.get(knob.name, 0.5)))

    def to_unit(self, params: Mapping[str, Any]) -> np.ndarray:
        """The unit-cube point of a params dict; NaN on the coordinates of inactive knobs."""
        out = np.full(self.ndim, np.nan)
        for i, d in enumerate(self.dimensions):
            if d.knob.name in params and all(params.get(k) == v for k, v in d.conditions):
                out[i] = d.knob.to_unit(params[d.knob.name])
        return out

    def active_mask(self, params: Mapping[str, Any]) -> np.ndarray:
        """For each dimension, whether its knob is present in these params (inactive branch knobs are not)."""
        return np.array([d.knob.name in params for d in self.dimensions])

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
                    raise ValueError(f"knob {knob.name!r}: got {value!r}, which is outside {knob!r}")
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

    # ---- the finite grid, enumerated lazily ----
    def grid_size(self, resolution: int | None = None) -> int:
        """How many points the grid holds; computed, never enumerated. Branches add their sub-grids."""
        size = 1
        for knob in self.knobs.values():
            size *= self._knob_grid_size(knob, resolution)
        return size

    def _knob_grid_size(self, knob: Knob, resolution: int | None) -> int:
        if isinstance(knob, Branch):
            return sum(sub.grid_size(resolution) for sub in knob.subspaces)
        return len(knob.grid_values(resolution))

    def grid_point(self, index: int, resolution: int | None = None) -> dict[str, Any]:
        """The index-th point of the grid (0 <= index < grid_size), in mixed-radix order, first knob slowest."""
        size = self.grid_size(resolution)
        if not 0 <= index < size:
            raise IndexError(f"grid index {index} outside 0..{size - 1}")
        params: dict[str, Any] = {}
        self._fill_grid_point(index, resolution, params)
        order = {name: i for i, name in enumerate(self.all_knobs())}  # the user's knob order, for readability
        return dict(sorted(params.items(), key=lambda kv: order[kv[0]]))

    def _fill_grid_point(self, index: int, resolution: int | None, params: dict[str, Any]) -> None:
        knobs = list(self.knobs.values())
        sizes = [self._knob_grid_size(k, resolution) for k in knobs]
        for knob, size in zip(reversed(knobs), reversed(sizes), strict=True):
            index, digit = divmod(index, size)
            if isinstance(knob, Branch):
                for value, sub in zip(knob.choices, knob.subspaces, strict=True):
                    n = sub.grid_size(resolution)
                    if digit < n:
                        params[knob.name] = value
                        sub._fill_grid_point(digit, resolution, params)
                        break
                    digit -= n
            else:
                params[knob.name] = knob.grid_values(resolution)[digit]

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
                digit = sum(sub.grid_size(resolution) for sub in knob.subspaces[:i])
                digit += knob.subspaces[i]._grid_index(params, resolution)
            else:
                values = knob.grid_values(resolution)
                value = params[knob.name]
                matches = [j for j, v in enumerate(values) if v == value and type(v) is type(_plain(value))]
                matches = matches or [
                    j for j, v in enumerate(values) if _is_number(v) and _is_number(value) and math.isclose(v, value)
                ]
                if not matches:
                    raise ValueError(knob.name)
                digit = matches[0]
            index = index * size + digit
        return index

    def grid(self, resolution: int | None = None) -> Iterator[dict[str, Any]]:
        """Every grid point in order, one at a time."""
        for i in range(self.grid_size(resolution)):
            yield self.grid_point(i, resolution)


def _knob_from_description(d: Mapping[str, Any]) -> Any:
    kind = d.get("kind")
    if kind == "real":
        return Real(d["low"], d["high"], log=d["log"])
    if kind == "int":
        return Int(d["low"], d["high"], log=d["log"], step=d["step"])
    if kind == "categorical":
        return Categorical(d["choices"], ordered=d.get("ordered", False))
    if kind == "bool":
        return Bool()
    if kind == "fixed":
        return Fixed(d["value"])
    if kind == "branch":
        return Branch({value: {n: _knob_from_description(k) for n, k in sub.items()} for value, sub in d["options"]})
    raise ValueError(f"unknown knob description {d!r}")


def as_space(space: Mapping[str, Any] | Space) -> Space:
    return space if isinstance(space, Space) else Space(space)
