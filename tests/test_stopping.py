"""Per-trial stopping rules on hand-written metric sequences."""

import math

import pytest

from knoblab.stopping import Patience, StopOnNaN, Threshold, TimeBudget, direction_of


def run(rule, values, metric="val_loss"):
    """The step at which the rule stops (None: never), feeding one value per step."""
    rule.reset()
    for step, v in enumerate(values):
        if rule.update(step, {metric: v}):
            return step
    return None


def test_patience_counts_steps_without_enough_improvement():
    # improvements smaller than min_delta do not reset the count
    assert run(Patience("val_loss", patience=2, min_delta=0.1), [1.0, 0.95, 0.93, 0.5]) == 2
    assert run(Patience("val_loss", patience=2, min_delta=0.0), [1.0, 0.95, 0.93, 0.92]) is None
    assert run(Patience("val_accuracy", patience=3), [0.5, 0.6, 0.6, 0.59, 0.58], metric="val_accuracy") == 4


def test_patience_on_a_custom_metric_needs_a_direction():
    with pytest.raises(ValueError, match="my_thing"):
        Patience("my_thing")
    assert run(Patience("my_thing", patience=1, direction="max"), [1, 2, 2], metric="my_thing") == 2


def test_threshold_and_nan():
    assert run(Threshold("val_accuracy", ">=", 0.9), [0.5, 0.89, 0.9, 0.95], metric="val_accuracy") == 2
    assert run(StopOnNaN(), [1.0, 2.0, math.nan, 1.0], metric="loss") == 2
    assert run(StopOnNaN(), [1.0, math.inf], metric="loss") == 1


def test_missing_metric_lists_the_available_ones():
    with pytest.raises(KeyError, match="val_acc.*available.*val_accuracy"):
        Threshold("val_acc", ">=", 0.9).update(0, {"val_accuracy": 0.5})


def test_time_budget(monkeypatch):
    clock = iter([0.0, 1.0, 2.5, 4.0])
    monkeypatch.setattr("knoblab.stopping.time.monotonic", lambda: next(clock))
    rule = TimeBudget(2.0)  # reset() reads 0.0
    assert rule.update(0, {}) is None  # 1.0 s
    assert "time budget" in rule.update(1, {})  # 2.5 s


def test_direction_of_names():
    assert direction_of("val_loss") == "min"
    assert direction_of("val_accuracy") == "max"
    assert direction_of("val_f1") == "max"
    assert direction_of("mae") == "min"
