"""Scores stored rows of the Keras comparison again, by several retrainings of the configuration each tool chose.

    nice -n 10 /work/benchenv/bin/python -m bench.keras.rescore --results bench/results/keras/results_v2.jsonl \\
        --out bench/results/keras/results_v2_rescored.jsonl --retrains 5 --workers 2

A row of `run.py` made with one retraining scores a tool's pick by one initialization: on these small tasks the
test accuracy of one configuration moves by 0.01-0.05 from one seed to the next, about the size of the differences
between tools. This retrains each row's `best` from the seeds of `run.retrain_seed` (the first is the seed the row
was scored with, so the first retraining must give the stored `test_accuracy` again: the run checks it and says
how many rows did not) and writes the row with `test_accuracies` to `--out`; no search is run again. Rows already
in `--out` are skipped, so an interrupted run continues.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .run import _done, in_processes, retrain


def rescore_row(row: dict, retrains: int) -> dict:
    """The row with the test accuracies of `retrains` retrainings of its `best`, in this (fresh) process."""
    from knoblab.keras import hygiene

    from . import tasks

    hygiene.limit_threads(1)
    split = tasks.ALL_TASKS[row["task"]]()
    scores = retrain(row["task"], split, row["best"], int(row["seed"]), retrains)
    first = scores["test_accuracies"][0]
    return {
        **row,
        "test_accuracies": scores["test_accuracies"],
        "retrain_val_accuracies": scores["retrain_val_accuracies"],
        "first_retrain_reproduced": abs(first - row["test_accuracy"]) < 1e-9,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--retrains", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    rows = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    done = _done(args.out)
    cells = [
        (json.dumps(r), args.retrains)  # the row itself goes to the cell's process
        for r in rows
        if (r["task"], r["tool"], r["budget"], r["seed"]) not in done
        and len(r.get("test_accuracies", [])) < args.retrains
    ]
    print(f"{len(cells)} rows to score ({len(done)} already in {args.out})", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    mismatched = 0
    for row in in_processes(cells, args.workers, "bench.keras.rescore"):
        mismatched += not row["first_retrain_reproduced"]
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        accs = row["test_accuracies"]
        print(
            f"{row['task']} {row['tool']} budget={row['budget']} seed={row['seed']}: "
            f"stored {row['test_accuracy']:.4f}, retrained {' '.join(f'{a:.4f}' for a in accs)}",
            flush=True,
        )
    if mismatched:
        print(f"{mismatched} rows: the first retraining did not give the stored test accuracy again", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cell"]:
        row, retrains = sys.argv[2:4]
        print(json.dumps(rescore_row(json.loads(row), int(retrains))), flush=True)
    else:
        main()
