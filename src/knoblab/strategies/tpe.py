"""Tree-structured Parzen estimator: model where good points lie (l) and where the rest lie (g), propose argmax l/g.

- Multivariate: each kernel is a product over knobs centred on one observed trial, so knobs are modelled jointly.
- Conditional spaces: the knobs a branch switches on form their own group, modelled jointly from the trials that
  took that branch (never by falling back to independent sampling). Groups are sampled top-down: the root group
  first, then the groups its chosen branch values open.
- Categorical knobs use an Aitchison-Aitken kernel (the centre's choice keeps 1 - lambda, the others share lambda);
  numeric knobs (real, integer, ordered choices) a Gaussian truncated to the unit interval.
- Batches and parallel workers: RUNNING trials and the points already picked in a batch get a constant liar (a
  value worse than any seen), so they push the next pick elsewhere.
- Early-stopped (PRUNED) trials count as observations, ranked after every COMPLETE one and among themselves by
  the resource they reached, then their value (`knoblab.observations`): with a scheduler most trials are pruned,
  and TPE + Hyperband (BOHB-like) learns from all of them.
- Cheap: each trial is encoded once (cached by id); a suggestion costs O(candidates x trials x knobs) numpy work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import logsumexp, ndtr, ndtri

from ..space import Space
from ..trial import FrozenTrial
from ._encoding import Encoding, point_key
from .base import Strategy
from .qmc import SobolSearch

_LOG_EPS = -1e300


class TPESearch(Strategy):
    """Multivariate, branch-aware TPE with constant-liar batches.

    Args:
        n_startup: finished (complete or pruned) trials drawn quasi-randomly (Sobol) before the model takes over.
        n_candidates: points drawn from l(x) per suggestion; the one with the largest l(x)/g(x) wins.
        gamma: the number of "good" trials as a function of the number of trials (default min(ceil(0.1 n), 25)).
        prior_weight: weight of the flat prior kernel mixed into both densities.
        learn_from_pruned: count PRUNED trials as (ranked-worse) observations; False fits COMPLETE trials only.
    """

    name = "tpe"

    def __init__(
        self,
        n_startup: int = 10,
        n_candidates: int = 24,
        gamma: Any = None,
        prior_weight: float = 1.0,
        learn_from_pruned: bool = True,
    ) -> None:
        self.n_startup = int(n_startup)
        self.n_candidates = int(n_candidates)
        self.gamma = gamma or (lambda n: min(math.ceil(0.1 * n), 25))
        self.prior_weight = float(prior_weight)
        self.learn_from_pruned = bool(learn_from_pruned)

    def setup(self, space: Space, *, seed: int, direction: str) -> None:
        super().setup(space, seed=seed, direction=direction)
        self.enc = Encoding(space)
        self._startup = SobolSearch()
        self._startup.setup(space, seed=seed, direction=direction)

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        X, y, pending = self.enc.rows(history, self.direction, pruned="rank" if self.learn_from_pruned else None)
        if len(y) < self.n_startup or self.space.ndim == 0:
            return self._startup.ask(history, n)
        rng = self.rng(10, self.position(history))
        seen = self._seen_keys(history) if self.space.is_finite else set()
        out: list[dict[str, Any]] = []
        taken: set[tuple] = set()
        for _ in range(n):
            row = self._suggest(X, y, pending, rng, exclude=seen | taken)
            if row is None:  # every candidate repeated a point: a random unseen one instead
                extra = self.distinct(history, len(out) + 1, iter(out + self._random_stream(rng)))
                if len(extra) <= len(out):
                    break
                params = extra[len(out)]
                row = self.enc.encode(params)
            else:
                params = self.enc.decode(row)
            out.append(params)
            taken.add(point_key(params))
            pending = np.vstack([pending, self.enc.encode(params)])
        return out

    def _random_stream(self, rng: np.random.Generator, size: int = 256) -> list[dict[str, Any]]:
        return [self.space.from_unit(u) for u in rng.random((size, self.space.ndim))]

    # ---- one suggestion ----
    def _suggest(
        self, X: np.ndarray, y: np.ndarray, pending: np.ndarray, rng: np.random.Generator, exclude: set[tuple]
    ) -> np.ndarray | None:
        """A full row: the root group's best candidate, then each group its branch values open, top-down.

        Candidates are ranked per group; when the winner repeats an excluded point, the next-ranked root
        candidates are tried (the sub-groups re-drawn for each)."""
        root = self._rank_group((), X, y, pending, rng)
        for cand in root:
            row = np.full(self.enc.ndim, np.nan)
            row[self.enc.groups[()]] = cand
            queue = self.enc.children((), row)
            while queue:
                cond = queue.pop(0)
                dims = self.enc.groups[cond]
                row[dims] = self._rank_group(cond, X, y, pending, rng)[0]
                queue.extend(self.enc.children(cond, row))
            params = self.enc.decode(row)
            if point_key(params) not in exclude and self.space.feasible(params):
                return row
        return None

    def _rank_group(
        self, cond: tuple, X: np.ndarray, y: np.ndarray, pending: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Candidates for the dims of one group, best first (n_candidates x group size)."""
        dims = self.enc.groups[cond]
        if not dims:
            return np.empty((1, 0))
        lead = dims[0]  # every dim of a group is active together
        mask = ~np.isnan(X[:, lead])
        Xg, yg = X[mask][:, dims], y[mask]
        Pg = pending[~np.isnan(pending[:, lead])][:, dims] if len(pending) else np.empty((0, len(dims)))
        is_cat = self.enc.is_cat[dims]
        k = self.enc.n_choices[dims]
        if len(yg) < 2:  # too few trials took this branch: draw from the prior
            return _prior_sample(rng, self.n_candidates, is_cat, k)
        n_below = max(1, min(self.gamma(len(yg)), len(yg) - 1))
        order = np.argsort(yg, kind="stable")
        below = Xg[order[:n_below]]
        above = np.vstack([Xg[order[n_below:]], Pg])  # constant liar: pending points count as bad ones
        lkde = _KDE(below, is_cat, k, self.prior_weight)
        gkde = _KDE(above, is_cat, k, self.prior_weight)
        cand = lkde.sample(rng, self.n_candidates)
        score = lkde.log_pdf(cand) - gkde.log_pdf(cand)
        return cand[np.argsort(-score, kind="stable")]


def _prior_sample(rng: np.random.Generator, m: int, is_cat: np.ndarray, k: np.ndarray) -> np.ndarray:
    u = rng.random((m, len(is_cat)))
    u[:, is_cat] = np.floor(u[:, is_cat] * k[is_cat])
    return u


def _bandwidths(x: np.ndarray) -> np.ndarray:
    """Per point and knob: the larger gap to its neighbours along that knob (as in Hyperopt's and Optuna's TPE),
    so kernels are narrow where good points crowd and wide where they are sparse; clipped to
    [1 / min(100, n + 2), 1] ("magic clip") so that no kernel collapses onto its point."""
    n, d = x.shape
    if n == 0:
        return np.empty((0, d))
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    padded = np.vstack([np.zeros((1, d)), xs, np.ones((1, d))])
    gaps = np.diff(padded, axis=0)  # n + 1 gaps
    sig = np.maximum(gaps[:-1], gaps[1:])
    if n >= 2:  # the outermost points use their inner gap (endpoints are not data)
        sig[0], sig[-1] = gaps[1], gaps[-2]
    out = np.empty_like(sig)
    np.put_along_axis(out, order, sig, axis=0)
    return np.clip(out, 1.0 / min(100, n + 2), 1.0)


class _KDE:
    """A mixture of product kernels, one per observation, plus a flat prior kernel."""

    def __init__(self, centres: np.ndarray, is_cat: np.ndarray, k: np.ndarray, prior_weight: float):
        n, d = centres.shape
        self.is_cat, self.k = is_cat, k
        self.num = ~is_cat
        d_num = int(self.num.sum())
        self.mu = np.vstack([centres[:, self.num], np.full((1, d_num), 0.5)])
        self.sigma = np.vstack([_bandwidths(centres[:, self.num]), np.ones((1, d_num))])
        self.cat = np.vstack([centres[:, is_cat], np.full((1, int(is_cat.sum())), -1.0)]).astype(int)  # -1: prior
        kc = k[is_cat].astype(float)
        self.lam = (kc - 1) / kc * max(0.05, (1.0 + n) ** -0.5)  # Aitchison-Aitken smoothing per categorical knob
        self.log_w = np.log(np.append(np.ones(n), prior_weight))
        self.log_w -= logsumexp(self.log_w)
        a = (0.0 - self.mu) / self.sigma
        b = (1.0 - self.mu) / self.sigma
        self.cdf_a, self.cdf_b = ndtr(a), ndtr(b)
        self.log_z = np.log(np.maximum(self.cdf_b - self.cdf_a, 1e-300)) + np.log(self.sigma)

    def sample(self, rng: np.random.Generator, m: int) -> np.ndarray:
        comp = rng.choice(len(self.log_w), size=m, p=np.exp(self.log_w))
        out = np.empty((m, len(self.is_cat)))
        if self.num.any():
            lo, hi = self.cdf_a[comp], self.cdf_b[comp]
            q = lo + rng.random(lo.shape) * (hi - lo)
            x = self.mu[comp] + self.sigma[comp] * ndtri(np.clip(q, 1e-300, 1 - 1e-16))
            out[:, self.num] = np.clip(x, 0.0, 1.0 - 1e-12)
        if self.is_cat.any():
            kc = self.k[self.is_cat]
            centre = self.cat[comp]
            uniform = np.floor(rng.random(centre.shape) * kc).astype(int)
            # Aitchison-Aitken: keep the centre with prob 1 - lambda, else one of the other k - 1 choices
            other = (centre + 1 + np.floor(rng.random(centre.shape) * (kc - 1)).astype(int)) % kc
            move = rng.random(centre.shape) < self.lam
            cat = np.where(centre < 0, uniform, np.where(move, other, centre))
            out[:, self.is_cat] = cat
        return out

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        total = np.broadcast_to(self.log_w, (len(x), len(self.log_w))).copy()
        if self.num.any():
            z = (x[:, None, self.num] - self.mu[None]) / self.sigma[None]
            total += (-0.5 * z * z - 0.5 * math.log(2 * math.pi) - self.log_z[None]).sum(axis=2)
        if self.is_cat.any():
            kc = self.k[self.is_cat].astype(float)
            xc = x[:, None, self.is_cat].astype(int)
            same = xc == self.cat[None]
            p = np.where(same, 1.0 - self.lam, self.lam / np.maximum(kc - 1, 1))
            p = np.where(self.cat[None] < 0, 1.0 / kc, p)
            total += np.log(np.maximum(p, 1e-300)).sum(axis=2)
        return logsumexp(total, axis=1)
