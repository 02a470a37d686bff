"""Knob values that are functions, classes, Keras objects, estimators or tuples (knoblab.values): stored by
reference, never pickled, shown by name, handed back to the objective as the objects."""

from __future__ import annotations

import json
import math
import sqlite3
import subprocess
import sys
import textwrap
from decimal import Decimal
from fractions import Fraction

import pytest

import knoblab as kl
from knoblab import values


def module_level_loss(y_true, y_pred):
    """A user's own loss function, importable by name."""
    return abs(y_true - y_pred)


def make_closure():
    def inner(x):
        return x

    return inner


# ---- the stored form ----


@pytest.mark.parametrize("value", [None, True, 3, 2.5, "adam", [1, 2], [[1, 2], "a"]])
def test_plain_values_are_their_own_stored_form(value):
    assert values.encode(value) == value
    assert values.decode(values.encode(value)) == value


@pytest.mark.parametrize(
    "value, stored",
    [
        (math.sqrt, {"$ref": "math:sqrt"}),
        (Fraction, {"$ref": "fractions:Fraction"}),
        (module_level_loss, {"$ref": f"{__name__}:module_level_loss"}),
        ((64, 32), {"$tuple": [64, 32]}),
        ((math.exp, (1,)), {"$tuple": [{"$ref": "math:exp"}, {"$tuple": [1]}]}),
    ],
)
def test_functions_classes_and_tuples_are_stored_by_reference_and_come_back_as_themselves(value, stored):
    assert values.encode(value) == stored
    json.dumps(stored)  # plain JSON
    back = values.decode(json.loads(json.dumps(stored)))
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize(
    "value, fragment",
    [
        (lambda x: x, "lambda"),
        (make_closure(), "closure"),
        ({1, 2}, "set"),
        (complex(1, 2), "complex"),
        (Decimal("0.1"), "Decimal"),
        (Fraction(1, 3), "Fraction"),
        (math.nan, "NaN"),
        (math.inf, "infinities"),
        (object(), "stored by reference"),
        ({"a": 1}, "kl.Branch"),
    ],
)
def test_what_cannot_be_stored_is_refused_with_the_reason(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        values.encode(value)


@pytest.mark.parametrize("value", [lambda x: x, make_closure(), {1, 2}, complex(1, 2), Decimal("0.1"), object()])
def test_a_bad_value_in_a_space_is_one_line_naming_the_knob(value):
    for spec in ({"w": [1, value]}, {"w": value}):
        with pytest.raises(ValueError) as e:
            kl.Space(spec)
        text = str(e.value)
        assert "\n" not in text and text.startswith("knob 'w'"), text


def test_display_names_objects_without_importing_anything():
    assert values.display({"$ref": "keras.activations:relu"}) == "relu"
    assert values.display({"$ref": "mod:Outer.method"}) == "method"
    assert values.display({"$tuple": [64, {"$tuple": [1]}]}) == "(64, (1,))"
    assert values.display({"$keras": "keras.optimizers:Adam", "config": {}, "name": "Adam(learning_rate=0.01)"}) == (
        "Adam(learning_rate=0.01)"
    )
    assert values.display(math.sqrt) == "sqrt" and values.display(3) == 3


def test_an_unresolvable_reference_decodes_to_a_placeholder_that_keeps_its_stored_form():
    stored = {"$ref": "__main__:not_defined_here"}
    placeholder = values.decode(stored)
    assert isinstance(placeholder, values.Unresolved) and repr(placeholder) == "not_defined_here"
    assert values.encode(placeholder) == stored
    with pytest.raises(ValueError, match="cannot rebuild not_defined_here"):
        values.decode(stored, strict=True)


def test_scikit_learn_estimators_are_stored_by_class_and_params():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.svm import SVC

    stored = values.encode(SVC(C=10.0, kernel="rbf"))
    assert stored["$object"] == "sklearn.svm._classes:SVC" and stored["params"]["C"] == 10.0
    assert stored["name"] == "SVC(C=10.0)"
    back = values.decode(json.loads(json.dumps(stored)))
    assert isinstance(back, SVC) and back.get_params() == SVC(C=10.0).get_params()
    assert sklearn is not None


# ---- through an experiment and its storage ----


def test_object_knobs_run_are_stored_as_json_shown_by_name_and_never_rerun(sqlite_url, tmp_path):
    space = {"act": [math.sqrt, math.exp, "linear"], "shape": [(64, 32), (16,)], "loss": module_level_loss}
    seen = []

    def objective(trial):
        p = trial.params
        seen.append(p)
        assert p["loss"] is module_level_loss and isinstance(p["shape"], tuple)
        return 10.0 if p["act"] == "linear" else p["act"](4.0)

    exp = kl.Experiment("objects", space, storage=sqlite_url, strategy="grid", seed=0)
    exp.optimize(objective)
    assert len(seen) == 6 and {p["act"] for p in seen} == {math.sqrt, math.exp, "linear"}
    # a rerun finds every point done, in its stored form: nothing runs twice
    kl.Experiment("objects", space, storage=sqlite_url, strategy="grid", seed=0).optimize(objective)
    assert len(seen) == 6
    table = exp.results
    assert set(table["act"]) == {"sqrt", "exp", "linear"} and set(table["shape"]) == {"(64, 32)", "(16,)"}
    assert set(table["loss"]) == {"module_level_loss"}
    assert exp.best.params["act"] is math.sqrt  # sqrt(4) = 2 < e^4 < 10 (linear); direction min
    with sqlite3.connect(tmp_path / "knoblab.db") as conn:
        raw = [json.loads(r[0]) for r in conn.execute("SELECT params FROM trials")]
    assert {"$ref": "math:sqrt"} in [r["act"] for r in raw] and all("$tuple" in r["shape"] for r in raw)


def test_a_model_based_strategy_and_enqueue_work_with_object_knobs(sqlite_url):
    space = {"act": [math.sqrt, math.exp, math.log1p], "x": kl.Real(1.0, 3.0)}
    exp = kl.Experiment("objects_tpe", space, storage=sqlite_url, strategy="tpe", seed=1)
    exp.enqueue({"act": math.log1p, "x": 2.0})
    exp.optimize(lambda t: t.params["act"](t.params["x"]), n_trials=16)
    assert exp.trials[0].params == {"act": math.log1p, "x": 2.0}
    assert all(t.state == kl.TrialState.COMPLETE for t in exp.trials)
    assert exp.best.params["act"] is math.log1p


def test_a_reopened_experiment_matches_object_knobs_in_their_stored_form(sqlite_url):
    space = {"act": [math.sqrt, math.exp], "n": [1, 2]}
    kl.Experiment("objects_load", space, storage=sqlite_url, strategy="grid", seed=0).optimize(
        lambda t: t.params["act"](t.params["n"]), n_trials=2
    )
    loaded = kl.Experiment.load("objects_load", storage=sqlite_url)
    loaded.optimize(lambda t: t.params["act"](t.params["n"]), n_trials=4)  # the space came from storage
    assert sorted((values.display(t.params["act"]), t.params["n"]) for t in loaded.trials) == [
        ("exp", 1),
        ("exp", 2),
        ("sqrt", 1),
        ("sqrt", 2),
    ]


@pytest.mark.slow
def test_process_workers_get_the_objects(sqlite_url, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import math
            import knoblab as kl

            def objective(trial):
                return trial.params["act"](trial.params["x"])

            if __name__ == "__main__":
                exp = kl.Experiment("objects_jobs", {{"act": [math.sqrt, math.exp], "x": [1.0, 2.0, 3.0]}},
                                    storage={sqlite_url!r}, strategy="grid", seed=0)
                exp.optimize(objective, n_jobs=2)
                print(sorted(round(t.value, 4) for t in exp.trials))
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    expected = sorted(round(f(x), 4) for f in (math.sqrt, math.exp) for x in (1.0, 2.0, 3.0))
    assert done.stdout.strip() == str(expected)


def test_a_function_of_the_script_is_unresolved_elsewhere_but_shown_by_name(sqlite_url, tmp_path):
    script = tmp_path / "main.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import knoblab as kl

            def my_loss(x):
                return x

            exp = kl.Experiment("main_refs", {{"loss": [my_loss, "mse"]}}, storage={sqlite_url!r}, strategy="grid")
            exp.optimize(lambda t: 1.0 if t.params["loss"] == "mse" else t.params["loss"](0.5))
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    exp = kl.Experiment.load("main_refs", storage=sqlite_url)  # this process has no my_loss
    assert set(exp.results["loss"]) == {"my_loss", "mse"}
    assert exp.best.value == 0.5 and repr(exp.best.params["loss"]) == "my_loss"
    trial = exp.ask(1)
    assert trial == []  # the grid is done
