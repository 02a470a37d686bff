"""Keras objects as knob values (walkthrough 000 puts optimizers, losses and activations in the params dict): they
are stored by Keras' public name or config, shown by name and handed to the model function as the objects."""

import json
import sqlite3

import pytest

import knoblab as kl

from .conftest import keras

Adam, Nadam = keras.optimizers.Adam, keras.optimizers.Nadam
relu, elu = keras.activations.relu, keras.activations.elu
binary_crossentropy = keras.losses.binary_crossentropy


def object_model(x_train, y_train, x_val, y_val, params):
    """Walkthrough 000's model function: the optimizer is a class (or an instance), the activation and the loss
    are functions, as Talos users pass them."""
    optimizer = params["optimizer"]
    if isinstance(optimizer, type):
        optimizer = optimizer(learning_rate=0.05)
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(4, activation=params["activation"]),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=optimizer, loss=params["losses"], metrics=["accuracy"])
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=3, batch_size=16, verbose=0)
    return history, model


def test_keras_objects_as_knob_values_train_and_are_stored_by_name(tiny_data, tmp_path, sqlite_url):
    x, y = tiny_data
    params = {
        "activation": [relu, elu],
        "optimizer": [Adam, Nadam, Adam(learning_rate=0.01)],
        "losses": [binary_crossentropy, keras.losses.BinaryCrossentropy(label_smoothing=0.1)],
    }
    scan = kl.Scan(
        x,
        y,
        params=params,
        model=object_model,
        experiment_name="objects",
        storage=sqlite_url,
        strategy="grid",
        seed=0,
        metric="val_accuracy",
        artifacts_dir=tmp_path / "models",
        keep_models=0,
    )
    data = scan.data
    assert len(data) == 12 and (data["state"] == "COMPLETE").all()
    assert set(data["activation"]) == {"relu", "elu"}
    assert set(data["optimizer"]) == {"Adam", "Nadam", "Adam(learning_rate=0.01)"}
    assert set(data["losses"]) == {"binary_crossentropy", "BinaryCrossentropy(label_smoothing=0.1)"}
    best = scan.best_params
    assert best["activation"] in (relu, elu)
    with sqlite3.connect(tmp_path / "knoblab.db") as conn:
        stored = [json.loads(r[0]) for r in conn.execute("SELECT params FROM trials")]
    assert {"$ref": "keras.activations:relu"} in [p["activation"] for p in stored]
    instance = next(p["optimizer"] for p in stored if "$keras" in p["optimizer"])
    assert instance["$keras"] == "keras.optimizers:Adam" and instance["config"]["learning_rate"] == pytest.approx(0.01)
    # each trial got a fresh instance: no optimizer state shared between models
    again = kl.Experiment.load("objects", storage=sqlite_url)
    a, b = [t.params["optimizer"] for t in again.trials if not isinstance(t.params["optimizer"], type)][:2]
    assert a is not b and isinstance(a, Adam)


def test_a_lambda_as_a_loss_is_one_line_naming_the_knob(tiny_data, sqlite_url):
    x, y = tiny_data
    with pytest.raises(ValueError) as e:
        kl.Scan(
            x,
            y,
            params={"losses": [lambda a, b: a - b, "mse"]},
            model=object_model,
            experiment_name="lambdas",
            storage=sqlite_url,
            run=False,
        )
    text = str(e.value)
    assert "\n" not in text and text.startswith("knob 'losses'") and "lambda" in text
