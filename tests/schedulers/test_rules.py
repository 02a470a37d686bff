"""Stop rules as schedulers, and what strategies get from PRUNED trials."""

import numpy as np

from knoblab.schedulers import PatienceScheduler, ThresholdScheduler, ranked_observations

from .support import outcome, run_curves


def test_patience_as_a_scheduler(sqlite_url):
    curves = [[5, 4, 4, 4, 4, 4], [5, 4, 3, 2, 1, 0]]
    exp = run_curves(sqlite_url, curves, PatienceScheduler(patience=2))
    assert [o[1:] for o in outcome(exp)] == [("PRUNED", 0, 4), ("COMPLETE", 0, 6)]
    assert "did not improve" in exp.trial(0).attrs["stop_reason"]


def test_threshold_as_a_scheduler(sqlite_url):
    curves = [[1, 2, 30, 4], [1, 1, 1, 1]]
    exp = run_curves(sqlite_url, curves, ThresholdScheduler("loss", ">", 10))
    assert [o[1:] for o in outcome(exp)] == [("PRUNED", 0, 3), ("COMPLETE", 0, 4)]


def test_ranked_observations_put_complete_first_then_pruned_by_resource(sqlite_url):
    from knoblab.schedulers import SuccessiveHalving

    curves = [[3] * 9, [2] * 9, [4] * 9, [0.5, 9, 9, 9, 9, 9, 9, 9, 9], [5] * 9, [6] * 9, [1] * 9]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(3, max_resource=9))
    history = exp.storage.get_trials(exp.id, with_reports=True)
    trials, losses = ranked_observations(history, "min")
    states = [t.state.value for t in trials]
    assert states == sorted(states)  # COMPLETE before PRUNED
    assert np.all(np.diff(losses[states.count("COMPLETE") :]) > 0)
    worst_complete = max(t.value for t in trials if t.state.value == "COMPLETE")
    assert all(loss > worst_complete for t, loss in zip(trials, losses) if t.state.value == "PRUNED")
    _, imputed = ranked_observations(history, "min", impute="worst")
    assert all(v <= worst_complete for v in imputed)
