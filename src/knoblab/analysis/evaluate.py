"""Honest evaluation: a test score the search never influenced, cross-validation of the best few, and a reusable
holdout for users who must look at one repeatedly.

Walkthrough 000 warns that once we look at validation results and change the space, the validation set is biased
by our choices. The test set is the cure only if it stays out of every decision: give it to `evaluate_best` and
nowhere else (the search never receives it), and read the first score. Each look is recorded with the
experiment (`attrs["test_evaluations"]`, shown in the report) and a second look at the same test set warns.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..storage.sql import now
from ..trial import FrozenTrial

if TYPE_CHECKING:
    from ..experiment import Experiment

__all__ = [
    "evaluate_best",
    "cross_validate_top",
    "Thresholdout",
    "HoldoutBudgetExhausted",
    "default_metrics",
    "fingerprint",
    "overlap",
    "top_trials",
]

MetricFn = Callable[[Any, Any], float]


def top_trials(exp: Experiment, k: int, rounds: Sequence[int] | None = None) -> list[FrozenTrial]:
    """The best k trials (of `rounds`, default all) by the selection rule of `knoblab.selection` (which keeps off
    trials that broke an outcome constraint), best first; with several objectives, the first k of the Pareto front by
    the first objective."""
    from ..selection import ranked

    if not (isinstance(k, int) and k >= 1):
        raise ValueError(f"k: got {k!r}; give an integer >= 1")
    trials = [t for t in exp.storage.get_trials(exp.id) if rounds is None or t.round in rounds]
    if len(getattr(exp, "metrics", ())) > 1:
        from ..objectives import pareto_trials

        sign = 1.0 if exp.direction == "min" else -1.0
        front = pareto_trials(trials, exp.directions)  # every one has its values
        return sorted(front, key=lambda t: (sign * (t.values or [0.0])[0], t.number))[:k]
    return ranked(trials, exp.metric, exp.direction)[:k]


def _objective_values(exp: Experiment, t: FrozenTrial) -> dict[str, Any]:
    """A trial's objectives by name: its value, or with several objectives each of its values."""
    if len(getattr(exp, "metrics", ())) > 1 and t.values:
        return dict(zip(exp.metrics, t.values))
    return {exp.metric: t.value}


def default_metrics(y: Any) -> dict[str, MetricFn]:
    """Binary labels: accuracy, balanced accuracy, F1 and MCC (accuracy alone lies on imbalanced data); anything
    else: mean squared and mean absolute error."""
    from .. import metrics as m

    values = np.unique(np.asarray(y).ravel())
    if len(values) <= 2 and set(values.tolist()) <= {0, 1}:
        return {
            "accuracy": m.accuracy,
            "balanced_accuracy": m.balanced_accuracy,
            "f1": m.f1_score,
            "mcc": m.matthews_corrcoef,
        }

    def mse(t, p):
        return float(np.mean((np.asarray(t, float).ravel() - np.asarray(p, float).ravel()) ** 2))

    def mae(t, p):
        return float(np.mean(np.abs(np.asarray(t, float).ravel() - np.asarray(p, float).ravel())))

    return {"mse": mse, "mae": mae}


def fingerprint(*arrays: Any) -> str:
    """A short hash of data (shape, dtype and bytes), to recognise the same test set on a later look."""
    h = hashlib.sha256()
    for a in arrays:
        x = np.ascontiguousarray(np.asarray(a))
        h.update(str((x.shape, x.dtype.str)).encode())
        h.update(x.tobytes())
    return h.hexdigest()[:16]


def overlap(x_test: Any, *others: Any) -> int:
    """How many rows of x_test also appear (byte for byte) in any of `others`: a leak when > 0."""
    test = np.asarray(x_test)
    if test.ndim == 0 or len(test) == 0:
        return 0
    seen: set[bytes] = set()
    for other in others:
        o = np.ascontiguousarray(np.asarray(other, dtype=test.dtype)).reshape(len(other), -1)
        seen.update(row.tobytes() for row in o)
    rows = np.ascontiguousarray(test).reshape(len(test), -1)
    return sum(row.tobytes() in seen for row in rows)


def _keras_loader(custom_objects: Mapping[str, Any] | None) -> Callable[[FrozenTrial], Any]:
    def load(trial: FrozenTrial) -> Any:
        from pathlib import Path

        path = trial.attrs.get("model_path")
        if not path or not Path(path).exists():
            raise FileNotFoundError(f"trial {trial.number} has no saved model (attrs['model_path'] = {path!r})")
        import keras

        return keras.saving.load_model(path, custom_objects=dict(custom_objects or {}) or None, safe_mode=True)

    return load


def _predict(model: Any, x: Any) -> Any:
    try:
        return model.predict(x, verbose=0)
    except TypeError:  # not a Keras model: no verbose argument
        return model.predict(x)


def evaluate_best(
    exp: Experiment,
    k: int,
    x_test: Any,
    y_test: Any,
    *,
    metrics: Mapping[str, MetricFn] | None = None,
    model_loader: Callable[[FrozenTrial], Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    rounds: Sequence[int] | None = None,
    search_data: Sequence[Any] = (),
) -> pd.DataFrame:
    """Scores the best k trials on a test set the search never saw: one row per trial (number, round, the
    search's metric, then each test metric).

    Args:
        k: how many of the best trials (those without a saved model get an `error` instead of scores).
        x_test, y_test: the test set; keep it out of the search entirely.
        metrics: {name: fn(y_true, y_pred)}; default `default_metrics(y_test)`.
        model_loader: `fn(trial) -> model with .predict`, for objectives that save models their own way;
            default: the trial's saved `.keras` file (Keras safe mode).
        rounds: only trials of these rounds.
        search_data: arrays the search did see (x_train, x_val): a test row found among them warns of a leak.

    Every call is recorded in the experiment's attrs["test_evaluations"]; looking again at the same test set
    warns, since only the first look is an unbiased estimate once later decisions depend on it.
    """
    metrics = dict(metrics or default_metrics(y_test))
    load = model_loader or _keras_loader(custom_objects)
    leaked = overlap(x_test, *search_data) if len(search_data) else 0
    if leaked:
        warnings.warn(
            f"{leaked} rows of the test set also appear in the data the search used: the test score is not honest",
            stacklevel=2,
        )
    rows = []
    for t in top_trials(exp, k, rounds):
        row: dict[str, Any] = {"number": t.number, "round": t.round, **_objective_values(exp, t)}
        try:
            pred = _predict(load(t), x_test)
            for name, fn in metrics.items():
                row[f"test_{name}"] = float(fn(y_test, pred))
        except Exception as e:  # one unloadable model must not hide the others' scores
            row["error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    out = pd.DataFrame(rows)
    _record_look(exp, x_test, y_test, k, out, leaked)
    return out


def _record_look(exp: Experiment, x_test: Any, y_test: Any, k: int, scores: pd.DataFrame, leaked: int) -> None:
    fp = fingerprint(x_test, y_test)
    first = scores.iloc[0].to_dict() if len(scores) else {}
    look = {
        "at": now().isoformat(timespec="seconds"),
        "fingerprint": fp,
        "rows": int(len(np.asarray(y_test))),
        "k": k,
        "best_trial": first.get("number"),
        "scores": {key: v for key, v in first.items() if key.startswith("test_") and v == v},
        "leaked_rows": leaked,
    }
    # appended in one storage transaction: two processes scoring at once both count
    merged = exp.storage.update_experiment_attrs(
        exp.id, lambda attrs: {"test_evaluations": [*attrs.get("test_evaluations", []), look]}
    )
    before = sum(1 for x in merged["test_evaluations"][:-1] if x.get("fingerprint") == fp)
    record = exp.storage.get_experiment(exp.name)
    assert record is not None
    exp.record = record
    if before:
        warnings.warn(
            f"this test set ({fp}) was scored {before} time(s) before: only the first score is an unbiased "
            "estimate once decisions followed it; for repeated looks use knoblab.analysis.Thresholdout",
            stacklevel=3,
        )


def cross_validate_top(
    exp: Experiment,
    k: int,
    x: Any,
    y: Any,
    model_fn: Callable[..., Any],
    *,
    folds: int = 5,
    metric: tuple[str, MetricFn] | None = None,
    seed: int = 0,
    rounds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """K-fold cross-validation of the best k trials' params on the training data, to see whether their lead
    over each other holds beyond the one validation split the search used.

    `model_fn(x_train, y_train, x_val, y_val, params)` fits a fresh model and returns (history, model) as a
    Talos model function does, or just the model; it is scored with `metric` = (name, fn(y_true, y_pred))
    on each held-out fold (default: the first of `default_metrics(y)`). Folds are stratified for labels.
    One row per trial: number, the search's value, mean and std of the folds, and each fold's score."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if not (isinstance(folds, int) and folds >= 2):
        raise ValueError(f"folds: got {folds!r}; give an integer >= 2")
    name, fn = metric or next(iter(default_metrics(y).items()))
    y_arr = np.asarray(y)
    classes = np.unique(y_arr.ravel())
    stratify = y_arr.ndim == 1 and len(classes) <= 20 and np.all(np.mod(classes, 1) == 0)
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.zeros(len(y_arr)), y_arr if stratify else None))
    rows = []
    for t in top_trials(exp, k, rounds):
        scores = []
        for train, val in splits:
            xt, yt, xv, yv = _rows(x, train), y_arr[train], _rows(x, val), y_arr[val]
            out = model_fn(xt, yt, xv, yv, dict(t.params))
            model = out[1] if isinstance(out, tuple | list) and len(out) == 2 else out
            scores.append(float(fn(yv, _predict(model, xv))))
        row = {"number": t.number, **_objective_values(exp, t), f"cv_{name}_mean": float(np.mean(scores))}
        row[f"cv_{name}_std"] = float(np.std(scores, ddof=1))
        row.update({f"fold_{i}": s for i, s in enumerate(scores)})
        rows.append(row)
    return pd.DataFrame(rows)


def _rows(x: Any, index: np.ndarray) -> Any:
    if isinstance(x, pd.DataFrame | pd.Series):
        return x.iloc[index]
    return np.asarray(x)[index]


class HoldoutBudgetExhausted(RuntimeError):
    """Thresholdout's budget of overfitting answers is spent: the holdout can no longer be trusted."""


class Thresholdout:
    """A reusable holdout (Dwork, Feldman, Hardt, Pitassi, Reingold & Roth, Science 349, 2015): ask it about a
    score as often as needed; it answers with the training score while the holdout agrees with it, and with a
    noisy holdout score (spending one unit of budget) when they differ, so repeated looks leak little about the
    holdout.

    Scores are means over rows of a quantity in [0, 1] (accuracy, a loss clipped to [0, 1]). For each query,
    with T the threshold and sigma the noise scale (the paper's Thresholdout): draw eta ~ Laplace(4 sigma); if
    ``|holdout - train| > T_hat + eta``, answer holdout + xi with xi ~ Laplace(sigma), spend one unit of budget and
    redraw T_hat = T + gamma, gamma ~ Laplace(2 sigma); otherwise answer train. T_hat starts at T + gamma.

        holdout = Thresholdout(budget=50)
        score = holdout.query(train_accuracy, holdout_accuracy)
        holdout.looks, holdout.budget_left
    """

    def __init__(self, threshold: float = 0.04, sigma: float = 0.01, budget: int = 100, seed: int | None = None):
        if not (threshold >= 0 and sigma >= 0):
            raise ValueError(f"threshold and sigma must be >= 0, got {threshold!r} and {sigma!r}")
        if not (isinstance(budget, int) and budget >= 1):
            raise ValueError(f"budget: got {budget!r}; give an integer >= 1")
        self.threshold, self.sigma, self.budget = float(threshold), float(sigma), budget
        self.rng = np.random.default_rng(seed)
        self.looks = 0  # every query
        self.overfit_answers = 0  # queries answered from the holdout (each spent budget)
        self.history: list[dict[str, float]] = []
        self._t_hat = self.threshold + self._laplace(2 * self.sigma)

    def _laplace(self, scale: float) -> float:
        return float(self.rng.laplace(0.0, scale)) if scale > 0 else 0.0

    @property
    def budget_left(self) -> int:
        """How many more overfitting answers the holdout can give before it is exhausted."""
        return self.budget - self.overfit_answers

    def query(self, train_score: float, holdout_score: float) -> float:
        """The answer for one score measured on the training and on the holdout data (both in [0, 1])."""
        for label, v in (("train_score", train_score), ("holdout_score", holdout_score)):
            if not (isinstance(v, int | float | np.floating) and 0.0 <= float(v) <= 1.0):
                raise ValueError(f"{label}: got {v!r}; Thresholdout needs a mean of values in [0, 1]")
        if self.budget_left < 1:
            raise HoldoutBudgetExhausted(
                f"the holdout answered {self.overfit_answers} overfitting queries, its whole budget; "
                "collect a fresh holdout"
            )
        self.looks += 1
        eta = self._laplace(4 * self.sigma)
        if abs(float(holdout_score) - float(train_score)) > self._t_hat + eta:
            self.overfit_answers += 1
            self._t_hat = self.threshold + self._laplace(2 * self.sigma)
            answer = float(holdout_score) + self._laplace(self.sigma)
            source = "holdout"
        else:
            answer = float(train_score)
            source = "train"
        self.history.append(
            {
                "train": float(train_score),
                "holdout": float(holdout_score),
                "answer": answer,
                "from_holdout": source == "holdout",
            }
        )
        return answer

    def score(self, metric: MetricFn, model: Any, x_train: Any, y_train: Any, x_holdout: Any, y_holdout: Any) -> float:
        """`query` with the metric of a model on the training and the holdout data."""
        return self.query(
            float(metric(y_train, _predict(model, x_train))), float(metric(y_holdout, _predict(model, x_holdout)))
        )

    def __repr__(self) -> str:
        return f"Thresholdout(looks={self.looks}, budget_left={self.budget_left}/{self.budget})"
