"""The scheduler contract: read a trial's intermediate reports (from storage) and answer "go on" or "stop".

A scheduler is asked `should_stop(experiment, trial)` each time the running trial calls `trial.should_stop()`
(the Keras reporter does after every epoch) and told `on_finish(experiment, frozen)` when a trial ends. It keeps
no state that storage does not hold: caches only, so a copy in a worker process (parallel executors pickle it)
decides exactly as the one in the driver would.

Steps and resources. Reports count steps from 0, as Keras epochs do: `trial.report(0, ...)` is one epoch (one
unit of resource) done. A scheduler's resources (rungs, min/max resource, grace period) count units, so the
report at step `s` stands for resource `s + 1`.

What a stopped trial carries, and what strategies should do with it (the expectation for strategies/):
- A trial a scheduler stops ends PRUNED. Its `value` is the best value of its reported curve for the experiment's
  metric (`Experiment._last_reported`), reached at a lower budget than a COMPLETE trial's; its reports keep the
  whole curve. `trial.attrs` may hold `paused_at` (the resource it stopped at, in promotion mode and PBT),
  `bracket`, `resumed_from`, `checkpoint` (its own, saved when it paused) and `resume_checkpoint` (the one
  it started from).

Checkpoints (promotion-mode ASHA/Hyperband, PBT). A checkpoint file is deleted once no trial can resume from it
any more, unless the scheduler was made with `keep_checkpoints=True`: when the continuation that resumed from
it has finished (a promotion is claimed once, so nothing else will), for PBT when besides every member of the
round has passed its ready point (none can still pick it as a donor), and, for every paused trial left, when the
search ends (`release_checkpoints`, which `Scan.run` calls after a search that ended normally): a later run that
promotes such a trial trains it from scratch, with a warning. A checkpoint that a queued or running trial will
resume from is always kept (an interrupted trial's retry resumes from it too). The `checkpoint` attr keeps the
path as a record once the file is gone.
- A PRUNED value is *not* comparable with a COMPLETE one: at a low budget it is usually worse, but not always
  (a fast starter). Model-based strategies should rank every COMPLETE trial before every PRUNED one, and PRUNED
  trials among themselves by the resource they reached (more is better), then by value, as Optuna's TPE does.
  `ranked_observations` (in knoblab.observations, re-exported here) gives that order with pseudo-losses that keep it; a rank-based model (TPE's
  good/bad split) can use them as losses. A model of magnitudes (a GP) should fit COMPLETE trials only, or
  PRUNED ones with a value no better than the worst COMPLETE one (what `ranked_observations(..., impute="worst")`
  gives). Ignoring PRUNED trials entirely is also correct, only less informed: with Hyperband most trials are
  PRUNED, so TPE + Hyperband (BOHB-like) learns faster when it uses them.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..observations import ranked_observations
from ..trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..trial import Trial

__all__ = ["Scheduler", "CurveCache", "resource_of", "ranked_observations", "current_step", "SCHEDULED_ATTRS"]

#: The attrs a scheduler gives the trials it queues (a PBT segment, a promoted continuation): what to run and where
#: to resume. A retry of such a trial, after its process died, keeps them, so it runs the same segment again.
SCHEDULED_ATTRS = (
    "member",
    "generation",
    "parent",
    "exploited_from",
    "donor_member",
    "perturbed",
    "resumed_from",
    "resume_step",
    "resume_checkpoint",
    "target",
    "bracket",
)


def resource_of(step: int) -> int:
    """The resource a report at `step` stands for: steps count from 0, so step 0 is one unit (one epoch) done."""
    return int(step) + 1


def current_step(trial: Trial) -> int | None:
    """The last step the running trial reported (None before its first report), without a storage read."""
    return getattr(trial, "_last_step", None)


class Scheduler(ABC):
    """Decides from intermediate reports whether a running trial goes on. A new scheduler is one file.

    `metric` (default: the experiment's) is the reported metric compared; the experiment's direction applies.
    """

    name: str = "scheduler"
    #: keep every checkpoint file a paused trial saved (default: delete each once nothing can resume from it)
    keep_checkpoints: bool = False

    def __init__(self, metric: str | None = None):
        if metric is not None and not (isinstance(metric, str) and metric):
            raise ValueError(f"metric: got {metric!r}; give a reported metric's name or None (the experiment's)")
        self.metric = metric

    def setup(self, experiment: Experiment) -> None:  # noqa: B027 - an optional hook
        """Called once when the experiment opens (in the driver, not in worker copies)."""

    @abstractmethod
    def should_stop(self, experiment: Experiment, trial: Trial) -> bool:
        """True to end the running trial now (it is stored PRUNED, with its curve)."""

    def on_finish(self, experiment: Experiment, trial: FrozenTrial) -> None:  # noqa: B027 - an optional hook
        """Told of each finished trial (with its reports), in the process that ran it."""

    def wants_new_trials(self, experiment: Experiment) -> bool:
        """Whether the experiment may ask the strategy for new trials when none is queued (True). A scheduler that
        runs only trials it queues itself (PBT's segments) says False: the loop then runs queued trials only, waits
        while one of its trials may still queue another, and ends when none is queued or running."""
        return True

    def release_checkpoints(self, experiment: Experiment) -> list[str]:
        """The search has ended: deletes the checkpoint of every finished trial that no queued or running trial
        will resume from (nothing when `keep_checkpoints`). Returns the paths deleted."""
        trials = experiment.storage.get_trials(experiment.id)
        return self._discard(self._unneeded(trials, (t for t in trials if t.state.finished)))

    # checkpoints
    @staticmethod
    def _unneeded(trials: list[FrozenTrial], candidates: Iterable[FrozenTrial]) -> list[str]:
        """The `checkpoint` paths of `candidates` that no QUEUED or RUNNING trial among `trials` resumes from."""
        active = (TrialState.QUEUED, TrialState.RUNNING)
        needed = {t.attrs.get("resume_checkpoint") for t in trials if t.state in active}
        return [p for p in (t.attrs.get("checkpoint") for t in candidates) if p and p not in needed]

    def _discard(self, paths: Iterable[str | None]) -> list[str]:
        """Deletes these checkpoint files (missing ones are skipped); nothing when `keep_checkpoints`."""
        if self.keep_checkpoints:
            return []
        gone = []
        for p in paths:
            if p and Path(p).is_file():
                Path(p).unlink(missing_ok=True)
                gone.append(str(p))
        return gone

    # helpers
    def metric_of(self, experiment: Experiment) -> str:
        """The metric this scheduler ranks: its own `metric`, else the experiment's."""
        return self.metric or experiment.metric

    def curves(self, experiment: Experiment) -> CurveCache:
        """This scheduler's cache of the experiment's curves (one per experiment and metric)."""
        key = (id(experiment.storage), experiment.id, self.metric_of(experiment), experiment.direction)
        cache = self.__dict__.get("_curves")
        if cache is None or cache.key != key:
            cache = self._curves = CurveCache(self.metric_of(experiment), experiment.direction, key)
        return cache

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_curves", None)  # caches are not sent to workers: each process reads storage itself
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CurveCache:
    """The best-so-far curve of every trial of an experiment, read incrementally from storage.

    `refresh` reads the trials created or finished since the last call and the reports of unfinished trials only;
    a finished trial's curve is read once and kept. Each curve is kept as its running best (lower is better:
    values are signed by the direction), indexed by resource, so "the best value of trial t up to resource r" is
    one array look-up, and "every trial's value at rung r" is kept per rung once it is known.
    """

    def __init__(self, metric: str, direction: str, key: Any = None):
        self.metric, self.sign, self.key = metric, (1.0 if direction == "min" else -1.0), key
        self.trials: dict[int, FrozenTrial] = {}  # id -> latest snapshot (without reports)
        self.best: dict[int, np.ndarray] = {}  # id -> signed running best by resource - 1 (NaN before a report)
        self.broken: dict[int, np.ndarray] = {}  # id -> whether the value reported at resource - 1 was NaN/inf
        self.closed: set[int] = set()  # finished, curve read whole
        self.rungs: dict[int, dict[int, float]] = {}  # resource -> {trial id: signed best up to it}, for tracked rungs
        self._max_id = 0

    def track(self, resources: Sequence[int]) -> None:
        """Keeps per-rung tables for these resources (filled for the curves already read, then as curves grow)."""
        for r in resources:
            if r not in self.rungs:
                self.rungs[r] = {tid: float(b[r - 1]) for tid, b in self.best.items() if len(b) >= r}

    def refresh(self, experiment: Experiment) -> None:
        """Reads the trials and reports that are new since the last refresh (finished trials are kept)."""
        storage = experiment.storage
        open_ids = sorted(tid for tid in self.trials if tid not in self.closed)
        if hasattr(storage, "get_trials_since") and self.trials:
            fresh = storage.get_trials_since(experiment.id, self._max_id, open_ids)
        else:
            fresh = storage.get_trials(experiment.id)
        to_read = []
        for t in fresh:
            self.trials[t.id] = t
            self._max_id = max(self._max_id, t.id)
            if t.id not in self.closed:
                to_read.append(t.id)
        if not to_read:
            return
        reports = storage.get_reports(to_read)
        for tid in to_read:
            self._set_curve(tid, reports.get(tid, []))
            if self.trials[tid].state.finished:
                self.closed.add(tid)

    def _set_curve(self, tid: int, reports: list[tuple[int, dict[str, Any]]]) -> None:
        points = [(s, m[self.metric]) for s, m in reports if self.metric in m]
        if not points:
            return
        n = resource_of(max(s for s, _ in points))
        raw = np.full(n, np.nan)
        for s, v in points:
            raw[s] = self.sign * v if v is not None and math.isfinite(v) else np.inf  # NaN/inf: as bad as it gets
        filled = np.where(np.isnan(raw), np.inf, raw)
        best = np.minimum.accumulate(filled)
        self.best[tid] = best
        self.broken[tid] = np.isposinf(raw)
        for r, table in self.rungs.items():
            if len(best) >= r:
                table[tid] = float(best[r - 1])

    def value(self, tid: int, resource: int) -> float | None:
        """Trial `tid`'s signed best up to `resource`, or None when it has not reached it."""
        b = self.best.get(tid)
        if b is None or len(b) < resource:
            return None
        return float(b[resource - 1])

    def diverged(self, tid: int, resource: int) -> bool:
        """Whether trial `tid` reported a non-finite value (NaN, inf) at `resource`: its best so far may still be
        finite, but the run has diverged."""
        b = self.broken.get(tid)
        return b is not None and len(b) >= resource and bool(b[resource - 1])

    def reached(self, tid: int) -> int:
        """The largest resource trial `tid` has reported."""
        b = self.best.get(tid)
        return 0 if b is None else len(b)
