"""Honest evaluation: test scores of the best k, looks counted, leaks found, cross-validation, Thresholdout."""

import warnings

import numpy as np
import pytest

import knoblab as kl
from knoblab.analysis.evaluate import (
    HoldoutBudgetExhausted,
    Thresholdout,
    cross_validate_top,
    evaluate_best,
    fingerprint,
    overlap,
)


class Threshold:
    """A 'model' of a generic objective: predicts x[:, 0] > t."""

    def __init__(self, t):
        self.t = t

    def predict(self, x):
        return (np.asarray(x)[:, 0] > self.t).astype(float)


def _experiment(url):
    exp = kl.Experiment("gen", {"t": [-1.0, 0.0, 1.0]}, storage=url, strategy="grid", seed=0)
    # the "validation" value: how close t is to 0 (best: t = 0)
    exp.optimize(lambda trial: abs(trial.params["t"]), show_progress=False)
    return exp


def _data():
    x = np.array([[-2.0], [-0.5], [0.5], [2.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    return x, y


def test_evaluate_best_scores_the_top_k_with_a_model_loader(sqlite_url):
    exp = _experiment(sqlite_url)
    x, y = _data()
    scores = exp.evaluate_best(2, x, y, model_loader=lambda t: Threshold(t.params["t"]))
    assert scores["number"].tolist() == [1, 0]  # t=0 first, then t=-1 (the first of the tie, by number)
    # t=0 predicts 0 0 1 1: all right; t=-1 predicts 0 1 1 1: 3 of 4, F1 = 2*2/(2*2+1) = 0.8
    assert scores["test_accuracy"].tolist() == [1.0, 0.75]
    assert scores["test_f1"].tolist() == pytest.approx([1.0, 0.8])
    looks = exp.storage.get_experiment("gen").attrs["test_evaluations"]
    assert len(looks) == 1 and looks[0]["fingerprint"] == fingerprint(x, y) and looks[0]["best_trial"] == 1


def test_a_second_look_at_the_same_test_set_warns(sqlite_url):
    exp = _experiment(sqlite_url)
    x, y = _data()
    loader = lambda t: Threshold(t.params["t"])  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exp.evaluate_best(1, x, y, model_loader=loader)
    with pytest.warns(UserWarning, match="scored 1 time"):
        exp.evaluate_best(1, x, y, model_loader=loader)
    assert len(exp.storage.get_experiment("gen").attrs["test_evaluations"]) == 2


def test_a_leaked_test_row_warns(sqlite_url):
    exp = _experiment(sqlite_url)
    x, y = _data()
    assert overlap(x, np.array([[0.5], [9.0]])) == 1
    with pytest.warns(UserWarning, match="1 rows of the test set"):
        evaluate_best(exp, 1, x, y, model_loader=lambda t: Threshold(0.0), search_data=(np.array([[0.5]]),))


def test_a_missing_model_is_reported_not_raised(sqlite_url):
    exp = _experiment(sqlite_url)
    x, y = _data()
    scores = exp.evaluate_best(1, x, y)  # no saved .keras file for a generic objective
    assert "no saved model" in scores.loc[0, "error"]


def test_cross_validate_top(sqlite_url):
    exp = _experiment(sqlite_url)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 1))
    y = (x[:, 0] > 0).astype(float)
    cv = cross_validate_top(exp, 2, x, y, lambda xt, yt, xv, yv, p: Threshold(p["t"]), folds=4)
    assert cv["number"].tolist() == [1, 0]
    assert cv.loc[0, "cv_accuracy_mean"] == 1.0 and cv.loc[0, "cv_accuracy_std"] == 0.0
    assert cv.loc[1, "cv_accuracy_mean"] < 1.0 and {"fold_0", "fold_3"} <= set(cv.columns)


def test_thresholdout_without_noise_follows_the_rule():
    h = Thresholdout(threshold=0.04, sigma=0.0, budget=2, seed=0)
    # |0.88 - 0.90| = 0.02 <= 0.04: the training score comes back, no budget spent
    assert h.query(0.90, 0.88) == 0.90 and h.budget_left == 2
    # |0.80 - 0.95| = 0.15 > 0.04: the holdout score comes back (no noise), one unit spent
    assert h.query(0.95, 0.80) == 0.80 and h.budget_left == 1
    assert h.query(0.99, 0.70) == 0.70 and h.budget_left == 0
    assert h.looks == 3 and h.overfit_answers == 2
    with pytest.raises(HoldoutBudgetExhausted):
        h.query(0.9, 0.9)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        Thresholdout().query(1.5, 0.5)


def test_thresholdout_noise_is_seeded_and_bounded():
    a, b = Thresholdout(sigma=0.01, seed=3), Thresholdout(sigma=0.01, seed=3)
    answers = [a.query(0.99, 0.7) for _ in range(20)]
    assert answers == [b.query(0.99, 0.7) for _ in range(20)]
    assert all(abs(v - 0.7) < 0.2 for v in answers)  # Laplace(0.01) noise around the holdout score
    assert a.score(lambda yt, yp: float(np.mean(yt == yp)), Threshold(0.0), *(_data() * 2)) == 1.0
