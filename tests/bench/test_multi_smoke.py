"""The multi-objective benchmark code runs: two problems, a few evaluations, knoblab strategies and Optuna's NSGA-II,
the results file, the report, and the problems' known fronts."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.multi import report, run  # noqa: E402
from bench.multi.problems import dtlz2, keras_configs, keras_key, zdt  # noqa: E402


def test_problems_and_their_fronts():
    z = zdt(1, 10)
    on_front = {f"x{i}": 0.0 for i in range(10)} | {"x0": 0.25}
    assert z(on_front) == pytest.approx([0.25, 0.5])
    assert z.max_hypervolume == pytest.approx(120 + 2 / 3, abs=1e-3)
    assert zdt(2, 10).max_hypervolume == pytest.approx(120 + 1 / 3, abs=1e-3)
    d = dtlz2(6)
    point = d({"x0": 0.5, "x1": 0.5, **{f"x{i}": 0.5 for i in range(2, 6)}})
    assert sum(v * v for v in point) == pytest.approx(1.0)  # on the unit sphere
    assert d.max_hypervolume == pytest.approx(1.1**3 - math.pi / 6)
    assert len(keras_configs()) == 840 and len({keras_key(c) for c in keras_configs()}) == 840


def test_run_writes_results_skips_done_runs_and_reports(tmp_path):
    pytest.importorskip("optuna")
    out = tmp_path / "runs.jsonl"
    args = ["--problems", "ZDT1-10d", "DTLZ2-6d", "--seeds", "1", "--evaluations", "12", "--out", str(out)]
    args += ["--optimizers", "knoblab-auto", "knoblab-nsga2", "optuna-nsga2"]
    run.main(args)
    run.main(args)  # nothing left to do
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 6 and all(len(r["values"]) == 12 and len(r["ask_tell_seconds"]) == 12 for r in rows)
    assert {r["choice"] for r in rows if r["optimizer"] == "knoblab-auto"} == {"mogp"}
    hv = report.hv_at(rows[0], 12)
    assert 0 < hv <= rows[0]["max_hypervolume"]
    text = report.report(report.load(tmp_path))
    assert "hypervolume after 100 evaluations" in text and "knoblab-auto" in text
    assert np.isfinite(hv)
