"""Scan with several objectives and outcome constraints, on real Keras training: accuracy against parameter count
and measured latency."""

import pytest

import knoblab as kl
from knoblab.keras.cost import inference_latency, parameter_count
from knoblab.trial import TrialState

from .conftest import keras, tiny_model

SPACE = {"units": [2, 4, 16, 64], "lr": [0.01, 0.05], "epochs": 3}


def scan(tiny_data, tmp_path, sqlite_url, **kwargs):
    x, y = tiny_data
    options = dict(
        params=SPACE,
        model=tiny_model,
        experiment_name="tradeoff",
        storage=sqlite_url,
        seed=0,
        metric=["val_accuracy", "params"],
        artifacts_dir=tmp_path / "models",
        n_trials=6,
        strategy="random",
    )
    options.update(kwargs)
    return kl.Scan(x, y, **options)


def test_accuracy_against_parameters_with_a_limit(tiny_data, tmp_path, sqlite_url):
    s = scan(
        tiny_data,
        tmp_path,
        sqlite_url,
        constraints=["params <= 150"],
        extra_metrics=["params", "latency"],
        keep_models=6,
    )
    exp = s.experiment
    assert exp.metrics == ["val_accuracy", "params"] and exp.directions == ["max", "min"]  # inferred
    trials = exp.trials
    assert len(trials) == 6 and all(t.state == TrialState.COMPLETE for t in trials)
    for t in trials:
        units = t.params["units"]
        assert t.metrics["params"] == 4 * units + units + units + 1  # Dense(4 -> units) and Dense(units -> 1)
        assert t.values == [t.metrics["val_accuracy"], t.metrics["params"]]
        assert 0 < t.metrics["latency"] < 1
        assert t.attrs["feasible"] == (t.metrics["params"] <= 150)
    front = s.pareto_front
    assert front and all(t.attrs["feasible"] for t in front)
    assert {"params", "latency", "feasible", "pareto"} <= set(s.data.columns)
    with pytest.raises(ValueError, match="exp.pareto_front"):
        _ = s.best_params
    model = s.best_model(number=front[0].number)  # every model kept: any trial of the front reloads
    assert parameter_count(model) == front[0].metrics["params"]


def test_extra_metrics_follow_the_objectives_and_constraints_when_not_given(tiny_data, tmp_path, sqlite_url):
    s = scan(
        tiny_data, tmp_path, sqlite_url, metric=["val_accuracy", "latency"], constraints=["params <= 1000"], n_trials=2
    )
    assert s.extra_metrics == ["params", "latency"]
    assert all({"params", "latency"} <= set(t.metrics) for t in s.experiment.trials)
    plain = scan(tiny_data, tmp_path, sqlite_url, metric="val_accuracy", experiment_name="plain", n_trials=1)
    assert plain.extra_metrics == [] and "params" not in plain.experiment.trials[0].metrics


def test_bad_extra_metrics_and_orders_are_one_line(tiny_data, tmp_path, sqlite_url):
    with pytest.raises(
        ValueError, match=r"extra_metrics: got 'flops'; allowed: \['latency', 'params', 'train_seconds'\]"
    ):
        scan(tiny_data, tmp_path, sqlite_url, extra_metrics=["flops"])
    with pytest.raises(ValueError, match="at least one must be a metric Keras logs"):
        scan(tiny_data, tmp_path, sqlite_url, metric=["params", "latency"])
    with pytest.raises(ValueError, match="schedulers stop trials on the first metric"):
        scan(tiny_data, tmp_path, sqlite_url, metric=["params", "val_accuracy"], scheduler="asha")
    with pytest.raises(ValueError, match=r"select: 'cv' picks one best trial, .*several objectives"):
        scan(tiny_data, tmp_path, sqlite_url, select="cv")  # the selection rule is about one objective


def test_the_epoch_is_chosen_by_the_first_logged_objective(tiny_data, tmp_path, sqlite_url):
    s = scan(tiny_data, tmp_path, sqlite_url, metric=["params", "val_loss"], n_trials=2)
    for t in s.experiment.trials:
        losses = [m["val_loss"] for _, m in s.experiment.storage.get_reports([t.id])[t.id]]
        assert t.metrics["val_loss"] == pytest.approx(min(losses))


def test_latency_is_per_sample_and_measured():
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    import numpy as np

    x = np.zeros((300, 8), dtype="float32")
    per_sample = inference_latency(model, x, rows=100, repeats=3)
    assert 0 < per_sample < 0.01
