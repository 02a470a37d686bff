"""NSGA-II (Deb et al. 2002): an evolutionary search for several objectives, cheap per suggestion, for large budgets.

- The first `population_size` trials are Sobol points (the first generation).
- Then every suggestion is a child: the population is the best `population_size` observations of the whole history
  (elitist, as NSGA-II's survival of parents and children: non-domination rank, then crowding distance, feasible
  trials before those that broke an outcome constraint, these by violation: Deb's constrained domination); two
  parents are picked by binary tournaments on that order; numeric knobs are crossed by simulated binary crossover
  (SBX) and mutated by polynomial mutation, categorical ones swapped uniformly and reset at random with the mutation
  probability. A steady state rather than generations: each suggestion sees every trial finished so far, which
  suits an asynchronous search with workers.
- Conditional spaces: a child takes each knob from a parent; a knob its branches switch on that neither parent has
  is drawn at random.
- Stateless over the history: a child depends on the seed, the history and its stream position only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..space import Space
from ..trial import FrozenTrial
from ._encoding import encoded
from ._multi import observe
from .base import Strategy

__all__ = ["NSGA2Search"]


class NSGA2Search(Strategy):
    """NSGA-II, steady state (see the module docstring).

    Args:
        population_size: the population (and the number of Sobol start-up trials).
        crossover_prob: the chance that a child is a crossover of two parents (else a mutated copy of one).
        mutation_prob: the chance that each knob mutates (default 1 / number of knobs).
        eta_crossover, eta_mutation: the distribution indices of SBX and polynomial mutation (larger: children
            nearer their parents).
    """

    name = "nsga2"
    max_objectives = None

    def __init__(
        self,
        population_size: int = 50,
        crossover_prob: float = 0.9,
        mutation_prob: float | None = None,
        eta_crossover: float = 15.0,
        eta_mutation: float = 20.0,
    ) -> None:
        if not (isinstance(population_size, int) and population_size >= 2):
            raise ValueError(f"population_size: got {population_size!r}; give an integer >= 2")
        self.population_size = population_size
        self.crossover_prob = float(crossover_prob)
        self.mutation_prob = mutation_prob
        self.eta_crossover = float(eta_crossover)
        self.eta_mutation = float(eta_mutation)

    def setup(self, space: Space, *, seed: int, direction: str | tuple[str, ...]) -> None:
        super().setup(space, seed=seed, direction=direction)
        self.enc, self.canon, self._startup = encoded(space, seed=seed, direction=direction)

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        obs = observe(history, self.directions, pruned=False, within="crowding")
        if len(obs) < self.population_size or self.space.ndim == 0:
            return self._startup.ask(history, n)
        population = self._survivors(obs)
        X = np.array([self.enc.encode_trial(obs.trials[i]) for i in population])
        start = self.position(history)
        return self.distinct(history, n, self._children(X, start))

    def _survivors(self, obs) -> np.ndarray:
        """Indices (into `obs`, best first) of the population: the first population_size of the order, the front
        cut by crowding distance (the observations are ordered that way already)."""
        return np.arange(min(self.population_size, len(obs)))

    def _children(self, X: np.ndarray, start: int) -> Iterator[dict[str, Any]]:
        pop = len(X)
        # a parent's fitness is its place in the order: a tournament between two picks the earlier one
        for i in itertools.count():
            rng = self.rng(40, start + i)
            a = min(rng.integers(pop, size=2))
            b = min(rng.integers(pop, size=2))
            child = X[a].copy()
            if rng.random() < self.crossover_prob:
                child = self._crossover(X[a], X[b], rng)
            child = self._mutate(child, rng)
            yield self.enc.decode(self.canon(child[None])[0])

    def _crossover(self, p1: np.ndarray, p2: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        cat = self.enc.is_cat
        child = np.where(rng.random(len(p1)) < 0.5, p1, p2)  # uniform choice of each knob's parent first
        # numeric knobs active in both parents, each with probability 1/2: simulated binary crossover
        both = ~cat & ~np.isnan(p1) & ~np.isnan(p2) & (rng.random(len(p1)) < 0.5)
        if both.any():
            u = rng.random(int(both.sum()))
            eta = self.eta_crossover
            beta = np.where(u <= 0.5, (2 * u) ** (1 / (eta + 1)), (1 / (2 * (1 - u))) ** (1 / (eta + 1)))
            x1, x2 = p1[both], p2[both]
            pick = rng.random(len(u)) < 0.5
            c = 0.5 * ((1 + beta) * x1 + (1 - beta) * x2)
            d = 0.5 * ((1 - beta) * x1 + (1 + beta) * x2)
            child[both] = np.clip(np.where(pick, c, d), 0.0, 1.0 - 1e-12)
        # a knob that one parent lacks (a branch it did not take) comes from the other
        child = np.where(np.isnan(child), np.where(np.isnan(p1), p2, p1), child)
        return child

    def _mutate(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        d = len(x)
        p = self.mutation_prob if self.mutation_prob is not None else 1.0 / max(d, 1)
        cat = self.enc.is_cat
        fresh = rng.random(d)
        fresh[cat] = np.floor(fresh[cat] * self.enc.n_choices[cat])
        out = np.where(np.isnan(x), fresh, x)  # knobs no parent had: drawn at random (blanked if inactive)
        hit = rng.random(d) < p
        num = hit & ~cat
        if num.any():  # polynomial mutation in the unit interval
            u = rng.random(int(num.sum()))
            xv = out[num]
            eta = self.eta_mutation
            low = u < 0.5
            base = np.where(
                low, 2 * u + (1 - 2 * u) * (1 - xv) ** (eta + 1), 2 * (1 - u) + 2 * (u - 0.5) * xv ** (eta + 1)
            )
            step = np.where(low, base ** (1 / (eta + 1)) - 1, 1 - base ** (1 / (eta + 1)))
            out[num] = np.clip(xv + step, 0.0, 1.0 - 1e-12)
        reset = hit & cat
        out[reset] = fresh[reset]
        return out
