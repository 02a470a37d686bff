"""SQL storage through SQLAlchemy Core: SQLite by default (WAL, busy timeout, BEGIN IMMEDIATE), any SQLAlchemy URL.

Every change is its own short transaction, committed when it happens. Values are JSON text, never pickles.
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, IntegrityError, NoSuchModuleError, OperationalError

from .. import values
from ..trial import FrozenTrial, TrialState
from .base import SCHEMA_VERSION, DuplicatePoint, ExperimentRecord, StorageError

T = TypeVar("T")

metadata = sa.MetaData()

meta_table = sa.Table(
    "knoblab_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("metric", sa.String(255), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("space", sa.Text, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("attrs", sa.Text, nullable=False, default="{}"),
    sa.Column("objectives", sa.Text, nullable=True),  # schema 2: several objectives, outcome constraints (JSON)
)

trials = sa.Table(
    "trials",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment_id", sa.Integer, sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("round", sa.Integer, nullable=False, default=0),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("metrics", sa.Text, nullable=False, default="{}"),
    sa.Column("seed", sa.BigInteger, nullable=True),
    sa.Column("started_at", sa.DateTime, nullable=True),
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("heartbeat_at", sa.DateTime, nullable=True),
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("attrs", sa.Text, nullable=False, default="{}"),
    sa.Column("stop_requested", sa.Boolean, nullable=False, default=False),
    sa.Column("objective_values", sa.Text, nullable=True),  # schema 2: the vector of several objectives (JSON)
    sa.UniqueConstraint("experiment_id", "number", name="uq_trial_number"),
    sa.Index("ix_trials_experiment_state", "experiment_id", "state"),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("trial_id", sa.Integer, sa.ForeignKey("trials.id", ondelete="CASCADE"), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("trial_id", "step", name="uq_report_step"),
)


def now() -> datetime:
    """Naive UTC, the one clock every row uses."""
    return datetime.now(UTC).replace(tzinfo=None)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, datetime):
        return o.isoformat()
    try:  # a function, a class, a Keras object: its stored form (knoblab.values), never a pickle
        return values.encode(o)
    except ValueError:
        raise TypeError(f"{type(o).__name__} is not JSON-serializable") from None


def _json_safe(obj: Any) -> Any:
    """NaN and infinities become null: they are not JSON, and other readers (PostgreSQL, a browser) reject them."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return _json_safe(obj.item())
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_json_safe(obj), default=_json_default, allow_nan=False)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else {}


class CorruptRow(StorageError):
    """A stored row whose field cannot be read; the message names the table, row and field."""


class CorruptRowWarning(UserWarning):
    """A row of the database could not be read (it was edited by hand, or written by something else); the message
    names the table, row and field, and what knoblab did with it."""


def _read_field(where: str, name: str, text: Any, kind: type) -> Any:
    """A JSON field of a row, or CorruptRow naming the table, row and field."""
    try:
        value = loads(text)
    except (TypeError, ValueError) as e:
        raise CorruptRow(f"{where}: field {name}: cannot read it as JSON ({type(e).__name__}: {e})") from None
    if not isinstance(value, kind):
        raise CorruptRow(f"{where}: field {name}: expected a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL: show it as given, but for what looks like a password (user:secret@host)
        text = str(url)
        if "@" not in text:
            return text
        head, _, tail = text.rpartition("@")
        scheme, sep, userinfo = head.rpartition("://") if "://" in head else ("", "", head)
        return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{tail}" if ":" in userinfo else text


def _finite_or_none(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


_is_running = trials.c.state == TrialState.RUNNING.value


def _lock_experiment(conn: sa.Connection, experiment_id: int) -> None:
    """Serializes trial creation per experiment on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
    conn.execute(sa.select(experiments.c.id).where(experiments.c.id == experiment_id).with_for_update())


def _attr_is_true(conn: sa.Connection, key: str) -> sa.ColumnElement[bool]:
    """A trial's attrs[key] is JSON true, read as a JSON value by the database: matching the text would also take
    a user's nested {"key": true} for the flag, and miss the flag written without the space after the colon."""
    if conn.dialect.name == "sqlite":
        return sa.func.json_type(trials.c.attrs, f"$.{key}") == "true"
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return sa.cast(trials.c.attrs, JSONB).contains({key: True})
    return sa.type_coerce(trials.c.attrs, sa.JSON)[key].as_boolean()  # other SQLAlchemy back ends: their JSON path


def _added_since(conn: sa.Connection, experiment_id: int, round: int, after: int, params: dict) -> bool:
    """Whether a trial of `round` numbered above `after`, not interrupted, has these params (compared as
    canonical JSON, so 1, 1.0 and true stay apart)."""
    key = _canonical(dumps(values.encode_params(params)))
    rows = conn.execute(
        sa.select(trials.c.params, trials.c.attrs).where(
            trials.c.experiment_id == experiment_id, trials.c.number > after, trials.c.round == round
        )
    )
    return any(_canonical(p) == key and not loads(a).get("interrupted") for p, a in rows)


def _canonical(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True)


def _count_used(conn: sa.Connection, experiment_id: int) -> int:
    """Trials that count against n_trials: all but QUEUED ones, interrupted ones (see `requeue`) and failed
    attempts that were retried (`optimize(retries=...)`: a configuration counts once). Two counts
    that the (experiment_id, state) index answers, so the check stays cheap in a long experiment."""
    mine = trials.c.experiment_id == experiment_id
    started = sa.select(sa.func.count()).select_from(trials).where(mine, trials.c.state != TrialState.QUEUED.value)
    interrupted = (
        sa.select(sa.func.count())
        .select_from(trials)
        .where(
            mine,
            trials.c.state == TrialState.FAILED.value,
            sa.or_(_attr_is_true(conn, "interrupted"), _attr_is_true(conn, "retried")),
        )
    )
    return int(conn.execute(started).scalar() or 0) - int(conn.execute(interrupted).scalar() or 0)


# columns added by each schema version (table, column, SQL type), for databases an older knoblab created
_ADDED_COLUMNS = {2: [("experiments", "objectives", "TEXT"), ("trials", "objective_values", "TEXT")]}


def _migrate(conn: sa.Connection, version: int) -> None:
    """Brings a database written by an older schema up to SCHEMA_VERSION inside the opening transaction: only
    columns are added (nullable, so every stored row reads as before), and a column another process added first
    is left as it is. An older knoblab refuses the migrated database (its schema version is newer)."""
    for v in range(version + 1, SCHEMA_VERSION + 1):
        for table, column, kind in _ADDED_COLUMNS.get(v, []):
            present = {c["name"] for c in sa.inspect(conn).get_columns(table)}
            if column not in present:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    conn.execute(meta_table.update().where(meta_table.c.key == "schema_version").values(value=str(SCHEMA_VERSION)))


class SQLStorage:
    """Storage over any SQLAlchemy URL: `sqlite:///knoblab.db` (the default) or `postgresql+psycopg://...`."""

    def __init__(self, url: str = "sqlite:///knoblab.db", *, busy_timeout: float = 60.0, retries: int = 20):
        self.url = url
        self._retries = retries
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StorageError(
                f"storage URL {safe_url(url)!r} is not a database URL; e.g. sqlite:///knoblab.db"
            ) from None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            path = parsed.database
            if path and path.startswith("file:") and str(parsed.query.get("uri", "")).lower() in ("true", "1"):
                path = path[len("file:") :]  # an SQLite URI filename: sqlite:///file:k.db?mode=ro&uri=true
            if path and path != ":memory:":
                folder = Path(path).expanduser().resolve().parent
                if not folder.is_dir():
                    raise StorageError(f"storage {safe_url(url)}: folder {folder} does not exist")
            kwargs["connect_args"] = {"timeout": busy_timeout, "check_same_thread": False}
            if not path or path == ":memory:":
                kwargs["poolclass"] = sa.pool.StaticPool
        else:
            kwargs["pool_pre_ping"] = True
        try:
            self.engine = sa.create_engine(parsed, **kwargs)
        except (NoSuchModuleError, ModuleNotFoundError, ImportError) as e:
            raise StorageError(
                f"storage {safe_url(url)}: no driver for it ({e}); for PostgreSQL install knoblab[postgres]"
            ) from None
        if self.is_sqlite:
            self._setup_sqlite(busy_timeout)
        self._create_schema()

    # ---- set-up ----
    def _setup_sqlite(self, busy_timeout: float) -> None:
        @sa.event.listens_for(self.engine, "connect")
        def on_connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            try:
                cur.execute("PRAGMA journal_mode = WAL")
            except Exception:  # a read-only file keeps its journal mode
                pass
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.close()

        @sa.event.listens_for(self.engine, "begin")
        def on_begin(conn):
            # writers take the write lock up front, so two never deadlock upgrading a read lock; readers take
            # none (WAL lets them read a snapshot while one process writes)
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("knoblab_read") else "BEGIN IMMEDIATE")

    def _create_schema(self) -> None:
        def create(conn: sa.Connection) -> None:
            metadata.create_all(conn)
            row = conn.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
            if row is None:
                conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StorageError(
                    f"storage {safe_url(self.url)} has schema version {row[0]}, newer than this knoblab's "
                    f"{SCHEMA_VERSION}; upgrade knoblab"
                )
            elif int(row[0]) < SCHEMA_VERSION:
                _migrate(conn, int(row[0]))

        try:
            self._write(create)
        except StorageError:
            raise
        except DatabaseError as e:
            raise StorageError(self._explain(e)) from None

    def _explain(self, e: Exception) -> str:
        text = str(getattr(e, "orig", e))
        where = f"storage {safe_url(self.url)}"
        if "file is not a database" in text or "malformed" in text:
            return f"{where}: the file is not a readable SQLite database ({text}); nothing was written to it"
        if "readonly" in text or "read-only" in text:
            return f"{where}: the database is read-only ({text})"
        if "disk is full" in text or "database or disk is full" in text:
            return f"{where}: the disk is full ({text}); what was stored before is intact"
        if "unable to open" in text:
            return f"{where}: cannot open the database file ({text})"
        return f"{where}: {text}"

    # ---- transactions with retries ----
    def _write(self, fn: Callable[[sa.Connection], T]) -> T:
        delay = 0.01
        for attempt in range(self._retries + 1):
            try:
                with self.engine.begin() as conn:
                    return fn(conn)
            except OperationalError as e:
                text = str(e.orig)
                transient = "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text
                if not transient or attempt == self._retries:
                    raise StorageError(self._explain(e)) from None
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
            except DatabaseError as e:
                if isinstance(e, IntegrityError):
                    raise
                raise StorageError(self._explain(e)) from None
        raise AssertionError("unreachable")

    def _read(self, fn: Callable[[sa.Connection], T]) -> T:
        if self.is_sqlite:  # our begin hook takes a write lock; plain reads need none
            try:
                with self.engine.connect().execution_options(knoblab_read=True) as conn:
                    return fn(conn)
            except DatabaseError as e:
                raise StorageError(self._explain(e)) from None
        return self._write(fn)

    # ---- experiments ----
    @staticmethod
    def _experiment(row: Any) -> ExperimentRecord:
        where = f"table experiments, row {row.id} (experiment {row.name!r})"
        return ExperimentRecord(
            id=row.id,
            name=row.name,
            metric=row.metric,
            direction=row.direction,
            space=_read_field(where, "space", row.space, dict),
            seed=row.seed,
            created_at=row.created_at,
            attrs=_read_field(where, "attrs", row.attrs, dict),
            objectives=_read_field(where, "objectives", row.objectives, dict) if row.objectives else None,
        )

    def create_experiment(self, name, metric, direction, space, seed, attrs=None, objectives=None) -> ExperimentRecord:
        """Stores a new experiment and returns its record."""

        def insert(conn: sa.Connection) -> None:
            conn.execute(
                experiments.insert().values(
                    name=name,
                    metric=metric,
                    direction=direction,
                    space=dumps(space),
                    seed=seed,
                    created_at=now(),
                    attrs=dumps(attrs or {}),
                    objectives=dumps(objectives) if objectives else None,
                )
            )

        try:
            self._write(insert)
        except IntegrityError:
            pass  # another process created it first: use theirs
        record = self.get_experiment(name)
        assert record is not None
        return record

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        """The experiment of that name, or None."""
        row = self._read(lambda c: c.execute(sa.select(experiments).where(experiments.c.name == name)).first())
        return self._experiment(row) if row else None

    def list_experiments(self) -> list[ExperimentRecord]:
        """Every readable experiment; one whose row cannot be read is left out with a CorruptRowWarning naming it."""
        rows = self._read(lambda c: c.execute(sa.select(experiments).order_by(experiments.c.id)).all())
        out = []
        for r in rows:
            try:
                out.append(self._experiment(r))
            except CorruptRow as e:
                warnings.warn(CorruptRowWarning(f"{e}; the experiment is left out"), stacklevel=2)
        return out

    def set_experiment_attrs(self, experiment_id: int, attrs: dict[str, Any]) -> None:
        """Merges these attrs into the experiment's."""
        self.update_experiment_attrs(experiment_id, lambda _: attrs)

    def update_experiment_attrs(
        self, experiment_id: int, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Merges `change(current attrs)` into the experiment's attrs in one write transaction (the row locked
        meanwhile), so two processes appending to the same list (rounds, test looks) cannot lose one; returns the
        merged attrs. `change` may run more than once (on a retried transaction): keep it free of side effects."""

        def update(conn: sa.Connection) -> dict[str, Any]:
            query = sa.select(experiments.c.attrs).where(experiments.c.id == experiment_id)
            row = conn.execute(query if self.is_sqlite else query.with_for_update()).first()
            if row is None:
                raise StorageError(f"experiment id {experiment_id} is not in {self!r}")
            current = loads(row[0])
            merged = {**current, **change(dict(current))}
            conn.execute(experiments.update().where(experiments.c.id == experiment_id).values(attrs=dumps(merged)))
            return merged

        return self._write(update)

    def experiment_summaries(self) -> list[dict[str, Any]]:
        """Per experiment: trial counts by state, for `knoblab ls` and the dashboard."""

        def query(conn: sa.Connection):
            q = sa.select(trials.c.experiment_id, trials.c.state, sa.func.count()).group_by(
                trials.c.experiment_id, trials.c.state
            )
            return conn.execute(q).all()

        counts: dict[int, dict[str, int]] = {}
        for exp_id, state, n in self._read(query):
            counts.setdefault(exp_id, {})[state] = n
        return [{"experiment": e, "counts": counts.get(e.id, {})} for e in self.list_experiments()]

    # ---- trials ----
    @staticmethod
    def _trial(row: Any) -> FrozenTrial:
        """The FrozenTrial of a row. Params stored by reference (see `knoblab.values`) come back as the objects.
        A row whose fields cannot be read (hand-edited JSON, an unknown state) comes back FAILED with an error that
        names the table, trial and field, and a CorruptRowWarning: the rest of the experiment opens as usual."""
        where = f"table trials, row {row.id} (trial {row.number})"
        problems: list[str] = []

        def field(name: str, text: Any) -> dict[str, Any]:
            try:
                return _read_field(where, name, text, dict)
            except CorruptRow as e:
                problems.append(str(e))
                return {}

        params = values.decode_params(field("params", row.params))
        metrics = field("metrics", row.metrics)
        attrs = field("attrs", row.attrs)
        try:
            state = TrialState(row.state)
        except ValueError:
            problems.append(
                f"{where}: field state: unknown state {row.state!r} (known: {[s.value for s in TrialState]})"
            )
            state = TrialState.FAILED
        vector = None
        if row.objective_values:
            try:
                vector = _read_field(where, "objective_values", row.objective_values, list)
            except CorruptRow as e:
                problems.append(str(e))
        error = row.error
        if problems:
            vector = None
            warnings.warn(CorruptRowWarning("; ".join(problems)), stacklevel=3)
            error = "corrupt row: " + "; ".join(problems)
            attrs["corrupt"] = True
            state = (
                TrialState.FAILED if state in (TrialState.COMPLETE, TrialState.RUNNING, TrialState.QUEUED) else state
            )
        return FrozenTrial(
            id=row.id,
            number=row.number,
            state=state,
            params=params,
            value=row.value if not problems else None,
            metrics=metrics,
            seed=row.seed,
            round=row.round,
            started_at=row.started_at,
            finished_at=row.finished_at,
            heartbeat_at=row.heartbeat_at,
            error=error,
            note=row.note,
            attrs={**attrs, "host": row.host, "pid": row.pid},
            values=vector,
        )

    def create_trial(
        self,
        experiment_id,
        params,
        state,
        seed=None,
        attrs=None,
        round=0,
        seed_for=None,
        limit=None,
        distinct_after=None,
    ) -> FrozenTrial | None:
        """Adds a trial with the next free number. `seed_for(number)` derives its seed once the number is known.

        With `limit`, adds it only while fewer than `limit` trials count against the budget (None otherwise):
        the check and the insert are one transaction, so concurrent workers never overshoot a budget.
        With `distinct_after` (the last trial number the caller had read), raises DuplicatePoint when a trial of
        the same round numbered above it, not interrupted, has the same params: two processes that proposed
        from the same history (a grid's next point) do not both run it; the loser asks again.
        """

        def insert(conn: sa.Connection) -> int | None:
            _lock_experiment(conn, experiment_id)
            if limit is not None and _count_used(conn, experiment_id) >= limit:
                return None
            if distinct_after is not None and _added_since(conn, experiment_id, round, distinct_after, params):
                raise DuplicatePoint(f"trial params {params!r} were added by another process")
            last = conn.execute(
                sa.select(sa.func.max(trials.c.number)).where(trials.c.experiment_id == experiment_id)
            ).scalar()
            number = 0 if last is None else last + 1
            running = state == TrialState.RUNNING
            t = now()
            result = conn.execute(
                trials.insert().values(
                    experiment_id=experiment_id,
                    number=number,
                    round=round,
                    state=state.value,
                    params=dumps(values.encode_params(params)),
                    metrics="{}",
                    seed=seed_for(number) if seed_for else seed,
                    attrs=dumps(attrs or {}),
                    started_at=t if running else None,
                    heartbeat_at=t if running else None,
                    host=socket.gethostname() if running else None,
                    pid=os.getpid() if running else None,
                    stop_requested=False,
                )
            )
            key = result.inserted_primary_key
            assert key is not None  # an INSERT of one row always has it
            return int(key[0])

        for _ in range(50):  # two writers that took the same number: the loser tries the next one
            try:
                trial_id = self._write(insert)
                return None if trial_id is None else self.get_trial(trial_id, with_reports=False)
            except IntegrityError:
                time.sleep(random.random() * 0.02)
        raise StorageError(f"storage {safe_url(self.url)}: could not allocate a trial number")

    def claim_queued(self, experiment_id: int, seed_for=None, limit=None) -> FrozenTrial | None:
        """Takes the oldest QUEUED trial and marks it RUNNING for this process; None when none waits (or, with
        `limit`, when the budget is already used).

        The update is conditional on the state still being QUEUED, so each queued trial is handed out once.
        """

        def claim(conn: sa.Connection) -> int | None:
            waiting = conn.execute(
                sa.select(trials.c.id, trials.c.number, trials.c.seed)
                .where(trials.c.experiment_id == experiment_id, trials.c.state == TrialState.QUEUED.value)
                .order_by(trials.c.number)
                .limit(8)
            ).all()
            if waiting and limit is not None:
                _lock_experiment(conn, experiment_id)
                if _count_used(conn, experiment_id) >= limit:
                    return None
            for row in waiting:
                t = now()
                values = dict(
                    state=TrialState.RUNNING.value,
                    started_at=t,
                    heartbeat_at=t,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                )
                if row.seed is None and seed_for:
                    values["seed"] = seed_for(row.number)
                done = conn.execute(
                    trials.update()
                    .where(trials.c.id == row.id, trials.c.state == TrialState.QUEUED.value)
                    .values(**values)
                )
                if done.rowcount == 1:
                    return row.id
            return None

        trial_id = self._write(claim)
        return None if trial_id is None else self.get_trial(trial_id, with_reports=False)

    def finish_trial(self, trial_id, state, value, metrics, error=None, attrs=None, values=None) -> bool:
        """Stores how a RUNNING trial ended (`attrs` merged into its attrs in the same write). Conditional on the
        trial still being RUNNING: False, and nothing written, when another process ended it meanwhile (stale
        recovery re-queued it, a driver timed it out), so a late result never overwrites what that process decided.
        A trial row is one attempt (a retry is a new trial), so a RUNNING row is still its runner's."""

        def update(conn: sa.Connection) -> bool:
            t = now()
            columns: dict[str, Any] = dict(
                state=state.value,
                value=_finite_or_none(value),
                metrics=dumps(metrics or {}),
                error=error,
                finished_at=t,
                heartbeat_at=t,
            )
            if values is not None:  # several objectives (a single one leaves the column NULL, as before)
                columns["objective_values"] = dumps([_finite_or_none(float(v)) for v in values])
            if attrs:
                current = self._trial_attrs(conn, trial_id)
                if current is None:
                    return False
                columns["attrs"] = dumps({**current, **attrs})
            done = conn.execute(trials.update().where(trials.c.id == trial_id, _is_running).values(**columns))
            return done.rowcount == 1

        return self._write(update)

    def _trial_attrs(self, conn: sa.Connection, trial_id: int) -> dict[str, Any] | None:
        """A trial's attrs inside a write, its row locked on PostgreSQL until the write commits (SQLite's BEGIN
        IMMEDIATE already holds the lock), so a read-merge-write of attrs loses no concurrent change."""
        query = sa.select(trials.c.attrs).where(trials.c.id == trial_id)
        row = conn.execute(query if self.is_sqlite else query.with_for_update()).first()
        return None if row is None else loads(row[0])

    def requeue(self, trial_id: int, reason: str) -> bool:
        """Marks a RUNNING trial FAILED (interrupted) without counting it against the budget. False when it was
        no longer RUNNING (another process recovered or finished it first), so only one process retries it."""

        def update(conn: sa.Connection) -> bool:
            attrs = {**(self._trial_attrs(conn, trial_id) or {}), "interrupted": True}
            done = conn.execute(
                trials.update()
                .where(trials.c.id == trial_id, _is_running)
                .values(state=TrialState.FAILED.value, error=reason, finished_at=now(), attrs=dumps(attrs))
            )
            return done.rowcount == 1

        return self._write(update)

    def add_report(self, trial_id: int, step: int, metrics: dict[str, float]) -> bool:
        """Stores one step's metrics of a RUNNING trial (and beats its heartbeat). False, and nothing written, when
        the trial is no longer RUNNING: a late worker's curve does not grow on a trial another process ended."""

        def upsert(conn: sa.Connection) -> bool:
            t = now()
            alive = conn.execute(trials.update().where(trials.c.id == trial_id, _is_running).values(heartbeat_at=t))
            if alive.rowcount == 0:
                return False
            text = dumps(metrics)
            done = conn.execute(
                reports.update()
                .where(reports.c.trial_id == trial_id, reports.c.step == step)
                .values(metrics=text, at=t)
            )
            if done.rowcount == 0:
                conn.execute(reports.insert().values(trial_id=trial_id, step=step, metrics=text, at=t))
            return True

        return self._write(upsert)

    def heartbeat(self, trial_ids: list[int]) -> None:
        """Marks these trials alive now; only RUNNING ones (an ended trial's times stay as its end left them)."""
        if trial_ids:
            self._write(
                lambda c: c.execute(
                    trials.update().where(trials.c.id.in_(trial_ids), _is_running).values(heartbeat_at=now())
                )
            )

    def set_note(self, trial_id: int, note: str) -> None:
        """Sets a trial's free-text note."""
        self._write(lambda c: c.execute(trials.update().where(trials.c.id == trial_id).values(note=str(note))))

    def set_attrs(self, trial_id: int, attrs: dict[str, Any]) -> None:
        """Merges these attrs into a trial's."""

        def update(conn: sa.Connection) -> None:
            current = self._trial_attrs(conn, trial_id) or {}
            conn.execute(trials.update().where(trials.c.id == trial_id).values(attrs=dumps({**current, **attrs})))

        self._write(update)

    def claim_attr(self, trial_id: int, key: str, value: Any = True) -> bool:
        """Sets the trial's attr `key` to `value` unless it already has that attr: True when this call set it. The
        read and the write are one transaction (SQLite's BEGIN IMMEDIATE; the row locked on PostgreSQL), so of any
        number of processes claiming the same key of the same trial exactly one gets True: for decisions that must
        happen once, such as promoting a paused trial to its next rung."""

        def update(conn: sa.Connection) -> bool:
            current = self._trial_attrs(conn, trial_id)  # the row locked until this write commits
            if current is None:
                raise KeyError(f"no trial with id {trial_id}")
            if key in current:
                return False
            conn.execute(trials.update().where(trials.c.id == trial_id).values(attrs=dumps({**current, key: value})))
            return True

        return self._write(update)

    def request_stop(self, trial_id: int) -> None:
        """Asks the process running a trial to stop it (its `should_stop()` turns True)."""
        self._write(lambda c: c.execute(trials.update().where(trials.c.id == trial_id).values(stop_requested=True)))

    def stop_requested(self, trial_id: int) -> bool:
        """True when someone asked this trial to stop."""
        return bool(
            self._read(lambda c: c.execute(sa.select(trials.c.stop_requested).where(trials.c.id == trial_id)).scalar())
        )

    def get_trial(self, trial_id: int, with_reports: bool = True) -> FrozenTrial:
        """One trial by id, with its reports unless `with_reports=False`."""
        row = self._read(lambda c: c.execute(sa.select(trials).where(trials.c.id == trial_id)).first())
        if row is None:
            raise KeyError(f"no trial with id {trial_id}")
        trial = self._trial(row)
        if with_reports:
            trial.reports = self.get_reports([trial.id]).get(trial.id, [])
        return trial

    def get_trials(self, experiment_id, states=None, with_reports=False) -> list[FrozenTrial]:
        """An experiment's trials in number order, optionally only those in `states`."""
        q = sa.select(trials).where(trials.c.experiment_id == experiment_id)
        if states:
            q = q.where(trials.c.state.in_([s.value for s in states]))
        rows = self._read(lambda c: c.execute(q.order_by(trials.c.number)).all())
        out = [self._trial(r) for r in rows]
        if with_reports and out:
            by_trial = self.get_reports([t.id for t in out])
            for t in out:
                t.reports = by_trial.get(t.id, [])
        return out

    def get_trials_since(self, experiment_id: int, after_id: int, ids: list[int]) -> list[FrozenTrial]:
        """Trials with an id above `after_id` plus those in `ids`, in number order: what an experiment needs to
        bring its cached history up to date (ids grow in commit order per experiment: see `create_trial`)."""
        cond = trials.c.id > after_id
        if ids:
            cond = sa.or_(cond, trials.c.id.in_(ids))
        q = sa.select(trials).where(trials.c.experiment_id == experiment_id, cond).order_by(trials.c.number)
        return [self._trial(r) for r in self._read(lambda c: c.execute(q).all())]

    def get_reports(self, trial_ids: list[int]) -> dict[int, list[tuple[int, dict[str, float]]]]:
        """The (step, metrics) reports of each of these trials, in step order."""
        out: dict[int, list[tuple[int, dict[str, float]]]] = {}
        for start in range(0, len(trial_ids), 500):
            chunk = trial_ids[start : start + 500]
            q = (
                sa.select(reports.c.trial_id, reports.c.step, reports.c.metrics)
                .where(reports.c.trial_id.in_(chunk))
                .order_by(reports.c.trial_id, reports.c.step)
            )

            def chunk_rows(c: sa.Connection, q: sa.Select = q) -> Sequence[sa.Row]:
                return c.execute(q).all()

            for trial_id, step, metrics in self._read(chunk_rows):
                out.setdefault(trial_id, []).append((step, loads(metrics)))
        return out

    def count_reports(self, experiment_id: int) -> dict[int, int]:
        """Trial id -> how many steps it reported, for every trial of the experiment that reported any: the
        training resource (epochs) each spent, in one query (resource budgets read it after every epoch)."""
        q = (
            sa.select(reports.c.trial_id, sa.func.count())
            .select_from(reports.join(trials, reports.c.trial_id == trials.c.id))
            .where(trials.c.experiment_id == experiment_id)
            .group_by(reports.c.trial_id)
        )
        return {int(tid): int(n) for tid, n in self._read(lambda c: c.execute(q).all())}

    def close(self) -> None:
        """Releases the storage's connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SQLStorage({safe_url(self.url)!r})"
