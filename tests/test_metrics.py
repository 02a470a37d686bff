"""The honest metrics against hand-computed values, edge cases first, then against scikit-learn."""

import numpy as np
import pytest

from knoblab import metrics as m


def test_hand_computed_general_case():
    # tp=3, fp=1, tn=4, fn=2
    y_true = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    y_pred = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    assert m.confusion_counts(y_true, y_pred) == (3, 1, 4, 2)
    assert m.f1_score(y_true, y_pred) == pytest.approx(6 / 9)
    assert m.matthews_corrcoef(y_true, y_pred) == pytest.approx(10 / np.sqrt(600))
    assert m.balanced_accuracy(y_true, y_pred) == pytest.approx((3 / 5 + 4 / 5) / 2)
    assert m.accuracy(y_true, y_pred) == pytest.approx(0.7)


def test_all_zero_labels_and_predictions():
    zeros = np.zeros(20)
    assert m.f1_score(zeros, zeros) == 1.0  # nothing to find, nothing predicted
    assert m.f1_score(zeros, zeros, zero_division=0.0) == 0.0
    assert m.matthews_corrcoef(zeros, zeros) == 0.0
    assert m.balanced_accuracy(zeros, zeros) == 1.0  # the one class present is fully recalled


def test_all_zero_predictions_on_rare_positives_are_exposed():
    y_true = np.array([1] + [0] * 99)  # 1% positives
    y_pred = np.zeros(100)
    assert m.accuracy(y_true, y_pred) == pytest.approx(0.99)  # accuracy lies
    assert m.f1_score(y_true, y_pred) == 0.0  # no true positive
    assert m.matthews_corrcoef(y_true, y_pred) == 0.0
    assert m.balanced_accuracy(y_true, y_pred) == 0.5


def test_all_one_predictions():
    y_true = np.array([1] * 10 + [0] * 90)
    y_pred = np.ones(100)
    p = 0.1
    assert m.f1_score(y_true, y_pred) == pytest.approx(2 * p / (1 + p))
    assert m.matthews_corrcoef(y_true, y_pred) == 0.0
    assert m.balanced_accuracy(y_true, y_pred) == 0.5


def test_no_true_positive_with_false_positives():
    y_true = [1, 1, 0, 0]
    y_pred = [0, 0, 1, 1]
    assert m.f1_score(y_true, y_pred) == 0.0
    assert m.matthews_corrcoef(y_true, y_pred) == pytest.approx(-1.0)
    assert m.balanced_accuracy(y_true, y_pred) == 0.0


def test_probabilities_are_thresholded():
    assert m.confusion_counts([1, 0, 1], [0.9, 0.2, 0.4]) == (1, 0, 1, 1)
    assert m.confusion_counts([1, 0, 1], [0.9, 0.2, 0.4], threshold=0.3) == (2, 0, 1, 0)


def test_agrees_with_scikit_learn_on_random_cases():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for _ in range(50):
        y_true = rng.integers(0, 2, 30)
        y_pred = rng.integers(0, 2, 30)
        if y_true.min() == y_true.max() or y_pred.min() == y_pred.max():
            continue
        assert m.f1_score(y_true, y_pred) == pytest.approx(sk.f1_score(y_true, y_pred))
        assert m.matthews_corrcoef(y_true, y_pred) == pytest.approx(sk.matthews_corrcoef(y_true, y_pred))
        assert m.balanced_accuracy(y_true, y_pred) == pytest.approx(sk.balanced_accuracy_score(y_true, y_pred))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="rows"):
        m.f1_score([1, 0], [1, 0, 1])
    with pytest.raises(ValueError, match="NaN"):
        m.f1_score([1, 0], [np.nan, 1])
