"""A Keras MLP on scikit-learn's digits (shipped with the package: no download), epochs as the budget (27 at most).

    python -m bench.multifidelity.keras_mlp [--seeds 3] [--out bench/multifidelity/results/keras.jsonl]

Every method trains the same model function epoch by epoch; a trial's value is its best validation loss.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np

import knoblab as kl

from .common import append, methods, timed

MAX_EPOCHS = 27
KERAS_METHODS = (
    "random (full budget)",
    "knoblab ASHA",
    "knoblab Hyperband",
    "optuna SuccessiveHalvingPruner",
    "optuna HyperbandPruner",
)


def data():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)


KNOBS = {
    "lr": kl.Real(1e-4, 3e-1, log=True),
    "units": kl.Int(4, 256, log=True),
    "dropout": kl.Real(0.0, 0.6),
    "batch_size": [64, 128],
}


def build_model(params):
    """The MLP on digits for one configuration, from the same initial weights whatever the configuration."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(int(params["units"]), activation="relu"),
            keras.layers.Dropout(float(params["dropout"])),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(float(params["lr"]), momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    return model


def problem():

    from knoblab.keras import hygiene

    hygiene.limit_threads(1)
    x_train, x_val, y_train, y_val = data()
    space = {**KNOBS, "epochs": MAX_EPOCHS}

    def train(params, start):
        model = build_model(params)
        for epoch in range(start, MAX_EPOCHS):
            h = model.fit(
                x_train,
                y_train,
                batch_size=int(params["batch_size"]),
                epochs=epoch + 1,
                initial_epoch=epoch,
                validation_data=(x_val, y_val),
                verbose=0,
            )
            v = float(h.history["val_loss"][-1])
            yield v if np.isfinite(v) else 1e3

    def suggest(trial):
        return {
            "lr": trial.suggest_float("lr", 1e-4, 3e-1, log=True),
            "units": trial.suggest_int("units", 4, 256, log=True),
            "dropout": trial.suggest_float("dropout", 0.0, 0.6),
            "batch_size": trial.suggest_categorical("batch_size", [64, 128]),
        }

    return {
        "space": space,
        "train": train,
        "suggest": suggest,
        "direction": "min",
        "final": "best",
        "source": "sklearn digits",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=400, help="epochs per pruned run (random gets 3x)")
    ap.add_argument("--out", default="bench/multifidelity/results/keras.jsonl")
    args = ap.parse_args()
    p = problem()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for method, run in methods(MAX_EPOCHS, KERAS_METHODS).items():
            budget = args.budget * 3 if method.startswith("random") else args.budget
            ledger, seconds = timed(run, p, seed, budget)
            append(
                Path(args.out),
                {
                    "problem": "keras-digits-mlp",
                    "source": p["source"],
                    "method": method,
                    "seed": seed,
                    "epochs": ledger.epochs,
                    "trials": ledger.trials,
                    "trajectory": ledger.trajectory,
                    "seconds": round(seconds, 2),
                },
            )
            print(seed, method, ledger.epochs, ledger.trials, round(ledger.best, 4), f"{seconds:.1f}s", flush=True)


if __name__ == "__main__":
    main()
