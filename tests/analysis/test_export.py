"""Export of the best model and restore: identical predictions, the manifest checked, the core Keras-free."""

import json
import subprocess
import sys

import numpy as np
import pytest

import knoblab as kl

keras = pytest.importorskip("keras")


def tiny_model(x_train, y_train, x_val, y_val, params):
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(params["units"], activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=3, batch_size=16, verbose=0)
    return history, model


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 4)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    s = kl.Scan(
        x,
        y,
        params={"units": [2, 4, 8]},
        model=tiny_model,
        experiment_name="tiny",
        n_trials=3,
        storage=f"sqlite:///{root / 'k.db'}",
        artifacts_dir=root / "models",
        seed=0,
        show_progress=False,
    )
    s.x = x
    s.root = root
    return s


def test_restore_predicts_exactly_as_the_best_model(scan):
    folder = scan.experiment.export_best(scan.root / "best")
    assert sorted(p.name for p in folder.iterdir()) == [
        "export.json",
        "metrics.json",
        "model.keras",
        "params.json",
        "space.json",
        "versions.json",
    ]
    restored = kl.restore(folder)
    expected = scan.best_model().predict(scan.x, verbose=0)
    assert np.array_equal(restored.predict(scan.x), expected)
    assert restored.params == scan.best_params
    assert restored.metrics["trial"] == scan.best.number and restored.metrics["value"] == scan.best.value
    assert restored.space == scan.experiment.space.describe()
    assert restored.versions["keras"] == keras.__version__ and restored.versions["knoblab"]


def test_export_refuses_to_overwrite_and_restore_checks_the_file(scan):
    folder = scan.experiment.export_best(scan.root / "twice")
    with pytest.raises(FileExistsError):
        scan.experiment.export_best(folder)
    scan.experiment.export_best(folder, overwrite=True)
    manifest = json.loads((folder / "export.json").read_text())
    manifest["model_sha256"] = "0" * 64
    (folder / "export.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="SHA-256"):
        kl.restore(folder)
    with pytest.raises(FileNotFoundError, match="not a knoblab export"):
        kl.restore(scan.root)


def test_export_of_a_retrained_model(scan):
    model = scan.best_model()
    folder = scan.experiment.export_best(scan.root / "retrained", model=model)
    assert np.array_equal(kl.restore(folder).predict(scan.x), model.predict(scan.x, verbose=0))


def test_evaluate_best_on_keras_models(scan):
    x_test = scan.x[:20] + 10.0  # rows the scan never saw
    y_test = (x_test[:, 0] + 0.5 * x_test[:, 1] > 10 * 1.5).astype("float32")
    scores = scan.evaluate_best(2, x_test, y_test)
    assert len(scores) == 2 and "test_accuracy" in scores and "error" not in scores
    with pytest.warns(UserWarning, match="rows of the test set also appear"):
        scan.evaluate_best(1, scan.x[:5], np.zeros(5, dtype="float32"))


def test_the_core_and_the_analysis_import_without_keras():
    code = (
        "import sys, knoblab, knoblab.analysis, knoblab.analysis.evaluate, knoblab.export; "
        "assert knoblab.restore; "
        "bad = [m for m in ('keras', 'torch', 'matplotlib', 'sklearn') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
