"""Do two workers train on two GPUs at once, and does one trial per device scale near-linearly?

Needs a machine with CUDA torch and at least two GPUs; it was written where there is none and has not been run
(see the report of issue 18). Three runs of the same Keras trials (bench/parallel/gpu_objective.py):

1. one worker on GPU 0 (`gpus=[0]`): the baseline rate, trials per minute from first start to last end;
2. two workers on GPUs 0 and 1 (`gpus=[0, 1]`): each worker's torch must see exactly one device, the two
   workers' devices must differ (by UUID), trials on the two devices must overlap in time, and the rate should be
   close to twice the baseline (the check fails below 1.7x);
3. two workers sharing GPU 0 by halves (`gpus=0.5`): both must run, on the same device.

    python -m bench.parallel.gpu_workers [--trials 8] [--out bench/parallel/results/gpu_workers.json]

Exit code 0 when every check passes, 1 otherwise; the numbers go to --out as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(name: str, folder: str, n_trials: int, n_jobs: int, gpus) -> dict:
    import knoblab as kl

    from .gpu_objective import objective

    space = {"units": [2048], "lr": kl.Real(1e-4, 1e-3, log=True)}
    exp = kl.Experiment(name, space, storage=f"sqlite:///{folder}/{name}.db", strategy="random", seed=0)
    start = time.perf_counter()
    exp.optimize(objective, n_trials=n_trials, n_jobs=n_jobs, gpus=gpus)
    wall = time.perf_counter() - start
    trials = exp.trials
    failed = [t.error for t in trials if t.state.value != "COMPLETE"]
    if failed:
        raise SystemExit(f"{name}: trials failed: {failed[:2]}")
    span = (max(t.finished_at for t in trials) - min(t.started_at for t in trials)).total_seconds()
    return {
        "run": name,
        "workers": n_jobs,
        "gpus": gpus,
        "trials": len(trials),
        "span_s": round(span, 1),
        "wall_s": round(wall, 1),
        "trials_per_min": round(60 * len(trials) / span, 2),
        "per_trial": [
            {
                "number": t.number,
                "gpus": t.attrs.get("gpus"),
                "gpu_share": t.attrs.get("gpu_share"),
                "torch": t.attrs.get("torch"),
                "start": t.started_at.isoformat(),
                "end": t.finished_at.isoformat(),
            }
            for t in trials
        ],
    }


def overlapping(trials: list[dict], a: int, b: int) -> bool:
    """True when some trial on device a ran at the same time as some trial on device b."""
    on = {d: [(t["start"], t["end"]) for t in trials if t["gpus"] == [d]] for d in (a, b)}
    return any(s1 < e2 and s2 < e1 for s1, e1 in on[a] for s2, e2 in on[b])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=8, help="trials of the one-worker run (the others run 2x)")
    parser.add_argument("--out", default=str(HERE / "results" / "gpu_workers.json"))
    args = parser.parse_args()

    from knoblab.executors.devices import visible_gpus

    gpus = visible_gpus()
    if len(gpus) < 2:
        print(f"needs at least 2 GPUs; visible: {gpus}", file=sys.stderr)
        return 2
    checks: dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as folder:
        one = run("one_gpu", folder, args.trials, 1, [int(gpus[0])] if gpus[0].isdigit() else [gpus[0]])
        two = run("two_gpus", folder, 2 * args.trials, 2, [int(g) if g.isdigit() else g for g in gpus[:2]])
        shared = run("shared_gpu", folder, 4, 2, 0.5)
    devices_two = sorted({t["gpus"][0] for t in two["per_trial"]})
    checks["each worker's torch sees one device"] = all(t["torch"]["device_count"] == 1 for t in two["per_trial"])
    uuids = {t["gpus"][0]: t["torch"]["uuids"][0] for t in two["per_trial"]}
    checks["the two workers' devices differ"] = len(devices_two) == 2 and len(set(uuids.values())) == 2
    checks["weights live on the GPU"] = all(t["torch"]["weights_on"].startswith("cuda") for t in two["per_trial"])
    checks["the two devices train at once"] = len(devices_two) == 2 and overlapping(two["per_trial"], *devices_two)
    speedup = two["trials_per_min"] / one["trials_per_min"]
    checks["one trial per device scales near-linearly (>= 1.7x)"] = speedup >= 1.7
    shared_devices = {tuple(t["gpus"]) for t in shared["per_trial"]}
    checks["two workers share one device by halves"] = len(shared_devices) == 1 and all(
        t["gpu_share"] == 0.5 for t in shared["per_trial"]
    )
    result = {"speedup": round(speedup, 2), "checks": checks, "runs": [one, two, shared]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    for what, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
    print(f"1 GPU: {one['trials_per_min']} trials/min; 2 GPUs: {two['trials_per_min']} trials/min ({speedup:.2f}x)")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
