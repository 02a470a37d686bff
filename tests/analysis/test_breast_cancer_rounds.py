"""examples/breast_cancer_rounds.py end to end (real Keras training, a few minutes): the suggestion drops what the
data show to be bad, the narrower round is no worse, the report renders in Chromium, the export restores."""

import os
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("keras")
pytest.importorskip("sklearn")

import knoblab as kl  # noqa: E402
from knoblab.cli import main as cli  # noqa: E402

from .browser import open_in_chromium  # noqa: E402

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("rounds")
    url = f"sqlite:///{root / 'k.db'}"
    here = os.getcwd()
    os.chdir(root)  # the scan keeps its models under ./knoblab_artifacts
    sys.path.insert(0, str(EXAMPLES))
    try:
        example = runpy.run_path(str(EXAMPLES / "breast_cancer_rounds.py"), run_name="breast_cancer_rounds")
        scan = example["main"](storage=url, export_to=str(root / "best"))
    finally:
        sys.path.remove(str(EXAMPLES))
        os.chdir(here)
    return scan, url, root, example


def test_the_suggestion_drops_what_is_worse_and_the_next_round_is_no_worse(run):
    scan, *_ = run
    exp = scan.experiment
    rounds = exp.rounds
    assert len(rounds) >= 2 and rounds[1]["parent"] == 0 and rounds[1]["changes"]
    assert all(": drop " in c or ": narrow " in c for c in rounds[1]["changes"])
    # every value dropped was worse in round 0: its median worse than the median of the knob's other values
    first, second = kl.Space.from_description(rounds[0]["space"]), kl.Space.from_description(rounds[1]["space"])
    sign = 1.0 if exp.direction == "min" else -1.0
    data = exp.results
    r0 = data[(data["round"] == 0) & (data["state"] == "COMPLETE")]
    dropped = 0
    for name, knob in first.knobs.items():
        if not isinstance(knob, kl.Categorical):
            continue
        kept = second.knobs[name]
        kept_values = kept.choices if isinstance(kept, kl.Categorical) else [kept.value]
        for value in knob.choices:
            if value not in kept_values:
                dropped += 1
                these, others = r0[r0[name] == value]["value"], r0[r0[name] != value]["value"]
                assert sign * these.median() > sign * others.median()
    assert dropped >= 1
    compared = exp.analyze("all").rounds.set_index("round")
    sign = 1.0 if exp.direction == "min" else -1.0  # sign * value: smaller is better
    assert sign * compared.loc[1, "best"] <= sign * compared.loc[0, "best"]
    assert sign * compared.loc[1, "median"] <= sign * compared.loc[0, "median"]


def test_knoblab_report_renders_in_chromium(run):
    _, url, root, _ = run
    out = root / "report.html"
    result = CliRunner().invoke(cli, ["report", "breast_cancer_rounds", "--storage", url, "-o", str(out)])
    assert result.exit_code == 0, result.output
    seen = open_in_chromium(out)
    assert seen["errors"] == [] and seen["dialogs"] == []
    assert len(seen["images"]) >= 10
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 100 and image["visible"], image


def test_the_export_restores_identical_predictions(run, monkeypatch):
    scan, _, root, example = run
    monkeypatch.chdir(root)  # the scan stored its models' paths relative to the folder it ran in
    _, _, x_test, _ = example["data"]()
    restored = kl.restore(root / "best")
    assert restored.params == scan.best_params
    assert np.array_equal(restored.predict(x_test), scan.best_model().predict(x_test, verbose=0))
    looks = scan.experiment.storage.get_experiment("breast_cancer_rounds").attrs["test_evaluations"]
    assert len(looks) == 1 and looks[0]["leaked_rows"] == 0  # the test set was scored once, and never searched
