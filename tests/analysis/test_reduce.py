"""suggest_space: drops what is reliably worse, narrows ranges to the best trials, keeps the uncertain."""

import numpy as np
import pytest

import knoblab as kl
from knoblab.analysis.reduce import suggest_space_from_table
from knoblab.space import Space

from .support import table


def _rows(n=60, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        opt = ["adam", "nadam", "rmsprop"][i % 3]
        drop = [0.0, 0.1, 0.2][(i // 3) % 3]
        x = float(rng.uniform(0, 10))
        # rmsprop is 3 worse; dropout does nothing; x is best near 1 (a minimum)
        v = (x - 1.0) ** 2 / 10 + (3.0 if opt == "rmsprop" else 0.0) + rng.normal(0, 0.3)
        rows.append(({"opt": opt, "dropout": drop, "x": x, "epochs": 10}, v))
    return rows


SPACE = {"opt": ["adam", "nadam", "rmsprop"], "dropout": (0.0, 0.2, 3), "x": kl.Real(0.0, 10.0), "epochs": 10}


def test_drops_the_worse_value_narrows_the_range_keeps_the_rest():
    s = suggest_space_from_table(table(SPACE, _rows()), Space(SPACE))
    assert s.space["opt"] == ["adam", "nadam"]
    assert s.space["dropout"] == SPACE["dropout"] or list(s.space["dropout"].choices) == [0.0, 0.1, 0.2]
    x = s.space["x"]
    assert isinstance(x, kl.Real) and x.low == 0.0 and x.high < 7.0  # the top trials lie near 1
    assert s.space["epochs"] == 10
    by = {c.knob: c for c in s.changes}
    assert set(by) == {"opt", "x"}
    assert "rmsprop" in by["opt"].why and "Holm-adjusted p" in by["opt"].why
    assert {c.knob for c in s.kept} == {"dropout"}
    assert "Mann-Whitney" in s.method and "Holm" in s.method
    Space(s.space)  # a valid space as it is


def test_nothing_changes_on_noise_or_few_trials():
    rng = np.random.default_rng(1)
    rows = [({"opt": ["a", "b"][i % 2]}, float(rng.normal())) for i in range(40)]
    s = suggest_space_from_table(table({"opt": ["a", "b"]}, rows), Space({"opt": ["a", "b"]}))
    assert not s.changed and s.space == {"opt": ["a", "b"]}
    few = [({"opt": "a"}, 0.0), ({"opt": "b"}, 9.0)] * 2  # 2 a side: below min_count
    s = suggest_space_from_table(table({"opt": ["a", "b"]}, few), Space({"opt": ["a", "b"]}))
    assert not s.changed and "too few" in s.kept[0].why


def test_maximizing_drops_the_low_value():
    rows = [({"opt": o}, (0.9 if o == "bad" else 0.97) + 0.001 * i) for i, o in enumerate(["good", "ok", "bad"] * 8)]
    s = suggest_space_from_table(
        table({"opt": ["good", "ok", "bad"]}, rows, direction="max"), Space({"opt": ["good", "ok", "bad"]})
    )
    assert s.space["opt"] == ["good", "ok"]


def test_one_value_left_becomes_fixed_and_reject_restores():
    rows = [
        ({"loss": o, "k": (i // 2) % 2}, (1.0 if o == "bce" else 2.0) + 0.01 * i)
        for i, o in enumerate(["bce", "logcosh"] * 10)
    ]
    space = {"loss": ["bce", "logcosh"], "k": [0, 1]}
    s = suggest_space_from_table(table(space, rows), Space(space))
    assert s.space["loss"] == "bce"
    assert "reliably worse" in s.changes[0].why
    back = s.reject("loss")
    assert back.space["loss"] == ["bce", "logcosh"] and not back.changed
    with pytest.raises(ValueError, match="no change to reject"):
        s.reject("k")


def test_int_ranges_stay_on_their_step():
    rng = np.random.default_rng(2)
    rows = []
    for _ in range(60):
        u = int(rng.integers(0, 26)) * 4 + 8  # 8..108 on step 4
        rows.append(({"units": u}, abs(u - 20) / 10 + rng.normal(0, 0.2)))
    space = {"units": kl.Int(8, 108, step=4)}
    s = suggest_space_from_table(table(space, rows), Space(space))
    u = s.space["units"]
    assert isinstance(u, kl.Int) and u.step == 4 and (u.low - 8) % 4 == 0 and (u.high - 8) % 4 == 0
    assert u.high < 108


def test_suggestion_apply_starts_a_round(sqlite_url):
    from .support import stored_experiment

    exp = stored_experiment(sqlite_url, n=60)
    s = exp.suggest_space()
    assert s.changed and "x" in {c.knob for c in s.changes}
    number = s.apply(exp)
    assert number == 1 and exp.round == 1
    record = exp.rounds[1]
    assert record["parent"] == 0 and record["changes"] == [c.why for c in s.changes] and record["reason"] == s.reason
