"""PostgreSQL storage on a real server (started on loopback by the `postgres_server` fixture)."""

from __future__ import annotations

from collections import Counter

import pytest

import knoblab as kl
from knoblab.storage import SQLStorage, StorageError
from knoblab.trial import TrialState

from ..executors import objectives
from .test_concurrency import check_a_finite_space_runs_each_point_once, check_writers
from .test_sql import check_budget_reads_the_interrupted_flag_as_a_value, check_writes_after_recovery_are_refused


def test_experiment_round_trip(postgres_url):
    exp = kl.Experiment("pg", {"x": kl.Real(0.0, 1.0), "k": ["a", "b"]}, storage=postgres_url, seed=4)
    exp.optimize(objectives.quadratic, n_trials=6)
    again = kl.Experiment.load("pg", postgres_url)
    assert [t.number for t in again.trials] == list(range(6))
    assert again.best.value == exp.best.value
    assert [s for s, _ in again.trial(2).reports] == [0, 1, 2]
    again.optimize(objectives.quadratic, n_trials=8)
    assert len(exp.trials) == 8


def test_processes_on_postgres(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_TEST_DIR", str(tmp_path))
    exp = kl.Experiment("pgp", {"x": kl.Real(0.0, 1.0)}, storage=postgres_url, strategy="random")
    exp.optimize(objectives.kill_self_once, n_trials=8, n_jobs=2)
    counted = [t for t in exp.trials if not t.attrs.get("interrupted")]
    assert len(counted) == 8 and all(t.state == TrialState.COMPLETE for t in counted)
    assert sum(1 for t in exp.trials if t.attrs.get("interrupted")) == 1


def test_concurrent_trial_numbers_and_claims(postgres_url):
    """Many threads creating and claiming at once: unique numbers, each queued trial claimed once."""
    from concurrent.futures import ThreadPoolExecutor

    store = SQLStorage(postgres_url)
    rec = store.create_experiment("race", "value", "min", {}, 0)
    queued = [store.create_trial(rec.id, {"i": i}, TrialState.QUEUED).id for i in range(40)]

    def work(_):
        made = [store.create_trial(rec.id, {}, TrialState.RUNNING).number for _ in range(10)]
        claimed = []
        while (t := store.claim_queued(rec.id)) is not None:
            claimed.append(t.id)
        return made, claimed

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    numbers = [n for made, _ in results for n in made]
    claims = Counter(c for _, claimed in results for c in claimed)
    assert len(set(numbers)) == 80
    assert sorted(claims) == sorted(queued) and max(claims.values()) == 1


def test_writes_after_recovery_are_refused(postgres_url):
    check_writes_after_recovery_are_refused(postgres_url)


def test_budget_reads_the_interrupted_flag_as_a_value(postgres_url):
    check_budget_reads_the_interrupted_flag_as_a_value(postgres_url)


def test_budget_limit_is_exact_under_concurrency(postgres_url):
    from concurrent.futures import ThreadPoolExecutor

    store = SQLStorage(postgres_url)
    rec = store.create_experiment("limit", "value", "min", {}, 0)

    def work(_):
        return sum(store.create_trial(rec.id, {}, TrialState.RUNNING, limit=25) is not None for _ in range(10))

    with ThreadPoolExecutor(6) as pool:
        assert sum(pool.map(work, range(6))) == 25
    assert len(store.get_trials(rec.id)) == 25


def test_four_writers_on_postgres(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_TEST_DIR", str(tmp_path))
    check_writers(postgres_url, tmp_path, n_writers=4, n_trials=120, n_queued=24)


@pytest.mark.slow
def test_four_writers_on_postgres_1000(postgres_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_TEST_DIR", str(tmp_path))
    check_writers(postgres_url, tmp_path, n_writers=4, n_trials=1000, n_queued=100)


def test_writers_on_a_grid_run_each_point_once_on_postgres(postgres_url, tmp_path):
    check_a_finite_space_runs_each_point_once(postgres_url, tmp_path, "grid")


def test_wrong_postgres_url_is_clear_and_hides_the_password(postgres_server):
    port = postgres_server.rsplit(":", 1)[1]
    with pytest.raises(StorageError) as info:
        SQLStorage(f"postgresql+psycopg://knoblab:hunter2@127.0.0.1:{port}/no_such_db")
    assert "no_such_db" in str(info.value) and "hunter2" not in str(info.value)
    with pytest.raises(StorageError) as info:
        SQLStorage("postgresql+psycopg://knoblab:hunter2@127.0.0.1:1/x")
    assert "hunter2" not in str(info.value) and "127.0.0.1" in str(info.value)


def test_repr_hides_the_password(postgres_url):
    store = SQLStorage(postgres_url)
    assert "s3cret-pw" not in repr(store) and "***" in repr(store)
    exp = kl.Experiment("r", {"x": kl.Real(0, 1)}, storage=store)
    assert "s3cret-pw" not in repr(exp)
