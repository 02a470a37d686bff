"""Walkthrough 003: a one-neuron Dense layer as a linear regression of sales on the TV advertising budget, with a
WeightHistory callback recording (w, b) after every batch, drawn on the contour of the cost function.

The Advertising data set ships with no Python package, so this example generates a faithful stand-in: 200 rows,
TV uniform on 0-300, sales = 7.03 + 0.0475 * TV + normal noise with sd 3.26 (the published least-squares fit
of that data set). TV is standardized so that one learning rate suits both parameters.

    python examples/cost_contour.py            # writes cost_contour.png
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from knoblab.keras import WeightHistory  # noqa: E402
from knoblab.plots.contour import linear_mse, loss_contour  # noqa: E402


def advertising_stand_in(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A generated stand-in for the Advertising data (see the module docstring): TV budget and sales."""
    rng = np.random.default_rng(seed)
    tv = rng.uniform(0, 300, n)
    sales = 7.03 + 0.0475 * tv + rng.normal(0, 3.26, n)
    return tv, sales


def main(out: str = "cost_contour.png", learning_rate: float = 0.1, epochs: int = 40) -> tuple[WeightHistory, str]:
    tv, sales = advertising_stand_in()
    x = ((tv - tv.mean()) / tv.std()).astype("float32").reshape(-1, 1)
    y = sales.astype("float32").reshape(-1, 1)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="linear", name="line")])
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate), loss="mean_squared_error", metrics=["mae"]
    )
    weights = WeightHistory(every="batch", layers=["line"])
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[weights])

    path = np.column_stack([weights.series("line", 0).ravel(), weights.series("line", 1).ravel()])
    fig = loss_contour(linear_mse(x, y), path, title=f"RMSprop, learning rate {learning_rate}: cost over (w, b)")
    fig.savefig(out, dpi=110, bbox_inches="tight")
    w, b = path[-1]
    print(
        f"{len(path)} snapshots of (w, b); final w = {w:.3f}, b = {b:.3f} "
        f"(least squares on this data: w = {np.polyfit(x.ravel(), y.ravel(), 1)[0]:.3f}, "
        f"b = {np.polyfit(x.ravel(), y.ravel(), 1)[1]:.3f}); contour written to {out}"
    )
    return weights, out


if __name__ == "__main__":
    main(*sys.argv[1:2])
