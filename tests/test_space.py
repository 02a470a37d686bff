"""The search space: knob kinds, unit cube, branches, validation errors, lazy grids."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest

import knoblab as kl
from knoblab.space import Categorical, Fixed, Space

# ---- helpers ----


def active_names(spec: dict, params: dict) -> set[str]:
    """The knobs that must be present in params, worked out from the raw dict (independently of Space)."""
    out = set()
    for name, knob in spec.items():
        out.add(name)
        if isinstance(knob, kl.Branch):
            out |= active_names(knob.options[params[name]], params)
    return out


NESTED = {
    "lr": kl.Real(1e-4, 1e-1, log=True),
    "units": kl.Int(8, 256, log=True),
    "batch": kl.Int(16, 128, step=16),
    "dropout": (0.0, 0.5, 6),
    "optimizer": ["adam", "nadam", "rmsprop"],
    "epochs": 100,
    "shuffle": kl.Bool(),
    "layers": kl.Branch(
        {
            1: {},
            2: {"units2": kl.Int(8, 128), "dropout2": kl.Real(0.0, 0.5)},
            3: {
                "units3": kl.Int(8, 64, log=True),
                "norm": kl.Branch({"none": {}, "batch": {"momentum": (0.9, 0.99, 4)}, "layer": {"eps": [1e-5, 1e-3]}}),
            },
        }
    ),
}


def nested_space() -> Space:
    return Space(NESTED)


def assert_one_line_error(excinfo, *fragments: str) -> None:
    text = str(excinfo.value)
    assert "\n" not in text, f"error spans several lines: {text!r}"
    for f in fragments:
        assert f in text, f"{f!r} missing from {text!r}"


# ---- knob kinds ----


def test_real_linear_maps_the_unit_interval_onto_the_range():
    s = Space({"x": kl.Real(-2.0, 6.0)})
    assert s.from_unit([0.0]) == {"x": -2.0}
    assert s.from_unit([0.5]) == {"x": 2.0}
    assert s.from_unit([1.0]) == {"x": 6.0}
    for v in (-2.0, -1.25, 0.0, 3.3, 6.0):
        assert s.from_unit(s.to_unit({"x": v}))["x"] == pytest.approx(v)


def test_real_log_is_uniform_in_log_space():
    s = Space({"lr": kl.Real(1e-4, 1e-1, log=True)})
    assert s.from_unit([0.5])["lr"] == pytest.approx(10**-2.5)
    assert s.to_unit({"lr": 1e-3})[0] == pytest.approx(1 / 3)
    rng = np.random.default_rng(1)
    draws = np.array([s.sample(rng)["lr"] for _ in range(3000)])
    assert draws.min() >= 1e-4 and draws.max() <= 1e-1
    # a quarter of log-uniform draws lie in each quarter of the decades
    share = np.mean(draws < 10 ** (-4 + 0.75))
    assert 0.2 < share < 0.3
    for v in (1e-4, 3e-4, 0.05, 0.1):
        assert s.from_unit(s.to_unit({"lr": v}))["lr"] == pytest.approx(v)


def test_int_covers_every_value_with_equal_weight_and_round_trips():
    s = Space({"n": kl.Int(1, 4)})
    assert [s.from_unit([u])["n"] for u in (0.0, 0.24, 0.26, 0.5, 0.74, 0.76, 0.999, 1.0)] == [1, 1, 2, 3, 3, 4, 4, 4]
    for v in range(1, 5):
        assert s.from_unit(s.to_unit({"n": v})) == {"n": v}
    rng = np.random.default_rng(2)
    counts = np.bincount([s.sample(rng)["n"] for _ in range(4000)], minlength=5)[1:]
    assert counts.min() > 850 and counts.max() < 1150
    assert all(type(s.sample(i)["n"]) is int for i in range(5))


def test_int_log_gives_integers_spread_on_a_log_scale():
    s = Space({"units": kl.Int(8, 256, log=True)})
    rng = np.random.default_rng(3)
    draws = np.array([s.sample(rng)["units"] for _ in range(3000)])
    assert draws.min() >= 8 and draws.max() <= 256
    assert all(isinstance(int(d), int) for d in draws)
    assert 0.4 < np.mean(draws < 45) < 0.6  # the log-midpoint of 8..256 is ~45
    for v in (8, 9, 45, 255, 256):
        assert s.from_unit(s.to_unit({"units": v})) == {"units": v}


def test_int_step_stays_on_the_step():
    s = Space({"batch": kl.Int(16, 128, step=16)})
    values = {s.sample(i)["batch"] for i in range(400)}
    assert values == {16, 32, 48, 64, 80, 96, 112, 128}
    assert s.grid_size() == 8
    assert s.contains({"batch": 48}) and not s.contains({"batch": 50})
    for v in values:
        assert s.from_unit(s.to_unit({"batch": v})) == {"batch": v}


def test_list_is_a_categorical_knob():
    s = Space({"opt": ["adam", "nadam", "rmsprop"]})
    assert isinstance(s.knobs["opt"], Categorical)
    assert [s.from_unit([u])["opt"] for u in (0.0, 0.4, 0.9)] == ["adam", "nadam", "rmsprop"]
    for c in ("adam", "nadam", "rmsprop"):
        assert s.from_unit(s.to_unit({"opt": c})) == {"opt": c}
    assert s.grid_size() == 3


def test_categorical_keeps_mixed_types_apart():
    s = Space({"c": [0, 1, None, "1", True]})
    assert s.grid_size() == 5
    assert s.contains({"c": None}) and s.contains({"c": "1"}) and s.contains({"c": True})
    assert not s.contains({"c": "2"})
    for i in range(5):
        p = s.grid_point(i)
        assert s.grid_index(p) == i
        assert s.from_unit(s.to_unit(p)) == p and type(s.from_unit(s.to_unit(p))["c"]) is type(p["c"])


def test_scalar_is_fixed_and_takes_no_dimension():
    s = Space({"epochs": 100, "name": "mlp", "flag": None, "x": kl.Real(0, 1)})
    assert isinstance(s.knobs["epochs"], Fixed)
    assert s.ndim == 1 and s.names == ["x"]
    p = s.sample(0)
    assert p["epochs"] == 100 and p["name"] == "mlp" and p["flag"] is None
    assert s.from_unit([0.3])["epochs"] == 100


def test_a_fixed_value_is_matched_by_kind_not_by_equality_alone():
    """bool subclasses int, so True == 1: yet True is not the fixed value 1, nor 1 the fixed value True."""
    assert Fixed(1).contains(1) and Fixed(1).contains(1.0) and Fixed(1).contains(np.int64(1))
    assert not Fixed(1).contains(True) and not Fixed(1.0).contains(True) and not Fixed(0).contains(False)
    assert not Fixed(True).contains(1) and not Fixed(False).contains(0) and Fixed(True).contains(np.bool_(True))
    assert not Fixed(1).contains("1") and Fixed(None).contains(None) and not Fixed(None).contains(0)
    s = Space({"epochs": 1, "flag": True, "x": kl.Real(0, 1)})
    with pytest.raises(ValueError, match="knob 'epochs': got True"):
        s.validate({"epochs": True, "flag": True, "x": 0.5})
    with pytest.raises(ValueError, match="knob 'flag': got 1"):
        s.validate({"epochs": 1, "flag": 1, "x": 0.5})
    assert not s.contains({"epochs": True, "flag": True, "x": 0.5})
    clean = s.validate({"epochs": 1.0, "x": 0.5})  # the same number: stored as the knob's own value
    assert clean == {"epochs": 1, "flag": True, "x": 0.5} and type(clean["epochs"]) is int


def test_bool_knob():
    s = Space({"shuffle": kl.Bool()})
    assert {s.sample(i)["shuffle"] for i in range(50)} == {False, True}
    assert all(type(s.sample(i)["shuffle"]) is bool for i in range(10))
    assert s.grid_size() == 2
    assert not s.contains({"shuffle": 1})


def test_talos_tuple_gives_n_evenly_spaced_values_ends_included():
    s = Space({"dropout": (0.0, 0.5, 6)})
    assert s.knobs["dropout"].choices == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert s.grid_size() == 6
    # a value written by hand, as people enqueue it, is on the grid
    assert s.validate({"dropout": 0.3}) == {"dropout": 0.3}
    s = Space({"lr": (0.5, 5, 10)})
    assert s.knobs["lr"].choices[0] == 0.5 and s.knobs["lr"].choices[-1] == 5.0
    assert np.allclose(np.diff(s.knobs["lr"].choices), 0.5)


def test_talos_int_tuple_gives_ints():
    s = Space({"neurons": (10, 100, 10)})
    assert s.knobs["neurons"].choices == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert all(type(c) is int for c in s.knobs["neurons"].choices)
    assert all(type(s.sample(i)["neurons"]) is int for i in range(20))
    # int ends give ints even where the steps do not divide evenly (rounded half up), both ends kept
    assert Space({"x": (1, 10, 3)}).knobs["x"].choices == [1, 6, 10]
    batch = Space({"batch_size": (2, 30, 10)}).knobs["batch_size"].choices  # a Talos template's tuple
    assert batch == [2, 5, 8, 11, 14, 18, 21, 24, 27, 30] and all(type(c) is int for c in batch)
    with pytest.raises(ValueError, match=r"knob 'x'.*would repeat: at most 3 fit"):
        Space({"x": (1, 3, 5)})


def test_branch_nested_two_deep_samples_exactly_the_active_knobs():
    s = nested_space()
    rng = np.random.default_rng(4)
    seen_paths = set()
    for _ in range(600):
        p = s.sample(rng)
        assert set(p) == active_names(NESTED, p), p
        assert s.contains(p)
        seen_paths.add((p["layers"], p.get("norm")))
    assert seen_paths == {(1, None), (2, None), (3, "none"), (3, "batch"), (3, "layer")}


def test_unit_cube_round_trip_of_a_conditional_space():
    s = nested_space()
    assert s.ndim == len(s.names) == 14 - 1  # every knob of the tree but the fixed "epochs"
    rng = np.random.default_rng(5)
    for _ in range(200):
        p = s.sample(rng)
        u = s.to_unit(p)
        assert u.shape == (s.ndim,)
        active = s.active_mask(p)
        assert np.all(np.isfinite(u[active])) and np.all(np.isnan(u[~active]))
        assert np.all((u[active] >= 0) & (u[active] <= 1))
        back = s.from_unit(np.where(np.isnan(u), rng.random(s.ndim), u))
        assert set(back) == set(p)
        for k, v in p.items():
            if isinstance(v, float):
                assert back[k] == pytest.approx(v, rel=1e-9), k
            else:
                assert back[k] == v and type(back[k]) is type(v), k


def test_from_unit_rejects_a_point_of_the_wrong_size():
    with pytest.raises(ValueError, match="expected a point of 2 coordinates"):
        Space({"a": kl.Real(0, 1), "b": [1, 2]}).from_unit([0.5])


def test_a_knob_object_used_under_two_names_makes_two_knobs():
    shared = kl.Int(8, 64)
    s = Space({"a": shared, "b": shared})
    assert s.names == ["a", "b"]
    assert set(s.sample(0)) == {"a", "b"}


def test_describe_round_trips_through_json():
    import json

    s = nested_space()
    description = json.loads(json.dumps(s.describe()))
    again = Space.from_description(description)
    assert again.describe() == s.describe()
    assert again.names == s.names
    for i in range(20):
        assert again.sample(i) == s.sample(i)
    assert again.grid_size(resolution=3) == s.grid_size(resolution=3)


# ---- validate ----


def test_validate_fills_fixed_knobs_and_returns_clean_values():
    s = nested_space()
    p = {
        "lr": 0.01,
        "units": 32,
        "batch": 64,
        "dropout": 0.2,
        "optimizer": "nadam",
        "shuffle": True,
        "layers": 3,
        "units3": 16,
        "norm": "batch",
        "momentum": 0.96,
    }
    clean = s.validate(p)
    assert clean["epochs"] == 100 and clean["momentum"] == pytest.approx(0.96)
    assert s.contains(clean)
    # numpy scalars come back as plain Python values (JSON-able)
    clean = s.validate({**p, "units": np.int64(32), "lr": np.float32(0.01)})
    assert type(clean["units"]) is int and type(clean["lr"]) is float


@pytest.mark.parametrize(
    "change, fragments",
    [
        ({"lr": 0.5}, ["'lr'", "0.5"]),
        ({"units": 7}, ["'units'", "7"]),
        ({"batch": 20}, ["'batch'", "20"]),
        ({"optimizer": "sgd"}, ["'optimizer'", "'sgd'"]),
        ({"shuffle": "yes"}, ["'shuffle'", "'yes'"]),
        ({"dropout": 0.25}, ["'dropout'", "0.25"]),
        ({"layers": 4}, ["'layers'", "4"]),
        ({"epochs": 5}, ["'epochs'", "5"]),
        ({"colour": "red"}, ["'colour'", "not in the space"]),
        ({"units2": 10}, ["'units2'", "not active"]),
        ({"lr": None}, ["'lr'", "None"]),
    ],
)
def test_validate_names_the_bad_knob(change, fragments):
    s = nested_space()
    p = {"lr": 0.01, "units": 32, "batch": 64, "dropout": 0.2, "optimizer": "adam", "shuffle": False, "layers": 1}
    assert s.validate(p)
    with pytest.raises(ValueError) as e:
        s.validate({**p, **change})
    assert_one_line_error(e, *fragments)


def test_validate_a_missing_knob_names_it():
    s = nested_space()
    with pytest.raises(ValueError, match=r"knob 'units2': missing") as e:
        s.validate(
            {"lr": 0.01, "units": 32, "batch": 64, "dropout": 0.2, "optimizer": "adam", "shuffle": False, "layers": 2}
        )
    assert_one_line_error(e)


# ---- validation errors of the space itself ----


@pytest.mark.parametrize(
    "spec, fragments",
    [
        ({"opt": []}, ["'opt'", "[]", "at least one"]),
        ({"lr": kl.Real(0.1, 0.1)}, ["'lr'", "(0.1, 0.1)", "low must be < high"]),
        ({"lr": kl.Real(1.0, 0.1)}, ["'lr'", "(1.0, 0.1)", "low must be < high"]),
        ({"n": kl.Int(5, 5)}, ["'n'", "(5, 5)", "low must be < high"]),
        ({"n": (5, 1, 3)}, ["'n'", "(5, 1, 3)", "low must be < high"]),
        ({"lr": kl.Real(0.0, 1.0, log=True)}, ["'lr'", "0", "low > 0"]),
        ({"lr": kl.Real(-1.0, 1.0, log=True)}, ["'lr'", "-1", "low > 0"]),
        ({"units": kl.Int(0, 10, log=True)}, ["'units'", "0", "low > 0"]),
        ({"act": ("relu", "elu", 2)}, ["'act'", "('relu', 'elu', 2)", "(low, high, n)"]),
        ({"act": (0.1, 0.2)}, ["'act'", "(0.1, 0.2)", "(low, high, n)"]),
        ({"d": (0.0, 1.0, 2.5)}, ["'d'", "2.5", "integer"]),
        ({"w": {1, 2}}, ["'w'", "{1, 2}", "set", "allowed"]),
        ({"w": object()}, ["'w'", "object", "stored by reference", "allowed"]),
        ({"w": lambda x: x}, ["'w'", "lambda", "module level"]),
        ({"w": [1, complex(1, 2)]}, ["'w'", "(1+2j)", "complex"]),
        ({"w": [0.1, math.nan]}, ["'w'", "nan", "finite"]),
        ({"w": math.nan}, ["'w'", "nan", "finite"]),
        ({"w": (math.nan, 1.0, 3)}, ["'w'", "nan", "finite"]),
        ({"w": [{1, 2}]}, ["'w'", "set"]),
        ({"w": {"a": 1}}, ["'w'", "{'a': 1}", "allowed"]),
        ({"n": kl.Int(1.5, 3)}, ["'n'", "1.5", "integer"]),
        ({"n": kl.Int(1, 9, step=0)}, ["'n'", "0", "step"]),
        ({"x": kl.Real("a", 1.0)}, ["'x'", "'a'", "numeric"]),
        ({"x": kl.Real(0.0, math.inf)}, ["'x'", "inf", "finite"]),
        ({"c": [1, 2, 1]}, ["'c'", "1", "distinct"]),
        ({"b": kl.Branch({})}, ["'b'", "[]", "at least one"]),
        ({"b": kl.Branch({1: {}, 2: [3]})}, ["'b'", "[3]", "dict"]),
        ({"b": kl.Branch(["a", "b"])}, ["'b'", "['a', 'b']", "dict"]),
    ],
)
def test_bad_knob_is_one_line_naming_the_knob_and_the_value(spec, fragments):
    with pytest.raises(ValueError) as e:
        Space(spec)
    assert_one_line_error(e, *fragments)


@pytest.mark.parametrize(
    "spec",
    [
        {"units": kl.Int(8, 64), "layers": kl.Branch({1: {}, 2: {"units": kl.Int(8, 64)}})},
        {"deep": 3, "a": kl.Branch({1: {"b": kl.Branch({"x": {"deep": 1}})}})},
        {"a": kl.Branch({1: {"units": [1, 2]}}), "units": [3, 4]},
        {"a": kl.Branch({1: {"b": kl.Branch({"x": {}})}, 2: {"b": kl.Branch({"y": {}})}})},
        {"a": kl.Branch({1: {"b": [1, 2]}, 2: {"b": kl.Branch({"y": {}})}})},
    ],
)
def test_a_name_used_twice_across_branches_is_an_error(spec):
    name = next(n for n in ("units", "deep", "b") if f"'{n}'" in str(spec))
    with pytest.raises(ValueError, match=rf"knob '{name}'.*used twice") as e:
        Space(spec)
    assert_one_line_error(e)


def test_options_of_one_branch_may_each_hold_a_knob_of_the_same_name():
    # as in scikit-learn's list of param grids: each option has its own `C`, a dimension of its own
    s = Space({"kernel": kl.Branch({"linear": {"C": [1, 10]}, "rbf": {"C": [0.1, 1, 10, 100], "gamma": [1, 2]}})})
    assert s.ndim == 4 and s.grid_size() == 2 + 8
    points = list(s.grid())
    assert {"kernel": "linear", "C": 10} in points and {"kernel": "rbf", "C": 100, "gamma": 2} in points
    assert all(s.grid_point(s.grid_index(p)) == p for p in points)
    for seed in range(30):
        p = s.sample(seed)
        assert s.validate(p) == p
        assert p["C"] in ([1, 10] if p["kernel"] == "linear" else [0.1, 1, 10, 100])
        u = s.to_unit(p)
        assert s.from_unit(np.where(np.isnan(u), 0.5, u)) == p
    with pytest.raises(ValueError, match="knob 'C'.*outside"):
        s.validate({"kernel": "linear", "C": 100})


def test_a_list_of_dicts_is_a_branch_over_which_dict_a_point_comes_from():
    grids = [{"kernel": ["linear"], "C": [1, 10]}, {"kernel": ["rbf"], "C": [1, 10], "gamma": [0.1, 0.01]}]
    s = Space(grids)
    assert s.grid_size() == 2 + 4
    points = list(s.grid())
    assert points[0] == {"_grid": 0, "kernel": "linear", "C": 1}
    assert {"_grid": 1, "kernel": "rbf", "C": 10, "gamma": 0.01} in points
    assert Space.from_description(s.describe()).grid_size() == 6


def test_space_must_be_a_dict():
    with pytest.raises(ValueError, match="a space is a dict of knobs.*got list"):
        Space([("a", 1)])
    with pytest.raises(ValueError, match=r"space: got an empty dict \{\}"):
        Space({})


# ---- grids ----

TALOS_180K = {
    "lr": (0.5, 5, 10),
    "first_neuron": [4, 8, 16, 32, 64],
    "hidden_layers": [0, 1, 2, 3, 4, 5],
    "batch_size": (2, 30, 10),
    "epochs": [50, 100, 150],
    "dropout": (0, 0.5, 5),
    "optimizer": ["adam", "nadam", "rmsprop", "sgd"],
    "activation": "relu",
    "last_activation": "sigmoid",
}


def test_grid_size_of_180k_is_exact_and_instant():
    s = Space(TALOS_180K)
    t0 = time.perf_counter()
    assert s.grid_size() == 180_000
    assert time.perf_counter() - t0 < 0.05


def test_grid_size_of_an_astronomical_space_needs_no_enumeration():
    s = Space({f"k{i}": list(range(10)) for i in range(30)})
    t0 = time.perf_counter()
    assert s.grid_size() == 10**30
    p = s.grid_point(10**30 - 1)
    assert all(v == 9 for v in p.values())
    assert s.grid_index(s.grid_point(123456789012345678901234567)) == 123456789012345678901234567
    assert time.perf_counter() - t0 < 0.5


def test_grid_point_and_index_round_trip_on_random_indices():
    s = Space(TALOS_180K)
    rng = random.Random(0)
    seen = set()
    for index in [0, 1, 179_999, *rng.sample(range(180_000), 300)]:
        p = s.grid_point(index)
        assert s.contains(p), p
        assert s.grid_index(p) == index
        seen.add(tuple(sorted(p.items())))
    assert len(seen) == 303
    assert s.grid_point(0)["lr"] == 0.5 and s.grid_point(179_999)["optimizer"] == "sgd"
    with pytest.raises(IndexError):
        s.grid_point(180_000)
    assert s.grid_index({**s.grid_point(5), "lr": 0.75}) is None


def test_grid_of_a_conditional_space_sums_the_branches():
    spec = {
        "opt": ["a", "b"],
        "layers": kl.Branch(
            {
                1: {},
                2: {"u": [1, 2, 3]},
                3: {"v": [1, 2], "w": kl.Branch({"x": {}, "y": {"z": [1, 2, 3, 4]}})},
            }
        ),
        "fixed": 7,
    }
    s = Space(spec)
    assert s.grid_size() == 2 * (1 + 3 + 2 * (1 + 4))
    points = list(s.grid())
    assert len(points) == s.grid_size()
    assert len({tuple(sorted(p.items())) for p in points}) == len(points)
    for i, p in enumerate(points):
        assert s.contains(p), p
        assert set(p) == active_names(spec, p)
        assert s.grid_index(p) == i


def test_real_knob_needs_a_grid_resolution_with_a_clear_error():
    s = Space({"lr": kl.Real(1e-4, 1e-1, log=True), "opt": ["a", "b"]})
    assert not s.is_finite
    with pytest.raises(ValueError, match=r"knob 'lr'.*no finite grid.*grid_resolution") as e:
        s.grid_size()
    assert_one_line_error(e)
    assert s.grid_size(resolution=4) == 8
    lrs = sorted({p["lr"] for p in s.grid(resolution=4)})
    assert lrs == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])
    for i in range(8):
        assert s.grid_index(s.grid_point(i, resolution=4), resolution=4) == i


def test_is_finite_and_is_conditional():
    assert Space(TALOS_180K).is_finite
    assert not Space(TALOS_180K).is_conditional
    assert nested_space().is_conditional
    assert not nested_space().is_finite


# ---- values that do not survive JSON, huge knobs, foreign distributions (issues 14 and 15) ----


def test_a_nan_fixed_value_or_choice_is_refused_naming_the_knob():
    for spec in ({"x": math.nan}, {"x": [1.0, math.nan]}, {"x": (math.nan, 1.0, 3)}, {"x": (0.0, math.inf, 3)}):
        with pytest.raises(ValueError, match=r"^knob 'x'.*finite"):
            Space(spec)


def test_a_tuple_choice_survives_storage_and_a_grid_does_not_rerun_it(sqlite_url):
    runs = []
    space = {"shape": [(64, 32), (16,), (8, 8, 8)], "act": ["relu", "tanh"]}
    for _ in range(2):
        exp = kl.Experiment("tuples", space, storage=sqlite_url, strategy="grid", seed=0)
        exp.optimize(lambda t: runs.append(t.params["shape"]) or len(t.params["shape"]))
    assert len(runs) == 6 and all(isinstance(s, tuple) for s in runs)
    assert sorted({t.params["shape"] for t in exp.trials}) == sorted({(64, 32), (16,), (8, 8, 8)})


def test_huge_finite_knobs_are_indexed_lazily():
    big = Space({"n": kl.Int(0, 10**12), "x": (0.0, 1.0, 10**9)})
    assert big.grid_size() == (10**12 + 1) * 10**9
    p = big.grid_point(big.grid_size() - 1)
    assert p == {"n": 10**12, "x": 1.0} and big.grid_index(p) == big.grid_size() - 1
    x = big.knobs["x"]
    assert x.index(x.choices[123_456_789]) == 123_456_789 and not x.contains(0.5)  # 0.5 lies between two values
    assert big.describe()["x"] == {"kind": "categorical", "linspace": [0.0, 1.0, 10**9, False], "ordered": True}
    assert Space.from_description(big.describe()).grid_size() == big.grid_size()
    assert Space({"x": (0, 10**12, 10**9)}).knobs["x"].choices[1] == 1000


def test_an_int_knob_of_a_billion_values_runs_with_the_default_strategy(sqlite_url):
    exp = kl.Experiment("huge_int", {"n": kl.Int(0, 10**9), "m": [1, 2]}, storage=sqlite_url, seed=0)
    exp.optimize(lambda t: (t.params["n"] % 1000) / t.params["m"], n_trials=12)
    assert len(exp.trials) == 12


def test_a_fraction_of_a_grid_of_10_to_the_400_points(sqlite_url):
    space = {f"k{i}": list(range(10)) for i in range(400)}
    exp = kl.Experiment("huge_grid", space, storage=sqlite_url, seed=0)
    assert exp.space.grid_size() == 10**400
    exp.optimize(lambda t: 1.0, fraction_limit=1e-300, n_trials=5)
    assert len(exp.trials) == 5


def _scipy_cases():
    from scipy import stats

    return [
        (stats.randint(1, 100), kl.Int(1, 99)),
        (stats.randint(low=0, high=5), kl.Int(0, 4)),
        (stats.uniform(0, 1), kl.Real(0.0, 1.0)),
        (stats.uniform(loc=0.1, scale=0.4), kl.Real(0.1, 0.5)),
        (stats.loguniform(1e-4, 1e-1), kl.Real(1e-4, 1e-1, log=True)),
        (stats.reciprocal(1e-3, 1.0), kl.Real(1e-3, 1.0, log=True)),
    ]


@pytest.mark.parametrize("dist, knob", _scipy_cases())
def test_scipy_stats_distributions_become_knobs(dist, knob):
    assert repr(Space({"k": dist}).knobs["k"]) == repr(Space({"k": knob}).knobs["k"])


def test_other_scipy_distributions_are_refused_naming_the_knob():
    from scipy import stats

    with pytest.raises(ValueError, match=r"^knob 'k': got scipy.stats.norm; allowed scipy.stats distributions"):
        Space({"k": stats.norm(0, 1)})


def test_the_constraint_rules_out_points_and_counts_the_grid():
    s = Space({"a": [1, 2, 3], "b": [10, 20]}, constraint=lambda p: p["a"] * p["b"] < 40)
    assert s.grid_size() == 4 and s.grid_extent() == 6
    assert list(s.grid()) == [{"a": 1, "b": 10}, {"a": 1, "b": 20}, {"a": 2, "b": 10}, {"a": 3, "b": 10}]
    bad = Space({"a": [1, 2]}, constraint=lambda p: p["missing"] > 0)
    with pytest.raises(ValueError, match=r"^constraint: raised KeyError"):
        bad.grid_size()
    with pytest.raises(ValueError, match="no point of the grid satisfies it"):
        Space({"a": [1, 2]}, constraint=lambda p: False).grid_size()


def test_a_constraint_over_a_huge_grid_is_estimated():
    s = Space({"a": kl.Int(0, 10**7), "b": [0, 1]}, constraint=lambda p: p["a"] % 4 == 0)
    assert not s.grid_size_is_exact()
    assert abs(s.grid_size() / (s.grid_extent() / 4) - 1) < 0.05
