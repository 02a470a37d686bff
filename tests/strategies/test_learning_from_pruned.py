"""Strategies learn from early-stopped (PRUNED) trials: ranked after every COMPLETE one, by how far they got."""

import numpy as np

import knoblab as kl
from knoblab.observations import ranked_observations, reached
from knoblab.schedulers import SuccessiveHalving
from knoblab.strategies import TPESearch
from knoblab.strategies._encoding import Encoding
from knoblab.trial import TrialPruned


def _bowl(trial):
    """A 2-D bowl with its minimum at (0.8, 0.3), reported over 9 epochs: later epochs are better everywhere."""
    x, y = trial.params["x"], trial.params["y"]
    f = (x - 0.8) ** 2 + (y - 0.3) ** 2
    for epoch in range(9):
        trial.report(epoch, loss=f + 1.0 / (epoch + 1))
        if trial.should_stop():
            raise TrialPruned()
    return f + 0.1


def _search(url, learn_from_pruned, seed):
    exp = kl.Experiment(
        f"bowl-{learn_from_pruned}-{seed}",
        {"x": kl.Real(0, 1), "y": kl.Real(0, 1)},
        metric="loss",
        strategy=TPESearch(learn_from_pruned=learn_from_pruned),
        scheduler=SuccessiveHalving(3, max_resource=9),
        storage=url,
        seed=seed,
    )
    exp.optimize(_bowl, n_trials=60, show_progress=False)
    return exp


def test_pruned_trials_store_how_far_they_got_and_are_ranked_by_it_without_their_reports(sqlite_url):
    exp = _search(sqlite_url, True, seed=0)
    history = exp.storage.get_trials(exp.id)  # no reports: what a strategy is given
    pruned = [t for t in history if t.state.value == "PRUNED"]
    assert pruned and all(t.reports is None for t in pruned)
    with_reports = {t.id: t for t in exp.storage.get_trials(exp.id, with_reports=True)}
    for t in pruned:
        assert reached(t) == t.attrs["reached"] == max(s for s, _ in with_reports[t.id].reports) + 1
    ordered, losses = ranked_observations(history, "min")
    tail = ordered[sum(t.state.value == "COMPLETE" for t in ordered) :]
    assert [reached(t) for t in tail] == sorted((reached(t) for t in tail), reverse=True)
    assert np.all(np.diff(losses[len(ordered) - len(tail) :]) > 0)
    X, y, _ = Encoding(exp.space).rows(history, "min", pruned="rank")
    assert len(y) == len(ordered) and np.array_equal(y, losses) and X.shape == (len(y), 2)


def test_tpe_with_successive_halving_converges_when_it_learns_from_pruned_trials(sqlite_url):
    """Most trials are pruned at the first rung: a TPE that ignores them has a handful of points to learn from
    (it stays near random), one that ranks them learns where the bowl is."""
    for seed in range(3):
        spread = {}
        for learn in (True, False):
            trials = _search(sqlite_url, learn, seed).trials
            later = [np.hypot(t.params["x"] - 0.8, t.params["y"] - 0.3) for t in trials[30:]]
            spread[learn] = float(np.median(later))
        assert spread[True] < 0.25 and spread[True] < 0.5 * spread[False], (seed, spread)


def test_a_finished_continuation_supersedes_its_paused_parent():
    from knoblab.observations import superseded
    from knoblab.trial import FrozenTrial, TrialState

    space = kl.space.Space({"x": kl.Real(0, 1)})
    P, C, R = TrialState.PRUNED, TrialState.COMPLETE, TrialState.RUNNING
    history = [
        FrozenTrial(1, 0, P, {"x": 0.1}, 0.5, attrs={"paused_at": 3, "reached": 3}),
        FrozenTrial(2, 1, P, {"x": 0.2}, 0.4, attrs={"paused_at": 3, "reached": 3}),
        FrozenTrial(3, 2, C, {"x": 0.1}, 0.3, attrs={"resumed_from": 0, "resume_step": 3}),
        FrozenTrial(4, 3, R, {"x": 0.2}, None, attrs={"resumed_from": 1, "resume_step": 3}),
        FrozenTrial(5, 4, R, {"x": 0.9}, None),
    ]
    assert superseded(history) == {0}  # trial 1's continuation is still running: trial 1 still speaks for x=0.2
    observed, _ = ranked_observations(history, "min")
    assert [t.number for t in observed] == [2, 1]  # each configuration once, at the furthest rung it reached
    _, _, pending = Encoding(space).rows(history, "min", pruned="rank")
    assert pending.shape == (1, 1) and pending[0, 0] == 0.9  # a running continuation is no new pending point
