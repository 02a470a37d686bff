"""The benchmark problems: Bayesmark-style scikit-learn tuning (a) and synthetic functions (b).

(a) Models and spaces follow Bayesmark's (scikit-learn's shipped datasets, 5-fold cross-validated loss),
made cheap for a 2-core machine: datasets subsampled to at most 150 rows, small ensembles (5 trees, at most 30
boosting rounds) and 15 MLP epochs,
n_jobs=1. Evaluations are deterministic (fixed folds and random_state), so they are cached by params.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from .optimizers import Param

MAX_ROWS = 150


@dataclass
class Problem:
    name: str
    space: list[Param]
    fn: Callable[[dict[str, Any]], float]
    optimum: float | None = None  # known minimum (synthetic functions)
    cache: dict = field(default_factory=dict)

    def __call__(self, params: dict[str, Any]) -> float:
        key = tuple(sorted(params.items()))
        if key not in self.cache:
            self.cache[key] = float(self.fn(params))
        return self.cache[key]


# ---- (a) scikit-learn models on scikit-learn's datasets ----
@cache
def _data(name: str):
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    loader = {
        "breast": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
    }[name]
    X, y = loader(return_X_y=True)
    rng = np.random.default_rng(0)
    if len(X) > MAX_ROWS:
        idx = rng.permutation(len(X))[:MAX_ROWS]
        X, y = X[idx], y[idx]
    X = StandardScaler().fit_transform(X)
    if name == "diabetes":
        y = (y - y.mean()) / y.std()
    return X, y


def _model(model: str, params: dict[str, Any], regression: bool):
    from sklearn import ensemble, linear_model, neighbors, neural_network, svm, tree

    p = dict(params)
    if model == "DT":
        cls = tree.DecisionTreeRegressor if regression else tree.DecisionTreeClassifier
        return cls(random_state=0, **p)
    if model == "RF":
        cls = ensemble.RandomForestRegressor if regression else ensemble.RandomForestClassifier
        return cls(n_estimators=5, random_state=0, n_jobs=1, **p)
    if model == "kNN":
        cls = neighbors.KNeighborsRegressor if regression else neighbors.KNeighborsClassifier
        return cls(**p)
    if model == "SVM":
        cls = svm.SVR if regression else svm.SVC
        return cls(**p)
    if model == "ada":
        cls = ensemble.AdaBoostRegressor if regression else ensemble.AdaBoostClassifier
        return cls(random_state=0, **p)
    if model == "MLP-adam":
        cls = neural_network.MLPRegressor if regression else neural_network.MLPClassifier
        return cls(solver="adam", max_iter=15, random_state=0, **p)
    if model == "lasso":
        return linear_model.Lasso(random_state=0, **p)
    raise ValueError(model)


SPACES = {  # Bayesmark's spaces (sklearn_funcs.py), a few trimmed for cost
    "DT": [
        Param("max_depth", "int", 1, 15),
        Param("min_samples_split", "real", 0.01, 0.99, log=True),
        Param("min_samples_leaf", "real", 0.01, 0.49, log=True),
        Param("min_weight_fraction_leaf", "real", 0.01, 0.49, log=True),
        Param("max_features", "real", 0.01, 0.99, log=True),
        Param("min_impurity_decrease", "real", 0.0, 0.5),
    ],
    "RF": [
        Param("max_depth", "int", 1, 15),
        Param("max_features", "real", 0.01, 0.99, log=True),
        Param("min_samples_split", "real", 0.01, 0.99, log=True),
        Param("min_samples_leaf", "real", 0.01, 0.49, log=True),
        Param("min_weight_fraction_leaf", "real", 0.01, 0.49, log=True),
        Param("min_impurity_decrease", "real", 0.0, 0.5),
    ],
    "kNN": [Param("n_neighbors", "int", 1, 25), Param("p", "int", 1, 4)],
    "SVM": [
        Param("C", "real", 1.0, 1e3, log=True),
        Param("gamma", "real", 1e-4, 1e-1, log=True),
        Param("tol", "real", 1e-5, 1e-1, log=True),
    ],
    "ada": [Param("n_estimators", "int", 5, 30), Param("learning_rate", "real", 1e-4, 1e1, log=True)],
    "MLP-adam": [
        Param("hidden_layer_sizes", "int", 10, 100),
        Param("alpha", "real", 1e-5, 1e1, log=True),
        Param("batch_size", "int", 10, 128),
        Param("learning_rate_init", "real", 1e-5, 1e-1, log=True),
        Param("tol", "real", 1e-5, 1e-1, log=True),
        Param("beta_1", "real", 0.5, 0.99),
        Param("beta_2", "real", 0.9, 0.999999),
    ],
    "lasso": [Param("alpha", "real", 1e-5, 1e2, log=True), Param("tol", "real", 1e-5, 1e-1, log=True)],
}

# (model, dataset): at least 10 problems over the 7 models and 5 datasets
SKLEARN_PROBLEMS = [
    ("DT", "breast"),
    ("DT", "wine"),
    ("RF", "iris"),
    ("kNN", "digits"),
    ("SVM", "breast"),
    ("SVM", "wine"),
    ("ada", "breast"),
    ("MLP-adam", "iris"),
    ("lasso", "diabetes"),
    ("DT", "diabetes"),
]


def sklearn_problem(model: str, dataset: str) -> Problem:
    from sklearn.model_selection import KFold, StratifiedKFold

    regression = dataset == "diabetes"
    X, y = _data(dataset)
    folds = KFold(5, shuffle=True, random_state=0) if regression else StratifiedKFold(5, shuffle=True, random_state=0)
    splits = list(folds.split(X, y))  # fixed folds; a plain loop costs far less than cross_val_score's machinery

    def fn(params: dict[str, Any]) -> float:
        p = dict(params)
        if model == "MLP-adam":
            p["hidden_layer_sizes"] = (int(p["hidden_layer_sizes"]),)
        losses = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for train, test in splits:
                try:
                    est = _model(model, p, regression).fit(X[train], y[train])
                    pred = est.predict(X[test])
                except ValueError:
                    return 10.0 if regression else 1.0
                err = np.mean((pred - y[test]) ** 2) if regression else np.mean(pred != y[test])
                losses.append(float(err))
        loss = float(np.mean(losses))
        return loss if math.isfinite(loss) else 10.0

    return Problem(f"{model}-{dataset}", SPACES[model], fn)


# ---- (b) synthetic functions ----
def _unit(params: dict[str, Any], d: int) -> np.ndarray:
    return np.array([params[f"x{i}"] for i in range(d)], dtype=float)


def branin(p):
    x1, x2 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


_H6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p):
    x = _unit(p, 6)
    return -float(np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def ackley(d):
    def fn(p):
        x = _unit(p, d)
        return float(
            -20 * np.exp(-0.2 * np.sqrt(np.mean(x * x))) - np.exp(np.mean(np.cos(2 * np.pi * x))) + 20 + math.e
        )

    return fn


def rosenbrock(d):
    def fn(p):
        x = _unit(p, d)
        return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))

    return fn


def _box(d, low, high):
    return [Param(f"x{i}", "real", low, high) for i in range(d)]


def synthetic_problems(with_bbob: bool = True) -> list[Problem]:
    out = [
        Problem("branin-2", [Param("x0", "real", -5, 10), Param("x1", "real", 0, 15)], branin, 0.397887),
        Problem("hartmann-6", _box(6, 0, 1), hartmann6, -3.32237),
        Problem("ackley-10", _box(10, -32.768, 32.768), ackley(10), 0.0),
        Problem("rosenbrock-10", _box(10, -5, 10), rosenbrock(10), 0.0),
    ]
    if with_bbob:
        out += bbob_problems()
    return out


def bbob_problems(ids=(("f10", 10, 5), ("f21", 21, 5))) -> list[Problem]:
    """Two bbob functions from coco, instance 1: the ill-conditioned ellipsoid (f10) and Gallagher's 101 peaks (f21)."""
    try:
        import cocoex
    except ImportError:
        return []
    out = []
    suite = cocoex.Suite("bbob", "", "")
    for label, fid, d in ids:
        f = suite.get_problem_by_function_dimension_instance(fid, d, 1)
        opt = float(f.best_value()) if hasattr(f, "best_value") else None

        def fn(p, f=f, d=d):
            return float(f(_unit(p, d)))

        out.append(Problem(f"bbob-{label}-{d}d", _box(d, -5, 5), fn, opt))
    return out
