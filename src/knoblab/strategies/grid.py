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

    def position(self, k: int) -> int:
        """The grid index visited k-th."""
        j = self._order(k) if self._order else k
        return int(self._feasible[j]) if self._feasible is not None else j

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        if self._seen_upto > len(history):  # a different history than last time: start over
            self._seen, self._seen_upto, self._cursor = set(), 0, 0
        for t in history[self._seen_upto :]:
            if not t.attrs.get("interrupted"):
                index = self.space.grid_index(t.params, self.resolution)
                if index is not None:
                    self._seen.add(index)
        self._seen_upto = len(history)
        out = []
        check = self._feasible is None and self.space.constraint is not None
        while len(out) < n and self._cursor < self._extent:
            index = self.position(self._cursor)
            self._cursor += 1
            if index not in self._seen:
                self._seen.add(index)
                point = self.space.grid_point(index, self.resolution)
                if not check or self.space.feasible(point):
                    out.append(point)
        return out

    def __repr__(self) -> str:
        return f"GridSearch(shuffle={self.shuffle}, resolution={self.resolution})"
