"""The median stopping rule on hand-written curves."""

import pytest

from knoblab.schedulers import MedianStopping

from .support import outcome, run_curves


def test_stops_a_trial_worse_than_the_median_of_complete_ones(sqlite_url):
    curves = [
        [4, 3, 2, 1],
        [2, 2, 2, 2],
        [5, 5, 5, 5],  # r1: 5 > median(4, 2) = 3 -> stops after 1 step
        [2.5, 2.9, 2.6, 0.5],  # r1: 2.5 <= 3; r2: best 2.5 <= median(3, 2); r3: 2.5 > median(2, 2) -> stops at 3
        [1, 1, 1, 1],
    ]
    exp = run_curves(sqlite_url, curves, MedianStopping(n_startup_trials=2))
    assert outcome(exp) == [
        (0, "COMPLETE", 0, 4),
        (1, "COMPLETE", 0, 4),  # fewer than n_startup_trials complete before it: never stopped
        (2, "PRUNED", 0, 1),
        (3, "PRUNED", 0, 3),
        (4, "COMPLETE", 0, 4),
    ]
    assert exp.trial(3).value == 2.5  # a PRUNED trial carries the best of its curve


def test_grace_period_and_interval(sqlite_url):
    curves = [[1, 1, 1, 1, 1], [9, 9, 9, 9, 9], [9, 9, 9, 9, 9]]
    exp = run_curves(sqlite_url, curves, MedianStopping(n_startup_trials=1, grace_period=2, interval=2))
    assert [o[3] for o in outcome(exp)] == [5, 2, 2]  # decisions at 2 and 4 only


def test_maximizing(sqlite_url):
    import knoblab as kl

    from .support import InOrder, curve_objective

    curves = [[1, 2, 3], [0.1, 0.1, 0.1], [5, 5, 5]]
    exp = kl.Experiment(
        "max",
        {"i": [0, 1, 2], "epochs": 3},
        metric="loss",
        direction="max",
        strategy=InOrder(3),
        scheduler=MedianStopping(n_startup_trials=1),
        storage=sqlite_url,
    )
    exp.optimize(curve_objective(curves), n_trials=3, show_progress=False)
    assert [o[1:] for o in outcome(exp)] == [("COMPLETE", 0, 3), ("PRUNED", 0, 1), ("COMPLETE", 0, 3)]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="interval"):
        MedianStopping(interval=0)


def test_a_new_round_compares_with_its_own_complete_trials(sqlite_url):
    # round 0 completes two good trials; round 1's trials are worse in absolute terms: compared with round 0 the
    # first would stop at once, but round 1 has no COMPLETE trial yet, and then only its own count
    import knoblab as kl

    from .support import InOrder, curve_objective

    curves = [[1, 1, 1], [1, 1, 1], [5, 5, 5], [6, 6, 6], [4, 4, 4]]
    strategy = InOrder(3, count=2)
    exp = kl.Experiment(
        "median_rounds",
        {"i": list(range(5)), "epochs": 3},
        metric="loss",
        strategy=strategy,
        scheduler=MedianStopping(n_startup_trials=1),
        storage=sqlite_url,
        seed=0,
    )
    exp.optimize(curve_objective(curves), n_trials=2, show_progress=False)
    strategy.offset, strategy.count = 2, 3
    exp.next_round({"i": [2, 3, 4], "epochs": 3})
    exp.optimize(curve_objective(curves), n_trials=3, show_progress=False)
    second = [(o[0], o[1], o[3]) for o, t in zip(outcome(exp), exp.trials) if t.round == 1]
    # 2: no COMPLETE trial in its round -> runs; 3: 6 > median(5) -> stops at 1; 4: 4 <= 5 -> runs
    assert second == [(2, "COMPLETE", 3), (3, "PRUNED", 1), (4, "COMPLETE", 3)]
