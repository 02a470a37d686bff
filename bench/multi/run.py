"""Runs the multi-objective benchmark: one JSON line per (problem, optimizer, seed) in bench/results/multi/.

    nice -n 10 .venv/bin/python -m bench.multi.run --workers 2          # ZDT1-3, DTLZ2, keras-digits x 10 seeds
    .venv/bin/python -m bench.multi.run --quick                          # a smoke run: 2 problems, 2 seeds, 30 evals
    .venv/bin/python -m bench.multi.report                               # the tables of bench/README.md

Each run evaluates `--evaluations` points (300) one at a time; the report reads the hypervolume after the first 100
and after all 300 of the same run (no optimizer here reads the budget, but for knoblab `auto`, whose rule picks the
same strategy for 100 and 300 trials; the choice is stored with each run). Seconds spent in ask + tell are stored per
suggestion, so the overhead at 300 trials is read from the same runs. Runs already in the results file are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ..run import machine
from .optimizers import OPTIMIZERS, make_optimizer
from .problems import problems

RESULTS = Path(__file__).resolve().parents[1] / "results" / "multi"
DEFAULT = ["knoblab-auto", "optuna-nsga2", "optuna-tpe", "optuna-gp"]


def optimize(problem, optimizer: str, seed: int, evaluations: int) -> dict[str, Any]:
    opt = make_optimizer(optimizer, problem.space, problem.directions, seed, evaluations)
    values: list[list[float]] = []
    seconds: list[float] = []
    t_start = time.perf_counter()
    for _ in range(evaluations):
        t0 = time.perf_counter()
        params = opt.ask(1)
        spent = time.perf_counter() - t0
        vectors = [problem(p) for p in params]
        t0 = time.perf_counter()
        opt.tell(params, vectors)
        seconds.append(spent + time.perf_counter() - t0)
        values.extend(vectors)
    return {
        "problem": problem.name,
        "optimizer": optimizer,
        "seed": seed,
        "evaluations": evaluations,
        "values": values,
        "directions": list(problem.directions),
        "reference": list(problem.reference),
        "max_hypervolume": problem.max_hypervolume,
        "choice": opt.choice,
        "ask_tell_seconds": seconds,
        "seconds": time.perf_counter() - t_start,
    }


def _job(args: tuple) -> dict[str, Any]:
    name, optimizer, seed, evaluations = args
    try:
        (problem,) = problems([name])
        out = optimize(problem, optimizer, seed, evaluations)
    except Exception as e:  # a peer that breaks on a problem loses its row, not the benchmark
        out = {"problem": name, "optimizer": optimizer, "seed": seed, "error": f"{type(e).__name__}: {e}"}
    out["load"] = os.getloadavg()[0]
    return out


def done_runs(path: Path) -> set[tuple]:
    out = set()
    for line in path.read_text().splitlines() if path.exists() else []:
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "error" not in r:
            out.add((r["problem"], r["optimizer"], r["seed"], r["evaluations"]))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--evaluations", type=int, default=300)
    ap.add_argument("--optimizers", nargs="*", default=DEFAULT, choices=sorted(OPTIMIZERS))
    ap.add_argument("--problems", nargs="*", default=None)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS / "runs.jsonl")
    args = ap.parse_args(argv)
    names = args.problems or [p.name for p in problems()]
    seeds = list(range(args.first_seed, args.first_seed + (2 if args.quick else args.seeds)))
    evaluations = 30 if args.quick else args.evaluations
    if args.quick:
        names = names[:2]
        args.out = args.out.with_name("quick-" + args.out.name)
    done = done_runs(args.out)
    # seeds outermost: every optimizer has the same seeds at any time; the slow GP runs spread over the run
    jobs = [
        (p, o, s, evaluations)
        for s in seeds
        for p in names
        for o in args.optimizers
        if (p, o, s, evaluations) not in done
    ]
    print(json.dumps(machine()), flush=True)
    print(f"{len(jobs)} runs to do ({len(done)} already in {args.out})", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=args.workers) as pool, args.out.open("a") as f:
        for r in pool.map(_job, jobs):
            f.write(json.dumps(r) + "\n")
            f.flush()
            what = r.get("error") or f"{r['seconds']:.0f} s" + (f" ({r['choice']})" if r.get("choice") else "")
            print(f"  {r['problem']:14s} {r['optimizer']:15s} seed {r['seed']}: {what}", flush=True)


if __name__ == "__main__":
    main()
