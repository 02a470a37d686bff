"""Scan with real Keras training on tiny data."""

import threading

import numpy as np
import pytest

import knoblab as kl
from knoblab.keras import MetricNotFoundError, ModelFunctionError
from knoblab.storage import SQLStorage
from knoblab.trial import TrialState

from .conftest import keras, tiny_model

SPACE = {"units": [2, 4, 8], "lr": [0.01, 0.05], "epochs": 6}


def scan(tiny_data, tmp_path, sqlite_url, **kwargs):
    x, y = tiny_data
    options = dict(
        params=SPACE,
        model=tiny_model,
        experiment_name="tiny",
        storage=sqlite_url,
        seed=0,
        metric="val_accuracy",
        artifacts_dir=tmp_path / "models",
        n_trials=4,
    )
    options.update(kwargs)
    return kl.Scan(x, y, **options)


def smoothed_best(values, k=3):
    """The default objective of an accuracy-like metric: the best mean over k consecutive epochs."""
    values = list(values)
    return max(np.mean(values[i - k + 1 : i + 1]) for i in range(k - 1, len(values)))


def test_a_talos_model_function_runs_unchanged(tiny_data, tmp_path, sqlite_url):
    s = scan(tiny_data, tmp_path, sqlite_url)
    df = s.data
    assert len(df) == 4 and (df["state"] == "COMPLETE").all()
    for column in [
        "units",
        "lr",
        "epochs",
        "val_accuracy",
        "val_loss",
        "last_val_accuracy",
        "last_loss",
        "best_epoch",
        "epochs_run",
        "duration",
    ]:
        assert column in df.columns, column
    assert s.best_params["units"] in SPACE["units"]
    assert (df["epochs_run"] == 6).all()
    # each trial's per-epoch history is stored: one row per epoch
    history = s.history()
    assert list(history["epoch"]) == list(range(6))
    # val_accuracy is maximized: a trial's value is its best 3-epoch mean, not one lucky epoch
    assert s.best.value == pytest.approx(smoothed_best(history["val_accuracy"]))
    assert s.best.metrics["smoothed_over"] == 3


def test_best_model_is_the_best_epochs_model_reloaded(tiny_data, tmp_path, sqlite_url):
    s = scan(tiny_data, tmp_path, sqlite_url, keep_models=2)
    kept = [t for t in s.experiment.trials if t.attrs.get("model_path")]
    assert len(kept) == 2 and len(list((tmp_path / "models").glob("*.keras"))) == 2
    values = sorted((t.value for t in s.experiment.trials), reverse=True)
    assert sorted((t.value for t in kept), reverse=True) == values[:2]
    model = s.best_model()
    x, y = tiny_data
    _, _, x_val, y_val = s._data
    # restore_best_weights: the saved model has the weights of the chosen epoch (the last of the best window)
    accuracy = float(np.mean((model.predict(x_val, verbose=0)[:, 0] >= 0.5) == y_val))
    assert accuracy == pytest.approx(s.history()["val_accuracy"][s.best.metrics["best_epoch"]], abs=1e-6)


def test_keep_no_models(tiny_data, tmp_path, sqlite_url):
    s = scan(tiny_data, tmp_path, sqlite_url, keep_models=0, n_trials=2)
    with pytest.raises(FileNotFoundError, match="no saved model"):
        s.best_model()


def test_objective_last_takes_the_last_epoch(tiny_data, tmp_path, sqlite_url):
    s = scan(tiny_data, tmp_path, sqlite_url, objective="last", metric="val_loss", n_trials=2)
    for t in s.experiment.trials:
        assert t.value == pytest.approx(t.metrics["last_val_loss"])
        assert t.metrics["best_epoch"] == 5


def test_wrong_metric_name_fails_loudly_with_the_names_there_are(tiny_data, tmp_path, sqlite_url):
    with pytest.raises(MetricNotFoundError) as info:
        scan(tiny_data, tmp_path, sqlite_url, metric="val_acc", direction="max")
    message = str(info.value)
    assert "'val_acc'" in message and "val_accuracy" in message and "val_loss" in message
    trials = SQLStorage(sqlite_url).get_trials(1)
    assert len(trials) == 1 and trials[0].state == TrialState.FAILED and "val_acc" in trials[0].error


def test_a_model_function_breaking_the_contract_is_named(tiny_data, tmp_path, sqlite_url):
    def returns_model_only(x_train, y_train, x_val, y_val, params):
        return tiny_model(x_train, y_train, x_val, y_val, params)[1]

    with pytest.raises(ModelFunctionError, match=r"\(history, model\)"):
        scan(tiny_data, tmp_path, sqlite_url, model=returns_model_only)


def test_epochs_are_stored_while_training_runs(tiny_data, tmp_path, sqlite_url):
    seen = []

    class Peek(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            # another connection to the same file sees the earlier epochs already
            trial = kl.current_trial()
            seen.append(len(SQLStorage(sqlite_url).get_reports([trial.id]).get(trial.id, [])))

    def model_fn(x_train, y_train, x_val, y_val, params):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        h = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=4, verbose=0, callbacks=[Peek()])
        return h, model

    scan(tiny_data, tmp_path, sqlite_url, model=model_fn, n_trials=1)
    assert seen == [0, 1, 2, 3]


def test_the_callback_stops_training_when_the_trial_is_told_to_stop(tiny_data, tmp_path, sqlite_url):
    class StopFromOutside(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:  # as the dashboard or a scheduler would: through storage, from another thread
                trial_id = kl.current_trial().id
                t = threading.Thread(target=lambda: SQLStorage(sqlite_url).request_stop(trial_id))
                t.start()
                t.join()

    def model_fn(x_train, y_train, x_val, y_val, params):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        h = model.fit(
            x_train, y_train, validation_data=(x_val, y_val), epochs=20, verbose=0, callbacks=[StopFromOutside()]
        )
        return h, model

    s = scan(tiny_data, tmp_path, sqlite_url, model=model_fn, n_trials=1)
    trial = s.experiment.trial(0)
    assert trial.state == TrialState.PRUNED
    assert len(trial.reports) == 3  # epochs 0, 1 and 2; stopped at the end of epoch 2
    assert trial.value == pytest.approx(smoothed_best(v for _, v in trial.curve("val_accuracy")))


def test_explicit_callback_argument_without_the_fit_hook(tiny_data, tmp_path, sqlite_url):
    def model_fn(x_train, y_train, x_val, y_val, params):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        h = model.fit(
            x_train, y_train, validation_data=(x_val, y_val), epochs=3, verbose=0, callbacks=kl.keras.callbacks()
        )  # the one documented argument
        return h, model

    s = scan(
        tiny_data,
        tmp_path,
        sqlite_url,
        model=model_fn,
        hook_fit=False,
        n_trials=1,
        stop=[kl.keras.Threshold("accuracy", ">=", 0.0)],
    )
    trial = s.experiment.trial(0)
    assert trial.metrics["epochs_run"] == 1  # the reporter ran inside fit, so the rule could stop it
    assert kl.keras.callbacks() == []  # outside a trial there is nothing to add


def test_the_fit_hook_joins_callbacks_given_positionally(tiny_data, tmp_path, sqlite_url):
    epochs_seen = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            epochs_seen.append(epoch)

    def model_fn(x_train, y_train, x_val, y_val, params):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        # fit(x, y, batch_size, epochs, verbose, callbacks): the hook puts the reporter into the 6th argument
        h = model.fit(x_train, y_train, 16, 3, 0, [Count()], validation_data=(x_val, y_val))
        return h, model

    s = scan(
        tiny_data, tmp_path, sqlite_url, model=model_fn, n_trials=1, stop=[kl.keras.Threshold("accuracy", ">=", 0.0)]
    )
    assert s.experiment.trial(0).metrics["epochs_run"] == 1  # the reporter ran inside fit, so the rule stopped it
    assert epochs_seen == [0]  # the user's own callback still ran


def test_history_is_replayed_when_no_reporter_ran(tiny_data, tmp_path, sqlite_url):
    s = scan(tiny_data, tmp_path, sqlite_url, hook_fit=False, n_trials=1)
    assert len(s.history()) == 6 and s.best.metrics["epochs_run"] == 6


def test_stop_rules(tiny_data, tmp_path, sqlite_url):
    s = scan(tiny_data, tmp_path, sqlite_url, n_trials=1, stop=[kl.keras.TimeBudget(1e-6)])
    assert s.best.metrics["epochs_run"] == 1 and "time budget" in s.best.metrics["stop_reason"]


def test_a_nan_loss_stops_the_trial_and_fails_it(tiny_data, tmp_path, sqlite_url):
    def diverging(x_train, y_train, x_val, y_val, params):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss=lambda t, p: keras.ops.mean(p) * np.nan)
        h = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=10, verbose=0)
        return h, model

    with pytest.warns(kl.TrialFailedWarning), pytest.raises(kl.AllTrialsFailedError, match="is nan"):
        scan(
            tiny_data, tmp_path, sqlite_url, model=diverging, metric="val_loss", n_trials=1, stop=[kl.keras.StopOnNaN()]
        )
    trial = kl.Experiment("tiny", storage=sqlite_url).trial(0)  # the only trial failed: the scan raised at its end
    assert trial.state == TrialState.FAILED and "nan" in trial.error
    assert len(trial.reports) == 1  # stopped after the first epoch


def test_the_same_seed_reruns_a_trial_exactly(tiny_data, tmp_path):
    a = scan(tiny_data, tmp_path, f"sqlite:///{tmp_path / 'a.db'}", n_trials=2, keep_models=0)
    b = scan(tiny_data, tmp_path, f"sqlite:///{tmp_path / 'b.db'}", n_trials=2, keep_models=0)
    for n in (0, 1):
        assert a.experiment.trial(n).seed == b.experiment.trial(n).seed
        assert a.history(n)["val_loss"].tolist() == b.history(n)["val_loss"].tolist()


def test_rerunning_the_script_continues(tiny_data, tmp_path, sqlite_url):
    scan(tiny_data, tmp_path, sqlite_url, n_trials=2)
    s = scan(tiny_data, tmp_path, sqlite_url, n_trials=3)
    assert len(s.data) == 3


def test_bad_arguments_are_named(tiny_data, tmp_path, sqlite_url):
    x, y = tiny_data
    with pytest.raises(ValueError, match="x has 96 rows but y has 10"):
        kl.Scan(x, y[:10], params=SPACE, model=tiny_model, experiment_name="t", storage=sqlite_url, run=False)
    with pytest.raises(ValueError, match="objective"):
        kl.Scan(x, y, params=SPACE, model=tiny_model, experiment_name="t", storage=sqlite_url, objective="median")
    with pytest.raises(ValueError, match="time_limit"):
        kl.Scan(
            x, y, params=SPACE, model=tiny_model, experiment_name="t", storage=sqlite_url, time_limit="2001-01-01 00:00"
        )
    with pytest.raises(ValueError, match="direction"):
        kl.Scan(
            x, y, params=SPACE, model=tiny_model, experiment_name="t", storage=sqlite_url, metric="my_thing", run=False
        )


def test_a_rerun_validates_on_the_same_rows_even_without_a_seed(tiny_data, tmp_path, sqlite_url):
    x, y = tiny_data
    first = kl.Scan(x, y, params=SPACE, model=tiny_model, experiment_name="t", storage=sqlite_url, run=False)
    again = kl.Scan(x, y, params=SPACE, model=tiny_model, experiment_name="t", storage=sqlite_url, run=False)
    np.testing.assert_array_equal(first._data[2], again._data[2])
    assert len(first._data[2]) == round(0.3 * len(x))


def _two_outputs(x_train, y_train, x_val, y_val, params):
    """A Talos-style model with two named outputs, fitted on y given as a list or a dict."""
    inputs = keras.Input((x_train.shape[1],))
    hidden = keras.layers.Dense(params["units"], activation="relu")(inputs)
    a = keras.layers.Dense(1, activation="sigmoid", name="a")(hidden)
    b = keras.layers.Dense(1, activation="sigmoid", name="b")(hidden)
    model = keras.Model(inputs, [a, b])
    model.compile("adam", loss=["binary_crossentropy", "binary_crossentropy"])
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=2, batch_size=16, verbose=0)
    return history, model


@pytest.mark.parametrize("as_dict", [False, True])
def test_multi_output_y_as_a_list_or_a_dict_is_split_by_rows(tiny_data, tmp_path, sqlite_url, as_dict):
    x, y = tiny_data
    ys = {"a": y, "b": 1 - y} if as_dict else [y, 1 - y]
    s = kl.Scan(
        x,
        ys,
        params={"units": [2, 3]},
        model=_two_outputs,
        experiment_name="two",
        storage=sqlite_url,
        artifacts_dir=tmp_path / "m",
        n_trials=2,
        seed=0,
    )
    assert (s.data["state"] == "COMPLETE").all()
    _, y_train, _, y_val = s._data
    parts = y_train.values() if as_dict else y_train
    assert [len(p) for p in parts] == [len(x) - round(0.3 * len(x))] * 2
    first, second = (y_val["a"], y_val["b"]) if as_dict else y_val
    np.testing.assert_array_equal(first, 1 - second)  # both outputs keep the same rows
