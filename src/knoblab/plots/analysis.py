"""The figures of an analysis (walkthrough 000's plots, and a few it lacked). Each function takes an `Analysis`
(or an Experiment or a Scan, analysed on the spot) and returns a matplotlib Figure, drawn without pyplot so that
nothing accumulates in a long session and no display is needed (the Agg canvas)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)
import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy import stats as sps  # noqa: E402

from ..analysis.frame import _key, _values_in_order, encode_codes, is_log_scale, is_numeric_knob  # noqa: E402

__all__ = [
    "correlation_bars",
    "importance_bars",
    "metric_kde",
    "grouped_bars",
    "train_val_scatter",
    "learning_curves",
    "optimization_history",
    "parallel_coordinates",
    "metric_contour",
    "rounds_kde",
]


def _analysis(source: Any):
    from ..analysis import Analysis, analyze

    return source if isinstance(source, Analysis) else analyze(source)


class InlineFigure(Figure):
    """A matplotlib Figure that a notebook shows inline (as PNG), without pyplot or `%matplotlib inline`."""

    def _repr_png_(self) -> bytes:
        from ..reprs import figure_png

        return figure_png(self)


def _figure(width: float = 7.0, height: float = 4.5) -> tuple[Figure, Any]:
    fig = InlineFigure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def correlation_bars(source: Any, top: int = 20) -> Figure:
    """Spearman's rho of each knob (one bar per value for categorical knobs) with the metric, strongest first;
    green where larger values of the feature go with better results, red where they go with worse."""
    a = _analysis(source)
    c = a.correlations.dropna(subset=["rho"]).head(top).iloc[::-1]
    fig, ax = _figure(7, max(2.5, 0.32 * len(c) + 1.2))
    if len(c) == 0:
        _empty(ax, "no knob varies enough to correlate")
        return fig
    colors = ["tab:green" if b > 0 else "tab:red" for b in c["better"]]
    ax.barh(c["feature"].astype(str), c["rho"], color=colors)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"Spearman's rho with {a.metric} (green: better as it grows)")
    ax.set_title("rank correlation of each knob with the metric")
    return fig


def importance_bars(source: Any) -> Figure:
    """The share of the metric's variance each knob explains alone (first-order fANOVA on a random forest)."""
    a = _analysis(source)
    imp = a.importances.dropna(subset=["importance"]).iloc[::-1]
    fig, ax = _figure(7, max(2.5, 0.32 * len(imp) + 1.2))
    if len(imp) == 0:
        _empty(ax, "too few trials for importances")
        return fig
    ax.barh(imp["knob"].astype(str), imp["importance"], color="tab:blue")
    ax.set_xlim(0, 1)
    r2 = imp.attrs.get("r2", math.nan)
    ax.set_xlabel("fraction of variance explained alone" + (f" (forest OOB R² = {r2:.2f})" if np.isfinite(r2) else ""))
    ax.set_title("importance of each knob (fANOVA on a random forest)")
    return fig


def _groups(a, knob: str, bins: int = 4) -> list[tuple[str, np.ndarray]]:
    """(label, metric values) per value of a knob; continuous knobs in quantile bins."""
    t = a.table
    col = t.knobs[knob]
    active = col.notna()
    y = t.values[active]
    x = col[active]
    if is_numeric_knob(t, knob) and x.nunique() > 6:
        cut = np.quantile(x.astype(float), np.linspace(0, 1, bins + 1))
        out = []
        for lo, hi in zip(cut[:-1], cut[1:]):
            hit = (x >= lo) & (x <= hi)
            out.append((f"{lo:.3g}–{hi:.3g}", y[hit].to_numpy()))
        return out
    return [(str(v), y[x.map(lambda z, v=v: _key(z) == _key(v))].to_numpy()) for v in _values_in_order(t, knob)]


def metric_kde(source: Any, knob: str) -> Figure:
    """Kernel density of the metric for each value of a knob (walkthrough 000: dropout 0 and 0.1 sit higher)."""
    a = _analysis(source)
    fig, ax = _figure()
    if knob not in a.table.knobs:
        raise ValueError(f"knob {knob!r} is not in the analysis; knobs: {list(a.table.knobs.columns)}")
    groups = _groups(a, knob)
    values = a.table.values.to_numpy()
    if len(values) == 0:
        _empty(ax, "no complete trial")
        return fig
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 256)
    cmap = colormaps["viridis"]
    for i, (label, y) in enumerate(groups):
        color = cmap(i / max(len(groups) - 1, 1))
        if len(y) >= 2 and np.ptp(y) > 0:
            ax.plot(grid, sps.gaussian_kde(y)(grid), color=color, label=f"{label} (n={len(y)})")
        elif len(y):
            ax.axvline(float(np.mean(y)), color=color, ls=":", label=f"{label} (n={len(y)})")
    ax.set_xlabel(a.metric)
    ax.set_ylabel("density")
    ax.set_title(f"{a.metric} by {knob}")
    ax.legend(fontsize=8, title=knob)
    return fig


def grouped_bars(source: Any, x: str, hue: str) -> Figure:
    """The mean metric (± its standard error) by the values of knob `x`, one bar per value of knob `hue`
    (walkthrough 000: val_acc by epochs and optimizer, to drop RMSprop)."""
    a = _analysis(source)
    t = a.table
    for k in (x, hue):
        if k not in t.knobs:
            raise ValueError(f"knob {k!r} is not in the analysis; knobs: {list(t.knobs.columns)}")
    fig, ax = _figure(8, 4.5)
    xs = _values_in_order(t, x)
    hues = _values_in_order(t, hue)
    if not xs or not hues:
        _empty(ax, "no complete trial")
        return fig
    width = 0.8 / len(hues)
    cmap = colormaps["tab10"]
    for j, h in enumerate(hues):
        means, errs = [], []
        for v in xs:
            hit = t.knobs[x].map(lambda z, v=v: _key(z) == _key(v)) & t.knobs[hue].map(
                lambda z, h=h: _key(z) == _key(h)
            )
            y = t.values[hit]
            means.append(y.mean() if len(y) else np.nan)
            errs.append(y.std(ddof=1) / math.sqrt(len(y)) if len(y) > 1 else 0.0)
        pos = np.arange(len(xs)) + (j - (len(hues) - 1) / 2) * width
        ax.bar(pos, means, width, yerr=errs, capsize=2, label=str(h), color=cmap(j % 10))
    ax.set_xticks(np.arange(len(xs)), [str(v) for v in xs])
    ax.set_xlabel(x)
    ax.set_ylabel(f"mean {a.metric}")
    finite = t.values[np.isfinite(t.values)]
    if len(finite):
        lo, hi = float(finite.min()), float(finite.max())
        ax.set_ylim(lo - 0.1 * (hi - lo or 1), hi + 0.1 * (hi - lo or 1))
    ax.legend(title=hue, fontsize=8)
    ax.set_title(f"{a.metric} by {x} and {hue}")
    return fig


def train_val_scatter(source: Any) -> Figure:
    """Training against validation value per trial, with the least-squares line and the diagonal; trials flagged
    as overfitting in red (walkthrough 000's regression of val_loss on loss)."""
    a = _analysis(source)
    g = a.gaps
    fig, ax = _figure(6, 5)
    if len(g) == 0:
        _empty(ax, "no (training, validation) metric pair stored")
        return fig
    train_name, val_name = g.attrs["pair"]
    ok = g[np.isfinite(g["train"]) & np.isfinite(g["val"])]
    colors = np.where(ok["overfit"], "tab:red", "tab:blue")
    ax.scatter(ok["train"], ok["val"], c=colors, s=18, alpha=0.8)
    lo = float(min(ok["train"].min(), ok["val"].min()))
    hi = float(max(ok["train"].max(), ok["val"].max()))
    line = np.linspace(lo, hi, 2)
    ax.plot(line, line, color="0.5", ls=":", lw=1, label="validation = training")
    reg = a.gap_regression
    if np.isfinite(reg["slope"]):
        ax.plot(
            line,
            reg["slope"] * line + reg["intercept"],
            color="black",
            lw=1.2,
            label=f"fit: slope {reg['slope']:.2f}, r = {reg['r']:.2f}",
        )
    at = g.attrs.get("at", "last")
    ax.set_xlabel(f"{train_name} ({at} epoch)")
    ax.set_ylabel(f"{val_name} ({at} epoch)")
    ax.set_title(f"training vs validation; red: {val_name} worse by > {a.tolerance:.0%}")
    ax.legend(fontsize=8)
    return fig


def learning_curves(source: Any, k: int = 5, metrics: Sequence[str] | None = None) -> Figure:
    """Per-epoch curves of the best k trials: validation solid, training dashed, one color per trial."""
    a = _analysis(source)
    t = a.table
    fig, ax = _figure()
    pair = tuple(metrics) if metrics else a.pair
    if not pair:
        stored = [m for m in t.metrics.columns if t.curves(m)]
        pair = (stored[0],) if stored else ()
    if not pair:
        _empty(ax, "no per-epoch curves stored")
        return fig
    cmap = colormaps["tab10"]
    drew = False
    for i, number in enumerate(t.top(k)):
        for name in pair:
            curve = t.curves(name).get(number)
            if curve is None:
                continue
            style = "-" if name.startswith("val_") or len(pair) == 1 else "--"
            ax.plot(np.arange(len(curve)), curve, style, color=cmap(i % 10), lw=1.3, label=f"#{number} {name}")
            drew = True
    if not drew:
        _empty(ax, "no per-epoch curves stored for the best trials")
        return fig
    ax.set_xlabel("epoch")
    ax.set_ylabel(" / ".join(pair))
    ax.set_title(f"learning curves of the best {k} trials")
    ax.legend(fontsize=7, ncol=2)
    return fig


def optimization_history(source: Any) -> Figure:
    """The metric of every trial in order, colored by round, with the best so far as a step line."""
    a = _analysis(source)
    t = a.all_rounds
    fig, ax = _figure(8, 4.5)
    if len(t) == 0:
        _empty(ax, "no complete trial")
        return fig
    numbers = t.values.index.to_numpy()
    values = t.values.to_numpy()
    rounds = t.rounds.to_numpy()
    cmap = colormaps["tab10"]
    for i, r in enumerate(sorted(set(rounds))):
        hit = rounds == r
        ax.scatter(numbers[hit], values[hit], s=14, color=cmap(i % 10), label=f"round {r}")
    best = np.minimum.accumulate(values) if a.direction == "min" else np.maximum.accumulate(values)
    ax.step(numbers, best, where="post", color="black", lw=1.2, label="best so far")
    ax.set_xlabel("trial number")
    ax.set_ylabel(a.metric)
    ax.set_title("optimization history")
    ax.legend(fontsize=8)
    return fig


def parallel_coordinates(source: Any, knobs: Sequence[str] | None = None, top: int | None = None) -> Figure:
    """One line per trial across one axis per knob (scaled to [0, 1]; categorical values evenly spaced) and the
    metric; color by metric, best trials drawn last (on top)."""
    a = _analysis(source)
    t = a.table
    names = list(knobs) if knobs else t.varying()
    fig, ax = _figure(max(6, 1.3 * (len(names) + 1)), 4.5)
    if len(t) == 0 or not names:
        _empty(ax, "nothing varies")
        return fig
    codes = encode_codes(t, names)
    cols = []
    labels = []
    for name in names:
        x = codes[name].to_numpy(dtype=float)
        lo, hi = np.nanmin(x), np.nanmax(x)
        cols.append((x - lo) / (hi - lo) if hi > lo else np.full_like(x, 0.5))
        if is_numeric_knob(t, name):
            labels.append(f"{name}\n{_fmt(t.knobs[name].min())}–{_fmt(t.knobs[name].max())}")
        else:
            values = ",".join(str(v) for v in _values_in_order(t, name))
            labels.append(name + "\n" + (values if len(values) <= 18 else values[:17] + "…"))
    y = t.values.to_numpy()
    ylo, yhi = y.min(), y.max()
    cols.append((y - ylo) / (yhi - ylo) if yhi > ylo else np.full_like(y, 0.5))
    labels.append(f"{a.metric}\n{_fmt(ylo)}–{_fmt(yhi)}")
    data = np.column_stack(cols)
    goodness = -a.table.sign * y
    order = np.argsort(goodness, kind="stable")
    if top:
        order = order[-top:]
    cmap = colormaps["viridis"]
    # color by rank, so that a few very bad trials do not paint all the others the same yellow
    g = np.empty(len(y))
    g[np.argsort(goodness, kind="stable")] = np.linspace(0, 1, len(y)) if len(y) > 1 else [1.0]
    xs = np.arange(data.shape[1])
    for i in order:
        ax.plot(xs, data[i], color=cmap(g[i]), alpha=0.6, lw=1)
    for x in xs:
        ax.axvline(x, color="0.6", lw=0.8)
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_yticks([0, 1], ["low", "high"])
    ax.set_title("parallel coordinates (color: rank of the metric, yellow best)")
    return fig


def metric_contour(source: Any, x: str, y: str) -> Figure:
    """The metric over two knobs: a filled contour interpolated over the trials' points (linear, on a Delaunay
    triangulation; log axes for log-scale knobs, category codes for categorical ones), with the trials on top."""
    a = _analysis(source)
    t = a.table
    for k in (x, y):
        if k not in t.knobs:
            raise ValueError(f"knob {k!r} is not in the analysis; knobs: {list(t.knobs.columns)}")
    fig, ax = _figure(6.5, 5)
    codes = encode_codes(t, [x, y])
    active = t.knobs[x].notna() & t.knobs[y].notna()
    px, py = codes[x][active].to_numpy(float), codes[y][active].to_numpy(float)
    z = t.values[active].to_numpy(float)
    if len(z) == 0:
        _empty(ax, "no complete trial with both knobs")
        return fig
    try:
        filled = ax.tricontourf(px, py, z, levels=14, cmap="viridis")
        fig.colorbar(filled, ax=ax, label=a.metric)
    except (ValueError, RuntimeError):  # too few or collinear points: the scatter alone
        pass
    sc = ax.scatter(px, py, c=z, cmap="viridis", edgecolors="white", s=26)
    if not ax.collections[:-1]:
        fig.colorbar(sc, ax=ax, label=a.metric)
    best = t.top(1)
    if len(best) and best[0] in codes.index[active]:
        ax.plot(codes[x][best[0]], codes[y][best[0]], "*", color="red", ms=14, mec="black", label="best")
        ax.legend(fontsize=8)
    for name, axis in ((x, ax.xaxis), (y, ax.yaxis)):
        if not is_numeric_knob(t, name):
            values = _values_in_order(t, name)
            axis.set_ticks(range(len(values)), [str(v) for v in values])
    ax.set_xlabel(x + (" (log10)" if is_numeric_knob(t, x) and is_log_scale(t, x) else ""))
    ax.set_ylabel(y + (" (log10)" if is_numeric_knob(t, y) and is_log_scale(t, y) else ""))
    ax.set_title(f"{a.metric} over {x} and {y}")
    return fig


def rounds_kde(source: Any) -> Figure:
    """The metric's density in each round (walkthrough 000: round 2's results bunch closer to the best)."""
    a = _analysis(source)
    t = a.all_rounds
    fig, ax = _figure()
    if len(t) == 0:
        _empty(ax, "no complete trial")
        return fig
    values = t.values.to_numpy()
    lo, hi = float(values.min()), float(values.max())
    pad = 0.05 * (hi - lo or 1.0)
    grid = np.linspace(lo - pad, hi + pad, 256)
    cmap = colormaps["tab10"]
    for i, r in enumerate(sorted(t.rounds.unique())):
        y = t.values[t.rounds == r].to_numpy()
        label = f"round {r} (n={len(y)}, median {np.median(y):.4g})"
        if len(y) >= 2 and np.ptp(y) > 0:
            ax.plot(grid, sps.gaussian_kde(y)(grid), color=cmap(i % 10), label=label)
        else:
            ax.axvline(float(np.mean(y)), color=cmap(i % 10), ls=":", label=label)
    ax.set_xlabel(a.metric)
    ax.set_ylabel("density")
    ax.set_title("the metric's distribution by round")
    ax.legend(fontsize=8)
    return fig


def _fmt(v: Any) -> str:
    try:
        return f"{float(v):.3g}"
    except (TypeError, ValueError):
        return str(v)
