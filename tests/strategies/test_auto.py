"""auto: the grid rules of the core, then GP for small budgets and low dimensions, TPE otherwise."""

from __future__ import annotations

import knoblab as kl
from knoblab.space import Space
from knoblab.strategies.auto import AutoStrategy, branch_depth
from knoblab.strategies.gp import GPSearch
from knoblab.strategies.grid import GridSearch
from knoblab.strategies.tpe import TPESearch


def chosen(spec, n_trials=None, fraction_limit=None):
    s = AutoStrategy()
    s.setup(Space(spec), seed=0, direction="min")
    s.configure(n_trials=n_trials, fraction_limit=fraction_limit)
    return s.chosen


REAL = {"lr": kl.Real(1e-4, 1e-1, log=True), "units": kl.Int(8, 256)}
NESTED = {
    "layers": kl.Branch({1: {}, 2: {"norm": kl.Branch({"none": {}, "batch": {"m": kl.Real(0.9, 0.99)}})}}),
    "lr": kl.Real(1e-4, 1e-1, log=True),
}


def test_grid_rules_are_kept():
    assert isinstance(chosen({"a": [1, 2, 3]}, n_trials=10), GridSearch)
    assert isinstance(chosen({"a": [1, 2, 3], "b": [4, 5]}, fraction_limit=0.5), GridSearch)


def test_gp_for_small_budgets_and_low_dimensions():
    assert isinstance(chosen(REAL, n_trials=50), GPSearch)
    assert isinstance(chosen({"a": list(range(100)), "b": kl.Bool()}, n_trials=50), GPSearch)


def test_tpe_for_large_or_unknown_budgets_many_knobs_or_nested_branches():
    assert isinstance(chosen(REAL, n_trials=5000), TPESearch)
    assert isinstance(chosen(REAL, n_trials=None), TPESearch)
    assert isinstance(chosen({f"x{i}": kl.Real(0, 1) for i in range(40)}, n_trials=100), TPESearch)
    assert isinstance(chosen(NESTED, n_trials=50), TPESearch)


def test_branch_depth():
    assert branch_depth(Space(REAL)) == 0
    assert branch_depth(Space({"l": kl.Branch({1: {}, 2: {"u": kl.Int(1, 3)}})})) == 1
    assert branch_depth(Space(NESTED)) == 2


def test_auto_runs_an_experiment_end_to_end(tmp_path):
    exp = kl.Experiment("auto", REAL, storage=f"sqlite:///{tmp_path}/k.db", seed=1)
    exp.optimize(lambda t: (t.params["lr"] - 0.01) ** 2 + (t.params["units"] - 64) ** 2 / 1e4, n_trials=14)
    assert isinstance(exp.strategy.chosen, GPSearch)
    assert len(exp.trials) == 14


SMALL = {"a": [1, 2, 3, 4], "b": [0.0, 1.0]}  # 8 points: the rule picks GP for 3 trials, the grid for 8


def small_loss(trial):
    return trial.params["a"] + trial.params["b"]


def test_auto_keeps_its_choice_when_a_rerun_has_a_larger_budget(tmp_path):
    """The rule reads n_trials, so a rerun with more trials would switch strategy mid-experiment; the first
    choice is stored with the experiment and reused, by a rerun, a reopened experiment and a standalone worker."""
    url = f"sqlite:///{tmp_path}/k.db"
    exp = kl.Experiment("auto", SMALL, storage=url, seed=1)
    exp.optimize(small_loss, n_trials=3)
    assert isinstance(exp.strategy.chosen, GPSearch)
    assert exp.storage.get_experiment("auto").attrs["auto_choice"] == {"0": "gp"}
    rerun = kl.Experiment("auto", SMALL, storage=url, seed=1)  # the script again, with a budget the grid fits in
    rerun.optimize(small_loss, n_trials=8)
    assert isinstance(rerun.strategy.chosen, GPSearch)
    assert len(rerun.trials) == 8
    assert isinstance(chosen(SMALL, n_trials=8), GridSearch)  # what the rule alone picks for 8: a switch
    worker = kl.Experiment.load("auto", url)
    worker.optimize(small_loss, n_trials=8)  # nothing left to run, but the choice is the stored one
    assert isinstance(worker.strategy.chosen, GPSearch)


def test_a_new_round_chooses_again_and_keeps_that_choice(tmp_path):
    url = f"sqlite:///{tmp_path}/k.db"
    exp = kl.Experiment("auto", SMALL, storage=url, seed=1)
    exp.optimize(small_loss, n_trials=3)
    exp.next_round({"a": [1, 2], "b": [0.0, 1.0]}, reason="a > 2 is worse")
    exp.optimize(small_loss, n_trials=4)  # 4 points, 4 trials: the rule picks the grid for this round
    assert isinstance(exp.strategy.chosen, GridSearch)
    assert exp.storage.get_experiment("auto").attrs["auto_choice"] == {"0": "gp", "1": "grid"}
    again = kl.Experiment.load("auto", url)  # the latest round, with another budget: still its grid
    again.optimize(small_loss, n_trials=2)
    assert isinstance(again.strategy.chosen, GridSearch)


def test_ask_and_tell_store_the_choice_for_an_unknown_budget(tmp_path):
    exp = kl.Experiment("auto", REAL, storage=f"sqlite:///{tmp_path}/k.db", seed=1)
    trial = exp.ask()[0]
    exp.tell(trial, 1.0)
    assert isinstance(exp.strategy.chosen, TPESearch)
    exp.optimize(lambda t: t.params["lr"], n_trials=3)  # a budget GP would get, chosen after the first use
    assert isinstance(exp.strategy.chosen, TPESearch)


# ---- with a scheduler or a resource budget (issue 13) ----
def choice(spec, **budget):
    s = AutoStrategy()
    s.setup(Space(spec), seed=0, direction="min")
    return s.choose(n_trials=budget.pop("n_trials", None), fraction_limit=None, **budget)


def test_a_scheduler_makes_auto_choose_tpe_which_learns_from_every_rung():
    from knoblab.schedulers import Hyperband, MedianStopping

    spec = {**REAL, "epochs": 27}
    assert choice(spec, n_trials=50) == "gp"  # without a scheduler: every trial completes, a GP sees them all
    assert choice(spec, n_trials=50, scheduler=Hyperband(3, 1, mode="promote")) == "tpe"
    assert choice(spec, n_trials=50, scheduler=MedianStopping()) == "tpe"
    assert choice({"a": [1, 2, 3]}, n_trials=10, scheduler=Hyperband(3, 1)) == "grid"  # the grid rules come first


def test_a_resource_budget_counts_as_the_full_trials_it_allows():
    spec = {**REAL, "epochs": 10}
    assert choice(spec, max_resource=500) == "gp"  # 50 full trials
    assert choice(spec, max_resource=10_000) == "tpe"  # 1,000 full trials: past GP_MAX_TRIALS
    assert choice(REAL, max_resource=500) == "tpe"  # no fixed epochs knob: the number of trials is unknown


def test_an_experiment_stores_the_choice_made_with_its_scheduler(tmp_path):
    from knoblab.schedulers import Hyperband

    from ..schedulers.objectives import bowl

    space = {"x": kl.Real(0, 1), "epochs": 9}
    exp = kl.Experiment("hb", space, scheduler=Hyperband(3, 1, mode="promote"), storage=f"sqlite:///{tmp_path}/k.db")
    exp.optimize(bowl, max_resource=40, show_progress=False)
    assert isinstance(exp.strategy.chosen, TPESearch)
    assert exp.storage.get_experiment("hb").attrs["auto_choice"] == {"0": "tpe"}
