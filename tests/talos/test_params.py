"""Talos params dicts: a tuple is Talos' arange range (end left out, integer ends give integers), a list is choices,
a scalar is refused."""

import pytest

from knoblab.talos.params import talos_range, to_space


def test_an_integer_range_is_numpy_arange_made_integers_without_repeats():
    # np.arange(2, 30, 2.8) = 2, 4.8, 7.6, ... 27.2 -> astype(int), unique
    assert talos_range("batch_size", (2, 30, 10)) == [2, 4, 7, 10, 13, 16, 18, 21, 24, 27]
    assert talos_range("layers", (1, 4, 10)) == [1, 2, 3]  # 1, 1.3, 1.6, ... 3.7: seven repeats dropped
    assert all(type(v) is int for v in talos_range("batch_size", (2, 30, 10)))


def test_a_float_range_leaves_the_end_out():
    assert talos_range("dropout", (0, 0.5, 5)) == [0.0, 0.1, 0.2, 0.3, 0.4]  # 0.30000000000000004 cleaned
    lr = talos_range("lr", (0.5, 5, 10))
    assert len(lr) == 10 and lr[0] == 0.5 and lr[-1] == pytest.approx(4.55)
    assert talos_range("d", (0.05, 0.35, 0.1))[:2] == [0.05]  # steps below one: a single step of 3 x the span


def test_a_dict_becomes_lists_in_its_order():
    space = to_space({"lr": (0.5, 5, 10), "act": ["relu", "elu"], "epochs": [10], "hidden_layers": ([0, 1, 2])})
    assert list(space) == ["lr", "act", "epochs", "hidden_layers"]
    assert space["act"] == ["relu", "elu"] and space["epochs"] == [10] and space["hidden_layers"] == [0, 1, 2]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"epochs": 10}, r"knob 'epochs': got 10 of type int; Talos params are lists \(\[10\] for a fixed value\)"),
        ({"units": []}, "knob 'units': got an empty list"),
        ({"lr": (0.1, 0.5)}, r"knob 'lr': got \(0.1, 0.5\); a Talos range is \(start, end, steps\)"),
        ({"lr": ("a", 1, 2)}, "a Talos range is"),
        ({"lr": (0.1, 0.5, 0)}, "steps must be > 0"),
        ({"lr": (0.1, 0.1, 4)}, "start and end are equal"),
        ({}, "the dict is empty"),
    ],
)
def test_bad_params_name_the_knob(params, match):
    with pytest.raises(ValueError, match=match):
        to_space(params)


def test_params_must_be_a_dict():
    with pytest.raises(TypeError, match="params: got list; give a dict"):
        to_space([1, 2])
