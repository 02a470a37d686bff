"""Walkthrough 000, scaled to a few minutes on 2 cores: a Talos-style scan of a breast-cancer MLP.

The model function is written exactly as for Talos (it returns `history, model`). A test split is set aside
first and the scan never sees it: the accuracy printed at the end is on data no decision was made on.

    python examples/breast_cancer.py            # results in ./knoblab.db, models in ./knoblab_artifacts/
    knoblab show breast_cancer                  # the best trials, from the shell
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import knoblab as kl  # noqa: E402

# the knobs of walkthrough 000 (Talos' dict), with Keras 3 names; 3*5*3*3*5*3*2*2*2 = 32,400 permutations
params = {
    "lr": (0.001, 0.01, 3),  # Talos tuple: 3 evenly spaced values, both ends included
    "first_neuron": [4, 8, 16, 32, 64],
    "hidden_layers": [0, 1, 2],
    "batch_size": [16, 32, 64],
    "dropout": (0.0, 0.4, 5),
    "optimizer": ["adam", "nadam", "rmsprop"],
    "loss": ["binary_crossentropy", "log_cosh"],
    "activation": ["relu", "elu"],
    "kernel_initializer": ["glorot_uniform", "he_normal"],
    "epochs": 40,
}


def breast_cancer_model(x_train, y_train, x_val, y_val, params):
    """A Talos model function, unchanged: build, compile, fit, return (history, model)."""
    model = keras.Sequential([keras.Input((x_train.shape[1],))])
    model.add(
        keras.layers.Dense(
            params["first_neuron"], activation=params["activation"], kernel_initializer=params["kernel_initializer"]
        )
    )
    model.add(keras.layers.Dropout(params["dropout"]))
    for _ in range(params["hidden_layers"]):
        model.add(
            keras.layers.Dense(
                params["first_neuron"], activation=params["activation"], kernel_initializer=params["kernel_initializer"]
            )
        )
        model.add(keras.layers.Dropout(params["dropout"]))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    optimizer = {"adam": keras.optimizers.Adam, "nadam": keras.optimizers.Nadam, "rmsprop": keras.optimizers.RMSprop}[
        params["optimizer"]
    ](learning_rate=params["lr"])
    model.compile(
        optimizer=optimizer,
        loss=params["loss"],
        metrics=["accuracy", kl.keras.F1Score(), kl.keras.MatthewsCorrelation()],
    )
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        batch_size=params["batch_size"],
        epochs=params["epochs"],
        verbose=0,
    )
    return history, model


def main(
    epoch_budget: int = 600,
    storage: str | None = None,
    experiment_name: str = "breast_cancer",
    seed: int = 0,
    select: str = "cv",
) -> kl.Scan:
    x, y = load_breast_cancer(return_X_y=True)
    # the test set is split off first and never shown to the scan
    x_dev, x_test, y_dev, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_dev)  # fitted on the development data only
    x_dev, x_test = scaler.transform(x_dev).astype("float32"), scaler.transform(x_test).astype("float32")
    y_dev, y_test = y_dev.astype("float32"), y_test.astype("float32")

    # 600 epochs in all (15 full trials' worth): Scan's default schedule is then Hyperband in promotion mode, so
    # most configurations train a few epochs and only the promising ones go on, from their saved weights; the best
    # is chosen among those that trained all 40 epochs, by their 3-epoch mean val_accuracy (ties: val_loss), and
    # select="cv" retrains the top 5 with 5-fold cross-validation on the development data to pick the winner
    # (CV means within one standard error are a tie, which the CV val_loss breaks)
    scan = kl.Scan(
        x_dev,
        y_dev,
        params=params,
        model=breast_cancer_model,
        experiment_name=experiment_name,
        val_split=0.3,
        epoch_budget=epoch_budget,
        metric="val_accuracy",
        direction="max",
        stop=[kl.keras.Patience("val_loss", patience=8, min_delta=1e-4), kl.keras.StopOnNaN()],
        select=select,
        storage=storage,
        seed=seed,
    )

    print(f"\n{len(scan.data)} trials, {scan.experiment.resource_spent} epochs, in {scan.experiment.storage!r}")
    print("how the best was chosen:", scan.selection)
    print("best params:", scan.best_params)
    # the final model: the top 5 in the selection order, each retrained on all 455 development rows (the search
    # trained on 70% of them), their predictions averaged; one network alone carries the luck of its seed and
    # split (bench/README.md, "Selecting the best trial": what each final model scores on this test split)
    model = scan.ensemble(5)
    print(f"final model: the mean of trials {model.numbers} retrained on all {len(y_dev)} development rows")
    # the first and only look at the test set: nothing was decided on it
    probabilities = model.predict(x_test, verbose=0)
    print(
        f"held-out test set ({len(y_test)} rows the scan never saw): "
        f"accuracy = {kl.metrics.accuracy(y_test, probabilities):.4f}, "
        f"F1 = {kl.metrics.f1_score(y_test, probabilities):.4f}, "
        f"MCC = {kl.metrics.matthews_corrcoef(y_test, probabilities):.4f}"
    )
    baseline = LogisticRegression(max_iter=1000).fit(x_dev, y_dev)
    print(
        f"baseline, an untuned scikit-learn LogisticRegression on the same split: "
        f"accuracy = {baseline.score(x_test, y_test):.4f}"
    )
    print(f"look closer: knoblab show {experiment_name}   |   knoblab export {experiment_name} --format csv")
    return scan


if __name__ == "__main__":
    main()
