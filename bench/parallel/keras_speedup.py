"""Do 2 worker processes finish CPU-bound Keras trials ~2x as fast as 1 on a 2-core machine?

Each run: the same trials (same seed, same strategy) through `ProcessExecutor(k)` (one compute thread per
worker). The rate is trials per minute from the first trial handed out to the last one finished, so worker
start-up (importing Keras and torch) is not counted; wall time including it is reported too.

A single process's trial time on this (virtual) machine varies by up to 30% from minute to minute, so one pair
of runs can show anything from 1.2x to 2.3x. The benchmark therefore alternates 1-worker and 2-worker runs
`--repeats` times and reports the speed-up of each adjacent pair, and their median.

    python -m bench.parallel.keras_speedup [--trials 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(k: int, n_trials: int, folder: str) -> dict:
    import knoblab as kl
    from knoblab.executors import ProcessExecutor

    from .keras_objective import objective

    space = {"units": [192, 256], "lr": kl.Real(1e-3, 1e-2, log=True)}
    exp = kl.Experiment(f"keras-{k}", space, storage=f"sqlite:///{folder}/k{k}.db", strategy="random", seed=0)
    start = time.perf_counter()
    exp.optimize(objective, n_trials=n_trials, executor=ProcessExecutor(k, threads_per_worker=1))
    wall = time.perf_counter() - start
    trials = exp.trials
    assert all(t.state.value == "COMPLETE" for t in trials), [t.error for t in trials]
    span = (max(t.finished_at for t in trials) - min(t.started_at for t in trials)).total_seconds()
    return {
        "workers": k,
        "trials": len(trials),
        "span_s": round(span, 1),
        "wall_s": round(wall, 1),
        "trials_per_min": round(60 * len(trials) / span, 2),
        "mean_trial_s": round(sum(t.duration for t in trials) / len(trials), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "keras_speedup.json"))
    args = parser.parse_args()

    def uptime() -> str:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    before = uptime()
    results, speedups = [], []
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as folder:
            pair = [run(k, args.trials, folder) for k in (1, 2)]
        for r in pair:
            print(json.dumps({"repeat": repeat, **r}), flush=True)
        results += pair
        speedups.append(round(pair[1]["trials_per_min"] / pair[0]["trials_per_min"], 2))
    after = uptime()
    speedup = statistics.median(speedups)
    report = {
        "uptime_before": before,
        "uptime_after": after,
        "results": results,
        "speedups": speedups,
        "speedup": speedup,
    }
    print(
        f"speed-up 2 vs 1 worker: median {speedup:.2f}x of {speedups}  (load: "
        f"{before.split('load average:')[1].strip()} -> {after.split('load average:')[1].strip()})"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
