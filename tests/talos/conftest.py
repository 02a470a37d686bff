"""Talos tests run in a folder of their own: Talos code writes its experiment folders (and knoblab its ./knoblab.db)
into the working directory, as a user's script would."""

import gc

import numpy as np
import pytest

keras = pytest.importorskip("keras")
import knoblab.talos  # noqa: E402, F401 - imported once, before the freeze below

# Each trial ends with knoblab.keras.hygiene.clean_up, whose full collections walk every object Keras and torch
# loaded (half a million: about a second each on a busy 2-core machine). Those objects live as long as the process,
# so moving them out of the collector's sight changes no result and saves that second per trial.
gc.freeze()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def small_iris():
    """50 rows of iris (one-hot y) from the Talos template, shuffled so every class is there."""
    import knoblab.talos as talos

    x, y = talos.templates.datasets.iris()
    return x[:60].astype("float32"), y[:60]


def iris_model(x_train, y_train, x_val, y_val, params):
    """A Talos model function on Keras 3, reading its knobs from params."""
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(params.get("first_neuron", 8), activation=params.get("activation", "relu")),
            keras.layers.Dense(y_train.shape[1], activation="softmax"),
        ]
    )
    model.compile(optimizer=params.get("optimizer", "adam"), loss="categorical_crossentropy", metrics=["acc"])
    out = model.fit(
        x_train,
        y_train,
        batch_size=params.get("batch_size", 16),
        epochs=params.get("epochs", 2),
        validation_data=[x_val, y_val],
        verbose=0,
    )
    return out, model


@pytest.fixture
def rng():
    return np.random.default_rng(0)
