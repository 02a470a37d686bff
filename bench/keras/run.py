"""Runs the Keras comparison: every (task, tool, budget, seed) cell in a fresh process, appended as a JSON line.

    nice -n 10 /work/benchenv/bin/python -m bench.keras.run --workers 2          # the full comparison
    /work/benchenv/bin/python -m bench.keras.run --budgets 60 --seeds 1 --out /tmp/smoke.jsonl   # a smoke run

Cells already in the output file are skipped, so an interrupted run continues where it stopped. Each cell: the
tool searches under the epoch ledger (tools.py), then the configuration it selects is retrained `--retrains` times
(MAX_EPOCHS epochs each, the weights of the best validation epoch kept), from seeds that are the same for every
tool, and scored on the test split, which no tool ever saw. `test_accuracy` is the first retraining (the score of
the rows made before there were several); `test_accuracies` holds them all, and `report --score mean` ranks by
their mean, which takes most of one retraining's initialization luck out of the comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("bench/results/keras/results.jsonl")
RETRAIN_SEED = 10_000


def retrain_seed(seed: int, k: int) -> int:
    """The initialization seed of the k-th retraining for the cell of `seed`: the same for every tool. The first
    (k = 0) is the one the single-retraining rows used."""
    return RETRAIN_SEED + seed + 1000 * k


def retrain(task: str, split, params: dict[str, Any], seed: int, retrains: int = 1) -> dict[str, Any]:
    """Trains the selected configuration `retrains` times (seeds from retrain_seed); the test accuracy of each at
    its best validation epoch."""
    import keras
    import numpy as np

    from .tasks import MAX_EPOCHS, build, fit

    class KeepBest(keras.callbacks.Callback):
        best, weights = -np.inf, None

        def on_epoch_end(self, epoch, logs=None):
            if logs["val_accuracy"] > self.best:
                self.best, self.weights = float(logs["val_accuracy"]), self.model.get_weights()

    tests, vals = [], []
    for k in range(retrains):
        model = build(task, params, split.n_classes, split.x_train.shape[1:], retrain_seed(seed, k))
        keep = KeepBest()
        fit(model, split, MAX_EPOCHS, [keep])  # as the searches fit, outside their epoch ledger
        model.set_weights(keep.weights)
        pred = np.argmax(model.predict(split.x_test, batch_size=512, verbose=0), axis=1)
        tests.append(float(np.mean(pred == split.y_test)))
        vals.append(keep.best)
    return {
        "test_accuracy": tests[0],
        "retrain_val_accuracy": vals[0],
        "test_accuracies": tests,
        "retrain_val_accuracies": vals,
    }


def run_cell(task: str, tool: str, budget: int, seed: int, retrains: int = 1) -> dict[str, Any]:
    """One search and its retraining, in this (fresh) process."""
    from knoblab.keras import hygiene

    from . import tasks, tools

    hygiene.limit_threads(1)
    split = tasks.ALL_TASKS[task]()
    tools.warm_up(tool, task, split)
    tools.LEDGER.reset(budget)
    with tempfile.TemporaryDirectory(prefix=f"kbench-{tool}-") as tmp:
        start = time.perf_counter()
        out = {**tools.TOOLS, **tools.EXTRA_TOOLS}[tool](task, split, budget, seed, Path(tmp))
        wall = time.perf_counter() - start
        keep = os.environ.get("BENCH_KERAS_KEEP_DB")  # a folder: knoblab's stored search, for studying selection
        stored = Path(tmp) / tools.KNOBLAB_DB
        if keep and stored.exists():
            Path(keep).mkdir(parents=True, exist_ok=True)
            with (
                sqlite3.connect(stored) as src,
                sqlite3.connect(Path(keep) / f"{task}-{tool}-{budget}-{seed}.db") as dst,
            ):
                src.backup(dst)  # the write-ahead log included, which a file copy would leave behind
    ledger = tools.LEDGER
    scores = retrain(task, split, out["best"], seed, retrains)
    return {
        "task": task,
        "tool": tool,
        "budget": budget,
        "seed": seed,
        **scores,
        "epochs": ledger.epochs,
        "fits": ledger.fits,
        "trials": out["trials"],
        "search_seconds": round(wall, 2),
        "fit_seconds": round(ledger.fit_seconds, 2),
        "overhead_per_fit": round((wall - ledger.fit_seconds) / max(ledger.fits, 1), 3),
        "best": out["best"],
        "how": out["how"],
        "max_epochs": tasks.MAX_EPOCHS,
        "commit": _commit(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": f"{platform.node()} {os.cpu_count()} cpus",
    }


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def _done(path: Path) -> set[tuple]:
    if not path.exists():
        return set()
    keys = set()
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            keys.add((r["task"], r["tool"], r["budget"], r["seed"]))
    return keys


def main(argv: list[str] | None = None) -> None:
    from . import tasks, tools

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=list(tasks.TASKS), choices=list(tasks.ALL_TASKS))
    ap.add_argument("--tools", nargs="+", default=list(tools.TOOLS), choices=[*tools.TOOLS, *tools.EXTRA_TOOLS])
    ap.add_argument("--budgets", nargs="+", type=int, default=[240, 900])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--retrains", type=int, default=5, help="retrainings of each selected configuration (5)")
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = _done(args.out)
    cells = [
        (task, tool, budget, seed, args.retrains)
        for budget in args.budgets  # the smaller budget first, seed by seed: a cut-short run still has whole seeds
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for task in args.tasks
        for tool in args.tools
        if (task, tool, budget, seed) not in done
    ]
    print(f"{len(cells)} cells to run ({len(done)} already in {args.out})", flush=True)
    for row in in_processes(cells, args.workers, "bench.keras.run"):
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(
            f"{row['task']} {row['tool']} budget={row['budget']} seed={row['seed']}: "
            f"test {row['test_accuracy']:.4f}, {row['epochs']} epochs, {row['fits']} fits, "
            f"{row['search_seconds']:.0f} s",
            flush=True,
        )


def in_processes(cells: list[tuple], workers: int, module: str):
    """Runs each cell as `python -m module --cell ...` in a fresh process, `workers` at a time; yields the rows
    each prints as its last line of output. (Not a ProcessPoolExecutor: with max_tasks_per_child, Python 3.11's
    can hang when it replaces a worker.) A cell that fails is reported with its error and the others go on."""
    from concurrent.futures import ThreadPoolExecutor

    def one(cell: tuple) -> list[dict]:
        cmd = [sys.executable, "-m", module, "--cell", *map(str, cell)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{cell}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else '?'}")
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        return rows if isinstance(rows, list) else [rows]

    with ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(one, cell): cell for cell in cells}
        for future in as_completed(futures):
            try:
                yield from future.result()
            except Exception as e:  # one broken cell must not end the comparison: say which and go on
                print(f"FAILED {futures[future]}: {e}", flush=True)


def cell_main(argv: list[str]) -> bool:
    """`--cell task tool budget seed retrains`: runs one cell here and prints its row as JSON (see in_processes)."""
    if not argv or argv[0] != "--cell":
        return False
    task, tool, budget, seed, retrains = argv[1:6]
    print(json.dumps(run_cell(task, tool, int(budget), int(seed), int(retrains))), flush=True)
    return True


if __name__ == "__main__":
    if not cell_main(sys.argv[1:]):
        main()
