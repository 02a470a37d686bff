"""A CPU-bound Keras trial for the speed-up benchmark: an MLP on generated data, a few seconds of training.

Keras and the data load when a worker imports this module (while it starts), not inside a timed trial.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

_rng = np.random.default_rng(0)
X = _rng.normal(size=(4096, 32)).astype("float32")
Y = (np.sin(X[:, :8].sum(axis=1)) > 0).astype("float32")


def objective(trial):
    keras.utils.set_random_seed(trial.number)
    units = trial.params["units"]
    model = keras.Sequential(
        [
            keras.Input((32,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(trial.params["lr"]), loss="binary_crossentropy")
    history = model.fit(X[:3072], Y[:3072], validation_data=(X[3072:], Y[3072:]), epochs=3, batch_size=32, verbose=0)
    return float(min(history.history["val_loss"]))
