"""Trials as Ray tasks, on a local Ray instance or a cluster (`address=`), with resources per trial.

Each task opens the storage by URL itself and writes its reports and result there, so a remote trial's curve is
visible in the dashboard while it runs and survives the driver. Use a storage every node reaches (PostgreSQL for
a real cluster; a SQLite file only when all workers share this machine's disk).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from . import devices
from .base import Event, Executor, ExecutorError, TrialWorker, WorkSpec, limit_threads

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..trial import Trial


class RayExecutor(Executor):
    """Runs up to `n_jobs` trials at a time as Ray tasks.

    Args:
        n_jobs: trials in flight at once (default: as many as the cluster's CPUs allow at `num_cpus` each).
        address: the cluster to join ("auto", "ray://host:10001", ...); None starts or reuses a local Ray.
        num_cpus, num_gpus: resources each trial reserves (num_gpus=0.5 puts two trials on one GPU).
        resources: custom resources each trial reserves, e.g. {"large_memory": 1}.
        threads_per_worker: compute threads for torch in each task (None: leave as Ray sets them).
        init_kwargs: more arguments for `ray.init` (runtime_env, namespace, ...), when this executor starts Ray.
        gpus: the same request as `optimize(gpus=...)`, mapped to `num_gpus` per trial: a number is the GPUs per
            trial, "auto" shares the cluster's GPUs among `n_jobs` trials, a device list (a local Ray this
            executor starts) gives Ray only those devices. Each trial records the GPU ids Ray gave it.
    """

    def __init__(
        self,
        n_jobs: int | None = None,
        *,
        address: str | None = None,
        num_cpus: float = 1,
        num_gpus: float = 0,
        resources: dict[str, float] | None = None,
        threads_per_worker: int | None = 1,
        init_kwargs: dict[str, Any] | None = None,
        gpus: Any = None,
    ):
        if n_jobs is not None and not (isinstance(n_jobs, int) and n_jobs >= 1):
            raise ValueError(f"n_jobs: got {n_jobs!r}; give an integer >= 1 or None")
        for arg, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if not (isinstance(value, int | float) and value >= 0):
                raise ValueError(f"{arg}: got {value!r}; give a number >= 0")
        self.capacity = n_jobs  # type: ignore[assignment]  # None: from the cluster, at start
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.resources = dict(resources or {})
        self.threads = threads_per_worker
        self.init_kwargs = dict(init_kwargs or {})
        self.gpus = devices.check_request(gpus)
        if self.gpus is not None and num_gpus:
            raise ValueError(f"gpus={self.gpus!r} and num_gpus={num_gpus!r} both set the GPUs per trial; give one")
        self._refs: dict[Any, int] = {}
        self._started_ray = False

    def describe(self) -> str:
        return f"RayExecutor(n_jobs={self.capacity}, num_cpus={self.num_cpus}, num_gpus={self.num_gpus})"

    def start(self, exp: Experiment, work: WorkSpec) -> None:
        try:
            import ray
        except ImportError:
            raise ExecutorError("the Ray executor needs Ray: pip install 'knoblab[ray]'") from None
        if not ray.is_initialized():
            self._init_ray(ray)
            self._started_ray = True
        elif isinstance(self.gpus, list):
            raise ExecutorError("gpus=[...] names devices for a Ray this executor starts; Ray is already running")
        self._ray = ray
        if self.capacity is None:
            cpus = ray.cluster_resources().get("CPU", 1)
            self.capacity = max(1, int(cpus // self.num_cpus)) if self.num_cpus else int(cpus)
        if self.gpus is not None:  # the optimize(gpus=...) request, as Ray's num_gpus per trial
            self.num_gpus = devices.ray_num_gpus(self.gpus, self.capacity, ray.cluster_resources().get("GPU", 0))
        self._check_feasible(ray.cluster_resources())
        work.threads = self.threads
        try:
            self._work = ray.put(work)
        except Exception as e:
            raise ExecutorError(f"the objective cannot be sent to Ray workers ({type(e).__name__}: {e})") from None
        options: dict[str, Any] = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus, "max_retries": 0}
        if self.resources:
            options["resources"] = self.resources
        self._task: Any = ray.remote(_run_in_ray).options(**options)  # its arguments vary with the GPU request
        self._refs = {}

    def _init_ray(self, ray: Any) -> None:
        """Starts (or joins) Ray; a device list is what the local Ray may hand out (CUDA_VISIBLE_DEVICES)."""
        if not isinstance(self.gpus, list):
            ray.init(address=self.address, **self.init_kwargs)
            return
        if self.address is not None:
            raise ExecutorError("gpus=[...] names devices of this machine; on a cluster give GPUs per trial (gpus=1)")
        saved = os.environ.get("CUDA_VISIBLE_DEVICES")
        os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(str(d) for d in self.gpus)
        try:
            ray.init(**{"num_gpus": len(self.gpus), **self.init_kwargs})
        finally:
            if saved is None:
                os.environ.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                os.environ["CUDA_VISIBLE_DEVICES"] = saved

    def _check_feasible(self, cluster: dict[str, float]) -> None:
        wanted = {"CPU": self.num_cpus, "GPU": self.num_gpus, **self.resources}
        for name, amount in wanted.items():
            if amount and cluster.get(name, 0) < amount:
                raise ExecutorError(
                    f"each trial asks for {amount:g} {name} but the Ray cluster has {cluster.get(name, 0):g}; "
                    "lower the request or add nodes that have it (Ray would wait for it forever)"
                )

    def submit(self, trial: Trial, time_left: float | None) -> None:
        if self.gpus is None:
            ref = self._task.remote(self._work, trial.id, time_left)
        else:  # a GPU request: the task records the GPUs Ray gave it
            ref = self._task.remote(self._work, trial.id, time_left, self.num_gpus)
        self._refs[ref] = trial.id

    def wait(self, timeout: float) -> list[Event]:
        if not self._refs:
            return []
        ray = self._ray
        ready, _ = ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        if ready:
            more, _ = ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
            ready = list({*ready, *more})
        events = []
        for ref in ready:
            trial_id = self._refs.pop(ref)
            try:
                events.append(ray.get(ref))
            except ray.exceptions.RayTaskError as e:  # the task itself could not run (e.g. unpickling)
                events.append(Event("raised", trial_id, str(e), ExecutorError(f"a Ray task failed: {e}")))
            except ray.exceptions.RayError as e:  # the worker died: killed, out of memory, node lost
                events.append(Event("died", trial_id, f"its Ray worker died ({type(e).__name__}: {_first_line(e)})"))
        return events

    def kill(self, trial_id: int) -> None:
        for ref, tid in list(self._refs.items()):
            if tid == trial_id:
                self._ray.cancel(ref, force=True)
                del self._refs[ref]

    def shutdown(self, now: bool = False) -> None:
        ray = getattr(self, "_ray", None)
        if ray is None:
            return
        for ref in list(self._refs):
            try:
                ray.cancel(ref, force=True)
            except Exception:
                pass
        self._refs = {}
        if self._started_ray:
            ray.shutdown()
            self._started_ray = False


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


_workers: dict[tuple[str, str], TrialWorker] = {}


def _run_in_ray(work: WorkSpec, trial_id: int, time_left: float | None, gpu_share: float | None = None) -> Event:
    """One trial inside a Ray worker process; the storage connection is kept for the worker's next trials."""
    started = time.monotonic()
    limit_threads(work.threads)
    key = (work.storage_url, work.name)
    worker = _workers.get(key)
    if worker is None:
        worker = _workers[key] = TrialWorker(work)
    worker.work = work
    worker.exp.scheduler = work.scheduler
    if gpu_share is None:  # a Ray worker runs tasks of several searches: no request, nothing to record
        devices.forget(os.environ)
    else:  # Ray set CUDA_VISIBLE_DEVICES for this task; the trial records (worker.run) which GPUs it got
        import ray

        ids = tuple(str(i) for i in ray.get_gpu_ids())
        devices.Assignment(ids, gpu_share if 0 < gpu_share < 1 else 1.0).apply(os.environ)
    if time_left is not None:
        time_left -= time.monotonic() - started
    return worker.run(trial_id, time_left)
