"""How finished trials become observations for a model: COMPLETE trials by their value, PRUNED ones ranked after.

A PRUNED trial's value was reached at a lower budget than a COMPLETE trial's, so the two are not comparable: at a
low budget a value is usually worse, but not always (a fast starter). Model-based strategies therefore rank every
COMPLETE trial before every PRUNED one, and PRUNED trials among themselves by the resource they reached (more is
better), then by value, as Optuna's TPE does. Shared by strategies (which learn from it) and schedulers (which
document it), so neither package imports the other.

Under outcome constraints (`Experiment(constraints=...)`), a COMPLETE trial that breaks one is ranked after every
other observation, infeasible trials among themselves by their violation (smaller first): its value was measured,
but it is not an acceptable result, so a model should look elsewhere.

A trial promoted by a scheduler in promotion mode goes on as a continuation (a new trial with the same params and
attr `resumed_from`); once the continuation has finished, it speaks for the configuration at the larger resource,
and the paused parent is `superseded`: left out of the observations, so a model sees each configuration once, at
the furthest rung it reached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .objectives import is_feasible, violation
from .trial import FrozenTrial, TrialState

__all__ = ["reached", "ranked_observations", "superseded", "is_continuation", "infeasible_as_worst"]


def _value(trial: FrozenTrial) -> float:
    """The value of a trial already known to have a finite one."""
    assert trial.value is not None
    return trial.value


def reached(trial: FrozenTrial) -> int:
    """The resource (epochs, steps: reports count steps from 0) a trial reached: from its reports when loaded,
    else from what it stored when it ended (`reached`, or `paused_at` for a paused trial), else 0."""
    if trial.reports:
        return int(max(s for s, _ in trial.reports)) + 1
    return int(trial.attrs.get("reached") or trial.attrs.get("paused_at") or 0)


def is_continuation(trial: FrozenTrial) -> bool:
    """Whether the trial continues a paused one (a promotion): its params were proposed before, by its parent."""
    return trial.attrs.get("resumed_from") is not None


def superseded(history: Sequence[FrozenTrial]) -> set[int]:
    """The numbers of paused trials whose continuation has finished with a value (see the module docstring)."""
    return {
        int(t.attrs["resumed_from"])
        for t in history
        if is_continuation(t) and t.state in (TrialState.COMPLETE, TrialState.PRUNED) and _finite(t.value)
    }


def ranked_observations(
    history: Sequence[FrozenTrial], direction: str, impute: str = "rank"
) -> tuple[list[FrozenTrial], np.ndarray]:
    """COMPLETE and PRUNED trials with losses (lower is better) that rank every COMPLETE trial before every PRUNED
    one, and PRUNED trials by the resource they reached (more first), then by their value. Superseded trials (a
    paused trial whose continuation finished) are left out.

    impute="rank": PRUNED losses are placed above the worst COMPLETE loss, spaced by the spread of the complete
    losses (for rank-based models, e.g. TPE's split). impute="worst": every PRUNED loss is the worst COMPLETE loss
    (for models of magnitudes, e.g. a GP). With no COMPLETE trial, PRUNED trials keep their own order from 0 up.
    Infeasible COMPLETE trials (outcome constraints) come last, by violation, spaced as PRUNED ones are.
    """
    if impute not in ("rank", "worst"):
        raise ValueError(f"impute: got {impute!r}; allowed: 'rank' or 'worst'")
    if direction not in ("min", "max"):
        raise ValueError(f"direction: got {direction!r}; allowed: 'min' or 'max'")
    sign = 1.0 if direction == "min" else -1.0
    gone = superseded(history)
    done = [t for t in history if t.state == TrialState.COMPLETE and _finite(t.value) and t.number not in gone]
    infeasible = [t for t in done if not is_feasible(t)]
    if infeasible:
        done = [t for t in done if is_feasible(t)]
    pruned = [t for t in history if t.state == TrialState.PRUNED and _finite(t.value) and t.number not in gone]
    losses = [sign * _value(t) for t in done]
    worst = max(losses) if losses else 0.0
    spread = (max(losses) - min(losses)) if len(losses) > 1 else 1.0
    spread = spread if spread > 0 else 1.0
    order = sorted(pruned, key=lambda t: (-reached(t), sign * _value(t)))
    if impute == "worst" and losses:
        extra = [worst] * len(order)
    else:
        extra = [worst + spread * (i + 1) / (len(order) + 1) for i in range(len(order))]
    if not infeasible:
        return done + order, np.array(losses + extra, dtype=float)
    ruled_out = sorted(infeasible, key=lambda t: (violation(t), t.number))
    if impute == "worst" and losses:
        last = [worst] * len(ruled_out)
    else:
        top = max(losses + extra) if losses or extra else 0.0
        last = [top + spread * (i + 1) / (len(ruled_out) + 1) for i in range(len(ruled_out))]
    return done + order + ruled_out, np.array(losses + extra + last, dtype=float)


def infeasible_as_worst(trials: Sequence[FrozenTrial], losses: np.ndarray) -> np.ndarray:
    """Losses for a model of magnitudes (a GP) under outcome constraints: a trial that broke one gets no better than
    the worst loss of the trials that did not (its own value was measured, but it is not an acceptable result).
    `losses` is aligned with `trials`; returned unchanged (the same array) when every trial is feasible."""
    bad = np.array([not is_feasible(t) for t in trials], dtype=bool)
    if not bad.any() or bad.all():
        return losses
    out = np.array(losses, dtype=float, copy=True)
    out[bad] = np.maximum(out[bad], out[~bad].max())
    return out


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, float | int) and math.isfinite(value)
