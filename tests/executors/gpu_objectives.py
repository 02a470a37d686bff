"""Objectives that report what their worker process sees of the GPUs, for tests/executors/test_devices.py.

SEEN_AT_IMPORT is read when a worker imports this module (when it loads the objective), i.e. before the
objective could import torch or JAX: the device environment must already be in place then.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

KEYS = (
    "CUDA_VISIBLE_DEVICES",
    "KERAS_TORCH_DEVICE",
    "JAX_PLATFORMS",
    "XLA_PYTHON_CLIENT_MEM_FRACTION",
    "TF_FORCE_GPU_ALLOW_GROWTH",
)
SEEN_AT_IMPORT = {k: os.environ.get(k) for k in KEYS}
TORCH_AT_IMPORT = "torch" in sys.modules


def sees(trial):
    """Stores what this process saw at import and sees now; a short sleep lets both workers take trials."""
    time.sleep(0.2)
    trial.set_attr("worker_pid", os.getpid())
    trial.set_attr("seen_at_import", SEEN_AT_IMPORT)
    trial.set_attr("torch_at_import", TORCH_AT_IMPORT)
    trial.set_attr("seen", {k: os.environ.get(k) for k in KEYS})
    return trial.params["x"]


def sees_and_dies_once(trial):
    """As `sees`, but the worker running trial 1 kills itself the first time: its replacement must see the same."""
    result = sees(trial)
    marker = Path(os.environ["KNOBLAB_TEST_DIR"]) / "killed"
    if trial.number == 1 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return result


def sees_frameworks(trial):
    """What torch (through Keras' torch backend) and JAX would compute on in this worker."""
    sees(trial)
    import jax
    from keras.src.backend.torch import core

    trial.set_attr("keras_torch_device", str(core.DEFAULT_DEVICE))
    trial.set_attr("jax_platform", jax.devices()[0].platform)
    return trial.params["x"]
