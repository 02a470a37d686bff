"""Writer processes for the concurrency tests: each reopens the experiment by name and works until the budget is
used, logging every trial it ran (to prove each ran exactly once)."""

from __future__ import annotations

import os
import time


def logged_trivial(trial):
    time.sleep(0.02)  # long enough that no writer can run the whole budget before a slower-starting one asks
    with open(os.path.join(os.environ["KNOBLAB_TEST_DIR"], f"ran-{os.getpid()}.log"), "a") as f:
        f.write(f"{trial.number}\n")
    return trial.params["x"]


def writer(url: str, name: str, n_trials: int, log_dir: str, n_writers: int) -> None:
    os.environ["KNOBLAB_TEST_DIR"] = log_dir
    from knoblab import Experiment

    exp = Experiment.load(name, url)
    start_together(log_dir, n_writers)
    exp.optimize(logged_trivial, n_trials=n_trials)


def start_together(log_dir: str, n_writers: int, timeout: float = 120.0) -> None:
    """Waits until every writer has started: trivial trials end so fast that the first writer up could otherwise
    run them all before the others have imported knoblab, and nothing would run side by side."""
    open(os.path.join(log_dir, f"ready-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + timeout
    while sum(name.startswith("ready-") for name in os.listdir(log_dir)) < n_writers:
        if time.monotonic() > deadline:
            raise TimeoutError("the other writers did not start")
        time.sleep(0.01)


def run_writers(url: str, name: str, n_trials: int, n_writers: int, log_dir: str) -> list[int]:
    """Starts the writers, waits, returns their exit codes."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=writer, args=(url, name, n_trials, log_dir, n_writers)) for _ in range(n_writers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=600)
    return [p.exitcode for p in procs]


def ran_numbers(log_dir) -> list[int]:
    out = []
    for name in os.listdir(log_dir):
        if name.startswith("ran-"):
            with open(os.path.join(log_dir, name)) as f:
                out += [int(x) for x in f.read().split()]
    return out
