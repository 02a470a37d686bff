"""Per-trial overhead of a Keras Scan: the seconds each trial spends outside the user's model function.

    python -m bench.keras_overhead [--trials 60] [--epochs 2] [--old-hygiene] [--out bench/results/keras_overhead.jsonl]

A tiny MLP (300 rows, 10 features, 2 epochs) keeps the model function short, so what is left is knoblab's own
work per trial: asking the strategy, storing the trial, the reporter's per-epoch writes (counted apart: they run
inside `fit`), saving the best models, cleaning up between trials. `--old-hygiene` runs the clean-up as it was
before issue 13 (Keras' `clear_session(free_memory=True)` and a second full `gc.collect()`, no `gc.freeze`), to
measure the difference on the same machine. Never a timed test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import knoblab as kl  # noqa: E402
from knoblab.keras import hygiene  # noqa: E402
from knoblab.keras.callbacks import Reporter  # noqa: E402

INSIDE: list[float] = []


def model_fn(x_train, y_train, x_val, y_val, params):
    start = time.perf_counter()
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(params["units"], activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(params["lr"]), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=params["epochs"], batch_size=64, verbose=0
    )
    INSIDE.append(time.perf_counter() - start)
    return history, model


def _old_clean_up() -> None:
    keras.backend.clear_session(free_memory=True)
    gc.collect()
    hygiene._trim_heap()


def timer(fn, bucket: list[float]):
    def wrapped(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            bucket.append(time.perf_counter() - start)

    return wrapped


def run(trials: int, epochs: int, old: bool) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 10)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    clean, report = [], []
    if old:
        hygiene.start_trial = lambda: None
        hygiene.release = lambda: None
        hygiene.clean_up = _old_clean_up
    hygiene.clean_up = timer(hygiene.clean_up, clean)
    Reporter.on_epoch_end = timer(Reporter.on_epoch_end, report)
    space = {"units": kl.Int(4, 32), "lr": kl.Real(1e-3, 1e-1, log=True), "epochs": epochs}
    folder = tempfile.mkdtemp()
    kwargs = dict(params=space, model=model_fn, metric="val_accuracy", storage=f"sqlite:///{folder}/k.db", seed=0)
    kwargs.update(artifacts_dir=folder, strategy="random", show_progress=False)
    kl.Scan(x, y, experiment_name="warm-up", n_trials=2, **kwargs)  # imports, first compilation: not counted
    INSIDE.clear(), clean.clear(), report.clear()
    start = time.perf_counter()
    scan = kl.Scan(x, y, experiment_name="overhead", n_trials=trials, **kwargs)
    wall = time.perf_counter() - start
    assert len(scan.data) == trials
    inside = sum(INSIDE)
    return {
        "hygiene": "old" if old else "new",
        "trials": trials,
        "epochs": epochs,
        "wall_s": round(wall, 3),
        "model_function_s": round(inside, 3),
        "overhead_per_trial_s": round((wall - inside) / trials, 4),
        "clean_up_per_trial_s": round(sum(clean) / trials, 4),
        "reporter_per_epoch_s": round(sum(report) / max(len(report), 1), 4),
        "gc_objects": len(gc.get_objects()),
        "machine": f"{platform.node()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--old-hygiene", action="store_true", help="clean up between trials as before issue 13")
    ap.add_argument("--out", default="bench/results/keras_overhead.jsonl")
    args = ap.parse_args()
    hygiene.limit_threads(1)
    row = run(args.trials, args.epochs, args.old_hygiene)
    print(json.dumps(row))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
