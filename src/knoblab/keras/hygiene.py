"""Trial hygiene: one compute thread per trial process, a seed per trial, and a clean slate between trials."""

from __future__ import annotations

import ctypes
import gc
import os

import keras

_threads_set: int | None = None


def limit_threads(n: int | None) -> None:
    """Caps the backend's compute threads (None: leave the default). Two default-threaded torch trainings on
    2 cores run several times slower than one, so trials use one thread each unless told otherwise."""
    global _threads_set
    if n is None or n == _threads_set:
        return
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        torch.set_num_threads(n)
    elif backend == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(n)
        except RuntimeError:  # TensorFlow fixes them once it has started
            pass
    else:  # JAX reads its thread count at start-up only; set it for processes started after this
        os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={n}")
    _threads_set = n


def seed_trial(seed: int | None) -> None:
    """Seeds Python, numpy and the backend, so that any trial can be re-run exactly from its stored seed."""
    if seed is not None:
        keras.utils.set_random_seed(int(seed) % (2**32))


def clean_up() -> None:
    """Frees what a finished trial left behind, so memory stays flat over hundreds of trials."""
    keras.backend.clear_session(free_memory=True)
    gc.collect()
    _trim_heap()


def _trim_heap() -> None:
    """Hands freed heap back to the system (glibc keeps it otherwise, and RSS only grows)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
