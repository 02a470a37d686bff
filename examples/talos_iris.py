"""A Talos 1.x script, as walkthrough 000 writes one, on knoblab: only the import line differs from Talos.

Keras objects as knob values, Talos ranges, a fraction of the grid, correlation-based narrowing while it runs,
then Talos' Analyze, Evaluate, Deploy and Restore, and knoblab's own analysis of the same stored trials. Run it
twice: the second run finds every round in ./knoblab.db and trains nothing again.

    python examples/talos_iris.py
"""

from __future__ import annotations

import os

from keras.activations import elu, relu, softmax
from keras.layers import Dense, Dropout, Input
from keras.models import Sequential
from keras.optimizers import Adagrad, Adam

import knoblab.talos as talos
from knoblab.talos.utils import lr_normalizer

EPOCHS = int(os.environ.get("KNOBLAB_EXAMPLE_EPOCHS", "30"))


def iris_model(x_train, y_train, x_val, y_val, params):
    """Talos' model function: knobs read from params, (history, model) returned."""
    model = Sequential()
    model.add(Input((x_train.shape[1],)))
    model.add(Dense(params["first_neuron"], activation=params["activation"]))
    model.add(Dropout(params["dropout"]))
    model.add(Dense(y_train.shape[1], activation=params["last_activation"]))
    model.compile(
        optimizer=params["optimizer"](learning_rate=lr_normalizer(params["lr"], params["optimizer"])),
        loss="categorical_crossentropy",
        metrics=["acc", talos.utils.metrics.f1score],
    )
    out = model.fit(
        x_train,
        y_train,
        batch_size=params["batch_size"],
        epochs=params["epochs"],
        verbose=0,
        validation_data=[x_val, y_val],
    )
    return out, model


def main(epochs: int = EPOCHS, fraction_limit: float = 0.005, deploy: str | None = "iris_deploy"):
    x, y = talos.templates.datasets.iris()
    x, x_test, y, y_test = x[:120], x[120:], y[:120], y[120:]  # the last 30 rows: never seen by the scan

    p = {
        "lr": (0.5, 5, 10),  # Talos' range: 0.5, 0.95, ..., 4.55 (the end left out)
        "first_neuron": [8, 16, 32, 64],
        "batch_size": (2, 30, 10),  # integer ends: 2, 4, 7, 10, 13, 16, 18, 21, 24, 27
        "epochs": [epochs],
        "dropout": (0, 0.5, 5),
        "optimizer": [Adam, Adagrad],  # classes: the model function calls them
        "activation": [relu, elu],  # functions
        "last_activation": [softmax],
    }

    scan = talos.Scan(
        x,
        y,
        params=p,
        model=iris_model,
        experiment_name="iris",
        fraction_limit=fraction_limit,
        reduction_method="correlation",
        reduction_interval=8,
        reduction_window=8,
        reduction_metric="val_acc",
        seed=0,
        disable_progress_bar=True,
    )

    analyze = talos.Analyze(scan)
    print(
        f"{analyze.rounds()} rounds; best val_acc {analyze.high('val_acc'):.3f} (round {analyze.rounds2high('val_acc')})"
    )
    print(analyze.table("val_acc", ["start", "end", "loss", "acc", "f1score", "val_f1score"]).head())
    for r in scan.experiment.rounds[1:]:
        print(f"round {r['round']}: {r['reason']}")

    scores = talos.Evaluate(scan).evaluate(x_test, y_test, task="multi_label", metric="val_acc", folds=3)
    print(f"held-out F1 of the best round, 3 folds of the 30 unseen rows: {sum(scores) / len(scores):.3f}")

    if deploy and not os.path.exists(f"{deploy}.zip"):
        talos.Deploy(scan, deploy, "val_acc")
    if deploy:
        restored = talos.Restore(f"{deploy}.zip")
        print(f"restored from {deploy}.zip: {restored.model.predict(x_test, verbose=0).argmax(1)[:10]}")

    print(scan.analyze().summary())  # knoblab's analysis of the same trials
    return scan


if __name__ == "__main__":
    main()
