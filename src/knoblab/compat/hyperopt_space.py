"""hyperopt's `hp.*` spaces as knoblab Spaces: `from_hyperopt(space)`, and the translation of points both ways
(used by `knoblab.compat.hyperopt.fmin`; see that module for the objective's side).

Each `hp.*` label becomes a knob of that name; constants in the structure are not knobs (docs/hyperopt.md has the
table):

- `hp.choice`: a `Branch` over the option indices when an option holds `hp.*` labels; else a `Categorical` of the
  options when they can be knob values (plain values, tuples, importable functions and classes), or of their
  indices (dicts, lambdas). `hp.pchoice` the same, its probabilities dropped (a warning says so).
- `hp.uniform` and `hp.loguniform`: `Real` (log scale for loguniform, whose bounds are logs in hyperopt).
- `hp.quniform`, `hp.qloguniform`, `hp.uniformint`: the values `round(x / q) * q` reaches, as an `Int` with
  step q for an integer q (log scale for qloguniform with q = 1), else the ordered list of multiples of q.
- `hp.randint(upper)` or `(low, high)`: `Int(low, high - 1)`.
- `hp.normal`, `hp.lognormal` and their q-forms: truncated to mu +- `sigmas` sigma (3 by default) and searched
  evenly there (on a log scale for lognormal), not with a Gaussian prior (a warning names each such knob).

The objective receives exactly what hyperopt would give it: the space evaluated by hyperopt's own `pyll.rec_eval`
with the trial's values (nested dicts, lists turned to tuples, `scope.int(...)` and arithmetic applied).
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..space import Branch, Categorical, Fixed, Int, Knob, Real, Space
from ..values import stored_key

__all__ = ["from_hyperopt", "space_eval", "HyperoptSpace", "is_hyperopt_space"]

_LISTED = 10_000  # the most values a quantized knob with a non-integer q is listed with


# ---------------------------------------------------------------------------------------------------------------
# the space
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _Label:
    """One `hp.*` label as found in the pyll graph."""

    label: str
    node: Any  # the hyperopt_param Apply node
    dist: str  # the distribution's name: uniform, quniform, randint, categorical, ...
    args: list[Any]  # its evaluated arguments (rng and size dropped)
    paths: list[tuple[tuple[str, int], ...]] = field(default_factory=list)  # (choice label, option) from the root
    options: list[Any] | None = None  # the option nodes when the label indexes an hp.choice / hp.pchoice
    path: tuple[tuple[str, int], ...] = ()  # where its knob lives in the knoblab space (worked out later)
    kind: str = ""  # "branch", "choice" (plain values), "index", or the distribution's name
    values: list[Any] | None = None  # a plain choice's values, in option order


def is_hyperopt_space(space: Any) -> bool:
    """Whether `space` holds hyperopt `hp.*` expressions (checked without importing hyperopt)."""
    if "hyperopt" not in sys.modules:
        return False
    return _holds_pyll(space)


def _holds_pyll(obj: Any) -> bool:
    if type(obj).__module__.startswith("hyperopt"):
        return True
    if isinstance(obj, Mapping):
        return any(_holds_pyll(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return any(_holds_pyll(v) for v in obj)
    return False


class HyperoptSpace(Space):
    """A hyperopt `hp.*` space as a knoblab Space: usable as is by `kl.Experiment`, with the translation both ways.

    - `rebuild(params)`: the structure hyperopt would hand the objective for these params (nested dicts, tuples).
    - `to_hyperopt(params)`: hyperopt's assignment {label: value} (choices as indices), as `fmin` returns it.
    - `from_hyperopt(assignment)`: the params of a hyperopt assignment (to enqueue a point, import a trial).
    """

    def __init__(self, space: Any, *, sigmas: float = 3.0):
        from hyperopt import pyll

        if not (isinstance(sigmas, numbers.Real) and not isinstance(sigmas, bool) and sigmas > 0):
            raise ValueError(f"sigmas: got {sigmas!r}; give a number > 0 (normal knobs span mu +- sigmas * sigma)")
        self.hyperopt_space = space
        self.sigmas: float = float(sigmas)
        self.expr: Any = pyll.as_apply(space)  # a pyll Apply node (hyperopt ships no types)
        self.labels: dict[str, _Label] = {}
        self._seen: set[tuple[int, tuple]] = set()
        self._walk(space, ())
        del self._seen
        self._place()
        self._approximated: list[str] = []
        spec = self._build(())
        super().__init__(spec)
        if self._approximated:
            warnings.warn(
                "from_hyperopt: " + "; ".join(self._approximated) + " (see knoblab.compat.hyperopt)",
                UserWarning,
                stacklevel=3,
            )

    # ---- reading the pyll graph ----
    def _walk(self, obj: Any, path: tuple) -> None:
        """Finds every hp label under `obj` (the user's dicts and lists, then pyll nodes), with the choices above."""
        from hyperopt.pyll import Apply, Literal

        if isinstance(obj, Knob):
            raise ValueError(f"space: got {obj!r} among hyperopt hp.* expressions; write the whole space in one style")
        if isinstance(obj, Mapping):
            for v in obj.values():
                self._walk(v, path)
            return
        if isinstance(obj, list | tuple):
            for v in obj:
                self._walk(v, path)
            return
        if isinstance(obj, Literal):
            if isinstance(obj.obj, Knob):
                raise ValueError(f"space: got {obj.obj!r} inside a hyperopt expression; use hp.* there")
            return
        if not isinstance(obj, Apply):
            return
        key = (id(obj), path)
        if key in self._seen:
            return
        self._seen.add(key)
        if obj.name == "switch":
            index = obj.pos_args[0]
            if index.name != "hyperopt_param":
                raise ValueError("space: a pyll switch on a computed value is not supported; use hp.choice")
            entry = self._param(index, path)
            entry.options = list(obj.pos_args[1:])
            for i, option in enumerate(entry.options):
                self._walk(option, path + ((entry.label, i),))
            return
        if obj.name == "hyperopt_param":
            self._param(obj, path)
            return
        for child in obj.inputs():
            self._walk(child, path)

    def _param(self, node: Any, path: tuple) -> _Label:
        from hyperopt import pyll

        label = node.arg["label"].obj
        if not isinstance(label, str) or not label:
            raise ValueError(f"space: hp label {label!r}; labels must be non-empty strings")
        entry = self.labels.get(label)
        if entry is None:
            dist = node.arg["obj"]
            for child in pyll.dfs(dist):
                if child is not dist and child.name == "hyperopt_param":
                    inner = child.arg["label"].obj
                    raise ValueError(
                        f"knob {label!r}: its range depends on knob {inner!r}; knoblab needs fixed bounds "
                        "(use hp.choice over ranges instead)"
                    )
            args = [pyll.rec_eval(a) for a in dist.pos_args]
            named = {k: pyll.rec_eval(v) for k, v in dist.named_args if k not in ("rng", "size")}
            entry = _Label(label, node, dist.name, args + list(named.values()))
            if named:  # keyword arguments, in the distribution's own order
                entry.args = _ordered_args(label, dist.name, args, named)
            self.labels[label] = entry
        elif entry.node is not node:
            raise ValueError(f"knob {label!r}: two different hp expressions share this label; give each its own")
        entry.paths.append(path)
        return entry

    def _place(self) -> None:
        """Where each knob lives: under the choices that all its uses share (a label used in several options of a
        choice is hoisted above it), and only under choices that are themselves placed on that path."""
        for entry in self.labels.values():
            entry.path = _common_prefix(entry.paths)
        changed = True
        while changed:
            changed = False
            for entry in self.labels.values():
                for j, (choice, _) in enumerate(entry.path):
                    if self.labels[choice].path != entry.path[:j]:
                        entry.path = entry.path[:j]
                        changed = True
                        break

    # ---- building the knoblab space ----
    def _build(self, path: tuple) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        for entry in self.labels.values():
            if entry.path != path:
                continue
            if entry.options is not None:
                depth = len(path)
                inner = any(
                    len(e.path) > depth and e.path[:depth] == path and e.path[depth][0] == entry.label
                    for e in self.labels.values()
                )
                spec[entry.label] = self._choice(entry, path, inner)
            else:
                spec[entry.label] = self._numeric(entry)
        return spec

    def _choice(self, entry: _Label, path: tuple, has_subknobs: bool) -> Any:
        from hyperopt import pyll

        options = entry.options
        assert options is not None  # _build calls this only for labels that index a choice
        n = len(options)
        if entry.dist == "categorical":
            self._approximated.append(
                f"knob {entry.label!r}: hp.pchoice's probabilities are not kept, every option is searched evenly"
            )
        elif entry.dist != "randint":
            raise ValueError(f"knob {entry.label!r}: an hp.choice indexed by {entry.dist} is not supported")
        if has_subknobs:
            entry.kind = "branch"
            return Branch({i: self._build(path + ((entry.label, i),)) for i in range(n)})
        values: list[Any] = []
        hoisted = False
        for option in options:
            if any(node.name == "hyperopt_param" for node in pyll.dfs(option)):
                hoisted = True  # an option with hp labels that were hoisted elsewhere: choose it by index
                break
            values.append(pyll.rec_eval(option))
        if not hoisted and _storable_distinct(values):
            entry.kind, entry.values = "choice", [_py(v) for v in values]
            return Categorical(entry.values) if n > 1 else Fixed(entry.values[0])
        entry.kind = "index"
        return Categorical(list(range(n))) if n > 1 else Fixed(0)

    def _numeric(self, entry: _Label) -> Knob:
        label, dist, a = entry.label, entry.dist, entry.args
        entry.kind = dist
        k = self.sigmas
        try:
            if dist == "uniform":
                return Real(float(a[0]), float(a[1]))
            if dist == "loguniform":
                return Real(math.exp(a[0]), math.exp(a[1]), log=True)
            if dist == "quniform":
                return _quantized(label, float(a[0]), float(a[1]), float(a[2]), log=False)
            if dist == "qloguniform":
                return _quantized(label, math.exp(a[0]), math.exp(a[1]), float(a[2]), log=True)
            if dist == "randint":
                low, high = (0, a[0]) if len(a) == 1 or a[1] is None else (a[0], a[1])
                if int(high) - int(low) <= 1:
                    return Fixed(int(low))
                return Int(int(low), int(high) - 1)
            if dist in ("normal", "qnormal", "lognormal", "qlognormal"):
                mu, sigma = float(a[0]), float(a[1])
                low, high = mu - k * sigma, mu + k * sigma
                scale = "log " if dist.endswith("lognormal") else ""
                self._approximated.append(
                    f"knob {label!r}: hp.{dist}({mu:g}, {sigma:g}) is searched evenly over mu +- {k:g} sigma "
                    f"on a {scale or 'linear '}scale"
                )
                if dist == "normal":
                    return Real(low, high)
                if dist == "lognormal":
                    return Real(math.exp(low), math.exp(high), log=True)
                if dist == "qnormal":
                    return _quantized(label, low, high, float(a[2]), log=False)
                return _quantized(label, math.exp(low), math.exp(high), float(a[2]), log=True)
        except (IndexError, TypeError) as e:
            raise ValueError(f"knob {label!r}: hp.{dist} with arguments {a!r} ({e})") from None
        raise ValueError(
            f"knob {label!r}: hyperopt distribution {dist!r} is not supported; allowed: choice, pchoice, uniform, "
            "loguniform, quniform, qloguniform, uniformint, randint, normal, qnormal, lognormal, qlognormal"
        )

    # ---- translating points ----
    def _memo(self, params: Mapping[str, Any]) -> dict[Any, Any]:
        from hyperopt.pyll.base import GarbageCollected

        memo = {}
        for label, entry in self.labels.items():
            memo[entry.node] = self._raw(entry, params[label]) if label in params else GarbageCollected
        return memo

    def rebuild(self, params: Mapping[str, Any]) -> Any:
        """What hyperopt hands the objective for these params: the space evaluated with them (hyperopt's rec_eval)."""
        from hyperopt import pyll

        return pyll.rec_eval(self.expr, memo=self._memo(params))

    def _raw(self, entry: _Label, value: Any) -> Any:
        """A knob value as hyperopt's algorithms and argmin hold it."""
        if entry.kind == "choice":
            assert entry.values is not None  # set with kind "choice"
            key = stored_key(value)
            return next(i for i, v in enumerate(entry.values) if stored_key(v) == key)
        if entry.kind in ("branch", "index", "randint"):
            return int(value)
        return float(value)

    def active(self, params: Mapping[str, Any]) -> list[str]:
        """The labels hyperopt itself would sample for these params: those on a path of choices all taken."""
        raw = {label: self._raw(self.labels[label], v) for label, v in params.items() if label in self.labels}

        def on(path: tuple) -> bool:
            return all(c in raw and raw[c] == i and any(on(p) for p in self.labels[c].paths) for c, i in path)

        return [label for label, entry in self.labels.items() if label in raw and any(on(p) for p in entry.paths)]

    def to_hyperopt(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """hyperopt's assignment {label: value} of these params (choices as indices), as its fmin returns it."""
        return {label: self._raw(self.labels[label], params[label]) for label in self.active(params)}

    def from_hyperopt(self, assignment: Mapping[str, Any]) -> dict[str, Any]:
        """The params of a hyperopt assignment {label: value} (choice indices, as argmin gives them); validated."""
        if not isinstance(assignment, Mapping):
            raise ValueError(f"a hyperopt point is a dict {{label: value}}, got {type(assignment).__name__}")
        for label in assignment:
            if label not in self.labels:
                raise ValueError(f"knob {label!r}: not a label of this space; labels: {sorted(self.labels)}")
        params: dict[str, Any] = {}

        def walk(space: Space) -> None:
            for name, knob in space.knobs.items():
                entry = self.labels[name]
                if name not in assignment:
                    if isinstance(knob, Fixed):
                        params[name] = knob.value
                        continue
                    raise ValueError(f"knob {name!r}: missing from the point; give a value ({knob!r})")
                params[name] = self._value(entry, knob, assignment[name])
                if isinstance(knob, Branch):
                    walk(knob.subspaces[knob.index(params[name])])

        walk(self)
        return self.validate(params)

    def _value(self, entry: _Label, knob: Knob, raw: Any) -> Any:
        raw = _py(raw)
        if entry.kind in ("choice", "branch", "index"):
            options, values = entry.options, entry.values
            assert options is not None and (values is not None or entry.kind != "choice")  # as _choice sets them
            if not (isinstance(raw, numbers.Integral) and 0 <= int(raw) < len(options)):
                raise ValueError(f"knob {entry.label!r}: got {raw!r}; give an option index 0..{len(options) - 1}")
            return values[int(raw)] if values is not None and entry.kind == "choice" else int(raw)
        if isinstance(knob, Int | Fixed) and isinstance(raw, numbers.Real) and float(raw).is_integer():
            return int(raw)  # type: ignore[call-overload]  # typeshed's numbers.Real has no __int__ (python/mypy#3186)
        if isinstance(knob, Categorical) and isinstance(raw, numbers.Real):
            close = [c for c in knob.choices if math.isclose(c, raw, rel_tol=1e-9, abs_tol=1e-12)]
            return close[0] if close else raw
        return raw


def _ordered_args(label: str, dist: str, args: list[Any], named: dict[str, Any]) -> list[Any]:
    names = {
        "uniform": ("low", "high"),
        "loguniform": ("low", "high"),
        "quniform": ("low", "high", "q"),
        "qloguniform": ("low", "high", "q"),
        "normal": ("mu", "sigma"),
        "lognormal": ("mu", "sigma"),
        "qnormal": ("mu", "sigma", "q"),
        "qlognormal": ("mu", "sigma", "q"),
        "randint": ("low", "high"),
    }.get(dist, ())
    out = list(args)
    for name in names[len(args) :]:
        if name in named:
            out.append(named[name])
        elif not (dist == "randint" and name == "high"):
            raise ValueError(f"knob {label!r}: hp.{dist} needs {name!r}")
    return out


def _common_prefix(paths: Sequence[tuple]) -> tuple:
    first = paths[0]
    n = len(first)
    for p in paths[1:]:
        n = min(n, len(p))
        for j in range(n):
            if p[j] != first[j]:
                n = j
                break
    return first[:n]


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _storable_distinct(values: list[Any]) -> bool:
    """Whether choice options can be knob values themselves (plain values, tuples of them, importable functions
    and classes, Keras objects: see knoblab.values), each stored differently; else the knob holds their indices."""
    keys = set()
    for v in values:
        if isinstance(v, Mapping):
            return False  # a dict option is a structure, not a value
        try:
            key = stored_key(_py(v))
        except ValueError:
            return False
        if key in keys:
            return False
        keys.add(key)
    return True


def _quantized(label: str, low: float, high: float, q: float, *, log: bool) -> Knob:
    """The values round(x / q) * q for x in [low, high], as hyperopt's q-distributions give them."""
    if not (math.isfinite(q) and q > 0):
        raise ValueError(f"knob {label!r}: got q={q!r}; q must be a number > 0")
    # the multiples k * q that round(x / q) reaches with positive probability (a bound exactly halfway between
    # two multiples rounds to the outer one only on a set of measure zero)
    first, last = math.floor(low / q + 0.5 + 1e-9), math.ceil(high / q - 0.5 - 1e-9)
    if float(q).is_integer():
        q = int(q)
        if first == last:
            return Fixed(first * q)
        if log and q == 1 and first >= 1:
            return Int(first, last, log=True)
        return Int(first * q, last * q, step=q)
    if last - first + 1 > _LISTED:
        raise ValueError(
            f"knob {label!r}: {last - first + 1} multiples of q={q:g} between {low:g} and {high:g}; knoblab lists at "
            f"most {_LISTED} values for a non-integer q: use a larger q, or hp.uniform / hp.loguniform"
        )
    values = [float(f"{k * q:.12g}") for k in range(first, last + 1)]
    return Fixed(values[0]) if len(values) == 1 else Categorical(values, ordered=True)


def from_hyperopt(space: Any, *, sigmas: float = 3.0) -> HyperoptSpace:
    """A knoblab Space from a hyperopt `hp.*` space (see the module docstring for how each `hp.*` translates).

    `sigmas`: normal and lognormal knobs are searched over mu +- sigmas * sigma."""
    if not is_hyperopt_space(space):
        raise ValueError(
            f"from_hyperopt: got {type(space).__name__} without hyperopt hp.* expressions; a knoblab space (a dict "
            "of kl.Real, lists, ...) needs no translation"
        )
    return HyperoptSpace(space, sigmas=sigmas)


def space_eval(space: Any, assignment: Mapping[str, Any]) -> Any:
    """The point of `space` for a hyperopt assignment (what `fmin` returns): hyperopt's own `space_eval` for an
    `hp.*` space; for a knoblab space, the params dict itself (validated)."""
    if isinstance(space, HyperoptSpace):
        return space.rebuild(space.from_hyperopt(assignment))
    if is_hyperopt_space(space):
        from hyperopt import space_eval as hyperopt_space_eval

        return hyperopt_space_eval(space, assignment)
    return Space(space).validate(assignment) if not isinstance(space, Space) else space.validate(assignment)
