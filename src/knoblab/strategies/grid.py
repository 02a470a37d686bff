"""Grid search over a finite space, in order or shuffled; a random subset by fraction is a shuffled prefix.

The shuffle is a seeded bijection of 0..N-1 (a Feistel network with cycle walking), evaluated one index at a
time: a random 1% of 180,000 permutations costs 1,800 index computations, never the whole grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..trial import FrozenTrial
from .base import Strategy

_MASK64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64's finalizer: a cheap, well-spread integer hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class SeededPermutation:
    """A pseudo-random permutation of range(n), computed index by index in O(1) memory."""

    def __init__(self, n: int, seed: int, rounds: int = 6):
        if n < 1:
            raise ValueError("a permutation needs n >= 1")
        self.n = n
        bits = max(2, (n - 1).bit_length())
        bits += bits % 2
        self.half = bits // 2
        self.mask = (1 << self.half) - 1
        self.keys = [_mix(seed * 1_000_003 + r) for r in range(rounds)]

    def _feistel(self, x: int) -> int:
        left, right = x >> self.half, x & self.mask
        for key in self.keys:
            left, right = right, left ^ (_mix(right ^ key) & self.mask)
        return (left << self.half) | right

    def __call__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(i)
        x = self._feistel(i)
        while x >= self.n:  # cycle walking: stays a bijection on range(n)
            x = self._feistel(x)
        return x


class GridSearch(Strategy):
    """Every point of the grid once. `shuffle=True` visits them in a seeded random order.

    Continuous knobs need `resolution` (points per Real knob). Points already in the history (from an earlier
    run, or enqueued by hand) are skipped, so a reopened experiment never runs a grid point twice.
    """

    name = "grid"

    def __init__(self, shuffle: bool = False, resolution: int | None = None):
        self.shuffle = shuffle
        self.resolution = resolution

    def setup(self, space, *, seed, direction):
        super().setup(space, seed=seed, direction=direction)
        self._size = space.grid_size(self.resolution)  # raises, naming the knob, for a Real without resolution
        # with a constraint counted exactly, the walk is over the points it accepts; else over the whole grid,
        # skipping what it rules out (see `Space.grid_size`)
        self._feasible = space.feasible_grid_indices(self.resolution)
        self._extent = len(self._feasible) if self._feasible is not None else space.grid_extent(self.resolution)
        self._order = SeededPermutation(self._extent, self.seed) if self.shuffle else None
        self._cursor = 0
        self._seen: set[int] = set()
        self._seen_upto = 0

    def size(self) -> int:
        return self._size

    def supports(self, space) -> bool:
        return space.is_finite or self.resolution is not None

    def position(self, k: int) -> int:  # type: ignore[override]  # a grid's own map; the stream's is Strategy's
        """The grid index visited k-th."""
        j = self._order(k) if self._order else k
        return int(self._feasible[j]) if self._feasible is not None else j

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        """The next n unseen points, from the stream position the experiment claimed for this ask (see `History`):
        processes asking at once start at different places of the grid instead of all proposing its next point
        (which the storage would refuse to all but one). Points of positions claimed but never run (a budget that
        ended, a process that died) are picked up from the start once the claimed positions pass the grid's end, so
        every point runs once."""
        if self._seen_upto > len(history):  # a different history than last time: start over
            self._seen, self._seen_upto, self._cursor = set(), 0, 0
        for t in history[self._seen_upto :]:
            if not t.attrs.get("interrupted"):
                index = self.space.grid_index(t.params, self.resolution)
                if index is not None:
                    self._seen.add(index)
        self._seen_upto = len(history)
        out: list[dict[str, Any]] = []
        picked: set[int] = set()  # proposed now; seen only once in the history (the storage may refuse them)
        check = self._feasible is None and self.space.constraint is not None

        def take(k: int) -> None:
            index = self.position(k)
            if index not in self._seen and index not in picked:
                point = self.space.grid_point(index, self.resolution)
                if check and not self.space.feasible(point):
                    self._seen.add(index)  # ruled out by the constraint: never to be proposed
                    return
                picked.add(index)
                out.append(point)

        k = max(self._cursor, Strategy.position(history))
        while len(out) < n and k < self._extent:  # from the claimed position on
            take(k)
            k += 1
        while self._cursor < self._extent and self.position(self._cursor) in self._seen:
            self._cursor += 1  # every position before the cursor is in the history (or ruled out)
        k = self._cursor
        while len(out) < n and k < self._extent:  # then the holes, from the start
            take(k)
            k += 1
        return out

    def __repr__(self) -> str:
        return f"GridSearch(shuffle={self.shuffle}, resolution={self.resolution})"
