"""Trials: the record of one run of the objective (FrozenTrial) and the live handle an objective gets (Trial)."""

from __future__ import annotations

import enum
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .values import Unresolved, decode

if TYPE_CHECKING:
    from .storage.base import Storage

__all__ = ["TrialState", "FrozenTrial", "Trial", "TrialPruned", "ObjectiveSetupError", "LateResultWarning"]


class TrialState(enum.StrEnum):
    """Where a trial is in its life. QUEUED trials were enqueued by hand and wait for a worker."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        """True for the end states: COMPLETE, PRUNED and FAILED."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)

    def __str__(self) -> str:
        return self.value


class TrialPruned(Exception):
    """Raised inside an objective to end its trial as PRUNED (for example after `trial.should_stop()`).

    `result` (optional): the metrics of the steps it ran, as an objective would return them; the trial's value is
    then read from it (else it is the best value of its reported curve)."""

    def __init__(self, *args: Any, result: Any = None):
        super().__init__(*args)
        self.result = result


class ObjectiveSetupError(Exception):
    """Raised by an objective whose set-up is wrong (a metric that is never logged, a model function that breaks
    its contract): the trial is stored FAILED with the reason, and the search stops, since every trial would
    fail the same way."""


class LateResultWarning(UserWarning):
    """A run's report or result came after another process had ended its trial (stale recovery re-queued it after
    a silence longer than `stale_after`, or its driver stopped it): it was not stored over what that process
    decided. The retry, if one was queued, runs as a trial of its own."""


def late_message(stored: FrozenTrial) -> str:
    """Why a late report or result was refused, naming the trial and what the storage holds for it."""
    why = (stored.error or "").split("\n")[0]
    return (
        f"trial {stored.number} is no longer RUNNING: another process ended it while it ran "
        f"({stored.state}{': ' + why if why else ''}); its late reports and result are not stored"
    )


@dataclass
class FrozenTrial:
    """What storage holds about one trial: a plain, read-only snapshot."""

    id: int
    number: int
    state: TrialState
    params: dict[str, Any]
    value: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    round: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    error: str | None = None
    note: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    reports: list[tuple[int, dict[str, Any]]] | None = None  # (step, metrics), loaded on demand
    # several objectives: each one's value, in the experiment's metric order (None with one objective, whose value
    # is `value`, and for trials without results)
    values: list[float] | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end (to the last heartbeat while running)."""
        end = self.finished_at or self.heartbeat_at
        if self.started_at is None or end is None:
            return None
        return (end - self.started_at).total_seconds()

    def curve(self, metric: str) -> list[tuple[int, float]]:
        """(step, value) of one reported metric, in step order (NaN where the value was not finite: storage keeps
        NaN and infinities as JSON null)."""
        return [(s, math.nan if m[metric] is None else m[metric]) for s, m in (self.reports or []) if metric in m]


class Trial:
    """The handle an objective receives: its params, and a way to report progress and learn when to stop."""

    def __init__(self, storage: Storage, frozen: FrozenTrial, should_stop_hook=None):
        self._storage = storage
        self._frozen = frozen
        self._should_stop_hook = should_stop_hook
        self._last_step: int | None = None
        self.lost = False  # the storage refused a write: another process ended this trial while it ran

    @property
    def id(self) -> int:
        """The trial's id in its storage."""
        return self._frozen.id

    @property
    def number(self) -> int:
        """The trial's number in its experiment, from 0."""
        return self._frozen.number

    @property
    def params(self) -> dict[str, Any]:
        """The knobs of this trial, as the objective uses them: functions, classes and Keras objects stored by
        reference are the objects themselves (a fresh instance for each trial). A reference that cannot be
        imported in this process raises ValueError naming the knob."""
        out = dict(self._frozen.params)
        for name, value in out.items():
            if isinstance(value, Unresolved):
                try:
                    out[name] = decode(value.stored, strict=True)
                except ValueError as e:
                    raise ValueError(f"knob {name!r}: {e}") from None
        return out

    @property
    def seed(self) -> int | None:
        """The seed stored for this trial (a re-run with it is exact)."""
        return self._frozen.seed

    def report(self, step: int, **metrics: Any) -> None:
        """Stores the metrics of one step (an epoch, say) at once, so that nothing is lost if the process dies."""
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            raise ValueError(f"report: step must be an integer >= 0, got {step!r}")
        clean = {}
        for name, value in metrics.items():
            try:
                clean[name] = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"report: metric {name!r} must be a number, got {value!r}") from None
        if self.lost:
            return
        if not self._storage.add_report(self.id, step, clean):
            self.mark_lost()
            return
        self._last_step = step

    def mark_lost(self, stored: FrozenTrial | None = None) -> None:
        """Notes that the storage refused a write because the trial is no longer RUNNING; warns once, naming it.
        From then on nothing it reports is written and `should_stop()` is True."""
        if not self.lost:
            self.lost = True
            stored = stored or self._storage.get_trial(self.id, with_reports=False)
            warnings.warn(LateResultWarning(late_message(stored)), stacklevel=3)

    def should_stop(self) -> bool:
        """True when the trial should end early: a scheduler said so, someone asked to stop it, time ran out, or
        another process has ended it (see `LateResultWarning`)."""
        if self.lost or self._storage.stop_requested(self.id):
            return True
        return bool(self._should_stop_hook and self._should_stop_hook(self))

    def set_note(self, note: str) -> None:
        """A free-text note kept with the trial (why it was run, what was seen)."""
        self._storage.set_note(self.id, note)

    def set_attr(self, key: str, value: Any) -> None:
        """Stores a JSON-able value with the trial (a model path, a seed, anything the user wants to find later)."""
        self._storage.set_attrs(self.id, {key: value})

    def freeze(self) -> FrozenTrial:
        """The trial as storage holds it now, reports included."""
        return self._storage.get_trial(self.id)

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self.params})"


def is_finite_number(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
