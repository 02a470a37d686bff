"""ASHA on hand-written curves: which trial stops at which rung, and which paused trial is promoted when."""

import pickle

import pytest

import knoblab as kl
from knoblab.schedulers import SuccessiveHalving, make_scheduler
from knoblab.trial import TrialState

from .support import outcome, run_curves


def test_stop_mode_keeps_the_top_half_at_each_rung(sqlite_url):
    # eta=2, rungs at 1, 2, 4 (max 8); a trial goes on when among the best max(1, n // 2) at its rung
    curves = [[5] * 8, [3] * 8, [4] * 8, [1] * 8, [2] * 8, [2.5] * 8]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(reduction_factor=2, max_resource=8))
    assert outcome(exp) == [
        (0, "COMPLETE", 0, 8),  # alone at every rung
        (1, "COMPLETE", 0, 8),  # best of {5, 3}
        (2, "PRUNED", 0, 1),  # rung 1: {5, 3, 4} keeps 1 -> 3 only
        (3, "COMPLETE", 0, 8),
        (4, "COMPLETE", 0, 8),  # rung 1: {5,3,4,1,2} keeps 2 -> 1, 2
        (5, "PRUNED", 0, 2),  # rung 1: keeps 3 of 6 -> in; rung 2: {5,3,1,2,2.5} keeps 2 -> out
    ]
    pruned = exp.trial(5)
    assert pruned.value == 2.5 and pruned.curve("loss") == [(0, 2.5), (1, 2.5)]


def test_stop_mode_compares_the_best_value_so_far(sqlite_url):
    # a trial that was good early is judged by its best, as its PRUNED value is
    curves = [[1, 1, 1, 1], [3, 0.5, 9, 9], [2, 2, 2, 2]]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(reduction_factor=2, max_resource=4))
    assert [o[1:] for o in outcome(exp)] == [("COMPLETE", 0, 4), ("PRUNED", 0, 1), ("PRUNED", 0, 1)]


def test_grace_period_skips_early_rungs(sqlite_url):
    curves = [[1] * 8, [3] * 8, [2] * 8]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(reduction_factor=2, max_resource=8, grace_period=4))
    assert [o[3] for o in outcome(exp)] == [8, 4, 4]  # only rung 4 decides


def test_promote_mode_pauses_at_rungs_and_continues_the_top(sqlite_url):
    # eta=2, max 4: rungs 1, 2. Each trial pauses at its next rung; a paused one joins the top 1/2 -> continuation
    curves = [[4] * 4, [3] * 4, [2] * 4, [1] * 4]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(2, 1, 4, mode="promote"), n_trials=9)
    assert outcome(exp) == [
        (0, "PRUNED", 0, 1),  # rung 1 alone: fewer than eta, nobody promoted
        (1, "PRUNED", 0, 1),  # rung 1 {4, 3}: 3 promoted
        (1, "PRUNED", 1, 1),  # its continuation, from step 1, pauses at rung 2 (alone there)
        (2, "PRUNED", 0, 1),  # rung 1 {4, 3, 2}: 2 promoted
        (2, "PRUNED", 1, 1),  # rung 2 {3, 2}: 2 promoted again
        (2, "COMPLETE", 2, 2),  # the last segment runs to max_resource and completes
        (3, "PRUNED", 0, 1),  # rung 1 {4, 3, 2, 1}: top 2 = 1, 2; 2 already went on, so 1 is promoted
        (3, "PRUNED", 1, 1),
        (3, "COMPLETE", 2, 2),
    ]
    trials = exp.storage.get_trials(exp.id)
    assert [t.attrs.get("resumed_from") for t in trials] == [None, None, 1, None, 3, 4, None, 6, 7]
    assert [t.attrs.get("paused_at") for t in trials] == [1, 1, 2, 1, 2, None, 1, 2, None]
    assert exp.best.params["i"] == 3 and exp.best.value == 1
    assert sum(len(t.reports) for t in exp.storage.get_trials(exp.id, with_reports=True)) == 11  # vs 16 in full


def test_promote_mode_and_hyperband_need_a_max_resource(sqlite_url):
    from knoblab.schedulers import Hyperband

    for scheduler in (SuccessiveHalving(mode="promote"), Hyperband(), "hyperband"):
        with pytest.raises(ValueError, match="max_resource"):
            kl.Experiment("m", {"i": [0]}, metric="loss", scheduler=scheduler, storage=sqlite_url)


def test_max_resource_defaults_to_the_fixed_epochs_knob(sqlite_url):
    curves = [[2] * 4, [1] * 4, [3] * 4]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(2))  # rungs 1, 2 below epochs=4
    assert [o[3] for o in outcome(exp)] == [4, 4, 1]
    assert SuccessiveHalving(2).rungs(exp) == [1, 2]


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="reduction_factor"):
        SuccessiveHalving(reduction_factor=1)
    with pytest.raises(ValueError, match="max_resource"):
        SuccessiveHalving(min_resource=9, max_resource=3)
    with pytest.raises(ValueError, match="mode"):
        SuccessiveHalving(mode="pause")


def test_make_scheduler():
    assert make_scheduler(None) is None
    assert type(make_scheduler("asha")).__name__ == "SuccessiveHalving"
    assert type(make_scheduler("hyperband")).__name__ == "Hyperband"
    assert type(make_scheduler("median")).__name__ == "MedianStopping"
    assert type(make_scheduler("pbt")).__name__ == "PopulationBasedTraining"
    s = SuccessiveHalving()
    assert make_scheduler(s) is s
    with pytest.raises(ValueError, match="allowed"):
        make_scheduler("nope")
    with pytest.raises(ValueError, match="scheduler"):
        make_scheduler(3)


def test_a_scheduler_pickles_without_its_cache(sqlite_url):
    exp = run_curves(sqlite_url, [[1] * 4, [2] * 4], SuccessiveHalving(2))
    assert "_curves" in exp.scheduler.__dict__
    copy = pickle.loads(pickle.dumps(exp.scheduler))
    assert "_curves" not in copy.__dict__ and copy.reduction_factor == 2


def test_cache_reads_a_finished_curve_once(sqlite_url, monkeypatch):
    curves = [[float(i)] * 9 for i in range(6)]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(3, max_resource=9))
    cache = exp.scheduler.curves(exp)
    cache.refresh(exp)  # reads the last trial, which was still running at its last decision
    asked: list[list[int]] = []
    original = exp.storage.get_reports
    monkeypatch.setattr(exp.storage, "get_reports", lambda ids: asked.append(list(ids)) or original(ids))
    cache.refresh(exp)
    assert asked == []  # everything finished was read already: nothing to read again
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in cache.trials.values())


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_claim_attr_sets_once(request, backend):
    # the storage primitive promotion relies on (its multi-process race: test_parallel.py)
    url = request.getfixturevalue(f"{backend}_url")
    exp = kl.Experiment("claim", {"x": kl.Real(0, 1)}, storage=url, seed=0)
    t = exp.storage.create_trial(exp.id, {"x": 0.5}, TrialState.PRUNED, attrs={"paused_at": 1})
    assert exp.storage.claim_attr(t.id, "promoted", True) is True
    assert exp.storage.claim_attr(t.id, "promoted", "again") is False
    assert exp.storage.get_trial(t.id).attrs["promoted"] is True
    assert exp.storage.get_trial(t.id).attrs["paused_at"] == 1  # other attrs kept
    with pytest.raises(KeyError):
        exp.storage.claim_attr(10**6, "promoted")


@pytest.mark.parametrize("mode", ["stop", "promote"])
def test_rungs_compare_trials_of_the_same_round(sqlite_url, mode):
    # round 0: four good trials (loss 1.0..1.3); round 1, a narrower space: four worse in absolute terms but
    # ordered 5, 4, 3, 2. Against round 0's rung every round-1 trial would stop at rung 1; within round 1 each
    # new one is the best so far at its rung, so it goes on (stop mode) or is promoted (promote mode).
    from .support import InOrder, curve_objective

    curves = [[1.0] * 4, [1.1] * 4, [1.2] * 4, [1.3] * 4, [5.0] * 4, [4.0] * 4, [3.0] * 4, [2.0] * 4]
    strategy = InOrder(4, count=4)
    exp = kl.Experiment(
        "rounds",
        {"i": list(range(8)), "epochs": 4},
        metric="loss",
        strategy=strategy,
        scheduler=SuccessiveHalving(2, 1, 4, mode=mode),
        storage=sqlite_url,
        seed=0,
    )
    exp.optimize(curve_objective(curves), n_trials=4 if mode == "stop" else 8, show_progress=False)
    strategy.offset = 4
    exp.next_round({"i": [4, 5, 6, 7], "epochs": 4}, reason="the other half")
    exp.optimize(curve_objective(curves), n_trials=4 if mode == "stop" else 12, show_progress=False)
    second = [t for t in exp.storage.get_trials(exp.id, with_reports=True) if t.round == 1]
    assert {t.params["i"] for t in second} == {4, 5, 6, 7}
    if mode == "stop":
        # rung 1: {5} -> 5 on; {5, 4} keeps 1 -> 4 on; {5, 4, 3} -> 3 on; {5, 4, 3, 2} keeps 2 -> 2 on
        assert [(t.params["i"], t.state.value, len(t.reports)) for t in second] == [
            (4, "COMPLETE", 4),
            (5, "COMPLETE", 4),
            (6, "COMPLETE", 4),
            (7, "COMPLETE", 4),
        ]
    else:
        continued = {t.params["i"] for t in second if "resumed_from" in t.attrs}
        assert {5, 6, 7} <= continued  # the round's best at rung 1 at each decision; round 0 did not shut them out
        assert all(t.attrs.get("resumed_from") is None or t.round == 1 for t in second)


@pytest.mark.parametrize("keep", [False, True])
def test_promotion_checkpoints_are_deleted_once_nothing_can_resume_from_them(sqlite_url, tmp_path, keep):
    # the promote-mode run of test_promote_mode_pauses_at_rungs_and_continues_the_top, with real files
    from .support import InOrder, checkpointing_objective, files

    curves = [[4] * 4, [3] * 4, [2] * 4, [1] * 4]
    folder, log, seen = tmp_path / "ckpt", [], {}
    folder.mkdir()
    scheduler = SuccessiveHalving(2, 1, 4, mode="promote", keep_checkpoints=keep)
    exp = kl.Experiment(
        "ckpt",
        {"i": list(range(4)), "epochs": 4},
        metric="loss",
        strategy=InOrder(4, 4),
        scheduler=scheduler,
        storage=sqlite_url,
        seed=0,
    )
    exp.optimize(
        checkpointing_objective(curves, folder, log),
        n_trials=9,
        show_progress=False,
        callbacks=[lambda e, t: seen.__setitem__(t.number, files(folder))],
    )
    assert [e for e in log if e[0] == "missing"] == []  # every continuation found its checkpoint
    assert [n for kind, n in log] == [2, 4, 5, 7, 8]
    saved = ["trial_00000_r1", "trial_00001_r1", "trial_00002_r2", "trial_00003_r1", "trial_00004_r2"]
    saved += ["trial_00006_r1", "trial_00007_r2"]
    if keep:
        assert files(folder) == [f"{s}.npz" for s in saved]
        assert scheduler.release_checkpoints(exp) == [] and len(files(folder)) == 7
        return
    # trial 2 resumed trial 1's checkpoint: gone once 2 finished; 5 resumed 4's, ...
    assert "trial_00001_r1.npz" in seen[1] and "trial_00001_r1.npz" not in seen[2]
    assert "trial_00004_r2.npz" in seen[4] and "trial_00004_r2.npz" not in seen[5]
    # left: the paused trials nobody promoted (0 at rung 1, 2 at rung 2): a later trial could still promote them
    assert files(folder) == ["trial_00000_r1.npz", "trial_00002_r2.npz"]
    left = [str(folder / f) for f in files(folder)]
    assert sorted(scheduler.release_checkpoints(exp)) == left  # the search ended (Scan.run calls it)
    assert files(folder) == []
    assert exp.trial(0).attrs["checkpoint"].endswith("trial_00000_r1.npz")  # the attr stays, as a record


def test_release_keeps_what_a_queued_continuation_resumes_from(sqlite_url, tmp_path):
    scheduler = SuccessiveHalving(2, 1, 4, mode="promote")
    exp = kl.Experiment(
        "rel", {"x": kl.Real(0, 1), "epochs": 4}, metric="loss", scheduler=scheduler, storage=sqlite_url
    )
    paths = []
    for k in range(2):
        path = tmp_path / f"p{k}.npz"
        path.write_bytes(b"x")
        paths.append(str(path))
        exp.storage.create_trial(exp.id, {"x": 0.1, "epochs": 4}, TrialState.PRUNED, attrs={"checkpoint": str(path)})
    exp.storage.create_trial(exp.id, {"x": 0.1, "epochs": 4}, TrialState.QUEUED, attrs={"resume_checkpoint": paths[0]})
    assert scheduler.release_checkpoints(exp) == [paths[1]]
    assert (tmp_path / "p0.npz").is_file() and not (tmp_path / "p1.npz").exists()


def test_a_trial_that_diverges_stops_at_the_next_rung_whatever_its_best_so_far(sqlite_url):
    nan = float("nan")
    # eta=2, rungs 1 and 2 (max 4). Trial 0 is alone at every rung, yet NaN at rung 2 stops it: its best so far
    # (1.0) would let it train two more NaN epochs and end FAILED. Trial 2 blows up to inf after the best start.
    curves = [[1.0, nan, nan, nan], [0.8, 0.7, 0.6, 0.5], [0.5, float("inf"), nan, nan], [3.0] * 4]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(reduction_factor=2, max_resource=4))
    assert outcome(exp) == [
        (0, "PRUNED", 0, 2),
        (1, "COMPLETE", 0, 4),  # rung 2: trial 0 diverged there, so it is no competitor: 0.7 alone goes on
        (2, "PRUNED", 0, 2),  # rung 1: best of {1, 0.8, 0.5}; rung 2: inf, though its best (0.5) is the best
        (3, "PRUNED", 0, 1),  # rung 1: {1, 0.8, 0.5, 3} keeps 2 -> out
    ]
    assert exp.trial(0).value == 1.0  # a PRUNED trial keeps the best of its curve


def test_promote_mode_does_not_promote_a_run_that_diverged_at_its_rung(sqlite_url):
    nan = float("nan")
    # eta=3, rungs 1 and 3 (max 9). Trials 2, 3, 4 each lead rung 1 in turn and are promoted; trial 2's
    # continuation reports 0.4 then NaN, so it pauses at rung 3 with the best value there (0.4) but diverged: it
    # is no competitor (as Optuna keeps NaN out of a rung), leaving 2 at rung 3, fewer than eta: none promoted
    curves = [[1.0] * 9, [2.0] * 9, [0.5, 0.4] + [nan] * 7, [0.3] + [0.6] * 8, [0.2] + [0.7] * 8]
    exp = run_curves(sqlite_url, curves, SuccessiveHalving(3, 1, 9, mode="promote"), n_trials=12)
    trials = exp.trials
    by_number = {t.number: t for t in trials}
    continued = [by_number[t.attrs["resumed_from"]] for t in trials if "resumed_from" in t.attrs]
    assert [(t.params["i"], t.attrs["paused_at"]) for t in continued] == [(2, 1), (3, 1), (4, 1)]
    assert not any(t.state == TrialState.FAILED for t in trials)  # no NaN run trained on to the end


def test_no_rung_at_max_resource_so_a_trial_that_trained_it_all_completes(sqlite_url):
    # max 9 = 3**2: rungs 1 and 3 only. Optuna's SuccessiveHalvingPruner knows no maximum and checks a rung at
    # step 9 too, where it may prune a trial that has just trained the whole budget (compute spent, no result)
    scheduler = SuccessiveHalving(3, 1, 9)
    curves = [[1.0] * 9, [2.0] * 9, [3.0] * 9, [0.5] * 8 + [9.0]]  # the last is best until its final epoch
    exp = run_curves(sqlite_url, curves, scheduler)
    assert scheduler.rungs(exp) == [1, 3]
    assert outcome(exp)[-1] == (3, "COMPLETE", 0, 9)
