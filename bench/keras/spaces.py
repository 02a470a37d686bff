"""One search space per task, written in each tool's own idiom (the same ranges and scales everywhere).

    lr        log-uniform 1e-4 .. 1e-1 (Adam)
    units     integer, log scale, 8 .. 256
    dropout   uniform 0 .. 0.6
    l2        log-uniform 1e-6 .. 1e-2           (digits-mlp, digits-cnn)
    layers    1, 2 or 3 dense layers             (tabular-mlp)

Talos has no ranges or log scales: its idiom is lists of values, spaced as the other tools sample them.
"""

from __future__ import annotations

from typing import Any

from .tasks import BATCH_SIZE, MAX_EPOCHS

KNOBS = {
    "digits-mlp": ("lr", "units", "dropout", "l2"),
    "digits-cnn": ("lr", "units", "dropout", "l2"),
    "tabular-mlp": ("lr", "units", "dropout", "layers"),
}


def knoblab(task: str) -> dict[str, Any]:
    import knoblab as kl

    space: dict[str, Any] = {
        "lr": kl.Real(1e-4, 1e-1, log=True),
        "units": kl.Int(8, 256, log=True),
        "dropout": kl.Real(0.0, 0.6),
    }
    if "l2" in KNOBS[task]:
        space["l2"] = kl.Real(1e-6, 1e-2, log=True)
    else:
        space["layers"] = kl.Int(1, 3)
    return {**space, "epochs": MAX_EPOCHS, "batch_size": BATCH_SIZE}


def keras_tuner(task: str, hp) -> dict[str, Any]:
    """Declares the knobs on a keras_tuner HyperParameters object and returns their values."""
    params = {
        "lr": hp.Float("lr", 1e-4, 1e-1, sampling="log"),
        "units": hp.Int("units", 8, 256, sampling="log"),
        "dropout": hp.Float("dropout", 0.0, 0.6),
    }
    if "l2" in KNOBS[task]:
        params["l2"] = hp.Float("l2", 1e-6, 1e-2, sampling="log")
    else:
        params["layers"] = hp.Int("layers", 1, 3)
    return params


def optuna(task: str, trial) -> dict[str, Any]:
    params = {
        "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
        "units": trial.suggest_int("units", 8, 256, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.6),
    }
    if "l2" in KNOBS[task]:
        params["l2"] = trial.suggest_float("l2", 1e-6, 1e-2, log=True)
    else:
        params["layers"] = trial.suggest_int("layers", 1, 3)
    return params


def talos(task: str) -> dict[str, list]:
    space: dict[str, list] = {
        "lr": [1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1],
        "units": [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256],
        "dropout": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    }
    if "l2" in KNOBS[task]:
        space["l2"] = [1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
    else:
        space["layers"] = [1, 2, 3]
    return {**space, "epochs": [MAX_EPOCHS], "batch_size": [BATCH_SIZE]}
