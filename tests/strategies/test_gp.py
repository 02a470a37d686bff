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
