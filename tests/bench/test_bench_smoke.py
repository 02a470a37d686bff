"""The benchmark code runs: one problem, two iterations, one knoblab strategy (no peers needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

pytest.importorskip("sklearn")

from bench.problems import sklearn_problem, synthetic_problems  # noqa: E402
from bench.run import optimize, run_part  # noqa: E402


def test_one_sklearn_problem_two_iterations(tmp_path):
    r = optimize(sklearn_problem("kNN", "wine"), "knoblab-tpe", seed=0, iterations=2, batch=3)
    assert len(r["losses"]) == 6 and all(0 <= v <= 1 for v in r["losses"])


def test_run_part_writes_results_and_skips_done_runs(tmp_path):
    path = tmp_path / "b.jsonl"
    run_part("b", ["branin-2"], ["knoblab-random"], [0], 2, 1, 1, path)
    run_part("b", ["branin-2"], ["knoblab-random"], [0], 2, 1, 1, path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 1 and len(rows[0]["losses"]) == 2
    assert {p.name for p in synthetic_problems(with_bbob=False)} >= {"branin-2", "hartmann-6"}
