"""n_jobs > 1: trials run in worker processes, budgets hold as in the serial loop, nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import knoblab as kl
from knoblab.executors import ExecutorError, ProcessExecutor
from knoblab.trial import TrialState

from . import objectives

SPACE = {"x": kl.Real(0.0, 1.0)}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def marker_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_TEST_DIR", str(tmp_path))
    return tmp_path


def make(url, name="p", **kwargs):
    return kl.Experiment(name, SPACE, storage=url, strategy="random", seed=3, **kwargs)


def states(exp):
    return [t.state for t in exp.trials]


def test_two_workers_run_the_budget_with_reports(sqlite_url):
    exp = make(sqlite_url)
    exp.optimize(objectives.quadratic, n_trials=12, n_jobs=2)
    trials = exp.trials
    assert [t.number for t in trials] == list(range(12))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    pids = {t.attrs["worker_pid"] for t in trials}
    assert len(pids) == 2 and os.getpid() not in pids  # two worker processes, not the driver, not threads
    full = exp.trial(5)
    assert [step for step, _ in full.reports] == [0, 1, 2]  # workers wrote the curves themselves
    assert exp.best.value == min(t.value for t in trials)
    # the same trials as the serial loop: the strategy proposes from the same seed
    serial = make(sqlite_url, name="serial")
    serial.optimize(objectives.quadratic, n_trials=12)
    assert sorted(t.params["x"] for t in serial.trials) == sorted(t.params["x"] for t in trials)


def test_budget_is_the_experiment_total_and_resumes(sqlite_url):
    exp = make(sqlite_url)
    exp.optimize(objectives.trivial, n_trials=5, n_jobs=3)
    assert len(exp.trials) == 5
    exp.optimize(objectives.trivial, n_trials=8, n_jobs=3)  # a rerun finishes only what is left
    assert len(exp.trials) == 8
    exp.optimize(objectives.trivial, n_trials=8, n_jobs=3)
    assert len(exp.trials) == 8


def test_a_finite_grid_ends_when_exhausted(sqlite_url):
    exp = kl.Experiment("g", {"x": [0.1, 0.2, 0.3, 0.4, 0.5]}, storage=sqlite_url, strategy="grid")
    exp.optimize(objectives.trivial, n_jobs=2)
    assert sorted(t.params["x"] for t in exp.trials) == [0.1, 0.2, 0.3, 0.4, 0.5]


def test_time_limit_and_target(sqlite_url):
    exp = make(sqlite_url)
    exp.optimize(objectives.sleepy, time_limit=1.0, n_jobs=2)
    assert 2 <= len(exp.trials) <= 10
    assert all(t.state == TrialState.COMPLETE for t in exp.trials)
    other = make(sqlite_url, name="target", direction="max")
    other.optimize(objectives.trivial, n_trials=200, target=0.5, n_jobs=2)
    assert other.best.value >= 0.5
    assert len(other.trials) < 200


@pytest.mark.slow
def test_one_compute_thread_per_worker(sqlite_url):
    pytest.importorskip("torch")
    exp = make(sqlite_url)
    exp.optimize(objectives.threads, n_trials=2, n_jobs=2)
    for t in exp.trials:
        assert t.metrics["torch_threads"] == 1 and t.metrics["omp"] == "1"
    more = make(sqlite_url, name="two")
    more.optimize(objectives.threads, n_trials=1, executor=ProcessExecutor(1, threads_per_worker=2))
    assert more.trials[0].metrics["torch_threads"] == 2


def test_objective_that_cannot_be_pickled_is_named(sqlite_url):
    exp = make(sqlite_url)
    with pytest.raises(ExecutorError, match="lambda.*cannot be sent to worker processes"):
        exp.optimize(lambda t: 1.0, n_trials=2, n_jobs=2)

    def nested(trial):
        return 1.0

    with pytest.raises(ExecutorError, match="nested"):
        exp.optimize(nested, n_trials=2, n_jobs=2)
    assert exp.trials == []  # nothing was started


def test_in_memory_storage_is_refused_for_workers():
    exp = kl.Experiment("m", SPACE, storage="sqlite:///:memory:")
    with pytest.raises(ExecutorError, match="in-memory"):
        exp.optimize(objectives.trivial, n_trials=2, n_jobs=2)


def test_relative_sqlite_path_reaches_the_workers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = make("sqlite:///rel.db")
    exp.optimize(objectives.trivial, n_trials=3, n_jobs=2)
    assert len(exp.trials) == 3 and (tmp_path / "rel.db").exists()


def test_worker_killed_mid_trial_is_retried(sqlite_url, marker_dir):
    exp = make(sqlite_url)
    exp.optimize(objectives.kill_self_once, n_trials=6, n_jobs=2)
    trials = exp.trials
    dead = [t for t in trials if t.attrs.get("interrupted")]
    assert [t.number for t in dead] == [2]
    assert "died" in dead[0].error and "signal 9" in dead[0].error
    assert dead[0].reports == [] or True
    retry = [t for t in trials if t.attrs.get("retry_of") == 2]
    assert len(retry) == 1 and retry[0].state == TrialState.COMPLETE and retry[0].params == dead[0].params
    counted = [t for t in trials if not t.attrs.get("interrupted")]
    assert len(counted) == 6 and all(t.state == TrialState.COMPLETE for t in counted)


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_a_worker_killed_while_the_pool_starts_is_replaced(sqlite_url, marker_dir, start_method):
    exp = make(sqlite_url)
    objective = objectives.KilledWhileLoading(str(marker_dir), times=2)
    exp.optimize(objective, n_trials=6, executor=ProcessExecutor(2, start_method=start_method))
    assert (marker_dir / "killed-on-load-0").exists() and (marker_dir / "killed-on-load-1").exists()
    assert len(exp.trials) == 6 and all(t.state == TrialState.COMPLETE for t in exp.trials)


def test_workers_killed_at_every_start_stop_the_search_clearly(sqlite_url, marker_dir):
    exp = make(sqlite_url)
    objective = objectives.KilledWhileLoading(str(marker_dir), times=1000)
    with pytest.raises(ExecutorError, match="keep dying while starting.*signal 9"):
        exp.optimize(objective, n_trials=4, n_jobs=2)
    # 2 workers, 3 replacements each (the other slot's last one may have been killed too before the search gave up)
    assert 7 <= len(list(marker_dir.glob("killed-on-load-*"))) <= 8
    assert exp.trials == []


UNGUARDED = """
import knoblab as kl
from knoblab.executors import ProcessExecutor
from tests.executors import objectives

exp = kl.Experiment("unguarded", {"x": kl.Real(0, 1)}, storage="sqlite:///unguarded.db", seed=0)
exp.optimize(objectives.trivial, n_trials=4, executor=ProcessExecutor(2, start_method=START))
print("ran", len(exp.trials))
"""


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_n_jobs_in_a_script_without_a_main_guard_says_what_to_do(tmp_path, start_method):
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED.replace("START", repr(start_method)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "ran" not in done.stdout
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("knoblab.executors.base.ExecutorError: ") and 'if __name__ == "__main__":' in last, last
    assert "bootstrapping phase" not in done.stderr  # multiprocessing's own error, which says nothing of knoblab
    guarded = script.read_text().replace("\nexp =", '\nif __name__ == "__main__":\n    exp =')
    guarded = guarded.replace("\nexp.optimize", "\n    exp.optimize").replace("\nprint", "\n    print")
    script.write_text(guarded)
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "ran 4" in done.stdout, done.stderr


def test_retries_in_workers_are_attempts_of_one_configuration(sqlite_url, marker_dir):
    exp = kl.Experiment("r", {"x": [0.003, 0.004, 0.006, 0.007, 0.99]}, storage=sqlite_url, strategy="grid")
    with pytest.warns(kl.TrialFailedWarning, match="not worth another attempt"):
        exp.optimize(objectives.flaky, n_jobs=2, retries=2, retry_on=MemoryError)
    trials = exp.trials
    by_x = {x: [t for t in trials if t.params["x"] == x] for x in (0.003, 0.004, 0.006, 0.007, 0.99)}
    for x in (0.003, 0.006):  # MemoryError twice, then it fits
        runs = by_x[x]
        assert [t.state for t in runs] == [TrialState.FAILED, TrialState.FAILED, TrialState.COMPLETE]
        assert [t.attrs.get("attempt", 1) for t in runs] == [1, 2, 3]
        assert [t.attrs.get("retry_of") for t in runs] == [None, runs[0].number, runs[1].number]
    assert [t.state for t in by_x[0.004]] == [TrialState.COMPLETE]
    assert [t.state for t in by_x[0.99]] == [TrialState.FAILED]  # a ValueError is not retried
    assert len(trials) == 9


def test_a_call_whose_trials_all_fail_in_workers_raises(sqlite_url):
    exp = make(sqlite_url)
    broken = "ZeroDivisionError: the objective is broken"
    with pytest.warns(kl.TrialFailedWarning, match=broken) as warned, pytest.raises(kl.AllTrialsFailedError):
        exp.optimize(objectives.always_fails, n_trials=4, n_jobs=2)
    assert len(warned) == 1 and warned[0].filename == __file__
    assert [t.state for t in exp.trials] == [TrialState.FAILED] * 4


def test_worker_killed_with_on_stale_fail_is_not_retried(sqlite_url):
    exp = make(sqlite_url, on_stale="fail")
    exp.optimize(objectives.kill_self_once, n_trials=5, n_jobs=2)
    trials = exp.trials
    assert [t.number for t in trials if t.state == TrialState.FAILED] == [2]
    assert not any(t.attrs.get("retry_of") is not None for t in trials)
    assert sum(t.state == TrialState.COMPLETE for t in trials) == 5


def test_a_trial_that_kills_its_worker_every_time_is_tried_twice(sqlite_url):
    exp = kl.Experiment("k", {"x": [0.1, 0.9, 0.2]}, storage=sqlite_url, strategy="grid")
    exp.optimize(objectives.always_kill_self, n_jobs=2)
    runs = [t for t in exp.trials if t.params["x"] == 0.9]
    assert len(runs) == 2 and all(t.state == TrialState.FAILED for t in runs)
    assert "not run again" in runs[1].error
    assert sorted(t.params["x"] for t in exp.trials if t.state == TrialState.COMPLETE) == [0.1, 0.2]


def test_trial_timeout_kills_the_worker_and_fails_the_trial(sqlite_url):
    exp = make(sqlite_url)
    exp.optimize(objectives.hang_on_trial_one, n_trials=4, n_jobs=2, trial_timeout=2.0)
    trials = exp.trials
    assert len(trials) == 4
    slow = exp.trial(1)
    assert slow.state == TrialState.FAILED and "trial_timeout=2 s" in slow.error
    assert all(t.state == TrialState.COMPLETE for t in trials if t.number != 1)


def test_exception_outside_catch_stops_the_search(sqlite_url):
    exp = make(sqlite_url)
    with pytest.raises(TypeError, match="not in catch"):
        exp.optimize(objectives.raise_type_error, n_trials=4, n_jobs=2, catch=(ValueError,))
    assert exp.trials and all(t.state == TrialState.FAILED for t in exp.trials)
    assert not any(t.state == TrialState.RUNNING for t in exp.trials)


def test_bad_arguments():
    exp = kl.Experiment("b", SPACE, storage="sqlite:///:memory:")
    with pytest.raises(ValueError, match="trial_timeout"):
        exp.optimize(objectives.trivial, n_trials=1, trial_timeout=-1)
    with pytest.raises(ValueError, match="executor"):
        exp.optimize(objectives.trivial, n_trials=1, executor="threads")
    with pytest.raises(ValueError, match="n_jobs"):
        ProcessExecutor(0)


# ---- a late result: the worker fell silent, another process recovered its trial, then the worker finished ----
def late_experiment(url, name="late"):
    """An experiment whose objective (`objectives.recovered_while_running`) has trial 0 recovered as stale by
    another process while it runs; the heartbeat interval is long, so its silence is real."""
    space = {"x": kl.Real(0.0, 1.0), "url": url, "name": name}
    return kl.Experiment(name, space, storage=url, strategy="random", seed=1, heartbeat_interval=60)


def check_late_result_refused(exp, n_trials):
    """The late run changed nothing the recovery decided, and nothing else was lost."""
    trials = exp.trials
    first = exp.trial(0)
    assert first.state == TrialState.FAILED and first.attrs.get("interrupted") and "no heartbeat" in first.error
    assert first.value is None and first.metrics == {} and first.reports == []  # neither its result nor its report
    for t in trials:  # under load a recoverer may catch another silent trial: the same holds for it
        if t.attrs.get("interrupted"):
            assert t.state == TrialState.FAILED and t.value is None
    counted = [t for t in trials if not t.attrs.get("interrupted")]
    assert len(counted) == n_trials and all(t.state == TrialState.COMPLETE for t in counted)
    retry = [t for t in trials if t.attrs.get("retry_of") == 0]
    assert len(retry) == 1 and retry[0].params == first.params and retry[0].state == TrialState.COMPLETE
    assert exp.best.value == min(t.params["x"] for t in counted) > 0.0  # the late 0.0 is nowhere


@pytest.mark.parametrize("executor", ["local", "processes"])
def test_a_late_result_after_stale_recovery_is_refused(sqlite_url, executor):
    exp = late_experiment(sqlite_url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exp.optimize(objectives.recovered_while_running, n_trials=4, executor=executor)
    check_late_result_refused(exp, 4)
    if executor == "local":  # in this process; a worker process warns on its own stderr
        late = [str(w.message) for w in caught if issubclass(w.category, kl.trial.LateResultWarning)]
        assert late and all("trial 0 is no longer RUNNING" in m for m in late)
