"""The seconds of one suggestion (ask + tell) at a given number of finished trials, for several optimizers fed the
same history: one JSON line per (problem, optimizer, seed) in bench/results/multi/overhead.jsonl.

    nice -n 10 .venv/bin/python -m bench.multi.overhead [--trials 300] [--asks 5] [--seeds 3]

A 300-evaluation run of Optuna's GP sampler takes over an hour on 2 cores (each suggestion refits its GP on all the
trials so far), so its cost at 300 trials is measured here without the 299 suggestions before: the first `--trials`
points of an Optuna NSGA-II run of the problem (milliseconds to make, the same points for every optimizer) are told
to each optimizer as finished trials, then it makes `--asks` suggestions one at a time, each evaluated and told back
before the next; the median of their ask + tell seconds is stored, with the machine's load. knoblab `auto` is
configured for a budget of `--trials`, so it picks the strategy it picks for a run of that many evaluations.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..run import machine
from .optimizers import Knoblab, Optuna, make_optimizer
from .problems import problems

RESULTS = Path(__file__).resolve().parents[1] / "results" / "multi"


def history(problem, seed: int, trials: int, maker: str) -> list[tuple[dict[str, Any], list[float]]]:
    """The `trials` points of a run of the `maker` optimizer (a search history, not a random design) and their
    objectives."""
    opt = make_optimizer(maker, problem.space, problem.directions, seed, trials)
    out = []
    for _ in range(trials):
        (p,) = opt.ask(1)
        v = problem(p)
        opt.tell([p], [v])
        out.append((p, v))
    return out


def front(problem, points: list) -> list[int]:
    """The indices of the non-dominated points."""
    from knoblab.pareto import pareto_mask

    return [int(i) for i in np.flatnonzero(pareto_mask(problem.losses([v for _, v in points])))]


def preload(opt, points: list[tuple[dict[str, Any], list[float]]]) -> None:
    """Tells `opt` every point as a finished trial, without asking for them."""
    if isinstance(opt, Knoblab):
        from knoblab.trial import FrozenTrial, TrialState

        for p, v in points:
            k = len(opt.history)
            t = FrozenTrial(id=k + 1, number=k, state=TrialState.COMPLETE, params=dict(p), values=list(v))
            opt.history.append(t)
            opt.strategy.tell(t)
    elif isinstance(opt, Optuna):
        import optuna

        for p, v in points:
            opt.study.add_trial(optuna.trial.create_trial(params=dict(p), distributions=opt.dists, values=list(v)))
    else:  # pragma: no cover - every optimizer of bench.multi.optimizers is one of the two
        raise TypeError(f"cannot preload {type(opt).__name__}")


def measure(problem, optimizer: str, seed: int, points: list, asks: int, maker: str) -> dict[str, Any]:
    trials = len(points)
    opt = make_optimizer(optimizer, problem.space, problem.directions, seed, trials)
    preload(opt, points)
    seconds = []
    for _ in range(asks):
        t0 = time.perf_counter()
        params = opt.ask(1)
        spent = time.perf_counter() - t0
        vectors = [problem(p) for p in params]
        t0 = time.perf_counter()
        opt.tell(params, vectors)
        seconds.append(spent + time.perf_counter() - t0)
    return {
        "problem": problem.name,
        "optimizer": optimizer,
        "seed": seed,
        "trials": trials,
        "history": maker,
        "front": len(front(problem, points)),
        "choice": opt.choice,
        "ask_tell_seconds": seconds,
        "median_seconds": statistics.median(seconds),
        "load": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=300)
    ap.add_argument(
        "--history",
        default="optuna-nsga2",
        help="the optimizer whose run makes the history (optuna-nsga2: milliseconds; knoblab-auto: minutes, a front "
        "closer to the true one, with more non-dominated points, which costs the hypervolume-based GPs more)",
    )
    ap.add_argument("--asks", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--optimizers", nargs="*", default=["knoblab-auto", "optuna-gp"])
    ap.add_argument("--problems", nargs="*", default=None)
    ap.add_argument("--out", type=Path, default=RESULTS / "overhead.jsonl")
    args = ap.parse_args(argv)
    print(json.dumps(machine()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as f:
        for seed in range(args.seeds):
            for problem in problems(args.problems):
                points = history(problem, seed, args.trials, args.history)
                for optimizer in args.optimizers:
                    r = measure(problem, optimizer, seed, points, args.asks, args.history)
                    f.write(json.dumps(r) + "\n")
                    f.flush()
                    print(
                        f"  {r['problem']:14s} {optimizer:15s} seed {seed}: {r['median_seconds']:.2f} s"
                        f" ({r['choice'] or ''}, history {args.history}, front {r['front']}, load {r['load']:.1f})",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
