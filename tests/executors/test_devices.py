"""GPUs per worker (knoblab.executors.devices): the plan for each request, and what real worker processes see.

There is no GPU here: the tests check the environment each worker is started with (set before it loads the
objective, so before torch or JAX), what Keras' torch backend and JAX pick from it, and what each trial records.
bench/gpu_workers.py is the check to run where GPUs exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import knoblab as kl
from knoblab.executors.devices import Assignment, check_request, plan, ray_num_gpus, visible_gpus
from knoblab.trial import TrialState

from . import gpu_objectives


@pytest.fixture(autouse=True)
def marker_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_TEST_DIR", str(tmp_path))
    return tmp_path


def devices_of(assignments):
    return [(a.devices, a.share) for a in assignments]


# ---- the plan ----
def test_auto_and_lists_share_devices_out():
    assert devices_of(plan("auto", 2, ["0", "1"])) == [(("0",), 1.0), (("1",), 1.0)]
    assert devices_of(plan("auto", 2, ["0", "1", "2", "3"])) == [(("0", "1"), 1.0), (("2", "3"), 1.0)]
    assert devices_of(plan("auto", 3, ["0", "1"])) == [(("0",), 0.5), (("1",), 1.0), (("0",), 0.5)]
    assert devices_of(plan("auto", 2, [])) == [((), 1.0), ((), 1.0)]  # no GPU: the CPU, said so per trial
    assert devices_of(plan([1, 3], 2)) == [(("1",), 1.0), (("3",), 1.0)]
    assert devices_of(plan(["GPU-a1"], 2)) == [(("GPU-a1",), 0.5), (("GPU-a1",), 0.5)]
    assert plan(None, 4) is None


def test_amounts_per_worker():
    assert devices_of(plan(0.5, 4, ["0", "1"])) == [(("0",), 0.5), (("0",), 0.5), (("1",), 0.5), (("1",), 0.5)]
    assert devices_of(plan(0.25, 3, ["5"])) == [(("5",), 0.25)] * 3
    assert devices_of(plan(1, 2, ["0", "1", "2"])) == [(("0",), 1.0), (("1",), 1.0)]
    assert devices_of(plan(2, 2, ["0", "1", "2", "3"])) == [(("0", "1"), 1.0), (("2", "3"), 1.0)]
    assert devices_of(plan(0, 2, ["0"])) == [((), 1.0), ((), 1.0)]
    with pytest.raises(ValueError, match=r"gpus=0.5 for 3 workers needs 2 GPUs, but 1 are visible"):
        plan(0.5, 3, ["0"])
    with pytest.raises(ValueError, match=r"gpus=1 for 2 workers needs 2 GPUs, but 0 are visible"):
        plan(1, 2, [])


@pytest.mark.parametrize("bad", ["all", -1, 1.5, float("nan"), [0, 0], [True], [], [-2], "", {"a": 1}, True])
def test_bad_requests_name_gpus(bad):
    with pytest.raises(ValueError, match=r"^gpus: got"):
        check_request(bad)


def test_visible_gpus_follow_cuda_visible_devices():
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "0, 2"}) == ["0", "2"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_the_environment_of_an_assignment():
    env = Assignment(("3",), 0.5).apply({"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.2"})
    assert env["CUDA_VISIBLE_DEVICES"] == "3" and env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert env["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.2"  # the user's own setting stays
    cpu = Assignment(()).apply({})
    assert cpu["CUDA_VISIBLE_DEVICES"] == "" and cpu["KERAS_TORCH_DEVICE"] == "cpu" and cpu["JAX_PLATFORMS"] == "cpu"
    assert Assignment(("0", "1")).apply({}).get("XLA_PYTHON_CLIENT_MEM_FRACTION") is None  # whole devices
    assert Assignment(("1",), 0.5).attrs() == {"gpus": [1], "gpu_share": 0.5}
    assert Assignment(()).attrs() == {"gpus": []}


def test_ray_gets_the_same_request_as_num_gpus():
    assert ray_num_gpus(0.5, 4, 2) == 0.5
    assert ray_num_gpus(2, 2, 8) == 2.0
    assert ray_num_gpus("auto", 2, 2) == 1.0
    assert ray_num_gpus("auto", 4, 2) == 0.5
    assert ray_num_gpus("auto", 3, 2) == 0.5
    assert ray_num_gpus("auto", 2, 0) == 0.0
    assert ray_num_gpus([0, 1, 2, 3], 2, 0) == 2.0
    assert ray_num_gpus(None, 2, 2) == 0.0


# ---- what real worker processes see ----
def run(url, objective, n_trials=6, **kwargs):
    exp = kl.Experiment("gpus", {"x": kl.Real(0, 1)}, storage=url, strategy="random", seed=0)
    exp.optimize(objective, n_trials=n_trials, **kwargs)
    return exp, [t for t in exp.trials if t.state == TrialState.COMPLETE]


def test_each_worker_sees_only_its_device_before_it_loads_the_objective(sqlite_url):
    exp, trials = run(sqlite_url, gpu_objectives.sees, n_jobs=2, gpus=[0, 1])
    assert len(trials) == 6
    by_pid = {}
    for t in trials:
        (device,) = t.attrs["gpus"]
        assert "gpu_share" not in t.attrs
        assert (
            t.attrs["seen_at_import"]["CUDA_VISIBLE_DEVICES"] == str(device) == t.attrs["seen"]["CUDA_VISIBLE_DEVICES"]
        )
        assert t.attrs["torch_at_import"] is False
        assert t.attrs["worker_pid"] != os.getpid()
        by_pid.setdefault(t.attrs["worker_pid"], set()).add(device)
    assert len(by_pid) == 2 and sorted(d for s in by_pid.values() for d in s) == [0, 1]  # one device per worker
    assert "CUDA_VISIBLE_DEVICES" not in os.environ or os.environ["CUDA_VISIBLE_DEVICES"] != "0"  # driver untouched


def test_two_workers_share_one_device_by_halves(sqlite_url, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")  # what the driver may hand out
    monkeypatch.delenv("XLA_PYTHON_CLIENT_MEM_FRACTION", raising=False)
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    _, trials = run(sqlite_url, gpu_objectives.sees, n_trials=4, n_jobs=2, gpus=0.5)
    assert len({t.attrs["worker_pid"] for t in trials}) == 2
    for t in trials:
        assert t.attrs["gpus"] == [2] and t.attrs["gpu_share"] == 0.5
        seen = t.attrs["seen_at_import"]
        assert seen["CUDA_VISIBLE_DEVICES"] == "2"
        assert seen["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.450" and seen["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"


def test_a_replaced_worker_keeps_its_device(sqlite_url, marker_dir):
    exp, trials = run(sqlite_url, gpu_objectives.sees_and_dies_once, n_trials=6, n_jobs=2, gpus=[4, 7])
    assert len(trials) == 6  # the killed trial was retried
    by_pid: dict[int, set[int]] = {}
    for t in exp.trials:  # the killed trial too: it recorded its device before its worker died
        assert t.attrs["seen_at_import"]["CUDA_VISIBLE_DEVICES"] == str(t.attrs["gpus"][0])
        by_pid.setdefault(t.attrs["worker_pid"], set()).add(t.attrs["gpus"][0])
    killed = int((marker_dir / "killed").read_text())
    assert len(by_pid) == 3 and killed in by_pid and all(len(d) == 1 for d in by_pid.values())
    (device,) = by_pid.pop(killed)
    assert sorted(d for (d,) in by_pid.values()) == sorted([4, 7])  # the replacement took the dead worker's device
    assert device in {d for (d,) in by_pid.values()}


def test_a_too_large_request_fails_before_any_worker_starts(sqlite_url, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    exp = kl.Experiment("big", {"x": kl.Real(0, 1)}, storage=sqlite_url, strategy="random", seed=0)
    with pytest.raises(ValueError, match="gpus=1 for 2 workers needs 2 GPUs, but 1 are visible"):
        exp.optimize(gpu_objectives.sees, n_trials=2, n_jobs=2, gpus=1)
    with pytest.raises(ValueError, match="^gpus: got 'everything'"):
        exp.optimize(gpu_objectives.sees, n_trials=2, gpus="everything")
    with pytest.raises(ValueError, match="gpus needs trials in worker processes"):
        exp.optimize(gpu_objectives.sees, n_trials=2, executor="local", gpus=0)
    assert exp.trials == []


@pytest.mark.slow
def test_no_gpu_means_torch_and_jax_compute_on_the_cpu(sqlite_url):
    pytest.importorskip("keras")
    pytest.importorskip("jax")
    _, trials = run(sqlite_url, gpu_objectives.sees_frameworks, n_trials=2, gpus=0)  # n_jobs=1: still a worker
    for t in trials:
        assert t.attrs["gpus"] == [] and t.attrs["worker_pid"] != os.getpid()
        assert t.attrs["seen_at_import"]["CUDA_VISIBLE_DEVICES"] == ""
        assert t.attrs["keras_torch_device"] == "cpu" and t.attrs["jax_platform"] == "cpu"


@pytest.mark.slow
@pytest.mark.keras
def test_a_scan_passes_its_gpus_to_the_workers(tmp_path, sqlite_url):
    pytest.importorskip("keras")
    import numpy as np

    from tests.keras.conftest import tiny_model

    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    scan = kl.Scan(
        x,
        y,
        params={"units": [2, 4], "epochs": 2},
        model=tiny_model,
        experiment_name="gpu_scan",
        storage=sqlite_url,
        metric="val_accuracy",
        n_trials=2,
        artifacts_dir=tmp_path,
        gpus=0,
        seed=0,
    )
    assert [t.attrs["gpus"] for t in scan.experiment.trials] == [[], []]
    assert (scan.data["state"] == "COMPLETE").all()


RAY_SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    import ray
    import knoblab as kl
    from tests.executors import gpu_objectives

    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}})  # two GPUs Ray believes in: it hands out ids
    out = {}
    for name, gpus in (("half", 0.5), ("auto", "auto")):
        exp = kl.Experiment(name, {"x": kl.Real(0, 1)}, storage=sys.argv[1], strategy="random", seed=0)
        exp.optimize(gpu_objectives.sees, n_trials=4, n_jobs=2, executor="ray", gpus=gpus)
        out[name] = [(t.state, t.attrs.get("gpus"), t.attrs.get("gpu_share"), t.attrs["seen"]["CUDA_VISIBLE_DEVICES"])
                     for t in exp.trials]
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_the_ray_executor_maps_the_request_to_num_gpus(sqlite_url):
    pytest.importorskip("ray")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.path.join(root, "src")])}
    env.pop("CUDA_VISIBLE_DEVICES", None)  # an empty one (left by an earlier test) makes Ray refuse its 2 GPUs
    done = subprocess.run(
        [sys.executable, "-c", RAY_SCRIPT, sqlite_url], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    out = json.loads(done.stdout.strip().splitlines()[-1])
    for state, gpus, share, seen in out["half"]:
        assert state == "COMPLETE" and len(gpus) == 1 and share == 0.5 and seen == str(gpus[0])
    assert all(
        state == "COMPLETE" and share is None and seen == str(gpus[0]) for state, gpus, share, seen in out["auto"]
    )
    assert {g[0] for _, g, _, _ in out["auto"]} == {0, 1}  # one whole GPU per trial, both in use
