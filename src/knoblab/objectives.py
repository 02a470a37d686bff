"""What an experiment optimizes: one or several objectives (a metric and a direction each) and outcome constraints.

Several objectives: `Experiment(name, space, metric=["val_accuracy", "params"], direction=["max", "min"])`; the
objective returns a dict holding every metric, and a trial keeps their vector as `FrozenTrial.values` (in the order
of `metric`). There is then no single best trial: `exp.pareto_front` holds the trials no other beats in every
objective, `exp.best_by(metric)` the best by one.

Outcome constraints, `constraints=[...]`, limit what a trial's *results* may be, e.g. "at most 100k parameters".
Each is a string in a small grammar, `"<metric> <op> <number>"` with op one of <=, >=, <, >, == (`"params <= 1e5"`,
`"latency < 0.002"`; parsed, never evaluated as Python), or a function of the metrics dict returning True/False, a
number (<= 0 is satisfied, its size the violation, as Optuna's `constraints_func`) or a sequence of such numbers. A
trial whose results break one is stored COMPLETE but infeasible (attrs `feasible` False, `violation` > 0): it is
shown, never reported as the best nor on the Pareto front, and strategies rank it after every feasible trial.

Not to be confused with a constraint on the *knobs* (`Space`'s `constraint`, a function of the params that rules
points out before they run): an outcome constraint is only known once the trial has run.
"""

from __future__ import annotations

import importlib
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .trial import FrozenTrial

__all__ = ["Objectives", "OutcomeConstraint", "OutcomeConstraints", "is_feasible", "violation", "pareto_trials"]

_DIRECTIONS = ("min", "max")


@dataclass(frozen=True)
class Objectives:
    """The metrics an experiment optimizes, each with its direction. One objective is the usual single metric."""

    metrics: tuple[str, ...]
    directions: tuple[str, ...]

    @classmethod
    def parse(cls, metric: Any, direction: Any) -> Objectives:
        """From `Experiment`'s `metric` (a name or a list of names) and `direction` ("min"/"max" or one per metric),
        with a one-line error naming what is wrong."""
        if isinstance(metric, str):
            if not metric:
                raise ValueError(f"metric: got {metric!r}; give the metric's name, e.g. 'val_loss'")
            if direction not in _DIRECTIONS:
                raise ValueError(f"direction: got {direction!r}; allowed: 'min' or 'max'")
            return cls((metric,), (direction,))
        if not isinstance(metric, Sequence) or isinstance(metric, bytes) or not metric:
            raise ValueError(f"metric: got {metric!r}; give a metric's name, or a list of names for several objectives")
        names = list(metric)
        for m in names:
            if not isinstance(m, str) or not m:
                raise ValueError(f"metric: got {metric!r}; every entry must be a metric's name")
        if len(set(names)) != len(names):
            raise ValueError(f"metric: got {metric!r}; each metric may appear once")
        if isinstance(direction, str) or not isinstance(direction, Sequence):
            raise ValueError(
                f"direction: got {direction!r} for {len(names)} metrics; give one per metric, "
                f"e.g. direction={['max', 'min'][: len(names)] + ['min'] * (len(names) - 2)}"
            )
        dirs = list(direction)
        if len(dirs) != len(names):
            raise ValueError(f"direction: got {len(dirs)} directions {dirs} for {len(names)} metrics {names}")
        for d in dirs:
            if d not in _DIRECTIONS:
                raise ValueError(f"direction: got {dirs}; each must be 'min' or 'max'")
        return cls(tuple(names), tuple(dirs))

    @classmethod
    def from_record(cls, metric: str, direction: str, stored: Mapping[str, Any] | None) -> Objectives:
        """As stored: the experiment row's metric and direction, or the objectives column when it has one."""
        if stored and stored.get("metrics"):
            return cls(tuple(stored["metrics"]), tuple(stored["directions"]))
        return cls((metric,), (direction,))

    @property
    def multi(self) -> bool:
        """Whether there are several objectives."""
        return len(self.metrics) > 1

    def __len__(self) -> int:
        return len(self.metrics)

    def describe(self) -> str:
        """In words, for messages: "max 'val_accuracy', min 'params'"."""
        return ", ".join(f"{d} {m!r}" for m, d in zip(self.metrics, self.directions))


_NAME = r"[A-Za-z_][A-Za-z0-9_.\-/]*"
_NUMBER = r"[+-]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_OPS = ("<=", ">=", "==", "<", ">")
_GRAMMAR = re.compile(rf"^\s*(?:({_NAME})\s*(<=|>=|==|<|>)\s*({_NUMBER})|({_NUMBER})\s*(<=|>=|==|<|>)\s*({_NAME}))\s*$")
_FLIP = {"<=": ">=", ">=": "<=", "<": ">", ">": "<", "==": "=="}


class OutcomeConstraint:
    """One limit on a trial's results: a parsed `"metric op number"` string or a function of the metrics."""

    def __init__(self, spec: str | Callable[[dict[str, Any]], Any]):
        self.spec = spec
        self.metric: str | None = None
        self.op: str | None = None
        self.bound: float | None = None
        self.function: Callable[[dict[str, Any]], Any] | None = None
        self.missing: str | None = None  # a stored function that cannot be imported here: why
        if isinstance(spec, _Stored):
            self.spec, self.missing = spec.ref, spec.why
        elif isinstance(spec, str):
            match = _GRAMMAR.match(spec)
            if match is None:
                raise ValueError(
                    f"constraints: cannot read {spec!r}; write '<metric> <op> <number>' with op one of "
                    f"{', '.join(_OPS)}, e.g. 'params <= 100000'"
                )
            if match.group(1) is not None:
                self.metric, self.op, number = match.group(1), match.group(2), match.group(3)
            else:  # "100000 >= params": the same limit read from the metric's side
                number, op, self.metric = match.group(4), match.group(5), match.group(6)
                self.op = _FLIP[op]
            self.bound = float(number.replace("_", ""))
            if not math.isfinite(self.bound):
                raise ValueError(f"constraints: {spec!r} has a bound that is not a finite number")
        elif callable(spec):
            self.function = spec
        else:
            raise ValueError(
                f"constraints: got {spec!r}; give strings such as 'params <= 100000' or functions of the metrics"
            )

    @property
    def name(self) -> str:
        """How the constraint is shown: its normalized text, or its function's name."""
        if self.missing is not None:
            return str(self.spec)
        if self.function is not None:
            return getattr(self.function, "__qualname__", type(self.function).__name__)
        return f"{self.metric} {self.op} {self.bound:g}"

    def values(self, metrics: Mapping[str, Any]) -> list[float]:
        """This constraint's values for a trial's metrics: each <= 0 when satisfied, its size the violation
        otherwise (a strict inequality met with equality is 0 and still broken: see `satisfied`). Raises ValueError
        naming the constraint when a metric it needs is missing or not a number."""
        if self.missing is not None:
            raise ValueError(self.missing)
        if self.function is None:
            assert self.metric is not None and self.bound is not None
            if self.metric not in metrics:
                raise ValueError(
                    f"constraint {self.spec!r} needs metric {self.metric!r}; the objective returned {sorted(metrics)}"
                )
            x = _number(metrics[self.metric], f"constraint {self.spec!r}: metric {self.metric!r}")
            if self.op in ("<=", "<"):
                return [x - self.bound]
            if self.op in (">=", ">"):
                return [self.bound - x]
            return [abs(x - self.bound)]
        try:
            out = self.function(dict(metrics))
        except Exception as e:
            raise ValueError(f"constraint {self.name}: raised {type(e).__name__}: {e}") from None
        if isinstance(out, bool):
            return [0.0 if out else 1.0]
        if isinstance(out, numbers.Real):
            return [_number(out, f"constraint {self.name}")]
        if isinstance(out, Sequence) and not isinstance(out, str) and out:
            return [_number(v, f"constraint {self.name}") for v in out]
        raise ValueError(
            f"constraint {self.name}: returned {out!r}; return True/False, a number (<= 0 satisfied) or a list of them"
        )

    def satisfied(self, values: Sequence[float]) -> bool:
        """Whether values from `values()` meet the constraint (< and > are strict, == exact)."""
        if self.op in ("<", ">"):
            return all(v < 0 for v in values)
        if self.op == "==":
            return all(v == 0 for v in values)
        return all(v <= 0 for v in values)

    def describe(self) -> Any:
        """What storage keeps: the string, or the function's import path (a function defined in a script's
        __main__ or a lambda keeps its name only, and must be given again to reopen the experiment elsewhere)."""
        if self.missing is not None:
            return {"function": self.spec}
        if self.function is None:
            return self.spec
        module = getattr(self.function, "__module__", None)
        qualname = getattr(self.function, "__qualname__", None)
        importable = bool(module and qualname and module != "__main__" and "<" not in qualname)
        return {"function": f"{module}:{qualname}" if importable else str(qualname or self.name)}

    def __repr__(self) -> str:
        return f"OutcomeConstraint({self.spec!r})" if self.function is None else f"OutcomeConstraint({self.name})"


class OutcomeConstraints:
    """An experiment's outcome constraints, checked on every trial's metrics when it ends."""

    def __init__(self, specs: Any = None):
        if specs is None:
            specs = []
        elif isinstance(specs, str) or callable(specs):
            specs = [specs]
        elif not isinstance(specs, Sequence):
            raise ValueError(
                f"constraints: got {specs!r}; give a list of strings such as 'params <= 100000' or functions"
            )
        self.items = [OutcomeConstraint(s) for s in specs]

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def metrics(self) -> list[str]:
        """The metrics the string constraints read (functions may read any)."""
        return [c.metric for c in self.items if c.metric is not None]

    def evaluate(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """The attrs a trial stores: `feasible`, `violation` (the sum of the positive values) and
        `constraint_values` (one per constraint value, <= 0 satisfied). Raises ValueError naming the constraint
        when one cannot be evaluated."""
        values: list[float] = []
        feasible = True
        for c in self.items:
            vs = c.values(metrics)
            feasible = feasible and c.satisfied(vs)
            values.extend(vs)
        total = float(sum(max(v, 0.0) for v in values))
        return {"feasible": feasible, "violation": total, "constraint_values": values}

    def describe(self) -> list[Any]:
        """What storage keeps: one entry per constraint (see `OutcomeConstraint.describe`)."""
        return [c.describe() for c in self.items]

    @classmethod
    def from_description(cls, stored: Sequence[Any], where: str) -> OutcomeConstraints:
        """The constraints as stored: strings reparsed, functions imported from their module. A function that cannot
        be imported here is kept by name, enough to read the experiment; `check_usable` (called before trials run)
        then says to pass `constraints=` again."""
        specs: list[Any] = []
        for item in stored or []:
            if isinstance(item, str):
                specs.append(item)
                continue
            ref = str(item.get("function", "")) if isinstance(item, Mapping) else repr(item)
            try:
                specs.append(_import(ref, where))
            except ValueError as e:
                specs.append(_Stored(ref, str(e)))
        return cls(specs)

    def check_usable(self) -> None:
        """Raises ValueError (naming the function) when a stored constraint function could not be imported."""
        for c in self.items:
            if c.missing is not None:
                raise ValueError(c.missing)

    def __repr__(self) -> str:
        return f"OutcomeConstraints({[c.spec if c.function is None else c.name for c in self.items]})"


@dataclass(frozen=True)
class _Stored:
    """A stored constraint function that cannot be imported in this process."""

    ref: str
    why: str


def _import(ref: str, where: str) -> Callable[..., Any]:
    module, _, qualname = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module) if module and qualname else None
        for part in qualname.split(".") if obj is not None else ():
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        obj = None
    if not callable(obj):
        raise ValueError(
            f"{where} has an outcome constraint function {ref!r} that cannot be imported here; "
            "pass constraints=[...] again when you reopen it"
        )
    return obj


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{what} is {x!r}, not a number")
    value = float(x)
    if math.isnan(value):
        raise ValueError(f"{what} is NaN")
    return value


def is_feasible(trial: Any) -> bool:
    """Whether a trial met the experiment's outcome constraints (True when it has none, or was not checked)."""
    return trial.attrs.get("feasible") is not False


def violation(trial: Any) -> float:
    """How far a trial is from meeting the outcome constraints (0 when it meets them)."""
    return float(trial.attrs.get("violation") or 0.0) if not is_feasible(trial) else 0.0


def pareto_trials(trials: Sequence[FrozenTrial], directions: Sequence[str]) -> list[FrozenTrial]:
    """The Pareto front of some trials: among the COMPLETE ones that meet the outcome constraints and have every
    objective (`values` with several objectives, `value` with one), those no other dominates, in number order."""
    from . import pareto

    multi = len(directions) > 1
    rows, kept = [], []
    for t in trials:
        if str(t.state) != "COMPLETE" or not is_feasible(t):
            continue
        vector = t.values if multi else ([t.value] if t.value is not None else None)
        if vector is None or len(vector) != len(directions) or not all(_finite(v) for v in vector):
            continue
        rows.append(vector)
        kept.append(t)
    if not kept:
        return []
    mask = pareto.pareto_mask(pareto.losses(rows, directions))
    return [t for t, on in zip(kept, mask) if on]


def _finite(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)
