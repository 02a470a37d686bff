"""Which GPUs each worker sees: a `gpus=` request ("auto", a list of device ids, or an amount per worker) turned
into one `Assignment` per worker, applied to the worker's environment before it imports a framework::

    gpus=None        leave the environment alone (the default)
    gpus="auto"      every visible device, shared out among the workers (whole devices when there are enough,
                     else several workers per device)
    gpus=[0, 1]      these devices, shared out the same way
    gpus=1, 2        that many whole devices per worker
    gpus=0.5         half a device per worker: two workers on each device, as few devices as that needs
    gpus=0           no GPU: every worker runs on the CPU

A worker sees only its devices through CUDA_VISIBLE_DEVICES (so torch, JAX and TensorFlow all number them from 0),
Keras' torch backend is told "cpu" when it has none, and a worker sharing a device is kept from taking all its
memory (JAX's preallocation is capped to its share, TensorFlow grows on demand; torch allocates on demand anyway).
Each trial records what its worker saw (attrs "gpus" and, when shared, "gpu_share"). The Ray executor maps the
same request to Ray's `num_gpus` per trial (`ray_num_gpus`); Ray then sets CUDA_VISIBLE_DEVICES itself.
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import subprocess
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..storage.base import Storage

__all__ = [
    "Assignment",
    "GpuRequest",
    "check_request",
    "plan",
    "visible_gpus",
    "ray_num_gpus",
    "current",
    "record",
    "forget",
]

GpuRequest = str | float | int | Sequence[int | str] | None
CheckedRequest = Literal["auto"] | float | list[int | str] | None  # a request as check_request returns it

_KNOBLAB_GPUS = "KNOBLAB_GPUS"  # how a worker knows its assignment (to record it per trial)
_KNOBLAB_SHARE = "KNOBLAB_GPU_SHARE"
_ALLOWED = '"auto", a list of device ids such as [0, 1], a number of GPUs per worker (0, 0.5, 1, 2), or None'


@dataclass(frozen=True)
class Assignment:
    """The devices one worker sees (physical ids, as CUDA names them; empty: the CPU only) and the share of each
    it may use (below 1 when several workers share a device)."""

    devices: tuple[str, ...]
    share: float = 1.0

    def env(self) -> dict[str, str]:
        """The variables that give a worker these devices; set before its framework loads."""
        out = {"CUDA_VISIBLE_DEVICES": ",".join(self.devices), _KNOBLAB_GPUS: ",".join(self.devices)}
        out[_KNOBLAB_SHARE] = repr(self.share)
        return out

    def defaults(self) -> dict[str, str]:
        """Variables set only where the user has not set them: the backend's device and memory behaviour."""
        if not self.devices:
            return {"KERAS_TORCH_DEVICE": "cpu", "JAX_PLATFORMS": "cpu"}
        if self.share < 1:
            return {"XLA_PYTHON_CLIENT_MEM_FRACTION": f"{0.9 * self.share:.3f}", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
        return {}

    def apply(self, environ: MutableMapping[str, str]) -> MutableMapping[str, str]:
        """Writes this assignment into an environment (os.environ, or the one a worker is started with)."""
        environ.update(self.env())
        for key, value in self.defaults().items():
            environ.setdefault(key, value)
        return environ

    def attrs(self) -> dict[str, Any]:
        """What a trial records about the devices it ran on."""
        out: dict[str, Any] = {"gpus": [int(d) if d.isdigit() else d for d in self.devices]}
        if self.devices and self.share < 1:
            out["gpu_share"] = self.share
        return out


def visible_gpus(environ: Mapping[str, str] | None = None) -> list[str]:
    """The GPUs this process may hand out: CUDA_VISIBLE_DEVICES when set, else what `nvidia-smi -L` lists, else
    none. Never imports a framework (that would tie the driver to a device)."""
    environ = os.environ if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in environ:
        return [d.strip() for d in environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"]
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(line for line in listing.splitlines() if line.startswith("GPU "))]


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_request(gpus: Any) -> CheckedRequest:
    """The request as given when it is one of the allowed forms; a ValueError naming `gpus` otherwise."""
    if gpus is None or gpus == "auto":
        return gpus
    if _is_number(gpus):
        if not (math.isfinite(gpus) and gpus >= 0):
            raise ValueError(f"gpus: got {gpus!r}; give {_ALLOWED}")
        if gpus > 1 and gpus != int(gpus):
            raise ValueError(f"gpus: got {gpus!r}; more than one GPU per worker must be a whole number")
        return gpus
    if isinstance(gpus, Sequence) and not isinstance(gpus, str):
        ids = [str(d) for d in gpus]
        bad = [
            d
            for d in gpus
            if not ((isinstance(d, int) and not isinstance(d, bool) and d >= 0) or (isinstance(d, str) and d.strip()))
        ]
        if not ids or bad:
            raise ValueError(f"gpus: got {list(gpus)!r}; a device list holds device ids (ints >= 0 or names)")
        if len(set(ids)) != len(ids):
            raise ValueError(f"gpus: got {list(gpus)!r}; each device may be listed once")
        return list(gpus)
    raise ValueError(f"gpus: got {gpus!r}; give {_ALLOWED}")


def _spread(devices: list[str], n_workers: int) -> list[Assignment]:
    """Devices shared out: whole devices per worker when there are enough, else workers round-robin per device."""
    if not devices:
        return [Assignment(())] * n_workers
    if len(devices) >= n_workers:
        k = len(devices) // n_workers
        return [Assignment(tuple(devices[i * k : (i + 1) * k])) for i in range(n_workers)]
    on = [devices[i % len(devices)] for i in range(n_workers)]
    return [Assignment((d,), 1.0 / on.count(d)) for d in on]


def plan(gpus: GpuRequest, n_workers: int, available: Sequence[str] | None = None) -> list[Assignment] | None:
    """One assignment per worker for this request (None: leave the environment alone). `available` defaults to
    `visible_gpus()`; a request for more than there is fails with how many it needs and how many are visible."""
    gpus = check_request(gpus)
    if gpus is None:
        return None
    if isinstance(gpus, list):
        return _spread([str(d) for d in gpus], n_workers)
    devices = list(visible_gpus() if available is None else available)
    if gpus == "auto":
        return _spread(devices, n_workers)
    if gpus == 0:
        return [Assignment(())] * n_workers
    if gpus < 1:
        per_device = max(1, math.floor(1 / gpus + 1e-9))
        needed = math.ceil(n_workers / per_device)
        _enough(gpus, n_workers, needed, devices)
        return [Assignment((devices[i // per_device],), float(gpus)) for i in range(n_workers)]
    k = int(gpus)
    _enough(gpus, n_workers, k * n_workers, devices)
    return [Assignment(tuple(devices[i * k : (i + 1) * k])) for i in range(n_workers)]


def _enough(gpus: Any, n_workers: int, needed: int, devices: list[str]) -> None:
    if needed > len(devices):
        where = os.environ.get("CUDA_VISIBLE_DEVICES")
        seen = f"CUDA_VISIBLE_DEVICES={where!r}" if where is not None else "nvidia-smi"
        raise ValueError(
            f"gpus={gpus!r} for {n_workers} workers needs {needed} GPUs, but {len(devices)} are visible ({seen}); "
            "lower n_jobs or the GPUs per worker, or use gpus='auto' to share what there is"
        )


def ray_num_gpus(gpus: GpuRequest, n_jobs: int, cluster_gpus: float) -> float:
    """The `num_gpus` each Ray task reserves for this request, on a cluster with `cluster_gpus` GPUs."""
    gpus = check_request(gpus)
    if gpus is None:
        return 0.0
    if gpus != "auto" and not isinstance(gpus, list):  # a number of GPUs per worker
        return float(gpus)
    total = len(gpus) if isinstance(gpus, list) else cluster_gpus
    if total <= 0:
        return 0.0
    if total >= n_jobs:
        return float(int(total // n_jobs))
    return 1.0 / math.ceil(n_jobs / total)


def current(environ: Mapping[str, str] | None = None) -> Assignment | None:
    """This worker's assignment (from the environment it was started with), or None when it was given none."""
    environ = os.environ if environ is None else environ
    if _KNOBLAB_GPUS not in environ:
        return None
    devices = tuple(d for d in environ[_KNOBLAB_GPUS].split(",") if d)
    return Assignment(devices, float(environ.get(_KNOBLAB_SHARE, "1")))


def forget(environ: MutableMapping[str, str]) -> None:
    """Removes an earlier assignment's record from an environment (a Ray worker reused by another search)."""
    environ.pop(_KNOBLAB_GPUS, None)
    environ.pop(_KNOBLAB_SHARE, None)


def record(storage: Storage, trial_id: int, assignment: Assignment | None = None) -> None:
    """Stores with a trial the devices its worker sees (nothing when the worker was given no assignment)."""
    assignment = assignment or current()
    if assignment is not None:
        storage.set_attrs(trial_id, assignment.attrs())
