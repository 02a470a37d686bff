"""The statistics of the analysis, each a plain function of arrays or a `TrialTable`, each defined exactly.

Every function here is checked against a case computed by hand in tests/analysis/test_stats.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..stopping import direction_of
from .frame import TrialTable, _key, encode_codes, encode_onehot, is_numeric_knob

__all__ = [
    "spearman",
    "correlations",
    "first_order_importance",
    "importances",
    "per_value",
    "train_val_gap",
    "gap_regression",
    "result_entropy",
    "curve_kl",
    "curve_kls",
    "holm",
    "mann_whitney_worse",
    "compare_rounds",
]


# ---- rank correlation ----
def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> tuple[float, float, int]:
    """Spearman's rank correlation of x and y over the pairs where both are finite: (rho, two-sided p, n).

    rho is Pearson's correlation of the ranks (ties get their average rank); with no ties it equals
    1 - 6 * sum(d^2) / (n (n^2 - 1)). NaN when fewer than 3 pairs remain or either side is constant."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    x, y = xs[ok], ys[ok]
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, n
    res = sps.spearmanr(x, y)
    return float(res.statistic), float(res.pvalue), n


def correlations(table: TrialTable) -> pd.DataFrame:
    """Spearman's rho of every varying knob with the metric (one column per value for non-numeric knobs, as
    0/1 indicators). Columns: feature, knob, level (the value of a one-hot column, else None), rho, p, n,
    and `better`: rho signed so that > 0 means "larger is better for the metric" whatever its direction."""
    x = encode_onehot(table)
    rows = []
    for feature in x.columns:
        knob, _, level = feature.partition("=")
        rho, p, n = spearman(x[feature].to_numpy(), table.values.to_numpy())
        rows.append(
            {
                "feature": feature,
                "knob": knob,
                "level": level or None,
                "rho": rho,
                "p": p,
                "n": n,
                "better": -table.sign * rho,
            }
        )
    out = pd.DataFrame(rows, columns=["feature", "knob", "level", "rho", "p", "n", "better"])
    return out.sort_values("rho", key=lambda s: -s.abs(), na_position="last").reset_index(drop=True)


# ---- importances: first-order fANOVA on a random-forest surrogate ----
def first_order_importance(
    predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, max_levels: int = 16
) -> tuple[np.ndarray, float]:
    """First-order functional-ANOVA indices of a model `predict` over the empirical distribution of `x`.

    For column j, the main effect is the partial dependence f_j(v) = mean over the rows of x of predict(x with
    column j set to v), for each distinct value v of column j (at most `max_levels`: quantiles beyond that),
    weighted by how often v occurs. Its variance V_j = sum_v w_v (f_j(v) - mean_v f_j)^2 is the part of the
    variance of predict over x that column j explains alone (Hutter, Hoos & Leyton-Brown, ICML 2014, with the
    observed points as the marginal distribution). Returns (V_j / V for every j, V), where V is the variance of
    predict(x); 1 - sum of the indices is what interactions explain.
    """
    x = np.asarray(x, dtype=float)
    base = np.asarray(predict(x), dtype=float)
    total = float(np.var(base))
    out = np.zeros(x.shape[1])
    if total <= 0 or len(x) == 0:
        return out, total
    for j in range(x.shape[1]):
        levels, counts = np.unique(x[:, j], return_counts=True)
        if len(levels) > max_levels:
            levels = np.quantile(x[:, j], (np.arange(max_levels) + 0.5) / max_levels)
            counts = np.ones(max_levels, dtype=int)
        weights = counts / counts.sum()
        effects = np.empty(len(levels))
        for i, v in enumerate(levels):
            z = x.copy()
            z[:, j] = v
            effects[i] = float(np.mean(predict(z)))
        mean = float(np.sum(weights * effects))
        out[j] = float(np.sum(weights * (effects - mean) ** 2)) / total
    return out, total


def importances(table: TrialTable, seed: int = 0, n_estimators: int = 200) -> pd.DataFrame:
    """How much of the metric's variation each knob explains alone, by first-order fANOVA (see
    `first_order_importance`) on a random forest fitted to (knobs -> metric). Needs scikit-learn (the `analysis`
    extra). Columns: knob, importance (a fraction of the variance), and the forest's out-of-bag R^2 as an
    attribute `r2` of the frame: when it is low, the forest fits noise and the importances mean little."""
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("importances need scikit-learn: pip install 'knoblab[analysis]'") from e
    names = table.varying()
    out = pd.DataFrame({"knob": names, "importance": np.zeros(len(names))})
    out.attrs["r2"] = math.nan
    if len(table) < 5 or not names:
        out["importance"] = np.nan
        return out
    x = encode_codes(table, names).to_numpy()
    y = table.values.to_numpy()
    forest = RandomForestRegressor(
        n_estimators=n_estimators, min_samples_leaf=2, oob_score=len(table) >= 10, random_state=seed, n_jobs=1
    )
    forest.fit(x, y)
    index, _ = first_order_importance(forest.predict, x)
    # knobs drawn not quite independently (a short random search) can push an index a little past 1
    out["importance"] = np.clip(index, 0.0, 1.0)
    out.attrs["r2"] = float(forest.oob_score_) if len(table) >= 10 else math.nan
    return out.sort_values("importance", ascending=False).reset_index(drop=True)


# ---- per-value summaries ----
def per_value(table: TrialTable, bins: int = 5) -> pd.DataFrame:
    """For every varying knob and each of its values: count, mean, median, std and best of the metric.
    Continuous knobs with more than `bins` distinct values are cut into `bins` quantile bins ("[low, high]")."""
    rows = []
    for name in table.varying():
        col = table.knobs[name]
        active = col.notna()
        groups: list[tuple[str, pd.Index]] = []
        if is_numeric_knob(table, name) and col[active].nunique() > bins:
            x = col[active].astype(float)
            cut = pd.qcut(x, q=bins, duplicates="drop")
            for interval in cut.cat.categories:
                idx = cut.index[cut == interval]
                lo, hi = x.loc[idx].min(), x.loc[idx].max()
                groups.append((f"[{lo:.4g}, {hi:.4g}]", idx))
        else:
            seen: dict[tuple, list] = {}
            labels: dict[tuple, Any] = {}
            for number, v in col[active].items():
                seen.setdefault(_key(v), []).append(number)
                labels.setdefault(_key(v), v)
            groups = [(labels[k], pd.Index(v)) for k, v in seen.items()]
        for value, idx in groups:
            y = table.values.loc[idx]
            rows.append(
                {
                    "knob": name,
                    "value": value,
                    "count": len(y),
                    "mean": float(y.mean()),
                    "median": float(y.median()),
                    "std": float(y.std(ddof=1)) if len(y) > 1 else math.nan,
                    "best": float(y.min() if table.direction == "min" else y.max()),
                }
            )
    return pd.DataFrame(rows, columns=["knob", "value", "count", "mean", "median", "std", "best"])


# ---- training versus validation ----
def train_val_gap(
    table: TrialTable, pair: tuple[str, str] | None = None, at: str = "last", tolerance: float = 0.25
) -> pd.DataFrame:
    """Per trial: the training and validation values of a metric pair and how much worse validation is.

    `pair`: (train, validation) metric names, default ("loss", "val_loss") when stored, else the first pair.
    `at`: "last" reads `last_<name>` (the last epoch, where overfitting shows) when stored, "best" the epoch the
    trial was scored at. gap = validation - training for a metric where lower is better (a loss), training -
    validation where higher is (accuracy): gap > 0 means worse on validation. ``relative_gap = gap / |training|``.
    `overfit` flags trials whose relative gap exceeds `tolerance` (default: validation 25% worse than training).
    """
    pair = pair or default_pair(table)
    cols = ["train", "val", "gap", "relative_gap", "overfit"]
    if pair is None:
        return pd.DataFrame(columns=cols, index=table.values.index[:0])
    train_name, val_name = pair
    if at not in ("last", "best"):
        raise ValueError(f"at: got {at!r}; allowed: 'last' or 'best'")
    m = table.metrics

    def column(name: str) -> pd.Series:
        if at == "last" and f"last_{name}" in m:
            return m[f"last_{name}"]
        if name not in m:
            raise KeyError(f"metric {name!r} is not stored; stored: {sorted(m.columns)}")
        return m[name]

    train, val = column(train_name), column(val_name)
    try:
        lower_better = direction_of(val_name) == "min"
    except ValueError:  # a name that says nothing: the experiment's direction when it is its metric, else a loss
        lower_better = table.direction == "min" if val_name == table.metric else True
    gap = (val - train) if lower_better else (train - val)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = gap / train.abs()
    out = pd.DataFrame({"train": train, "val": val, "gap": gap, "relative_gap": rel})
    out["overfit"] = out["relative_gap"] > tolerance
    out.attrs.update(pair=pair, at=at, tolerance=tolerance)
    return out


def default_pair(table: TrialTable) -> tuple[str, str] | None:
    from .frame import metric_pairs

    pairs = metric_pairs(c for c in table.metrics.columns if not c.startswith("last_"))
    if ("loss", "val_loss") in pairs:
        return ("loss", "val_loss")
    if table.metric.startswith("val_") and (table.metric[4:], table.metric) in pairs:
        return (table.metric[4:], table.metric)
    return pairs[0] if pairs else None


def gap_regression(gaps: pd.DataFrame) -> dict[str, float]:
    """The least-squares line validation = slope * training + intercept across trials (walkthrough 000's
    regression of validation on training loss), with Pearson's r, its p-value and n."""
    ok = np.isfinite(gaps["train"].to_numpy(dtype=float)) & np.isfinite(gaps["val"].to_numpy(dtype=float))
    x, y = gaps["train"].to_numpy(dtype=float)[ok], gaps["val"].to_numpy(dtype=float)[ok]
    if len(x) < 3 or np.ptp(x) == 0:
        return {"slope": math.nan, "intercept": math.nan, "r": math.nan, "p": math.nan, "n": len(x)}
    res = sps.linregress(x, y)
    return {"slope": res.slope, "intercept": res.intercept, "r": res.rvalue, "p": res.pvalue, "n": len(x)}


# ---- result entropy ----
def result_entropy(values: Sequence[float], bins: int = 10, value_range: tuple[float, float] | None = None) -> float:
    """How spread a round's results are, from 0 (all in one bin: every trial gives the same result) to 1 (spread
    evenly over all bins).

    The values are counted in `bins` equal-width bins over `value_range` (default: their own min to max; pass a
    common range to compare rounds), p_k is the fraction in bin k, and the result is the Shannon entropy
    -sum p_k ln p_k divided by ln(bins). NaN for no values; 0 for a single distinct value."""
    v = np.asarray([x for x in values if x is not None and math.isfinite(x)], dtype=float)
    if len(v) == 0 or bins < 2:
        return math.nan
    lo, hi = value_range if value_range is not None else (float(v.min()), float(v.max()))
    if hi <= lo:
        return 0.0
    counts, _ = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum() / math.log(bins))


# ---- KL divergence between validation and training curves ----
def curve_kl(val: Sequence[float] | np.ndarray, train: Sequence[float] | np.ndarray) -> float:
    """The Kullback-Leibler divergence KL(P || Q) between a validation curve and a training curve of one trial,
    each turned into a distribution over epochs (walkthrough 000's "KL divergence of val_loss against loss").

    With v_e and t_e the validation and training values at epoch e (the epochs both have), P_e = v_e / sum v and
    Q_e = t_e / sum t, and KL = sum_e P_e ln(P_e / Q_e) (nats). It is 0 when validation is training times a
    constant (same shape, whatever the level), and grows as the shapes part, e.g. when validation loss stops
    falling while training loss keeps falling. It ignores the level: read it with `train_val_gap`. Needs positive
    values (losses, accuracies); NaN otherwise or with fewer than 2 common epochs."""
    n = min(len(val), len(train))
    v, t = np.asarray(val[:n], dtype=float), np.asarray(train[:n], dtype=float)
    if n < 2 or not (np.all(np.isfinite(v)) and np.all(np.isfinite(t))) or np.any(v <= 0) or np.any(t <= 0):
        return math.nan
    p, q = v / v.sum(), t / t.sum()
    return float(np.sum(p * np.log(p / q)))


def curve_kls(table: TrialTable, pair: tuple[str, str] | None = None) -> pd.Series:
    """`curve_kl` of every trial of the table (loaded with reports) for a (train, validation) pair."""
    pair = pair or default_pair(table)
    if pair is None:
        return pd.Series(dtype=float, name="kl")
    train, val = table.curves(pair[0]), table.curves(pair[1])
    out = {n: curve_kl(val[n], train[n]) for n in table.values.index if n in train and n in val}
    return pd.Series(out, dtype=float, name="kl")


# ---- tests for narrowing ----
def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control): sorted ascending, p_(i) * (m - i + 1)
    (i from 1), made non-decreasing, capped at 1. NaN p-values are left out of the family and stay NaN."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, p[j] * (m - i)))
        out[j] = running
    return out


def mann_whitney_worse(these: Sequence[float], others: Sequence[float], direction: str) -> float:
    """One-sided Mann-Whitney U p-value for "these values are worse than the others" (stochastically greater for
    a metric to minimize, smaller for one to maximize); NaN when either side is empty or all values are equal."""
    a, b = np.asarray(these, dtype=float), np.asarray(others, dtype=float)
    if len(a) == 0 or len(b) == 0 or np.ptp(np.concatenate([a, b])) == 0:
        return math.nan
    alternative = "greater" if direction == "min" else "less"
    return float(sps.mannwhitneyu(a, b, alternative=alternative, method="auto").pvalue)


def compare_rounds(table: TrialTable, value_range: tuple[float, float] | None = None, bins: int = 10) -> pd.DataFrame:
    """One row per round: trials, best, median, mean, quartiles, result entropy (over a range common to all
    rounds), and p_better: the one-sided Mann-Whitney p-value that this round's metric is better (stochastically)
    than its parent round's (the round it narrowed; the previous one when unknown)."""
    v = table.values
    if value_range is None and len(v):
        value_range = (float(v.min()), float(v.max()))
    parents = getattr(table, "parents", {}) or {}
    rows = []
    rounds = sorted(table.rounds.unique())
    for i, r in enumerate(rounds):
        y = v[table.rounds == r]
        parent = parents.get(r, rounds[i - 1] if i else None)
        p = math.nan
        if parent is not None and parent in rounds:
            # "better than the parent" is "the parent is worse than this round"
            p = mann_whitney_worse(v[table.rounds == parent], y, table.direction)
        rows.append(
            {
                "round": int(r),
                "parent": parent,
                "trials": len(y),
                "best": float(y.min() if table.direction == "min" else y.max()),
                "median": float(y.median()),
                "mean": float(y.mean()),
                "q25": float(y.quantile(0.25)),
                "q75": float(y.quantile(0.75)),
                "entropy": result_entropy(y.tolist(), bins=bins, value_range=value_range),
                "p_better": p,
            }
        )
    out = pd.DataFrame(
        rows, columns=["round", "parent", "trials", "best", "median", "mean", "q25", "q75", "entropy", "p_better"]
    )
    out["parent"] = out["parent"].astype("Int64")
    return out
