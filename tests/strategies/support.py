"""Runs a strategy on a plain function without storage: what the strategy unit tests share."""

from __future__ import annotations

from knoblab.trial import FrozenTrial, TrialState


def run(strategy, space, f, n, batch=1, seed=0) -> list[FrozenTrial]:
    """Asks `strategy` for points (`batch` at a time) and records f(point) as COMPLETE trials until n are done."""
    strategy.setup(space, seed=seed, direction="min")
    history: list[FrozenTrial] = []
    while len(history) < n:
        for p in strategy.ask(history, batch):
            k = len(history)
            history.append(FrozenTrial(id=k + 1, number=k, state=TrialState.COMPLETE, params=p, value=f(p)))
    return history
