"""The tasks: data made locally (scikit-learn's bundled digits, make_classification), one model function each.

Both are multilayer perceptrons: on this project's 2 shared cores a small CNN on the digits cost 0.3-0.7 s an
epoch under Keras' torch backend (an MLP 0.08 s), which put the 5-seed comparison at many hours. A smaller CNN,
`digits-cnn` (one 3x3 convolution of units // 4 filters), runs only when named (`EXTRA_TASKS`).

Every tool trains the very same `build(task, params)` model; what differs is only how each tool writes the search
space (`spaces.py`) and drives the search (`tools.py`). The test split is cut once per task and never shown to a
tool: it scores only the configuration a tool selects, retrained once with the same seed for every tool.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

# epochs of a full trial: 1, 3, 9, 27 are the rungs of eta=3 (the smoke test sets a smaller one)
MAX_EPOCHS = int(os.environ.get("BENCH_KERAS_MAX_EPOCHS", "27"))
BATCH_SIZE = 128
VAL_BATCH_SIZE = 1024  # the validation split in one batch: an epoch costs its training steps, not 12 more


@dataclass
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int


def _split(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    x_dev, x_test, y_dev, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    x_train, x_val, y_train, y_val = train_test_split(x_dev, y_dev, test_size=0.3, random_state=1, stratify=y_dev)
    return x_train, y_train, x_val, y_val, x_test, y_test


def digits() -> Split:
    """scikit-learn's 8x8 digits (shipped with the package), 64 pixels in [0, 1]: 880 train, 378 val, 540 test."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return Split(*_split(x, y.astype("int64")), n_classes=10)


def tabular() -> Split:
    """A make_classification problem: 20 features (8 informative, 4 redundant), 3 classes, 3% flipped labels."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=2000,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        n_classes=3,
        n_clusters_per_class=2,
        flip_y=0.03,
        class_sep=0.8,
        random_state=0,
    )
    x_train, y_train, x_val, y_val, x_test, y_test = _split(x.astype("float32"), y.astype("int64"))
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6  # standardized with the training rows' statistics only
    x_train, x_val, x_test = ((a - mean) / std for a in (x_train, x_val, x_test))
    return Split(x_train, y_train, x_val, y_val, x_test, y_test, n_classes=3)


def digits_image() -> Split:
    """The same digits and split as `digits`, as 8x8 images with one channel (for the CNN)."""
    split = digits()
    for name in ("x_train", "x_val", "x_test"):
        setattr(split, name, getattr(split, name).reshape(-1, 8, 8, 1))
    return split


TASKS = {"digits-mlp": digits, "tabular-mlp": tabular}
# run only when named (`run --tasks digits-cnn`): the commands and tables of the two-task comparison stay as they were
EXTRA_TASKS = {"digits-cnn": digits_image}
ALL_TASKS = {**TASKS, **EXTRA_TASKS}


def build(task: str, params: dict[str, Any], n_classes: int, input_shape: tuple[int, ...], seed: int):
    """The task's Keras model for one configuration, compiled; initial weights drawn from `seed`."""
    import keras

    keras.utils.set_random_seed(int(seed))
    layers: list = [keras.Input(input_shape)]
    if task == "digits-cnn":  # a 3x3 convolution (units // 4 filters), 2x2 max pooling, a dense layer; L2 on both
        penalty = keras.regularizers.L2(float(params["l2"]))
        layers += [
            keras.layers.Conv2D(
                max(int(params["units"]) // 4, 2), 3, padding="same", activation="relu", kernel_regularizer=penalty
            ),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(int(params["units"]), activation="relu", kernel_regularizer=penalty),
            keras.layers.Dropout(float(params["dropout"])),
        ]
    elif task == "digits-mlp":  # one hidden layer with an L2 penalty on its weights
        layers += [
            keras.layers.Dense(
                int(params["units"]), activation="relu", kernel_regularizer=keras.regularizers.L2(float(params["l2"]))
            ),
            keras.layers.Dropout(float(params["dropout"])),
        ]
    else:
        for _ in range(int(params["layers"])):
            layers += [
                keras.layers.Dense(int(params["units"]), activation="relu"),
                keras.layers.Dropout(float(params["dropout"])),
            ]
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(float(params["lr"])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit_args(split: Split, epochs: int) -> dict[str, Any]:
    """How every model here is trained, in the searches and in the retraining of their picks (`fit`; Keras
    Tuner's `search` takes the same arguments): the training split, validation on the validation split, the same
    batch sizes, silent."""
    return {
        "x": split.x_train,
        "y": split.y_train,
        "validation_data": (split.x_val, split.y_val),
        "epochs": epochs,
        "batch_size": BATCH_SIZE,
        "validation_batch_size": VAL_BATCH_SIZE,
        "verbose": 0,
    }


def fit(model, split: Split, epochs: int, callbacks: list, **kwargs):
    """`model.fit` with `fit_args`."""
    return model.fit(**fit_args(split, epochs), callbacks=callbacks, **kwargs)
