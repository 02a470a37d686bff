"""SQL storage on real SQLite files: schema version, JSON rows, WAL, bad files and URLs, passwords, read-only."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest

import knoblab as kl
from knoblab.storage import SCHEMA_VERSION, SQLStorage, StorageError, open_storage, safe_url
from knoblab.trial import TrialState


def run_small(url: str) -> kl.Experiment:
    def objective(trial):
        trial.report(0, val_loss=0.9, acc=0.5)
        trial.report(1, val_loss=0.4, acc=0.8)
        return {"val_loss": 0.4, "acc": 0.8}

    exp = kl.Experiment(
        "e", {"x": kl.Real(0, 1), "opt": ["adam", "sgd"], "n": 3}, metric="val_loss", storage=url, seed=1
    )
    exp.optimize(objective, n_trials=2)
    return exp


def test_schema_version_is_stored(tmp_path, sqlite_url):
    SQLStorage(sqlite_url).close()
    with sqlite3.connect(tmp_path / "knoblab.db") as db:
        rows = dict(db.execute("SELECT key, value FROM knoblab_meta").fetchall())
    assert rows["schema_version"] == str(SCHEMA_VERSION)


def test_a_newer_schema_is_refused(tmp_path, sqlite_url):
    SQLStorage(sqlite_url).close()
    with sqlite3.connect(tmp_path / "knoblab.db") as db:
        db.execute("UPDATE knoblab_meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StorageError, match="newer than this knoblab"):
        SQLStorage(sqlite_url)


def test_values_are_json_text_never_pickles(tmp_path, sqlite_url):
    run_small(sqlite_url)
    db = sqlite3.connect(tmp_path / "knoblab.db")
    db.row_factory = sqlite3.Row
    for table, columns in {
        "experiments": ["space", "attrs"],
        "trials": ["params", "metrics", "attrs"],
        "reports": ["metrics"],
    }.items():
        rows = db.execute(f"SELECT * FROM {table}").fetchall()
        assert rows, table
        for row in rows:
            for c in columns:
                assert isinstance(row[c], str), (table, c, type(row[c]))
                json.loads(row[c])  # strict enough: a pickle would not parse
    # nothing anywhere is a blob
    for table in ("experiments", "trials", "reports", "knoblab_meta"):
        for row in db.execute(f"SELECT * FROM {table}").fetchall():
            assert not any(isinstance(v, bytes) for v in tuple(row)), table
    trial = db.execute("SELECT id, params, metrics, state FROM trials ORDER BY number").fetchone()
    params = json.loads(trial["params"])
    assert set(params) == {"x", "opt", "n"} and params["n"] == 3
    assert json.loads(trial["metrics"]) == {"val_loss": 0.4, "acc": 0.8}
    assert trial["state"] == "COMPLETE"
    steps = db.execute("SELECT step, metrics FROM reports WHERE trial_id = ? ORDER BY step", (trial["id"],)).fetchall()
    assert [(s["step"], json.loads(s["metrics"])) for s in steps] == [
        (0, {"val_loss": 0.9, "acc": 0.5}),
        (1, {"val_loss": 0.4, "acc": 0.8}),
    ]
    db.close()


def test_wal_mode_and_busy_timeout(tmp_path, sqlite_url):
    store = SQLStorage(sqlite_url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.close()
    with sqlite3.connect(tmp_path / "knoblab.db") as db:  # WAL is a property of the file itself
        assert db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"


def test_a_corrupt_file_is_a_storage_error_naming_it_and_left_untouched(tmp_path):
    path = tmp_path / "results.db"
    garbage = bytes(range(256)) * 64
    path.write_bytes(garbage)
    with pytest.raises(StorageError) as e:
        SQLStorage(f"sqlite:///{path}")
    text = str(e.value)
    assert str(path) in text and "not a readable SQLite database" in text
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.db"]  # no -wal / -shm left behind
    # and through the experiment API
    with pytest.raises(StorageError, match="results.db"):
        kl.Experiment("e", {"x": [1, 2]}, storage=f"sqlite:///{path}")
    assert path.read_bytes() == garbage


@pytest.mark.parametrize("url", ["knoblab.db", "not a url", "sqlite//knoblab.db", ""])
def test_a_bad_url_is_a_clear_error(url):
    with pytest.raises(StorageError) as e:
        SQLStorage(url)
    text = str(e.value)
    assert "not a database URL" in text and "sqlite:///" in text
    assert "\n" not in text
    if url:
        assert url in text


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StorageError, match="folder .*nowhere does not exist"):
        SQLStorage(f"sqlite:///{tmp_path / 'nowhere' / 'k.db'}")


def test_an_unknown_driver_is_a_clear_error():
    with pytest.raises(StorageError, match="no driver"):
        SQLStorage("nosuchdb://user@host/db")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://alice:hunter2-secret@127.0.0.1:1/db",
        "mysql://alice:hunter2-secret@db.example/knob",
        "nosuchdb://alice:hunter2-secret@host/db",
        "postgresql://alice:hunter2-secret@",
        "alice:hunter2-secret@host nonsense",
    ],
)
def test_a_password_never_appears_in_errors_or_repr(url):
    assert "hunter2-secret" not in safe_url(url)
    try:
        store = SQLStorage(url)
    except StorageError as e:
        assert "hunter2-secret" not in str(e)
        assert "hunter2-secret" not in repr(e)
        assert e.__cause__ is None or "hunter2-secret" not in str(e.__cause__)
        assert e.__suppress_context__ or e.__context__ is None or "hunter2-secret" not in str(e.__context__)
    else:  # a driver that connects lazily: the object itself must not show it
        assert "hunter2-secret" not in repr(store)
        store.close()


def test_repr_hides_the_password_of_a_working_storage(tmp_path):
    store = SQLStorage(f"sqlite:///{tmp_path / 'k.db'}")
    assert repr(store) == f"SQLStorage('sqlite:///{tmp_path / 'k.db'}')"


def test_a_read_only_database_reads_but_refuses_writes_clearly(tmp_path):
    path = tmp_path / "k.db"
    run_small(f"sqlite:///{path}")
    ro = SQLStorage(f"sqlite:///file:{path}?mode=ro&uri=true")
    exps = ro.list_experiments()
    assert [e.name for e in exps] == ["e"]
    assert len(ro.get_trials(exps[0].id)) == 2
    with pytest.raises(StorageError, match="read-only") as e:
        ro.create_trial(exps[0].id, {"x": 0.5, "opt": "sgd", "n": 3}, TrialState.RUNNING)
    assert "\n" not in str(e.value)
    with pytest.raises(StorageError, match="read-only"):
        kl.Experiment(
            "e", {"x": kl.Real(0, 1), "opt": ["adam", "sgd"], "n": 3}, metric="val_loss", storage=ro
        ).optimize(lambda t: 0.1, n_trials=3)
    ro.close()
    assert len(SQLStorage(f"sqlite:///{path}").get_trials(exps[0].id)) == 2


def test_two_storages_on_one_file_see_each_others_writes(sqlite_url):
    a, b = SQLStorage(sqlite_url), SQLStorage(sqlite_url)
    rec = a.create_experiment("e", "v", "min", {"x": {"kind": "fixed", "value": 1}}, 3)
    assert b.get_experiment("e").id == rec.id
    t = b.create_trial(rec.id, {"x": 1}, TrialState.RUNNING)
    a.add_report(t.id, 0, {"v": 1.5})
    assert b.get_trial(t.id).reports == [(0, {"v": 1.5})]
    a.finish_trial(t.id, TrialState.COMPLETE, 1.5, {"v": 1.5})
    got = b.get_trial(t.id)
    assert got.state == TrialState.COMPLETE and got.value == 1.5
    # creating an experiment that exists returns the stored one
    assert b.create_experiment("e", "v", "min", {}, 9).seed == 3


def check_writes_after_recovery_are_refused(url):
    """A worker's late writes to a trial another process recovered as stale change nothing (issue 7)."""
    worker, recoverer = SQLStorage(url), SQLStorage(url)
    rec = worker.create_experiment("e", "v", "min", {}, 0)
    t = worker.create_trial(rec.id, {"x": 1}, TrialState.RUNNING)
    other = worker.create_trial(rec.id, {"x": 2}, TrialState.RUNNING)
    worker.add_report(t.id, 0, {"v": 2.0})
    assert recoverer.requeue(t.id, "interrupted: no heartbeat for 600 s")
    recovered = recoverer.get_trial(t.id)
    late_report = worker.add_report(t.id, 1, {"v": 1.0})
    worker.heartbeat([t.id, other.id])
    late_finish = worker.finish_trial(t.id, TrialState.COMPLETE, 1.0, {"v": 1.0})
    assert recoverer.get_trial(t.id) == recovered  # state, value, error, times, attrs and reports as recovery left them
    assert (late_report, late_finish) == (False, False)  # and the writer is told
    # a trial still RUNNING is written as before, attrs merged in the same write
    assert worker.finish_trial(other.id, TrialState.PRUNED, 3.0, {"v": 3.0}, attrs={"reached": 1}) is True
    done = recoverer.get_trial(other.id)
    assert done.state == TrialState.PRUNED and done.value == 3.0 and done.attrs["reached"] == 1
    assert worker.finish_trial(other.id, TrialState.COMPLETE, 0.5, {"v": 0.5}) is False  # once ended, ended


def test_writes_after_recovery_are_refused(sqlite_url):
    check_writes_after_recovery_are_refused(sqlite_url)


def check_budget_reads_the_interrupted_flag_as_a_value(url):
    """The budget check (create_trial with a limit) counts every started trial but interrupted ones, reading the
    flag as the JSON value attrs["interrupted"], not by matching the row's text."""
    from knoblab.storage.sql import trials

    store = SQLStorage(url)
    rec = store.create_experiment("e", "v", "min", {}, 0)
    failed = store.create_trial(rec.id, {}, TrialState.RUNNING)
    store.set_attrs(failed.id, {"last_attempt": {"interrupted": True}})  # the user's own attr, nested: a failure
    store.finish_trial(failed.id, TrialState.FAILED, None, None, "RuntimeError: broke")
    assert store.create_trial(rec.id, {}, TrialState.RUNNING, limit=1) is None  # it counts: the budget is used
    cut = store.create_trial(rec.id, {}, TrialState.RUNNING)
    store.requeue(cut.id, "interrupted: its process died")
    with store.engine.begin() as conn:  # the flag as another writer may store it, without spaces
        conn.execute(trials.update().where(trials.c.id == cut.id).values(attrs='{"interrupted":true}'))
    assert store.get_trial(cut.id).attrs["interrupted"] is True
    assert store.create_trial(rec.id, {}, TrialState.RUNNING, limit=2) is not None  # it does not count
    assert store.create_trial(rec.id, {}, TrialState.RUNNING, limit=2) is None


def test_budget_reads_the_interrupted_flag_as_a_value(sqlite_url):
    check_budget_reads_the_interrupted_flag_as_a_value(sqlite_url)


def test_queued_trials_are_claimed_once_in_number_order(sqlite_url):
    store = SQLStorage(sqlite_url)
    rec = store.create_experiment("e", "v", "min", {}, 0)
    for i in range(3):
        store.create_trial(rec.id, {"i": i}, TrialState.QUEUED)
    other = SQLStorage(sqlite_url)
    claimed = [store.claim_queued(rec.id), other.claim_queued(rec.id), store.claim_queued(rec.id)]
    assert [t.params["i"] for t in claimed] == [0, 1, 2]
    assert all(t.state == TrialState.RUNNING and t.attrs["pid"] for t in claimed)
    assert store.claim_queued(rec.id) is None


def test_nan_report_values_are_stored_as_valid_json(tmp_path, sqlite_url):
    store = SQLStorage(sqlite_url)
    rec = store.create_experiment("e", "v", "min", {}, 0)
    t = store.create_trial(rec.id, {}, TrialState.RUNNING)
    store.add_report(t.id, 0, {"v": float("nan"), "w": 1.0})
    with sqlite3.connect(tmp_path / "knoblab.db") as db:
        text = db.execute("SELECT metrics FROM reports").fetchone()[0]
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c} in {text}")) == {
        "v": None,
        "w": 1.0,
    }
    # read back, a non-finite step is NaN in the curve
    assert math.isnan(store.get_trial(t.id).curve("v")[0][1])


def test_a_pruned_trial_whose_curve_went_nan_keeps_its_best_finite_value(sqlite_url):
    def diverging(trial):
        for step, v in enumerate([0.8, 0.6, float("nan"), float("inf")]):
            trial.report(step, val_loss=v)
        raise kl.TrialPruned()

    exp = kl.Experiment("e", {"x": kl.Real(0, 1)}, metric="val_loss", storage=sqlite_url, seed=0)
    exp.optimize(diverging, n_trials=1)
    t = exp.trial(0)
    assert t.state == TrialState.PRUNED and t.value == 0.6
    assert len(t.curve("val_loss")) == 4


def test_open_storage_defaults_to_knoblab_db_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_storage(None)
    store.list_experiments()
    assert (tmp_path / "knoblab.db").exists()
    assert open_storage(store) is store


# ---- corrupt rows (issue 15): one bad row names itself and the rest opens ----


def _corrupt(db_path, sql, *args):
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        conn.execute(sql, args)


@pytest.mark.parametrize(
    "column, bad, fragment",
    [
        ("params", "{not json", "field params: cannot read it as JSON"),
        ("params", "[1, 2]", "field params: expected a JSON dict"),
        ("state", "BOGUS", "field state: unknown state 'BOGUS'"),
        ("metrics", "{", "field metrics: cannot read it as JSON"),
    ],
)
def test_a_corrupt_trial_row_is_named_and_the_rest_of_the_experiment_opens(tmp_path, column, bad, fragment):
    import knoblab as kl
    from knoblab.storage.sql import CorruptRowWarning

    url = f"sqlite:///{tmp_path / 'k.db'}"
    space = {"x": kl.Real(0.0, 1.0)}
    exp = kl.Experiment("bad_rows", space, storage=url, seed=0)
    exp.optimize(lambda t: t.params["x"], n_trials=5)
    _corrupt(tmp_path / "k.db", f"UPDATE trials SET {column} = ? WHERE number = 2", bad)
    with pytest.warns(CorruptRowWarning, match=rf"table trials, row \d+ \(trial 2\): {fragment}"):
        again = kl.Experiment("bad_rows", space, storage=url, seed=0)
        trials = again.trials
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    broken = trials[2]
    assert broken.state == kl.TrialState.FAILED and broken.error.startswith("corrupt row: table trials")
    assert sum(t.state == kl.TrialState.COMPLETE for t in trials) == 4
    with pytest.warns(CorruptRowWarning):
        again.optimize(lambda t: t.params["x"], n_trials=7)  # the search goes on; the bad row counts as a trial
        assert len(again.trials) == 7


def test_a_corrupt_experiment_row_is_named_and_the_others_are_listed(tmp_path):
    import knoblab as kl
    from knoblab.storage import StorageError
    from knoblab.storage.sql import CorruptRowWarning, SQLStorage

    url = f"sqlite:///{tmp_path / 'k.db'}"
    kl.Experiment("good", {"x": [1, 2]}, storage=url).optimize(lambda t: 1.0, n_trials=1)
    kl.Experiment("bad", {"x": [1, 2]}, storage=url).optimize(lambda t: 1.0, n_trials=1)
    _corrupt(tmp_path / "k.db", "UPDATE experiments SET space = ? WHERE name = 'bad'", "{oops")
    store = SQLStorage(url)
    with pytest.warns(CorruptRowWarning, match=r"table experiments, row \d+ \(experiment 'bad'\): field space"):
        assert [e.name for e in store.list_experiments()] == ["good"]
    with pytest.raises(StorageError, match=r"^table experiments, row \d+ \(experiment 'bad'\): field space"):
        store.get_experiment("bad")


def test_an_unknown_knob_kind_in_a_stored_space_names_the_knob(tmp_path):
    import json

    import knoblab as kl

    url = f"sqlite:///{tmp_path / 'k.db'}"
    kl.Experiment("kinds", {"x": [1, 2], "y": kl.Real(0, 1)}, storage=url).optimize(lambda t: 1.0, n_trials=1)
    space = {"x": {"kind": "categorical", "choices": [1, 2], "ordered": False}, "y": {"kind": "weird"}}
    _corrupt(tmp_path / "k.db", "UPDATE experiments SET space = ? WHERE name = 'kinds'", json.dumps(space))
    with pytest.raises(ValueError, match=r"^knob 'y': cannot read its stored description \(unknown knob kind 'weird'"):
        kl.Experiment.load("kinds", storage=url)
