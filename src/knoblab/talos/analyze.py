"""`Analyze(source)` (also `Reporting`): Talos' look at a scan's results table, from a Scan or an experiment log CSV.

Numbers: high, low, rounds, rounds2high, correlate (Pearson, as Talos computes it), table, best_params. Plots
(matplotlib, each returns its Figure): plot_line, plot_hist, plot_corr, plot_regs, plot_box, plot_bars, plot_kde.
Whole-table operations read Talos' columns only (a Scan's data also holds knoblab's number, state, round, error),
and correlations skip non-numeric columns rather than fail on them.
knoblab's own analysis of the same trials (rank correlations, importances, overfitting, suggested narrower spaces)
is `scan.analyze()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Analyze", "Reporting"]


class Analyze:
    """A scan's results to read and plot: `source` is a Scan (or anything with .data) or the path of a CSV."""

    def __init__(self, source: Any = None):
        if isinstance(source, str):
            self.data = pd.read_csv(source)
            self._columns = list(self.data.columns)
        elif hasattr(source, "data") and isinstance(source.data, pd.DataFrame):
            self.data = source.data
            talos = getattr(source, "_talos_columns", None)
            extra = [c for c in self.data.columns if c.startswith("eval_")]
            self._columns = [*talos, *extra] if talos else list(self.data.columns)
        else:
            raise ValueError(f"Analyze: got {type(source).__name__}; give a Scan or the path of an experiment log CSV")

    # ---- numbers ----
    def _series(self, metric: str) -> pd.Series:
        if metric not in self.data.columns:
            raise ValueError(f"metric {metric!r} is not a column of the results; columns: {list(self._columns)}")
        return pd.to_numeric(self.data[metric], errors="coerce")

    def high(self, metric: str) -> float:
        """The highest value of `metric`."""
        return self._series(metric).max()

    def low(self, metric: str) -> float:
        """The lowest value of `metric`."""
        return self._series(metric).min()

    def rounds(self) -> int:
        """The number of rounds in the experiment."""
        return len(self.data)

    def rounds2high(self, metric: str) -> int:
        """The round (row) that first reached the highest `metric`."""
        values = self._series(metric)
        return int(values.index[values == values.max()][0])

    def correlate(self, metric: str, exclude: Sequence[str] = ()) -> pd.Series:
        """Pearson's correlation of every numeric column but `exclude` with `metric` (its own 1 left out)."""
        self._series(metric)
        columns = [c for c in self._columns if c not in [*exclude, metric]]
        out = self.data[columns].apply(pd.to_numeric, errors="coerce")
        out = out.loc[:, out.notna().any()]
        out.insert(0, metric, self._series(metric))
        corr = out.corr(numeric_only=True)[metric]
        return corr[corr != 1]

    def _cols(self, metric: str | Sequence[str], exclude: Sequence[str]) -> list[str]:
        metrics = [metric] if isinstance(metric, str) else list(metric)
        for m in metrics:
            self._series(m)
        rest = [c for c in self._columns if c not in [*exclude, *metrics]]
        return [*metrics, *rest]

    def table(
        self, metric: str | Sequence[str], exclude: Sequence[str] = (), sort_by: str | None = None, ascending=False
    ) -> pd.DataFrame:
        """The metric(s) and the other columns but `exclude`, sorted by `sort_by` (default: the metric)."""
        cols = self._cols(metric, exclude)
        sort_by = sort_by or (metric if isinstance(metric, str) else list(metric)[0])
        return self.data[cols].sort_values(sort_by, ascending=ascending, kind="stable")

    def best_params(self, metric: str, exclude: Sequence[str] = (), n: int = 10, ascending: bool = False) -> np.ndarray:
        """The best n rounds by `metric` as rows of the other columns but `exclude`, with an index column last."""
        cols = self._cols(metric, exclude)
        out = self.data[cols].sort_values(metric, ascending=ascending, kind="stable").drop(columns=[metric]).head(n)
        out.insert(out.shape[1], "index_num", range(len(out)))
        return out.values

    # ---- plots ----
    def _figure(self, **kwargs: Any):
        from matplotlib.figure import Figure

        fig = Figure(figsize=kwargs.pop("figsize", (7, 4)))
        return fig, fig.add_subplot(1, 1, 1)

    def plot_line(self, metric: str):
        """`metric` round by round."""
        fig, ax = self._figure()
        ax.plot(range(len(self.data)), self._series(metric), marker="o", markersize=3)
        ax.set_xlabel("round")
        ax.set_ylabel(metric)
        return fig

    def plot_hist(self, metric: str, bins: int = 10):
        """A histogram of `metric` over the rounds."""
        fig, ax = self._figure()
        ax.hist(self._series(metric).dropna(), bins=bins)
        ax.set_xlabel(metric)
        ax.set_ylabel("rounds")
        return fig

    def plot_corr(self, metric: str, exclude: Sequence[str] = (), color_grades: int = 5):
        """A heatmap of the correlations among `metric` and the other numeric columns but `exclude`."""
        from matplotlib import colormaps

        cols = self._cols(metric, exclude)
        frame = self.data[cols].apply(pd.to_numeric, errors="coerce")
        corr = frame.loc[:, frame.notna().any()].corr(numeric_only=True)
        fig, ax = self._figure(figsize=(1 + 0.6 * len(corr), 1 + 0.5 * len(corr)))
        image = ax.imshow(corr.values, cmap=colormaps["RdBu_r"].resampled(color_grades), vmin=-1, vmax=1)
        ax.set_xticks(range(len(corr)), corr.columns, rotation=90)
        ax.set_yticks(range(len(corr)), corr.columns)
        fig.colorbar(image, ax=ax)
        fig.tight_layout()
        return fig

    def plot_regs(self, x: str, y: str):
        """`y` against `x` with its least-squares line."""
        fig, ax = self._figure()
        a, b = self._series(x), self._series(y)
        ok = a.notna() & b.notna()
        ax.scatter(a[ok], b[ok], s=12)
        if ok.sum() >= 2 and a[ok].nunique() > 1:
            slope, intercept = np.polyfit(a[ok], b[ok], 1)
            grid = np.linspace(a[ok].min(), a[ok].max(), 50)
            ax.plot(grid, slope * grid + intercept, color="#A72608")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        return fig

    def plot_box(self, x: str, y: str, hue: str | None = None):
        """Boxes of `y` for each value of `x` (and of `hue`, side by side)."""
        fig, ax = self._figure()
        groups = [x] if hue is None else [x, hue]
        for c in groups:
            if c not in self.data.columns:
                raise ValueError(f"column {c!r} is not in the results; columns: {list(self._columns)}")
        parts = [(k, self._series(y)[g.index].dropna()) for k, g in self.data.groupby(groups, sort=True)]
        ax.boxplot([v for _, v in parts])
        ax.set_xticks(range(1, len(parts) + 1), [str(k) for k, _ in parts], rotation=45)
        ax.set_xlabel(x if hue is None else f"{x}, {hue}")
        ax.set_ylabel(y)
        fig.tight_layout()
        return fig

    def plot_bars(self, x: str, y: str, hue: str, col: str):
        """Mean `y` by `x` (bars per `hue` value), one panel per value of `col`, up to four panels a row."""
        from matplotlib.figure import Figure

        for c in (x, hue, col):
            if c not in self.data.columns:
                raise ValueError(f"column {c!r} is not in the results; columns: {list(self._columns)}")
        panels = sorted(self.data[col].dropna().unique(), key=str)
        ncols = min(4, max(1, len(panels)))
        nrows = -(-len(panels) // ncols) or 1
        fig = Figure(figsize=(4 * ncols, 3 * nrows))
        hues = sorted(self.data[hue].dropna().unique(), key=str)
        xs = sorted(self.data[x].dropna().unique(), key=str)
        width = 0.8 / max(1, len(hues))
        for p, value in enumerate(panels):
            ax = fig.add_subplot(nrows, ncols, p + 1)
            part = self.data[self.data[col] == value]
            for h, hv in enumerate(hues):
                means = [self._series(y)[part.index[(part[x] == xv) & (part[hue] == hv)]].mean() for xv in xs]
                ax.bar(np.arange(len(xs)) + h * width, means, width, label=str(hv))
            ax.set_xticks(np.arange(len(xs)) + width * (len(hues) - 1) / 2, [str(v) for v in xs])
            ax.set_title(f"{col} = {value}")
            ax.set_xlabel(x)
            ax.set_ylabel(y)
        if hues:
            fig.axes[0].legend(title=hue)
        fig.tight_layout()
        return fig

    def plot_kde(self, x: str, y: str | None = None):
        """A kernel density estimate of `x`, or of (x, y) as contours."""
        from scipy.stats import gaussian_kde

        fig, ax = self._figure()
        a = self._series(x).dropna()
        if y is None:
            if a.nunique() < 2:
                raise ValueError(f"plot_kde: {x!r} takes fewer than two distinct values; nothing to estimate")
            grid = np.linspace(a.min(), a.max(), 200)
            ax.plot(grid, gaussian_kde(a)(grid))
            ax.set_xlabel(x)
            ax.set_ylabel("density")
            return fig
        b = self._series(y)
        ok = self._series(x).notna() & b.notna()
        points = np.vstack([self._series(x)[ok], b[ok]])
        kde = gaussian_kde(points)
        gx, gy = np.meshgrid(np.linspace(*_span(points[0]), 80), np.linspace(*_span(points[1]), 80))
        ax.contourf(gx, gy, kde(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape), levels=10)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        return fig


def _span(v: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.min(v)), float(np.max(v))
    pad = (hi - lo) * 0.1 or 1.0
    return lo - pad, hi + pad


Reporting = Analyze
