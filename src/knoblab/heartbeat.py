"""Liveness of the processes that run trials: the heartbeat they beat, and whether a local process still lives.

Stale recovery (`Experiment.recover_stale`) reads both: a RUNNING trial whose process died, or whose heartbeat
fell silent for longer than `stale_after`, is taken as interrupted.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .storage import Storage

__all__ = ["Heartbeat", "pid_alive"]


def pid_alive(pid: int) -> bool:
    """Whether a process with this id lives on this machine (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Heartbeat:
    """Touches the heartbeat of the trials this process runs, so others can tell a live trial from a dead one."""

    def __init__(self, storage: Storage, interval: float):
        self.storage, self.interval = storage, interval
        self.ids: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._run, name="knoblab-heartbeat", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.storage.heartbeat(sorted(self.ids))
            except Exception:  # a missed beat is not worth killing the search for
                pass

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
