"""What every executor shares: the driver loop that keeps workers busy within the budgets, and the code that runs
one trial inside a worker (a process, a Ray task) against the storage the worker opens itself.

The driver asks the strategy for as many trials as there are idle workers (one batched ask), hands each out by
id, and tells the strategy when a worker says the trial ended. Workers write reports and results to storage
themselves, so nothing a trial produced depends on the driver staying alive. Budgets mean what they mean in the
serial loop: n_trials counts the whole experiment, time_limit stops new trials, target stops once reached.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..storage import StorageError, safe_url
from ..strategies.base import Strategy
from ..trial import FrozenTrial, Trial, TrialState
from . import devices

if TYPE_CHECKING:
    from ..experiment import Experiment

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


class ExecutorError(RuntimeError):
    """A worker could not be started or could not run trials at all (not a failing trial: those end FAILED)."""


@dataclass
class Event:
    """What an executor reports about a trial it was given.

    kind: "done" (the worker stored the trial's end), "died" (the worker vanished mid-trial: killed, crashed),
    "late" (another process ended the trial while it ran, e.g. stale recovery: the worker's result was refused,
    and the worker warned), "storage" (the worker could not write to storage: detail says why), "raised" (the
    objective raised an exception the search must not swallow: `error` is that exception, or its text).
    """

    kind: str
    trial_id: int
    detail: str = ""
    error: BaseException | None = None


class Executor(ABC):
    """Runs trials somewhere else than the driver. The driver loop (`drive`) calls these in this order:
    `start` once, then `submit` / `wait` while trials remain, `kill` for a trial past its time, `shutdown` once."""

    #: trials this executor runs at a time
    capacity: int = 1

    @abstractmethod
    def start(self, exp: Experiment, work: WorkSpec) -> None:
        """Gets workers ready to run trials of `exp` with `work` (the objective and how to run it)."""

    @abstractmethod
    def submit(self, trial: Trial, time_left: float | None) -> None:
        """Starts one trial, already stored as RUNNING, on an idle worker."""

    @abstractmethod
    def wait(self, timeout: float) -> list[Event]:
        """Events of submitted trials, waiting at most `timeout` seconds for the first."""

    @abstractmethod
    def kill(self, trial_id: int) -> None:
        """Stops the worker running this trial at once (its trial ran past trial_timeout); a fresh one replaces it."""

    @abstractmethod
    def shutdown(self, now: bool = False) -> None:
        """Stops every worker once idle (`now`: at once, killing trials still running; the driver then marks
        them interrupted)."""

    def describe(self) -> str:
        """The executor in a few words, for messages."""
        return type(self).__name__


@dataclass
class WorkSpec:
    """Everything a worker needs, sent once: where the experiment lives and the objective to run."""

    storage_url: str
    name: str
    objective: Callable[[Trial], Any]
    scheduler: Any = None
    catch: tuple[type[BaseException], ...] = (Exception,)
    threads: int | None = 1
    stale_after: float = 600.0
    heartbeat_interval: float = 15.0
    on_stale: str = "retry"
    constraints: Any = None  # the experiment's outcome constraints (functions travel with the work, not by name)
    max_resource: int | None = None  # optimize's resource budget: a worker stops its trial once it is spent
    retries: int = 0  # optimize's retry policy: failed attempts worth another run (see `outcomes.retry_failed`)
    retry_on: tuple[type[BaseException], ...] = ()
    # the class of the driver's experiment (pickled by reference): a worker reopens it by name with it, so the
    # executors never import experiment.py, which imports them (one import circle fewer)
    experiment_class: Any = None


# ---------------------------------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------------------------------
def storage_url_for_workers(exp: Experiment) -> str:
    """The URL workers open: the experiment's own, with a relative SQLite path made absolute (a worker's working
    folder may differ); an in-memory database cannot be shared, so it is refused with the reason."""
    url = getattr(exp.storage, "url", None)
    if not isinstance(url, str):
        raise ExecutorError(
            f"workers open the storage by URL, and {exp.storage!r} has none; give the experiment a storage URL"
        )
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or "mode=memory" in url:
            raise ExecutorError(
                "an in-memory SQLite storage cannot be shared with worker processes; "
                "use a file, e.g. storage='sqlite:///knoblab.db', or n_jobs=1"
            )
        if not path.startswith("file:") and not os.path.isabs(path):
            url = parsed.set(database=os.path.abspath(path)).render_as_string(hide_password=False)
    return url


def check_picklable(obj: Any, what: str) -> None:
    """Raises a clear error when `obj` cannot be sent to another process (a lambda, a function defined inside
    another one, an open connection)."""
    try:
        pickle.dumps(obj)
    except Exception as e:
        name = getattr(obj, "__qualname__", None) or type(obj).__name__
        raise ExecutorError(
            f"{what} {name!r} cannot be sent to worker processes ({type(e).__name__}: {e}); define it at the top "
            "level of a module the workers can import (not a lambda or a nested function), or use n_jobs=1"
        ) from None


def drive(
    exp: Experiment,
    executor: Executor,
    objective: Callable[[Trial], Any],
    *,
    n_trials: int | None,
    time_limit: float | None,
    target: float | None,
    catch: tuple[type[BaseException], ...],
    show_progress: bool | None,
    callbacks: Sequence[Callable[[Experiment, FrozenTrial], None]] | None,
    trial_timeout: float | None,
) -> Experiment:
    """The parallel loop: keep every worker busy until a budget ends, then wait for the trials in flight."""
    from ..outcomes import CallOutcome
    from ..progress import ProgressBar

    work = WorkSpec(
        storage_url=storage_url_for_workers(exp),
        name=exp.name,
        objective=objective,
        scheduler=exp.scheduler,
        catch=tuple(catch),
        stale_after=exp.stale_after,
        heartbeat_interval=exp.heartbeat_interval,
        on_stale=exp.on_stale,
        constraints=exp.constraints,
        max_resource=getattr(exp, "_max_resource", None),
        retries=exp._retry[0],
        retry_on=exp._retry[1],
        experiment_class=type(exp),
    )
    exp.recover_stale()
    exp._limit = n_trials
    progress = ProgressBar(exp, n_trials, show_progress)
    outcome = CallOutcome(exp, n_trials, target)
    running: dict[int, tuple[Trial, float]] = {}  # trial id -> (trial, started, monotonic)
    exhausted = False  # nothing to run now (a finished grid, a PBT member still running); asked again when a
    # trial ends, since a retry or a scheduler's continuation may be queued then
    failure: BaseException | None = None
    try:
        executor.start(exp, work)
        exp._deadline = time.monotonic() + time_limit if time_limit else None  # from when the workers are ready
        while True:
            idle = executor.capacity - len(running)
            if idle > 0 and failure is None and not exhausted and not exp._budget_spent(n_trials, target):
                trials = exp.ask(idle)
                if len(trials) < idle:
                    exhausted = True
                time_left = exp._deadline - time.monotonic() if exp._deadline else None
                for trial in trials:
                    running[trial.id] = (trial, time.monotonic())
                    executor.submit(trial, time_left)
            if not running:
                break
            for event in executor.wait(_next_wakeup(running, trial_timeout)):
                entry = running.pop(event.trial_id, None)
                if entry is None:
                    continue
                trial = entry[0]
                if event.kind == "done":
                    exhausted = False  # its end may have queued a trial (a promotion, a PBT member's next segment)
                    done = exp.storage.get_trial(trial.id, with_reports=True)
                    exp.strategy.tell(done)
                    progress.update(exp, done)
                    outcome.seen(done)
                    for cb in callbacks or ():
                        cb(exp, done)
                elif event.kind == "late":  # not ours to count or tell: the recovering process decided its end
                    exhausted = False  # and may have queued its retry
                elif event.kind == "died":
                    frozen = trial.freeze()
                    if frozen.attrs.get("source") == "retry" and frozen.attrs.get("retry_after") != "failed":
                        # it killed its worker twice: no third run
                        exp.storage.requeue(trial.id, f"interrupted: {event.detail}; already a retry, not run again")
                    elif exp.interrupted(frozen, f"interrupted: {event.detail}"):
                        exhausted = False  # a retry may be queued
                elif event.kind == "storage":
                    failure = failure or StorageError(event.detail)
                elif event.kind == "raised":
                    failure = failure or event.error or ExecutorError(event.detail)
            if trial_timeout is not None:
                for trial_id, (_, started) in list(running.items()):
                    if time.monotonic() - started > trial_timeout:
                        executor.kill(trial_id)
                        running.pop(trial_id)
                        reason = (
                            f"TrialTimeout: the trial ran past trial_timeout={trial_timeout:g} s; "
                            "its worker was stopped"
                        )
                        exp.storage.finish_trial(trial_id, TrialState.FAILED, None, None, reason)  # if still RUNNING
                        done = exp.storage.get_trial(trial_id, with_reports=True)
                        exp.strategy.tell(done)
                        progress.update(exp, done)
                        outcome.seen(done)
                        for cb in callbacks or ():
                            cb(exp, done)
    except BaseException as e:  # Ctrl-C, or the driver's own storage failing: stop now, retry what was cut short
        executor.shutdown(now=True)
        for trial, _ in running.values():
            try:
                if exp.storage.get_trial(trial.id, with_reports=False).state == TrialState.RUNNING:
                    exp.interrupted(trial.freeze(), f"interrupted: the driver stopped ({type(e).__name__})")
            except Exception:
                pass  # the storage itself may be what failed; recover_stale finds them on the next run
        raise
    else:
        executor.shutdown()
    finally:
        progress.close()
        exp._deadline = None
        exp._limit = None
    if failure is not None:
        raise failure
    outcome.end()
    return exp


def _next_wakeup(running: dict[int, tuple[Trial, float]], trial_timeout: float | None) -> float:
    if trial_timeout is None or not running:
        return 1.0
    first_end = min(started for _, started in running.values()) + trial_timeout
    return max(0.01, min(1.0, first_end - time.monotonic() + 0.01))


# ---------------------------------------------------------------------------------------------------------------
# worker side
# ---------------------------------------------------------------------------------------------------------------
class _Proposes(Strategy):
    """The strategy of a worker's copy of the experiment: workers never propose, the driver does."""

    name = "worker"
    max_objectives = None  # proposes nothing, whatever the objectives

    def ask(self, history, n):  # pragma: no cover - never asked
        return []


def limit_threads(threads: int | None) -> None:
    """One compute thread per worker (or `threads`): set before numpy, torch or TensorFlow size their pools."""
    if threads is None:
        return
    for var in THREAD_VARIABLES:
        os.environ[var] = str(threads)
    set_torch_threads(threads)


def set_torch_threads(threads: int | None) -> None:
    """torch reads OMP_NUM_THREADS when it loads; one already loaded is told directly."""
    if threads is not None and "torch" in sys.modules:
        torch = sys.modules["torch"]
        try:
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
        except Exception:
            pass


class TrialWorker:
    """Runs trials of one experiment inside a worker, given their ids: opens the storage by URL, reports and
    stores results itself, and beats the heartbeat of the trial it runs."""

    def __init__(self, work: WorkSpec):
        if work.experiment_class is None:
            raise ExecutorError("WorkSpec.experiment_class: the driver's experiment class is needed to reopen it")
        self.work = work
        self.exp = work.experiment_class.load(
            work.name,
            work.storage_url,
            strategy=_Proposes(),
            stale_after=work.stale_after,
            heartbeat_interval=work.heartbeat_interval,
            on_stale=work.on_stale,
            constraints=work.constraints,
        )
        self.exp.scheduler = work.scheduler
        self.exp._retry = (work.retries, work.retry_on)

    def run(self, trial_id: int, time_left: float | None) -> Event:
        """Runs one trial to its end and says how it went; never raises for a failing objective."""
        from ..heartbeat import Heartbeat

        exp = self.exp
        set_torch_threads(self.work.threads)
        try:
            frozen = exp.storage.get_trial(trial_id, with_reports=False)
            if frozen.state != TrialState.RUNNING:  # ended meanwhile (by the driver, or recovered): nothing to run
                return Event("late" if frozen.attrs.get("interrupted") else "done", trial_id)
            exp._deadline = time.monotonic() + time_left if time_left is not None else None
            exp._max_resource = getattr(self.work, "max_resource", None)
            devices.record(exp.storage, trial_id)  # the GPUs this worker sees, if it was given any
            trial = exp._handle(frozen)
            with Heartbeat(exp.storage, exp.heartbeat_interval) as beat:
                beat.ids = {trial_id}
                exp.run_trial(self.work.objective, trial, self.work.catch)
            return Event("late", trial_id) if trial.lost else Event("done", trial_id)
        except StorageError as e:
            return Event("storage", trial_id, str(e))
        except BaseException as e:  # an exception outside `catch`: the trial is FAILED, the driver re-raises it
            text = f"{type(e).__name__}: {e}"
            try:
                import traceback

                exp.storage.finish_trial(  # only if still RUNNING: never over what another process decided
                    trial_id, TrialState.FAILED, None, None, f"{text}\n\n{traceback.format_exc()}"
                )
            except Exception:
                pass
            return Event("raised", trial_id, text, error=_sendable(e))
        finally:
            exp._deadline = None


def _sendable(e: BaseException) -> BaseException | None:
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:
        return None


def describe_url(url: str) -> str:
    return safe_url(url)
