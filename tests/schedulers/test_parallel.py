"""Schedulers with worker processes: decisions read storage only, so a worker's copy decides as the driver would."""

import pytest

import knoblab as kl
from knoblab.schedulers import PBT, Hyperband, SuccessiveHalving
from knoblab.trial import TrialState

from .objectives import bowl

pytestmark = pytest.mark.slow


@pytest.mark.xfail(
    strict=False,
    reason="failed once in 3+ runs on a 2-core machine at load 12; cause not found yet (issue 5's note): "
    "it still runs and reports XPASS when it passes",
)
def test_pbt_with_two_workers_keeps_every_members_chain(sqlite_url):
    pbt = PBT(population=4, interval=2, mutable=["x"])
    exp = kl.Experiment(
        "pbt2", {"x": kl.Real(0, 1), "epochs": 6}, metric="loss", scheduler=pbt, storage=sqlite_url, seed=0
    )
    exp.optimize(bowl, n_trials=pbt.n_trials(exp), n_jobs=2, show_progress=False)
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    assert len(trials) == 12 and all(t.attrs.get("member") is not None for t in trials)
    for member in range(4):
        chain = sorted((t for t in trials if t.attrs["member"] == member), key=lambda t: t.attrs["generation"])
        assert [t.attrs["generation"] for t in chain] == [0, 1, 2]
        assert chain[-1].state == TrialState.COMPLETE
        assert [t.reports[0][0] for t in chain] == [0, 2, 4]


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
    # every stop happened at a rung of its bracket
    for t in trials:
        if t.state == TrialState.PRUNED:
            reached = t.reports[-1][0] + 1
            assert reached in scheduler.rungs(exp, scheduler.bracket_of(exp, t))
