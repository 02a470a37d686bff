"""Talos' GPU helpers for Keras 3, on whichever backend runs: share a GPU between processes, or stay on the CPU.

Talos' versions drove TensorFlow 1 sessions; these do the same job with each backend's own switch. Where no GPU is
present there is nothing to share, and they change nothing.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

__all__ = ["parallel_gpu_jobs", "multi_gpu", "force_cpu"]


def parallel_gpu_jobs(allow_growth: bool = True, fraction: float = 0.5) -> None:
    """Caps this process's share of each GPU's memory at `fraction`, so several scans can share one GPU.
    Call it before the scan (JAX reads it only before it starts)."""
    if not (isinstance(fraction, float | int) and 0 < fraction <= 1):
        raise ValueError(f"parallel_gpu_jobs: fraction must be in (0, 1], got {fraction!r}")
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        for i in range(torch.cuda.device_count()):
            torch.cuda.set_per_process_memory_fraction(float(fraction), i)
    elif backend == "tensorflow":
        import tensorflow as tf

        for gpu in tf.config.list_physical_devices("GPU"):
            try:
                tf.config.experimental.set_memory_growth(gpu, bool(allow_growth))
            except RuntimeError as e:  # TensorFlow fixes it once the GPU is in use
                warnings.warn(f"parallel_gpu_jobs: {e}; call it before any model is built", stacklevel=2)
    else:
        os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] = "false" if allow_growth else "true"
        os.environ["XLA_PYTHON_CLIENT_MEM_FRACTION"] = str(float(fraction))


def multi_gpu(model: Any, gpus: Any = None, cpu_merge: bool = True, cpu_relocation: bool = False) -> Any:
    """Not in Keras 3: multi_gpu_model was removed from Keras."""
    raise NotImplementedError(
        "multi_gpu: Keras 3 has no multi_gpu_model; use keras.distribution.DataParallel (JAX backend) or "
        "tf.distribute.MirroredStrategy (TensorFlow backend) around the model function"
    )


def force_cpu() -> None:
    """Builds and trains the models of this process on the CPU even where a GPU is present."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # for backends not started yet
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        keras.device("cpu").__enter__()  # the default device from now on (the scope is never left)
    elif backend == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError as e:
            warnings.warn(f"force_cpu: {e}; call it before any model is built", stacklevel=2)
    elif backend == "jax":
        import jax

        jax.config.update("jax_default_device", jax.devices("cpu")[0])
