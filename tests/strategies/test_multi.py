"""The multi-objective strategies beyond the conformance contract: they learn (more hypervolume than random search
on the same budget), EHVI is what it claims, one objective falls back to the single-objective strategy, and auto's
rule for several objectives."""

from __future__ import annotations

import math

import numpy as np
import pytest

import knoblab as kl
from knoblab import pareto
from knoblab.space import Space
from knoblab.strategies import make_strategy
from knoblab.strategies.auto import AutoStrategy
from knoblab.strategies.mogp import log_ehvi
from knoblab.trial import FrozenTrial, TrialState

ZDT_SPACE = Space({f"x{i}": kl.Real(0.0, 1.0) for i in range(4)})


def zdt1(p):
    x = np.array([p[f"x{i}"] for i in range(4)])
    g = 1 + 9 * x[1:].mean()
    return [x[0], g * (1 - math.sqrt(x[0] / g))]


def zdt2(p):
    x = np.array([p[f"x{i}"] for i in range(4)])
    g = 1 + 9 * x[1:].mean()
    return [x[0], g * (1 - (x[0] / g) ** 2)]


def dtlz2(p):
    x = np.array([p[f"x{i}"] for i in range(4)])
    g = float(np.sum((x[2:] - 0.5) ** 2))
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    return [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a)]


def run(strategy, f, n, directions, seed=0, batch=1):
    strategy.setup(ZDT_SPACE, seed=seed, direction=tuple(directions))
    history: list[FrozenTrial] = []
    while len(history) < n:
        for p in strategy.ask(history, batch):
            k = len(history)
            history.append(FrozenTrial(id=k + 1, number=k, state=TrialState.COMPLETE, params=p, values=f(p)))
    return history


def hv(history, ref):
    return pareto.hypervolume(np.array([t.values for t in history]), ref)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, n, f, ref",
    [
        ("mogp", 30, zdt1, (11.0, 11.0)),
        ("motpe", 60, zdt1, (11.0, 11.0)),
        ("nsga2", 150, zdt1, (11.0, 11.0)),
        ("mogp", 30, dtlz2, (1.1, 1.1, 1.1)),
    ],
)
def test_more_hypervolume_than_random_search_on_the_same_budget(name, n, f, ref):
    m = len(ref)
    seeds = range(3)
    ours, blind = [], []
    for seed in seeds:
        strategy = kl.strategies.NSGA2Search(population_size=20) if name == "nsga2" else make_strategy(name)
        ours.append(hv(run(strategy, f, n, ["min"] * m, seed), ref))
        blind.append(hv(run(make_strategy("random"), f, n, ["min"] * m, seed), ref))
    assert np.mean(ours) > np.mean(blind), (ours, blind)
    assert sum(a > b for a, b in zip(ours, blind)) >= 2, (ours, blind)


@pytest.mark.slow
def test_mogp_widens_a_front_that_starts_as_one_point():
    """ZDT2's concave front: x0 = 0 (the point (0, 1)) is found early and dominates nearly everything else for a
    while; a reference point at the front's own nadir then leaves nothing to gain past it and the search stays there
    (hypervolume 110.0, the one point). The reference from every trial widens the front toward its maximum, 120.33."""
    for seed in range(2):
        assert hv(run(make_strategy("mogp"), zdt2, 40, ["min", "min"], seed), (11.0, 11.0)) > 118.0


def test_a_maximized_objective_is_searched_the_right_way():
    """The same ZDT1 with f2 negated and maximized gives the same points as minimizing it."""

    def flipped(p):
        a, b = zdt1(p)
        return [a, -b]

    a = run(make_strategy("mogp"), zdt1, 14, ["min", "min"], seed=2)
    b = run(make_strategy("mogp"), flipped, 14, ["min", "max"], seed=2)
    assert [t.params for t in a] == [t.params for t in b]


def test_ehvi_matches_a_monte_carlo_estimate_and_its_gradient_finite_differences():
    rng = np.random.default_rng(0)
    front, ref = rng.random((6, 3)), np.full(3, 1.2)
    lo, hi = pareto.non_dominated_boxes(front, ref)
    mean, std = rng.random((4, 3)), 0.05 + 0.3 * rng.random((4, 3))
    value, d_mean, d_std = log_ehvi(mean, std, lo, hi, grad=True)
    samples = mean[0] + std[0] * rng.standard_normal((20_000, 3))
    base = pareto.hypervolume(front, ref)
    mc = np.mean([pareto.hypervolume(np.vstack([front, y]), ref) - base for y in samples[:4000]])
    assert math.exp(value[0]) == pytest.approx(mc, rel=0.05)
    eps = 1e-6
    for j in range(3):
        e = np.zeros(3)
        e[j] = eps
        num_mean = (log_ehvi(mean + e, std, lo, hi) - log_ehvi(mean - e, std, lo, hi)) / (2 * eps)
        num_std = (log_ehvi(mean, std + e, lo, hi) - log_ehvi(mean, std - e, lo, hi)) / (2 * eps)
        assert np.allclose(d_mean[:, j], num_mean, atol=1e-6)
        assert np.allclose(d_std[:, j], num_std, atol=1e-6)


def test_ehvi_stays_finite_far_from_the_front():
    front, ref = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([2.0, 2.0])
    lo, hi = pareto.non_dominated_boxes(front, ref)
    value, d_mean, d_std = log_ehvi(np.array([[50.0, 50.0]]), np.array([[0.1, 0.1]]), lo, hi, grad=True)
    assert np.isfinite(value).all() and np.isfinite(d_mean).all() and np.isfinite(d_std).all()
    assert d_mean[0, 0] < 0  # improving the mean improves EHVI


def test_more_than_three_objectives_use_parego():
    def four(p):
        a, b = zdt1(p)
        return [a, b, p["x1"], 1 - p["x2"]]

    a = run(make_strategy("mogp"), four, 14, ["min"] * 4, seed=1)
    b = run(make_strategy("mogp"), four, 14, ["min"] * 4, seed=1)
    assert [t.params for t in a] == [t.params for t in b]
    assert len({tuple(sorted(t.params.items())) for t in a}) == 14


@pytest.mark.parametrize("name, single", [("motpe", "tpe"), ("mogp", "gp")])
def test_with_one_objective_they_are_the_single_objective_strategy(name, single):
    space = Space({"x": kl.Real(-2.0, 2.0), "c": ["a", "b", "c"]})

    def go(strategy):
        strategy.setup(space, seed=4, direction="min")
        history: list[FrozenTrial] = []
        for _ in range(16):
            (p,) = strategy.ask(history, 1)
            value = (p["x"] - 0.3) ** 2 + (p["c"] == "b")
            history.append(
                FrozenTrial(id=len(history) + 1, number=len(history), state=TrialState.COMPLETE, params=p, value=value)
            )
        return [t.params for t in history]

    assert go(make_strategy(name)) == go(make_strategy(single))


def chosen(spec, n_trials, m=2):
    s = AutoStrategy()
    s.setup(Space(spec), seed=0, direction=("min",) * m)
    s.configure(n_trials=n_trials, fraction_limit=None)
    return s.choice


def test_auto_for_several_objectives():
    real = {"lr": kl.Real(1e-4, 1e-1, log=True), "units": kl.Int(8, 256)}
    assert chosen({"a": [1, 2, 3]}, n_trials=10) == "grid"  # the grid rules first
    assert chosen(real, n_trials=100) == "mogp"
    assert chosen(real, n_trials=300, m=3) == "mogp"
    assert chosen(real, n_trials=100, m=4) == "motpe"
    assert chosen(real, n_trials=None) == "motpe"
    assert chosen(real, n_trials=600) == "motpe"
    assert chosen(real, n_trials=5000) == "nsga2"
    assert chosen({f"x{i}": kl.Real(0, 1) for i in range(40)}, n_trials=100) == "motpe"


def test_auto_runs_a_multi_objective_experiment_and_stores_its_choice(tmp_path):
    exp = kl.Experiment(
        "auto",
        {"x": kl.Real(0.0, 1.0), "y": kl.Real(0.0, 1.0)},
        metric=["a", "b"],
        direction=["min", "max"],
        storage=f"sqlite:///{tmp_path}/k.db",
        seed=0,
    )
    exp.optimize(lambda t: {"a": t.params["x"], "b": t.params["x"] * t.params["y"]}, n_trials=12)
    assert exp.record.attrs["auto_choice"] == {"0": "mogp"}
    assert len(exp.pareto_front) >= 1
