"""Schema migrations: a database written by an older knoblab opens, keeps every row, and runs on.

data/schema_v1.sql is the dump (`sqlite3 .dump`) of a database that knoblab with schema version 1 wrote: one
experiment "old" (min loss, random search, seed 3), four COMPLETE trials with two reports each, one QUEUED trial.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

import knoblab as kl
from knoblab.storage.base import SCHEMA_VERSION
from knoblab.storage.sql import SQLStorage, StorageError
from knoblab.trial import TrialState

DUMP = Path(__file__).parent / "data" / "schema_v1.sql"
SPACE = {"x": kl.Real(-2.0, 2.0), "opt": ["adam", "sgd"]}


@pytest.fixture
def v1_url(tmp_path):
    path = tmp_path / "v1.db"
    con = sqlite3.connect(path)
    con.executescript(DUMP.read_text())
    con.close()
    return f"sqlite:///{path}"


def columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def version(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.exec_driver_sql("SELECT value FROM knoblab_meta WHERE key = 'schema_version'").scalar())
    finally:
        engine.dispose()


def test_a_version_1_database_is_migrated_and_keeps_every_row(v1_url):
    assert version(v1_url) == 1 and "objective_values" not in columns(v1_url, "trials")
    store = SQLStorage(v1_url)
    assert version(v1_url) == SCHEMA_VERSION == 2
    assert {"objective_values"} <= columns(v1_url, "trials") and {"objectives"} <= columns(v1_url, "experiments")
    record = store.get_experiment("old")
    assert (record.metric, record.direction, record.seed, record.objectives) == ("loss", "min", 3, None)
    trials = store.get_trials(record.id, with_reports=True)
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 4 + [TrialState.QUEUED]
    assert all(t.values is None for t in trials)
    assert all(isinstance(t.value, float) and t.metrics["acc"] == 0.5 for t in trials[:4])
    assert all(len(t.reports) == 2 for t in trials[:4])
    store.close()
    SQLStorage(v1_url).close()  # opening again: nothing left to migrate
    assert version(v1_url) == 2


def test_a_version_1_experiment_reopens_and_runs_on(v1_url):
    exp = kl.Experiment("old", SPACE, metric="loss", direction="min", storage=v1_url, seed=3, strategy="random")
    before = exp.best
    exp.optimize(lambda t: {"loss": (t.params["x"] - 0.5) ** 2, "acc": 0.5}, n_trials=8)
    trials = exp.trials
    assert len(trials) == 8 and all(t.state == TrialState.COMPLETE for t in trials)  # the queued one ran too
    assert trials[4].params == {"x": 0.1, "opt": "sgd"}
    assert exp.best.value <= before.value
    # a multi-objective experiment can now live in the same file
    multi = kl.Experiment("new", SPACE, metric=["loss", "acc"], direction=["min", "max"], storage=v1_url, seed=0)
    multi.optimize(lambda t: {"loss": t.params["x"] ** 2, "acc": t.params["x"]}, n_trials=3)
    assert all(len(t.values) == 2 for t in multi.trials)


def test_a_database_from_a_newer_knoblab_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/k.db"
    SQLStorage(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql("UPDATE knoblab_meta SET value = '3' WHERE key = 'schema_version'")
    engine.dispose()
    with pytest.raises(StorageError, match="has schema version 3, newer than this knoblab's 2; upgrade knoblab"):
        SQLStorage(url)


def test_migrating_on_postgresql(postgres_url):
    # version 1 there: today's tables without the columns version 2 added, and the version row saying 1
    old = kl.Experiment("old", SPACE, metric="loss", storage=postgres_url, seed=0, strategy="random")
    old.optimize(lambda t: t.params["x"] ** 2, n_trials=2)
    old.storage.close()
    engine = sa.create_engine(postgres_url)
    with engine.begin() as c:
        c.exec_driver_sql("ALTER TABLE trials DROP COLUMN objective_values")
        c.exec_driver_sql("ALTER TABLE experiments DROP COLUMN objectives")
        c.exec_driver_sql("UPDATE knoblab_meta SET value = '1' WHERE key = 'schema_version'")
    engine.dispose()
    assert "objective_values" not in columns(postgres_url, "trials")
    exp = kl.Experiment("pg", SPACE, metric=["loss", "acc"], direction=["min", "max"], storage=postgres_url, seed=0)
    exp.optimize(lambda t: {"loss": t.params["x"] ** 2, "acc": t.params["x"]}, n_trials=3)
    assert version(postgres_url) == 2 and len(exp.pareto_front) >= 1
    again = kl.Experiment("old", SPACE, metric="loss", storage=postgres_url, seed=0, strategy="random")
    assert len(again.trials) == 2 and again.best.value >= 0
