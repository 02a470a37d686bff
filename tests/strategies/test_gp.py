"""GP-BO: stable log-EI, a model that fits, better than random on a quadratic, mixed and conditional spaces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

import knoblab as kl
from knoblab.space import Space
from knoblab.strategies.gp import _GP, GPSearch, log_ei, log_h
from knoblab.strategies.random import RandomSearch

from .support import run


def test_log_h_matches_the_direct_formula_where_that_is_accurate():
    z = np.linspace(-5, 5, 101)
    direct = np.log(norm.pdf(z) + z * norm.cdf(z))
    np.testing.assert_allclose(log_h(z), direct, rtol=1e-8, atol=1e-10)


def test_log_ei_is_finite_and_monotone_far_in_the_tail():
    z = -np.logspace(0, 12, 200)  # the direct formula underflows to log(0) = -inf from z ~ -38
    values = log_h(z)
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values) < 0)
    # asymptote: log h(z) ~ -z^2/2 - log(2 pi)/2 - 2 log|z|
    zz = -1e4
    assert log_h(np.array([zz]))[0] == pytest.approx(-zz * zz / 2 - 0.5 * math.log(2 * math.pi) - 2 * math.log(-zz))
    assert np.isfinite(log_ei(np.array([100.0]), np.array([1e-3]), 0.0)).all()


def test_the_model_interpolates_what_it_saw():
    rng = np.random.default_rng(0)
    X = rng.random((30, 2))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    gp = _GP(X, np.empty((30, 0)), y)
    mean, std = gp.predict(X, np.empty((30, 0)))
    assert np.max(np.abs(mean - y)) < 0.1
    test = rng.random((50, 2))
    truth = np.sin(6 * test[:, 0]) + test[:, 1] ** 2
    pred = gp.predict(test, np.empty((50, 0)))[0]
    assert np.corrcoef(pred, truth)[0, 1] > 0.9


def test_analytic_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    X = rng.random((20, 3))
    y = rng.normal(size=20)
    gp = _GP(X, np.zeros((20, 1)), y)
    x = rng.random((4, 3))
    xc = np.zeros((4, 1))
    _, _, dmean, dstd = gp.predict(x, xc, grad_mask=np.ones((4, 3)))
    eps = 1e-6
    for j in range(3):
        step = np.zeros(3)
        step[j] = eps
        m1, s1 = gp.predict(x + step, xc)
        m0, s0 = gp.predict(x - step, xc)
        np.testing.assert_allclose(dmean[:, j], (m1 - m0) / (2 * eps), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(dstd[:, j], (s1 - s0) / (2 * eps), rtol=1e-4, atol=1e-6)


QUAD = Space({"x0": kl.Real(-1.0, 1.0), "x1": kl.Real(-1.0, 1.0), "x2": kl.Real(0.01, 1.0, log=True)})


def quad(p):
    return (p["x0"] - 0.3) ** 2 + (p["x1"] + 0.2) ** 2 + (math.log10(p["x2"]) + 1) ** 2


def test_beats_random_on_a_quadratic():
    gp = [min(t.value for t in run(GPSearch(), QUAD, quad, 25, seed=s)) for s in range(2)]
    rnd = [min(t.value for t in run(RandomSearch(), QUAD, quad, 25, seed=s)) for s in range(2)]
    assert np.mean(gp) < 0.1 * np.mean(rnd)


def test_mixed_and_conditional_spaces():
    space = Space(
        {
            "opt": ["sgd", "adam", "rmsprop"],
            "n": kl.Int(1, 20),
            "layers": kl.Branch({1: {}, 2: {"u": kl.Int(8, 128, log=True), "d": kl.Real(0.0, 0.5)}}),
        }
    )

    def f(p):
        v = (0.0 if p["opt"] == "adam" else 1.0) + 0.05 * abs(p["n"] - 7)
        return v + (0.3 if p["layers"] == 1 else abs(math.log2(p["u"]) - 5) * 0.1 + p["d"])

    history = run(GPSearch(), space, f, 30, batch=3)
    assert all(space.contains(t.params) for t in history)
    assert min(t.value for t in history) < 0.3


def test_batch_proposals_are_distinct():
    history = run(GPSearch(), QUAD, quad, 12)
    s = GPSearch()
    s.setup(QUAD, seed=0, direction="min")
    batch = s.ask(history, 6)
    assert len({tuple(sorted(p.items())) for p in batch}) == 6
    assert all(QUAD.contains(p) for p in batch)


def test_seeds_reproduce():
    a = run(GPSearch(), QUAD, quad, 12, batch=2, seed=3)
    b = run(GPSearch(), QUAD, quad, 12, batch=2, seed=3)
    assert [t.params for t in a] == [t.params for t in b]


# ---- small budgets (issue 13): few Sobol points, rung data, a log-scale prior for wide linear knobs ----
KERAS = Space({"lr": kl.Real(1e-4, 1e-1, log=True), "units": kl.Int(8, 256, log=True), "dropout": kl.Real(0.0, 0.6)})


def keras_like(p):
    """A loss shaped like a small network's: best at lr 3e-3, 64 units, dropout 0.2."""
    return (
        (math.log10(p["lr"]) - math.log10(3e-3)) ** 2
        + 0.3 * (math.log2(p["units"]) - 6) ** 2 / 4
        + (p["dropout"] - 0.2) ** 2
    )


def test_the_model_takes_over_after_three_trials_of_a_keras_scan():
    from knoblab.strategies.gp import default_startup
    from knoblab.strategies.qmc import SobolSearch

    assert default_startup(3) == 3 and default_startup(4) == 3 and default_startup(6) == 7 and default_startup(12) == 10
    history = run(GPSearch(), KERAS, keras_like, 3)
    sobol = SobolSearch()
    sobol.setup(KERAS, seed=0, direction="min")
    assert [t.params for t in history] == sobol.ask([], 3)  # the first three are the Sobol points
    gp = GPSearch()
    gp.setup(KERAS, seed=0, direction="min")
    assert gp.ask(history, 1) != sobol.ask(history, 1)  # the fourth is the model's


def test_beats_random_within_eight_trials():
    gp = [min(t.value for t in run(GPSearch(), KERAS, keras_like, 8, seed=s)) for s in range(4)]
    rnd = [min(t.value for t in run(RandomSearch(), KERAS, keras_like, 8, seed=s)) for s in range(4)]
    assert np.median(gp) < 0.25 * np.median(rnd)
    assert sum(g < r for g, r in zip(gp, rnd)) >= 3  # seed by seed, not by one lucky run


def _pruned(number, params, value, reached):
    from knoblab.trial import FrozenTrial, TrialState

    return FrozenTrial(
        id=number + 1, number=number, state=TrialState.PRUNED, params=params, value=value, attrs={"reached": reached}
    )


def test_trials_stopped_at_a_low_rung_steer_the_model():
    # Hyperband's first rung: eight 1-epoch trials (PRUNED, reached 1) whose values say "x near 0.7", and two
    # complete trials far from it; the GP learns from the rung and proposes near 0.7 at full fidelity
    space = Space({"x": kl.Real(0.0, 1.0)})
    xs = np.linspace(0.05, 0.95, 8)
    history = [_pruned(i, {"x": float(x)}, float(1.0 + (x - 0.7) ** 2), reached=1) for i, x in enumerate(xs)]
    from knoblab.trial import FrozenTrial, TrialState

    for x in (0.05, 0.15):
        n = len(history)
        history.append(
            FrozenTrial(id=n + 1, number=n, state=TrialState.COMPLETE, params={"x": x}, value=(x - 0.7) ** 2)
        )
    for t in history[8:]:
        t.attrs["reached"] = 27
    learner = GPSearch(n_startup=2)
    learner.setup(space, seed=0, direction="min")
    assert abs(learner.ask(history, 1)[0]["x"] - 0.7) < 0.15
    X, y, fid = learner._observations(history)
    assert len(y) == 10 and fid.min() == 0.0 and fid.max() == 1.0
    blind = GPSearch(n_startup=2, learn_from_pruned=False)
    blind.setup(space, seed=0, direction="min")
    assert len(blind._observations(history)[1]) == 2 and blind._observations(history)[2] is None


def test_a_learning_rate_written_on_a_linear_scale_is_modelled_on_a_log_scale():
    from knoblab.strategies.gp import _scale_warps

    linear = Space(
        {"lr": kl.Real(1e-4, 1e-1), "units": kl.Int(8, 256), "dropout": kl.Real(0.0, 0.6), "m": kl.Real(0.5, 0.99)}
    )
    warped = _scale_warps(linear, np.ones(4, dtype=bool))
    assert [j for j, _ in warped] == [0, 1]  # lr and units; dropout (from 0) and momentum (2x) stay linear
    warp = warped[0][1]
    assert warp(np.array([0.0, 1.0])) == pytest.approx([0.0, 1.0])
    # lr = 1e-3 sits at 1/3 of the log scale, though at 0.009 of the linear one
    assert warp(np.array([(1e-3 - 1e-4) / (1e-1 - 1e-4)]))[0] == pytest.approx(1 / 3)
    u, eps = np.array([0.01, 0.3]), 1e-7
    np.testing.assert_allclose(warp.slope(u), (warp(u + eps) - warp(u - eps)) / (2 * eps), rtol=1e-5)

    def f(p):
        return (math.log10(p["lr"]) + 3) ** 2 + (p["dropout"] - 0.2) ** 2

    space = Space({"lr": kl.Real(1e-4, 1e-1), "dropout": kl.Real(0.0, 0.6)})
    gp = [min(t.value for t in run(GPSearch(), space, f, 12, seed=s)) for s in range(3)]
    rnd = [min(t.value for t in run(RandomSearch(), space, f, 12, seed=s)) for s in range(3)]
    assert np.mean(gp) < 0.3 * np.mean(rnd)
