"""Offline learning curves: mfh3 and mfh6 (mf-prior-bench's multi-fidelity Hartmann functions), fidelity = epochs 1..100.

python -m bench.multifidelity.offline [--seeds 5] [--out bench/multifidelity/results/offline.jsonl]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import knoblab as kl

from . import mfh
from .common import append, methods, timed

MAX_EPOCHS = 100


def problem(name: str):
    f, dims, source = mfh.make(name)
    keys = [f"x{i}" for i in range(dims)]
    space = {k: kl.Real(0.0, 1.0) for k in keys}
    space["epochs"] = MAX_EPOCHS

    def train(params, start):
        xs = tuple(float(params[k]) for k in keys)
        for epoch in range(start, MAX_EPOCHS):
            yield f(epoch + 1, xs)  # after epoch+1 epochs: fidelity z = epoch + 1

    def suggest(trial):
        return {k: trial.suggest_float(k, 0.0, 1.0) for k in keys}

    return {"space": space, "train": train, "suggest": suggest, "direction": "min", "source": source}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=10_000, help="epochs per run")
    ap.add_argument("--problems", default="mfh3,mfh6")
    ap.add_argument("--out", default="bench/multifidelity/results/offline.jsonl")
    args = ap.parse_args()
    for name in args.problems.split(","):
        p = problem(name)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for method, run in methods(MAX_EPOCHS).items():
                budget = args.budget * 3 if method.startswith("random") else args.budget  # random is cheap to run
                ledger, seconds = timed(run, p, seed, budget)
                append(
                    Path(args.out),
                    {
                        "problem": name,
                        "source": p["source"],
                        "method": method,
                        "seed": seed,
                        "epochs": ledger.epochs,
                        "trials": ledger.trials,
                        "trajectory": ledger.trajectory,
                        "seconds": round(seconds, 2),
                    },
                )
                print(
                    name,
                    seed,
                    method,
                    ledger.epochs,
                    ledger.trials,
                    round(ledger.best, 4),
                    f"{seconds:.1f}s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
