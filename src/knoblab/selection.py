"""How the best trial is chosen (`Experiment.best`, `Scan.best`, the top k of `evaluate_best`): the rule in one place.

1. Candidates: the COMPLETE trials with a finite value that meet the outcome constraints (`knoblab.objectives`: a
   trial that broke one is stored and shown, never the best). One objective only: with several there is no single
   best (`Experiment.best` refuses; see `pareto_front`). A trial that a scheduler stops or pauses ends PRUNED, so in
   a multi-fidelity search (successive halving, Hyperband; in promotion mode only the last segment of a trial that
   runs to max_resource completes) the candidates are the trials that reached the top rung, never a fast starter
   measured at a lower budget. With no COMPLETE trial (a search whose budget ended mid-bracket), the trials that
   were paused at a rung or stopped by the resource budget and reached the largest resource are the candidates, so
   such a search still has a best (a trial pruned for being bad never is).
2. Order: trials with a cross-validation score (attr `cv_mean`, stored by `Scan(select="cv")`, which
   cross-validates the top k) first, by it, those within one standard error of the best CV mean counted as tied
   and ordered by their CV validation loss (`cv_tie_mean`); then by value; ties (an accuracy on a small validation set takes few
   distinct values) by the validation loss when the metric is not itself a loss and the trials report one
   (`val_loss` for a `val_` metric, else `loss`); then the earlier trial.

The value itself is what the objective returned: for Keras scans of accuracy-like metrics, a smoothed one (the
mean over a few epochs: see `knoblab.keras.scan.Scan`'s `objective`), so a lucky epoch does not win either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .objectives import is_feasible
from .observations import reached
from .trial import FrozenTrial, TrialState

__all__ = ["candidates", "ranked", "sort_key", "tie_breaker"]


def tie_breaker(metric: str) -> str | None:
    """The metric that breaks ties of `metric`: the matching loss (`val_loss` for `val_accuracy`), or None when
    `metric` is a loss itself."""
    if "loss" in metric:
        return None
    return "val_loss" if metric.startswith("val_") else "loss"


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def candidates(trials: Iterable[FrozenTrial]) -> list[FrozenTrial]:
    """The trials the best is chosen from (rule 1 of the module docstring)."""
    trials = list(trials)
    done = [t for t in trials if t.state == TrialState.COMPLETE and _finite(t.value) and is_feasible(t)]
    if done:
        return done
    pruned = [t for t in trials if t.state == TrialState.PRUNED and _finite(t.value) and _unfinished(t)]
    if not pruned:
        return []
    top = max(reached(t) for t in pruned)
    return [t for t in pruned if reached(t) == top]


def _unfinished(trial: FrozenTrial) -> bool:
    """A PRUNED trial that was stopped for a reason other than its value: paused at a rung to be promoted, or
    stopped by the resource budget. A trial pruned for being bad is never a candidate."""
    return trial.attrs.get("paused_at") is not None or trial.attrs.get("stopped_by") is not None


def sort_key(trial: FrozenTrial, metric: str, direction: str, use_cv: bool = True) -> tuple:
    """A key that orders trials best first: COMPLETE before PRUNED (these by the resource reached, more first), then
    rule 2 of the module docstring (without its CV scores when `use_cv` is False). Sorting candidates by it gives
    the selection order."""
    sign = 1.0 if direction == "min" else -1.0
    complete = trial.state == TrialState.COMPLETE
    cv = trial.attrs.get("cv_mean")
    cv_value = float(cv) if use_cv and cv is not None and _finite(cv) else None
    tie = tie_breaker(metric)
    tie_value = trial.metrics.get(tie) if tie else None
    value = float(trial.value) if trial.value is not None and _finite(trial.value) else math.inf * sign  # last
    return (
        0 if complete else 1,
        0 if complete else -reached(trial),
        0 if cv_value is not None else 1,
        round(sign * cv_value, 12) if cv_value is not None else 0.0,
        round(sign * value, 12),
        tie_value if _finite(tie_value) else math.inf,
        trial.number,
    )


def ranked(trials: Iterable[FrozenTrial], metric: str, direction: str, use_cv: bool = True) -> list[FrozenTrial]:
    """The candidates, best first (by value alone, ignoring CV scores, when `use_cv` is False). Cross-validated
    trials whose CV mean is within one standard error of the best one's are tied (their difference is noise); of
    those, the one with the lowest CV mean of the tie-breaker (`cv_tie_mean`: val_loss) comes first."""
    if direction not in ("min", "max"):
        raise ValueError(f"direction: got {direction!r}; allowed: 'min' or 'max'")
    order = sorted(candidates(trials), key=lambda t: sort_key(t, metric, direction, use_cv))
    if not (use_cv and order and _finite(order[0].attrs.get("cv_mean"))):
        return order
    lead = order[0].attrs
    folds = (lead.get("cv") or {}).get("folds") or 1
    se = (lead.get("cv_std") or 0.0) / math.sqrt(folds)
    sign = 1.0 if direction == "min" else -1.0
    tied = [
        t
        for t in order
        if _finite(t.attrs.get("cv_mean")) and sign * (t.attrs["cv_mean"] - lead["cv_mean"]) <= se + 1e-12
    ]
    if len(tied) > 1 and all(_finite(t.attrs.get("cv_tie_mean")) for t in tied):
        first = sorted(tied, key=lambda t: t.attrs["cv_tie_mean"])  # stable: the CV order among equal losses
        return first + [t for t in order if t not in first]
    return order
