"""Objectives the executor tests send to worker processes: module-level, so a spawned worker can import them.

Markers that must outlive one process live in the folder named by $KNOBLAB_TEST_DIR.
"""

from __future__ import annotations

import math
import os
import signal
import time
from pathlib import Path


def _marker(name: str, trial=None) -> Path:
    """A file in the test's folder: a fixed knob "dir" names it (Ray workers keep the environment they started
    with), else $KNOBLAB_TEST_DIR."""
    folder = trial.params.get("dir") if trial is not None else None
    return Path(folder or os.environ["KNOBLAB_TEST_DIR"]) / name


def quadratic(trial):
    x = trial.params["x"]
    for step in range(3):
        trial.report(step, loss=(x - 0.3) ** 2 + 1.0 / (step + 1))
    trial.set_attr("worker_pid", os.getpid())
    return (x - 0.3) ** 2


def trivial(trial):
    return trial.params["x"]


def sleepy(trial):
    time.sleep(0.3)
    trial.set_attr("worker_pid", os.getpid())
    return trial.params["x"]


def threads(trial):
    import torch

    return {
        "value": trial.params["x"],
        "torch_threads": torch.get_num_threads(),
        "omp": os.environ.get("OMP_NUM_THREADS"),
    }


def kill_self_once(trial):
    """The worker running trial 2 kills itself with SIGKILL the first time (kill -9 mid-trial)."""
    trial.report(0, loss=1.0)
    if trial.number == 2 and not _marker("killed", trial).exists():
        _marker("killed", trial).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return trial.params["x"]


def always_kill_self(trial):
    if trial.params["x"] > 0.5:
        os.kill(os.getpid(), signal.SIGKILL)
    return trial.params["x"]


def hang_on_trial_one(trial):
    if trial.number == 1:
        time.sleep(120)
    return trial.params["x"]


def bad_results(trial):
    """By trial number: a number, NaN, None, a string, an exception, an inf, a dict without the metric."""
    kind = trial.number % 7
    if kind == 1:
        return float("nan")
    if kind == 2:
        return None
    if kind == 3:
        return "0.5"
    if kind == 4:
        raise RuntimeError("the objective broke on purpose")
    if kind == 5:
        return math.inf
    if kind == 6:
        return {"accuracy": 0.9}
    return trial.params["x"]


def raise_type_error(trial):
    raise TypeError("not in catch")


def memory_hog(trial):
    if trial.number == 1:
        blob = bytearray(8 * 1024**3)  # 8 GiB, past the worker's address-space limit
        return float(len(blob))
    return trial.params["x"]


def record_and_sleep(trial):
    """Slow enough to be killed mid-search; appends each finished trial to a log to prove none ran twice."""
    with open(_marker("pids.log"), "a") as f:
        f.write(f"{os.getpid()}\n")
    with open(_marker("started.log"), "a") as f:
        f.write(f"{trial.number}\n")
    time.sleep(0.4)
    with open(_marker("finished.log"), "a") as f:
        f.write(f"{trial.number} {trial.params['x']!r}\n")
    return trial.params["x"]


def keras_mlp(trial):
    """A tiny Keras model on tiny generated data; each epoch reaches storage through knoblab's Reporter."""
    import keras
    import numpy as np

    from knoblab.keras.callbacks import Reporter

    rng = np.random.default_rng(trial.number)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32") > 0).astype("float32")
    keras.utils.set_random_seed(trial.number)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(trial.params["units"], activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(trial.params["lr"]), loss="binary_crossentropy")
    reporter = Reporter(trial, monitor="val_loss", direction="min")
    history = model.fit(
        x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=3, batch_size=16, verbose=0, callbacks=[reporter]
    )
    trial.set_attr("worker_pid", os.getpid())
    return {"val_loss": float(min(history.history["val_loss"])), "backend": keras.backend.backend()}


RECOVER = "import sys, knoblab as kl; kl.Experiment.load(sys.argv[2], sys.argv[1], stale_after=0.2).recover_stale()"


def recovered_while_running(trial):
    """Trial 0 falls silent past stale_after and another process (a real one) recovers it as stale meanwhile, as
    a second worker would after this one's machine slept; then it reports and returns late. Fixed knobs "url" and
    "name" say where the experiment lives."""
    if trial.number == 0:
        time.sleep(0.5)  # no heartbeat (the experiment's interval is long) for longer than the recoverer's 0.2 s
        import subprocess
        import sys

        subprocess.run([sys.executable, "-c", RECOVER, trial.params["url"], trial.params["name"]], check=True)
        trial.report(0, loss=0.0)  # refused: the trial is FAILED (interrupted) now
        assert trial.should_stop()
        return 0.0  # a "best" result that must not overwrite what the recovery decided
    trial.report(0, loss=trial.params["x"])
    return trial.params["x"]


def report_and_sleep(trial):
    """Reports step 0, works a second, reports step 1: long enough to pause its worker mid-trial."""
    trial.report(0, loss=1.0)
    time.sleep(1.0)
    trial.report(1, loss=0.5)
    return trial.params["x"]


class KilledWhileLoading:
    """An objective whose loading kills the worker that loads it with SIGKILL, while the pool starts: the first
    `times` loads (counted by marker files, so across processes), then it loads and runs as `trivial`."""

    def __init__(self, folder: str, times: int = 1) -> None:
        self.folder = folder
        self.times = times

    def __setstate__(self, state: dict) -> None:  # runs in the worker, as it starts
        self.__dict__.update(state)
        for k in range(self.times):
            try:
                fd = os.open(Path(self.folder) / f"killed-on-load-{k}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)

    def __call__(self, trial):
        return trial.params["x"]


def flaky(trial):
    """Raises MemoryError on the first two runs of every third configuration (counted per params, across
    processes), ValueError for x > 0.95, and returns x otherwise."""
    x = trial.params["x"]
    if x > 0.95:
        raise ValueError("not worth another attempt")
    if int(x * 1000) % 3 == 0:
        runs = _marker(f"flaky-{x!r}", trial)
        seen = runs.read_text().count("\n") if runs.exists() else 0
        with open(runs, "a") as f:
            f.write(f"{trial.number}\n")
        if seen < 2:
            raise MemoryError(f"out of memory on run {seen + 1} of x={x!r}")
    return x


def always_fails(trial):
    raise ZeroDivisionError("the objective is broken")
