"""Faults and bad input during a search: each gives a clear error, FAILED where it fits, the search goes on where
it can, and nothing stored is lost. (Storage-level faults on their own are in tests/storage/test_sql.py.)"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

import knoblab as kl
from knoblab.executors import ProcessExecutor
from knoblab.storage import SQLStorage, StorageError
from knoblab.trial import TrialState

from .executors import objectives

ROOT = Path(__file__).resolve().parents[1]
SPACE = {"x": kl.Real(0.0, 1.0)}


@pytest.fixture(autouse=True)
def marker_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_TEST_DIR", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_bad_results_fail_their_trial_and_the_search_goes_on(sqlite_url, n_jobs):
    exp = kl.Experiment("bad", SPACE, storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(objectives.bad_results, n_trials=14, n_jobs=n_jobs)
    trials = exp.trials
    assert len(trials) == 14
    expected = {
        0: None,
        1: "nan",
        2: "returned None",
        3: "returned a str",
        4: "RuntimeError: the objective broke on purpose",
        5: "inf",
        6: "lack 'value'",
    }
    for t in trials:
        want = expected[t.number % 7]
        if want is None:
            assert t.state == TrialState.COMPLETE and t.value == t.params["x"]
        else:
            assert t.state == TrialState.FAILED and want in t.error, (t.number, t.error)
            assert t.value is None


def test_out_of_memory_fails_the_trial(sqlite_url):
    exp = kl.Experiment("oom", SPACE, storage=sqlite_url, strategy="random")
    exp.optimize(objectives.memory_hog, n_trials=4, executor=ProcessExecutor(2, memory_limit=3 * 1024**3))
    hog = exp.trial(1)
    assert hog.state == TrialState.FAILED and hog.error.startswith("MemoryError")
    assert sum(t.state == TrialState.COMPLETE for t in exp.trials) == 3


def test_a_full_database_stops_the_search_clearly_and_keeps_what_was_stored(sqlite_url, tmp_path):
    exp = kl.Experiment("full", SPACE, storage=sqlite_url, strategy="random")
    exp.optimize(objectives.quadratic, n_trials=5)
    store = exp.storage
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    @sa.event.listens_for(store.engine, "connect")
    def cap(dbapi_conn, _record):  # the file may not grow past two more pages: a disk that is full
        dbapi_conn.execute(f"PRAGMA max_page_count = {pages + 2}")

    store.engine.dispose()

    def fat(trial):
        trial.set_note("x" * 20_000)
        return 1.0

    with pytest.raises(StorageError, match="full"):
        exp.optimize(fat, n_trials=50)
    again = kl.Experiment.load("full", SQLStorage(sqlite_url))
    done = [t for t in again.trials if t.state == TrialState.COMPLETE]
    assert len(done) >= 5 and [s for s, _ in again.trial(3).reports] == [0, 1, 2]
    with sqlite3.connect(tmp_path / "knoblab.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_read_only_database_with_workers_is_a_clear_error(tmp_path):
    path = tmp_path / "ro.db"
    exp = kl.Experiment("ro", SPACE, storage=f"sqlite:///{path}")
    exp.optimize(objectives.trivial, n_trials=2)
    exp.storage.close()
    before = path.read_bytes()
    ro = kl.Experiment.load("ro", f"sqlite:///file:{path}?mode=ro&uri=true")
    assert len(ro.trials) == 2  # reading works
    with pytest.raises(StorageError, match="read-only"):
        ro.optimize(objectives.trivial, n_trials=4, n_jobs=2)
    assert path.read_bytes() == before


def test_a_corrupt_database_is_refused_before_any_worker_starts(tmp_path):
    path = tmp_path / "bad.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="not a readable SQLite database"):
        kl.Experiment("c", SPACE, storage=f"sqlite:///{path}")
    assert path.read_bytes() == b"this is not a database" * 100


def test_nothing_is_unpickled_from_storage():
    import knoblab.storage.sql as sql

    source = Path(sql.__file__).read_text()
    assert "import pickle" not in source and "pickle.load" not in source
    assert not any(
        isinstance(c.type, sa.PickleType | sa.LargeBinary) for t in sql.metadata.tables.values() for c in t.c
    )


DRIVER = """
import sys
import knoblab as kl
from tests.executors import objectives

if __name__ == "__main__":
    exp = kl.Experiment("crash", {"x": [i / 20 for i in range(20)]}, storage=sys.argv[1], strategy="grid")
    exp.optimize(objectives.record_and_sleep, n_trials=16, n_jobs=2)
"""


def start_driver(script, url, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KNOBLAB_TEST_DIR": str(tmp_path)}
    return subprocess.Popen([sys.executable, str(script), url], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def wait_for_lines(path, n, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {n} lines")


def wait_for_a_trial_in_flight(tmp_path, timeout=90):
    """Until a trial has started (its pid logged) and not finished: each trial sleeps 0.4 s, so a signal sent
    now finds it running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = len((tmp_path / "pids.log").read_text().splitlines())
        finished = len((tmp_path / "finished.log").read_text().splitlines())
        if started > finished:
            return
        time.sleep(0.01)
    raise AssertionError("no trial was in flight")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_driver_killed_mid_search_resumes_exactly_within_its_budget(sqlite_url, tmp_path, sig):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    first = start_driver(script, sqlite_url, tmp_path)
    wait_for_lines(tmp_path / "finished.log", 5)
    wait_for_a_trial_in_flight(tmp_path)  # so that the signal almost always cuts a trial short
    first.send_signal(sig)
    first.communicate(timeout=60)
    worker_pids = {int(p) for p in (tmp_path / "pids.log").read_text().split()}
    time.sleep(1.0)
    alive = [p for p in worker_pids if _alive(p)]
    assert alive == []  # the workers died with their driver: no orphan goes on writing

    started = {int(n) for n in (tmp_path / "started.log").read_text().split()}
    finished = {int(line.split()[0]) for line in (tmp_path / "finished.log").read_text().splitlines()}
    in_flight = started - finished  # cut short by the signal (one may have just ended: the race is the worker's)

    exp = kl.Experiment.load("crash", sqlite_url)
    before = {t.number: t.state for t in exp.trials}
    assert TrialState.COMPLETE in before.values()

    second = start_driver(script, sqlite_url, tmp_path)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    trials = exp.trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 16  # the budget, exactly
    assert len({t.params["x"] for t in complete}) == 16  # no grid point completed twice
    for number, state in before.items():  # nothing completed before the crash was run again or lost
        if state == TrialState.COMPLETE:
            assert exp.trial(number).state == TrialState.COMPLETE
    interrupted = [t for t in trials if t.attrs.get("interrupted")]
    assert in_flight <= {t.number for t in interrupted}  # every trial cut short is retried, none is lost
    assert len(interrupted) <= 2  # two workers: at most two in flight when the driver died
    for t in interrupted:
        retry = [r for r in trials if r.attrs.get("retry_of") == t.number]
        assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE and retry[0].params == t.params
    assert not any(t.state in (TrialState.RUNNING, TrialState.QUEUED) for t in trials)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting to be reaped is dead too
        return f.read().split()[2] != "Z"
