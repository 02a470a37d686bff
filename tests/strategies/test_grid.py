"""Grid search: ordered and shuffled grids, fractions of huge grids, reopening, and the seeded permutation."""

from __future__ import annotations

import math
import time

import pytest

import knoblab as kl
from knoblab.space import Space
from knoblab.strategies.grid import GridSearch, SeededPermutation
from knoblab.trial import FrozenTrial, TrialState

from ..test_space import TALOS_180K

SMALL = {
    "opt": ["adam", "sgd", "rmsprop"],
    "layers": kl.Branch(
        {1: {}, 2: {"units": [16, 32, 64]}, 3: {"norm": kl.Branch({"no": {}, "yes": {"m": [0.9, 0.99]}})}}
    ),
    "epochs": 5,
}  # 3 * (1 + 3 + (1 + 2)) = 21 points


def grid(space, shuffle=False, seed=0, resolution=None) -> GridSearch:
    g = GridSearch(shuffle=shuffle, resolution=resolution)
    g.setup(space, seed=seed, direction="min")
    return g


def trial(number: int, params: dict, **attrs) -> FrozenTrial:
    return FrozenTrial(id=number + 1, number=number, state=TrialState.COMPLETE, params=params, value=0.0, attrs=attrs)


def drain(g: GridSearch, history: list[FrozenTrial] | None = None, batch: int = 1) -> list[FrozenTrial]:
    history = list(history or [])
    while True:
        points = g.ask(history, batch)
        if not points:
            return history
        history += [trial(len(history) + i, p) for i, p in enumerate(points)]


def key(p: dict) -> tuple:
    return tuple(sorted(p.items()))


def test_ordered_grid_visits_each_point_once_in_order():
    s = Space(SMALL)
    assert s.grid_size() == 21
    g = grid(s)
    assert g.size() == 21
    history = drain(g, batch=4)
    assert [t.params for t in history] == [s.grid_point(i) for i in range(21)]
    assert g.ask(history, 5) == []


def test_shuffled_grid_is_a_seeded_permutation():
    s = Space(SMALL)
    ordered = [key(p) for p in s.grid()]
    a = [key(t.params) for t in drain(grid(s, shuffle=True, seed=1), batch=3)]
    b = [key(t.params) for t in drain(grid(s, shuffle=True, seed=1))]
    c = [key(t.params) for t in drain(grid(s, shuffle=True, seed=2))]
    assert sorted(a) == sorted(ordered) and len(set(a)) == 21
    assert a == b  # the seed fixes the order
    assert a != ordered and a != c


def test_a_fraction_of_a_180k_grid_picks_distinct_points_without_enumerating():
    s = Space(TALOS_180K)
    fraction = 0.01
    n = math.ceil(fraction * s.grid_size())
    assert n == 1800
    t0 = time.perf_counter()
    g = grid(s, shuffle=True, seed=0)
    points = g.ask([], n)
    assert time.perf_counter() - t0 < 3.0
    assert len(points) == n
    assert len({key(p) for p in points}) == n
    assert all(s.contains(p) for p in points[:200])
    # the subset is spread over the grid, not a block of it
    indices = sorted(s.grid_index(p) for p in points)
    assert indices[0] < 1000 and indices[-1] > 179_000
    assert len({p["optimizer"] for p in points}) == 4 and len({p["lr"] for p in points}) == 10


def test_a_reopened_grid_never_repeats_a_point():
    s = Space(SMALL)
    for shuffle in (False, True):
        first = drain_some = grid(s, shuffle=shuffle, seed=5)
        history: list[FrozenTrial] = []
        for _ in range(4):
            history += [trial(len(history), p) for p in drain_some.ask(history, 2)]
        assert len(history) == 8
        # a new process, a new strategy: it only has the stored history
        rest = drain(grid(s, shuffle=shuffle, seed=5), history)
        keys = [key(t.params) for t in rest]
        assert len(keys) == 21 and len(set(keys)) == 21
        # and the continuation is the one the first strategy would have given
        assert [t.params for t in drain(first, history)] == [t.params for t in rest]


def test_grid_skips_points_enqueued_by_hand_but_reruns_interrupted_ones():
    s = Space(SMALL)
    history = [trial(0, s.grid_point(3)), trial(1, s.grid_point(10), interrupted=True)]
    rest = drain(grid(s), history)
    keys = [key(t.params) for t in rest]
    assert len(rest) == 2 + 20
    assert keys.count(key(s.grid_point(3))) == 1
    assert keys.count(key(s.grid_point(10))) == 2  # the interrupted try and its rerun


def test_grid_with_resolution_covers_real_knobs():
    s = Space({"lr": kl.Real(1e-3, 1e-1, log=True), "opt": ["a", "b"]})
    g = grid(s, resolution=3)
    assert g.supports(s)
    lrs = sorted({t.params["lr"] for t in drain(g)})
    assert lrs == pytest.approx([1e-3, 1e-2, 1e-1])


def test_grid_over_a_real_knob_without_resolution_names_the_knob():
    s = Space({"lr": kl.Real(1e-3, 1e-1, log=True)})
    assert not GridSearch().supports(s)
    with pytest.raises(ValueError, match=r"knob 'lr'.*grid_resolution"):
        grid(s)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097])
def test_seeded_permutation_is_a_bijection(n):
    for seed in (0, 1, 12345):
        perm = SeededPermutation(n, seed)
        assert sorted(perm(i) for i in range(n)) == list(range(n))


def test_seeded_permutation_depends_on_the_seed_and_rejects_outside_indices():
    a = [SeededPermutation(1000, 1)(i) for i in range(1000)]
    assert a == [SeededPermutation(1000, 1)(i) for i in range(1000)]
    assert a != [SeededPermutation(1000, 2)(i) for i in range(1000)]
    assert a != list(range(1000))
    perm = SeededPermutation(10, 0)
    with pytest.raises(IndexError):
        perm(10)
    with pytest.raises(IndexError):
        perm(-1)
    with pytest.raises(ValueError):
        SeededPermutation(0, 0)


def test_seeded_permutation_of_a_huge_range_is_computed_index_by_index():
    n = 10**15
    perm = SeededPermutation(n, 3)
    t0 = time.perf_counter()
    values = [perm(i) for i in range(2000)]
    assert time.perf_counter() - t0 < 2.0
    assert len(set(values)) == 2000 and all(0 <= v < n for v in values)


@pytest.mark.parametrize("shuffle", [False, True])
def test_processes_asking_at_once_start_at_their_claimed_positions(shuffle):
    """Writers that read the same history and claimed positions 0..7 (one each) propose 8 different points, instead
    of all proposing the grid's next one and all but one being refused by the storage."""
    from knoblab.strategies.base import History

    space = Space({"x": (0.0, 1.0, 101)})
    seen = [trial(i, space.grid_point(i)) for i in range(5)]
    asks = [grid(space, shuffle=shuffle).ask(History(seen, start=5 + k), 1) for k in range(8)]
    points = [repr(a[0]["x"]) for a in asks]
    assert len(set(points)) == 8
    assert not {p for p in points} & {repr(t.params["x"]) for t in seen}


def test_positions_claimed_and_never_run_are_run_at_the_end():
    """A process claimed positions 3 and 4 and died before running them: once the claims pass the grid's end, those
    points come back, so the whole grid still runs, each point once."""
    from knoblab.strategies.base import History

    space = Space({"x": [0, 1, 2, 3, 4, 5, 6, 7]})
    g = grid(space)
    history = [trial(i, space.grid_point(i)) for i in (0, 1, 2)]
    position = 5  # 3 and 4 were claimed by the dead process
    while True:
        points = g.ask(History(history, start=position), 1)
        position += 1
        if not points:
            break
        history.append(trial(len(history), points[0]))
    assert [t.params["x"] for t in history] == [0, 1, 2, 5, 6, 7, 3, 4]
