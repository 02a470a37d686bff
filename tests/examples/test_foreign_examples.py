"""The walkthrough examples written for other libraries' code (hyperopt, scikit-learn + scikeras) run and print
what the walkthroughs print."""

import runpy
import sys
from pathlib import Path

import pytest

pytest.importorskip("keras")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name=name)
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.mark.slow
def test_hyperopt_lstm_example_runs_the_walkthroughs_space_and_continues(tmp_path, monkeypatch, capsys):
    pytest.importorskip("hyperopt")
    pytest.importorskip("statsmodels")
    monkeypatch.setenv("KNOBLAB_EXAMPLE_EPOCHS", "2")
    storage = f"sqlite:///{tmp_path / 'k.db'}"
    example = load("hyperopt_lstm")
    point = example["main"](storage=storage, max_evals=3)
    assert point["lstm_layers"]["layers"] in ("one", "two") and point["time_steps"] in (6, 12, 18)
    out = capsys.readouterr().out
    assert "sunspots_hyperopt: 3 trials" in out and "best model:" in out
    example["main"](storage=storage, max_evals=4)  # a rerun continues: one more trial
    assert "sunspots_hyperopt: 4 trials" in capsys.readouterr().out


@pytest.mark.slow
def test_keras_sklearn_example_prints_the_walkthroughs_lines(tmp_path, monkeypatch, capsys):
    pytest.importorskip("scikeras")
    monkeypatch.setenv("KNOBLAB_EXAMPLE_EPOCHS", "2")
    grid, random_search = load("keras_sklearn_search")["main"](storage=f"sqlite:///{tmp_path / 'k.db'}", n_iter=3)
    out = capsys.readouterr().out
    assert out.count("Best: ") == 2 and out.count(" with: {") == 4 + 3
    assert len(random_search.cv_results_["params"]) == 3
