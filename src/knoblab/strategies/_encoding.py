"""What model-based strategies share: the space as numeric and categorical columns, and a cache of encoded trials.

Numeric columns (Real, Int, ordered choices such as Talos tuples) keep the space's unit coordinate in [0, 1];
categorical columns (unordered choices, Bool, Branch) hold the choice's index. Inactive knobs are NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import values
from ..observations import infeasible_as_worst, is_continuation, ranked_observations
from ..space import Branch, Categorical, Space
from ..trial import FrozenTrial, TrialState
from .qmc import SobolSearch


class Encoding:
    """The columns of a space as a model sees them, and the sub-spaces its branches switch on."""

    def __init__(self, space: Space):
        self.space = space
        dims = space.dimensions
        self.ndim = len(dims)
        cats = [d.knob if isinstance(d.knob, Categorical) and not d.knob.ordered else None for d in dims]
        self.is_cat = np.array([k is not None for k in cats], dtype=bool)
        self.n_choices = np.array([0 if k is None else len(k.choices) for k in cats], dtype=int)
        # groups: dims that share the same branch conditions (the root group has none), in tree order
        self.groups: dict[tuple, list[int]] = {}
        for i, d in enumerate(dims):
            self.groups.setdefault(d.conditions, []).append(i)
        self.groups.setdefault((), [])
        self.index = {d.knob.name: i for i, d in enumerate(dims)}
        self._cache: dict[tuple, np.ndarray] = {}

    def encode(self, params: dict[str, Any]) -> np.ndarray:
        u = self.space.to_unit(params)
        cat = self.is_cat & ~np.isnan(u)
        u[cat] = np.floor(u[cat] * self.n_choices[cat])
        return u

    def encode_trial(self, trial: FrozenTrial) -> np.ndarray:
        """A trial's row, cached: a trial's params never change, so each is encoded once per strategy."""
        key = (trial.id, trial.number)
        row = self._cache.get(key)
        if row is None:
            row = self._cache[key] = self.encode(trial.params)
        return row

    def decode(self, row: np.ndarray) -> dict[str, Any]:
        u = np.where(np.isnan(row), 0.5, row).astype(float)
        u[self.is_cat] = (u[self.is_cat] + 0.5) / np.maximum(self.n_choices[self.is_cat], 1)
        return self.space.from_unit(u)

    def children(self, conditions: tuple, row: np.ndarray) -> list[tuple]:
        """The groups that the branch values chosen in `row` for the group `conditions` switch on."""
        out = []
        for i in self.groups[conditions]:
            knob = self.space.dimensions[i].knob
            if isinstance(knob, Branch) and not np.isnan(row[i]):
                child = conditions + ((knob.name, knob.choices[int(row[i])]),)
                if child in self.groups:  # absent when the branch's sub-space holds only fixed knobs
                    out.append(child)
        return out

    def rows(
        self, history: Sequence[FrozenTrial], direction: str, pruned: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(observed rows, their losses, pending rows): pending are RUNNING trials (but continuations), still
        without a value.

        Observed are the COMPLETE trials; with pruned="rank" or "worst", PRUNED ones too, ranked after every
        COMPLETE one with the pseudo-losses of `knoblab.observations.ranked_observations`."""
        shape = (0, self.ndim)
        # a running continuation (a promotion) re-runs a point already observed: not a new pending point
        pending = [self.encode_trial(t) for t in history if t.state == TrialState.RUNNING and not is_continuation(t)]
        pending_rows = np.array(pending).reshape(-1, self.ndim) if pending else np.empty(shape)
        if pruned is not None:
            observed, losses = ranked_observations(history, direction, impute=pruned)
            done = [self.encode_trial(t) for t in observed]
            return (np.array(done).reshape(-1, self.ndim) if done else np.empty(shape), losses, pending_rows)
        sign = 1.0 if direction == "min" else -1.0
        done, values, kept = [], [], []
        for t in history:
            if t.state == TrialState.COMPLETE and t.value is not None and np.isfinite(t.value):
                done.append(self.encode_trial(t))
                values.append(sign * t.value)
                kept.append(t)
        return (
            np.array(done).reshape(-1, self.ndim) if done else np.empty(shape),
            infeasible_as_worst(kept, np.array(values, dtype=float)),  # outcome constraints: see observations
            pending_rows,
        )

    def random_rows(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """m uniform random rows in this encoding (categorical columns as choice indices)."""
        u = rng.random((m, self.ndim))
        cat = self.is_cat
        u[:, cat] = np.floor(u[:, cat] * self.n_choices[cat])
        return u


def point_key(params: dict[str, Any]) -> tuple:
    """A hashable identity of a params dict (as in base.py) that keeps 1, 1.0 and True apart."""
    return values.point_key(params)


class Canonical:
    """Vectorized `encode(decode(row))` for many rows at once: snaps numeric columns to the values their knob can
    take (integers, ordered choices) and blanks (NaN) the columns of knobs whose branch is not taken."""

    def __init__(self, enc: Encoding):
        from ..space import Int, Real

        self.enc = enc
        self.snaps: list[tuple[int, str, tuple]] = []
        for i, d in enumerate(enc.space.dimensions):
            knob = d.knob
            if enc.is_cat[i] or isinstance(knob, Real):
                continue
            if isinstance(knob, Int) and knob.log:
                a, b = np.log(knob.low - 0.5), np.log(knob.high + 0.5)
                self.snaps.append((i, "log", (a, b, knob.low, knob.high)))
            else:  # an Int on a step, or ordered choices: bin centres
                assert isinstance(knob, Int | Categorical)  # a dimension's knob is never Fixed
                count = knob.n if isinstance(knob, Int) else len(knob.choices)
                self.snaps.append((i, "bin", (count,)))
        # conditions as (column of the branch, index of the required value)
        self.conds: list[list[tuple[int, int]]] = []
        for d in enc.space.dimensions:
            pairs = []
            for name, value in d.conditions:
                j = enc.index[name]
                branch = enc.space.dimensions[j].knob
                assert isinstance(branch, Branch)  # conditions name branch knobs only
                pairs.append((j, branch.index(value)))
            self.conds.append(pairs)
        self.conditional = any(self.conds)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        out = np.array(rows, dtype=float, copy=True)
        for i, how, args in self.snaps:
            u = np.clip(out[:, i], 0.0, 1.0)
            if how == "bin":
                (count,) = args
                out[:, i] = (np.minimum(np.floor(u * count), count - 1) + 0.5) / count
            else:
                a, b, low, high = args
                x = np.clip(np.round(np.exp(a + u * (b - a))), low, high)
                out[:, i] = (np.log(x) - a) / (b - a)
        if self.conditional:
            for i, pairs in enumerate(self.conds):
                for j, v in pairs:
                    out[out[:, j] != v, i] = np.nan  # NaN != v too: an inactive parent blanks its children
        return out


def one_at_a_time(
    strategy: Any,
    history: Sequence[FrozenTrial],
    n: int,
    rng: np.random.Generator,
    propose: Callable[[set[tuple], bool], np.ndarray | None],
    believe: Callable[[np.ndarray], None],
) -> list[dict[str, Any]]:
    """Up to n new points of a model-based batch (gp, mogp), one after the other: `propose(exclude, light)` gives
    the canonical row of the best point whose key is not in `exclude` (light for the later points of a batch), or
    None, and then a random point no trial has fills in; `believe(row)` tells the model the point is pending
    (kriging believer) before the next is proposed. `strategy` has `enc`, `canon`, `space` and Strategy's
    `distinct` and `_seen_keys`."""
    seen = strategy._seen_keys(history) if strategy.space.is_finite else set()
    out: list[dict[str, Any]] = []
    taken: set[tuple] = set()
    for _ in range(n):
        row = propose(seen | taken, bool(out))
        if row is None:
            randoms = [strategy.space.from_unit(u) for u in rng.random((256, strategy.space.ndim))]
            extra = strategy.distinct(history, len(out) + 1, iter(out + randoms))
            if len(extra) <= len(out):
                break
            params = extra[len(out)]
            row = strategy.canon(strategy.enc.encode(params)[None])[0]
        else:
            params = strategy.enc.decode(row)
        out.append(params)
        taken.add(point_key(params))
        believe(row)
    return out


def encoded(space: Space, *, seed: int, direction: str | tuple[str, ...]) -> tuple[Encoding, Canonical, SobolSearch]:
    """What a model-based strategy over encoded rows sets up first: the space's encoding, its canonical form, and
    the Sobol search that proposes the first points (set up with the strategy's seed and direction)."""
    enc = Encoding(space)
    startup = SobolSearch()
    startup.setup(space, seed=seed, direction=direction)
    return enc, Canonical(enc), startup
