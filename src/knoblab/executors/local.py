"""The in-process executor: trials one at a time in the driver itself, through the same driver loop as workers.

What `optimize(n_jobs=1)` does by default lives in `Experiment.optimize`; this executor is for code that wants to
pick an executor by name ("local") and for testing the driver loop without processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Event, Executor, WorkSpec

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..trial import Trial


class LocalExecutor(Executor):
    """Runs each trial in this process when it is submitted; exceptions outside `catch` propagate at once."""

    capacity = 1

    def start(self, exp: Experiment, work: WorkSpec) -> None:
        self.exp, self.work = exp, work
        self._events: list[Event] = []

    def submit(self, trial: Trial, time_left: float | None) -> None:
        from ..heartbeat import Heartbeat

        with Heartbeat(self.exp.storage, self.exp.heartbeat_interval) as beat:
            beat.ids = {trial.id}
            self.exp.run_trial(self.work.objective, trial, self.work.catch)
        self._events.append(Event("late" if trial.lost else "done", trial.id))

    def wait(self, timeout: float) -> list[Event]:
        events, self._events = self._events, []
        return events

    def kill(self, trial_id: int) -> None:  # pragma: no cover - refused before the loop starts
        raise NotImplementedError("the local executor cannot stop a trial; use processes for trial_timeout")

    def shutdown(self, now: bool = False) -> None:
        self._events = []
