"""PBT's decisions on the core (no Keras): who exploits whom at a ready point, and what the loop runs."""

import pytest

import knoblab as kl
from knoblab.schedulers import PBT
from knoblab.trial import TrialState

from .objectives import bowl


def _segment(exp, member, generation, loss, interval=2):
    """A finished, paused segment of `member` with the loss `loss` at its ready point, as storage holds one."""
    paused = (generation + 1) * interval
    t = exp.storage.create_trial(
        exp.id,
        {"x": 0.5, "epochs": 6},
        TrialState.RUNNING,
        attrs={"member": member, "generation": generation, "target": paused, "resume_step": paused - interval},
    )
    for step in range(paused - interval, paused):
        exp.storage.add_report(t.id, step, {"loss": loss})
    exp.storage.set_attrs(t.id, {"paused_at": paused, "checkpoint": f"m{member}_r{paused}.npz"})
    exp.storage.finish_trial(t.id, TrialState.PRUNED, loss, {"loss": loss})
    return exp.storage.get_trial(t.id, with_reports=False)


def _empty_pbt_experiment(url, population=3):
    pbt = PBT(population=population, interval=2, quantile=0.25, mutable=["x"])
    exp = kl.Experiment("pbt", {"x": kl.Real(0, 1), "epochs": 6}, metric="loss", scheduler=pbt, storage=url, seed=0)
    for t in exp.storage.get_trials(exp.id):  # the queued population is not needed: segments are written by hand
        exp.storage.finish_trial(t.id, TrialState.FAILED, None, None, "not used")
    return exp, pbt


def test_members_rank_at_the_same_ready_point(sqlite_url):
    exp, pbt = _empty_pbt_experiment(sqlite_url)
    _segment(exp, 0, 0, loss=0.5)
    _segment(exp, 0, 1, loss=0.1)  # member 0 is ahead: at epoch 4 its loss looks best of all
    _segment(exp, 1, 0, loss=0.4)
    late = _segment(exp, 2, 0, loss=0.9)  # member 2 arrives at epoch 2, the worst there
    nxt = pbt.next_segment(exp, late)
    by_number = {t.number: t for t in exp.storage.get_trials(exp.id)}
    donor = by_number[nxt.attrs["exploited_from"]]
    # at epoch 2 the best is member 1 (0.4 < 0.5): its weights from epoch 2, not member 0's from epoch 4
    assert (donor.attrs["member"], donor.attrs["paused_at"]) == (1, 2)
    assert nxt.attrs["resume_checkpoint"] == "m1_r2.npz"
    assert (nxt.attrs["resume_step"], nxt.attrs["target"], nxt.attrs["generation"]) == (2, 4, 1)
    assert nxt.attrs["member"] == 2 and nxt.attrs["parent"] == donor.number


def test_a_member_alone_at_its_ready_point_continues_itself(sqlite_url):
    exp, pbt = _empty_pbt_experiment(sqlite_url)
    _segment(exp, 0, 0, loss=0.1)
    _segment(exp, 0, 1, loss=0.05)
    first = _segment(exp, 1, 1, loss=0.9)  # member 1 at epoch 4 with member 0: worse -> copies member 0 at 4
    nxt = pbt.next_segment(exp, first)
    assert nxt.attrs["resume_checkpoint"] == "m0_r4.npz" and nxt.attrs["resume_step"] == 4
    alone = _segment(exp, 2, 2, loss=0.9, interval=1)  # paused at 3: no other member paused there
    nxt = pbt.next_segment(exp, alone)
    assert "exploited_from" not in nxt.attrs and nxt.attrs["resume_checkpoint"] == "m2_r3.npz"


def test_the_loop_never_asks_the_strategy_once_the_population_exists(sqlite_url):
    pbt = PBT(population=2, interval=2, mutable=["x"])
    exp = kl.Experiment("p", {"x": kl.Real(0, 1), "epochs": 4}, metric="loss", scheduler=pbt, storage=sqlite_url)
    assert len(exp.ask(3)) == 2  # the two queued members; no stranger for the third
    assert len(exp.trials) == 2 and exp.ask(1) == []


def test_a_larger_budget_ends_when_the_chains_do(sqlite_url):
    pbt = PBT(population=3, interval=2, mutable=["x"])
    exp = kl.Experiment("p", {"x": kl.Real(0, 1), "epochs": 4}, metric="loss", scheduler=pbt, storage=sqlite_url)
    exp.optimize(bowl, n_trials=50, show_progress=False)
    trials = exp.trials
    assert len(trials) == 6 and all(t.attrs.get("member") is not None for t in trials)
    assert sorted(t.state for t in trials).count(TrialState.COMPLETE) == 3


def test_a_retried_segment_stays_the_members(sqlite_url):
    pbt = PBT(population=2, interval=2, mutable=["x"])
    exp = kl.Experiment("p", {"x": kl.Real(0, 1), "epochs": 4}, metric="loss", scheduler=pbt, storage=sqlite_url)
    (running,) = exp.ask(1)
    assert exp.interrupted(running.freeze(), "interrupted: its process died")  # as recover_stale does
    retry = [t for t in exp.trials if t.attrs.get("retry_of") == running.number][0]
    assert retry.state == TrialState.QUEUED
    assert (retry.attrs["member"], retry.attrs["generation"], retry.attrs["target"]) == (0, 0, 2)
    exp.optimize(bowl, n_trials=4, show_progress=False)
    done = [t for t in exp.trials if t.state == TrialState.COMPLETE]
    assert sorted(t.attrs["member"] for t in done) == [0, 1]  # both chains reach the end


def test_each_round_trains_a_population_of_its_own(sqlite_url):
    pbt = PBT(population=2, interval=2, mutable=["x"])
    exp = kl.Experiment("p", {"x": kl.Real(0, 1), "epochs": 4}, metric="loss", scheduler=pbt, storage=sqlite_url)
    exp.optimize(bowl, n_trials=4, show_progress=False)
    exp.next_round({"x": kl.Real(0, 0.5), "epochs": 4}, reason="the lower half")
    queued = [t for t in exp.trials if t.state == TrialState.QUEUED]
    assert [(t.round, t.attrs["member"], t.attrs["generation"]) for t in queued] == [(1, 0, 0), (1, 1, 0)]
    assert all(t.params["x"] <= 0.5 for t in queued)  # proposed in the round's space
    exp.optimize(bowl, n_trials=4, show_progress=False)
    second = [t for t in exp.trials if t.round == 1]
    assert len(second) == 4 and all(t.state != TrialState.QUEUED for t in second)
    numbers = {t.number for t in second}
    for t in second:  # parents and donors come from the round's own population
        assert t.attrs["generation"] == 0 or t.attrs["parent"] in numbers


def _run_pbt_with_files(url, folder, keep):
    from .support import checkpointing_objective, files

    log, alive = [], []
    pbt = PBT(population=3, interval=1, mutable=["x"], keep_checkpoints=keep)
    exp = kl.Experiment("pf", {"x": kl.Real(0, 1), "epochs": 4}, metric="loss", scheduler=pbt, storage=url, seed=3)
    exp.optimize(
        checkpointing_objective(None, folder, log),
        n_trials=pbt.n_trials(exp),
        show_progress=False,
        callbacks=[lambda e, t: alive.append(len(files(folder)))],
    )
    return exp, log, alive


@pytest.mark.parametrize("keep", [False, True])
def test_pbt_checkpoints_are_deleted_once_every_member_has_passed_them(sqlite_url, tmp_path, keep):
    from .support import files

    exp, log, alive = _run_pbt_with_files(sqlite_url, tmp_path, keep)
    trials = exp.trials
    assert len(trials) == 12 and [k for k, _ in log].count("resumed") == 9  # every later segment found its file
    assert any("exploited_from" in t.attrs for t in trials)  # donors' files were read too
    saved = [t.attrs["checkpoint"] for t in trials if t.attrs.get("checkpoint")]
    assert len(saved) == 9  # 3 members x ready points 1, 2, 3
    if keep:
        assert len(files(tmp_path)) == 9
    else:
        assert files(tmp_path) == [] and max(alive) < 9  # freed as the population moved on, not only at the end


def test_a_ready_point_keeps_its_checkpoints_while_a_member_may_still_arrive(sqlite_url, tmp_path):
    exp, pbt = _empty_pbt_experiment(sqlite_url)
    segments = [_segment(exp, m, 0, loss=0.1 * (m + 1)) for m in range(3)]  # all three paused at 2
    for t in segments:
        path = tmp_path / t.attrs["checkpoint"]
        path.write_bytes(b"weights")
        exp.storage.set_attrs(t.id, {"checkpoint": str(path)})
    segments = [exp.storage.get_trial(t.id, with_reports=False) for t in segments]
    pbt.next_segment(exp, segments[0])
    pbt.next_segment(exp, segments[1])
    # member 2 paused, its next segment not queued yet (another process is about to): it may still pick a donor
    # at epoch 2, so nothing there goes
    assert pbt.release_checkpoints(exp) == []
    nxt = pbt.next_segment(exp, segments[2])  # the worst: copies member 0, the best at epoch 2
    assert nxt.attrs["resume_checkpoint"] == segments[0].attrs["checkpoint"]
    # every member is past epoch 2: only member 2's own file (nobody resumes from it) goes
    assert pbt.release_checkpoints(exp) == [segments[2].attrs["checkpoint"]]
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == ["m0_r2.npz", "m1_r2.npz"]
