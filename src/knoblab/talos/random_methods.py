"""Talos' `random_method` names, each mapped to the knoblab strategy that draws a limited scan's permutations.

Talos draws a sample of grid indices up front (package `chances`) only when a scan is limited (`fraction_limit` or
`round_limit`); otherwise it runs the whole grid in order, whatever the method. So does this module:

- uniform_mersenne, uniform_crypto: a seeded shuffled grid, a uniform sample without repeats;
- sobol, korobov_matrix: knoblab's scrambled Sobol sequence over the knobs (Korobov lattices are another
  low-discrepancy design; scipy has none, Sobol stands in);
- halton: a scrambled Halton sequence over the knobs (scipy.stats.qmc);
- latin_matrix, latin_improved, latin_sudoku: one Latin hypercube design of the whole budget over the knobs;
- quantum, ambience: refused, as they fetch random numbers from web services (ANU's quantum generator,
  random.org), and knoblab never reaches the network.

Talos samples a one-dimensional sequence of grid indices; these spread the points over the knobs themselves,
which is what the low-discrepancy designs are for. Every draw is seeded by the experiment, so a rerun continues.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from ..strategies import GridSearch, SobolSearch, Strategy
from ..trial import FrozenTrial

__all__ = ["RANDOM_METHODS", "strategy_for", "HaltonSearch", "LatinDesign"]

# name -> what runs it, in words (docs/talos.md has the same table)
RANDOM_METHODS = {
    "uniform_mersenne": "shuffled grid",
    "uniform_crypto": "shuffled grid (seeded, so reproducible rather than cryptographic)",
    "sobol": "sobol",
    "korobov_matrix": "sobol",
    "halton": "halton",
    "latin_matrix": "latin hypercube",
    "latin_improved": "latin hypercube",
    "latin_sudoku": "latin hypercube",
}
NETWORK_METHODS = {
    "quantum": "ANU's quantum random number service",
    "ambience": "random.org's atmospheric-noise service",
}


class HaltonSearch(Strategy):
    """A scrambled Halton sequence over the knobs; each ask goes on from its position in the stream."""

    name = "halton"

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        return self.distinct(history, n, self._stream(self.position(history), n))

    def _stream(self, start: int, n: int) -> Iterator[dict[str, Any]]:
        if self.space.ndim == 0:
            while True:
                yield self.space.from_unit(np.empty(0))
        engine = qmc.Halton(self.space.ndim, scramble=True, seed=self.rng(4))
        if start:
            engine.fast_forward(start)
        while True:
            for u in engine.random(max(n, 8)):
                yield self.space.from_unit(u)


class LatinDesign(Strategy):
    """One Latin hypercube of `size` points (the scan's budget), proposed in order: every knob is cut into `size`
    equal slices and each slice is used once, however the points are asked for (one at a time, as a scan asks).
    Points already run are skipped; past the design, the rest of a finite grid is walked at random."""

    name = "latin"

    def __init__(self, size: int):
        if not (isinstance(size, int) and size >= 1):
            raise ValueError(f"LatinDesign: size must be an integer >= 1, got {size!r}")
        self.n_points = size  # not `size`, which would hide Strategy.size() (how many points it can propose)

    def setup(self, space, *, seed, direction):
        super().setup(space, seed=seed, direction=direction)
        if space.ndim == 0:
            self._design = [space.from_unit(np.empty(0))]
        else:
            units = qmc.LatinHypercube(space.ndim, seed=self.rng(5)).random(self.n_points)
            self._design = [space.from_unit(u) for u in units]

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        return self.distinct(history, n, iter(self._design))


def strategy_for(random_method: str, *, limited: bool, budget: int) -> Strategy:
    """The strategy for a Talos scan: the grid in order when it is not limited, else the one `random_method` names
    (see the module docstring). An unknown name warns and uses uniform_mersenne, as Talos does."""
    if not isinstance(random_method, str):
        raise ValueError(f"random_method: got {random_method!r}; allowed: {sorted(RANDOM_METHODS)}")
    if random_method in NETWORK_METHODS:
        raise ValueError(
            f"random_method={random_method!r} draws from {NETWORK_METHODS[random_method]} over the network, which "
            f"knoblab never reaches; use one of {sorted(RANDOM_METHODS)} (uniform_crypto for a uniform sample)"
        )
    if random_method not in RANDOM_METHODS:
        warnings.warn(
            f"random_method={random_method!r} is not a Talos random method; using 'uniform_mersenne' (as Talos "
            f"does). Known: {sorted(RANDOM_METHODS)}",
            UserWarning,
            stacklevel=3,
        )
        random_method = "uniform_mersenne"
    if not limited:
        return GridSearch(shuffle=False)
    kind = RANDOM_METHODS[random_method]
    if kind.startswith("shuffled grid"):
        return GridSearch(shuffle=True)
    if kind == "sobol":
        return SobolSearch()
    if kind == "halton":
        return HaltonSearch()
    return LatinDesign(budget)
