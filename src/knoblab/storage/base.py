"""The storage contract: the single source of truth every other part reads and writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..trial import FrozenTrial, TrialState

#: 2 added experiments.objectives (several objectives, outcome constraints) and trials.objective_values
SCHEMA_VERSION = 2


@dataclass
class ExperimentRecord:
    """An experiment as stored: its name, objective and the space it was created with."""

    id: int
    name: str
    metric: str
    direction: str
    space: dict[str, Any]
    seed: int | None
    created_at: datetime
    attrs: dict[str, Any] = field(default_factory=dict)
    # several objectives and outcome constraints: {"metrics": [...], "directions": [...], "constraints": [...]};
    # None for one objective without constraints (then metric and direction say it all)
    objectives: dict[str, Any] | None = None


class StorageError(RuntimeError):
    """A storage that cannot be opened or written, with the reason in words."""


class DuplicatePoint(Exception):
    """A trial was refused because a trial of the same round added since the caller last read has its params."""


class Storage(Protocol):
    """What the experiment loop, the CLI and the dashboard need from a storage back end."""

    # experiments
    def create_experiment(
        self,
        name: str,
        metric: str,
        direction: str,
        space: dict,
        seed: int | None,
        attrs: dict | None = None,
        objectives: dict | None = None,
    ) -> ExperimentRecord:
        """Stores a new experiment and returns its record (`objectives`: several objectives and outcome
        constraints, see `ExperimentRecord.objectives`)."""

    def get_experiment(self, name: str) -> ExperimentRecord | None:
        """The experiment of that name, or None."""

    def list_experiments(self) -> list[ExperimentRecord]:
        """Every stored experiment."""

    def set_experiment_attrs(self, experiment_id: int, attrs: dict[str, Any]) -> None:
        """Merges these attrs into the experiment's."""

    def update_experiment_attrs(
        self, experiment_id: int, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Changes the experiment's attrs atomically: `change(current)` returns the keys to merge; returns the
        result."""

    # trials
    def create_trial(
        self,
        experiment_id: int,
        params: dict,
        state: TrialState,
        seed: int | None = None,
        attrs: dict | None = None,
        round: int = 0,
        seed_for=None,
        limit: int | None = None,
        distinct_after: int | None = None,
    ) -> FrozenTrial | None:
        """Stores a new trial (QUEUED or RUNNING); None when `limit` trials already count or, with
        `distinct_after`, a trial added since then has the same params."""

    def claim_queued(self, experiment_id: int, seed_for=None, limit: int | None = None) -> FrozenTrial | None:
        """Takes the oldest QUEUED trial for this process (it becomes RUNNING), or None."""

    def requeue(self, trial_id: int, reason: str) -> bool:
        """Ends a RUNNING trial as FAILED and interrupted with this reason; False if it was no longer RUNNING."""

    # a trial row is one attempt (a retry is a new trial): writes about a run are conditional on its row still being
    # RUNNING, and return False, writing nothing, once another process (stale recovery, a driver) has ended it
    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        value: float | None,
        metrics: dict | None,
        error: str | None = None,
        attrs: dict[str, Any] | None = None,
        values: list[float] | None = None,
    ) -> bool:
        """Stores a RUNNING trial's end (`values`: several objectives' vector, in the experiment's metric order);
        False, writing nothing, if another process ended it first."""

    def add_report(self, trial_id: int, step: int, metrics: dict[str, float]) -> bool:
        """Stores one step's metrics of a RUNNING trial; False if it is no longer RUNNING."""

    def heartbeat(self, trial_ids: list[int]) -> None:
        """Touches the heartbeat of those of these trials that are RUNNING."""

    def set_note(self, trial_id: int, note: str) -> None:
        """Sets a trial's free-text note."""

    def set_attrs(self, trial_id: int, attrs: dict[str, Any]) -> None:
        """Merges these attrs into a trial's."""

    def claim_attr(self, trial_id: int, key: str, value: Any = True) -> bool:
        """Sets a trial's attr only if it is not set yet, atomically; True for the one caller that set it."""

    def request_stop(self, trial_id: int) -> None:
        """Asks the process running a trial to stop it (its `should_stop()` turns True)."""

    def stop_requested(self, trial_id: int) -> bool:
        """True when someone asked this trial to stop."""

    def get_trial(self, trial_id: int, with_reports: bool = True) -> FrozenTrial:
        """One trial by id, with its reports unless `with_reports=False`."""

    def get_trials(
        self, experiment_id: int, states: tuple[TrialState, ...] | None = None, with_reports: bool = False
    ) -> list[FrozenTrial]:
        """An experiment's trials in number order, optionally only those in `states`."""

    def get_reports(self, trial_ids: list[int]) -> dict[int, list[tuple[int, dict[str, float]]]]:
        """The (step, metrics) reports of each of these trials, in step order."""

    def count_reports(self, experiment_id: int) -> dict[int, int]:
        """Trial id -> how many steps it reported (the resource it spent), for the experiment's trials."""
