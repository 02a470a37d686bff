"""Walkthrough 001: an LSTM forecasting a series, with a conditional space (one or two LSTM layers; the second
layer's units and dropout exist only with two), searched first by grid, then by TPE, every trial logged (the
walkthrough's 81-combination grid took 24 hours and its results were lost for want of logging).

The series is the yearly sunspot numbers that ship with statsmodels (1700-2008). The last 20% of the years
are a test period the search never sees; of the rest, the last 25% validate (no shuffling: it is a series).
Overfitting is read from the gap between training and validation loss, as in the walkthrough.

    python examples/lstm_timeseries.py
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import statsmodels.api as sm  # noqa: E402

import knoblab as kl  # noqa: E402
from knoblab.strategies import REGISTRY  # noqa: E402

WINDOW = 12
EPOCHS = int(os.environ.get("KNOBLAB_EXAMPLE_EPOCHS", 25))


def windows(series: np.ndarray, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """(samples, window, 1) inputs of `window` past values, and the next value as the target."""
    x = np.stack([series[i : i + window] for i in range(len(series) - window)])[..., None]
    return x.astype("float32"), series[window:].astype("float32")


def lstm_model(x_train, y_train, x_val, y_val, params):
    """A Talos-style model function; `units2` and `dropout2` exist only when params["layers"] == 2."""
    two = params["layers"] == 2
    model = keras.Sequential([keras.Input(x_train.shape[1:])])
    model.add(keras.layers.LSTM(params["units"], dropout=params["dropout"], return_sequences=two))
    if two:
        model.add(keras.layers.LSTM(params["units2"], dropout=params["dropout2"]))
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.Adam(params["lr"]), loss="mse", metrics=["mae"])
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        verbose=0,
        shuffle=False,
    )
    return history, model


def main(storage: str | None = None, grid_trials: int | None = None, tpe_trials: int = 10) -> None:
    sunspots = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    split = int(len(sunspots) * 0.8)
    scale = sunspots[:split].max()  # scaled with the training years only
    x_dev, y_dev = windows(sunspots[:split] / scale)
    x_test, y_test = windows(sunspots[split - WINDOW :] / scale)

    # round 1: a small grid over the conditional space (1 + 2 = 3 structures x 2 unit counts = 6 points)
    grid_space = {
        "units": [16, 32],
        "dropout": 0.1,
        "lr": 0.01,
        "batch_size": 16,
        "epochs": EPOCHS,
        "layers": kl.Branch({1: {}, 2: {"units2": [8, 16], "dropout2": 0.1}}),
    }
    grid = kl.Scan(
        x_dev,
        y_dev,
        params=grid_space,
        model=lstm_model,
        experiment_name="sunspots_grid",
        val_split=0.25,
        shuffle=False,
        metric="val_loss",
        strategy="grid",
        n_trials=grid_trials,
        storage=storage,
        seed=0,
    )

    # round 2: TPE over a wider, continuous space (the walkthrough's Hyperopt step)
    tpe_space = {
        "units": kl.Int(8, 64, log=True),
        "dropout": kl.Real(0.0, 0.4),
        "lr": kl.Real(1e-3, 3e-2, log=True),
        "batch_size": [8, 16, 32],
        "epochs": EPOCHS,
        "layers": kl.Branch({1: {}, 2: {"units2": kl.Int(4, 32, log=True), "dropout2": kl.Real(0.0, 0.4)}}),
    }
    strategy = "tpe" if "tpe" in REGISTRY else "auto"
    tpe = kl.Scan(
        x_dev,
        y_dev,
        params=tpe_space,
        model=lstm_model,
        experiment_name="sunspots_tpe",
        val_split=0.25,
        shuffle=False,
        metric="val_loss",
        strategy=strategy,
        n_trials=tpe_trials,
        storage=storage,
        seed=0,
        stop=[kl.keras.Patience("val_loss", patience=6)],
    )

    for scan in (grid, tpe):
        df = scan.data
        df = df[df["state"] == "COMPLETE"].copy()
        # the walkthrough's overfitting check: training loss well below validation loss at the chosen epoch
        df["gap"] = df["val_loss"] - df["loss"]
        print(f"\n{scan.experiment.name} ({scan.experiment.strategy.name}): {len(df)} trials")
        cols = ["number", "layers", "units", "units2", "val_loss", "loss", "gap", "best_epoch", "duration"]
        print(
            df[[c for c in cols if c in df.columns]]
            .sort_values("val_loss")
            .to_string(index=False, float_format=lambda v: f"{v:.4g}")
        )
        model = scan.best_model()
        mse = float(np.mean((model.predict(x_test, verbose=0)[:, 0] - y_test) ** 2))
        print(
            f"best {scan.best_params}\n  validation mse {scan.best.value:.4f}; test-period mse {mse:.4f} "
            f"(the last {len(y_test)} years, never seen by the search)"
        )


if __name__ == "__main__":
    main()
