"""Analyze, Evaluate, Predict, Deploy and Restore on one finished scan; the callbacks inside a scan."""

import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import knoblab as kl
import knoblab.talos as talos

from .conftest import iris_model, keras

P = {"first_neuron": [4, 8], "activation": ["relu", "elu"], "batch_size": [16, 32], "epochs": [2]}


@pytest.fixture(scope="module")
def scan(tmp_path_factory, small_iris):
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("scan"))
    try:
        x, y = small_iris
        yield talos.Scan(x, y, P, iris_model, "cmd", round_limit=6, seed=0, disable_progress_bar=True)
    finally:
        os.chdir(here)


def test_analyze_numbers(scan):
    a = talos.Analyze(scan)
    assert talos.Reporting is talos.Analyze
    assert a.rounds() == 6 and a.data is scan.data
    assert a.high("val_acc") == scan.data["val_acc"].max() and a.low("val_loss") == scan.data["val_loss"].min()
    assert a.rounds2high("val_acc") == scan.data["val_acc"].idxmax()
    corr = a.correlate("val_loss", ["val_acc", "start", "end", "activation"])
    assert "first_neuron" in corr.index and "number" not in corr.index and "val_loss" not in corr.index
    assert corr["first_neuron"] == pytest.approx(scan.data["val_loss"].corr(scan.data["first_neuron"]))
    table = a.table("val_loss", ["val_acc"], ascending=True)
    assert list(table["val_loss"]) == sorted(scan.data["val_loss"]) and "val_acc" not in table.columns
    best = a.best_params("val_acc", ["acc", "loss", "val_loss"], n=3)
    assert best.shape[0] == 3 and list(best[:, -1]) == [0, 1, 2]
    with pytest.raises(ValueError, match="metric 'val_f1' is not a column of the results"):
        a.high("val_f1")


def test_analyze_reads_the_experiment_log_csv_too(scan):
    a = talos.Analyze(os.path.join(scan._log.path))
    assert a.rounds() == 6
    np.testing.assert_allclose(a.data["val_loss"], scan.data["val_loss"])


def test_analyze_plots_are_figures_of_the_data(scan):
    a = talos.Analyze(scan)
    line = a.plot_line("val_acc")
    np.testing.assert_allclose(line.axes[0].lines[0].get_ydata(), scan.data["val_acc"])
    hist = a.plot_hist("val_acc", bins=4)
    assert sum(p.get_height() for p in hist.axes[0].patches) == 6
    corr = a.plot_corr("val_loss", ["val_acc", "start", "end", "activation"])
    assert [t.get_text() for t in corr.axes[0].get_xticklabels()][0] == "val_loss"
    assert len(a.plot_regs("val_acc", "val_loss").axes[0].collections[0].get_offsets()) == 6
    assert len(a.plot_box("first_neuron", "val_acc").axes[0].get_xticklabels()) == 2
    bars = a.plot_bars("batch_size", "val_acc", "first_neuron", "activation")
    assert len(bars.axes) == 2
    for fig in (a.plot_kde("val_acc"), a.plot_kde("val_acc", "val_loss")):
        assert isinstance(fig, Figure)


def test_evaluate_kfold_scores_a_round(scan, small_iris):
    x, y = small_iris
    e = talos.Evaluate(scan)
    scores = e.evaluate(x, y, folds=3, metric="val_acc", task="multi_label", shuffle=False)
    model = scan.best_model("val_acc")
    from sklearn.metrics import f1_score

    expected = f1_score(y[:20].argmax(1), model.predict(x[:20], verbose=0).argmax(1), average="macro")
    assert len(scores) == 3 and scores[0] == pytest.approx(expected)
    assert e.evaluate(x, y, task="multi_label", metric="val_acc", model_id=2, folds=2)[0] >= 0
    with pytest.raises(ValueError, match="task: got 'regression'"):
        e.evaluate(x, y, task="regression", metric="val_acc")


def test_predict_with_the_best_round(scan, small_iris):
    x, _ = small_iris
    p = talos.Predict(scan)
    probs = p.predict(x, "val_acc", False)
    np.testing.assert_allclose(probs, scan.best_model("val_acc").predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_array_equal(p.predict_classes(x, "val_acc", False, task="multi_label"), probs.argmax(1))
    assert set(np.unique(p.predict_classes(x, "val_loss", True, task="binary"))) <= {0, 1}
    with pytest.raises(ValueError, match="task: got 'continuous'"):
        p.predict_classes(x, "val_acc", False, task="continuous")


def test_deploy_then_restore(scan, small_iris, tmp_path):
    x, _ = small_iris
    d = talos.Deploy(scan, "iris_deploy", "val_acc")
    assert not (tmp_path / "iris_deploy").exists()
    names = set(zipfile.ZipFile("iris_deploy.zip").namelist())
    assert {"model.keras", "export.json", "iris_deploy_model.json", "iris_deploy_model.weights.h5",
            "iris_deploy_details.txt", "iris_deploy_results.csv", "iris_deploy_x.csv", "iris_deploy_y.csv",
            "iris_deploy_params.json", "README.txt"} <= names  # fmt: skip
    r = talos.Restore("iris_deploy.zip")
    np.testing.assert_allclose(r.model.predict(x, verbose=0), d.model.predict(x, verbose=0), rtol=1e-6)
    assert r.params == {k: v for k, v in P.items()}
    assert len(r.x) == 60 and r.y.shape == (60, 3)
    assert list(r.results.columns) == scan._talos_columns and len(r.results) == 6
    assert "experiment_name" in list(r.details[0])
    assert kl.restore("iris_deploy").params == scan._trials[scan._best_row("val_acc", False)].params
    os.mkdir("taken")
    with pytest.raises(FileExistsError):  # as Talos: a folder of that name is never overwritten
        talos.Deploy(scan, "taken", "val_acc")


def test_the_callbacks_inside_a_scan(small_iris):
    x, y = small_iris
    plots = []

    def logged(x_train, y_train, x_val, y_val, params):
        plot = talos.callbacks.TrainingPlot(metrics=["loss", "acc"])
        plots.append(plot)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["acc"])
        out = model.fit(
            x_train, y_train, validation_data=[x_val, y_val], epochs=params["epochs"], verbose=0,
            callbacks=[talos.callbacks.ExperimentLog("cb", params), plot],
        )  # fmt: skip
        return out, model

    scan = talos.Scan(x, y, {"epochs": [2, 3]}, logged, "cb", disable_progress_bar=True)
    log = pd.read_csv(f"cb/{scan.experiment_id}.log")
    assert list(log.columns) == ["id", "epoch", "acc", "loss", "val_acc", "val_loss"]
    assert list(log["epoch"]) == [1, 2, 1, 2, 3] and log["id"].nunique() == 2
    fig = plots[-1].figure
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2  # training and validation curves
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), scan.round_history[1]["val_loss"], rtol=1e-6)
    with pytest.raises(ValueError, match="ExperimentLog: no experiment log in ./nowhere/"):
        talos.callbacks.ExperimentLog("nowhere", {})
