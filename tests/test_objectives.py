"""knoblab.objectives: several objectives as arguments, and the outcome constraints' grammar and evaluation."""

from __future__ import annotations

import pytest

from knoblab.objectives import Objectives, OutcomeConstraint, OutcomeConstraints


def small_model(metrics):
    """An importable constraint function (a test module's function): at most 1,000 parameters."""
    return metrics["params"] - 1000


def test_objectives_from_arguments():
    one = Objectives.parse("val_loss", "min")
    assert one.metrics == ("val_loss",) and not one.multi
    two = Objectives.parse(["val_accuracy", "params"], ["max", "min"])
    assert two.multi and two.directions == ("max", "min")
    assert two.describe() == "max 'val_accuracy', min 'params'"


@pytest.mark.parametrize(
    "metric, direction, message",
    [
        ("", "min", "metric: got ''"),
        ("loss", "down", "direction: got 'down'; allowed: 'min' or 'max'"),
        (["a", "b"], "min", "direction: got 'min' for 2 metrics; give one per metric"),
        (["a", "b"], ["min"], "direction: got 1 directions ['min'] for 2 metrics"),
        (["a", "b"], ["min", "up"], "each must be 'min' or 'max'"),
        (["a", "a"], ["min", "min"], "each metric may appear once"),
        ([], [], "metric: got []"),
        (["a", 3], ["min", "min"], "every entry must be a metric's name"),
    ],
)
def test_bad_objectives_are_one_line(metric, direction, message):
    with pytest.raises(ValueError) as e:
        Objectives.parse(metric, direction)
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "text, value, feasible, amount",
    [
        ("params <= 100000", 99_000, True, -1000),
        ("params <= 100_000", 100_000, True, 0),
        ("params <= 1e5", 100_001, False, 1),
        ("latency < 0.002", 0.002, False, 0.0),
        ("latency < 0.002", 0.001, True, -0.001),
        ("val_accuracy >= 0.9", 0.85, False, 0.05),
        ("val_accuracy > 0.9", 0.95, True, -0.05),
        ("layers == 2", 3, False, 1),
        ("0.9 <= val_accuracy", 0.95, True, -0.05),  # the number on the left: read from the metric's side
        ("  params<=10 ", 11, False, 1),
    ],
)
def test_the_grammar(text, value, feasible, amount):
    c = OutcomeConstraint(text)
    vs = c.values({c.metric: value})
    assert vs == [pytest.approx(amount)]
    assert c.satisfied(vs) is feasible


@pytest.mark.parametrize(
    "text",
    [
        "params",
        "params <= ",
        "params =< 5",
        "__import__('os').system('x') <= 1",
        "params <= 1 + 1",
        "a <= b",
        "p <= inf",
    ],
)
def test_anything_else_is_refused_never_evaluated(text):
    with pytest.raises(ValueError) as e:
        OutcomeConstraint(text)
    assert "constraints:" in str(e.value) and "\n" not in str(e.value)


def test_evaluation_gives_feasibility_violation_and_values():
    cs = OutcomeConstraints(["params <= 100", "val_accuracy >= 0.5"])
    assert cs.metrics() == ["params", "val_accuracy"]
    ok = cs.evaluate({"params": 50, "val_accuracy": 0.9})
    assert ok["feasible"] is True and ok["violation"] == 0.0
    bad = cs.evaluate({"params": 150, "val_accuracy": 0.3})
    assert bad["feasible"] is False and bad["violation"] == pytest.approx(50.2)
    assert bad["constraint_values"] == [pytest.approx(50), pytest.approx(0.2)]
    with pytest.raises(ValueError, match="constraint 'params <= 100' needs metric 'params'; the objective returned"):
        cs.evaluate({"val_accuracy": 0.3})
    with pytest.raises(ValueError, match="metric 'params' is 'many', not a number"):
        cs.evaluate({"params": "many", "val_accuracy": 0.3})


def test_functions_return_a_bool_a_number_or_numbers():
    assert OutcomeConstraints(lambda m: m["a"] < 1).evaluate({"a": 2})["feasible"] is False
    assert OutcomeConstraints(lambda m: m["a"] - 1).evaluate({"a": 0.5})["feasible"] is True
    both = OutcomeConstraints(lambda m: [m["a"] - 1, m["b"] - 1]).evaluate({"a": 0.5, "b": 3})
    assert both["feasible"] is False and both["violation"] == 2 and both["constraint_values"] == [-0.5, 2]
    with pytest.raises(ValueError, match="returned 'no'"):
        OutcomeConstraints(lambda m: "no").evaluate({})
    with pytest.raises(ValueError, match="raised KeyError"):
        OutcomeConstraints(lambda m: m["missing"]).evaluate({})


def test_stored_form_round_trips_strings_and_importable_functions():
    cs = OutcomeConstraints(["params <= 100", small_model])
    stored = cs.describe()
    assert stored == ["params <= 100", {"function": "tests.test_objectives:small_model"}]
    again = OutcomeConstraints.from_description(stored, "experiment 'x'")
    again.check_usable()
    assert again.evaluate({"params": 500})["feasible"] is False  # 500 <= 100 fails
    assert again.describe() == stored


def test_a_function_that_cannot_be_imported_is_kept_by_name_and_refused_when_used():
    stored = OutcomeConstraints([lambda m: True]).describe()
    assert stored == [
        {"function": "test_a_function_that_cannot_be_imported_is_kept_by_name_and_refused_when_used.<locals>.<lambda>"}
    ]
    kept = OutcomeConstraints.from_description(stored, "experiment 'x'")
    assert kept.describe() == stored  # enough to read the experiment
    with pytest.raises(ValueError, match="experiment 'x' has an outcome constraint function .* cannot be imported"):
        kept.check_usable()


def test_bad_constraint_arguments():
    with pytest.raises(ValueError, match="constraints: got 3"):
        OutcomeConstraints(3)
    with pytest.raises(ValueError, match="constraints: got 3"):
        OutcomeConstraints([3])
