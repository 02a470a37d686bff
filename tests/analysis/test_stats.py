"""Every statistic of the analysis against a case worked out by hand (the arithmetic is in the comments)."""

import math

import numpy as np
import pandas as pd
import pytest

import knoblab as kl
from knoblab.analysis import stats
from knoblab.analysis.frame import encode_codes, encode_onehot

from .support import frozen, table


def test_spearman_without_ties():
    # ranks x = 1 2 3 4, y = 1 3 2 4: d = 0 -1 1 0, sum d^2 = 2; rho = 1 - 6*2 / (4*15) = 0.8
    rho, p, n = stats.spearman([1, 2, 3, 4], [10, 30, 20, 40])
    assert rho == pytest.approx(0.8) and n == 4 and 0 < p < 1


def test_spearman_with_ties_and_missing():
    # NaN pairs are dropped; x = 1 1 2 -> ranks 1.5 1.5 3, y = 1 2 3 -> ranks 1 2 3:
    # Pearson of (1.5,1.5,3) and (1,2,3): centred (-.5,-.5,1) and (-1,0,1) -> 1.5 / sqrt(1.5 * 2) = 0.8660
    rho, _, n = stats.spearman([1, 1, 2, np.nan], [1, 2, 3, 4])
    assert rho == pytest.approx(math.sqrt(3) / 2) and n == 3
    assert math.isnan(stats.spearman([1, 1, 1], [1, 2, 3])[0])  # a constant side has no rank correlation


def test_correlations_one_hot_for_categoricals():
    t = table(
        {"opt": ["a", "b"], "lr": [1, 2, 3, 4]},
        [
            ({"opt": "a", "lr": 1}, 1.0),
            ({"opt": "b", "lr": 2}, 3.0),
            ({"opt": "a", "lr": 3}, 2.0),
            ({"opt": "b", "lr": 4}, 4.0),
        ],
    )
    c = stats.correlations(t).set_index("feature")
    assert set(c.index) == {"lr", "opt=a", "opt=b"}
    assert c.loc["lr", "rho"] == pytest.approx(0.8)  # as in the first test
    # opt=b indicator 0 1 0 1 -> ranks 1.5 3.5 1.5 3.5 (centred -1 1 -1 1); value ranks 1 3 2 4 (centred
    # -1.5 .5 -.5 1.5): cov 1.5+.5+.5+1.5 = 4, norms sqrt(4) and sqrt(5): rho = 4 / sqrt(20) = 0.8944
    assert c.loc["opt=b", "rho"] == pytest.approx(4 / math.sqrt(20))
    assert c.loc["opt=a", "rho"] == pytest.approx(-4 / math.sqrt(20))
    # minimizing: larger lr goes with larger (worse) values
    assert c.loc["lr", "better"] == pytest.approx(-0.8)


def test_encodings():
    t = table(
        {"opt": ["a", "b"], "lr": kl.Real(1e-3, 1e-1, log=True)},
        [({"opt": "b", "lr": 1e-3}, 1.0), ({"opt": "a", "lr": 1e-2}, 2.0)],
    )
    one = encode_onehot(t)
    assert list(one.columns) == ["opt=a", "opt=b", "lr"] and one["opt=b"].tolist() == [1.0, 0.0]
    codes = encode_codes(t)
    assert codes["opt"].tolist() == [1.0, 0.0]  # the index among the knob's choices
    assert codes["lr"].tolist() == pytest.approx([-3.0, -2.0])  # log10 for a log-scale knob


def test_first_order_importance_of_an_additive_function():
    # f = 2 x0 + x1 on the four points of {0,1}^2: values 0 1 2 3, variance 1.25.
    # main effect of x0: mean over x1 of f = 2 v + 0.5 -> 0.5, 2.5 (weights 1/2): variance 1 -> index 0.8;
    # main effect of x1: v + 1 -> 1, 2: variance 0.25 -> index 0.2; no interaction: the indices sum to 1
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    index, total = stats.first_order_importance(lambda z: 2 * z[:, 0] + z[:, 1], x)
    assert total == pytest.approx(1.25)
    assert index == pytest.approx([0.8, 0.2])


def test_first_order_importance_of_a_pure_interaction():
    # f = x0 * x1 on {-1,1}^2: every main effect is 0, all the variance (1) is interaction
    x = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float)
    index, total = stats.first_order_importance(lambda z: z[:, 0] * z[:, 1], x)
    assert total == pytest.approx(1.0) and index == pytest.approx([0.0, 0.0])


def test_random_forest_importances_find_the_knob_that_matters():
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(60):
        a, b = float(rng.uniform(0, 1)), str(rng.choice(["u", "v"]))
        rows.append(({"a": a, "b": b}, 10 * a + rng.normal(0, 0.1)))
    t = table({"a": kl.Real(0.0, 1.0), "b": ["u", "v"]}, rows)
    imp = stats.importances(t).set_index("knob")["importance"]
    assert imp["a"] > 0.9 and imp["b"] < 0.05


def test_per_value_summary():
    t = table(
        {"opt": ["a", "b"]},
        [({"opt": "a"}, 1.0), ({"opt": "a"}, 3.0), ({"opt": "b"}, 5.0), ({"opt": "a"}, 2.0)],
        direction="min",
    )
    s = stats.per_value(t).set_index("value")
    # a: 1 3 2 -> count 3, mean 2, median 2, std 1, best (min) 1; b: a single 5
    assert s.loc["a", ["count", "mean", "median", "std", "best"]].tolist() == [3, 2.0, 2.0, 1.0, 1.0]
    assert s.loc["b", "count"] == 1 and math.isnan(s.loc["b", "std"]) and s.loc["b", "best"] == 5.0


def test_train_val_gap_and_overfitting_flag():
    rows = [
        ({"k": 1}, 0.0, {"loss": 0.2, "val_loss": 0.3, "last_loss": 0.1, "last_val_loss": 0.5}),
        ({"k": 2}, 0.0, {"loss": 0.4, "val_loss": 0.45, "last_loss": 0.4, "last_val_loss": 0.45}),
    ]
    t = table_with_metrics({"k": [1, 2]}, rows)
    g = stats.train_val_gap(t)  # ("loss", "val_loss") at the last epoch by default
    # trial 0: 0.5 - 0.1 = 0.4, relative 4.0 > 0.25 -> overfit; trial 1: 0.05, relative 0.125 -> fine
    assert g["gap"].tolist() == pytest.approx([0.4, 0.05])
    assert g["relative_gap"].tolist() == pytest.approx([4.0, 0.125])
    assert g["overfit"].tolist() == [True, False]
    best = stats.train_val_gap(t, at="best")
    assert best["gap"].tolist() == pytest.approx([0.1, 0.05])


def test_gap_for_a_metric_where_higher_is_better():
    rows = [
        ({"k": 1}, 0.9, {"accuracy": 1.0, "val_accuracy": 0.7}),
        ({"k": 2}, 0.9, {"accuracy": 0.9, "val_accuracy": 0.88}),
    ]
    t = table_with_metrics({"k": [1, 2]}, rows)
    g = stats.train_val_gap(t, pair=("accuracy", "val_accuracy"))
    # training minus validation: 0.3 (relative 0.3 -> overfit) and 0.02 (relative 0.0222)
    assert g["gap"].tolist() == pytest.approx([0.3, 0.02]) and g["overfit"].tolist() == [True, False]


def test_gap_regression_line():
    # val = 2 * train + 1 exactly: slope 2, intercept 1, r 1
    g = pd.DataFrame({"train": [0.1, 0.2, 0.3, 0.4], "val": [1.2, 1.4, 1.6, 1.8]})
    reg = stats.gap_regression(g)
    assert reg["slope"] == pytest.approx(2.0) and reg["intercept"] == pytest.approx(1.0)
    assert reg["r"] == pytest.approx(1.0) and reg["n"] == 4


def test_result_entropy():
    # two equal halves in 2 bins: -(.5 ln .5 + .5 ln .5) / ln 2 = 1
    assert stats.result_entropy([0.1, 0.1, 0.9, 0.9], bins=2, value_range=(0, 1)) == pytest.approx(1.0)
    # all in one bin: 0
    assert stats.result_entropy([0.91, 0.92, 0.95], bins=10, value_range=(0, 1)) == 0.0
    # 3 of 4 in one bin, 1 in another, 4 bins: -(.75 ln .75 + .25 ln .25) / ln 4 = 0.40564
    h = stats.result_entropy([0.1, 0.1, 0.1, 0.9], bins=4, value_range=(0, 1))
    assert h == pytest.approx(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(4))
    assert math.isnan(stats.result_entropy([]))


def test_curve_kl():
    # P = (1, 1)/2, Q = (1, 3)/4: KL = .5 ln(.5/.25) + .5 ln(.5/.75) = .5 ln 2 + .5 ln(2/3) = 0.143841
    assert stats.curve_kl([1, 1], [1, 3]) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    # the same shape at another level: 0
    assert stats.curve_kl([2, 4, 6], [1, 2, 3]) == pytest.approx(0.0)
    # epochs beyond the shorter curve are ignored; non-positive values have no distribution
    assert stats.curve_kl([1, 1, 5], [1, 3]) == pytest.approx(0.143841, abs=1e-6)
    assert math.isnan(stats.curve_kl([1, -1], [1, 1]))


def test_curve_kls_reads_the_stored_curves():
    trials = [
        frozen(0, {"k": 1}, 0.5, curves={"loss": [1, 3], "val_loss": [1, 1]}),
        frozen(1, {"k": 2}, 0.6, curves={"loss": [1, 2], "val_loss": [2, 4]}),
    ]
    from knoblab.analysis.frame import trial_table
    from knoblab.space import Space

    t = trial_table(trials, Space({"k": [1, 2]}), "value", "min")
    kl_ = stats.curve_kls(t, ("loss", "val_loss"))
    assert kl_[0] == pytest.approx(0.143841, abs=1e-6) and kl_[1] == pytest.approx(0.0)


def test_holm():
    # sorted .01 .02 .03 .04 (m=4): .04 .06 .06(max(.06, .03*2)) .06(max(.06,.04)) -> in input order
    p = [0.04, 0.01, 0.03, 0.02]
    assert stats.holm(p).tolist() == pytest.approx([0.06, 0.04, 0.06, 0.06])
    out = stats.holm([0.5, np.nan, 0.2])  # NaN is not part of the family (m=2)
    assert out[0] == pytest.approx(0.5) and math.isnan(out[1]) and out[2] == pytest.approx(0.4)


def test_mann_whitney_worse_exact():
    # these = 4 5 6 all above others = 1 2 3: U = 9, the most extreme of C(6,3) = 20 orderings: p = 1/20
    assert stats.mann_whitney_worse([4, 5, 6], [1, 2, 3], "min") == pytest.approx(0.05)
    # for a metric to maximize, larger is better, so "worse" is the other tail: p = 1
    assert stats.mann_whitney_worse([4, 5, 6], [1, 2, 3], "max") == pytest.approx(1.0)
    assert math.isnan(stats.mann_whitney_worse([], [1, 2], "min"))


def test_compare_rounds():
    rows = [({"k": 1}, v) for v in (1.0, 2.0, 3.0)]
    trials = [frozen(i, p, v, round=0) for i, (p, v) in enumerate(rows)]
    trials += [frozen(3 + i, {"k": 1}, v, round=1) for i, v in enumerate((4.0, 5.0, 6.0))]
    from knoblab.analysis.frame import trial_table
    from knoblab.space import Space

    t = trial_table(trials, Space({"k": [1]}), "value", "max")
    c = stats.compare_rounds(t).set_index("round")
    assert c.loc[0, "best"] == 3.0 and c.loc[1, "best"] == 6.0 and c.loc[1, "median"] == 5.0
    # round 1 entirely above round 0, maximizing: p that round 0 is worse = 1/20
    assert c.loc[1, "p_better"] == pytest.approx(0.05) and c.loc[1, "parent"] == 0
    # a common range 1..6 in 10 bins: round 0 fills 3 bins equally -> ln 3 / ln 10
    assert c.loc[0, "entropy"] == pytest.approx(math.log(3) / math.log(10))


def table_with_metrics(space, rows):
    from knoblab.analysis.frame import trial_table
    from knoblab.space import Space

    trials = [frozen(i, p, v, metrics=m) for i, (p, v, m) in enumerate(rows)]
    return trial_table(trials, Space(space), "value", "min")
