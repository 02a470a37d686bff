"""TPE: learns (beats random on a quadratic), handles branches and categoricals, batches with a constant liar."""

from __future__ import annotations

import numpy as np
import pytest

import knoblab as kl
from knoblab.space import Space
from knoblab.strategies.random import RandomSearch
from knoblab.strategies.tpe import _KDE, TPESearch
from knoblab.trial import FrozenTrial, TrialState

from .support import run

QUAD = Space({f"x{i}": kl.Real(-1.0, 1.0) for i in range(4)})


def quad(p):
    return sum((p[f"x{i}"] - 0.3) ** 2 for i in range(4))


def test_beats_random_on_a_quadratic():
    tpe = [min(t.value for t in run(TPESearch(), QUAD, quad, 80, seed=s)) for s in range(3)]
    rnd = [min(t.value for t in run(RandomSearch(), QUAD, quad, 80, seed=s)) for s in range(3)]
    assert np.mean(tpe) < 0.3 * np.mean(rnd)


def test_finds_the_best_category_and_branch():
    space = Space(
        {
            "opt": ["sgd", "adam", "rmsprop", "adagrad"],
            "layers": kl.Branch({1: {"a": kl.Real(0, 1)}, 2: {"b": kl.Real(0, 1), "c": kl.Int(1, 9)}}),
        }
    )

    def f(p):
        base = 0.0 if p["opt"] == "adam" else 1.0
        if p["layers"] == 1:
            return base + 0.5 + (p["a"] - 0.5) ** 2
        return base + (p["b"] - 0.2) ** 2 + 0.01 * abs(p["c"] - 4)

    history = run(TPESearch(), space, f, 60)
    late = history[30:]
    assert sum(t.params["opt"] == "adam" for t in late) > 0.5 * len(late)
    assert sum(t.params["layers"] == 2 for t in late) > 0.5 * len(late)
    assert all(space.contains(t.params) for t in history)


def test_batch_points_are_distinct_and_pending_trials_push_the_next_pick_away():
    history = run(TPESearch(), QUAD, quad, 30)
    s = TPESearch()
    s.setup(QUAD, seed=0, direction="min")
    batch = s.ask(history, 8)
    assert len({tuple(sorted(p.items())) for p in batch}) == 8
    running = [
        FrozenTrial(id=100 + i, number=30 + i, state=TrialState.RUNNING, params=p) for i, p in enumerate(batch[:4])
    ]
    after = s.ask(history + running, 4)
    assert not any(p in batch[:4] for p in after)


def test_seeds_reproduce_and_maximize_works():
    a = run(TPESearch(), QUAD, quad, 25, batch=3, seed=4)
    b = run(TPESearch(), QUAD, quad, 25, batch=3, seed=4)
    assert [t.params for t in a] == [t.params for t in b]
    s = TPESearch()
    s.setup(QUAD, seed=0, direction="max")
    history = []
    for _ in range(60):
        p = s.ask(history, 1)[0]
        k = len(history)
        history.append(FrozenTrial(id=k + 1, number=k, state=TrialState.COMPLETE, params=p, value=-quad(p)))
    assert max(t.value for t in history) > -0.15


def test_categorical_kernel_is_a_proper_distribution():
    kde = _KDE(np.array([[0.0], [2.0]]), np.array([True]), np.array([3]), prior_weight=1.0)
    p = np.exp(kde.log_pdf(np.array([[0.0], [1.0], [2.0]])))
    assert p.sum() == pytest.approx(1.0)
    assert p[0] > p[1] and p[2] > p[1]
