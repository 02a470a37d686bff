"""The results table of an experiment (`Experiment.results`): one row per trial, knobs and metrics as columns."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .objectives import pareto_trials
from .space import Space
from .trial import FrozenTrial
from .values import display, is_plain

__all__ = ["results_frame", "outcome_columns"]


_LINEAGE = (
    "member",
    "generation",
    "parent",
    "exploited_from",
    "resumed_from",
    "bracket",
    "paused_at",
    "cv_mean",
    "cv_std",
)
_BOOKKEEPING = (
    "number",
    "state",
    "value",
    "duration",
    "resource",
    "started_at",
    "finished_at",
    "round",
    "seed",
    "note",
    "error",
)


def results_frame(
    trials: list[FrozenTrial],
    space: Space,
    metric: str,
    integers: bool = False,
    resources: Mapping[int, int] | None = None,
) -> pd.DataFrame:
    """The results table: one row per trial, knobs and metrics as columns. Names never collide: a knob named like
    a bookkeeping column (number, state, value, duration, seed, ...) is prefixed "param_", a metric named like a
    knob or a bookkeeping column "metric_". `integers=True` (exports) keeps a column whose values are all integers
    integer even where some rows have none (an Int inside a Branch): pandas' nullable "Int64" instead of float.
    `resources` (trial id -> steps reported) adds a `resource` column, the epochs each trial trained, when any
    trial reported."""
    knob_names = list(space.all_knobs())
    knob_columns = {k: f"param_{k}" if k in _BOOKKEEPING else k for k in knob_names}
    metric_names: list[str] = []
    for t in trials:
        for m in t.metrics:
            if m not in metric_names:
                metric_names.append(m)
    taken = set(_BOOKKEEPING) | set(knob_columns.values())
    metric_columns = {m: f"metric_{m}" if m in taken or m in knob_names else m for m in metric_names}
    # schedulers' lineage (PBT members and generations, promotions), as columns when any trial has it
    lineage = [k for k in _LINEAGE if any(k in t.attrs for t in trials)]
    counts = resources or {}
    with_resource = any(counts.values())
    rows = []
    for t in trials:
        row: dict[str, Any] = {"number": t.number, "state": t.state.value, "value": t.value}
        for k in knob_names:
            row[knob_columns[k]] = _shown(t.params.get(k))
        for m in metric_names:
            row[metric_columns[m]] = t.metrics.get(m)
        row["duration"] = t.duration
        if with_resource:
            row["resource"] = int(counts.get(t.id, 0))
        row.update(
            started_at=t.started_at,
            finished_at=t.finished_at,
            round=t.round,
            seed=t.seed,
            note=t.note,
            error=(t.error or "").split("\n")[0] or None,
        )
        row.update({k: t.attrs.get(k) for k in lineage})
        rows.append(row)
    columns = [
        "number",
        "state",
        "value",
        *knob_columns.values(),
        *metric_columns.values(),
        "duration",
        *(["resource"] if with_resource else []),
        "started_at",
        "finished_at",
        "round",
        "seed",
        "note",
        "error",
        *lineage,
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if integers:
        for column in [*knob_columns.values(), *metric_columns.values()]:
            present = [r[column] for r in rows if r[column] is not None]
            if present and frame[column].dtype != "int64" and all(_integer(v) for v in present):
                frame[column] = frame[column].astype("Int64")
    return frame


def _integer(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_)


def _shown(value: Any) -> Any:
    """A knob value as the table shows it: plain values as they are, objects by name ("relu", "Adam(...)")."""
    return value if is_plain(value) else display(value)


def outcome_columns(
    df: pd.DataFrame, trials: list[FrozenTrial], directions: list[str], constrained: bool
) -> pd.DataFrame:
    """The results table with `feasible` and `violation` columns under outcome constraints, and with several
    objectives a `pareto` column (True for the trials of the Pareto front); unchanged otherwise."""
    if constrained:
        df["feasible"] = [None if "feasible" not in t.attrs else bool(t.attrs["feasible"]) for t in trials]
        df["violation"] = [t.attrs.get("violation") for t in trials]
    if len(directions) > 1:
        front = {t.number for t in pareto_trials(trials, directions)}
        df["pareto"] = [t.number in front for t in trials]
    return df
