"""Several objectives and outcome constraints on an Experiment: stored vectors, the Pareto front, best_by, the
refusals (exp.best, target, single-objective strategies, PBT), feasibility, reopening, workers."""

from __future__ import annotations

import math

import pytest

import knoblab as kl
from knoblab import pareto
from knoblab.trial import TrialState

SPACE = {"x": kl.Real(0.0, 1.0), "y": kl.Real(0.0, 1.0)}


def zdt1(trial):
    """Two objectives that trade off (ZDT1 in 2-D), plus a size-like metric for constraints."""
    x, y = trial.params["x"], trial.params["y"]
    g = 1 + 9 * y
    return {"f1": x, "f2": g * (1 - math.sqrt(x / g)), "size": 1000 * y + 10 * x}


def size_limit(metrics):
    """An importable outcome constraint function: size at most 500 (<= 0 satisfied)."""
    return metrics["size"] - 500


def make(url, name="m", **kwargs):
    kwargs.setdefault("strategy", "random")
    return kl.Experiment(name, SPACE, metric=["f1", "f2"], direction=["min", "min"], storage=url, seed=0, **kwargs)


def test_values_are_stored_in_metric_order_and_the_front_is_non_dominated(sqlite_url):
    exp = make(sqlite_url).optimize(zdt1, n_trials=25)
    trials = exp.trials
    assert all(t.state == TrialState.COMPLETE and t.value is None for t in trials)
    for t in trials:
        assert t.values == [t.metrics["f1"], t.metrics["f2"]]
    front = exp.pareto_front
    numbers = {t.number for t in front}
    L = [t.values for t in trials]
    mask = pareto.pareto_mask(pareto.losses(L, ["min", "min"]))
    assert numbers == {t.number for t, on in zip(trials, mask) if on} and numbers
    df = exp.results
    assert df["pareto"].tolist() == [t.number in numbers for t in trials]
    assert {"f1", "f2", "size"} <= set(df.columns)


def test_best_is_refused_with_the_way_out_and_best_by_picks_one_objective(sqlite_url):
    exp = make(sqlite_url).optimize(zdt1, n_trials=10)
    with pytest.raises(ValueError) as e:
        _ = exp.best
    text = str(e.value)
    assert "\n" not in text and "exp.pareto_front" in text and "exp.best_by('f1')" in text
    assert exp.best_by("f1").values[0] == min(t.values[0] for t in exp.trials)
    assert exp.best_by("size", "max").metrics["size"] == max(t.metrics["size"] for t in exp.trials)
    with pytest.raises(ValueError, match="best_by: 'size' is not an objective .*give direction="):
        exp.best_by("size")


def test_maximized_objectives_enter_the_front_negated(sqlite_url):
    exp = kl.Experiment("mx", SPACE, metric=["acc", "params"], direction=["max", "min"], storage=sqlite_url, seed=1)
    exp.optimize(lambda t: {"acc": t.params["x"], "params": t.params["x"] + t.params["y"]}, n_trials=12)
    for t in exp.pareto_front:  # no other trial has at least its accuracy with fewer parameters
        for o in exp.trials:
            assert not (o.values[0] >= t.values[0] and o.values[1] < t.values[1])


@pytest.mark.parametrize(
    "result, fragment",
    [
        ({"f1": 1.0}, "lack ['f2']"),
        (3.0, "with several objectives return a dict holding each of ['f1', 'f2']"),
        ({"f1": 1.0, "f2": float("nan")}, "metric 'f2' is nan"),
        ({"f1": "a", "f2": 1.0}, "metric 'f1' is 'a', not a number"),
    ],
)
def test_a_result_without_every_objective_fails_the_trial_with_the_reason(sqlite_url, result, fragment):
    exp = make(sqlite_url)
    (trial,) = exp.ask()
    done = exp.tell(trial, result)
    assert done.state == TrialState.FAILED and fragment in done.error and done.values is None


def test_single_objective_strategies_are_refused_and_multi_ones_named(sqlite_url):
    for name in ("tpe", "gp", "cmaes"):
        with pytest.raises(ValueError) as e:
            make(sqlite_url, name=f"r{name}", strategy=name)
        assert f"strategy {name!r} optimizes one objective" in str(e.value)
        assert "'mogp'" in str(e.value) and "'nsga2'" in str(e.value) and "'motpe'" in str(e.value)
    for name in ("random", "sobol", "lhs", "motpe", "mogp", "nsga2", "auto"):
        make(sqlite_url, name=f"ok{name}", strategy=name)


def test_target_is_refused(sqlite_url):
    with pytest.raises(ValueError, match="target: experiment 'm' has several objectives"):
        make(sqlite_url).optimize(zdt1, n_trials=3, target=0.1)


def test_reopening_checks_the_objectives_and_load_restores_them(sqlite_url):
    make(sqlite_url).optimize(zdt1, n_trials=3)
    with pytest.raises(ValueError, match=r"optimizes min 'f1', min 'f2'; got min 'f1', max 'f2'"):
        kl.Experiment("m", SPACE, metric=["f1", "f2"], direction=["min", "max"], storage=sqlite_url)
    with pytest.raises(ValueError, match=r"optimizes min 'f1', min 'f2'; got min 'f1'"):
        kl.Experiment("m", SPACE, metric="f1", storage=sqlite_url)
    again = kl.Experiment.load("m", sqlite_url)
    assert again.metrics == ["f1", "f2"] and again.directions == ["min", "min"]
    again.optimize(zdt1, n_trials=5)
    assert len(again.trials) == 5 and all(len(t.values) == 2 for t in again.trials)


def test_outcome_constraints_mark_trials_infeasible_and_keep_them_off_the_front(sqlite_url):
    exp = make(sqlite_url, constraints=["size <= 500"]).optimize(zdt1, n_trials=30)
    trials = exp.trials
    bad = [t for t in trials if t.metrics["size"] > 500]
    assert bad and all(t.state == TrialState.COMPLETE and t.attrs["feasible"] is False for t in bad)
    assert all(t.attrs["violation"] == pytest.approx(t.metrics["size"] - 500) for t in bad)
    good = [t for t in trials if t.metrics["size"] <= 500]
    assert all(t.attrs["feasible"] is True and t.attrs["violation"] == 0 for t in good)
    front = exp.pareto_front
    assert front and all(t.attrs["feasible"] for t in front)
    # the front is the front of the feasible trials alone
    mask = pareto.pareto_mask(pareto.losses([t.values for t in good], ["min", "min"]))
    assert {t.number for t in front} == {t.number for t, on in zip(good, mask) if on}
    df = exp.results
    assert df["feasible"].tolist() == [t.metrics["size"] <= 500 for t in trials]
    assert not df.loc[~df["feasible"].astype(bool), "pareto"].any()
    assert exp.best_by("f1").attrs["feasible"]


def test_one_objective_with_constraints_never_reports_an_infeasible_best(sqlite_url):
    exp = kl.Experiment("one", SPACE, metric="f2", storage=sqlite_url, seed=0, constraints="size <= 300")
    exp.optimize(zdt1, n_trials=20)
    assert exp.best.metrics["size"] <= 300
    feasible = [t.value for t in exp.trials if t.metrics["size"] <= 300]
    assert exp.best.value == min(feasible)
    assert min(t.value for t in exp.trials) <= exp.best.value  # an infeasible trial may have a better value


def test_constraints_are_checked_on_reopening_and_restored_by_load(sqlite_url):
    make(sqlite_url, constraints=["size <= 500", size_limit]).optimize(zdt1, n_trials=4)
    with pytest.raises(ValueError, match=r"has outcome constraints \['size <= 500'"):
        make(sqlite_url, constraints=["size <= 400"])
    with pytest.raises(ValueError, match="has outcome constraints"):
        make(sqlite_url, constraints=[])  # explicitly none
    assert len(make(sqlite_url).constraints) == 2  # left out: the stored ones
    assert kl.Experiment("m", storage=sqlite_url).metrics == ["f1", "f2"]  # by name alone: objectives too
    again = kl.Experiment.load("m", sqlite_url)
    assert [c.name for c in again.constraints.items] == ["size <= 500", "size_limit"]
    again.optimize(zdt1, n_trials=8)
    assert all("feasible" in t.attrs for t in again.trials)


def test_a_constraint_function_that_cannot_be_imported_reads_but_does_not_run(sqlite_url):
    make(sqlite_url, constraints=[lambda m: m["size"] < 500]).optimize(zdt1, n_trials=3)
    again = kl.Experiment.load("m", sqlite_url)  # reading works: the function is kept by name
    assert len(again.pareto_front) >= 1
    with pytest.raises(ValueError, match="cannot be imported here; pass constraints=.* again"):
        again.optimize(zdt1, n_trials=5)


def test_a_constraint_on_a_metric_the_objective_does_not_return_fails_the_trial(sqlite_url):
    from knoblab.outcomes import AllTrialsFailedError

    exp = make(sqlite_url, constraints=["latency <= 1"])
    with pytest.raises(AllTrialsFailedError), pytest.warns(UserWarning, match="needs metric 'latency'"):
        exp.optimize(zdt1, n_trials=2)
    assert all(t.state == TrialState.FAILED for t in exp.trials)
    assert "constraint 'latency <= 1' needs metric 'latency'" in exp.trials[0].error


@pytest.mark.parametrize("strategy", ["motpe", "mogp", "nsga2"])
def test_model_based_strategies_learn_feasibility(sqlite_url, strategy):
    """Most of the space breaks the constraint (size <= 150 needs y <= 0.15 or so: about 15% of uniform points meet
    it): after the start-up, a strategy that models feasibility proposes feasible points twice as often or more."""
    chosen = kl.strategies.NSGA2Search(population_size=10) if strategy == "nsga2" else strategy
    exp = make(sqlite_url, name=strategy, constraints=["size <= 150"], strategy=chosen).optimize(zdt1, n_trials=40)
    late = [t for t in exp.trials if t.number >= 20]
    share = sum(t.attrs["feasible"] for t in late) / len(late)
    assert share >= 0.3, share


def test_processes_tell_with_the_constraints_they_are_sent(sqlite_url):
    exp = make(sqlite_url, constraints=["size <= 500"])
    exp.optimize(zdt1, n_trials=6, n_jobs=2)
    trials = exp.trials
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    assert all(t.attrs["feasible"] == (t.metrics["size"] <= 500) for t in trials)


def test_schedulers_stop_on_the_first_objective_and_pbt_refuses(sqlite_url):
    def curve(trial):
        x, y = trial.params["x"], trial.params["y"]
        for step in range(9):
            trial.report(step, f1=x + 1 / (step + 1), f2=y)
            if trial.should_stop():
                raise kl.TrialPruned()
        return {"f1": x, "f2": y}

    exp = make(sqlite_url, scheduler=kl.schedulers.ASHA(min_resource=1, max_resource=9))
    exp.optimize(curve, n_trials=20)
    pruned = [t for t in exp.trials if t.state == TrialState.PRUNED]
    assert pruned
    for t in pruned:  # the objectives of the step that was best for f1, the first objective
        assert t.value is None and t.values is not None and t.values[1] == t.params["y"]
    with pytest.raises(ValueError, match="scheduler 'pbt' cannot rank trials on 2 objectives"):
        make(sqlite_url, name="p", scheduler="pbt")


def test_single_objective_experiments_store_as_before(sqlite_url):
    exp = kl.Experiment("plain", SPACE, metric="f1", storage=sqlite_url, seed=0)
    exp.optimize(zdt1, n_trials=3)
    assert exp.record.objectives is None
    assert all(t.values is None and isinstance(t.value, float) for t in exp.trials)
    assert "pareto" not in exp.results.columns and "feasible" not in exp.results.columns
    assert [t.number for t in exp.pareto_front] == [exp.best.number]


def test_the_notebook_view_and_the_top_trials_are_the_front(sqlite_url):
    from knoblab.analysis.evaluate import top_trials

    exp = make(sqlite_url, constraints=["size <= 500"]).optimize(zdt1, n_trials=15)
    html = exp._repr_html_()
    assert "minimum of f1, minimum of f2" in html and f"Pareto front: {len(exp.pareto_front)} trials" in html
    top = top_trials(exp, 3)
    assert [t.number for t in top] == [t.number for t in sorted(exp.pareto_front, key=lambda t: t.values[0])][:3]


def test_the_progress_bar_shows_the_size_of_the_front(sqlite_url, capsys):
    exp = make(sqlite_url).optimize(zdt1, n_trials=6, show_progress=True)
    assert f"Pareto front of {len(exp.pareto_front)}" in capsys.readouterr().err


@pytest.mark.parametrize("strategy", ["tpe", "gp"])
def test_single_objective_strategies_rank_infeasible_trials_last(sqlite_url, strategy):
    """The value improves towards y = 1, but only y <= 0.3 is allowed: a strategy that took infeasible values at face
    value would chase y = 1; these end up proposing feasible points, near the limit."""
    exp = kl.Experiment(
        "one", SPACE, metric="loss", storage=sqlite_url, seed=0, strategy=strategy, constraints=["y <= 0.3"]
    )
    exp.optimize(lambda t: {"loss": -t.params["y"] + 0.1 * t.params["x"], "y": t.params["y"]}, n_trials=30)
    late = [t for t in exp.trials if t.number >= 15]
    assert sum(t.attrs["feasible"] for t in late) / len(late) >= 0.4  # random search: about 0.3
    assert exp.best.metrics["y"] <= 0.3 and exp.best.metrics["y"] > 0.2
