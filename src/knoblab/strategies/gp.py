"""Gaussian-process Bayesian optimization: a Matérn-5/2 GP as surrogate, log expected improvement to pick points.

- Kernel: Matérn 5/2 with one length scale per knob (ARD). Numeric knobs (real, log, integer, ordered choices)
  enter on their unit coordinate; categorical knobs through a Hamming distance (0 when equal, 1 otherwise) scaled
  by their own length scale, so a knob with k choices costs one hyperparameter, not k.
- Hyperparameters: maximum a posteriori, by L-BFGS-B on the exact log marginal likelihood with analytic gradients,
  always from the same start (so the same history gives the same model). Priors: log-normal length scales with
  median 0.25 sqrt(d) and log-variance 1 (the sqrt(d) scaling as in Hvarfner, Hellsten & Nardi 2024, "Vanilla
  Bayesian optimization performs great in high dimensions"; their longer median, sqrt(2) + log(d) / 2 in log,
  and 0.5 sqrt(d) both drew suggestions to the corners and did worse on Branin, Hartmann-6 and Rosenbrock-10
  here), a log-normal signal variance around 1 for standardized losses, a log-normal noise variance around
  2.5e-3 (bounded to [1e-6, 0.5]).
- Acquisition: log expected improvement computed stably far in the tail (Ament et al. 2023, "Unexpected
  improvements to expected improvement"), so that flat regions still have a gradient.
- Optimization of the acquisition: the best of ~1,000 random points and of perturbations of the best trials
  start a batched L-BFGS-B over the numeric knobs; then a pass over each categorical knob's choices. Integer and
  ordered knobs are optimized relaxed, then rounded, and the rounded point is what is scored and returned.
- Small budgets (8-30 trials): 3 Sobol points start a search of up to 4 knobs (a typical Keras scan), where the
  earlier clip(d + 1, 5, 10) spent 5 of 8 trials on them; from 5 knobs on, d + 1 (at most 10), since fewer
  cost the GP at 32-50 evaluations on 6- and 10-knob functions.
- A prior for scale knobs: a Real or Int written on a linear scale with low > 0 and high >= 30 low (a learning
  rate, units, a batch size, a regularization strength) is modelled on a log scale, where such knobs act.
- Trials stopped early (a scheduler's PRUNED or paused trials): they join the model at the resource they reached,
  through one more numeric input, the fidelity log(reached) / log(top resource) in [0, 1] (a complete trial is at
  1), with its own length scale; suggestions are scored at fidelity 1, and the incumbent of EI is the lowest
  posterior mean at fidelity 1 of a point already run. So with Hyperband, where most trials stop at the first
  rungs, the model learns from all of them (BOHB-like, with a GP), and how much a short run predicts the full one
  is learnt from the data. Without PRUNED trials the model is the plain one.
- Conditional knobs: a knob whose branch is not taken is imputed (0.5 for numeric, an extra level for categorical).
- Batches and pending trials: kriging believer, a point picked (or RUNNING) is added with the posterior mean as
  its value, so the next pick goes elsewhere.
- Written in numpy/scipy: on this project's 2-core machine it was faster than the same model in torch for the
  sizes a hyperparameter search sees (up to ~1,000 trials), see bench/README.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lapack, solve_triangular
from scipy.optimize import minimize
from scipy.special import erfcx, log_ndtr

from ..observations import infeasible_as_worst, reached
from ..space import Int, Real, Space
from ..trial import FrozenTrial, TrialState
from ._encoding import encoded, one_at_a_time, point_key
from .base import Strategy

_SQRT5 = math.sqrt(5.0)
# a positive knob on a linear scale whose range spans this factor or more is modelled on a log scale (_scale_warps)
SCALE_RATIO = 30.0
# log-normal prior of each length scale: median exp(LOG_MEDIAN) * sqrt(d), on unit-cube inputs
LENGTH_SCALE_LOG_MEDIAN = math.log(0.25)
LENGTH_SCALE_LOG_VAR = 1.0
_LOG_2PI_HALF = 0.5 * math.log(2 * math.pi)
_LOG_PI_2_HALF = 0.5 * math.log(math.pi / 2)
_INV_SQRT_EPS = 1.0 / math.sqrt(np.finfo(float).eps)


_CONTROLLER: list = []


def _one_blas_thread():
    """BLAS on one thread while a suggestion is computed: the matrices are small (n <= 1,000), threaded OpenBLAS
    spins and slows down by 10x or more on a machine whose cores are busy (measured: bench/README.md), and threaded
    sums round differently, so one thread is what makes a seed propose the same points on every machine."""
    import contextlib

    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        except ImportError:  # a core dependency; an install without it keeps BLAS's setting, and seeded runs
            # may then differ between machines with different BLAS thread counts
            _CONTROLLER.append(None)
    if _CONTROLLER[0] is None:
        return contextlib.nullcontext()
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


# ---- log expected improvement ----
def _log1mexp(a: np.ndarray) -> np.ndarray:
    """log(1 - exp(a)) for a < 0, accurate at both ends."""
    return np.where(a > -math.log(2), np.log(-np.expm1(np.minimum(a, -1e-300))), np.log1p(-np.exp(a)))


def log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z Phi(z)): the log of expected improvement for a unit-variance posterior, finite for any z."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    big = z > -1
    zb = z[big]
    out[big] = np.log(np.exp(-0.5 * zb * zb - _LOG_2PI_HALF) + zb * np.exp(log_ndtr(zb)))
    mid = ~big & (z > -_INV_SQRT_EPS)
    zm = z[mid]
    out[mid] = (
        -0.5 * zm * zm - _LOG_2PI_HALF + _log1mexp(np.log(erfcx(-zm / math.sqrt(2)) * np.abs(zm)) + _LOG_PI_2_HALF)
    )
    tail = ~big & ~mid
    zt = z[tail]
    out[tail] = -0.5 * zt * zt - _LOG_2PI_HALF - 2 * np.log(np.abs(zt))
    return out


def log_ei(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """log E[max(best - f, 0)] for f ~ N(mean, std^2) (minimization)."""
    z = (best - mean) / std
    return log_h(z) + np.log(std)


def _dlog_h(z: np.ndarray, lh: np.ndarray) -> np.ndarray:
    """d log_h / dz = Phi(z) / h(z)."""
    return np.exp(log_ndtr(z) - lh)


# ---- the model ----
def _subset(y: np.ndarray, size: int) -> np.ndarray:
    """All indices when there are at most `size`; else the best size/2 and an even spread of the others."""
    n = len(y)
    if n <= size:
        return np.arange(n)
    order = np.argsort(y, kind="stable")
    best, rest = order[: size // 2], np.sort(order[size // 2 :])
    spread = rest[np.linspace(0, len(rest) - 1, size - len(best)).round().astype(int)]
    return np.sort(np.concatenate([best, spread]))


class _GP:
    """An exact GP with a Matérn-5/2 ARD kernel over numeric and Hamming (categorical) columns."""

    def __init__(
        self, Xn: np.ndarray, Xc: np.ndarray, y: np.ndarray, init: np.ndarray | None = None, max_hyper: int = 200
    ):
        self.dn, self.dc = Xn.shape[1], Xc.shape[1]
        self.d = self.dn + self.dc
        # the hyperparameters are fitted on at most max_hyper points (the best half and an even spread of the
        # rest), which bounds the O(n^3) cost of each likelihood evaluation; the posterior then uses every point
        sub = _subset(y, max_hyper)
        self.Xn, self.Xc, self.y = Xn[sub], Xc[sub], y[sub]
        self.theta = self._fit(init)
        self.Xn, self.Xc, self.y = Xn, Xc, y
        self._factor()

    # squared differences per column: n x n x d, independent of the hyperparameters
    def _diffs(self, An, Ac, Bn, Bc) -> np.ndarray:
        parts = []
        if self.dn:
            parts.append((An[:, None, :] - Bn[None, :, :]) ** 2)
        if self.dc:
            parts.append((Ac[:, None, :] != Bc[None, :, :]).astype(float))
        return np.concatenate(parts, axis=2)

    def _prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log prior and its gradient (log-normal priors on every hyperparameter, in log space)."""
        mu = np.concatenate(
            [np.full(self.d, LENGTH_SCALE_LOG_MEDIAN + 0.5 * math.log(max(self.d, 1))), [0.0, math.log(2.5e-3)]]
        )
        var = np.concatenate([np.full(self.d, LENGTH_SCALE_LOG_VAR), [1.0, 4.0]])
        r = theta - mu
        return 0.5 * float(np.sum(r * r / var)), r / var

    def _fit(self, init: np.ndarray | None) -> np.ndarray:
        n, d = len(self.y), self.d
        D = self._diffs(self.Xn, self.Xc, self.Xn, self.Xc)
        y = self.y

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            inv_l2 = np.exp(-2 * theta[:d])
            s, noise = math.exp(theta[d]), math.exp(theta[d + 1])
            r = np.sqrt(np.maximum(D @ inv_l2, 0.0))
            e = np.exp(-_SQRT5 * r)
            Kf = s * (1 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e
            K = Kf + (noise + 1e-8) * np.eye(n)
            c, info = lapack.dpotrf(K, lower=1, clean=1)
            if info != 0:
                return 1e10, np.zeros_like(theta)
            alpha = lapack.dpotrs(c, y, lower=1)[0]
            nll = 0.5 * float(y @ alpha) + float(np.log(np.diag(c)).sum()) + n * _LOG_2PI_HALF
            Kinv = lapack.dpotri(c, lower=1)[0]
            Kinv = np.tril(Kinv) + np.tril(Kinv, -1).T
            W = np.outer(alpha, alpha) - Kinv
            M = s * (5.0 / 3.0) * (1 + _SQRT5 * r) * e  # -dk/dr / r
            grad = np.empty_like(theta)
            grad[:d] = -0.5 * np.einsum("ab,abj->j", W * M, D) * inv_l2
            grad[d] = -0.5 * float(np.sum(W * Kf))
            grad[d + 1] = -0.5 * noise * float(np.trace(W))
            p, dp = self._prior(theta)
            return nll + p, grad + dp

        if init is None:
            init = np.concatenate([np.full(d, math.log(0.5 * math.sqrt(max(d, 1)))), [0.0, math.log(1e-3)]])
        bounds = [(math.log(1e-2), math.log(1e3))] * d + [(math.log(1e-2), math.log(1e2))]
        bounds += [(math.log(1e-6), math.log(0.5))]
        res = minimize(
            objective, init, jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 100 if n <= 300 else 50}
        )
        return res.x if np.isfinite(res.fun) else init

    def _factor(self) -> None:
        d = self.d
        self.inv_l2 = np.exp(-2 * self.theta[:d])
        self.s, self.noise = math.exp(self.theta[d]), math.exp(self.theta[d + 1])
        K = self._k(self.Xn, self.Xc, self.Xn, self.Xc) + (self.noise + 1e-8) * np.eye(len(self.y))
        self.L = np.tril(cho_factor(K, lower=True)[0])
        # a constant prior mean, estimated by generalized least squares: far from the data the model reverts to
        # the typical loss, not to the average of a few outliers (which would draw every suggestion to corners)
        ones = np.ones(len(self.y))
        k1 = cho_solve((self.L, True), ones)
        self.m = float(k1 @ self.y / (k1 @ ones))
        self.alpha = cho_solve((self.L, True), self.y - self.m)

    def _r(self, An, Ac, Bn, Bc) -> np.ndarray:
        r2 = np.zeros((len(An), len(Bn)))
        if self.dn:
            w = self.inv_l2[: self.dn]
            r2 += (An**2) @ w[:, None] + ((Bn**2) @ w)[None, :] - 2 * (An * w) @ Bn.T
        if self.dc:
            r2 += (Ac[:, None, :] != Bc[None, :, :]) @ self.inv_l2[self.dn :]
        return np.sqrt(np.maximum(r2, 0.0))

    def _k(self, An, Ac, Bn, Bc) -> np.ndarray:
        r = self._r(An, Ac, Bn, Bc)
        return self.s * (1 + _SQRT5 * r + 5.0 / 3.0 * r * r) * np.exp(-_SQRT5 * r)

    def add(self, xn: np.ndarray, xc: np.ndarray, value: float) -> None:
        """Adds one point with a believed value (kriging believer), keeping the hyperparameters."""
        self.Xn = np.vstack([self.Xn, xn[None]])
        self.Xc = np.vstack([self.Xc, xc[None]])
        self.y = np.append(self.y, value)
        self._factor()

    def predict(self, Xn: np.ndarray, Xc: np.ndarray, grad_mask: np.ndarray | None = None):
        """Posterior mean and std at m points; with grad_mask (m x dn), also their gradients on numeric columns."""
        r = self._r(Xn, Xc, self.Xn, self.Xc)
        e = np.exp(-_SQRT5 * r)
        ks = self.s * (1 + _SQRT5 * r + 5.0 / 3.0 * r * r) * e  # m x n
        mean = self.m + ks @ self.alpha
        v = solve_triangular(self.L, ks.T, lower=True)  # n x m
        var = np.maximum(self.s - np.sum(v * v, axis=0), 1e-12)
        std = np.sqrt(var)
        if grad_mask is None:
            return mean, std
        beta = solve_triangular(self.L.T, v, lower=False)  # K^-1 ks^T, n x m
        M = self.s * (5.0 / 3.0) * (1 + _SQRT5 * r) * e  # m x n
        w = self.inv_l2[: self.dn]
        # d k(x, X_a) / d x_j = -M_a (x_j - X_aj) / l_j^2
        Ma, Mb = M * self.alpha[None, :], M * beta.T
        dmean = -(Ma.sum(1)[:, None] * Xn - Ma @ self.Xn) * w
        dks_beta = -(Mb.sum(1)[:, None] * Xn - Mb @ self.Xn) * w
        dstd = -dks_beta / std[:, None]
        return mean, std, dmean * grad_mask, dstd * grad_mask


def _standardize(y: np.ndarray) -> np.ndarray:
    """Losses to zero mean and unit variance. (A copula transform, ranks through the normal quantile, was tried:
    it lost the magnitudes a smooth objective offers and did worse on Hartmann-6, so it is not used.)"""
    return (y - y.mean()) / (y.std() or 1.0)


class GPSearch(Strategy):
    """Bayesian optimization with a Gaussian process and log expected improvement (see the module docstring).

    Args:
        n_startup: observed trials drawn quasi-randomly (Sobol) first; default 3 for up to 4 knobs, else
            min(d + 1, 10) (`default_startup`).
        n_random: random candidates scored per suggestion before the local search.
        n_starts: local searches (L-BFGS-B) per suggestion.
        max_fit: the model is fitted on at most this many trials (the best half and the most recent others),
            which bounds the cost of a suggestion on long searches.
        learn_from_pruned: with a scheduler, PRUNED (and paused) trials join the model at the resource they
            reached, through a fidelity input (see the module docstring); False fits COMPLETE trials only.
    """

    name = "gp"

    def __init__(
        self,
        n_startup: int | None = None,
        n_random: int = 1024,
        n_starts: int = 8,
        max_fit: int = 1000,
        learn_from_pruned: bool = True,
    ):
        self.n_startup = n_startup
        self.n_random = int(n_random)
        self.n_starts = int(n_starts)
        self.max_fit = int(max_fit)
        self.learn_from_pruned = bool(learn_from_pruned)

    def setup(self, space: Space, *, seed: int, direction: str | tuple[str, ...]) -> None:
        super().setup(space, seed=seed, direction=direction)
        self.enc, self.canon, self._startup = encoded(space, seed=seed, direction=direction)
        self._n_startup = self.n_startup if self.n_startup is not None else default_startup(space.ndim)
        self.num = ~self.enc.is_cat
        self._warp = _scale_warps(space, self.num)
        self._fidelity = False  # set per ask: whether the model has a fidelity input (PRUNED trials seen)

    # rows (NaN for inactive, categorical as index) -> model inputs (imputed, warped; the fidelity column last)
    def _inputs(self, rows: np.ndarray, fidelity: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        xn = rows[:, self.num]
        xn = np.where(np.isnan(xn), 0.5, xn)
        if self._warp:
            xn = xn.copy()
            for j, warp in self._warp:
                xn[:, j] = warp(xn[:, j])
        if self._fidelity:
            column = np.ones(len(rows)) if fidelity is None else fidelity
            xn = np.hstack([xn, column[:, None]])
        xc = rows[:, self.enc.is_cat]
        xc = np.where(np.isnan(xc), -1.0, xc)
        return xn, xc

    def _observations(self, history: Sequence[FrozenTrial]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(rows, losses, fidelities): COMPLETE trials, and PRUNED ones at the resource they reached when
        learn_from_pruned; fidelities are None when no PRUNED trial is observed (the plain model)."""
        sign = 1.0 if self.direction == "min" else -1.0
        rows, losses, spent, kept = [], [], [], []
        for t in history:
            if t.value is None or not np.isfinite(t.value):
                continue
            if t.state == TrialState.COMPLETE:
                r = reached(t)
                spent.append(r if r > 0 else None)  # a complete trial without reports loaded: the full resource
            elif t.state == TrialState.PRUNED and self.learn_from_pruned and reached(t) > 0:
                spent.append(reached(t))
            else:
                continue
            rows.append(self.enc.encode_trial(t))
            losses.append(sign * t.value)
            kept.append(t)
        X = np.array(rows).reshape(-1, self.enc.ndim) if rows else np.empty((0, self.enc.ndim))
        y = infeasible_as_worst(kept, np.array(losses, dtype=float))  # outcome constraints broken: the worst loss
        pruned = self.learn_from_pruned and any(t.state == TrialState.PRUNED for t in history)
        if not pruned or not rows:
            return X, y, None
        top = max((r for r in spent if r is not None), default=1)
        if top <= 1:
            return X, y, None
        resource = np.array([top if v is None else v for v in spent], dtype=float)
        return X, y, np.clip(np.log(np.maximum(resource, 1.0)) / math.log(top), 0.0, 1.0)

    def ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        with _one_blas_thread():
            return self._ask(history, n)

    def _ask(self, history: Sequence[FrozenTrial], n: int) -> list[dict[str, Any]]:
        X, y, fid = self._observations(history)
        running = [self.enc.encode_trial(t) for t in history if t.state == TrialState.RUNNING]
        pending = np.array(running).reshape(-1, self.enc.ndim) if running else np.empty((0, self.enc.ndim))
        if len(y) < self._n_startup or self.space.ndim == 0:
            return self._startup.ask(history, n)
        gp, X, ys = self._model(X, y, fid)
        # the incumbent: the best value seen; with rung data, whose values were reached at several fidelities,
        # the lowest posterior mean at full fidelity of a point already run
        fitted = gp.predict(*self._inputs(X))[0] if self._fidelity else ys
        best = float(fitted.min())
        for row in self.canon(pending) if len(pending) else []:  # RUNNING trials: kriging believer
            best = self._believe(gp, row, best)
        rng = self.rng(30, self.position(history))

        def propose(exclude: set[tuple], light: bool) -> np.ndarray | None:
            return self._optimize(gp, X, fitted, best, rng, exclude=exclude, light=light)

        def believe(row: np.ndarray) -> None:
            nonlocal best
            best = self._believe(gp, row, best)

        return one_at_a_time(self, history, n, rng, propose, believe)

    def _model(self, X: np.ndarray, y: np.ndarray, fid: np.ndarray | None) -> tuple[_GP, np.ndarray, np.ndarray]:
        """The GP fitted to observations from `_observations` (at most max_fit of them: the best half and the most
        recent others), with the canonical rows and standardized losses it was fitted to. Sets whether the model
        has a fidelity input, which `_inputs` reads."""
        if len(y) > self.max_fit:  # keep the best half and the most recent others
            best_half = np.argsort(y, kind="stable")[: self.max_fit // 2]
            rest = np.setdiff1d(np.arange(len(y)), best_half)[-(self.max_fit - len(best_half)) :]
            keep = np.sort(np.concatenate([best_half, rest]))
            X, y = X[keep], y[keep]
            fid = fid[keep] if fid is not None else None
        X = self.canon(X)
        ys = _standardize(y)
        self._fidelity = fid is not None
        return _GP(*self._inputs(X, fid), ys), X, ys

    def _believe(self, gp: _GP, row: np.ndarray, best: float) -> float:
        """Kriging believer: the point joins the model with its posterior mean as value, and counts as an
        observation for the incumbent too (else a point predicted below the best keeps all its EI)."""
        xn, xc = self._inputs(row[None])
        value = float(gp.predict(xn, xc)[0][0])
        gp.add(xn[0], xc[0], value)
        return min(best, value)

    def _acq(self, gp: _GP, rows: np.ndarray, best: float) -> np.ndarray:
        xn, xc = self._inputs(rows)
        mean, std = gp.predict(xn, xc)
        return log_ei(mean, std, best)

    def _optimize(
        self,
        gp: _GP,
        X: np.ndarray,
        fitted: np.ndarray,
        best: float,
        rng: np.random.Generator,
        exclude: set[tuple],
        light: bool = False,
    ) -> np.ndarray | None:
        """The row that maximizes log-EI. `light`: the later points of a batch (whose model holds believed values
        only) get half the random candidates and half the local searches."""
        cat = self.enc.is_cat
        n_starts = max(2, self.n_starts // 2) if light else self.n_starts
        # candidates: random points, and perturbations of the best trials
        n_random = self.n_random if len(fitted) <= 300 and not light else self.n_random // 2  # each costs O(n^2)
        random_rows = self.enc.random_rows(rng, n_random)
        top = X[np.argsort(fitted, kind="stable")[:5]]  # the best points by the model, at full fidelity
        local = np.repeat(np.where(np.isnan(top), 0.5, top), 40, axis=0)
        noise = rng.normal(0.0, 0.05, local.shape)
        local[:, self.num] = np.clip(local[:, self.num] + noise[:, self.num], 0.0, 1.0 - 1e-12)
        flip = rng.random(local.shape) < 0.1
        fresh = self.enc.random_rows(rng, len(local))
        local[:, cat] = np.where(flip[:, cat] | np.isnan(local[:, cat]), fresh[:, cat], local[:, cat])
        cands = np.vstack([random_rows, local])
        relaxed = cands.copy()  # numeric columns before rounding: local search starts there
        cands = self.canon(cands)
        scores = self._acq(gp, cands, best)
        order = np.argsort(-scores, kind="stable")
        # local search from the best distinct candidates, numeric columns relaxed
        starts: list[int] = []
        for i in order:
            if len(starts) == n_starts:
                break
            if not any(np.array_equal(cands[i], cands[j], equal_nan=True) for j in starts):
                starts.append(i)
        raw = relaxed[starts]
        raw = np.where(np.isnan(raw), 0.5, raw)
        polished = self._polish(gp, raw, cands[starts], best)
        pool = np.vstack([self.canon(polished), cands[order[: 4 * n_starts]]])
        pool = self._categorical_pass(gp, pool, best)
        pool_scores = self._acq(gp, pool, best)
        for rows, ranking in ((pool, np.argsort(-pool_scores, kind="stable")), (cands, order)):
            for i in ranking:
                params = self.enc.decode(rows[i])
                if point_key(params) not in exclude and self.space.feasible(params):
                    return rows[i]
        return None

    def _polish(self, gp: _GP, raw: np.ndarray, canon: np.ndarray, best: float) -> np.ndarray:
        """Batched L-BFGS-B on the numeric columns of several starts at once (categoricals held)."""
        num = self.num
        if not num.any():
            return raw
        B, dn = len(raw), int(num.sum())
        active = ~np.isnan(canon[:, num])  # inactive numeric columns stay put (imputed anyway)
        xc = np.where(np.isnan(canon[:, self.enc.is_cat]), -1.0, canon[:, self.enc.is_cat])

        mask = active.astype(float)
        if self._fidelity:  # the fidelity input is held at full resource
            mask = np.hstack([mask, np.zeros((B, 1))])

        def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
            xn = np.where(active, flat.reshape(B, dn), 0.5)
            scale = np.ones_like(xn)
            if self._warp:
                xn = xn.copy()
                for j, warp in self._warp:
                    scale[:, j] = warp.slope(xn[:, j])
                    xn[:, j] = warp(xn[:, j])
            if self._fidelity:
                xn = np.hstack([xn, np.ones((B, 1))])
            mean, std, dmean, dstd = gp.predict(xn, xc, grad_mask=mask)
            dmean, dstd = dmean[:, :dn] * scale, dstd[:, :dn] * scale
            z = (best - mean) / std
            lh = log_h(z)
            dz = _dlog_h(z, lh)
            value = lh + np.log(std)
            # d/dx [log_h(z) + log std], z = (best - mean) / std
            g = dz[:, None] * (-dmean / std[:, None] - z[:, None] * dstd / std[:, None]) + dstd / std[:, None]
            return -float(value.sum()), -g.ravel()

        x0 = np.clip(raw[:, num], 0.0, 1.0)
        res = minimize(
            objective, x0.ravel(), jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * (B * dn), options={"maxiter": 60}
        )
        out = raw.copy()
        out[:, num] = np.clip(res.x.reshape(B, dn), 0.0, 1.0 - 1e-12)
        return out

    def _categorical_pass(self, gp: _GP, pool: np.ndarray, best: float) -> np.ndarray:
        """For the best point of the pool: every single change of one categorical knob, added to the pool."""
        cat_cols = np.flatnonzero(self.enc.is_cat)
        if not len(cat_cols):
            return pool
        top = pool[int(np.argmax(self._acq(gp, pool, best)))]
        base = np.where(np.isnan(top), 0.5, top)
        variants = []
        for j in cat_cols:
            for v in range(self.enc.n_choices[j]):
                row = base.copy()
                row[j] = v
                for jj in cat_cols:  # a categorical column switched on by this change takes its first choice
                    if np.isnan(top[jj]) and jj != j:
                        row[jj] = 0
                variants.append(row)
        return np.vstack([pool, self.canon(np.array(variants))])


def default_startup(ndim: int) -> int:
    """Sobol points before the model: 3 for up to 4 knobs (a typical Keras scan: lr, units, dropout and one more),
    so that a budget of 8 full trials spends 5 on the model; d + 1 (at most 10) from 5 knobs on. Measured
    (bench/keras/small_budgets.py): with only (d + 3) // 2 points on Hartmann-6, Rosenbrock-10 and Ackley-10
    the GP was 0.2-0.5 log10 regret worse at 32-50 evaluations, and level at 8-16."""
    return 3 if ndim <= 4 else min(10, ndim + 1)


class _LogWarp:
    """The unit coordinate of a knob on a linear scale, mapped to its position on a log scale in [0, 1]."""

    def __init__(self, low: float, high: float):
        self.low, self.span = low, high - low
        self.log_low, self.log_span = math.log(low), math.log(high) - math.log(low)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        return (np.log(self.low + np.clip(u, 0.0, 1.0) * self.span) - self.log_low) / self.log_span

    def slope(self, u: np.ndarray) -> np.ndarray:
        return self.span / ((self.low + np.clip(u, 0.0, 1.0) * self.span) * self.log_span)


def _scale_warps(space: Space, numeric: np.ndarray) -> list[tuple[int, _LogWarp]]:
    """A prior for scale knobs written on a linear scale: a Real or Int with low > 0 and high >= SCALE_RATIO low
    (a learning rate Real(1e-4, 1e-1), units Int(8, 512), a batch size, a regularization strength) is modelled on
    a log scale, where such knobs act; knobs that cross zero or span less (dropout, momentum) stay linear.
    Pairs of (column among the numeric columns, warp)."""
    out = []
    j = -1
    for i, d in enumerate(space.dimensions):
        if not numeric[i]:
            continue
        j += 1
        knob = d.knob
        if isinstance(knob, Real | Int) and not knob.log and knob.low > 0 and knob.high >= SCALE_RATIO * knob.low:
            out.append((j, _LogWarp(float(knob.low), float(knob.high))))
    return out
