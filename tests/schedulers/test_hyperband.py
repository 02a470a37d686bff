"""Hyperband on hand-written curves: brackets from trial numbers, and trials compete only inside their bracket."""

import collections
import pickle

import pytest

import knoblab as kl
from knoblab.schedulers import Hyperband

from .support import outcome, run_curves


class _T:
    def __init__(self, number, attrs=None):
        self.number, self.attrs = number, attrs or {}


def test_trials_compete_only_within_their_bracket(sqlite_url):
    # eta=2, max 4, 2 brackets: bracket 0 has rungs 1 and 2, bracket 1 only rung 2. With seed 0, trials 0-3 fall in
    # bracket 1 and trials 4-5 in bracket 0
    hb = Hyperband(2, 1, 4, n_brackets=2)
    curves = [[4] * 4, [3] * 4, [5] * 4, [1] * 4, [6] * 4, [7] * 4]
    exp = run_curves(sqlite_url, curves, hb)
    assert [hb.bracket_of(exp, _T(n)) for n in range(6)] == [1, 1, 1, 1, 0, 0]
    assert hb.rungs(exp, 0) == [1, 2] and hb.rungs(exp, 1) == [2]
    assert outcome(exp) == [
        (0, "COMPLETE", 0, 4),
        (1, "COMPLETE", 0, 4),  # rung 2 {4, 3}: keeps 3
        (2, "PRUNED", 0, 2),  # rung 2 {4, 3, 5}: out, after 2 epochs (bracket 1 does not decide at 1)
        (3, "COMPLETE", 0, 4),
        (4, "COMPLETE", 0, 4),  # worst of all, but alone in bracket 0: it would have stopped against bracket 1
        (5, "PRUNED", 0, 1),  # bracket 0, rung 1 {6, 7}: out after 1 epoch
    ]


def test_brackets_are_a_function_of_seed_and_number_in_any_process():
    exp = kl.Experiment("hb", {"x": kl.Real(0, 1), "epochs": 27}, storage="sqlite://", seed=3)
    hb = Hyperband(3, 1)
    assert hb.brackets(exp) == 4 and hb.shares(exp) == [27, 12, 6, 4]
    mine = [hb.bracket_of(exp, _T(n)) for n in range(200)]
    elsewhere = pickle.loads(pickle.dumps(hb))  # a worker's copy
    assert [elsewhere.bracket_of(exp, _T(n)) for n in range(200)] == mine
    assert [Hyperband(3, 1).bracket_of(exp, _T(n)) for n in range(200)] == mine
    assert hb.bracket_of(exp, _T(5, {"bracket": 2})) == 2  # a continuation keeps its parent's
    counts = collections.Counter(hb.bracket_of(exp, _T(n)) for n in range(4900))
    for b, share in enumerate([27, 12, 6, 4]):
        assert abs(counts[b] / 4900 - share / 49) < 0.03


def test_rungs_per_bracket():
    exp = kl.Experiment("hb", {"x": kl.Real(0, 1), "epochs": 27}, storage="sqlite://", seed=0)
    hb = Hyperband(3, 1)
    assert [hb.rungs(exp, b) for b in range(4)] == [[1, 3, 9], [3, 9], [9], []]


def test_promote_mode_keeps_a_continuation_in_its_parents_bracket(sqlite_url):
    curves = [[float(v)] * 9 for v in (5, 3, 8, 1, 7, 2, 6, 4, 0.5, 9, 2.5, 3.5)]
    hb = Hyperband(3, 1, 9, mode="promote")
    exp = run_curves(sqlite_url, curves, hb, n_trials=20)
    trials = {t.number: t for t in exp.storage.get_trials(exp.id, with_reports=True)}
    continuations = [t for t in trials.values() if "resumed_from" in t.attrs]
    assert continuations
    for t in continuations:
        parent = trials[t.attrs["resumed_from"]]
        assert t.attrs["bracket"] == hb.bracket_of(exp, parent)
        assert t.reports[0][0] == parent.attrs["paused_at"] == t.attrs["resume_step"]
    for t in trials.values():  # every segment ends at a rung of its bracket or at max_resource, complete
        end = t.reports[-1][0] + 1
        if t.state.value == "PRUNED":
            assert end in hb.rungs(exp, hb.bracket_of(exp, t))
        else:
            assert t.state.value == "COMPLETE" and end == 9


# ---- brackets sized to a budget (issue 13) ----
def test_plan_brackets_fits_the_budget_and_expects_trials_at_the_top():
    from knoblab.schedulers.hyperband import PLAN_MIN_TOP, plan_brackets

    assert plan_brackets(27, 100) is None  # 3.7 full trials: nothing to gain from rungs
    small, large = plan_brackets(27, 240), plan_brackets(27, 900)
    assert small["expected_top"] >= PLAN_MIN_TOP and large["expected_top"] >= PLAN_MIN_TOP
    # a larger budget affords an earlier first rung, more brackets and more configurations
    assert large["min_resource"] <= small["min_resource"] and large["n_brackets"] >= small["n_brackets"]
    assert large["expected_trials"] > 3 * small["expected_trials"]
    for epochs, budget in ((9, 60), (27, 240), (40, 600), (100, 1000)):
        plan = plan_brackets(epochs, budget)
        assert epochs / plan["min_resource"] <= 3**3 * 3  # at most 3 rungs below the top
    hb = Hyperband.for_budget(27, 240)
    assert hb.mode == "promote" and hb.n_brackets == small["n_brackets"] and hb.min_resource == small["min_resource"]
    assert Hyperband.for_budget(27, 80) is None


@pytest.mark.parametrize("budget", [240, 900])
def test_a_schedule_sized_to_the_budget_brings_several_trials_to_the_top(sqlite_url, budget):
    """What the plan expects happens with the real (asynchronous) scheduler: trials reach max_resource, the
    budget is spent exactly, and more configurations are tried than full trials would allow."""
    from .objectives import bowl

    hb = Hyperband.for_budget(27, budget)
    exp = kl.Experiment("plan", {"x": kl.Real(0, 1), "epochs": 27}, metric="loss", scheduler=hb, storage=sqlite_url)
    exp.optimize(bowl, max_resource=budget, show_progress=False)
    trials = exp.trials
    configurations = sum(1 for t in trials if "resumed_from" not in t.attrs)
    top = sum(1 for t in trials if t.state.value == "COMPLETE")
    assert exp.resource_spent == budget
    assert top >= 3 and configurations > 1.5 * budget / 27, (top, configurations)
