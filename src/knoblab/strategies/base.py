"""The strategy contract: given the history, propose the next points. A new strategy is one file."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..space import Space
from ..trial import FrozenTrial, TrialState


class Strategy(ABC):
    """Proposes points of a space. Stateless over the history it is given, so that a reopened experiment goes on
    exactly where it stopped: everything a strategy needs is in `history` (every trial, in number order)."""

    name: str = "strategy"

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

    # helpers for model-based strategies
    def observations(self, history: Sequence[FrozenTrial]) -> tuple[list[FrozenTrial], np.ndarray]:
        """The COMPLETE trials and their values as losses (smaller is better, whatever the direction)."""
        done = [t for t in history if t.state == TrialState.COMPLETE and t.value is not None]
        sign = 1.0 if self.direction == "min" else -1.0
        return done, np.array([sign * t.value for t in done], dtype=float)

    def rng(self, *key: int) -> np.random.Generator:
        """A generator that depends only on the seed and the key: the same ask gives the same points."""
        return np.random.default_rng([self.seed, *key])

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
