"""MLflowCallback: one MLflow run per trial under one experiment, params, per-epoch metrics, the best model as an
artifact, on local stores (a folder and a SQLite file)."""

from __future__ import annotations

from pathlib import Path

import pytest

import knoblab as kl
from knoblab.trial import TrialState

pytest.importorskip("mlflow", reason="pip install 'knoblab[mlflow]'")

from mlflow.tracking import MlflowClient  # noqa: E402

from knoblab.tracking import MLflowCallback, log_experiment  # noqa: E402

SPACE = {"lr": kl.Real(1e-3, 1e-1, log=True), "act": ["relu", "tanh"], "epochs": 4, "fn": None}


def objective(trial):
    p = trial.params
    if p["lr"] > 0.07:
        raise RuntimeError("diverged")
    for epoch in range(p["epochs"]):
        trial.report(epoch, loss=p["lr"] / (epoch + 1), val_loss=2 * p["lr"] / (epoch + 1))
    return {"val_loss": p["lr"], "epochs_run": p["epochs"]}


class SavesModel:
    """An objective that saves a "model" file and says where, as a Scan does."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, trial):
        result = objective(trial)
        path = self.folder / f"model_{trial.number}.bin"
        path.write_text(f"weights of trial {trial.number}")
        trial.set_attr("model_path", str(path))
        return result


@pytest.fixture
def file_store(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow keeps the folder store in maintenance mode
    return (tmp_path / "mlruns").as_uri()


def runs_by_trial(client, name):
    experiment = client.get_experiment_by_name(name)
    return {int(r.data.tags["knoblab.trial"]): r for r in client.search_runs([experiment.experiment_id])}


def test_every_trial_is_a_run_with_params_epoch_metrics_and_the_best_model(tmp_path, sqlite_url, file_store):
    models = tmp_path / "models"
    models.mkdir()
    exp = kl.Experiment("ml", SPACE, metric="val_loss", storage=sqlite_url, strategy="random", seed=0)
    exp.optimize(SavesModel(models), n_trials=8, callbacks=[MLflowCallback(file_store)])

    client = MlflowClient(file_store)
    runs = runs_by_trial(client, "ml")
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    assert sorted(runs) == [t.number for t in trials]
    assert {t.state for t in trials} >= {TrialState.COMPLETE, TrialState.FAILED}
    for t in trials:
        run = runs[t.number]
        assert run.info.run_name == f"trial_{t.number:05d}"
        assert run.data.params == {
            "lr": str(t.params["lr"]),
            "act": t.params["act"],
            "epochs": "4",
            "fn": "None",
            "knoblab.seed": str(t.seed),
        }
        assert run.data.tags["knoblab.state"] == str(t.state)
        if t.state == TrialState.FAILED:
            assert run.info.status == "FAILED" and "diverged" in run.data.tags["knoblab.error"]
            assert run.data.metrics == {}
            continue
        assert run.info.status == "FINISHED"
        history = client.get_metric_history(run.info.run_id, "val_loss")
        assert [(m.step, m.value) for m in history] == [(s, pytest.approx(m["val_loss"])) for s, m in t.reports]
        assert run.data.metrics["result/val_loss"] == pytest.approx(t.value)
        assert run.data.metrics["result/epochs_run"] == 4

    best = exp.best
    tagged = [n for n, r in runs.items() if r.data.tags.get("knoblab.best") == "true"]
    assert tagged == [best.number]
    artifacts = [a.path for a in client.list_artifacts(runs[best.number].info.run_id, "model")]
    assert artifacts == [f"model/model_{best.number}.bin"]
    local = client.download_artifacts(runs[best.number].info.run_id, artifacts[0], str(tmp_path))
    assert Path(local).read_text() == f"weights of trial {best.number}"
    failed = [t.number for t in trials if t.state == TrialState.FAILED]
    assert all(not client.list_artifacts(runs[n].info.run_id) for n in failed)


def test_a_rerun_and_log_experiment_log_each_trial_once(tmp_path, sqlite_url, file_store):
    exp = kl.Experiment("ml2", SPACE, metric="val_loss", storage=sqlite_url, strategy="random", seed=1)
    exp.optimize(objective, n_trials=3)
    callback = MLflowCallback(file_store, experiment_name="shared", tags={"team": "a"})
    assert log_experiment(exp, callback) == 3
    exp.optimize(objective, n_trials=5, callbacks=[MLflowCallback(file_store, experiment_name="shared")])
    log_experiment(exp, callback)
    runs = MlflowClient(file_store).search_runs(
        [MlflowClient(file_store).get_experiment_by_name("shared").experiment_id]
    )
    assert sorted(int(r.data.tags["knoblab.trial"]) for r in runs) == [0, 1, 2, 3, 4]
    assert sum(r.data.tags.get("team") == "a" for r in runs) == 3


@pytest.mark.keras
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:The ..noload.. loader strategy is deprecated")
def test_a_scan_logs_keras_epochs_and_its_best_model_to_a_sqlite_store(tmp_path, sqlite_url):
    keras = pytest.importorskip("keras")
    import numpy as np

    from tests.keras.conftest import tiny_model

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    callback = MLflowCallback(uri, artifact_location=tmp_path / "artifacts")
    scan = kl.Scan(
        x,
        y,
        params={"units": [2, 8], "lr": [0.01, 0.05], "epochs": 3},
        model=tiny_model,
        experiment_name="keras_ml",
        storage=sqlite_url,
        seed=0,
        metric="val_accuracy",
        n_trials=3,
        artifacts_dir=tmp_path / "models",
        callbacks=[callback],
    )
    client = MlflowClient(uri)
    runs = runs_by_trial(client, "keras_ml")
    assert sorted(runs) == [0, 1, 2]
    for run in runs.values():
        history = client.get_metric_history(run.info.run_id, "val_accuracy")
        assert [m.step for m in history] == [0, 1, 2]
        assert {"loss", "accuracy", "val_loss"} <= set(run.data.metrics)
    best = runs[scan.best.number]
    assert best.data.tags["knoblab.best"] == "true"
    path = client.download_artifacts(best.info.run_id, f"model/trial_{scan.best.number:05d}.keras", str(tmp_path))
    model = keras.saving.load_model(path)
    assert model.predict(x[:2], verbose=0).shape == (2, 1)
