"""Trial hygiene: one compute thread per trial process, a seed per trial, and a clean slate between trials.

Garbage collection between trials, cheaply. A full `gc.collect()` walks every object in the process (half a
million once Keras and torch are imported: ~0.4 s on a 2-core machine), and Keras' `clear_session` runs one too.
Instead, `start_trial` freezes what is alive when a trial starts (`gc.freeze()`: modules, the data, the
experiment; the previous trial's garbage is gone by then), so `clean_up`'s single collection walks only the
objects the trial made: milliseconds. Frozen objects are still freed by reference counting; only cycles among
them wait for `release()`, which `Scan.run` calls when the search ends (`gc.unfreeze()`).
"""

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


def start_trial() -> None:
    """Marks what is alive now as long-lived (see the module docstring), so the collection after the trial walks
    only what the trial makes."""
    gc.freeze()


def clean_up() -> None:
    """Frees what a finished trial left behind, so memory stays flat over hundreds of trials: Keras' global state,
    the trial's reference cycles (one collection over the objects made since `start_trial`), and freed heap."""
    keras.backend.clear_session(free_memory=False)
    gc.collect()
    _trim_heap()


def release() -> None:
    """The search has ended: objects frozen by `start_trial` go back to the collector's care."""
    gc.unfreeze()


def _trim_heap() -> None:
    """Hands freed heap back to the system (glibc keeps it otherwise, and RSS only grows)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass
