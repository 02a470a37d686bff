"""A GPU-bound Keras trial for bench/parallel/gpu_workers.py: a wide MLP on generated data, batches large enough
to keep one device busy. Keras, torch and the data load when a worker imports this module, i.e. after the worker's
CUDA_VISIBLE_DEVICES is set (knoblab.executors.devices), so torch sees only the worker's devices."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

_rng = np.random.default_rng(0)
X = _rng.normal(size=(131072, 512)).astype("float32")
Y = (np.sin(X[:, :16].sum(axis=1)) > 0).astype("float32")
EPOCHS = int(os.environ.get("KNOBLAB_GPU_BENCH_EPOCHS", "4"))


def what_torch_sees() -> dict:
    """The devices torch can use in this worker, by index and physical UUID."""
    import torch

    out = {"cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"), "device_count": torch.cuda.device_count()}
    out["uuids"] = [str(torch.cuda.get_device_properties(i).uuid) for i in range(torch.cuda.device_count())]
    return out


def objective(trial):
    """One training run on this worker's device; records what torch saw and where the weights lived."""
    keras.utils.set_random_seed(trial.number)
    units = trial.params["units"]
    model = keras.Sequential(
        [keras.Input((512,))]
        + [keras.layers.Dense(units, activation="relu") for _ in range(4)]
        + [keras.layers.Dense(1, activation="sigmoid")]
    )
    model.compile(optimizer=keras.optimizers.Adam(trial.params["lr"]), loss="binary_crossentropy")
    history = model.fit(X, Y, validation_split=0.1, epochs=EPOCHS, batch_size=4096, verbose=0)
    trial.set_attr("torch", {**what_torch_sees(), "weights_on": str(model.weights[0].value.device)})
    return float(min(history.history["val_loss"]))
