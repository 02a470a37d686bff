"""Walkthrough 004: a Keras classifier wrapped by scikeras, searched by scikit-learn's GridSearchCV, then by
RandomizedSearchCV with scipy.stats distributions, printed as the walkthrough prints them; only the import of the
search classes changed (knoblab.sklearn instead of sklearn.model_selection).

Both searches are named, so they are stored in ./knoblab.db as they run: rerun the script and they continue,
`knoblab show breast_cancer_grid` shows them. The random search stops a candidate after a fold that makes it
hopeless (pruning=True). The data is scikit-learn's breast cancer set.

    python examples/keras_sklearn_search.py
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from scikeras.wrappers import KerasClassifier  # noqa: E402
from scipy.stats import randint, uniform  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from knoblab.sklearn import GridSearchCV, RandomizedSearchCV  # noqa: E402

EPOCHS = int(os.environ.get("KNOBLAB_EXAMPLE_EPOCHS", 10))


def load_dataset():
    x, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(x).astype("float32"), y


def create_model(units=16, activation="relu", dropout=0.0):
    """Create model for KerasClassifier: the knobs are its arguments, as in the walkthrough."""
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(units, activation=activation),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def show(result) -> None:
    print("Best: %f using %s" % (result.best_score_, result.best_params_))  # noqa: UP031 - as the walkthrough
    means = result.cv_results_["mean_test_score"]
    stds = result.cv_results_["std_test_score"]
    params = result.cv_results_["params"]
    for mean, stdev, param in zip(means, stds, params):
        print("%f (%f) with: %r" % (mean, stdev, param))  # noqa: UP031


def main(storage: str | None = "sqlite:///knoblab.db", n_iter: int = 8):
    x, y = load_dataset()
    model = KerasClassifier(
        model=create_model, units=16, activation="relu", dropout=0.0, epochs=EPOCHS, batch_size=32, verbose=0
    )

    # GridSearch in action
    param_grid = dict(units=[8, 32], activation=["relu", "tanh"])
    grid = GridSearchCV(estimator=model, param_grid=param_grid, cv=3, name="breast_cancer_grid", storage=storage)
    grid_result = grid.fit(x, y)
    show(grid_result)

    # Search in action!
    param_dist = dict(units=randint(4, 64), activation=["relu", "tanh"], dropout=uniform(0, 0.5))
    random_search = RandomizedSearchCV(
        estimator=model, param_distributions=param_dist, n_iter=n_iter, cv=3, random_state=0, pruning=True,
        name="breast_cancer_random", storage=storage,
    )  # fmt: skip
    random_search.fit(x, y)
    show(random_search)
    return grid_result, random_search


if __name__ == "__main__":
    main()
