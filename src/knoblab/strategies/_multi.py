"""What the multi-objective strategies share: a history's trials as loss vectors, feasibility, and one ranking.

The ranking (`ranked`) orders observations best first, the way NSGA-II's survival and MOTPE's good/bad split need:
1. COMPLETE trials that meet the outcome constraints, by non-domination rank; within a rank, by hypervolume
   contribution (larger first) or crowding distance (NSGA-II);
2. then PRUNED trials, by the resource they reached (more first): their objectives were measured at a lower budget,
   if at all (with several objectives, schedulers stop trials on the first one);
3. then COMPLETE trials that break an outcome constraint, by their violation (smaller first).
With one objective, rank 1 is simply the order of the values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import pareto
from ..objectives import is_feasible, violation
from ..observations import reached
from ..trial import FrozenTrial, TrialState

__all__ = ["directions_of", "Observed", "observe", "crowding_distance", "secondary_key"]


def directions_of(direction: str | Sequence[str]) -> tuple[str, ...]:
    """The directions a strategy was set up with, always as a tuple."""
    return (direction,) if isinstance(direction, str) else tuple(direction)


def vector_of(trial: FrozenTrial, m: int) -> list[float] | None:
    """A trial's objective values (its `values`, or `[value]` with one objective), when all are finite."""
    v = trial.values if m > 1 else ([trial.value] if trial.value is not None else None)
    if v is None or len(v) != m:
        return None
    if not all(isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in v):
        return None
    return [float(x) for x in v]


@dataclass
class Observed:
    """The observations of a history, best first (see the module docstring).

    `trials` in that order; `losses` (n, m): their objectives as losses (NaN rows for PRUNED trials without them);
    `tier` 0 feasible COMPLETE, 1 PRUNED, 2 infeasible COMPLETE; `rank` the non-domination rank within tier 0
    (-1 elsewhere); `score` a scalar that sorts the same way (smaller is better); `constraints` the stored constraint
    values (n, k) when every trial of tiers 0 and 2 has them, else None."""

    trials: list[FrozenTrial]
    losses: np.ndarray
    tier: np.ndarray
    rank: np.ndarray
    score: np.ndarray
    constraints: np.ndarray | None

    @property
    def feasible(self) -> np.ndarray:
        return self.tier == 0

    def __len__(self) -> int:
        return len(self.trials)


def observe(
    history: Sequence[FrozenTrial], directions: Sequence[str], *, pruned: bool = True, within: str = "contribution"
) -> Observed:
    """The observations of `history` ranked best first. `within`: how a rank is ordered, "contribution"
    (hypervolume contribution, for the fronts that the good set of a TPE split can reach), "crowding" or "none"
    (by trial number)."""
    m = len(directions)
    sign = np.array([1.0 if d == "min" else -1.0 for d in directions])
    good: list[tuple[FrozenTrial, np.ndarray]] = []
    bad: list[tuple[FrozenTrial, np.ndarray]] = []
    stopped: list[tuple[FrozenTrial, np.ndarray]] = []
    for t in history:
        if t.state == TrialState.COMPLETE:
            v = vector_of(t, m)
            if v is None:
                continue
            (good if is_feasible(t) else bad).append((t, sign * np.array(v)))
        elif pruned and t.state == TrialState.PRUNED:
            v = vector_of(t, m)
            stopped.append((t, sign * np.array(v) if v is not None else np.full(m, np.nan)))
    L = np.array([v for _, v in good]).reshape(-1, m)
    ranks = pareto.non_dominated_ranks(L) if len(L) else np.zeros(0, dtype=int)
    within_key = secondary_key(L, ranks, within) if len(L) else np.zeros(0)
    order = np.lexsort((within_key, ranks)) if len(L) else np.zeros(0, dtype=int)
    top = (int(ranks.max()) + 1) if len(ranks) else 0
    score = [float(ranks[i]) + 0.5 * float(within_key[i]) for i in order]
    stopped.sort(key=lambda tv: (-reached(tv[0]), tv[0].number))
    bad.sort(key=lambda tv: (violation(tv[0]), tv[0].number))
    trials = [good[i][0] for i in order] + [t for t, _ in stopped] + [t for t, _ in bad]
    rows = [good[i][1] for i in order] + [v for _, v in stopped] + [v for _, v in bad]
    n_s, n_b = len(stopped), len(bad)
    score += [top + 1 + i / max(n_s, 1) for i in range(n_s)]
    score += [top + 3 + i / max(n_b, 1) for i in range(n_b)]
    tier = np.repeat(np.array([0, 1, 2]), [len(good), n_s, n_b])
    rank = np.concatenate([ranks[order], -np.ones(n_s + n_b, dtype=int)]).astype(int)
    cons = _constraint_values([good[i][0] for i in order] + [t for t, _ in bad])
    if cons is not None:  # PRUNED rows get NaN constraint values (not measured)
        cons = np.vstack([cons[: len(good)], np.full((n_s, cons.shape[1]), np.nan), cons[len(good) :]])
    return Observed(trials, np.array(rows).reshape(-1, m), tier, rank, np.array(score, dtype=float), cons)


def _constraint_values(trials: list[FrozenTrial]) -> np.ndarray | None:
    rows: list[list[float]] = []
    for t in trials:
        r = t.attrs.get("constraint_values")
        if not isinstance(r, list) or not r:
            return None
        rows.append(r)
    if not rows:
        return None
    k = len(rows[0])
    if any(len(r) != k for r in rows):
        return None
    return np.array(rows, dtype=float)


def secondary_key(L: np.ndarray, ranks: np.ndarray, how: str = "contribution") -> np.ndarray:
    """Per row, a key in [0, 1] that orders the rows of one rank (smaller is better): 1 - the normalized
    hypervolume contribution within its front, or 1 - the normalized crowding distance (NSGA-II)."""
    key = np.zeros(len(L))
    if len(L) == 0 or L.shape[1] == 1 or how == "none":
        return key
    if how == "crowding":
        for r in np.unique(ranks):
            idx = np.flatnonzero(ranks == r)
            d = crowding_distance(L[idx])
            finite = np.where(np.isinf(d), np.nan, d)
            top = np.nanmax(finite) if np.any(np.isfinite(finite)) else 1.0
            key[idx] = np.where(np.isinf(d), 0.0, 1.0 - d / (2 * top if top > 0 else 1.0))
        return key
    ref = pareto.reference_point(L)
    counted = 0
    for r in np.unique(ranks):  # the fronts a good set of at most ~25 trials (TPE's gamma) can reach
        idx = np.flatnonzero(ranks == r)
        if counted < 32 and len(idx) <= 400:
            c = pareto.contributions(L[idx], ref)
            top = c.max()
            key[idx] = 1.0 - c / top if top > 0 else 0.5
        else:
            key[idx] = 0.5
        counted += len(idx)
    return key


def crowding_distance(L: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each row among the rows given (one front): boundary rows are infinite."""
    n, m = L.shape
    d = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(L[:, j], kind="stable")
        col = L[order, j]
        span = col[-1] - col[0]
        d[order[0]] = d[order[-1]] = np.inf
        if span > 0:
            d[order[1:-1]] += (col[2:] - col[:-2]) / span
    return d
