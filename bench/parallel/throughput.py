"""Trivial trials through shared storage from several writer processes: knoblab vs Optuna, side by side.

Each writer process reopens the same experiment (study) by name and runs trials until the total is reached:
knoblab's `Experiment.load(...).optimize(n_trials=TOTAL)` (the budget is the experiment's, shared), Optuna's
`load_study(...).optimize(n_trials=TOTAL / WRITERS)` with its RandomSampler (knoblab: strategy="random").
Afterwards every trial is checked: none lost, none duplicated, every writer's errors counted.

`--space grid` runs knoblab on a finite space instead (`strategy="grid"` over a (0, 1, 2 * trials + 1) tuple), where
writers must also never run the same point twice; `--space real grid` measures both, back to back.

    python -m bench.parallel.throughput --trials 10000 --writers 4 [--storage sqlite postgres] [--only knoblab]
    python -m bench.parallel.throughput --trials 2000 --writers 8 --storage postgres --only knoblab --space real grid
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def knoblab_objective(trial):
    return trial.params["x"] ** 2


def optuna_objective(trial):
    return trial.suggest_float("x", 0.0, 1.0) ** 2


def knoblab_writer(url: str, total: int, errors) -> None:
    import knoblab as kl

    try:
        kl.Experiment.load("load", url).optimize(knoblab_objective, n_trials=total)
    except Exception as e:
        errors.put(f"{type(e).__name__}: {e}"[:300])


def optuna_writer(url: str, per_writer: int, errors) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.load_study(study_name="load", storage=url, sampler=optuna.samplers.RandomSampler())
        study.optimize(optuna_objective, n_trials=per_writer)
    except Exception as e:
        errors.put(f"{type(e).__name__}: {e}"[:300])


def run(lib: str, url: str, total: int, writers: int, space: str = "real") -> dict:
    ctx = multiprocessing.get_context("spawn")
    errors = ctx.Queue()
    if lib == "knoblab":
        import knoblab as kl

        if space == "grid":
            kl.Experiment("load", {"x": (0.0, 1.0, 2 * total + 1)}, storage=url, strategy="grid", seed=0)
        else:
            kl.Experiment("load", {"x": kl.Real(0.0, 1.0)}, storage=url, strategy="random", seed=0)
        procs = [ctx.Process(target=knoblab_writer, args=(url, total, errors)) for _ in range(writers)]
    else:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        optuna.create_study(study_name="load", storage=url)
        procs = [ctx.Process(target=optuna_writer, args=(url, total // writers, errors)) for _ in range(writers)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.perf_counter() - start
    found = []
    while not errors.empty():
        found.append(errors.get())
    result = {
        "library": lib,
        "space": space,
        "writers": writers,
        "asked": total,
        "seconds": round(wall, 1),
        "errors": found,
    }
    result.update(check(lib, url))
    result["trials_per_s"] = round(result["complete"] / wall, 1)
    return result


def check(lib: str, url: str) -> dict:
    """Counts what the storage holds: trials, COMPLETE ones, duplicated numbers."""
    if lib == "knoblab":
        import knoblab as kl

        trials = kl.Experiment.load("load", url).trials
        numbers = [t.number for t in trials]
        complete = sum(t.state.value == "COMPLETE" for t in trials)
        points = [repr(t.params["x"]) for t in trials if t.state.value == "COMPLETE"]
        extra = {"points_run_twice": len(points) - len(set(points))}
    else:
        import optuna

        trials = optuna.load_study(study_name="load", storage=url).get_trials(deepcopy=False)
        numbers = [t.number for t in trials]
        complete = sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
        extra = {}
    return {
        **extra,
        "stored": len(numbers),
        "complete": complete,
        "duplicated_numbers": len(numbers) - len(set(numbers)),
        "gaps": (max(numbers) + 1 - len(set(numbers))) if numbers else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--storage", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--only", nargs="+", default=["knoblab", "optuna"], choices=["knoblab", "optuna"])
    parser.add_argument("--space", nargs="+", default=["real"], choices=["real", "grid"], help="grid: knoblab only")
    parser.add_argument("--out", default=str(HERE / "results" / "throughput.json"))
    args = parser.parse_args()
    from knoblab.testing.postgres import create_database, local_postgres

    def uptime() -> str:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    before = uptime()
    results = []
    with tempfile.TemporaryDirectory() as tmp, local_postgres(durable=True, max_connections=100) as pg:
        for storage in args.storage:
            for lib in args.only:
                for space in args.space:
                    if space == "grid" and lib != "knoblab":
                        continue
                    if storage == "sqlite":
                        url = f"sqlite:///{tmp}/{lib}_{space}.db"
                    else:
                        url = create_database(pg, f"bench_{lib}_{space}", replace=True)
                    r = run(lib, url, args.trials, args.writers, space)
                    r["storage"] = storage
                    print(json.dumps(r), flush=True)
                    results.append(r)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "uptime_before": before,
        "uptime_after": uptime(),
    }
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
