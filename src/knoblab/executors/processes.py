"""A pool of worker processes on this machine, one compute thread each by default.

Workers are forked from a "forkserver" (a clean helper process that imported knoblab once, so a worker starts in
milliseconds and inherits no locks, database connections or thread pools of the driver), or started with "spawn";
they open the storage themselves and run trials by id. A worker that dies mid-trial (kill -9, a segfault, the kernel's
out-of-memory killer) is replaced and its trial retried or FAILED; a trial past `trial_timeout` has its worker
killed. Workers die with the driver (Linux: PR_SET_PDEATHSIG), so a killed driver leaves no orphan writing on.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing import connection
from typing import TYPE_CHECKING, Any

from .base import (
    THREAD_VARIABLES,
    Event,
    Executor,
    ExecutorError,
    TrialWorker,
    WorkSpec,
    check_picklable,
    limit_threads,
)
from .devices import check_request, plan

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..trial import Trial


_PENDING = ("pending",)
_START_REPLACEMENTS = 3  # per worker slot, of workers killed while starting, before the search gives up

#: the exit code of a worker that found itself re-running the user's script top level (see `_refuse_unguarded_main`)
UNGUARDED_MAIN_EXIT = 87
UNGUARDED_MAIN = (
    "worker processes start by importing your script again, and its top level calls optimize(n_jobs > 1) once "
    'more: put the code that runs the search under `if __name__ == "__main__":` (as in the README\'s n_jobs '
    "section), or use n_jobs=1"
)


def _refuse_unguarded_main() -> None:
    """Called before workers start: in a worker that is still importing the user's script (spawn and forkserver
    import the main module anew, so a script without a `__main__` guard reaches optimize again there), ends that
    worker at once with a code the driver turns into `UNGUARDED_MAIN`, instead of multiprocessing's bootstrap
    error twice over."""
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        sys.stderr.flush()
        os._exit(UNGUARDED_MAIN_EXIT)


@dataclass
class _Slot:
    process: Any
    conn: Any
    trial_id: int | None = None
    ready: bool = False
    devices: Any = None  # the GPUs its worker sees (knoblab.executors.devices), kept by a replacement


class ProcessExecutor(Executor):
    """Runs `n_jobs` trials at a time, each in its own worker process.

    Args:
        n_jobs: worker processes (trials at a time).
        threads_per_worker: compute threads each worker may use (OMP/MKL/OpenBLAS and torch); None leaves them
            as the environment says. One per worker is what makes k workers k times faster on k cores.
        memory_limit: bytes of address space per worker (RLIMIT_AS, Linux): an objective that allocates past it
            gets a MemoryError and its trial ends FAILED, instead of the machine swapping. None: no limit.
        start_method: "forkserver" (default where there is one) or "spawn".
        start_timeout: seconds a worker may take to start and load the objective.
        gpus: the GPUs each worker sees: "auto", a device list, GPUs per worker (0.5 shares one device between
            two workers), or None to leave the environment alone (see `knoblab.executors.devices`).
    """

    def __init__(
        self,
        n_jobs: int = 2,
        *,
        threads_per_worker: int | None = 1,
        memory_limit: int | None = None,
        start_method: str | None = None,
        start_timeout: float = 120.0,
        gpus: Any = None,
    ):
        if not (isinstance(n_jobs, int) and n_jobs >= 1):
            raise ValueError(f"n_jobs: got {n_jobs!r}; give an integer >= 1")
        if threads_per_worker is not None and not (isinstance(threads_per_worker, int) and threads_per_worker >= 1):
            raise ValueError(f"threads_per_worker: got {threads_per_worker!r}; give an integer >= 1 or None")
        if memory_limit is not None and not (isinstance(memory_limit, int) and memory_limit > 0):
            raise ValueError(f"memory_limit: got {memory_limit!r}; give bytes > 0 or None")
        if start_method is None:
            import multiprocessing

            start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        if start_method not in ("spawn", "forkserver"):
            raise ValueError(f"start_method: got {start_method!r}; allowed: 'spawn' or 'forkserver'")
        self.capacity = n_jobs
        self.threads = threads_per_worker
        self.memory_limit = memory_limit
        self.start_method = start_method
        self.start_timeout = start_timeout
        self.gpus = check_request(gpus)
        self._slots: list[_Slot] = []
        self._payload = b""

    def describe(self) -> str:
        return f"ProcessExecutor(n_jobs={self.capacity}, threads_per_worker={self.threads})"

    # ---- life cycle ----
    def start(self, exp: Experiment, work: WorkSpec) -> None:
        import multiprocessing

        check_picklable(work.objective, "objective")
        if work.scheduler is not None:
            check_picklable(work.scheduler, "scheduler")
        work.threads = self.threads
        self._payload = pickle.dumps(work)
        self._ctx: Any = multiprocessing.get_context(self.start_method)  # a SpawnContext or a ForkServerContext
        if self.start_method == "forkserver":
            self._ctx.set_forkserver_preload(["knoblab.experiment", "knoblab.executors.processes"])
        assignments: list[Any] = (
            plan(self.gpus, self.capacity) or [None] * self.capacity
        )  # checked before any worker starts
        self._slots = [self._spawn(devices) for devices in assignments]
        deadline = time.monotonic() + self.start_timeout
        replaced = 0
        for i in range(len(self._slots)):  # all start at once; wait for each to have loaded the objective
            while not self._await_ready(self._slots[i], deadline):
                # killed while starting (kill -9, the out-of-memory killer): a fresh one takes its place, as for
                # a worker killed later; many in a row mean something kills every worker, and the search stops
                replaced += 1
                if replaced > _START_REPLACEMENTS * self.capacity:
                    code = self._slots[i].process.exitcode
                    raise ExecutorError(
                        f"worker processes keep dying while starting (the last killed by signal {-code}; "
                        f"{replaced - 1} replaced): is the machine out of memory? Try fewer n_jobs"
                    )
                self._slots[i] = self._respawn(self._slots[i])
                deadline = max(deadline, time.monotonic() + self.start_timeout)

    def _spawn(self, devices: Any = None) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=_worker_main,
            args=(child, os.getpid(), self.threads, self.memory_limit),
            name="knoblab-worker",
            daemon=True,
        )
        with _thread_env(self.threads):  # a spawned interpreter reads them before it imports numpy or torch
            process.start()
        child.close()
        environ = dict(os.environ) if devices is None else dict(devices.apply(dict(os.environ)))
        parent.send(environ)  # a forkserver started earlier has an older environment: send today's (and its GPUs)
        parent.send_bytes(self._payload)
        return _Slot(process, parent, devices=devices)

    def _await_ready(self, slot: _Slot, deadline: float) -> bool:
        """Waits until the worker has loaded the objective: True, or False when a signal killed it meanwhile (to
        be replaced). A worker that failed on its own (its objective could not be loaded) is an ExecutorError."""
        while not slot.ready:
            left = deadline - time.monotonic()
            if left <= 0 or not connection.wait([slot.conn, slot.process.sentinel], timeout=left):
                raise ExecutorError(f"a worker process did not start within {self.start_timeout:g} s")
            message = self._receive(slot)
            if message is None:
                code = slot.process.exitcode
                if code == UNGUARDED_MAIN_EXIT:
                    raise ExecutorError(UNGUARDED_MAIN)
                if code is not None and code < 0:
                    return False
                raise ExecutorError(
                    f"a worker process died while starting (exit code {code}); its error, if it printed one, is "
                    "above (workers import the main script anew, so its top level must run without error)"
                )
            if isinstance(message, tuple) and message[0] == "init_error":
                raise ExecutorError(message[1])
        return True

    def shutdown(self, now: bool = False) -> None:
        for slot in self._slots:
            if now:
                slot.process.kill()
            with contextlib.suppress(Exception):
                slot.conn.send(("stop",))
        end = time.monotonic() + 5
        for slot in self._slots:
            slot.process.join(timeout=max(0.0, end - time.monotonic()))
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join(timeout=5)
            slot.conn.close()
        self._slots = []

    # ---- trials ----
    def submit(self, trial: Trial, time_left: float | None) -> None:
        for i, slot in enumerate(self._slots):
            if slot.trial_id is None:
                if not slot.process.is_alive():  # died while idle: replace it
                    slot = self._slots[i] = self._respawn(slot)
                slot.trial_id = trial.id
                slot.conn.send(("run", trial.id, time_left))
                return
        raise ExecutorError("no idle worker (the driver submitted more trials than n_jobs)")

    def wait(self, timeout: float) -> list[Event]:
        busy = [s for s in self._slots if s.trial_id is not None]
        if not busy:
            return []
        ready = connection.wait([s.conn for s in busy] + [s.process.sentinel for s in busy], timeout=timeout)
        events = []
        for i, slot in enumerate(self._slots):
            if slot.trial_id is None or (slot.conn not in ready and slot.process.sentinel not in ready):
                continue
            message = self._receive(slot)
            trial_id = slot.trial_id
            if message is _PENDING:
                continue
            if message is None:  # the process is gone, its trial with it
                code = slot.process.exitcode
                how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                events.append(Event("died", trial_id, f"its worker process (pid {slot.process.pid}) died ({how})"))
                self._slots[i] = self._respawn(slot)
            elif isinstance(message, Event):
                slot.trial_id = None
                events.append(message)
            elif message[0] == "init_error":  # a replacement worker could not load the objective
                slot.trial_id = None
                events.append(Event("raised", trial_id, message[1], ExecutorError(message[1])))
        return events

    def _receive(self, slot: _Slot) -> Any:
        """The next message from a worker ("ready" is noted and skipped); _PENDING when it has nothing to say yet,
        None when the worker is gone."""
        while True:
            try:
                if slot.conn.poll():
                    message = slot.conn.recv()
                elif slot.process.is_alive():
                    return _PENDING
                else:
                    slot.process.join(timeout=5)
                    return None
            except (EOFError, OSError):
                slot.process.join(timeout=5)
                return None
            if isinstance(message, tuple) and message[0] == "ready":
                slot.ready = True
                continue
            return message

    def kill(self, trial_id: int) -> None:
        for i, slot in enumerate(self._slots):
            if slot.trial_id == trial_id:
                self._slots[i] = self._respawn(slot)
                return

    def _respawn(self, slot: _Slot) -> _Slot:
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join(timeout=5)
        slot.conn.close()
        return self._spawn(slot.devices)


@contextlib.contextmanager
def _thread_env(threads: int | None):
    saved = {v: os.environ.get(v) for v in THREAD_VARIABLES}
    if threads is not None:
        for v in THREAD_VARIABLES:
            os.environ[v] = str(threads)
    try:
        yield
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def _die_with_parent(driver_pid: int) -> None:
    """The worker dies the moment its driver does, even by kill -9, so no orphan finishes a trial that a resumed
    driver has already re-queued. A thread waits on the driver's pidfd (Linux), else polls it; PR_SET_PDEATHSIG
    covers the worker's own parent (the forkserver, or the driver under spawn) as well."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    def alive() -> bool:
        try:
            os.kill(driver_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    def watch() -> None:
        try:
            import select

            fd = os.pidfd_open(driver_pid)
            select.select([fd], [], [])  # readable once the driver has exited
        except Exception:
            while alive():
                time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)

    if not alive():
        os._exit(1)
    import threading

    threading.Thread(target=watch, name="knoblab-driver-watch", daemon=True).start()


def _worker_main(conn, parent_pid: int, threads: int | None, memory_limit: int | None) -> None:
    """A worker process: load the objective once, then run trials by id until told to stop."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle: it stops the workers
    try:
        environ = conn.recv()
        os.environ.clear()
        os.environ.update(environ)
        limit_threads(threads)
        work = pickle.loads(conn.recv_bytes())
        worker = TrialWorker(work)
    except BaseException as e:
        hint = ""
        if isinstance(e, AttributeError | ModuleNotFoundError | ImportError):
            hint = (
                "; the objective must be importable by a fresh Python process: define it in a module or a script "
                "file (not in an interactive session), or use n_jobs=1"
            )
        with contextlib.suppress(Exception):
            conn.send(
                ("init_error", f"a worker could not load the experiment or objective: {type(e).__name__}: {e}{hint}")
            )
        return
    if memory_limit is not None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if message[0] != "run":
            return
        _, trial_id, time_left = message
        event = worker.run(trial_id, time_left)
        try:
            conn.send(event)
        except Exception:  # an exception that cannot be pickled: send its text
            conn.send(Event(event.kind, event.trial_id, event.detail))
