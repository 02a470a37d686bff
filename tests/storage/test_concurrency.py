"""Several writer processes on one SQLite file: no "database is locked", no trial lost, none run twice."""

from __future__ import annotations

from collections import Counter

import pytest

import knoblab as kl
from knoblab.trial import TrialState

from .writers import ran_numbers, run_writers


def check_writers(url, tmp_path, n_writers, n_trials, n_queued):
    exp = kl.Experiment("load", {"x": kl.Real(0.0, 1.0)}, storage=url, strategy="random", seed=1)
    for i in range(n_queued):
        exp.enqueue({"x": i / n_queued})
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    codes = run_writers(url, "load", n_trials, n_writers, str(log_dir))
    assert codes == [0] * n_writers
    trials = exp.trials
    assert [t.number for t in trials] == list(range(n_trials))  # none lost, no gap, no overshoot
    assert all(t.state == TrialState.COMPLETE for t in trials)
    ran = Counter(ran_numbers(log_dir))
    assert sorted(ran) == list(range(n_trials)) and max(ran.values()) == 1  # each handed out exactly once
    assert len({t.attrs["pid"] for t in trials}) == n_writers  # every writer took part
    enqueued = sorted(t.params["x"] for t in trials if t.attrs.get("source") == "enqueued")
    assert enqueued == [i / n_queued for i in range(n_queued)]


def test_four_writers_on_sqlite(sqlite_url, tmp_path):
    check_writers(sqlite_url, tmp_path, n_writers=4, n_trials=120, n_queued=24)


@pytest.mark.slow
def test_four_writers_on_sqlite_1000(sqlite_url, tmp_path):
    check_writers(sqlite_url, tmp_path, n_writers=4, n_trials=1000, n_queued=100)


@pytest.mark.parametrize("strategy", ["random", "sobol", "lhs", "tpe"])
def test_writers_asking_at_once_never_propose_the_same_point(sqlite_url, tmp_path, strategy):
    """Processes asking at the same moment see the same history; their points still differ, since each ask draws
    from stream positions claimed in the storage (not from the history's length)."""
    exp = kl.Experiment(
        "spread", {"x": kl.Real(0.0, 1.0), "y": kl.Real(0.0, 1.0)}, storage=sqlite_url, strategy=strategy
    )
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    assert run_writers(sqlite_url, "spread", 36, 3, str(log_dir)) == [0, 0, 0]
    trials = exp.trials
    assert len(trials) == 36 and len({t.attrs["pid"] for t in trials}) >= 2  # they did work side by side
    points = Counter((t.params["x"], t.params["y"]) for t in trials)
    assert max(points.values()) == 1, [
        (t.number, t.attrs["pid"], t.params) for t in trials if points[(t.params["x"], t.params["y"])] > 1
    ]


def check_a_finite_space_runs_each_point_once(url, tmp_path, strategy):
    """A grid's next point is the same for every process that read the same history: the storage refuses the
    second copy and that process asks again, so the whole grid runs with no point twice (random search on a
    finite space likewise)."""
    space = {"x": [i / 10 for i in range(10)], "y": [0, 1, 2, 3]}
    exp = kl.Experiment("grid", space, storage=url, strategy=strategy)
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    assert run_writers(url, "grid", 40, 3, str(log_dir)) == [0, 0, 0]
    trials = exp.trials
    assert len(trials) == 40 and len({t.attrs["pid"] for t in trials}) >= 2
    points = Counter((t.params["x"], t.params["y"]) for t in trials)
    assert len(points) == 40, [
        (t.number, t.attrs["pid"], t.params) for t in trials if points[tuple(t.params.values())] > 1
    ]


@pytest.mark.parametrize("strategy", ["grid", "random"])
def test_writers_on_a_finite_space_run_each_point_once(sqlite_url, tmp_path, strategy):
    check_a_finite_space_runs_each_point_once(sqlite_url, tmp_path, strategy)
