"""The storage contract: the single source of truth every other part reads and writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..trial import FrozenTrial, TrialState

SCHEMA_VERSION = 1


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


class StorageError(RuntimeError):
    """A storage that cannot be opened or written, with the reason in words."""


class DuplicatePoint(Exception):
    """A trial was refused because a trial of the same round added since the caller last read has its params."""


class Storage(Protocol):
    """What the experiment loop, the CLI and the dashboard need from a storage back end."""

    # experiments
    def create_experiment(
        self, name: str, metric: str, direction: str, space: dict, seed: int | None, attrs: dict | None = None
    ) -> ExperimentRecord: ...
    def get_experiment(self, name: str) -> ExperimentRecord | None: ...
    def list_experiments(self) -> list[ExperimentRecord]: ...
    def set_experiment_attrs(self, experiment_id: int, attrs: dict[str, Any]) -> None: ...
    def update_experiment_attrs(
        self, experiment_id: int, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]: ...

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
    ) -> FrozenTrial | None: ...
    def claim_queued(self, experiment_id: int, seed_for=None, limit: int | None = None) -> FrozenTrial | None: ...
    def requeue(self, trial_id: int, reason: str) -> bool: ...
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
    ) -> bool: ...
    def add_report(self, trial_id: int, step: int, metrics: dict[str, float]) -> bool: ...
    def heartbeat(self, trial_ids: list[int]) -> None: ...  # touches only the RUNNING ones
    def set_note(self, trial_id: int, note: str) -> None: ...
    def set_attrs(self, trial_id: int, attrs: dict[str, Any]) -> None: ...
    def claim_attr(self, trial_id: int, key: str, value: Any = True) -> bool: ...  # set once, atomically
    def request_stop(self, trial_id: int) -> None: ...
    def stop_requested(self, trial_id: int) -> bool: ...
    def get_trial(self, trial_id: int, with_reports: bool = True) -> FrozenTrial: ...
    def get_trials(
        self, experiment_id: int, states: tuple[TrialState, ...] | None = None, with_reports: bool = False
    ) -> list[FrozenTrial]: ...
    def get_reports(self, trial_ids: list[int]) -> dict[int, list[tuple[int, dict[str, float]]]]: ...
    def count_reports(self, experiment_id: int) -> dict[int, int]: ...  # trial id -> steps reported
