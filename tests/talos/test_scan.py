"""talos.Scan with real Keras training on tiny data: Talos' budgets and results, knoblab's storage underneath."""

import csv
import math

import numpy as np
import pandas as pd
import pytest

import knoblab as kl
import knoblab.talos as talos
from knoblab.keras import ModelFunctionError
from knoblab.talos.exceptions import TalosDataError

from .conftest import iris_model, keras

P = {"first_neuron": [4, 8], "activation": ["relu", "elu"], "batch_size": [16], "epochs": [2]}


def test_data_has_talos_columns_then_ours(small_iris, in_tmp):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "iris", round_limit=3, seed=0, disable_progress_bar=True)
    data = scan.data
    assert list(data.columns) == [
        "start", "end", "duration", "round_epochs",
        "acc", "loss", "val_acc", "val_loss",
        "first_neuron", "activation", "batch_size", "epochs",
        "number", "state", "round", "error",
    ]  # fmt: skip
    assert list(data.index) == [0, 1, 2] and (data["state"] == "COMPLETE").all()
    assert (data["round_epochs"] == 2).all()
    for i in range(3):  # each metric column is the round's last epoch
        assert data["val_acc"][i] == scan.round_history[i]["val_acc"][-1]
        assert len(scan.round_history[i]["loss"]) == 2
    assert pd.to_datetime(data["start"], format="%m/%d/%y-%H%M%S").notna().all()
    assert list(scan.round_times.columns) == ["start", "end", "duration"]
    assert list(scan.learning_entropy.columns) == ["acc", "loss"] and len(scan.learning_entropy) == 3
    assert scan.details["experiment_name"] == "iris" and scan.details["x_shape"] == (60, 4)
    # the rounds are knoblab trials in ./knoblab.db, the models beside the experiment log
    exp = kl.Experiment.load("iris")
    assert [t.number for t in exp.trials] == list(data["number"])
    models = sorted(p.name for p in (in_tmp / "knoblab_artifacts" / "iris").iterdir())
    assert models == [f"trial_0000{i}.keras" for i in range(3)]
    assert [p.name for p in (in_tmp / "iris").iterdir()] == [f"{scan.experiment_id}.csv"]  # Talos' folder, as Talos


def test_the_experiment_log_csv_is_talos_layout(small_iris):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "iris", round_limit=2, seed=0, disable_progress_bar=True)
    with open(f"iris/{scan.experiment_id}.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["round_epochs", "acc", "loss", "val_acc", "val_loss", "first_neuron", "activation",
                       "batch_size", "epochs"]  # fmt: skip
    assert len(rows) == 3
    log = pd.read_csv(f"iris/{scan.experiment_id}.csv")
    np.testing.assert_allclose(log["val_loss"], scan.data["val_loss"])


def test_no_limit_runs_the_whole_grid_in_order(small_iris):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "grid", disable_progress_bar=True)
    assert list(zip(scan.data["first_neuron"], scan.data["activation"], strict=True)) == [
        (4, "relu"), (4, "elu"), (8, "relu"), (8, "elu"),
    ]  # fmt: skip


def test_fraction_limit_rounds_down_as_talos(small_iris):
    x, y = small_iris
    p = {**P, "first_neuron": [2, 3, 4], "epochs": [1]}  # 6 permutations
    scan = talos.Scan(x, y, p, iris_model, "f", fraction_limit=0.5, disable_progress_bar=True)
    assert len(scan.data) == 3
    assert len({tuple(r) for r in scan.data[["first_neuron", "activation"]].values}) == 3  # no repeats
    with pytest.raises(TalosDataError, match="fraction_limit=0.1 of 6 permutations is less than one round"):
        talos.Scan(x, y, p, iris_model, "g", fraction_limit=0.1)


def test_an_integer_range_gives_integer_batch_sizes(small_iris):
    x, y = small_iris
    p = {"batch_size": (2, 30, 10), "epochs": [1]}
    scan = talos.Scan(x, y, p, iris_model, "b", round_limit=2, disable_progress_bar=True)
    assert all(isinstance(v, int) and v in [2, 4, 7, 10, 13, 16, 18, 21, 24, 27] for v in scan.data["batch_size"])
    assert (scan.data["state"] == "COMPLETE").all()


def test_the_same_dict_continues_and_another_starts_a_new_run(small_iris, capsys):
    x, y = small_iris
    first = talos.Scan(x, y, P, iris_model, "again", round_limit=2, disable_progress_bar=True)
    again = talos.Scan(x, y, P, iris_model, "again", round_limit=3, disable_progress_bar=True)
    out = capsys.readouterr().out
    assert "talos: experiment 'again' continues (2 of 3 rounds stored" in out
    assert len(again.data) == 3 and list(again.data["number"][:2]) == list(first.data["number"])
    assert again.experiment_id == first.experiment_id
    other = talos.Scan(x, y, {**P, "first_neuron": [4, 8, 16]}, iris_model, "again", round_limit=1)
    out = capsys.readouterr().out
    assert (
        "talos: experiment 'again' already holds a scan with another params dict (knob 'first_neuron' changed); "
        "this scan starts a new run, stored as experiment 'again#2'"
    ) in out
    assert other.experiment.name == "again#2" and len(other.data) == 1 and other.experiment_id != first.experiment_id
    # other data is another run too
    fewer = talos.Scan(x[:50], y[:50], P, iris_model, "again", round_limit=1, disable_progress_bar=True)
    assert fewer.experiment.name == "again#3" and "already holds a scan with other data" in capsys.readouterr().out
    # and the first params dict still continues its own run
    third = talos.Scan(x, y, P, iris_model, "again", round_limit=3, disable_progress_bar=True)
    assert third.experiment.name == "again" and len(third.data) == 3


def test_performance_target_ends_the_scan_once_met(small_iris, capsys):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "t", performance_target=["loss", 100.0, True], disable_progress_bar=True)
    assert len(scan.data) == 1 and "Target 100.000 have been met." in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"performance_target: got \['acc', 0.5\]; give \[metric, value, is_loss\]"):
        talos.Scan(x, y, P, iris_model, "t2", performance_target=["acc", 0.5])
    with pytest.raises(ValueError, match="performance_target: metric 'f1' is not among the metrics the model logs"):
        talos.Scan(x, y, P, iris_model, "t3", performance_target=["f1", 0.5, False], disable_progress_bar=True)


def test_a_time_limit_already_past_runs_nothing(small_iris):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "late", time_limit="2001-01-01 00:00", disable_progress_bar=True)
    assert len(scan.data) == 0
    with pytest.raises(ValueError, match="time_limit: got 'tomorrow'; give 'YYYY-MM-DD HH:MM'"):
        talos.Scan(x, y, P, iris_model, "late", time_limit="tomorrow")


def test_print_params_prints_each_rounds_params(small_iris, capsys):
    x, y = small_iris
    talos.Scan(x, y, P, iris_model, "pp", round_limit=2, print_params=True, disable_progress_bar=True)
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert len(printed) == 2 and "'first_neuron':" in printed[0]


def test_best_model_picks_the_row_by_metric_and_direction(small_iris):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "best", disable_progress_bar=True)
    for metric, asc in (("val_loss", True), ("val_loss", False), ("acc", False)):
        row = scan.data[metric].idxmin() if asc else scan.data[metric].idxmax()
        model = scan.best_model(metric, asc)
        reference = scan._model(row)
        np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0))
    assert (
        scan.best_model("val_loss", True).layers[0].units
        == scan.data.loc[scan.data["val_loss"].idxmin(), "first_neuron"]
    )
    with pytest.raises(ValueError, match="metric 'val_f1' is not a column of scan.data; its metrics:"):
        scan.best_model("val_f1")
    assert len(scan.saved_models) == 4 and isinstance(scan.saved_models[0], str)
    assert [w.shape for w in scan.saved_weights[0]] == [w.shape for w in scan._model(0).get_weights()]


def test_without_weights_no_model_is_kept(small_iris):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "nw", round_limit=1, save_weights=False, disable_progress_bar=True)
    with pytest.raises(FileNotFoundError, match="save_weights=False and save_models=False keep no models"):
        scan.best_model("val_acc")


def test_evaluate_models_adds_kfold_scores_for_the_best_rounds(small_iris):
    x, y = small_iris
    scan = talos.Scan(x, y, P, iris_model, "ev", disable_progress_bar=True)
    scan.evaluate_models(x, y, task="multi_label", n_models=2, metric="val_loss", folds=3, asc=True)
    scored = scan.data["eval_f1score_mean"].notna()
    assert scored.sum() == 2
    assert set(scan.data.index[scored]) == set(scan.data["val_loss"].nsmallest(2).index)
    assert scan.data.loc[scored, "eval_f1score_mean"].between(0, 1).all()


def test_failed_rounds_are_rows_with_their_reason(small_iris, capsys):
    x, y = small_iris

    def fragile(x_train, y_train, x_val, y_val, params):
        if params["first_neuron"] == 8:
            raise RuntimeError("eight is too many")
        return iris_model(x_train, y_train, x_val, y_val, params)

    scan = talos.Scan(x, y, P, fragile, "fail", disable_progress_bar=True)
    assert list(scan.data["state"]) == ["COMPLETE", "COMPLETE", "FAILED", "FAILED"]
    assert scan.data["error"][2] == "RuntimeError: eight is too many" and math.isnan(scan.data["val_loss"][2])
    assert "talos: 2 of 4 rounds failed (the first: RuntimeError: eight is too many)" in capsys.readouterr().out


def test_a_diverged_round_stops_at_once_and_fails(small_iris):
    x, y = small_iris
    x = x.copy()
    x[0, 0] = np.nan
    scan = talos.Scan(x, y, P, iris_model, "nan", round_limit=1, disable_progress_bar=True)
    assert scan.data["state"][0] == "FAILED" and scan.data["round_epochs"][0] == 1
    assert "nan" in scan.data["error"][0]


def test_multi_input_lists_need_the_flag_and_multi_output_lists_work(small_iris):
    x, y = small_iris
    with pytest.raises(TypeError, match="For multi-input x, set multi_input to True"):
        talos.Scan([x, x], y, P, iris_model, "mi")

    def two_inputs(x_train, y_train, x_val, y_val, params):
        a, b = keras.Input((4,)), keras.Input((4,))
        hidden = keras.layers.Dense(params["first_neuron"])(keras.layers.concatenate([a, b]))
        model = keras.Model([a, b], keras.layers.Dense(3, activation="softmax")(hidden))
        model.compile("adam", "categorical_crossentropy", metrics=["acc"])
        return model.fit(x_train, y_train, validation_data=[x_val, y_val], epochs=1, verbose=0), model

    scan = talos.Scan([x, x * 2], y, P, two_inputs, "mi", multi_input=True, round_limit=1, disable_progress_bar=True)
    assert scan.data["state"][0] == "COMPLETE"

    def two_outputs(x_train, y_train, x_val, y_val, params):
        inputs = keras.Input((4,))
        hidden = keras.layers.Dense(params["first_neuron"], activation="relu")(inputs)
        out = [keras.layers.Dense(3, activation="softmax", name=n)(hidden) for n in ("a", "b")]
        model = keras.Model(inputs, out)
        model.compile("adam", loss=["categorical_crossentropy"] * 2, metrics=[["acc"], ["acc"]])
        return model.fit(x_train, y_train, validation_data=[x_val, y_val], epochs=1, verbose=0), model

    scan = talos.Scan(x, [y, y], P, two_outputs, "mo", round_limit=1, disable_progress_bar=True)
    assert scan.data["state"][0] == "COMPLETE" and "val_a_acc" in scan.data.columns


def test_what_is_not_a_keras_model_is_refused_in_one_line(small_iris):
    x, y = small_iris

    def torch_like(x_train, y_train, x_val, y_val, params):
        net = talos.utils.TorchHistory()
        net.append_loss(0.1)
        return net, iter([])

    with pytest.raises(ModelFunctionError, match="knoblab.talos runs Keras models"):
        talos.Scan(x, y, P, torch_like, "torch", round_limit=1, disable_progress_bar=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fraction_limit": 1.5}, r"fraction_limit: got 1.5; give a fraction in \(0, 1\]"),
        ({"round_limit": 0}, "round_limit: got 0; give an integer >= 1"),
        ({"reduction_method": "spearmen"}, "reduction_method: got 'spearmen'; allowed: None or one of"),
        ({"reduction_interval": 0}, "reduction_interval: got 0"),
        ({"random_method": "quantum", "round_limit": 2}, "random_method='quantum' draws from"),
        ({"experiment_name": ""}, "experiment_name: got ''"),
        ({"model": 3}, "model: got int"),
        ({"params": {"epochs": 2}}, "knob 'epochs': got 2"),
    ],
)
def test_bad_arguments_are_one_clear_line(small_iris, kwargs, match):
    x, y = small_iris
    args = {"params": P, "model": iris_model, "experiment_name": "bad", **kwargs}
    with pytest.raises(ValueError, match=match):
        talos.Scan(x, y, **args)


def _objects_model(x_train, y_train, x_val, y_val, params):
    """Talos' walkthroughs put functions, classes and Keras objects in params and use them as they are."""
    assert callable(params["activation"]) and isinstance(params["optimizer"], type)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(4, activation=params["activation"]), keras.layers.Dense(3)]
    )
    model.compile(optimizer=params["optimizer"](learning_rate=0.01), loss=params["losses"], metrics=["acc"])
    out = model.fit(x_train, y_train, validation_data=[x_val, y_val], epochs=1, batch_size=16, verbose=0)
    return out, model


def test_functions_classes_and_keras_objects_as_values(small_iris):
    x, y = small_iris
    p = {
        "activation": [keras.activations.relu, keras.activations.elu],
        "optimizer": [keras.optimizers.Adam, keras.optimizers.Adagrad],
        "losses": [keras.losses.categorical_crossentropy, keras.losses.CategoricalCrossentropy(from_logits=True)],
    }
    scan = talos.Scan(x, y, p, _objects_model, "objects", round_limit=3, seed=0, disable_progress_bar=True)
    assert (scan.data["state"] == "COMPLETE").all(), scan.data["error"].tolist()
    assert set(scan.data["activation"]) <= {"relu", "elu"} and set(scan.data["optimizer"]) <= {"Adam", "Adagrad"}
    assert scan.data["losses"].str.startswith(("categorical_crossentropy", "CategoricalCrossentropy")).all()
    # and the experiment log shows them by name too
    log = pd.read_csv(scan._log.path)
    assert list(log["optimizer"]) == list(scan.data["optimizer"])
    # the same dict, written again with the same objects, continues
    again = talos.Scan(x, y, dict(p), _objects_model, "objects", round_limit=3, seed=0, disable_progress_bar=True)
    assert again.experiment.name == "objects" and len(again.data) == 3


def test_boolean_limit_is_the_experiments_constraint(small_iris):
    x, y = small_iris
    p = {"first_neuron": [2, 4, 8, 16], "hidden": [0, 1, 2], "epochs": [1]}

    def model(x_train, y_train, x_val, y_val, params):
        return iris_model(x_train, y_train, x_val, y_val, params)

    scan = talos.Scan(
        x, y, p, model, "bool", fraction_limit=0.5, disable_progress_bar=True,
        boolean_limit=lambda p: p["first_neuron"] * p["hidden"] < 10,
    )  # fmt: skip
    # 9 of the 12 permutations pass; half of those, rounded down, run: 4, each within the limit
    assert len(scan.data) == 4
    assert all(n * h < 10 for n, h in zip(scan.data["first_neuron"], scan.data["hidden"], strict=True))
    full = talos.Scan(x, y, p, model, "bool_all", disable_progress_bar=True, boolean_limit=lambda p: p["hidden"] == 0)
    assert list(full.data["first_neuron"]) == [2, 4, 8, 16] and set(full.data["hidden"]) == {0}
