"""bench/keras runs end to end on a tiny budget: every epoch counted, the budget kept, a test score per tool.

Nothing here is timed (performance lives in bench/); the peers run where they are installed (the benchmark's own
environment has them, bench/keras/README.md), knoblab everywhere.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEERS = {"kt-hyperband": "keras_tuner", "optuna-tpe-hyperband": "optuna", "talos-random": "talos"}


@pytest.mark.slow
@pytest.mark.keras
def test_each_tool_searches_within_the_epoch_budget_and_is_scored_on_the_test_split(tmp_path):
    tools = ["knoblab-default", "knoblab-random"]
    tools += [tool for tool, module in PEERS.items() if importlib.util.find_spec(module) is not None]
    out = tmp_path / "results.jsonl"
    env = {**os.environ, "BENCH_KERAS_MAX_EPOCHS": "3", "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    cmd = [
        sys.executable,
        "-m",
        "bench.keras.run",
        "--budgets",
        "7",
        "--seeds",
        "1",
        "--workers",
        "2",
        "--retrains",
        "2",
    ]
    cmd += ["--tasks", "tabular-mlp", "--tools", *tools, "--out", str(out)]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["tool"] for r in rows) == sorted(tools), done.stdout
    for r in rows:
        # the ledger stops the fit that reaches the budget; full-trial tools get budget // max_epochs = 2 trials
        assert 6 <= r["epochs"] <= 7, r
        assert 0.0 <= r["test_accuracy"] <= 1.0
        assert set(r["best"]) == {"lr", "units", "dropout", "layers"}
        assert 1 <= r["best"]["layers"] <= 3 and 1e-4 <= r["best"]["lr"] <= 1e-1
        # two retrainings of the pick; the first is the row's test accuracy
        assert len(r["test_accuracies"]) == 2 and r["test_accuracies"][0] == r["test_accuracy"]
    # a rerun finds every cell done and runs none
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert "0 cells to run" in again.stdout

    def report(results: Path, *args: str) -> str:
        cmd = [sys.executable, "-m", "bench.keras.report", "--results", str(results), *args]
        done = subprocess.run(
            [*cmd, "--full-trials", str(tmp_path / "none")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "| knoblab-random (n=1) |" in report(out)

    # rescore retrains each stored pick from the same seeds: the first retraining gives the stored score again
    one = tmp_path / "one.jsonl"
    one.write_text(out.read_text().splitlines()[0] + "\n")
    rescored = tmp_path / "rescored.jsonl"
    cmd = [sys.executable, "-m", "bench.keras.rescore", "--results", str(one), "--out", str(rescored)]
    done = subprocess.run(
        [*cmd, "--retrains", "3", "--workers", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (row,) = [json.loads(line) for line in rescored.read_text().splitlines()]
    assert row["first_retrain_reproduced"], row
    assert (
        len(row["test_accuracies"]) == 3
        and row["test_accuracies"][:2] == json.loads(one.read_text())["test_accuracies"]
    )
    mean = sum(row["test_accuracies"]) / 3
    mean_table = report(rescored, "--score", "mean")
    assert f"| {row['tool']} (n=1) | {mean:.3f} ± nan |" in mean_table, mean_table


def test_a_later_results_file_replaces_a_cells_row_and_can_keep_the_old_one_beside_it():
    sys.path.insert(0, str(ROOT))
    from bench.keras.report import comparison, merge

    def row(tool, seed, acc):
        return {
            "task": "t",
            "tool": tool,
            "budget": 240,
            "seed": seed,
            "test_accuracy": acc,
            "epochs": 240,
            "fits": 9,
            "search_seconds": 1.0,
            "overhead_per_fit": 0.1,
        }

    old = [row("knoblab-default", 0, 0.5), row("knoblab-default", 1, 0.6), row("kt-hyperband", 0, 0.7)]
    new = [row("knoblab-default", 0, 0.9)]
    merged = merge([old, new])
    assert sorted((r["tool"], r["seed"], r["test_accuracy"]) for r in merged) == [
        ("knoblab-default", 0, 0.9),
        ("knoblab-default", 1, 0.6),
        ("kt-hyperband", 0, 0.7),
    ]
    kept = merge([old, new], " (before)")
    assert ("knoblab-default (before)", 0, 0.5) in {(r["tool"], r["seed"], r["test_accuracy"]) for r in kept}
    table = comparison(kept)
    # seed 1 lacks the replaced and KT rows, so only seed 0 is compared: 0.9 now, 0.5 before, KT 0.7
    assert "| knoblab-default (n=1) | 0.900 ± nan | +0.000 ± nan | +0.200 ± nan |" in table, table
    assert "| knoblab-default (before) (n=1) | 0.500 ± nan | -0.400 ± nan | -0.200 ± nan |" in table, table
