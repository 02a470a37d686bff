"""Rounds: a new space with its lineage, trials that carry the round, strategies that see only it, budgets per
round, and reopening by any round's space."""

import pytest

import knoblab as kl
from knoblab.strategies.base import Strategy

from .support import synthetic_objective

WIDE = {"x": kl.Real(0.0, 10.0), "opt": ["a", "b", "c"], "n": (1, 5, 5), "fixed": 3}
NARROW = {"x": kl.Real(0.0, 4.0), "opt": ["a", "b"], "n": (1, 5, 5), "fixed": 3}


class Recording(Strategy):
    """Random proposals that remember the history each ask saw."""

    name = "recording"

    def __init__(self):
        self.seen = []

    def ask(self, history, n):
        self.seen.append([t.number for t in history])
        return [self.space.sample(self.rng(len(history), i)) for i in range(n)]


def test_next_round_records_lineage_and_trials_carry_it(sqlite_url):
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(synthetic_objective, n_trials=6, show_progress=False)
    assert exp.round == 0
    number = exp.next_round(NARROW, reason="x above 4 and opt c were worse")
    assert number == 1 and exp.round == 1
    exp.optimize(synthetic_objective, n_trials=4, show_progress=False)  # n_trials counts this round's trials
    trials = exp.trials
    assert [t.round for t in trials] == [0] * 6 + [1] * 4
    assert all(t.params["x"] <= 4.0 and t.params["opt"] != "c" for t in trials if t.round == 1)
    rounds = exp.rounds
    assert [r["round"] for r in rounds] == [0, 1]
    assert rounds[1]["parent"] == 0 and rounds[1]["reason"] == "x above 4 and opt c were worse"
    assert rounds[1]["space"] == exp.space.describe()
    assert exp.results["round"].tolist() == [0] * 6 + [1] * 4
    enqueued = exp.enqueue({"x": 1.0, "opt": "a", "n": 2})
    assert enqueued.round == 1


def test_reopening_accepts_every_rounds_space_and_load_opens_the_latest(sqlite_url):
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(synthetic_objective, n_trials=3, show_progress=False)
    exp.next_round(NARROW, reason="narrow")
    again = kl.Experiment("r", NARROW, storage=sqlite_url, strategy="random", seed=0)
    assert again.round == 1
    first = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    assert first.round == 0
    first.optimize(synthetic_objective, n_trials=3, show_progress=False)  # round 0 is done: nothing runs
    assert len(first.trials) == 3
    loaded = kl.Experiment.load("r", sqlite_url)
    assert loaded.round == 1 and loaded.space.describe() == again.space.describe()
    with pytest.raises(ValueError, match="another space"):
        kl.Experiment("r", {"x": kl.Real(0.0, 1.0)}, storage=sqlite_url)


def test_next_round_is_idempotent_for_a_rerun_script_and_refuses_the_same_space(sqlite_url):
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    assert exp.next_round(NARROW, "one") == 1
    rerun = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    assert rerun.next_round(NARROW, "one") == 1 and len(rerun.rounds) == 2  # found, not recorded twice
    with pytest.raises(ValueError, match="own space"):
        rerun.next_round(NARROW, "same again")
    assert rerun.next_round(WIDE, "back to wide") == 2  # a child of round 1 may widen again
    assert rerun.rounds[2]["parent"] == 1


def test_next_round_takes_a_stored_description_as_a_web_form_sends_it(sqlite_url):
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    description = kl.Space(NARROW).describe()
    assert exp.next_round(description, reason="from the dashboard") == 1
    assert exp.space.describe() == description
    with pytest.raises(ValueError, match="reason"):
        exp.next_round(WIDE, reason=3)


def test_strategy_sees_only_the_current_round(sqlite_url):
    strategy = Recording()
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy=strategy, seed=0)
    exp.optimize(synthetic_objective, n_trials=3, show_progress=False)
    exp.next_round(NARROW, "narrow")
    strategy.seen.clear()
    exp.optimize(synthetic_objective, n_trials=2, show_progress=False)
    assert strategy.seen == [[], [3]]  # round 0's trials (0, 1, 2) are not its history


def test_warm_start_shows_earlier_points_inside_the_new_space(sqlite_url):
    from knoblab.analysis.rounds import start_round

    strategy = Recording()
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy=strategy, seed=0)
    for params in ({"x": 1.0, "opt": "a", "n": 1}, {"x": 9.0, "opt": "a", "n": 1}, {"x": 2.0, "opt": "c", "n": 1}):
        exp.enqueue(params)
    exp.optimize(synthetic_objective, n_trials=3, show_progress=False)
    start_round(exp, NARROW, "narrow", warm_start=True)
    strategy.seen.clear()
    exp.optimize(synthetic_objective, n_trials=1, show_progress=False)
    assert strategy.seen == [[0]]  # only x=1, opt=a lies inside the narrower space


def test_rounds_are_compared(sqlite_url):
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(synthetic_objective, n_trials=20, show_progress=False)
    exp.next_round(NARROW, "narrow")
    exp.optimize(synthetic_objective, n_trials=20, show_progress=False)
    c = exp.analyze("all").rounds.set_index("round")
    assert c.loc[1, "median"] < c.loc[0, "median"]  # minimizing: the narrow round is better
    assert c.loc[1, "p_better"] < 0.05 and c.loc[1, "parent"] == 0
    assert exp.analyze().round_numbers == [1]


@pytest.mark.slow
def test_parallel_workers_run_the_current_round(sqlite_url):
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(synthetic_objective, n_trials=2, show_progress=False)
    exp.next_round(NARROW, "narrow")
    exp.optimize(synthetic_objective, n_trials=4, n_jobs=2, show_progress=False)
    later = [t for t in exp.trials if t.round == 1]
    assert len(later) == 4 and all(t.state.value == "COMPLETE" and t.params["x"] <= 4.0 for t in later)


def test_a_target_reached_in_an_earlier_round_does_not_end_the_next(sqlite_url):
    exp = kl.Experiment("r", WIDE, storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(synthetic_objective, n_trials=3, target=1e9, show_progress=False)  # reached at once
    assert len(exp.trials) == 1
    exp.next_round(NARROW, "narrow")
    exp.optimize(synthetic_objective, n_trials=3, target=-1e9, show_progress=False)  # never reached
    assert [t.round for t in exp.trials] == [0, 1, 1, 1]


def _start_round(url, low):
    exp = kl.Experiment.load("concurrent", storage=url)
    return exp.next_round({"x": kl.Real(low, 1.0), "c": ["a", "b"]}, f"narrowed to x >= {low}")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_rounds_started_at_once_by_several_processes_are_all_kept(backend, request, tmp_path):
    """Each process appends its round in one locked transaction: none is lost and numbers are not reused."""
    import multiprocessing as mp

    url = f"sqlite:///{tmp_path / 'rounds.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    exp = kl.Experiment("concurrent", {"x": kl.Real(0.0, 1.0), "c": ["a", "b"]}, storage=url, seed=0)
    exp.optimize(lambda t: t.params["x"], n_trials=2, show_progress=False)
    lows = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    with mp.get_context("spawn").Pool(len(lows)) as pool:
        numbers = pool.starmap(_start_round, [(url, low) for low in lows])
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
    rounds = kl.Experiment.load("concurrent", storage=url).rounds
    kept = {r["space"]["x"]["low"] for r in rounds if r["round"] > 0}
    assert kept == set(lows) and len(rounds) == 7
