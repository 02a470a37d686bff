"""Random search: each point drawn uniformly, the point at stream position i a function of the seed and i alone."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from ..trial import FrozenTrial
from .base import Strategy


class RandomSearch(Strategy):
    """Uniform sampling on each knob's own scale (log knobs uniform in log). Branches are respected."""

    name = "random"
    max_objectives = None  # never reads a value

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        start = self.position(history)
        # the stream from this ask's position on (see Strategy.position); on a finite space, tried points are skipped
        stream = (self.space.sample(self.rng(0, start + i)) for i in itertools.count())
        return self.distinct(history, n, stream)
