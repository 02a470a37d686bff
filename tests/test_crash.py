"""A process killed with SIGKILL in the middle of a trial loses nothing, and rerunning the script finishes the job."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from knoblab.storage.sql import SQLStorage
from knoblab.trial import TrialState

N_TRIALS = 6
HANG_AT = 3  # the trial number the first run is killed in

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    import knoblab as kl

    db, log, inside = sys.argv[1], sys.argv[2], sys.argv[3]
    hang = os.environ.get("HANG") == "1"

    def objective(trial):
        with open(log, "a") as f:  # every call of the objective, to tell a rerun from a first run
            f.write(json.dumps({"pid": os.getpid(), "number": trial.number, "params": trial.params}) + "\\n")
            f.flush()
            os.fsync(f.fileno())
        trial.report(0, val_loss=1.0)
        trial.report(1, val_loss=0.5)
        if hang and trial.number == %(hang_at)d:
            with open(inside, "w") as f:
                f.write(str(trial.id))
            while True:  # the parent kills us here, in the middle of the trial
                time.sleep(0.05)
        return trial.params["x"] ** 2 + trial.params["y"]

    exp = kl.Experiment("crash", {"x": kl.Real(-1, 1), "y": kl.Real(0, 1), "opt": ["a", "b"]},
                        metric="val_loss", strategy="random", storage="sqlite:///" + db, seed=42)
    exp.optimize(objective, n_trials=%(n_trials)d)
    print("done", len(exp.trials))
    """
) % {"hang_at": HANG_AT, "n_trials": N_TRIALS}


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.slow
def test_a_process_killed_mid_trial_loses_nothing_and_a_rerun_finishes(tmp_path):
    script, db, log, inside = tmp_path / "run.py", tmp_path / "k.db", tmp_path / "calls.jsonl", tmp_path / "inside"
    script.write_text(SCRIPT)
    cmd = [sys.executable, str(script), str(db), str(log), str(inside)]
    env = {**os.environ, "HANG": "1"}

    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not inside.exists():  # synchronize on the file the objective writes once it is inside the trial
            assert proc.poll() is None, proc.communicate()[1].decode()
            assert time.monotonic() < deadline, "the script never reached the trial to kill"
            time.sleep(0.02)
        killed_id = int(inside.read_text())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # what the killed process left: read raw, then through the storage
    with sqlite3.connect(db) as raw:
        rows = raw.execute("SELECT number, state, value FROM trials ORDER BY number").fetchall()
    assert [(n, s) for n, s, _ in rows] == [(0, "COMPLETE"), (1, "COMPLETE"), (2, "COMPLETE"), (3, "RUNNING")]
    store = SQLStorage(f"sqlite:///{db}")
    exp_id = store.get_experiment("crash").id
    before = store.get_trials(exp_id, with_reports=True)
    killed = before[HANG_AT]
    assert killed.id == killed_id and killed.state == TrialState.RUNNING and killed.finished_at is None
    assert killed.attrs["pid"] == proc.pid
    assert killed.reports == [(0, {"val_loss": 1.0}), (1, {"val_loss": 0.5})]  # each report was committed at once
    first_calls = calls(log)
    assert [c["number"] for c in first_calls] == [0, 1, 2, 3]
    for t, c in zip(before[:HANG_AT], first_calls, strict=False):
        assert t.state == TrialState.COMPLETE and t.params == c["params"]
        assert t.value == pytest.approx(c["params"]["x"] ** 2 + c["params"]["y"])
        assert len(t.reports) == 2

    # the same script run again (no hang this time) resumes
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = store.get_trials(exp_id)
    stale = next(t for t in after if t.id == killed_id)
    assert stale.state == TrialState.FAILED and stale.attrs.get("interrupted")
    assert "interrupted" in stale.error and str(proc.pid) in stale.error
    retry = [t for t in after if t.attrs.get("retry_of") == HANG_AT]
    assert len(retry) == 1 and retry[0].params == killed.params and retry[0].state == TrialState.COMPLETE
    assert retry[0].number == len(before)  # queued again, so it ran first

    counted = [t for t in after if not t.attrs.get("interrupted")]
    assert len(counted) == N_TRIALS
    assert all(t.state == TrialState.COMPLETE for t in counted)
    second_calls = calls(log)[len(first_calls) :]
    assert len(second_calls) == N_TRIALS - HANG_AT
    assert second_calls[0]["params"] == killed.params
    # no COMPLETE trial of the first run ran again
    ran_again = {json.dumps(c["params"], sort_keys=True) for c in second_calls}
    assert not ran_again & {json.dumps(t.params, sort_keys=True) for t in before[:HANG_AT]}
    # and every counted trial ran a point of its own
    assert len({json.dumps(t.params, sort_keys=True) for t in counted}) == N_TRIALS

    # a third run has nothing left to do
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert len(calls(log)) == len(first_calls) + len(second_calls)
    assert len(store.get_trials(exp_id)) == len(after)
