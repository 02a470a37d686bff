"""The trials of an experiment as plain tables for analysis: knobs, values, metrics and curves, kept apart so that
no knob or metric name can collide with another (the results table prefixes; these tables need not)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import values
from ..space import Branch, Categorical, Fixed, Int, Knob, Linspace, Real, Space
from ..trial import FrozenTrial, TrialState

__all__ = ["TrialTable", "trial_table", "is_numeric_knob", "encode_onehot", "encode_codes", "metric_pairs"]


@dataclass
class TrialTable:
    """The COMPLETE trials (with a finite value) of some rounds of an experiment.

    `knobs`: one column per knob (the knob's name), NaN/None where a branch left it inactive; `values`: the
    metric; `metrics`: every stored metric; `rounds`: each trial's round; all indexed by trial number.
    """

    metric: str
    direction: str
    space: Space
    knobs: pd.DataFrame
    values: pd.Series
    metrics: pd.DataFrame
    rounds: pd.Series
    trials: list[FrozenTrial] = field(repr=False, default_factory=list)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def sign(self) -> float:
        """+1 when smaller is better, -1 when larger is: `sign * value` is always a loss."""
        return 1.0 if self.direction == "min" else -1.0

    def knob(self, name: str) -> Knob | None:
        """The space's knob of that name (inside branches too), or None."""
        return self.space.all_knobs().get(name)

    def varying(self) -> list[str]:
        """Knobs that take more than one value among these trials (fixed ones say nothing about the metric)."""
        out = []
        for name in self.knobs.columns:
            col = self.knobs[name].dropna()
            if col.map(_key).nunique() > 1:
                out.append(name)
        return out

    def order(self) -> pd.Index:
        """Trial numbers from best to worst."""
        return (self.sign * self.values).sort_values(kind="stable").index

    def top(self, k: int) -> pd.Index:
        """The trial numbers of the k best trials, best first."""
        return self.order()[: max(int(k), 0)]

    def subset(self, numbers: Iterable[int]) -> TrialTable:
        """The same table restricted to these trial numbers."""
        idx = pd.Index(list(numbers))
        keep = {t.number for t in self.trials} & set(idx)
        return TrialTable(
            self.metric,
            self.direction,
            self.space,
            self.knobs.loc[idx],
            self.values.loc[idx],
            self.metrics.loc[idx],
            self.rounds.loc[idx],
            [t for t in self.trials if t.number in keep],
        )

    def curves(self, name: str) -> dict[int, np.ndarray]:
        """Per trial number, the reported per-step curve of metric `name` (trials loaded with reports only)."""
        out = {}
        for t in self.trials:
            if t.reports:
                curve = [float(v) for _, v in t.curve(name)]
                if curve:
                    out[t.number] = np.asarray(curve)
        return out


def trial_table(
    trials: Sequence[FrozenTrial], space: Space, metric: str, direction: str, rounds: Iterable[int] | None = None
) -> TrialTable:
    """The table of the COMPLETE trials with a finite value, of the given rounds (None: all)."""
    wanted = None if rounds is None else set(rounds)
    done = [
        t
        for t in trials
        if t.state == TrialState.COMPLETE
        and t.value is not None
        and math.isfinite(t.value)
        and (wanted is None or t.round in wanted)
    ]
    names = list(space.all_knobs())
    for t in done:  # knobs of other rounds' spaces, after the current space's
        names += [k for k in t.params if k not in names]
    index = pd.Index([t.number for t in done], name="number")
    knobs = pd.DataFrame(
        {k: pd.Series([_shown(t.params.get(k)) for t in done], index=index, dtype=object) for k in names}, index=index
    )
    for k in names:  # numeric knobs as numbers (inactive ones NaN)
        col = knobs[k]
        present = col.dropna()
        if len(present) and all(_is_number(v) for v in present):
            knobs[k] = pd.to_numeric(col.where(col.notna(), np.nan), errors="coerce")
    metric_names: list[str] = []
    for t in done:
        metric_names += [m for m in t.metrics if m not in metric_names]
    metrics = pd.DataFrame(
        {m: pd.Series([_float(t.metrics.get(m)) for t in done], index=index, dtype=float) for m in metric_names},
        index=index,
    )
    values = pd.Series([_float(t.value) for t in done], index=index, name=metric, dtype=float)
    round_col = pd.Series([t.round for t in done], index=index, name="round", dtype=int)
    return TrialTable(metric, direction, space, knobs, values, metrics, round_col, list(done))


def is_numeric_knob(table: TrialTable, name: str) -> bool:
    """Whether a knob is a number line (Real, Int, a Talos (low, high, n) tuple, a list of numbers), so that rank
    statistics apply to it directly; otherwise (strings, booleans, branches) it is one-hot encoded."""
    knob = table.knob(name)
    if isinstance(knob, Real | Int):
        return True
    if isinstance(knob, Branch):
        return False
    if isinstance(knob, Categorical):
        return isinstance(knob.choices, Linspace) or all(_is_number(c) for c in knob.choices)
    col = table.knobs[name].dropna()
    return len(col) > 0 and all(_is_number(v) for v in col)


def encode_onehot(table: TrialTable, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Numeric knobs as one column each; every other knob as one 0/1 column per value, named "knob=value".
    Inactive (NaN) entries stay NaN in numeric columns and are 0 in one-hot ones only where the knob is active."""
    cols: dict[str, pd.Series] = {}
    for name in names if names is not None else table.varying():
        col = table.knobs[name]
        if is_numeric_knob(table, name):
            cols[name] = col.astype(float)
            continue
        active = col.notna()
        for value in _values_in_order(table, name):
            hit = col.map(lambda v, value=value: _key(v) == _key(value))
            cols[f"{name}={value}"] = hit.astype(float).where(active, np.nan)
    return pd.DataFrame(cols, index=table.knobs.index)


def encode_codes(table: TrialTable, names: Sequence[str] | None = None) -> pd.DataFrame:
    """One numeric column per knob for tree models: numbers as they are (log10 on a log scale, see
    `is_log_scale`), other
    values as their index among the knob's values; -1 where the knob is inactive."""
    cols: dict[str, pd.Series] = {}
    for name in names if names is not None else table.varying():
        col = table.knobs[name]
        if is_numeric_knob(table, name):
            x = col.astype(float)
            if is_log_scale(table, name):
                x = np.log10(x)
            cols[name] = x.fillna(-1.0 if x.min(skipna=True) >= 0 else x.min(skipna=True) - 1.0)
        else:
            keys = [_key(v) for v in _values_in_order(table, name)]
            cols[name] = col.map(lambda v, keys=keys: keys.index(_key(v)) if _key(v) in keys else -1).astype(float)
    return pd.DataFrame(cols, index=table.knobs.index)


def is_log_scale(table: TrialTable, name: str) -> bool:
    """A log-scale knob, or a list of positive numbers spanning two decades or more (0.0001 ... 0.1)."""
    knob = table.knob(name)
    if getattr(knob, "log", False):
        return True
    x = pd.to_numeric(table.knobs[name], errors="coerce").dropna()
    return len(x) > 0 and bool(x.min() > 0) and bool(x.max() / x.min() >= 100)


def metric_pairs(columns: Iterable[str]) -> list[tuple[str, str]]:
    """(train, validation) metric pairs among metric names: ("loss", "val_loss"), ("accuracy", "val_accuracy")."""
    names = list(columns)
    return [(m[4:], m) for m in names if m.startswith("val_") and m[4:] in names]


def _values_in_order(table: TrialTable, name: str) -> list[Any]:
    knob = table.knob(name)
    seen = table.knobs[name].dropna().tolist()
    if seen and all(_is_number(v) for v in seen):  # numbers in their order, whichever round's space had them
        return sorted(_unique(seen), key=float)
    if isinstance(knob, Categorical):  # objects by name, as the table holds them (see `_shown`)
        order = [_shown(c) for c in knob.choices if any(_key(c) == _key(v) for v in seen)]
        order += [v for v in _unique(seen) if all(_key(v) != _key(c) for c in order)]
        return order
    if isinstance(knob, Fixed):
        return [_shown(knob.value)]
    return _unique(seen)


def _unique(values: Iterable[Any]) -> list[Any]:
    out, keys = [], set()
    for v in values:
        if _key(v) not in keys:
            keys.add(_key(v))
            out.append(v)
    return out


def _shown(v: Any) -> Any:
    """A knob value as the analysis tables hold it: objects (a function, a Keras optimizer) by their name."""
    return v if v is None or isinstance(v, np.generic) or values.is_plain(v) else values.display(v)


def _key(v: Any) -> tuple:
    """An identity that keeps True apart from 1 but 1 together with 1.0; an object is known by its name (as the
    tables show it, see `_shown`)."""
    v = _shown(v)
    if isinstance(v, bool | np.bool_):
        return ("bool", bool(v))
    if _is_number(v):
        return ("num", float(v))
    return (type(v).__name__, repr(v))


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real | np.number) and not isinstance(v, bool | np.bool_)


def _float(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan
