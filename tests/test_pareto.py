"""knoblab.pareto: dominance, non-dominated ranks, exact hypervolumes, contributions and the box decomposition."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from knoblab import pareto


def brute_front(points: np.ndarray) -> np.ndarray:
    n = len(points)
    return np.array([not any(pareto.dominates(points[j], points[i]) for j in range(n) if j != i) for i in range(n)])


def union_volume(points: np.ndarray, ref: np.ndarray) -> float:
    """Inclusion-exclusion over the boxes [p, ref]: exact, exponential, for a handful of points."""
    pts = [p for p in points if np.all(p < ref)]
    total = 0.0
    for k in range(1, len(pts) + 1):
        for subset in itertools.combinations(pts, k):
            corner = np.max(subset, axis=0)
            total += (-1) ** (k + 1) * float(np.prod(np.clip(ref - corner, 0.0, None)))
    return total


@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_pareto_mask_matches_pairwise_dominance(m):
    rng = np.random.default_rng(m)
    pts = np.round(rng.random((60, m)), 1)  # rounded: ties and duplicates
    assert np.array_equal(pareto.pareto_mask(pts), brute_front(pts))


def test_equal_points_are_kept_together_and_dominated_ones_dropped():
    pts = np.array([[1.0, 2.0], [1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    assert pareto.pareto_mask(pts).tolist() == [True, True, True, False, False]


def test_ranks_peel_the_fronts_one_after_another():
    pts = np.array([[0.0, 3.0], [1.0, 1.0], [3.0, 0.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]])
    assert pareto.non_dominated_ranks(pts).tolist() == [0, 0, 0, 1, 2, 3]
    assert pareto.non_dominated_ranks(np.array([[3.0], [1.0], [1.0], [2.0]])).tolist() == [2, 0, 0, 1]


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_is_exact_against_inclusion_exclusion(m):
    rng = np.random.default_rng(10 + m)
    ref = np.full(m, 1.1)
    for _ in range(5):
        pts = rng.random((7, m))
        pts[0] = 1.5  # outside the reference: adds nothing
        assert pareto.hypervolume(pts, ref) == pytest.approx(union_volume(pts, ref), rel=1e-12, abs=1e-12)


def test_hypervolume_of_known_shapes():
    assert pareto.hypervolume([[0.0, 0.0]], [1.0, 2.0]) == pytest.approx(2.0)
    assert pareto.hypervolume(np.empty((0, 2)), [1.0, 1.0]) == 0.0
    # the positive octant of the unit sphere, sampled densely: close to 1 - pi / 6 below (1, 1, 1)
    u = np.linspace(0, math.pi / 2, 60)
    a, b = np.meshgrid(u, u)
    sphere = np.column_stack([(np.cos(a) * np.cos(b)).ravel(), (np.cos(a) * np.sin(b)).ravel(), np.sin(a).ravel()])
    hv = pareto.hypervolume(sphere, [1.0, 1.0, 1.0])
    assert 1 - math.pi / 6 - 0.03 < hv < 1 - math.pi / 6


def test_contributions_are_what_each_point_adds():
    rng = np.random.default_rng(3)
    for m in (2, 3):
        pts = rng.random((9, m))
        ref = np.full(m, 1.2)
        c = pareto.contributions(pts, ref)
        on = pareto.pareto_mask(pts)
        front = pts[on]
        total = pareto.hypervolume(front, ref)
        for k, i in enumerate(np.flatnonzero(on)):
            assert c[i] == pytest.approx(total - pareto.hypervolume(np.delete(front, k, axis=0), ref), abs=1e-12)
        assert np.all(c[~on] == 0) and np.all(c[on] > 0)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_boxes_cover_the_non_dominated_region_exactly(m):
    rng = np.random.default_rng(20 + m)
    front = rng.random((8, m))
    ref = np.full(m, 1.3)
    lo, hi = pareto.non_dominated_boxes(front, ref)
    assert len(lo) == len(hi) > 0 and np.all(hi > lo)
    # with -inf clipped at a floor, boxes + dominated volume = the whole box [floor, ref] (so no overlap, no gap)
    floor = -1.0
    boxes = float(np.prod(hi - np.maximum(lo, floor), axis=1).sum())
    assert boxes + pareto.hypervolume(front, ref) == pytest.approx(float(np.prod(ref - floor)), rel=1e-12)
    # no box holds a point that the front weakly dominates
    samples = rng.uniform(floor, ref, size=(4000, m))
    inside = np.any(np.all((samples[:, None, :] >= np.maximum(lo, floor)) & (samples[:, None, :] < hi), axis=2), axis=1)
    dominated = np.any(np.all(samples[:, None, :] >= front[None], axis=2), axis=1)
    assert not np.any(inside & dominated)
    assert np.all(inside | dominated)


def test_reference_point_lies_beyond_every_point():
    pts = np.array([[0.0, 10.0], [1.0, 5.0], [3.0, 5.0]])
    ref = pareto.reference_point(pts)
    assert ref.tolist() == pytest.approx([3.3, 10.5])
    assert pareto.reference_point(np.array([[2.0, 0.0]])).tolist() == pytest.approx([2.2, 0.1])


def test_losses_negate_maximized_objectives():
    assert pareto.losses([[0.9, 100]], ["max", "min"]).tolist() == [[-0.9, 100.0]]
