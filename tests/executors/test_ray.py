"""Trials as Ray tasks on a real local Ray cluster (2 CPUs): results and reports reach storage from the workers."""

from __future__ import annotations

import os

import pytest

import knoblab as kl
from knoblab.executors import ExecutorError
from knoblab.trial import TrialState

from . import objectives

pytestmark = pytest.mark.slow  # a Ray cluster takes seconds to start

SPACE = {"x": kl.Real(0.0, 1.0)}


@pytest.fixture
def executor(ray_cluster):
    from knoblab.executors.ray import RayExecutor

    return RayExecutor


@pytest.fixture(autouse=True)
def marker_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_TEST_DIR", str(tmp_path))
    return tmp_path


def test_trials_run_as_ray_tasks_and_report_to_storage(sqlite_url, executor):
    exp = kl.Experiment("ray", SPACE, storage=sqlite_url, strategy="random", seed=1)
    exp.optimize(objectives.quadratic, n_trials=6, executor=executor(2, num_cpus=1))
    trials = exp.trials
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    assert os.getpid() not in {t.attrs["worker_pid"] for t in trials}
    assert [s for s, _ in exp.trial(4).reports] == [0, 1, 2]
    exp.optimize(objectives.quadratic, n_trials=8, executor="ray", n_jobs=2)  # by name, the budget continues
    assert len(exp.trials) == 8


def test_keras_trials_on_ray(sqlite_url, executor):
    pytest.importorskip("keras")
    space = {"units": [4, 8], "lr": kl.Real(1e-3, 1e-1, log=True)}
    exp = kl.Experiment("keras-ray", space, metric="val_loss", storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(objectives.keras_mlp, n_trials=4, executor=executor(2, num_cpus=1))
    trials = exp.trials
    assert all(t.state == TrialState.COMPLETE for t in trials), [t.error for t in trials]
    assert {t.metrics["backend"] for t in trials} == {"torch"}
    for t in trials:
        curve = exp.trial(t.number).curve("val_loss")
        assert [step for step, _ in curve] == [0, 1, 2]  # each epoch reached storage from the Ray worker
        assert t.value == pytest.approx(min(v for _, v in curve))


def test_a_dead_ray_worker_is_retried(sqlite_url, executor, tmp_path):
    space = {**SPACE, "dir": str(tmp_path)}
    exp = kl.Experiment("ray-kill", space, storage=sqlite_url, strategy="random")
    exp.optimize(objectives.kill_self_once, n_trials=4, executor=executor(2))
    dead = [t for t in exp.trials if t.attrs.get("interrupted")]
    assert [t.number for t in dead] == [2] and "Ray worker died" in dead[0].error
    counted = [t for t in exp.trials if not t.attrs.get("interrupted")]
    assert len(counted) == 4 and all(t.state == TrialState.COMPLETE for t in counted)


def test_a_late_result_after_stale_recovery_is_refused_on_ray(sqlite_url, executor):
    from .test_processes import check_late_result_refused, late_experiment

    exp = late_experiment(sqlite_url)
    exp.optimize(objectives.recovered_while_running, n_trials=4, executor=executor(2, num_cpus=1))
    check_late_result_refused(exp, 4)


def test_trial_timeout_cancels_the_ray_task(sqlite_url, executor):
    exp = kl.Experiment("ray-timeout", SPACE, storage=sqlite_url, strategy="random")
    # the time-out counts from submission, so it includes a fresh Ray worker's start (seconds on a busy machine)
    exp.optimize(objectives.hang_on_trial_one, n_trials=3, executor=executor(2), trial_timeout=15)
    assert exp.trial(1).state == TrialState.FAILED and "trial_timeout=15 s" in exp.trial(1).error
    assert sum(t.state == TrialState.COMPLETE for t in exp.trials) == 2


def test_resources_the_cluster_lacks_are_refused(sqlite_url, executor):
    exp = kl.Experiment("ray-gpu", SPACE, storage=sqlite_url)
    with pytest.raises(ExecutorError, match="0.5 GPU but the Ray cluster has 0"):
        exp.optimize(objectives.trivial, n_trials=2, executor=executor(2, num_gpus=0.5))
    assert exp.trials == []
