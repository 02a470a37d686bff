"""CMA-ES: converges on a numeric space, replays its evolution from the history, refuses categorical knobs."""

from __future__ import annotations

import pytest

import knoblab as kl
from knoblab.space import Space
from knoblab.strategies.cmaes import CMAESSearch
from knoblab.trial import FrozenTrial, TrialState

pytest.importorskip("cmaes")

SPACE = Space({"x": kl.Real(-2.0, 2.0), "y": kl.Real(1e-3, 10.0, log=True), "n": kl.Int(1, 50)})


def f(p):
    return (p["x"] - 0.5) ** 2 + (p["y"] ** 0.5 - 1) ** 2 + 0.001 * (p["n"] - 20) ** 2


def run(strategy, n, batch=4, history=None, seed=0):
    strategy.setup(SPACE, seed=seed, direction="min")
    history = list(history or [])
    while len(history) < n:
        for p in strategy.ask(history, batch):
            k = len(history)
            history.append(FrozenTrial(id=k + 1, number=k, state=TrialState.COMPLETE, params=p, value=f(p)))
    return history


def test_improves_over_generations():
    history = run(CMAESSearch(), 120)
    first = min(t.value for t in history[:12])
    assert min(t.value for t in history) < 0.2 * first


def test_a_fresh_instance_replays_the_same_evolution():
    history = run(CMAESSearch(), 40)
    a, b = CMAESSearch(), CMAESSearch()
    a.setup(SPACE, seed=0, direction="min")
    b.setup(SPACE, seed=0, direction="min")
    a.ask(history[:20], 2)  # a has replayed part of the history already, b has not
    assert a.ask(history, 5) == b.ask(history, 5)


def test_refuses_categorical_and_branch_knobs_naming_them():
    s = CMAESSearch()
    with pytest.raises(ValueError, match="knob 'opt'"):
        s.setup(Space({"x": kl.Real(0, 1), "opt": ["adam", "sgd"]}), seed=0, direction="min")
    assert not s.supports(Space({"layers": kl.Branch({1: {}, 2: {"u": kl.Int(1, 4)}})}))
    assert s.supports(Space({"dropout": (0.0, 0.5, 6), "n": kl.Int(1, 4)}))  # ordered choices are numeric
