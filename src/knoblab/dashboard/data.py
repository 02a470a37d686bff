"""The dashboard's read side: short, lock-free reads of the storage, and an incremental cache per experiment.

Every poll of a page asks only for what changed: trials with an id above the last one seen, the few trials that
were still QUEUED or RUNNING, and (every few seconds) the notes and stop flags of the rest. Each row carries the
revision at which the cache last saw it change, so a browser sends `since=REV` and gets back only newer rows.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..storage.sql import SQLStorage, experiments, reports, trials
from ..trial import TrialState

UNFINISHED = (TrialState.QUEUED.value, TrialState.RUNNING.value)
STATES = [s.value for s in TrialState]


def clean(x: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None (browsers' JSON.parse rejects them), datetimes ISO text."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [clean(v) for v in x]
    if isinstance(x, datetime):
        return x.isoformat() + "Z"
    return x


def to_json(obj: Any) -> str:
    """Compact JSON; the cache's rows are cleaned once when read, so most payloads skip the slow walk."""
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False, default=_iso)
    except ValueError:  # a NaN or infinity somewhere
        return json.dumps(clean(obj), separators=(",", ":"), allow_nan=False)


def _iso(x: Any) -> Any:
    if isinstance(x, datetime):
        return x.isoformat() + "Z"
    raise TypeError(f"{type(x).__name__} is not JSON-serializable")


def read_engine(storage: SQLStorage) -> sa.Engine:
    """An engine for reads that never block a search writing the same file.

    SQLStorage opens every transaction with BEGIN IMMEDIATE (the write lock), reads included. For a SQLite file the
    dashboard opens its own engine whose transactions are plain deferred BEGINs: under WAL a reader sees a consistent
    snapshot and neither waits for a writer nor makes one wait. PostgreSQL reads already behave so.
    """
    url = storage.engine.url
    if not storage.is_sqlite or url.database in (None, "", ":memory:"):
        return storage.engine
    engine = sa.create_engine(url, connect_args={"timeout": 60.0, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 60000")
        cur.execute("PRAGMA query_only = ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN")

    return engine


def _duration(started: datetime | None, finished: datetime | None, heartbeat: datetime | None) -> float | None:
    end = finished or heartbeat
    if started is None or end is None:
        return None
    return (end - started).total_seconds()


_DECODER = json.JSONDecoder(parse_constant=lambda _: None)


def _loads(text: str | None) -> Any:
    """JSON text as stored, with NaN and infinities read as None (the browser's JSON.parse rejects them)."""
    return _DECODER.decode(text) if text else {}


def _dt(t: datetime | str | None) -> datetime | None:
    # SQLite hands back text (parsed here in C, much faster than SQLAlchemy's regex); PostgreSQL a datetime
    return datetime.fromisoformat(t) if isinstance(t, str) else t


def _iso_or_none(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat() + "Z"


def _row(r: Any) -> dict[str, Any]:
    value = r.value
    started, finished, beat = _dt(r.started_at), _dt(r.finished_at), _dt(r.heartbeat_at)
    return {
        "id": r.id,
        "number": r.number,
        "round": r.round,
        "state": r.state,
        "value": value if value is None or math.isfinite(value) else None,
        "params": _loads(r.params),
        "metrics": _loads(r.metrics),
        "started_at": _iso_or_none(started),
        "finished_at": _iso_or_none(finished),
        "duration": _duration(started, finished, beat),
        "host": r.host,
        "note": r.note,
        "stop_requested": bool(r.stop_requested),
        "error": (r.error or "").strip().split("\n")[-1][:300] or None,
    }


_ROW_COLUMNS = [
    trials.c.id,
    trials.c.number,
    trials.c.round,
    trials.c.state,
    trials.c.value,
    trials.c.params,
    trials.c.metrics,
    sa.type_coerce(trials.c.started_at, sa.String).label("started_at"),
    sa.type_coerce(trials.c.finished_at, sa.String).label("finished_at"),
    sa.type_coerce(trials.c.heartbeat_at, sa.String).label("heartbeat_at"),
    trials.c.host,
    trials.c.note,
    trials.c.stop_requested,
    trials.c.error,
]


class ExperimentCache:
    """The trials of one experiment as JSON-ready rows, refreshed incrementally (at most every `min_interval` s)."""

    def __init__(self, data: Data, experiment_id: int):
        self.data = data
        self.experiment_id = experiment_id
        self.rows: dict[int, dict[str, Any]] = {}
        self.row_rev: dict[int, int] = {}
        self.rev = 0
        self.max_id = 0
        self.unfinished: set[int] = set()
        self.lock = threading.Lock()
        self._refreshed = 0.0
        self._swept = 0.0

    def _put(self, row: dict[str, Any]) -> None:
        if self.rows.get(row["id"]) != row:
            self.rev += 1
            self.rows[row["id"]] = row
            self.row_rev[row["id"]] = self.rev
        if row["state"] in UNFINISHED:
            self.unfinished.add(row["id"])
        else:
            self.unfinished.discard(row["id"])

    def refresh(self, force: bool = False) -> None:
        with self.lock:
            t = time.monotonic()
            if not force and t - self._refreshed < self.data.min_interval:
                return
            sweep = force or t - self._swept >= self.data.sweep_interval
            eid = self.experiment_id

            def query(conn: sa.Connection):
                new = conn.execute(
                    sa.select(*_ROW_COLUMNS)
                    .where(trials.c.experiment_id == eid, trials.c.id > self.max_id)
                    .order_by(trials.c.id)
                ).all()
                changed = []
                if self.unfinished:
                    ids = sorted(self.unfinished)
                    for i in range(0, len(ids), 500):
                        changed += conn.execute(sa.select(*_ROW_COLUMNS).where(trials.c.id.in_(ids[i : i + 500]))).all()
                flags = []
                if sweep:
                    flags = conn.execute(
                        sa.select(trials.c.id, trials.c.note, trials.c.stop_requested).where(
                            trials.c.experiment_id == eid
                        )
                    ).all()
                return new, changed, flags

            new, changed, flags = self.data.read(query)
            for r in (*new, *changed):
                self._put(_row(r))
                self.max_id = max(self.max_id, r.id)
            for trial_id, note, stop in flags:
                row = self.rows.get(trial_id)
                if row is not None and (row["note"] != note or row["stop_requested"] != bool(stop)):
                    self._put({**row, "note": note, "stop_requested": bool(stop)})
            self._refreshed = t
            if sweep:
                self._swept = t

    def invalidate(self, trial_id: int) -> None:
        """Re-reads one trial now (after the dashboard itself changed it)."""
        with self.lock:
            r = self.data.read(lambda c: c.execute(sa.select(*_ROW_COLUMNS).where(trials.c.id == trial_id)).first())
            if r is not None:
                self._put(_row(r))
                self.max_id = max(self.max_id, r.id)

    def changed_since(self, since: int) -> list[dict[str, Any]]:
        with self.lock:
            if since <= 0:
                return sorted(self.rows.values(), key=lambda r: r["number"])
            return sorted((self.rows[i] for i, v in self.row_rev.items() if v > since), key=lambda r: r["number"])

    def all_rows(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.rows.values())


class Data:
    """Everything the dashboard reads, over one storage; shared by every request and every browser."""

    def __init__(self, storage: SQLStorage, *, min_interval: float = 0.4, sweep_interval: float = 3.0):
        self.storage = storage
        self.engine = read_engine(storage)
        self.min_interval = min_interval
        self.sweep_interval = sweep_interval
        self.epoch = uuid.uuid4().hex[:12]  # a new server: browsers drop their revisions and reload everything
        self._caches: dict[int, ExperimentCache] = {}
        self._lock = threading.Lock()

    def read(self, fn):
        if self.engine is self.storage.engine:
            return self.storage._read(fn)
        with self.engine.connect() as conn:
            return fn(conn)

    def close(self) -> None:
        if self.engine is not self.storage.engine:
            self.engine.dispose()

    # ---- experiments ----
    def experiment_rows(self) -> list[Any]:
        return self.read(lambda c: c.execute(sa.select(experiments).order_by(experiments.c.id)).all())

    def experiment_row(self, experiment_id: int) -> Any | None:
        return self.read(lambda c: c.execute(sa.select(experiments).where(experiments.c.id == experiment_id)).first())

    def summaries(self) -> list[dict[str, Any]]:
        """Per experiment: trials by state, rounds, best value, first start and last activity, in two queries."""

        def query(conn: sa.Connection):
            exps = conn.execute(sa.select(experiments).order_by(experiments.c.id)).all()
            stats = conn.execute(
                sa.select(
                    trials.c.experiment_id,
                    trials.c.state,
                    sa.func.count(),
                    sa.func.min(trials.c.value),
                    sa.func.max(trials.c.value),
                    sa.func.min(trials.c.started_at),
                    sa.func.max(trials.c.finished_at),
                    sa.func.max(trials.c.heartbeat_at),
                    sa.func.max(trials.c.round),
                ).group_by(trials.c.experiment_id, trials.c.state)
            ).all()
            return exps, stats

        exps, stats = self.read(query)
        by_exp: dict[int, list] = {}
        for s in stats:
            by_exp.setdefault(s[0], []).append(s)
        out = []
        for e in exps:
            counts: dict[str, int] = {}
            best = first = last = None
            rounds = 0
            for _, state, n, vmin, vmax, started, finished, beat, rnd in by_exp.get(e.id, []):
                counts[state] = n
                if state == TrialState.COMPLETE.value:
                    best = vmin if e.direction == "min" else vmax
                if started is not None:
                    first = started if first is None else min(first, started)
                for end in (finished, beat):
                    if end is not None:
                        last = end if last is None else max(last, end)
                rounds = max(rounds, (rnd or 0) + 1)
            stored = _loads(e.attrs).get("rounds", []) if e.attrs else []  # see knoblab.analysis.rounds
            rounds = max(rounds, len(stored) + 1 if isinstance(stored, list) else 1)
            running = counts.get(TrialState.RUNNING.value, 0) > 0
            out.append(
                clean(
                    {
                        "id": e.id,
                        "name": e.name,
                        "metric": e.metric,
                        "direction": e.direction,
                        "created_at": e.created_at,
                        "rounds": max(rounds, 1),
                        "counts": counts,
                        "n_trials": sum(counts.values()),
                        "best": best,
                        "first_start": first,
                        "last_activity": last,
                        "elapsed": (last - first).total_seconds() if first and last else None,
                        "running": running,
                    }
                )
            )
        return out

    def cache(self, experiment_id: int) -> ExperimentCache:
        with self._lock:
            c = self._caches.get(experiment_id)
            if c is None:
                c = self._caches[experiment_id] = ExperimentCache(self, experiment_id)
        c.refresh()
        return c

    # ---- trials ----
    def trial_row(self, trial_id: int) -> Any | None:
        return self.read(lambda c: c.execute(sa.select(trials).where(trials.c.id == trial_id)).first())

    def reports(self, trial_ids: Iterable[int], after_step: int = -1) -> dict[int, list[dict[str, Any]]]:
        """Reported metrics per trial, each `{"step": s, **metrics}`, only steps after `after_step`."""
        ids = list(trial_ids)
        out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if not ids:
            return out

        def query(conn: sa.Connection):
            return conn.execute(
                sa.select(reports.c.trial_id, reports.c.step, reports.c.metrics)
                .where(reports.c.trial_id.in_(ids), reports.c.step > after_step)
                .order_by(reports.c.trial_id, reports.c.step)
            ).all()

        for trial_id, step, metrics in self.read(query):
            out[trial_id].append({"step": step, **_loads(metrics)})
        return out


# ---- sorting and filtering the trials table ----
_FILTER = re.compile(r"\s*([A-Za-z_][\w.:/-]*)\s*(<=|>=|!=|==|=|<|>|~)\s*(\"[^\"]*\"|'[^']*'|[^,\s]+)\s*,?")


class FilterError(ValueError):
    """A filter expression the table cannot read, with the part at fault."""


def parse_filter(text: str) -> list[tuple[str, str, Any]]:
    """`lr<0.01, optimizer=adam note~retry` -> [(field, op, value)]; a value is a number when it reads as one."""
    out = []
    pos, text = 0, (text or "").strip()
    while pos < len(text):
        m = _FILTER.match(text, pos)
        if not m:
            raise FilterError(
                f"filter: cannot read {text[pos:]!r}; write conditions like lr<0.01, optimizer=adam, note~text "
                "(operators = != < <= > >= ~)"
            )
        field, op, raw = m.groups()
        if raw[:1] in "\"'":
            value: Any = raw[1:-1]
        else:
            try:
                value = float(raw)
            except ValueError:
                value = {"true": True, "false": False, "none": None, "null": None}.get(raw.lower(), raw)
        out.append((field, "=" if op == "==" else op, value))
        pos = m.end()
    return out


BUILTIN = ("number", "value", "state", "duration", "round", "note", "host", "error", "id")


def field_getter(field: str, knobs: Iterable[str], metrics: Iterable[str]):
    """A function row -> value for a field name: a knob, else a metric, else a built-in column.
    `param.NAME` and `metric.NAME` pick one explicitly."""
    knobs, metrics = set(knobs), set(metrics)
    if field.startswith(("param.", "knob.")):
        name = field.split(".", 1)[1]
        return lambda r: r["params"].get(name)
    if field.startswith("metric."):
        name = field.split(".", 1)[1]
        return lambda r: r["metrics"].get(name)
    if field in knobs:
        return lambda r: r["params"].get(field)
    if field in metrics:
        return lambda r: r["metrics"].get(field)
    if field in BUILTIN:
        return lambda r: r.get(field)
    raise FilterError(
        f"filter: no knob, metric or column named {field!r}; knobs: {sorted(knobs)}, metrics: {sorted(metrics)}, "
        f"columns: {list(BUILTIN)}"
    )


def _matches(x: Any, op: str, v: Any) -> bool:
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


def table(
    rows: list[dict[str, Any]],
    *,
    knobs: list[str],
    metrics: list[str],
    states: list[str] | None,
    filter_text: str,
    sort: str,
    descending: bool,
    offset: int,
    limit: int,
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page) of the trials table."""
    if states:
        wanted = set(states)
        rows = [r for r in rows if r["state"] in wanted]
    for field, op, value in parse_filter(filter_text):
        get = field_getter(field, knobs, metrics)
        rows = [r for r in rows if _matches(get(r), op, value)]
    get = field_getter(sort or "number", knobs, metrics)
    key = sort_key(get)
    if descending:  # None stays last either way
        present = [r for r in rows if get(r) is not None]
        absent = [r for r in rows if get(r) is None]
        rows = sorted(present, key=key, reverse=True) + sorted(absent, key=lambda r: r["number"])
    else:
        rows = sorted(rows, key=lambda r: (key(r), r["number"]))
    return len(rows), rows[offset : offset + limit]
