"""The strategy contract: given the history, propose the next points. A new strategy is one file."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import values
from ..space import Space
from ..trial import FrozenTrial, TrialState


class History(list):
    """The trials a strategy is shown (every trial, in number order), with `start`: where this ask's points begin
    in the strategy's stream. An experiment claims `start` from its storage in one transaction (see
    `Experiment.ask`), so processes that ask at the same moment draw different positions, hence different points;
    a plain list, as a strategy used on its own gets, starts at len(history)."""

    def __init__(self, trials: Iterable[FrozenTrial] = (), start: int | None = None):
        super().__init__(trials)
        self.start = start


class Strategy(ABC):
    """Proposes points of a space. Stateless over the history it is given, so that a reopened experiment goes on
    exactly where it stopped: everything a strategy needs is in `history` (every trial, in number order)."""

    name: str = "strategy"
    _seen_cache: tuple[int, set[tuple], int | None]  # see _seen_keys: (trials seen, their keys, the last's number)

    def setup(self, space: Space, *, seed: int, direction: str) -> None:
        """Called once by the experiment before the first ask."""
        self.space = space
        self.seed = int(seed)
        self.direction = direction

    @abstractmethod
    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        """n params dicts to run next (fewer when the strategy has no more to give, e.g. a finished grid)."""

    def tell(self, trial: FrozenTrial) -> None:  # noqa: B027 - an optional hook
        """Told of each finished trial; strategies that keep incremental state override it."""

    def size(self) -> int | None:
        """How many distinct points this strategy can ever propose (None: unbounded)."""
        return None

    def supports(self, space: Space) -> bool:
        """Whether this strategy can search `space` (say a strategy that handles no conditional or categorical
        knobs). The conformance tests skip the spaces a strategy declines."""
        return True

    # helpers for strategies that draw points from a stream
    @staticmethod
    def position(history: Sequence[FrozenTrial]) -> int:
        """Where this ask starts in the strategy's stream: the position the experiment claimed for it (see
        `History`), else the history's length. Streams indexed by it give concurrent processes distinct points and
        a single process with a seed the same points on every run."""
        start = getattr(history, "start", None)
        return len(history) if start is None else int(start)

    def distinct(
        self, history: Sequence[FrozenTrial], n: int, candidates: Iterable[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The first n candidates that repeat neither each other nor, on a finite space, a point of the history.

        A finite space nearly used up (the candidates keep repeating) is finished by a seeded walk over the rest of
        its grid; fewer than n come back only when the whole grid is in the history. What comes back depends only on
        the seed and the history, so a reopened experiment goes on exactly where it stopped.
        """
        finite = self.space.is_finite
        seen = self._seen_keys(history) if finite else set()
        picked: list[dict[str, Any]] = []
        keys: set[tuple] = set()
        feasible = self.space.feasible
        for drawn, params in enumerate(candidates):
            key = _point_key(params)
            if key not in seen and key not in keys and feasible(params):
                keys.add(key)
                picked.append(params)
                if len(picked) == n:
                    return picked
            if drawn >= 64 * n + 64:  # mostly repeats (or ruled out by the constraint): nearly used up
                break
        if finite:
            from .grid import SeededPermutation

            size = self.space.grid_size()
            if len(seen) + len(keys) < size:
                extent = self.space.grid_extent()
                order = SeededPermutation(extent, int(self.rng(99, self.position(history)).integers(2**32)))
                for i in range(extent):
                    params = self.space.grid_point(order(i))
                    key = _point_key(params)
                    if key not in seen and key not in keys and feasible(params):
                        keys.add(key)
                        picked.append(params)
                        if len(picked) == n:
                            break
        return picked

    def _seen_keys(self, history: Sequence[FrozenTrial]) -> set[tuple]:
        """The points of the history, as keys; kept between asks, since a history only grows."""
        cache: tuple[int, set[tuple], int | None] | None = getattr(self, "_seen_cache", None)
        if cache is None or cache[0] > len(history) or (cache[0] and cache[2] != history[cache[0] - 1].number):
            cache = (0, set(), None)
        upto, keys, _ = cache
        for t in history[upto:]:
            if not t.attrs.get("interrupted"):  # as in GridSearch: an interrupted point may run again
                keys.add(_point_key(t.params))
        self._seen_cache = (len(history), keys, history[-1].number if history else None)
        return keys  # shared with the cache: callers only read it

    # helpers for model-based strategies
    def observations(self, history: Sequence[FrozenTrial]) -> tuple[list[FrozenTrial], np.ndarray]:
        """The COMPLETE trials and their values as losses (smaller is better, whatever the direction)."""
        done = [t for t in history if t.state == TrialState.COMPLETE and t.value is not None]
        sign = 1.0 if self.direction == "min" else -1.0
        return done, np.array([sign * t.value for t in done if t.value is not None], dtype=float)

    def rng(self, *key: int) -> np.random.Generator:
        """A generator that depends only on the seed and the key: the same ask gives the same points."""
        return np.random.default_rng([self.seed, *key])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _point_key(params: dict[str, Any]) -> tuple:
    """A hashable identity of a params dict that keeps 1, 1.0 and True apart, and compares objects (a Keras
    optimizer, a tuple) in their stored form, so a point read back from storage is the point proposed."""
    return values.point_key(params)
