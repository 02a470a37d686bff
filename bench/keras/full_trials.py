"""knoblab's GP against random search at 8, 16 and 32 full trials (issue 13, item 3), on the bench/keras tasks.

    BENCH_KERAS_MAX_EPOCHS=9 nice -n 10 /work/benchenv/bin/python -m bench.keras.full_trials --seeds 5 --workers 2

One search of 32 full trials per (task, strategy, seed); the GP does not read the budget, so its first 8 and 16
trials are exactly what a run of 8 or 16 would do. For each prefix the best trial by the scan's own rule is
retrained `--retrains` times (5) from seeds that are the same for both strategies and scored on the test split
(as in run.py; `report --score mean` ranks by the mean of the retrainings).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("bench/results/keras/full_trials.jsonl")
PREFIXES = (8, 16, 32)


def run_cell(task: str, strategy: str, seed: int, retrains: int = 1) -> list[dict[str, Any]]:
    import knoblab as kl
    from knoblab.keras import hygiene

    from . import spaces, tasks, tools
    from .run import _commit, retrain

    hygiene.limit_threads(1)
    split = tasks.ALL_TASKS[task]()
    tools.warm_up("knoblab-random", task, split)
    tools.LEDGER.reset(None)
    make = tools._builder(task, split, seed)

    def model_fn(x_train, y_train, x_val, y_val, params):
        model = make(params)
        return tools._fit(model, split, int(params["epochs"]), []), model

    with tempfile.TemporaryDirectory(prefix=f"kbench-{strategy}-") as tmp:
        start = time.perf_counter()
        scan = kl.Scan(
            split.x_train,
            split.y_train,
            params=spaces.knoblab(task),
            model=model_fn,
            experiment_name=f"{task}-{strategy}-{seed}",
            x_val=split.x_val,
            y_val=split.y_val,
            metric="val_accuracy",
            strategy=strategy,
            seed=seed,
            n_trials=max(PREFIXES),
            storage=f"sqlite:///{Path(tmp) / tools.KNOBLAB_DB}",
            artifacts_dir=Path(tmp) / "artifacts",
            keep_models=0,
            show_progress=False,
        )
        wall = time.perf_counter() - start
        trials = sorted(scan.experiment.trials, key=lambda t: t.number)
    rows = []
    for k in PREFIXES:
        done = [t for t in trials[:k] if t.value is not None]
        best = max(done, key=lambda t: t.value)  # the scan's rule (val_accuracy, max), on its first k trials
        params = {name: best.params[name] for name in spaces.KNOBS[task]}
        rows.append(
            {
                "task": task,
                "strategy": strategy,
                "seed": seed,
                "full_trials": k,
                "best_val": best.value,
                **retrain(task, split, params, seed, retrains),
                "best": params,
                "search_seconds": round(wall, 2),
                "max_epochs": tasks.MAX_EPOCHS,
                "commit": _commit(),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    from . import tasks
    from .run import in_processes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=list(tasks.TASKS), choices=list(tasks.ALL_TASKS))
    ap.add_argument("--strategies", nargs="+", default=["gp", "random"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--retrains", type=int, default=5, help="retrainings of each selected configuration (5)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if args.out.exists():
        done = {(r["task"], r["strategy"], r["seed"]) for r in map(json.loads, args.out.read_text().splitlines())}
    cells = [
        (task, strategy, seed, args.retrains)
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for task in args.tasks
        for strategy in args.strategies
        if (task, strategy, seed) not in done
    ]
    print(f"{len(cells)} cells to run", flush=True)
    for row in in_processes(cells, args.workers, "bench.keras.full_trials"):
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"{row['task']} {row['strategy']} s{row['seed']} k={row['full_trials']}: {row['test_accuracy']:.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cell"]:
        task, strategy, seed, retrains = sys.argv[2:6]
        print(json.dumps(run_cell(task, strategy, int(seed), int(retrains))), flush=True)
    else:
        main()
