"""Successive-halving stop rules compared on the *same* configurations, so that only the rule differs.

    python -m bench.multifidelity.rules --problem mfh6 --seeds 40
    python -m bench.multifidelity.rules --problem keras --pool 100 --seeds 400 --curves /tmp/digits_curves.jsonl

The main benchmark (offline.py, keras_mlp.py) runs knoblab's ASHA with knoblab's random strategy and Optuna's
SuccessiveHalvingPruner with Optuna's RandomSampler: the same distribution, other draws, so a gap of a few
percent in "epochs to target" between the two can be luck of the draws. Here both rules see one stream of
configurations per seed and run serially, as the benchmark does; a rule is simulated in plain Python (the
learning curve of a configuration is fixed: mfh's function, or a Keras curve trained once and cached).

The rules (eta = 3, min resource 1 epoch, no bootstrap, min_early_stopping_rate 0, as both are configured):
- knoblab: rungs at 1, 3, 9, ... below max_resource; a trial's value at a rung is its best so far.
- optuna: rungs at 1, 3, 9, ... with no maximum (a rung at the last epoch when max_epochs is a power of eta,
  as Keras's 27 is); a trial's value at a rung is the value reported there.
Both keep the best max(1, n // eta) of the n trials at the rung (this one included), ties kept; NaN/inf at a rung
stops a trial in both. Two mixed rules isolate the value and the rung-at-max effects.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

ETA = 3
RULES = {
    "knoblab (best so far, rungs below max)": ("best", False),
    "optuna (value at rung, rung at max too)": ("value", True),
    "value at rung, rungs below max": ("value", False),
    "best so far, rung at max too": ("best", True),
}
TARGETS = {"mfh3": (-3.363, -3.598), "mfh6": (-1.161, -2.189), "keras": (0.1231, 0.07331)}


def simulate(curves, budget: int, stat: str, rung_at_max: bool, final: str) -> list[tuple[int, float]]:
    """Runs `curves` (an iterable of learning curves, lower is better) in order under one rule until `budget`
    epochs are spent; returns (epochs so far, best full-budget value so far) each time a trial completes."""
    rungs: dict[int, list[float]] = {}
    epochs, best, trajectory = 0, math.inf, []
    for curve in curves:
        if epochs >= budget:
            break
        top = len(curve)
        run_best, stopped = math.inf, False
        for e in range(1, top + 1):
            v = curve[e - 1]
            epochs += 1
            run_best = min(run_best, v)
            if not _is_rung(e, top, rung_at_max):
                continue
            if not math.isfinite(v):
                stopped = True  # both prune NaN/inf at a rung and keep it out of the rung
                break
            mine = run_best if stat == "best" else v
            table = rungs.setdefault(e, [])
            table.append(mine)
            k = max(1, len(table) // ETA)
            if not mine <= sorted(table)[k - 1]:
                stopped = True
                break
        if not stopped:
            best = min(best, curve[-1] if final == "last" else min(curve))
            trajectory.append((epochs, best))
    return trajectory


def _is_rung(e: int, top: int, rung_at_max: bool) -> bool:
    r = 1
    while r < e:
        r *= ETA
    return r == e and (e < top or rung_at_max)


def first_at(trajectory, target: float) -> int | None:
    return next((e for e, b in trajectory if b <= target), None)


class _Curve:
    """A learning curve evaluated epoch by epoch, on demand (a pruned trial computes only what it trained)."""

    def __init__(self, f, xs, max_epochs: int):
        self.f, self.xs, self.n, self.cache = f, xs, max_epochs, {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> float:
        i = i % self.n
        if i not in self.cache:
            self.cache[i] = self.f(i + 1, self.xs)  # after i + 1 epochs: fidelity z = i + 1
        return self.cache[i]

    def __iter__(self):
        return (self[i] for i in range(self.n))


def mfh_streams(name: str, seeds: int, max_epochs: int = 100):
    from .mfh import MFHartmann

    dims = int(name[-1])
    f = MFHartmann(dims)
    for seed in range(seeds):

        def stream(seed=seed):
            rng = np.random.default_rng(seed)
            while True:
                yield _Curve(f, tuple(float(v) for v in rng.random(dims)), max_epochs)

        yield stream


def keras_pool(path: Path, pool: int) -> list[list[float]]:
    """`pool` 27-epoch validation-loss curves of keras_mlp's model for random configurations, trained once and
    cached in `path` (one fit of 27 epochs per configuration, from the same initial seed as the benchmark)."""
    curves = [json.loads(line)["curve"] for line in path.open()] if path.exists() else []
    if len(curves) >= pool:
        return curves[:pool]
    import knoblab as kl
    from knoblab.keras import hygiene

    from .keras_mlp import KNOBS, MAX_EPOCHS, build_model, data

    hygiene.limit_threads(1)
    x_train, x_val, y_train, y_val = data()
    space = kl.Space(KNOBS)
    rng = np.random.default_rng(len(curves))
    with path.open("a") as out:
        while len(curves) < pool:
            p = space.sample(rng)
            model = build_model(p)
            h = model.fit(
                x_train,
                y_train,
                batch_size=int(p["batch_size"]),
                epochs=MAX_EPOCHS,
                validation_data=(x_val, y_val),
                verbose=0,
            )
            curve = [float(v) if np.isfinite(v) else 1e3 for v in h.history["val_loss"]]  # as keras_mlp does
            curves.append(curve)
            out.write(json.dumps({"params": {k: v for k, v in p.items()}, "curve": curve}, default=float) + "\n")
    return curves


def keras_streams(curves: list[list[float]], seeds: int):
    for seed in range(seeds):
        order = np.random.default_rng(seed).integers(len(curves), size=10_000)  # draws with replacement

        def stream(order=order):
            return (curves[i] for i in order)

        yield stream


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--problem", choices=("mfh3", "mfh6", "keras"), default="mfh6")
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--budget", type=int, default=None, help="epochs per run (default: 4000 mfh, 320 keras)")
    ap.add_argument("--pool", type=int, default=100, help="keras: configurations trained once and resampled")
    ap.add_argument("--curves", default="/tmp/knoblab_digits_curves.jsonl", help="keras: the curves' cache")
    args = ap.parse_args()
    if args.problem == "keras":
        curves = keras_pool(Path(args.curves), args.pool)
        streams, budget, final = list(keras_streams(curves, args.seeds)), args.budget or 320, "best"
    else:
        streams, budget, final = list(mfh_streams(args.problem, args.seeds)), args.budget or 4000, "last"
    for target in TARGETS[args.problem]:
        hits = {}
        for name, (stat, at_max) in RULES.items():
            hits[name] = [first_at(simulate(s(), budget, stat, at_max, final), target) for s in streams]
            reached = [h for h in hits[name] if h is not None]
            median = float(np.median([h if h is not None else math.inf for h in hits[name]]))
            print(
                f"{args.problem} target {target}: {name:42s} median {median:7.0f}  reached {len(reached)}/{len(streams)}"
            )
        a, b = (hits[n] for n in list(RULES)[:2])
        ours = sum((x or math.inf) < (y or math.inf) for x, y in zip(a, b))
        theirs = sum((x or math.inf) > (y or math.inf) for x, y in zip(a, b))
        print(f"  paired: knoblab's rule earlier on {ours} seeds, optuna's on {theirs}, ties {len(a) - ours - theirs}")


if __name__ == "__main__":
    main()
