"""Writer processes for the concurrency tests: each reopens the experiment by name and works until the budget is
used, logging every trial it ran (to prove each ran exactly once)."""

from __future__ import annotations

import os


def logged_trivial(trial):
    with open(os.path.join(os.environ["KNOBLAB_TEST_DIR"], f"ran-{os.getpid()}.log"), "a") as f:
        f.write(f"{trial.number}\n")
    return trial.params["x"]


def writer(url: str, name: str, n_trials: int, log_dir: str) -> None:
    os.environ["KNOBLAB_TEST_DIR"] = log_dir
    from knoblab import Experiment

    Experiment.load(name, url).optimize(logged_trivial, n_trials=n_trials)


def run_writers(url: str, name: str, n_trials: int, n_writers: int, log_dir: str) -> list[int]:
    """Starts the writers, waits, returns their exit codes."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=writer, args=(url, name, n_trials, log_dir)) for _ in range(n_writers)]
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
