"""The walkthrough examples run, and show what they promise."""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=name)
    finally:
        sys.path.remove(str(EXAMPLES))


def test_cost_contour_draws_the_descent_path(tmp_path):
    example = load("cost_contour")
    tv, sales = example["advertising_stand_in"]()
    assert len(tv) == 200 and tv.min() >= 0 and tv.max() <= 300
    w_fit, b_fit = np.polyfit(tv, sales, 1)
    assert w_fit == pytest.approx(0.0475, abs=0.006) and b_fit == pytest.approx(7.03, abs=1.0)
    weights, out = example["main"](str(tmp_path / "contour.png"))
    assert Path(out).stat().st_size > 20_000  # a real picture, not an empty canvas
    path_w, path_b = weights.series("line", 0).ravel(), weights.series("line", 1).ravel()
    assert len(path_w) == 1 + 40 * 7  # initial weights + one per batch (200 rows / 32 = 7 batches, 40 epochs)
    x = (tv - tv.mean()) / tv.std()
    w_ls, b_ls = np.polyfit(x, sales, 1)
    assert path_w[-1] == pytest.approx(w_ls, abs=0.3) and path_b[-1] == pytest.approx(b_ls, abs=0.3)


@pytest.mark.slow
def test_breast_cancer_scan_reaches_the_demo_bar(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    # a smaller budget than the demo's 600 epochs, still multi-fidelity; no cross-validation, to stay short
    scan = load("breast_cancer")["main"](epoch_budget=300, storage=f"sqlite:///{tmp_path / 'k.db'}", select="value")
    assert scan.schedule["scheduler"] == "hyperband" and scan.experiment.resource_spent == 300
    assert scan.best.value >= 0.96
    out = capsys.readouterr().out
    assert "held-out test set" in out and "accuracy = 0.9" in out
    assert "final model: the mean of trials [" in out  # the top 5 in the selection order, retrained
    assert "how the best was chosen: trial" in out and "LogisticRegression on the same split: accuracy = 0.98" in out


@pytest.mark.slow
def test_lstm_example_runs_grid_then_tpe(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KNOBLAB_EXAMPLE_EPOCHS", "2")
    load("lstm_timeseries")["main"](storage=f"sqlite:///{tmp_path / 'k.db'}", grid_trials=3, tpe_trials=3)
    out = capsys.readouterr().out
    assert "sunspots_grid (grid): 3 trials" in out and "sunspots_tpe" in out and "test-period mse" in out
