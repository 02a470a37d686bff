"""The dashboard's read side: short, lock-free reads of the storage, and an incremental cache per experiment.

Every poll of a page asks only for what changed: trials with an id above the last one seen, the few trials that
were still QUEUED or RUNNING, and (every few seconds) the notes and stop flags of the rest. Each row carries the
revision at which the cache last saw it change, so a browser sends `since=REV` and gets back only newer rows.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from .. import values
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


def _iso_or_none(t: datetime | str | None) -> str | None:
    if isinstance(t, str):  # SQLite's text: the same ISO form as datetime.isoformat(), with a space for the T
        return t.replace(" ", "T", 1) + "Z"
    return None if t is None else t.isoformat() + "Z"


_BAD = object()  # a JSON field that cannot be read


def _decode_all(texts: list[str | None]) -> list[Any]:
    """Many JSON texts in one parse (one C call for 10,000 rows, not 10,000 calls); a text that cannot be read
    comes back as _BAD, the others as they are."""
    try:
        return _DECODER.decode("[" + ",".join(t or "{}" for t in texts) + "]")
    except ValueError:
        out = []
        for t in texts:
            try:
                out.append(_loads(t))
            except ValueError:
                out.append(_BAD)
        return out


def shown(value: Any) -> Any:
    """A knob value as the pages show it: a function, class, Keras object or tuple stored by reference (see
    `knoblab.values`) by its short name ("relu", "Adam(learning_rate=0.01)", "(64, 32)"); nothing is imported."""
    return value if values.is_plain(value) else values.display(value)


def shown_params(text: str | None, parsed: Any = None) -> dict[str, Any]:
    """A trial's stored params with every value as `shown` (the JSON parse alone when all are plain values)."""
    params = _loads(text) if parsed is None else parsed
    if text and '"$' in text:  # only stored references have "$..." keys
        params = {k: shown(v) for k, v in params.items()}
    return params


def worker_of(host: str | None, pid: int | None) -> str:
    """The process a trial ran in, as the timeline names it: `host:pid`."""
    if host is None and pid is None:
        return "–"
    return f"{host or '?'}:{pid}" if pid is not None else str(host)


def _seconds(t: datetime | None, base: datetime | None) -> float | None:
    return None if t is None or base is None else round((t - base).total_seconds(), 2)


def _row(r: Any, base: datetime | None = None, params: Any = None, metrics: Any = None) -> dict[str, Any]:
    """A trial row as the pages get it; `params` and `metrics` already parsed when given (_BAD: unreadable)."""
    value = r.value
    started, finished, beat = _dt(r.started_at), _dt(r.finished_at), _dt(r.heartbeat_at)
    stop = bool(r.stop_requested)
    params = _loads(r.params) if params is None else params
    metrics = _loads(r.metrics) if metrics is None else metrics
    bad = [name for name, x in (("params", params), ("metrics", metrics)) if x is _BAD or not isinstance(x, dict)]
    error = (r.error or "").strip().split("\n")[-1][:300] or None
    if bad:  # a row edited by hand: shown with what is readable, and why the rest is not
        error = f"table trials, row {r.id}: field {bad[0]}: cannot read it as a JSON object"
        params = params if isinstance(params, dict) else {}
        metrics = metrics if isinstance(metrics, dict) else {}
    return {
        "id": r.id,
        "number": r.number,
        "round": r.round,
        "state": r.state,
        "value": value if value is None or math.isfinite(value) else None,
        "params": shown_params(r.params, params),
        "metrics": metrics,
        "started_at": _iso_or_none(r.started_at),
        "finished_at": _iso_or_none(r.finished_at),
        "duration": _duration(started, finished, beat),
        # start and end (the last heartbeat while running) in seconds after the experiment was created
        "t": None if started is None else [_seconds(started, base), _seconds(finished or beat, base)],
        "host": r.host,
        "pid": r.pid,
        "worker": worker_of(r.host, r.pid),
        "note": r.note,
        "stop_requested": stop,
        # ended because someone asked (the dashboard's Stop, `request_stop`), not by the scheduler
        "stopped": stop and r.state == TrialState.PRUNED.value,
        "error": error,
        "last": None,  # the last report {"step", "metrics"} of a trial that did not complete, set by the cache
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
    trials.c.pid,
    trials.c.note,
    trials.c.stop_requested,
    trials.c.error,
]

# trials whose metrics the table shows from their last report: they never returned a full set
_FROM_LAST_REPORT = (TrialState.RUNNING.value, TrialState.PRUNED.value, TrialState.FAILED.value)


def _chunks(ids: list[int], n: int = 500):
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


def _last_reports(conn: sa.Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The last reported step of each trial: {trial_id: {"step": s, "metrics": {...}}}."""
    out: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(ids))):
        last = (
            sa.select(reports.c.trial_id, sa.func.max(reports.c.step).label("step"))
            .where(reports.c.trial_id.in_(chunk))
            .group_by(reports.c.trial_id)
            .subquery()
        )
        rows = conn.execute(
            sa.select(reports.c.trial_id, reports.c.step, reports.c.metrics).join(
                last, sa.and_(reports.c.trial_id == last.c.trial_id, reports.c.step == last.c.step)
            )
        ).all()
        for trial_id, step, metrics in rows:
            out[trial_id] = {"step": step, "metrics": _loads(metrics)}
    return out


class Curve:
    """One trial's reported metrics, step by step: `steps` and, per metric, the values (None where missing or not a
    finite number)."""

    __slots__ = ("steps", "values")

    def __init__(self, steps: list[int], values: dict[str, list[Any]]) -> None:  # float | None
        self.steps = steps
        self.values = values


_NUMBERS = frozenset((int, float))  # bool and text are not numbers here; NaN and infinities are parsed as None


def _raw_rows(conn: sa.Connection, statement: sa.Select) -> list[tuple]:
    """The rows of a select as plain tuples from the driver's cursor (SQLAlchemy's Row objects cost more than the
    query when there are 200,000 of them), in the connection's transaction."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})  # IN (...) too
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[k] for k in compiled.positiontup or ())
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _reports_of(trial_ids: list[int]) -> sa.Select:
    return (
        sa.select(reports.c.trial_id, reports.c.step, reports.c.metrics)
        .where(reports.c.trial_id.in_(trial_ids))
        .order_by(reports.c.trial_id, reports.c.step)
    )


def _curves(rows: list[Any]) -> dict[int, Curve]:
    """Curves from report rows (trial_id, step, metrics JSON) in trial and step order.

    Reading every report of 10,000 trials is one pass: the metrics texts are parsed as one JSON array (in C), then
    split per trial and per metric, so the cost stays a small multiple of the bytes read."""
    if not rows:
        return {}
    parsed = _DECODER.decode("[" + ",".join(r[2] or "{}" for r in rows) + "]")
    out: dict[int, Curve] = {}
    ids = [r[0] for r in rows]
    starts = [0] + [i for i in range(1, len(ids)) if ids[i] != ids[i - 1]]
    for start, end in zip(starts, starts[1:] + [len(ids)], strict=True):
        dicts = parsed[start:end]
        names = dict.fromkeys(itertools.chain.from_iterable(dicts))
        out[ids[start]] = Curve(
            [r[1] for r in rows[start:end]],
            {
                name: [v if v.__class__ in _NUMBERS else None for v in map(operator.methodcaller("get", name), dicts)]
                for name in names
            },
        )
    return out


class ExperimentCache:
    """The trials of one experiment as JSON-ready rows, refreshed incrementally (at most every `min_interval` s).

    Reports (learning curves) are not kept: a page asks for the few hundred curves it draws, read when asked
    (`reports_of`), and how far each trial got (`report_counts`) is one grouped query."""

    def __init__(self, data: Data, experiment_id: int, created_at: datetime | None = None):
        self.data = data
        self.experiment_id = experiment_id
        self.base = _dt(created_at)
        self.rows: dict[int, dict[str, Any]] = {}
        self.row_rev: dict[int, int] = {}
        self.rev = 0
        self.max_id = 0
        self.unfinished: set[int] = set()
        self.workers: list[str] = []
        self.worker_index: dict[str, int] = {}
        self._memo: dict[tuple, Any] = {}
        self.lock = threading.Lock()
        self._refreshed = 0.0
        self._swept = 0.0

    def _put(self, row: dict[str, Any]) -> None:
        if self.rows.get(row["id"]) != row:
            self.rev += 1
            self.rows[row["id"]] = row
            self.row_rev[row["id"]] = self.rev
        if row["worker"] not in self.worker_index:
            self.worker_index[row["worker"]] = len(self.workers)
            self.workers.append(row["worker"])
        if row["state"] in UNFINISHED:
            self.unfinished.add(row["id"])
        else:
            self.unfinished.discard(row["id"])

    def _read_rows(self, conn: sa.Connection, where) -> list[dict[str, Any]]:
        """Rows matching `where`, with the last report of those that did not complete."""
        found = conn.execute(sa.select(*_ROW_COLUMNS).where(where).order_by(trials.c.id)).all()
        lasts = _last_reports(conn, [r.id for r in found if r.state in _FROM_LAST_REPORT])
        params, metrics = _decode_all([r.params for r in found]), _decode_all([r.metrics for r in found])
        rows = []
        for r, p, m in zip(found, params, metrics, strict=True):
            row = _row(r, self.base, p, m)
            row["last"] = lasts.get(r.id)
            rows.append(row)
        return rows

    def _take(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._put(row)
            self.max_id = max(self.max_id, row["id"])

    def refresh(self, force: bool = False) -> None:
        with self.lock:
            t = time.monotonic()
            if not force and t - self._refreshed < self.data.min_interval:
                return
            sweep = force or t - self._swept >= self.data.sweep_interval
            eid = self.experiment_id

            def query(conn: sa.Connection):
                rows = self._read_rows(conn, (trials.c.experiment_id == eid) & (trials.c.id > self.max_id))
                if self.unfinished:
                    rows += self._read_rows(conn, trials.c.id.in_(sorted(self.unfinished)))
                flags: Sequence[Any] = []
                if sweep:
                    flags = conn.execute(
                        sa.select(trials.c.id, trials.c.note, trials.c.stop_requested).where(
                            trials.c.experiment_id == eid
                        )
                    ).all()
                return rows, flags

            rows, flags = self.data.read(query)
            self._take(rows)
            for trial_id, note, stop in flags:
                row = self.rows.get(trial_id)
                if row is not None and (row["note"] != note or row["stop_requested"] != bool(stop)):
                    stopped = bool(stop) and row["state"] == TrialState.PRUNED.value
                    self._put({**row, "note": note, "stop_requested": bool(stop), "stopped": stopped})
            self._refreshed = t
            if sweep:
                self._swept = t

    def invalidate(self, trial_id: int) -> None:
        """Re-reads one trial now (after the dashboard itself changed it)."""
        with self.lock:
            self._take(self.data.read(lambda c: self._read_rows(c, trials.c.id == trial_id)))

    def report_counts(self) -> dict[int, tuple[int, int]]:
        """{trial_id: (reports, last step)} of every trial that reported, in one grouped query."""
        eid = self.experiment_id
        return {
            trial_id: (n, last)
            for trial_id, n, last in self.data.read(
                lambda conn: _raw_rows(
                    conn,
                    sa.select(reports.c.trial_id, sa.func.count(), sa.func.max(reports.c.step))
                    .join(trials, trials.c.id == reports.c.trial_id)
                    .where(trials.c.experiment_id == eid)
                    .group_by(reports.c.trial_id),
                )
            )
        }

    def reports_of(self, trial_ids: Iterable[int]) -> dict[int, Curve]:
        """The reported curves of these trials, read now."""
        ids = sorted(set(trial_ids))

        def query(conn: sa.Connection) -> dict[int, Curve]:
            out: dict[int, Curve] = {}
            for chunk in _chunks(ids):
                out.update(_curves(_raw_rows(conn, _reports_of(chunk))))
            return out

        return self.data.read(query) if ids else {}

    def memo(self, rev: int, key: tuple, compute):
        """compute() once per key at revision `rev` (read before the data compute uses): a curves selection asked
        again by another page or poll costs nothing."""
        key = (rev, *key)
        hit = self._memo.get(key)
        if hit is None:
            hit = compute()
            self._memo = {k: v for k, v in self._memo.items() if k[0] == rev}
            if len(self._memo) >= 8:
                self._memo.clear()
            self._memo[key] = hit
        return hit

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
                    sa.func.sum(sa.case((trials.c.stop_requested, 1), else_=0)),
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
            rounds = stopped = 0
            for _, state, n, vmin, vmax, started, finished, beat, rnd, stops in by_exp.get(e.id, []):
                counts[state] = n
                if state == TrialState.COMPLETE.value:
                    best = vmin if e.direction == "min" else vmax
                if state == TrialState.PRUNED.value:
                    stopped = int(stops or 0)
                started, finished, beat = _dt(started), _dt(finished), _dt(beat)
                if started is not None:
                    first = started if first is None else min(first, started)
                for end in (finished, beat):
                    if end is not None:
                        last = end if last is None else max(last, end)
                rounds = max(rounds, (rnd or 0) + 1)
            attrs = _loads(e.attrs) if e.attrs else {}
            stored = attrs.get("rounds", [])  # see knoblab.analysis.rounds
            rounds = max(rounds, len(stored) + 1 if isinstance(stored, list) else 1)
            running = counts.get(TrialState.RUNNING.value, 0) > 0
            note = attrs.get("note") if isinstance(attrs.get("note"), str) else None
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
                        "stopped": stopped,
                        "n_trials": sum(counts.values()),
                        "best": best,
                        "first_start": first,
                        "last_activity": last,
                        "elapsed": (last - first).total_seconds() if first and last else None,
                        "running": running,
                        "note": note,
                    }
                )
            )
        return out

    def cache(self, experiment_id: int) -> ExperimentCache:
        with self._lock:
            c = self._caches.get(experiment_id)
        if c is None:
            row = self.experiment_row(experiment_id)
            with self._lock:
                c = self._caches.get(experiment_id)
                if c is None:
                    c = self._caches[experiment_id] = ExperimentCache(self, experiment_id, row and row.created_at)
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
