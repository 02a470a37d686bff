"""Asynchronous successive halving (ASHA, Li et al. 2020): at each rung, only the best 1/eta of the trials that
reached it go on.

Two modes:
- "stop" (the default, as Optuna's SuccessiveHalvingPruner and Ray's ASHA): a trial runs until it is not in the
  top 1/eta of its rung, and is then stopped for good (PRUNED). Works with any objective that reports.
- "promote" (the ASHA paper's promotion scheme): every trial runs only up to its next rung and pauses there
  (PRUNED with `paused_at`; a framework layer that can, such as the Keras reporter, saves a checkpoint and stores
  its path as the trial's `checkpoint` attr). When a paused trial joins the top 1/eta of its rung, a
  continuation trial is queued: same params, attrs `resumed_from` (the paused trial's number), `resume_step` (the
  first step it reports), `target` (the next rung) and `resume_checkpoint` (the paused trial's `checkpoint`). Queued trials run before new ones, so
  promotions go first, as in ASHA. Keras continues from the checkpoint's weights (and optimizer state) at epoch
  `resume_step`; an objective that cannot resume starts again from step 0 and runs to the target. Each
  continuation is a trial of its own (it counts against n_trials), and only the last segment of a trial that
  reaches max_resource ends COMPLETE. Any process may promote (each decides when a trial of its own pauses), so
  a promotion is claimed through storage first (`claim_attr(paused trial, "promoted")`, atomic): two processes
  deciding at once never queue two continuations of one trial. A process killed between the claim and the
  queueing leaves that trial paused: a promotion lost, never a duplicate.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from ..trial import FrozenTrial, TrialState
from .base import CurveCache, Scheduler, current_step, resource_of

_MODES = ("stop", "promote")


def _int_at_least(name: str, value: Any, low: int) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
        raise ValueError(f"{name}: got {value!r}; give an integer >= {low}")
    return value


def max_resource_of(experiment, given: int | None) -> int | None:
    """The largest resource: as given, else the fixed `epochs` knob of the space (Keras budgets), else None."""
    if given is not None:
        return given
    knob = experiment.space.all_knobs().get("epochs")
    value = getattr(knob, "value", None)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return None


class SuccessiveHalving(Scheduler):
    """ASHA: rungs at min_resource * eta**(early_stopping_rate + k); at each, the top 1/eta go on.

    Args:
        reduction_factor: eta; a rung keeps 1/eta of the trials that reach it.
        min_resource: the first rung (epochs done, or units of whatever the objective reports).
        max_resource: the full budget (a trial that reaches it is never stopped). Default: the space's fixed
            `epochs` knob when there is one; needed in "promote" mode.
        grace_period: no trial stops before this resource (rungs below it are not decision points).
        early_stopping_rate: s, skips the first s rungs (Hyperband's brackets use it).
        mode: "stop" or "promote" (see the module docstring).
        metric: the reported metric compared (default: the experiment's).
        keep_checkpoints: promote mode: keep every paused trial's checkpoint file (default: each is deleted once its
            continuation has finished, the rest when the search ends; see `knoblab.schedulers.base`).

    A rung's decision, as Optuna's: with n trials at the rung (this one included), this one goes on when it is
    among the best max(1, n // eta) of them (ties go on). Trials with the attrs `interrupted` do not count (their
    retry does). A trial's value at a rung is its best so far up to it (Optuna's is the value reported at the rung):
    the same order for curves that improve, more robust to a noisy epoch, and the value a PRUNED trial keeps; a
    trial whose value at the rung is NaN or inf has diverged and stops there, whatever its best so far.
    Rungs are per round: after `exp.next_round(narrower space)` a trial competes only with trials of its own round.
    The earlier round's trials come from a wider space, another population (mostly worse, so they would let nearly
    every new trial through a rung); warm_start feeds the strategy only. A new round's first trials at a rung go
    on, as an experiment's first trials do.
    """

    name = "asha"

    def __init__(
        self,
        reduction_factor: int = 3,
        min_resource: int = 1,
        max_resource: int | None = None,
        grace_period: int = 1,
        early_stopping_rate: int = 0,
        mode: str = "stop",
        metric: str | None = None,
        keep_checkpoints: bool = False,
    ):
        super().__init__(metric)
        self.keep_checkpoints = bool(keep_checkpoints)
        self.reduction_factor = _int_at_least("reduction_factor", reduction_factor, 2)
        self.min_resource = _int_at_least("min_resource", min_resource, 1)
        if max_resource is not None:
            _int_at_least("max_resource", max_resource, 1)
            if max_resource < min_resource:
                raise ValueError(f"max_resource: got {max_resource}; give a value >= min_resource={min_resource}")
        self.max_resource = max_resource
        self.grace_period = _int_at_least("grace_period", grace_period, 1)
        self.early_stopping_rate = _int_at_least("early_stopping_rate", early_stopping_rate, 0)
        if mode not in _MODES:
            raise ValueError(f"mode: got {mode!r}; allowed: {', '.join(map(repr, _MODES))}")
        self.mode = mode
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def setup(self, experiment) -> None:
        """Refuses, when the experiment opens, a set-up that would fail every trial later."""
        if self.mode == "promote" and max_resource_of(experiment, self.max_resource) is None:
            raise ValueError(
                f"{type(self).__name__}(mode='promote') needs max_resource (or a fixed 'epochs' knob in the space)"
            )

    # ---- rungs ----
    def bracket_of(self, experiment, trial: FrozenTrial | Any) -> int:
        """The bracket a trial belongs to (always 0 here: Hyperband overrides it)."""
        return 0

    def rungs(self, experiment, bracket: int = 0) -> list[int]:
        """The decision points of a bracket, in resource units, below max_resource (up to 64 when unbounded)."""
        top = max_resource_of(experiment, self.max_resource)
        out: list[int] = []
        k = 0
        while True:
            r = self.min_resource * self.reduction_factor ** (self.early_stopping_rate + bracket + k)
            if (top is not None and r >= top) or len(out) >= 64:
                break
            if r >= self.grace_period:
                out.append(r)
            k += 1
        return out

    def _target(self, experiment, attrs: dict[str, Any], bracket: int) -> int | None:
        """Promotion mode: the resource this trial runs to before pausing (None: to the end)."""
        if "target" in attrs:
            return attrs["target"]
        rungs = self.rungs(experiment, bracket)
        return rungs[0] if rungs else None

    # ---- decisions ----
    def should_stop(self, experiment, trial) -> bool:
        step = current_step(trial)
        if step is None:
            return False
        r = resource_of(step)
        frozen = trial._frozen  # the snapshot taken when the trial started: params, attrs
        bracket = self.bracket_of(experiment, frozen)
        if self.mode == "promote":
            top = max_resource_of(experiment, self.max_resource)
            if top is None:
                raise ValueError(
                    f"{type(self).__name__}(mode='promote') needs max_resource (or a fixed 'epochs' knob in the space)"
                )
            target = self._target(experiment, frozen.attrs, bracket)
            if target is None or r < target or target >= top:
                return False  # the last segment runs to the end and completes
            experiment.storage.set_attrs(trial.id, {"paused_at": r, "bracket": bracket})
            return True
        if r not in self.rungs(experiment, bracket):
            return False  # not a rung: no storage read
        with self._lock:
            cache = self._cache(experiment, bracket)
            cache.refresh(experiment)
            mine = cache.value(trial.id, r)
            if mine is None:
                return False
            if cache.diverged(trial.id, r):
                return True  # NaN/inf at the rung: diverged, whatever its best so far (Optuna prunes NaN too)
            values = self._competitors(experiment, cache, r, bracket, frozen.round)
        values.setdefault(trial.id, mine)
        return not self._in_top(mine, list(values.values()))

    def _cache(self, experiment, bracket: int) -> CurveCache:
        cache = self.curves(experiment)
        cache.track(self.rungs(experiment, bracket))
        return cache

    def _competitors(self, experiment, cache: CurveCache, r: int, bracket: int, round: int) -> dict[int, float]:
        """Trial id -> signed best up to rung r, for the trials of this bracket and round that reached r."""
        out = {}
        for tid, value in cache.rungs.get(r, {}).items():
            t = cache.trials.get(tid)
            if t is None or t.attrs.get("interrupted") or t.attrs.get("resume_step", 0) >= r or t.round != round:
                continue  # a continuation does not compete at the rungs its parent already passed
            if self.bracket_of(experiment, t) == bracket and math.isfinite(value) and not cache.diverged(tid, r):
                out[tid] = value  # a run that diverged at the rung neither competes nor is promoted
        return out

    def _in_top(self, mine: float, values: list[float]) -> bool:
        k = max(1, len(values) // self.reduction_factor)
        return mine <= sorted(values)[k - 1]

    def on_finish(self, experiment, trial: FrozenTrial) -> None:
        if self.mode != "promote":
            return
        # a continuation that ended (an interrupted one is not told: its retry resumes from the same file) was the
        # only user of its parent's checkpoint, since a paused trial is promoted once
        self._discard([trial.attrs.get("resume_checkpoint")])
        paused = trial.attrs.get("paused_at")
        if trial.state != TrialState.PRUNED or paused is None:
            return
        bracket = trial.attrs.get("bracket", self.bracket_of(experiment, trial))
        with self._lock:
            cache = self._cache(experiment, bracket)
            cache.refresh(experiment)
            self._promote(experiment, cache, int(paused), bracket, trial.round)

    def _promote(self, experiment, cache: CurveCache, r: int, bracket: int, round: int = 0) -> list[FrozenTrial]:
        """Queues a continuation of every paused trial at rung r (of this bracket and round) now in its top 1/eta."""
        values = self._competitors(experiment, cache, r, bracket, round)
        if not values:
            return []
        k = max(1, len(values) // self.reduction_factor) if len(values) >= self.reduction_factor else 0
        promoted = {
            t.attrs.get("resumed_from") for t in cache.trials.values() if t.attrs.get("resumed_from") is not None
        }
        top = sorted(values, key=lambda tid: values[tid])[:k]
        rungs = self.rungs(experiment, bracket)
        later = [x for x in rungs if x > r]
        top_resource = max_resource_of(experiment, self.max_resource)
        queued = []
        for tid in top:
            parent = cache.trials[tid]
            if parent.state != TrialState.PRUNED or parent.attrs.get("paused_at") != r or parent.number in promoted:
                continue
            if parent.attrs.get("promoted") or not experiment.storage.claim_attr(parent.id, "promoted", True):
                continue  # another process promoted it (the claim is atomic: one continuation per paused trial)
            attrs = {
                "source": "promotion",
                "resumed_from": parent.number,
                "resume_step": r,
                "target": later[0] if later else top_resource,
                "bracket": bracket,
                "resume_checkpoint": parent.attrs.get("checkpoint"),
            }
            child = experiment.storage.create_trial(
                experiment.id, parent.params, TrialState.QUEUED, seed=parent.seed, attrs=attrs, round=parent.round
            )
            if child is not None:
                queued.append(child)
        return queued

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(reduction_factor={self.reduction_factor}, min_resource={self.min_resource}, "
            f"max_resource={self.max_resource}, mode={self.mode!r})"
        )


ASHA = SuccessiveHalving
