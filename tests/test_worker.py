"""`knoblab worker`: standalone workers that share an experiment through storage, with no coordinator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import knoblab as kl
from knoblab.cli import main
from knoblab.trial import TrialState

ROOT = Path(__file__).resolve().parents[1]
SPACE = {"x": kl.Real(0.0, 1.0)}


def worker(url, *args, env_dir=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if env_dir is not None:
        env["KNOBLAB_TEST_DIR"] = str(env_dir)
    cmd = [sys.executable, "-m", "knoblab.cli", "worker", "w", "--storage", url, *args]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_three_workers_share_the_budget(sqlite_url, tmp_path):
    exp = kl.Experiment("w", SPACE, storage=sqlite_url, strategy="random", seed=2)
    for i in range(5):
        exp.enqueue({"x": i / 10})
    procs = [
        worker(sqlite_url, "--objective", "tests.storage.writers:logged_trivial", "--n-trials", "30", env_dir=tmp_path)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert all("ran" in err for _, err in outs)
    trials = exp.trials
    assert [t.number for t in trials] == list(range(30))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    ran = Counter()
    for log in tmp_path.glob("ran-*.log"):
        ran.update(int(x) for x in log.read_text().split())
    assert sorted(ran) == list(range(30)) and max(ran.values()) == 1
    # the worker proposed with the experiment's own strategy, remembered in storage
    assert {t.attrs["source"] for t in trials} == {"enqueued", "random"}
    assert len({t.params["x"] for t in trials}) == 30  # workers asking at once still drew different points


def test_worker_killed_mid_trial_is_recovered_by_the_next(sqlite_url, tmp_path):
    exp = kl.Experiment("w", SPACE, storage=sqlite_url, strategy="random", seed=2)
    first = worker(
        sqlite_url, "--objective", "tests.executors.objectives:record_and_sleep", "--n-trials", "6", env_dir=tmp_path
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it is mid-way through its second trial
        if any(t.state == TrialState.RUNNING and t.number == 1 for t in exp.trials):
            break
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert any(t.state == TrialState.RUNNING for t in exp.trials)  # left behind by the dead worker
    second = worker(
        sqlite_url, "--objective", "tests.executors.objectives:record_and_sleep", "--n-trials", "6", env_dir=tmp_path
    )
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    trials = exp.trials
    dead = [t for t in trials if t.attrs.get("interrupted")]
    assert len(dead) == 1 and "its process died" in dead[0].error
    counted = [t for t in trials if not t.attrs.get("interrupted")]
    assert len(counted) == 6 and all(t.state == TrialState.COMPLETE for t in counted)
    finished = (tmp_path / "finished.log").read_text().split("\n")
    assert len([line for line in finished if line]) == 6  # no COMPLETE trial ran twice


def test_worker_bad_input(sqlite_url, tmp_path):
    runner = CliRunner()
    kl.Experiment("w", SPACE, storage=sqlite_url)
    r = runner.invoke(main, ["worker", "w", "--storage", sqlite_url, "--objective", "nocolon"])
    assert r.exit_code == 2 and "module:function" in r.output
    r = runner.invoke(main, ["worker", "w", "--storage", sqlite_url, "--objective", "no_such_module_xyz:f"])
    assert r.exit_code == 2 and "cannot import" in r.output
    r = runner.invoke(main, ["worker", "w", "--storage", sqlite_url, "--objective", "os:no_such_function"])
    assert r.exit_code == 2 and "no function" in r.output
    r = runner.invoke(main, ["worker", "nope", "--storage", sqlite_url, "--objective", "os.path:join"])
    assert r.exit_code == 1 and "no experiment 'nope'" in r.output
    r = runner.invoke(main, ["worker", "w", "--storage", sqlite_url, "--objective", "os.path:join"])
    assert r.exit_code == 1 and "budget" in r.output  # no --n-trials and an endless space
    missing = f"sqlite:///{tmp_path}/missing.db"
    r = runner.invoke(main, ["worker", "w", "--storage", missing, "--objective", "os.path:join"])
    assert r.exit_code == 1 and "no such file" in r.output
    # os.path:join(trial) raises TypeError in every trial: one line saying so, not a traceback
    r = runner.invoke(main, ["worker", "w", "--storage", sqlite_url, "--objective", "os.path:join", "--n-trials", "2"])
    assert r.exit_code == 1 and "Error: all 2 trials of this call to optimize on 'w' FAILED" in r.output
    assert "Traceback" not in r.output


def test_worker_with_a_file_objective_and_postgres(postgres_url, tmp_path):
    pytest.importorskip("psycopg")
    script = tmp_path / "my_objective.py"
    script.write_text("def objective(trial):\n    return trial.params['x'] ** 2\n")
    kl.Experiment("w", SPACE, storage=postgres_url, strategy="sobol")
    procs = [worker(postgres_url, "--objective", f"{script}:objective", "--n-trials", "12") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all("s3cret-pw" not in out + err for out, err in outs)  # the password is never printed
    trials = kl.Experiment.load("w", postgres_url).trials
    assert len(trials) == 12 and all(t.state == TrialState.COMPLETE for t in trials)


def test_a_worker_paused_past_stale_after_does_not_overwrite_the_recovery(sqlite_url):
    """Worker a is paused (SIGSTOP, as a suspended machine) mid-trial; worker b recovers its silent trial as stale
    and queues a retry; a wakes, finishes late: its result is refused with a warning naming the trial, and both
    workers finish the budget."""
    exp = kl.Experiment("w", SPACE, storage=sqlite_url, strategy="random", seed=2)
    objective = ["--objective", "tests.executors.objectives:report_and_sleep", "--n-trials", "4"]
    a = worker(sqlite_url, *objective, "--heartbeat", "0.2", "--stale-after", "60")
    b = None
    try:
        deadline = time.monotonic() + 120
        while not exp.trials or not exp.trial(0).reports:  # trial 0 reported step 0 and sleeps
            assert time.monotonic() < deadline and a.poll() is None
            time.sleep(0.05)
        a.send_signal(signal.SIGSTOP)
        time.sleep(2.5)  # silent past b's stale_after
        b = worker(sqlite_url, *objective, "--stale-after", "2")
        while exp.trial(0).state == TrialState.RUNNING:
            assert time.monotonic() < deadline and b.poll() in (None, 0)
            time.sleep(0.05)
    finally:
        a.send_signal(signal.SIGCONT)
    _, err_a = a.communicate(timeout=120)
    _, err_b = b.communicate(timeout=120)
    assert (a.returncode, b.returncode) == (0, 0), (err_a, err_b)
    assert "LateResultWarning: trial 0 is no longer RUNNING" in err_a
    first = exp.trial(0)
    assert first.state == TrialState.FAILED and first.attrs.get("interrupted") and "no heartbeat" in first.error
    assert first.value is None and [s for s, _ in first.reports] == [0]  # the late step 1 and result refused
    counted = [t for t in exp.trials if not t.attrs.get("interrupted")]
    assert len(counted) == 4 and all(t.state == TrialState.COMPLETE for t in counted)
    assert [t.attrs.get("retry_of") for t in counted].count(0) == 1


def test_a_worker_reads_the_interrupted_flag_as_a_value(sqlite_url, tmp_path):
    """A file whose interrupted trial has its flag stored without spaces ({"interrupted":true}, as another writer
    may store it): the worker still does not count that trial, and runs the budget to its end."""
    import sqlite3

    exp = kl.Experiment("w", SPACE, storage=sqlite_url, strategy="random", seed=2)
    exp.optimize(lambda t: t.params["x"], n_trials=2)
    with sqlite3.connect(tmp_path / "knoblab.db") as db:
        db.execute("UPDATE trials SET state = 'FAILED', attrs = '{\"interrupted\":true}' WHERE number = 1")
    assert exp.trial(1).attrs["interrupted"] is True
    w = worker(sqlite_url, "--objective", "tests.storage.writers:logged_trivial", "--n-trials", "4", env_dir=tmp_path)
    _, err = w.communicate(timeout=120)
    assert w.returncode == 0, err
    counted = [t for t in exp.trials if not t.attrs.get("interrupted")]
    assert len(counted) == 4 and all(t.state == TrialState.COMPLETE for t in counted), err
