"""The cost function over two parameters, with the path gradient descent took across it (walkthrough 003)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = ["loss_contour", "linear_mse"]


def linear_mse(x: Sequence[float], y: Sequence[float]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The mean squared error of y ~ w * x + b, vectorized over grids of w and b."""
    xs = np.asarray(x, dtype=float).ravel()
    ys = np.asarray(y, dtype=float).ravel()

    def loss(w: np.ndarray, b: np.ndarray) -> np.ndarray:
        w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
        # expand (w^2 sum x^2 + ...) instead of materializing a grid x samples array
        n = len(xs)
        sx, sy, sxx, sxy, syy = xs.sum(), ys.sum(), (xs * xs).sum(), (xs * ys).sum(), (ys * ys).sum()
        return (w * w * sxx + 2 * w * b * sx + n * b * b - 2 * w * sxy - 2 * b * sy + syy) / n

    return loss


def loss_contour(
    loss: Callable[[np.ndarray, np.ndarray], np.ndarray],
    path: np.ndarray | Sequence[Sequence[float]] | None = None,
    w_range: tuple[float, float] | None = None,
    b_range: tuple[float, float] | None = None,
    *,
    resolution: int = 150,
    levels: int = 30,
    labels: tuple[str, str] = ("weight w", "bias b"),
    title: str | None = "cost function and the path of gradient descent",
    ax: plt.Axes | None = None,
) -> Figure:
    """A filled contour of `loss(w, b)` with the recorded `path` (an (n, 2) array of (w, b)) drawn on it.

    The ranges default to the path's extent with a margin, so the whole descent is in view."""
    path = None if path is None else np.asarray(path, dtype=float).reshape(-1, 2)
    if w_range is None or b_range is None:
        if path is None:
            raise ValueError("give w_range and b_range, or a path to take them from")
        lo, hi = path.min(axis=0), path.max(axis=0)
        margin = np.maximum((hi - lo) * 0.25, 1e-3)
        w_range = w_range or (lo[0] - margin[0], hi[0] + margin[0])
        b_range = b_range or (lo[1] - margin[1], hi[1] + margin[1])
    w, b = np.meshgrid(np.linspace(*w_range, resolution), np.linspace(*b_range, resolution))
    z = loss(w, b)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 5.5))
    else:
        fig = cast(Figure, ax.figure)  # a SubFigure's axes (it draws the colorbar the same way)
    floor = max(float(np.nanmin(z)), 1e-12)
    level_values = np.geomspace(floor, float(np.nanmax(z)), levels) if np.nanmin(z) > 0 else levels
    filled = ax.contourf(
        w, b, z, levels=level_values, cmap="viridis", norm=matplotlib.colors.LogNorm() if np.nanmin(z) > 0 else None
    )
    ax.contour(w, b, z, levels=level_values, colors="white", linewidths=0.3, alpha=0.5)
    fig.colorbar(filled, ax=ax, label="cost", format="%.3g")
    if path is not None and len(path):
        ax.plot(path[:, 0], path[:, 1], "-", color="tab:red", lw=1.2, alpha=0.9, label="gradient descent")
        ax.plot(path[:, 0], path[:, 1], ".", color="tab:red", ms=3)
        ax.plot(*path[0], "o", color="white", mec="black", ms=8, label="start")
        ax.plot(*path[-1], "*", color="gold", mec="black", ms=14, label="end")
        ax.legend(loc="upper right")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if title:
        ax.set_title(title)
    return fig
