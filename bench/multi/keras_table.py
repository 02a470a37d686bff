"""Trains every configuration of the keras-digits problem once (see bench/multi/problems.py), one JSON line each.

    nice -n 10 .venv/bin/python -m bench.multi.keras_table [--workers 2]

Configurations already in the table are skipped, so an interrupted build continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

os.environ.setdefault("KERAS_BACKEND", "torch")

from .problems import DROPOUT, LR, TABLE, keras_configs, keras_key, read_table

EPOCHS = 12


def train(config: dict[str, int]) -> dict:
    """The validation accuracy after EPOCHS epochs and the parameter count of one configuration."""
    import keras
    import numpy as np

    from knoblab.keras import hygiene

    from ..multifidelity.keras_mlp import data

    hygiene.limit_threads(1)
    x_train, x_val, y_train, y_val = data()
    keras.utils.set_random_seed(0)
    layers = [keras.Input((64,))]
    units = [2 ** config["log2_units1"]] + ([2 ** config["log2_units2"]] if config["layers"] == 2 else [])
    for u in units:
        layers += [keras.layers.Dense(u, activation="relu"), keras.layers.Dropout(DROPOUT[config["dropout_index"]])]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(LR[config["lr_index"]]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    t0 = time.perf_counter()
    model.fit(x_train, y_train, epochs=EPOCHS, batch_size=128, verbose=0)
    acc = float(model.evaluate(x_val, y_val, batch_size=512, verbose=0)[1])
    acc = acc if np.isfinite(acc) else 0.0
    return {
        "key": keras_key(config),
        **config,
        "val_error": 1.0 - acc,
        "params": int(model.count_params()),
        "seconds": time.perf_counter() - t0,
    }


def _job(config):
    return train(config)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    done = read_table()
    todo = [c for c in keras_configs() if keras_key(c) not in done]
    print(f"{len(todo)} configurations to train ({len(done)} in {TABLE})", flush=True)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(args.workers) as pool, TABLE.open("a") as f:
        for i, row in enumerate(pool.map(_job, todo, chunksize=4)):
            f.write(json.dumps(row) + "\n")
            f.flush()
            if i % 20 == 0:
                print(
                    f"  {i + 1}/{len(todo)} {row['key']}: error {row['val_error']:.3f}, {row['params']} params, "
                    f"{row['seconds']:.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
