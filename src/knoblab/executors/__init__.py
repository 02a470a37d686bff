"""Where trials run: in this process (local), in a pool of worker processes (processes), on a Ray cluster (ray).

`Experiment.optimize(n_jobs=k)` uses `ProcessExecutor(k)`; pass `executor="ray"` or an executor instance for
another. Every executor goes through the same driver loop (`base.drive`), so budgets, crash recovery and
time-outs behave the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .base import Event, Executor, ExecutorError, TrialWorker, WorkSpec, drive
from .local import LocalExecutor
from .processes import ProcessExecutor, _refuse_unguarded_main

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..trial import FrozenTrial, Trial

EXECUTORS = ("local", "processes", "ray")


def make_executor(executor: str | Executor | None, n_jobs: int, gpus: Any = None) -> Executor:
    """An executor from a name (or the instance given); None means processes. `gpus` is the GPU request of
    `knoblab.executors.devices`, for executors that place workers on devices."""
    if isinstance(executor, Executor):
        if getattr(executor, "capacity", None) is None:
            executor.capacity = n_jobs
        if gpus is not None:
            with_gpus(executor, gpus)
        return executor
    if executor is None or executor == "processes":
        return ProcessExecutor(n_jobs, gpus=gpus)
    if executor == "local":
        if n_jobs > 1:
            raise ValueError(f"executor='local' runs one trial at a time; got n_jobs={n_jobs}")
        if gpus is not None:
            raise ValueError("gpus needs trials in worker processes; use executor='processes' or 'ray'")
        return LocalExecutor()
    if executor == "ray":
        from .ray import RayExecutor

        return RayExecutor(n_jobs, gpus=gpus)
    raise ValueError(f"executor: got {executor!r}; allowed: {list(EXECUTORS)} or an Executor instance")


def with_gpus(executor: Executor, gpus: Any) -> None:
    """Gives an executor instance the `gpus` request of `optimize`, unless it was made with another one."""
    from .devices import check_request

    gpus = check_request(gpus)
    if not hasattr(executor, "gpus"):
        raise ValueError(f"gpus: {executor.describe()} does not place workers on devices; give it no gpus")
    if executor.gpus is not None and executor.gpus != gpus:
        raise ValueError(f"gpus={gpus!r} but the executor was made with gpus={executor.gpus!r}; give one")
    executor.gpus = gpus


def run_parallel(
    exp: Experiment,
    objective: Callable[[Trial], Any],
    *,
    n_trials: int | None,
    time_limit: float | None,
    n_jobs: int,
    target: float | None,
    catch: tuple[type[BaseException], ...],
    show_progress: bool | None,
    callbacks: Sequence[Callable[[Experiment, FrozenTrial], None]] | None,
    executor: str | Executor | None = None,
    trial_timeout: float | None = None,
    gpus: Any = None,
) -> Experiment:
    """`Experiment.optimize` with an executor: the same budgets, trials run by workers."""
    _refuse_unguarded_main()  # before anything is written: this may be a worker importing an unguarded script
    chosen = make_executor(executor, n_jobs, gpus)
    if trial_timeout is not None and isinstance(chosen, LocalExecutor):
        raise ValueError("trial_timeout needs trials in workers that can be stopped; use executor='processes'")
    return drive(
        exp,
        chosen,
        objective,
        n_trials=n_trials,
        time_limit=time_limit,
        target=target,
        catch=catch,
        show_progress=show_progress,
        callbacks=callbacks,
        trial_timeout=trial_timeout,
    )


def __getattr__(name: str):
    if name == "RayExecutor":  # Ray loads only when asked for
        from .ray import RayExecutor

        return RayExecutor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Event",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "TrialWorker",
    "WorkSpec",
    "drive",
    "make_executor",
    "run_parallel",
]
