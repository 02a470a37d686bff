"""The trials table: filter expressions, sorting, and the CSV of what a filter keeps.

A filter is a list of conditions, `lr<0.01, optimizer=adam|nadam, note~retry`, all of which must hold; the plots'
brushes are written in the same language, so the table, its CSV and the plots keep the same trials.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable
from typing import Any

__all__: list[str] = []  # the dashboard's own plumbing (its public face is knoblab.dashboard)

_TOKEN = r"(?:\"[^\"]*\"|'[^']*'|[^,\s\"'|]+)"
_FILTER = re.compile(
    r"\s*([A-Za-z_][\w.:/-]*)\s*(<=|>=|!=|==|=|<|>|~)\s*"
    rf"({_TOKEN}(?:\|{_TOKEN})+|\"[^\"]*\"|'[^']*'|[^,\s]+)(?=[\s,]|$)\s*,?"
)
_ALTERNATIVE = re.compile(_TOKEN)


class FilterError(ValueError):
    """A filter expression the table cannot read, with the part at fault."""


def _value(raw: str) -> Any:
    if raw[:1] in "\"'":
        return raw[1:-1]
    try:
        return float(raw)
    except ValueError:
        return {"true": True, "false": False, "none": None, "null": None}.get(raw.lower(), raw)


def parse_filter(text: str, what: str = "filter") -> list[tuple[str, str, Any]]:
    """`lr<0.01, opt=adam|nadam note~'a b'` -> [(field, op, value)]; a value is a number when it reads as one, and
    `a|b` (= and != only) is a tuple of alternatives."""
    out = []
    pos, text = 0, (text or "").strip()
    while pos < len(text):
        m = _FILTER.match(text, pos)
        if not m:
            raise FilterError(
                f"{what}: cannot read {text[pos:]!r}; write conditions like lr<0.01, optimizer=adam|nadam, "
                "note~text (operators = != < <= > >= ~; quote values with spaces or commas)"
            )
        field, op, raw = m.groups()
        op = "=" if op == "==" else op
        if raw[:1] not in "\"'" and "|" in raw or raw[:1] in "\"'" and len(_ALTERNATIVE.findall(raw)) > 1:
            if op not in ("=", "!="):
                raise FilterError(f"{what}: {field}{op}{raw}: alternatives (a|b) go with = or != only")
            value: Any = tuple(_value(t) for t in _ALTERNATIVE.findall(raw))
        else:
            value = _value(raw)
        out.append((field, op, value))
        pos = m.end()
    return out


BUILTIN = (
    "number",
    "value",
    "state",
    "duration",
    "round",
    "note",
    "host",
    "worker",
    "pid",
    "error",
    "id",
    "stopped",
    "started_at",
    "finished_at",
)


def _metric(name: str) -> Callable[[dict[str, Any]], Any]:
    """A metric as the table shows it: the trial's own, else (a trial that did not complete) its last report's."""

    def get(r: dict[str, Any]) -> Any:
        v = r["metrics"].get(name)
        if v is None and r.get("last"):
            v = r["last"]["metrics"].get(name)
        return v

    return get


def metrics_of(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The metric names of the rows, in the order first seen: final metrics, and last reports of the others."""
    seen: dict[str, None] = {}
    for r in rows:
        for m in r["metrics"]:
            seen.setdefault(m)
        if r.get("last"):
            for m in r["last"]["metrics"]:
                seen.setdefault(m)
    return list(seen)


def field_getter(field: str, knobs: Iterable[str], metrics: Iterable[str]) -> Callable[[dict[str, Any]], Any]:
    """A function row -> value for a field name: a knob, else a metric, else a built-in column.
    `param.NAME` and `metric.NAME` pick one explicitly."""
    knobs, metrics = set(knobs), set(metrics)
    if field.startswith(("param.", "knob.")):
        name = field.split(".", 1)[1]
        if name not in knobs:
            raise FilterError(f"filter: no knob named {name!r} ({field}); knobs: {sorted(knobs)}")
        return lambda r: r["params"].get(name)
    if field.startswith("metric."):
        name = field.split(".", 1)[1]
        if name not in metrics:
            raise FilterError(f"filter: no metric named {name!r} ({field}); metrics: {sorted(metrics)}")
        return _metric(name)
    if field in knobs:
        return lambda r: r["params"].get(field)
    if field in metrics:
        return _metric(field)
    if field in BUILTIN:
        return lambda r: r.get(field)
    raise FilterError(
        f"filter: no knob, metric or column named {field!r}; knobs: {sorted(knobs)}, metrics: {sorted(metrics)}, "
        f"columns: {list(BUILTIN)}"
    )


def _matches(x: Any, op: str, v: Any) -> bool:
    if isinstance(v, tuple):
        hit = any(_matches(x, "=", alt) for alt in v)
        return hit if op == "=" else not hit
    if op == "~":
        return x is not None and str(v).lower() in str(x).lower()
    numbers = isinstance(x, int | float) and isinstance(v, int | float) and not isinstance(x, bool)
    if op in ("=", "!="):
        if numbers and not isinstance(v, bool):
            same = math.isclose(x, v, rel_tol=1e-9, abs_tol=1e-12)
        elif x is None or v is None:
            same = x is None and v is None
        else:  # text, booleans, and a number written as text: compare as written
            same = str(x).lower() == str(v).lower()
        return same if op == "=" else not same
    if not (numbers or (isinstance(x, str) and isinstance(v, str))):
        return False
    return {"<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[op]


def sort_key(getter):
    """Numbers before text, None last, whatever the column holds."""

    def key(r):
        x = getter(r)
        if x is None:
            return (2, 0.0, "")
        if isinstance(x, bool):
            return (1, 0.0, str(x))
        if isinstance(x, int | float):
            return (0, float(x), "")
        return (1, 0.0, str(x))

    return key


def matching(
    rows: list[dict[str, Any]],
    *,
    knobs: list[str],
    metrics: list[str],
    states: list[str] | None = None,
    filter_text: str = "",
    brush: str = "",
    sort: str = "number",
    descending: bool = False,
) -> list[dict[str, Any]]:
    """Every row the states, the filter and the brush keep, sorted."""
    conditions = parse_filter(filter_text) + parse_filter(brush, "brush")
    if states:
        wanted = set(states)
        rows = [r for r in rows if r["state"] in wanted]
    for field, op, value in conditions:
        get = field_getter(field, knobs, metrics)
        rows = [r for r in rows if _matches(get(r), op, value)]
    get = field_getter(sort or "number", knobs, metrics)
    key = sort_key(get)
    if descending:  # None stays last either way
        present = [r for r in rows if get(r) is not None]
        absent = [r for r in rows if get(r) is None]
        return sorted(present, key=key, reverse=True) + sorted(absent, key=lambda r: r["number"])
    return sorted(rows, key=lambda r: (key(r), r["number"]))


def default_columns(knobs: list[str], metrics: list[str]) -> list[str]:
    """Every column of the CSV when none is chosen."""
    return [
        "number",
        "state",
        "stopped",
        "value",
        "round",
        *[f"param.{k}" for k in knobs],
        *[f"metric.{m}" for m in metrics],
        "duration",
        "started_at",
        "finished_at",
        "worker",
        "note",
        "error",
    ]


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    if isinstance(v, dict | list):
        return json.dumps(v)
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v  # a spreadsheet would run it as a formula
    return v


def to_csv(rows: list[dict[str, Any]], columns: list[str], knobs: list[str], metrics: list[str]) -> str:
    """The rows as CSV text, one column per field (as the filter names them, headed by the bare knob or metric name);
    exact values, not rounded."""
    getters = [field_getter(c, knobs, metrics) for c in columns]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    short = [c.split(".", 1)[1] if c.startswith(("param.", "metric.")) else c for c in columns]
    # a knob and a metric of the same name keep their prefixes
    w.writerow([c if short.count(n) > 1 else n for c, n in zip(columns, short, strict=True)])
    for r in rows:
        w.writerow([_cell(g(r)) for g in getters])
    return out.getvalue()
