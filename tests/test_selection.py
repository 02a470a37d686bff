"""The selection rule (knoblab.selection): top-rung trials, CV first, value, val_loss ties; mid-bracket fallback."""

import pytest

import knoblab as kl
from knoblab.selection import candidates, ranked, tie_breaker
from knoblab.trial import FrozenTrial, TrialState

C, P = TrialState.COMPLETE, TrialState.PRUNED


def trial(number, state, value, metrics=None, **attrs):
    return FrozenTrial(number + 1, number, state, {"x": number}, value, metrics or {}, attrs=attrs)


def numbers(trials):
    return [t.number for t in trials]


def test_ties_are_broken_by_the_validation_loss():
    trials = [
        trial(0, C, 0.98, {"val_loss": 0.20}),
        trial(1, C, 0.98, {"val_loss": 0.05}),
        trial(2, C, 0.97, {"val_loss": 0.01}),
        trial(3, C, 0.98),  # no val_loss: after those that have one
    ]
    assert numbers(ranked(trials, "val_accuracy", "max")) == [1, 0, 3, 2]
    assert tie_breaker("val_accuracy") == "val_loss" and tie_breaker("accuracy") == "loss"
    assert tie_breaker("val_loss") is None


def test_only_the_top_rung_competes_and_cross_validated_trials_come_first():
    trials = [
        trial(0, P, 0.99, paused_at=3, reached=3),  # a fast starter at a low rung: never above a complete trial
        trial(1, C, 0.95),
        trial(2, C, 0.97, cv_mean=0.93),
        trial(3, C, 0.96, cv_mean=0.94),
    ]
    assert numbers(ranked(trials, "val_accuracy", "max")) == [3, 2, 1]
    assert numbers(ranked(trials, "val_accuracy", "max", use_cv=False)) == [2, 3, 1]


def test_a_search_that_ended_mid_bracket_has_its_furthest_paused_trials_as_candidates():
    trials = [
        trial(0, P, 0.90, paused_at=3, reached=3),
        trial(1, P, 0.80, reached=9, stopped_by="max_resource=40 spent"),
        trial(2, P, 0.85, paused_at=9, reached=9),
        trial(3, P, 0.99, reached=9),  # pruned for being bad (stop mode): never a candidate
        trial(4, TrialState.FAILED, None),
    ]
    assert numbers(ranked(trials, "val_accuracy", "max")) == [2, 1]
    assert candidates([trials[3], trials[4]]) == []


def test_experiment_best_follows_the_rule_and_says_when_there_is_none(sqlite_url):
    exp = kl.Experiment("sel", {"x": kl.Real(0, 1)}, metric="val_accuracy", direction="max", storage=sqlite_url)
    for v, loss in ((0.9, 0.3), (0.9, 0.1), (0.8, 0.0)):
        exp.tell(exp.ask()[0], {"val_accuracy": v, "val_loss": loss})
    assert exp.best.number == 1
    with pytest.raises(ValueError, match="no COMPLETE trial"):
        _ = kl.Experiment("none", {"x": kl.Real(0, 1)}, storage=sqlite_url).best


def test_the_best_is_chosen_among_trials_that_reached_the_top_rung(sqlite_url):
    """Curves that get worse with training: the trials paused at low rungs have the best values of all, yet the
    best is a trial that trained to max_resource."""
    from knoblab.schedulers import Hyperband

    from .schedulers.objectives import bowl

    def worsening(trial):
        start = trial._frozen.attrs.get("resume_step", 0)
        for step in range(start, 9):
            trial.report(step, loss=trial.params["x"] + step)
            if step < 8 and trial.should_stop():
                raise kl.TrialPruned()
        return trial.params["x"] + 8

    assert bowl  # the module imports
    exp = kl.Experiment(
        "top",
        {"x": kl.Real(0, 1), "epochs": 9},
        metric="loss",
        strategy="random",
        scheduler=Hyperband(3, 1, 9, n_brackets=1, mode="promote"),
        storage=sqlite_url,
        seed=0,
    )
    exp.optimize(worsening, max_resource=60, show_progress=False)
    trials = exp.trials
    assert any(t.state == TrialState.COMPLETE for t in trials)
    assert min(t.value for t in trials if t.state == TrialState.PRUNED) < exp.best.value
    assert exp.best.state == TrialState.COMPLETE and exp.best.metrics == {"loss": exp.best.value}


def test_cv_means_within_one_standard_error_tie_and_the_cv_loss_breaks_the_tie():
    cv = {"folds": 4}
    trials = [
        trial(0, C, 0.99, cv_mean=0.980, cv_std=0.02, cv_tie_mean=0.30, cv=cv),  # SE 0.01
        trial(1, C, 0.98, cv_mean=0.975, cv_std=0.01, cv_tie_mean=0.10, cv=cv),  # tied: lower CV loss
        trial(2, C, 0.98, cv_mean=0.960, cv_std=0.01, cv_tie_mean=0.05, cv=cv),  # 0.02 behind: not tied
        trial(3, C, 0.97),
    ]
    assert numbers(ranked(trials, "val_accuracy", "max")) == [1, 0, 2, 3]
    trials[1].attrs["cv_mean"] = 0.969  # now more than one SE behind
    assert numbers(ranked(trials, "val_accuracy", "max")) == [0, 1, 2, 3]
