"""Pareto fronts and hypervolumes of loss vectors (numpy only): what several objectives are judged by.

Every function here takes losses, an (n, m) array where each of the m objectives is minimized (a maximized metric
enters negated: `losses(values, directions)`). A point dominates another when it is no worse in every objective and
better in one; the Pareto front is the set of points no other point dominates.

The hypervolume of a set of points is the volume of the region they dominate, bounded by a reference point that
every counted point must beat in every objective (points that do not are left out). It is computed exactly: in
2-D by one sweep (O(n log n)), in 3-D and above by slicing along the last objective into fronts of one objective
fewer (O(n^2 log n) in 3-D; the cost grows by a factor of n per objective past that, fine for the fronts of a
hyperparameter search but not for thousands of points in 5-D).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "losses",
    "dominates",
    "pareto_mask",
    "non_dominated_ranks",
    "hypervolume",
    "contributions",
    "reference_point",
    "non_dominated_boxes",
]


def losses(values: npt.ArrayLike, directions: Sequence[str]) -> np.ndarray:
    """Objective values (n, m) as losses: columns whose direction is "max" are negated."""
    arr = np.asarray(values, dtype=float).reshape(-1, len(directions))
    sign = np.array([1.0 if d == "min" else -1.0 for d in directions])
    return arr * sign


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether loss vector a dominates b: no worse in every objective, better in one."""
    return bool(np.all(a <= b) and np.any(a < b))


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """A boolean mask of the non-dominated rows of `points` (n, m). Equal rows are all kept (none dominates)."""
    pts = np.asarray(points, dtype=float)
    n = len(pts)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if pts.shape[1] == 1:
        return pts[:, 0] == pts[:, 0].min()
    if pts.shape[1] == 2:
        # equal rows share one fate: on the distinct rows, sorted by the first objective then the second, a row is
        # kept when its second objective is below that of every row before it
        uniq, inverse = np.unique(pts, axis=0, return_inverse=True)  # sorted lexicographically
        f1 = uniq[:, 1]
        before = np.concatenate([[np.inf], np.minimum.accumulate(f1)[:-1]])
        return (f1 < before)[inverse.ravel()]
    keep = np.ones(n, dtype=bool)
    for start in range(0, n, 512):  # blocks bound the memory of the pairwise comparison
        block = pts[start : start + 512]
        no_worse = np.all(pts[None, :, :] <= block[:, None, :], axis=2)
        better = np.any(pts[None, :, :] < block[:, None, :], axis=2)
        keep[start : start + 512] = ~np.any(no_worse & better, axis=1)
    return keep


def non_dominated_ranks(points: np.ndarray) -> np.ndarray:
    """The non-domination rank of each row (0: on the Pareto front, 1: on the front once those are removed, ...),
    as NSGA-II's non-dominated sorting assigns it."""
    pts = np.asarray(points, dtype=float)
    if pts.ndim == 2 and pts.shape[1] == 1:  # one objective: the dense rank of the values
        return np.unique(pts[:, 0], return_inverse=True)[1].astype(int).ravel()
    ranks = np.full(len(pts), -1, dtype=int)
    left = np.arange(len(pts))
    rank = 0
    while len(left):
        mask = pareto_mask(pts[left])
        ranks[left[mask]] = rank
        left = left[~mask]
        rank += 1
    return ranks


def _inside(points: npt.ArrayLike, ref: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=float).reshape(-1, len(ref))
    return pts[np.all(pts < ref, axis=1)]


def _hv2(pts: np.ndarray, ref: np.ndarray) -> float:
    """2-D hypervolume of points already inside the reference point."""
    if len(pts) == 0:
        return 0.0
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    x, y = pts[order, 0], pts[order, 1]
    best = np.minimum.accumulate(y)  # the staircase: the lowest second objective up to each first objective
    widths = np.diff(np.append(x, ref[0]))
    return float(np.sum(widths * (ref[1] - best)))


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    m = pts.shape[1]
    if len(pts) == 0:
        return 0.0
    if m == 1:
        return float(ref[0] - pts[:, 0].min())
    if m == 2:
        return _hv2(pts, ref)
    pts = pts[pareto_mask(pts)]
    order = np.argsort(pts[:, -1], kind="stable")
    pts = pts[order]
    z = np.append(pts[:, -1], ref[-1])
    total = 0.0
    for j in range(len(pts)):  # slice between the j-th and the next last-objective value: the first j + 1 points
        height = z[j + 1] - z[j]
        if height > 0:
            total += height * _hv(pts[: j + 1, :-1], ref[:-1])
    return total


def hypervolume(points: npt.ArrayLike, reference: npt.ArrayLike) -> float:
    """The exact hypervolume of loss vectors `points` (n, m) bounded by `reference` (m,); points that do not beat the
    reference in every objective add nothing."""
    ref = np.asarray(reference, dtype=float).ravel()
    pts = _inside(points, ref)
    return _hv(pts, ref)


def contributions(points: npt.ArrayLike, reference: npt.ArrayLike) -> np.ndarray:
    """Each non-dominated row's exclusive hypervolume contribution: how much the hypervolume of the front (the
    non-dominated rows) drops without it; 0 for dominated rows and for rows that do not beat the reference."""
    ref = np.asarray(reference, dtype=float).ravel()
    pts = np.asarray(points, dtype=float).reshape(-1, len(ref))
    out = np.zeros(len(pts))
    inside = np.all(pts < ref, axis=1)
    front = np.flatnonzero(inside & pareto_mask(np.where(inside[:, None], pts, np.inf)))
    if len(front) == 0:
        return out
    fp = pts[front]
    if len(ref) == 2:
        order = np.argsort(fp[:, 0], kind="stable")
        x, y = fp[order, 0], fp[order, 1]
        right = np.append(x[1:], ref[0])
        above = np.concatenate([[ref[1]], y[:-1]])
        out[front[order]] = np.maximum(right - x, 0.0) * np.maximum(above - y, 0.0)
        return out
    for k, i in enumerate(front):
        # what only fp[k] dominates: its box [fp[k], ref] less what the others dominate inside that box
        others = np.maximum(np.delete(fp, k, axis=0), fp[k])
        out[i] = float(np.prod(ref - fp[k])) - _hv(_inside(others, ref), ref)
    return np.maximum(out, 0.0)


def reference_point(points: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """A reference point for loss vectors: each objective's worst value moved outward by `margin` times its range
    (by `margin` times its magnitude, or by `margin`, when every point has the same value), so every point,
    extreme ones included, adds volume."""
    pts = np.asarray(points, dtype=float)
    worst, best = pts.max(axis=0), pts.min(axis=0)
    spread = worst - best
    spread = np.where(spread > 0, spread, np.where(np.abs(worst) > 0, np.abs(worst), 1.0))
    return worst + margin * spread


def non_dominated_boxes(front: npt.ArrayLike, reference: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (lower, upper), each (k, m), that together cover the region below `reference` that no point of `front`
    weakly dominates, without overlap; lower bounds may be -inf. Expected hypervolume improvement sums over them.

    Built by slicing along the last objective, each slice covered by the boxes of one objective fewer: k + 1 boxes
    for a 2-D front of k points, O(k^2) in 3-D."""
    ref = np.asarray(reference, dtype=float).ravel()
    pts = _inside(front, ref)
    if len(pts):
        pts = pts[pareto_mask(pts)]
    return _boxes(pts, ref)


def _boxes2(pts: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boxes of a 2-D front (already non-dominated, inside ref): one per slice between consecutive second
    objectives, bounded in the first by the smallest first objective of the points below the slice."""
    order = np.argsort(pts[:, 1], kind="stable")
    x, y = pts[order, 0], pts[order, 1]
    z = np.concatenate([[-np.inf], y, [ref[1]]])
    cap = np.concatenate([[ref[0]], np.minimum.accumulate(x)])  # the first objective's bound in each slice
    keep = (z[1:] > z[:-1]) & (cap > -np.inf)
    lo = np.column_stack([np.full(keep.sum(), -np.inf), z[:-1][keep]])
    hi = np.column_stack([cap[keep], z[1:][keep]])
    return lo, hi


def _boxes(pts: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = len(ref)
    if m == 2:
        return _boxes2(pts, ref)
    if m == 1:
        top = pts[:, 0].min() if len(pts) else ref[0]
        return (np.array([[-np.inf]]), np.array([[top]])) if top > -np.inf else (np.empty((0, 1)), np.empty((0, 1)))
    lows, highs = [], []
    order = np.argsort(pts[:, -1], kind="stable") if len(pts) else np.empty(0, dtype=int)
    z = np.concatenate([[-np.inf], pts[order, -1], [ref[-1]]])
    for j in range(len(z) - 1):
        lo, hi = z[j], z[j + 1]
        if not hi > lo:
            continue
        below = pts[order[:j], :-1]  # the points whose last objective is at most lo dominate this slice's base
        if len(below):
            below = below[pareto_mask(below)]
        sub_lo, sub_hi = _boxes(below, ref[:-1])
        ok = np.all(sub_hi > sub_lo, axis=1)
        if ok.any():
            lows.append(np.column_stack([sub_lo[ok], np.full(ok.sum(), lo)]))
            highs.append(np.column_stack([sub_hi[ok], np.full(ok.sum(), hi)]))
    if not lows:
        return np.empty((0, m)), np.empty((0, m))
    return np.vstack(lows), np.vstack(highs)
