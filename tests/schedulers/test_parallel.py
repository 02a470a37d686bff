"""Schedulers with worker processes: decisions read storage only, so a worker's copy decides as the driver would."""

import pytest

import knoblab as kl
from knoblab.schedulers import PBT, Hyperband, SuccessiveHalving
from knoblab.trial import TrialState

from .objectives import bowl, bowl_with_a_straggler

pytestmark = pytest.mark.slow


def _check_chains(exp, population=4):
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    assert len(trials) == 3 * population and all(t.attrs.get("member") is not None for t in trials)
    for member in range(population):
        chain = sorted((t for t in trials if t.attrs["member"] == member), key=lambda t: t.attrs["generation"])
        assert [t.attrs["generation"] for t in chain] == [0, 1, 2]
        assert [t.state for t in chain] == [TrialState.PRUNED, TrialState.PRUNED, TrialState.COMPLETE]
        assert [t.reports[0][0] for t in chain] == [0, 2, 4]  # aligned segments, whoever donated weights
    return trials


def test_pbt_with_two_workers_keeps_every_members_chain(sqlite_url):
    pbt = PBT(population=4, interval=2, mutable=["x"])
    exp = kl.Experiment(
        "pbt2", {"x": kl.Real(0, 1), "epochs": 6}, metric="loss", scheduler=pbt, storage=sqlite_url, seed=0
    )
    exp.optimize(bowl, n_trials=pbt.n_trials(exp), n_jobs=2, show_progress=False)
    _check_chains(exp)


def test_pbt_with_a_straggling_member_waits_for_its_segments(sqlite_url):
    # Member 1's first segment takes 3 s on worker B; worker A runs the other members' 9 segments meanwhile, and
    # then finds nothing queued. It must not start a stranger (which took member 1's last place in the budget,
    # leaving its final segment QUEUED), and member 1, arriving late at each ready point, ranks against the others'
    # scores at that same point (not their later, better-looking ones, which made it copy a donor 2 epochs ahead).
    pbt = PBT(population=4, interval=2, mutable=["x"])
    exp = kl.Experiment(
        "pbt_straggler", {"x": kl.Real(0, 1), "epochs": 6}, metric="loss", scheduler=pbt, storage=sqlite_url, seed=0
    )
    exp.optimize(bowl_with_a_straggler, n_trials=pbt.n_trials(exp) + 4, n_jobs=2, show_progress=False)
    trials = _check_chains(exp)  # n_trials above the chains' 12: the search ends when the chains do
    member1 = [t for t in trials if t.attrs["member"] == 1]
    first_done = min(t.finished_at for t in trials if t.attrs["generation"] == 2)
    assert member1[0].finished_at > first_done, "worker A did not finish the others first: the race was not staged"


@pytest.mark.parametrize(
    "scheduler", [SuccessiveHalving(3, 1, 9), Hyperband(3, 1, 9), SuccessiveHalving(3, 1, 9, mode="promote")]
)
def test_asha_and_hyperband_with_two_workers(sqlite_url, scheduler):
    exp = kl.Experiment(
        "sh2",
        {"x": kl.Real(0, 1), "epochs": 9},
        metric="loss",
        strategy="random",
        scheduler=scheduler,
        storage=sqlite_url,
        seed=0,
    )
    exp.optimize(bowl, n_trials=18, n_jobs=2, show_progress=False)
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    assert sum(t.state == TrialState.PRUNED for t in trials) >= 3
    assert any(t.state == TrialState.COMPLETE for t in trials)
    assert not any(t.state == TrialState.FAILED for t in trials)
    continued = [t.attrs["resumed_from"] for t in trials if "resumed_from" in t.attrs]
    assert len(continued) == len(set(continued))  # no paused trial continued twice
    # every stop happened at a rung of its bracket
    for t in trials:
        if t.state == TrialState.PRUNED:
            reached = t.reports[-1][0] + 1
            assert reached in scheduler.rungs(exp, scheduler.bracket_of(exp, t))


@pytest.mark.parametrize("scheduler", [SuccessiveHalving(2, 1, 4, mode="promote"), Hyperband(2, 1, 4, mode="promote")])
def test_processes_promoting_at_once_queue_one_continuation_per_trial(sqlite_url, scheduler):
    # 8 trials paused at rung 1 (loss = i, bracket 0); 4 processes, each told of a different one finishing at the
    # same moment, all see the same top 1/eta (i = 0..3) and try to promote it: each is continued exactly once.
    import multiprocessing

    from .objectives import promote_at_once

    exp = kl.Experiment(
        "race", {"i": list(range(8)), "epochs": 4}, metric="loss", scheduler=scheduler, storage=sqlite_url, seed=0
    )
    paused = []
    for i in range(8):
        t = exp.storage.create_trial(exp.id, {"i": i, "epochs": 4}, TrialState.RUNNING)
        exp.storage.add_report(t.id, 0, {"loss": float(i)})
        exp.storage.set_attrs(t.id, {"paused_at": 1, "bracket": 0})
        exp.storage.finish_trial(t.id, TrialState.PRUNED, float(i), {"loss": float(i)})
        paused.append(t)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [
        ctx.Process(target=promote_at_once, args=(sqlite_url, "race", scheduler, paused[-1 - k].id, barrier, out))
        for k in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 4
    trials = exp.storage.get_trials(exp.id)
    continued = sorted(t.attrs["resumed_from"] for t in trials if "resumed_from" in t.attrs)
    assert continued == [t.number for t in paused[:4]], "each of the top half continued once, no more"
    assert all(t.attrs.get("promoted") for t in exp.storage.get_trials(exp.id) if t.number in continued)
