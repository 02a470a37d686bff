"""Runs the benchmarks and writes one JSON line per run to bench/results/, so partial results survive.

    .venv/bin/python -m bench.run                 # everything: (a) sklearn, (b) synthetic, (c) overhead
    .venv/bin/python -m bench.run --quick         # a minute or two: 2 problems, 2 seeds, short budgets
    .venv/bin/python -m bench.run --part a --seeds 10 --workers 2
    .venv/bin/python -m bench.report              # the tables of bench/README.md, from bench/results/

Runs already in the results file are skipped, so an interrupted run is continued by running the same command.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .optimizers import Param, available, make_optimizer
from .problems import SKLEARN_PROBLEMS, Problem, sklearn_problem, synthetic_problems

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    return {
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load": os.getloadavg()[0],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


# ---- one optimization run ----
def optimize(problem: Problem, optimizer: str, seed: int, iterations: int, batch: int) -> dict[str, Any]:
    opt = make_optimizer(optimizer, problem.space, seed, iterations * batch)
    losses: list[float] = []
    spent = 0.0
    t_start = time.perf_counter()
    for _ in range(iterations):
        t0 = time.perf_counter()
        params = opt.ask(batch)
        spent += time.perf_counter() - t0
        values = [problem(p) for p in params]
        t0 = time.perf_counter()
        opt.tell(params, values)
        spent += time.perf_counter() - t0
        losses.extend(values)
    return {
        "problem": problem.name,
        "optimizer": optimizer,
        "seed": seed,
        "batch": batch,
        "iterations": iterations,
        "losses": losses,
        "optimum": problem.optimum,
        "optimizer_seconds": spent,
        "seconds": time.perf_counter() - t_start,
    }


_PROBLEMS: dict[str, Problem] = {}


def _problem(part: str, name: str) -> Problem:
    if name not in _PROBLEMS:
        if part == "a":
            model, dataset = name.split("-", 1) if not name.startswith("MLP-adam") else ("MLP-adam", name[9:])
            _PROBLEMS[name] = sklearn_problem(model, dataset)
        else:
            for p in synthetic_problems():
                _PROBLEMS[p.name] = p
    return _PROBLEMS[name]


def _job(args: tuple) -> dict[str, Any]:
    part, name, optimizer, seed, iterations, batch = args
    try:
        os.nice(10)
    except OSError:
        pass
    try:
        out = optimize(_problem(part, name), optimizer, seed, iterations, batch)
    except Exception as e:  # a peer that breaks on a problem loses its row, not the benchmark
        out = {"problem": name, "optimizer": optimizer, "seed": seed, "error": f"{type(e).__name__}: {e}"}
    out["part"] = part
    out["load"] = os.getloadavg()[0]
    return out


def _done(path: Path) -> set[tuple]:
    if not path.exists():
        return set()
    out = set()
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill
        out.add((r["problem"], r["optimizer"], r["seed"]))
    return out


def run_part(part, problems, optimizers, seeds, iterations, batch, workers, path: Path) -> None:
    done = _done(path)
    jobs = [
        (part, p, o, s, iterations, batch)
        for s in seeds  # seeds outermost: every optimizer has the same seeds at any time
        for p in problems
        for o in optimizers
        if (p, o, s) not in done
    ]
    print(f"part {part}: {len(jobs)} runs to do ({len(done)} already in {path})", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=workers) as pool, path.open("a") as f:
        for r in pool.map(_job, jobs):
            f.write(json.dumps(r) + "\n")
            f.flush()
            best = min(r["losses"]) if "losses" in r else r.get("error")
            print(f"  {r['problem']:18s} {r['optimizer']:15s} seed {r['seed']}: best {best}", flush=True)


# ---- (c) overhead ----
def overhead(optimizers, sizes, path: Path, dims: int = 10, repeats: int = 3) -> None:
    space = [Param(f"x{i}", "real", -5.0, 5.0) for i in range(dims)]
    rng = np.random.default_rng(0)

    def f(p):
        return float(sum((p[f"x{i}"] - 1.0) ** 2 for i in range(dims)))

    path.parent.mkdir(parents=True, exist_ok=True)
    done = _done(path)
    with path.open("a") as out:
        for n in sizes:
            for name in optimizers:
                if (f"overhead-{n}", name, 0) in done:
                    continue
                opt = make_optimizer(name, space, 0, n + repeats + 2)
                points = [{f"x{i}": float(v) for i, v in enumerate(rng.uniform(-5, 5, dims))} for _ in range(n)]
                preload(opt, points, [f(p) for p in points])
                times = []
                for _ in range(repeats + 1):  # the first suggestion warms caches; it is not counted
                    t0 = time.perf_counter()
                    p = opt.ask(1)[0]
                    opt.tell([p], [f(p)])
                    times.append(time.perf_counter() - t0)
                r = {
                    "part": "c",
                    "problem": f"overhead-{n}",
                    "optimizer": name,
                    "seed": 0,
                    "trials": n,
                    "seconds": float(np.median(times[1:])),
                    "all": times,
                    "load": os.getloadavg()[0],
                }
                out.write(json.dumps(r) + "\n")
                out.flush()
                print(f"  overhead n={n:5d} {name:15s} {r['seconds']:.4f} s/suggestion (load {r['load']:.1f})")


def preload(opt, points, values) -> None:
    """Puts n finished trials into an optimizer's history the cheapest way its library allows."""
    from .optimizers import Knoblab, Optuna, Skopt

    if isinstance(opt, Knoblab):
        from knoblab.trial import FrozenTrial, TrialState

        for p, v in zip(points, values):
            k = len(opt.history)
            opt.history.append(FrozenTrial(id=k + 1, number=k, state=TrialState.COMPLETE, params=p, value=v))
    elif isinstance(opt, Optuna):
        import optuna

        for p, v in zip(points, values):
            opt.study.add_trial(optuna.trial.create_trial(params=p, distributions=opt.dists, value=v))
    elif isinstance(opt, Skopt):
        opt.tell(points, values)
    else:  # hyperopt: its first batch of asks is random whatever the batch size
        asked = opt.ask(len(points))
        opt.tell(asked, values)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", nargs="*", default=["a", "b", "c"], choices=["a", "b", "c"])
    ap.add_argument("--quick", action="store_true", help="2 problems, 2 seeds, short budgets: a smoke run")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--optimizers", nargs="*", default=None)
    ap.add_argument("--problems", nargs="*", default=None)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    # knoblab-gp and optuna-random are left out by default: on these problems auto chooses gp (same seed, same
    # points), and knoblab-random is the random baseline; name them with --optimizers to run them too
    optimizers = args.optimizers or [o for o in available() if o not in ("knoblab-gp", "optuna-random")]
    seeds = list(range(2 if args.quick else args.seeds))
    tag = "quick-" if args.quick else ""
    print(json.dumps(machine()), flush=True)
    if "a" in args.part:
        problems = args.problems or [f"{m}-{d}" for m, d in SKLEARN_PROBLEMS]
        if args.quick:
            problems = problems[:2]
        iterations = 3 if args.quick else 16
        run_part("a", problems, optimizers, seeds, iterations, 8, args.workers, args.results / f"{tag}a_sklearn.jsonl")
    if "b" in args.part:
        problems = args.problems or [p.name for p in synthetic_problems()]
        if args.quick:
            problems = problems[:2]
        iterations = 12 if args.quick else 50
        run_part(
            "b", problems, optimizers, seeds, iterations, 1, args.workers, args.results / f"{tag}b_synthetic.jsonl"
        )
    if "c" in args.part:
        sizes = [50, 100] if args.quick else [100, 500, 1000]
        overhead(optimizers, sizes, args.results / f"{tag}c_overhead.jsonl")


if __name__ == "__main__":
    main()
