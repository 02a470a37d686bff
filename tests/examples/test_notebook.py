"""examples/notebook.ipynb runs top to bottom in a real Jupyter kernel (nbclient), on a tiny budget: objects show
as HTML, plots as inline PNG, and the progress bar as text without tqdm's ipywidgets warning."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="pip install 'knoblab[notebooks]'")
nbclient = pytest.importorskip("nbclient", reason="pip install 'knoblab[notebooks]'")
pytest.importorskip("ipykernel", reason="pip install 'knoblab[notebooks]'")
pytest.importorskip("keras")
pytest.importorskip("tensorboard")

ROOT = Path(__file__).resolve().parents[2]


def outputs_of(cell, kind):
    return [o for o in cell.get("outputs", []) if o.get("output_type") == kind]


@pytest.mark.slow
def test_the_example_notebook_runs_and_renders(tmp_path, monkeypatch):
    monkeypatch.setenv("KNOBLAB_NOTEBOOK_TRIALS", "8")
    monkeypatch.setenv("KNOBLAB_NOTEBOOK_KERAS_TRIALS", "2")
    monkeypatch.setenv("KNOBLAB_STORAGE", f"sqlite:///{tmp_path / 'nb.db'}")
    # the kernel imports this checkout's knoblab, installed or not
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])))
    nb = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    code = [c for c in nb.cells if c.cell_type == "code"]
    by_source = {c.source.splitlines()[-1]: c for c in code}
    everything = "".join(str(o) for c in code for o in c.get("outputs", []))
    assert "TqdmWarning" not in everything and "IProgress" not in everything and "Traceback" not in everything

    search = by_source["exp"]
    bar = "".join(o["text"] for o in outputs_of(search, "stream") if o["name"] == "stderr")
    assert "notebook: 100%" in bar and "8/8" in bar  # tqdm's text bar, shown because this is a notebook
    (html,) = [o["data"]["text/html"] for o in outputs_of(search, "execute_result")]
    assert "experiment notebook" in html and "8 COMPLETE" in html

    (analysis,) = outputs_of(by_source["analysis"], "execute_result")
    assert (
        "8 complete of 8 trials" in analysis["data"]["text/html"] and "data:image/png" in analysis["data"]["text/html"]
    )
    for plot in ("plots.optimization_history(analysis)", "plots.parallel_coordinates(analysis)"):
        (shown,) = outputs_of(by_source[plot], "execute_result")
        assert "image/png" in shown["data"], plot  # inline, without %matplotlib
    (suggestion,) = outputs_of(by_source["suggestion"], "execute_result")
    assert "suggested space after round 0" in suggestion["data"]["text/html"]

    (scan,) = outputs_of(by_source["scan"], "execute_result")
    assert (
        "experiment notebook_breast_cancer" in scan["data"]["text/html"] and "2 COMPLETE" in scan["data"]["text/html"]
    )
    runs = sorted(p.name for p in (tmp_path / "runs" / "breast_cancer").iterdir() if p.is_dir())
    assert runs == ["trial_00000", "trial_00001"]
    (history,) = outputs_of(by_source["scan.history()"], "execute_result")
    assert "val_accuracy" in history["data"]["text/html"]
