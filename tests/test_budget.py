"""A budget in training resource (max_resource): every reported step of every trial counts, from storage."""

import pytest

import knoblab as kl
from knoblab.outcomes import AllTrialsFailedError, TrialFailedWarning
from knoblab.trial import TrialPruned, TrialState

SPACE = {"x": kl.Real(0.0, 1.0), "epochs": 5}


def steps(trial):
    """Reports one step per epoch and asks after each whether to go on, as the Keras reporter does."""
    for step in range(trial.params["epochs"]):
        trial.report(step, loss=trial.params["x"] + 1.0 / (step + 1))
        if step + 1 < trial.params["epochs"] and trial.should_stop():
            raise TrialPruned()
    return trial.params["x"]


def make(url, name="budget"):
    return kl.Experiment(name, SPACE, metric="loss", strategy="random", storage=url, seed=0)


def test_the_budget_counts_every_step_stops_the_trial_that_spends_it_and_a_rerun_continues(sqlite_url):
    exp = make(sqlite_url)
    exp.optimize(steps, max_resource=12, show_progress=False)
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    assert [len(t.reports) for t in trials] == [5, 5, 2]  # the third stopped at the step that spent the budget
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.PRUNED]
    assert trials[2].attrs["stopped_by"] == "max_resource=12 spent"
    assert exp.resource_spent == 12
    assert exp.results["resource"].tolist() == [5, 5, 2]
    again = make(sqlite_url)  # the script again: the budget is spent, counted from storage
    again.optimize(steps, max_resource=12, show_progress=False)
    assert len(again.trials) == 3 and again.resource_spent == 12
    again.optimize(steps, max_resource=20, show_progress=False)  # a larger budget: only the difference runs
    assert again.resource_spent == 20
    assert again.results["resource"].tolist() == [5, 5, 2, 5, 3]


def test_failed_and_pruned_trials_count_too(sqlite_url):
    def fails_after_two(trial):
        trial.report(0, loss=1.0)
        trial.report(1, loss=0.5)
        raise RuntimeError("boom")

    exp = make(sqlite_url)
    with pytest.warns(TrialFailedWarning), pytest.raises(AllTrialsFailedError):  # every trial of the call failed
        exp.optimize(fails_after_two, max_resource=5, show_progress=False)
    assert [t.state for t in exp.trials] == [TrialState.FAILED] * 3  # 2 + 2 + 2: the third starts at 4 < 5
    assert exp.resource_spent == 6  # an objective that never asks should_stop is stopped between trials only


def test_an_objective_that_reports_nothing_is_stopped_by_the_other_budgets(sqlite_url):
    exp = make(sqlite_url)
    exp.optimize(lambda t: t.params["x"], max_resource=3, n_trials=4, show_progress=False)
    assert len(exp.trials) == 4 and exp.resource_spent == 0 and "resource" not in exp.results.columns


def test_a_bad_max_resource_is_named(sqlite_url):
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_resource"):
            make(sqlite_url).optimize(steps, max_resource=bad)


def test_max_resource_alone_is_a_budget(sqlite_url):
    make(sqlite_url).optimize(steps, max_resource=7, show_progress=False)  # no "give a budget" error
    with pytest.raises(ValueError, match="max_resource"):
        make(sqlite_url, "none").optimize(steps)  # the message lists it among the budgets


def test_the_progress_bar_shows_the_resource_spent(sqlite_url, capsys):
    make(sqlite_url).optimize(steps, max_resource=10, show_progress=True)
    assert "resource 10/10" in capsys.readouterr().err


@pytest.mark.slow
def test_workers_stop_their_trial_when_the_budget_is_spent(sqlite_url):
    from tests.schedulers.objectives import bowl

    exp = kl.Experiment("par", {"x": kl.Real(0, 1), "epochs": 6}, metric="loss", strategy="random", storage=sqlite_url)
    exp.optimize(bowl, max_resource=20, n_jobs=2, show_progress=False)
    # two trials at a time may each finish the step they are in: at most n_jobs - 1 steps past the budget
    assert 20 <= exp.resource_spent <= 21
    assert any(t.attrs.get("stopped_by") for t in exp.trials)
