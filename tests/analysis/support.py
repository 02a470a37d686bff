"""Trials made by hand (no storage) and small stored experiments for the analysis tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import knoblab as kl
from knoblab.analysis.frame import TrialTable, trial_table
from knoblab.space import Space
from knoblab.trial import FrozenTrial, TrialState


def frozen(
    number: int,
    params: dict[str, Any],
    value: float,
    metrics: dict[str, Any] | None = None,
    round: int = 0,
    curves: dict[str, Sequence[float]] | None = None,
) -> FrozenTrial:
    reports = None
    if curves:
        n = max(len(c) for c in curves.values())
        reports = [(e, {k: float(c[e]) for k, c in curves.items() if e < len(c)}) for e in range(n)]
    return FrozenTrial(
        id=number + 1,
        number=number,
        state=TrialState.COMPLETE,
        params=params,
        value=value,
        metrics={"value": value, **(metrics or {})},
        round=round,
        reports=reports,
    )


def table(space: dict, rows: Sequence[tuple[dict, float]], direction: str = "min", **kwargs) -> TrialTable:
    trials = [frozen(i, p, v, **kwargs) for i, (p, v) in enumerate(rows)]
    return trial_table(trials, Space(space), "value", direction)


def stored_experiment(url: str, name: str = "synthetic", n: int = 60, seed: int = 1) -> kl.Experiment:
    """x near 2 is best; opt "c" costs 5; n adds a little; per-step curves for loss and val_loss."""
    space = {"x": kl.Real(0.0, 10.0), "opt": ["a", "b", "c"], "n": (1, 5, 5), "fixed": 3}
    exp = kl.Experiment(name, space, storage=url, strategy="random", seed=seed)
    exp.optimize(synthetic_objective, n_trials=n, show_progress=False)
    return exp


def synthetic_objective(trial) -> dict[str, float]:
    p = trial.params
    rng = np.random.default_rng(trial.seed)
    v = (p["x"] - 2.0) ** 2 + (5.0 if p["opt"] == "c" else 0.0) + 0.1 * p["n"] + rng.normal(0, 0.5)
    for e in range(5):
        trial.report(e, loss=abs(v) + 1.0 / (e + 1), val_loss=abs(v) * 1.1 + 1.0 / (e + 1))
    return {"value": v, "loss": abs(v), "val_loss": abs(v) * 1.2}
