"""The experiment: ask a strategy, persist the trial, run the objective, persist the result, tell the strategy.

Everything lives in storage from the moment it happens; reopening an experiment by name continues it.
"""

from __future__ import annotations

import contextvars
import json
import math
import numbers
import os
import socket
import time
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from . import selection
from .heartbeat import Heartbeat, pid_alive
from .objectives import Objectives, OutcomeConstraints, is_feasible, pareto_trials
from .observations import reached
from .outcomes import CallOutcome, check_retry, retry_failed, trials_used
from .progress import ProgressBar
from .reprs import experiment_html
from .results import outcome_columns, results_frame
from .schedulers import SCHEDULED_ATTRS, make_scheduler
from .space import Space, as_space
from .storage import Storage, open_storage
from .storage.base import DuplicatePoint
from .storage.sql import dumps, now
from .strategies import Strategy, make_strategy
from .strategies.auto import AutoStrategy
from .strategies.base import History
from .trial import (
    FrozenTrial,
    LateResultWarning,
    ObjectiveSetupError,
    Trial,
    TrialPruned,
    TrialState,
    late_message,
)

__all__ = ["Experiment", "current_trial", "ObjectiveResultError"]

_current_trial: contextvars.ContextVar[Trial | None] = contextvars.ContextVar("knoblab_trial", default=None)

Objective = Callable[[Trial], Any]


def current_trial() -> Trial | None:
    """The trial whose objective is running in this context (used by framework callbacks), or None."""
    return _current_trial.get()


class ObjectiveResultError(ValueError):
    """An objective returned something that is not a usable result (NaN, None, a string, a missing metric)."""


class Experiment:
    """A named search over a space, stored so that nothing is lost and a rerun continues where it stopped.

    Args:
        name: the experiment's name in the storage; reopening the same name continues it.
        space: a dict of knobs (see `knoblab.space`) or a `Space`. None reopens a stored experiment by name alone:
            `Experiment("name")` gets its latest round's space, metrics, directions, outcome constraints, seed and
            strategy from storage.
        metric: the metric the objective optimizes (the key to read when the objective returns a dict), or a list
            of metrics for several objectives (the objective then returns a dict holding each; see
            `pareto_front`); default the stored one(s) when reopening, else "value".
        direction: "min" or "max", one per metric with several (["max", "min"]); default the stored one(s) when
            reopening, else "min".
        strategy: "auto" (the default: picks by space, budget and objectives), "grid", "random", "sobol", "lhs",
            "tpe", "gp", "cmaes" (the `strategies` extra), for several objectives "motpe", "mogp", "nsga2", or a
            `Strategy` instance; reopening by name alone keeps the stored one.
        scheduler: decides from intermediate reports whether a trial stops early (None: never): "median", "asha",
            "hyperband", "pbt", "patience" or an instance from `knoblab.schedulers`.
        storage: a SQLAlchemy URL or a storage object; default the SQLite file ./knoblab.db.
        seed: makes the search reproducible; stored with the experiment, so a reopened one keeps its stream.
        grid_resolution: points per continuous knob when a grid is asked of a space with Real knobs.
        stale_after: seconds without a heartbeat after which a RUNNING trial of another process is taken as dead.
        heartbeat_interval: seconds between the heartbeats a running trial writes to storage (keep it well under
            `stale_after`, so that a live trial is never taken as dead).
        on_stale: "retry" (run its params again) or "fail" (only mark it FAILED).
        constraint: `constraint(params) -> bool` rules out combinations of knobs (Talos' boolean_limit): no
            strategy proposes a point it rejects, and grid sizes and fraction_limit count only the points it
            accepts. It is not stored: pass it again when reopening.
        constraints: limits on a trial's *results* (outcome constraints), e.g. ["params <= 100000"] or a function
            of the metrics dict (see `knoblab.objectives`): a trial that breaks one is stored COMPLETE but
            infeasible, and is never the best nor on the Pareto front. Stored with the experiment. (`constraint`
            above is about knobs, known before a trial runs; `constraints` about outcomes, known after.)
    """

    def __init__(
        self,
        name: str,
        space: Mapping[str, Any] | Space | None = None,
        metric: str | Sequence[str] | None = None,
        direction: str | Sequence[str] | None = None,
        strategy: str | Strategy | None = None,
        scheduler: Any = None,
        storage: str | Storage | None = None,
        seed: int | None = None,
        *,
        grid_resolution: int | None = None,
        stale_after: float = 600.0,
        heartbeat_interval: float = 15.0,
        on_stale: str = "retry",
        constraint: Callable[[dict[str, Any]], bool] | None = None,
        constraints: Any = None,
    ):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"name: got {name!r}; give a non-empty string")
        store = open_storage(storage)
        if space is None or metric is None or direction is None or strategy is None:
            space, metric, direction, strategy, grid_resolution = _stored_defaults(
                store, name, space, metric, direction, strategy, grid_resolution
            )
        objectives = Objectives.parse(metric, direction)
        if constraints is None:  # the stored ones when reopening
            constraints = _stored_constraints(store, name)
        constraints = constraints if isinstance(constraints, OutcomeConstraints) else OutcomeConstraints(constraints)
        if seed is not None and not (isinstance(seed, numbers.Integral) and seed >= 0):
            raise ValueError(f"seed: got {seed!r}; give an integer >= 0 or None")
        if on_stale not in ("retry", "fail"):
            raise ValueError(f"on_stale: got {on_stale!r}; allowed: 'retry' or 'fail'")
        self.name = name
        self.space = as_space(space, constraint)
        self.objectives = objectives
        self.metrics, self.directions = list(objectives.metrics), list(objectives.directions)
        # the first objective: the one with a single objective; with several, what schedulers prune on
        self.metric, self.direction = objectives.metrics[0], objectives.directions[0]
        self.constraints = constraints
        self.scheduler = make_scheduler(scheduler)
        self.storage = store
        self.stale_after = stale_after
        self.heartbeat_interval = heartbeat_interval
        self.on_stale = on_stale
        self.grid_resolution = grid_resolution

        description = json.loads(dumps(self.space.describe()))
        record = self.storage.get_experiment(name)
        if record is None:
            if seed is None:
                seed = int(np.random.SeedSequence().generate_state(1)[0])
            record = self.storage.create_experiment(
                name, self.metric, self.direction, description, int(seed), objectives=self._objectives_record()
            )
        # the round whose space this is (rounds narrow the space: see `next_round`)
        self.round = self._check_same(record, description, seed)
        self.record = record
        assert record.seed is not None  # stored with every experiment since the first version
        self.seed = int(record.seed)
        self._strategy_arg = strategy
        self.strategy = make_strategy(strategy, grid_resolution=grid_resolution)
        _check_multi_objective(self.objectives, self.strategy, self.scheduler)
        self.strategy.setup(self.space, seed=self._round_seed(), direction=self._strategy_direction())
        if isinstance(strategy, str) and "strategy" not in record.attrs:
            # remembered so that `Experiment.load` (a standalone worker) proposes with the same strategy; a grid
            # over Real knobs cannot be set up again without its resolution
            remembered: dict[str, Any] = {"strategy": strategy}
            if grid_resolution is not None:
                remembered["grid_resolution"] = grid_resolution
            self.storage.set_experiment_attrs(record.id, remembered)
            record.attrs.update(remembered)
        self._deadline: float | None = None
        self._limit: int | None = None  # n_trials while optimize runs: asks never overshoot it
        self._max_resource: int | None = None  # max_resource while optimize runs (see `optimize`)
        self._retry: tuple[int, tuple[type[BaseException], ...]] = (0, ())  # optimize's retries, retry_on
        self._warm_start: bool | None = None  # this round's warm_start, read once from the rounds stored
        if self.scheduler is not None and hasattr(self.scheduler, "setup"):
            self.scheduler.setup(self)  # PBT queues its population here

    @classmethod
    def load(cls, name: str, storage: str | Storage | None = None, **kwargs: Any) -> Experiment:
        """Reopens a stored experiment by name alone (its space, metric, direction and seed come from storage), as
        `Experiment(name, storage=...)` does; a KeyError names the experiments stored when there is none by that name."""
        store = open_storage(storage)
        if store.get_experiment(name) is None:
            raise KeyError(_unknown(store, name))
        return cls(name, storage=store, **kwargs)

    # ---- opening ----
    def _objectives_record(self) -> dict[str, Any] | None:
        """What the experiment row's objectives column holds: None for one objective without outcome constraints
        (the row's metric and direction say it all, as before the column existed)."""
        if not self.objectives.multi and not self.constraints:
            return None
        return {"metrics": self.metrics, "directions": self.directions, "constraints": self.constraints.describe()}

    def _strategy_direction(self) -> str | tuple[str, ...]:
        """What strategies are set up with: "min"/"max", or a tuple of directions for several objectives."""
        return tuple(self.directions) if self.objectives.multi else self.direction

    def _check_same(self, record, description, seed) -> int:
        """Refuses a reopening that differs from what is stored; returns the round whose space `description` is."""
        from .analysis.rounds import round_of

        where = f"experiment {self.name!r} in {self.storage!r}"
        stored = Objectives.from_record(record.metric, record.direction, record.objectives)
        if stored != self.objectives:
            raise ValueError(
                f"{where} optimizes {stored.describe()}; got {self.objectives.describe()}. "
                "Use the stored metrics and directions, or a new experiment name"
            )
        kept = (record.objectives or {}).get("constraints") or []
        if json.loads(dumps(kept)) != json.loads(dumps(self.constraints.describe())):
            raise ValueError(
                f"{where} has outcome constraints {kept}; got {self.constraints.describe()}. Stored trials were "
                "judged by the stored ones: use them, or a new experiment name"
            )
        if seed is not None and record.seed != seed:
            raise ValueError(f"{where} was created with seed={record.seed}; got seed={seed}")
        found, latest = round_of(record, description)
        if found is None:
            raise ValueError(
                f"{where} was created with another space: {_space_diff(latest, description)}. "
                "Use the same space to continue it (or a later round's, see next_round), or a new experiment name"
            )
        return found

    def _round_seed(self) -> int:
        """Round 0 proposes with the experiment's seed (as before rounds existed); each later round with its own."""
        if self.round == 0:
            return self.seed
        return int(np.random.SeedSequence([self.seed, self.round]).generate_state(1)[0])

    def _history(self) -> list[FrozenTrial]:
        """What the strategy sees: this round's trials (an earlier, wider round's points may lie outside this
        space), plus, for a round started with warm_start=True, earlier trials whose params this space contains."""
        trials = self._all_trials()
        if self.round == 0 and all(t.round == 0 for t in trials):
            return trials
        warm = getattr(self, "_warm_start", None)
        if warm is None:
            from .analysis.rounds import round_records

            rounds = [r for r in round_records(self.record) if r["round"] == self.round]
            warm = self._warm_start = bool(rounds and rounds[0].get("warm_start"))
        return [t for t in trials if t.round == self.round or (warm and self.space.contains(t.params))]

    def _all_trials(self) -> list[FrozenTrial]:
        """Every trial in number order, read incrementally for the loop: finished trials are kept, each call reads
        only new trials and unfinished ones, so a long search does not re-read its whole history per trial."""
        cache: dict[int, FrozenTrial] = self.__dict__.setdefault("_trial_cache", {})
        unfinished: set[int] = self.__dict__.setdefault("_trial_cache_open", set())
        if cache and hasattr(self.storage, "get_trials_since"):
            fresh = self.storage.get_trials_since(self.id, max(cache), sorted(unfinished))
        else:
            cache.clear()
            fresh = self.storage.get_trials(self.id)
        for t in fresh:
            cache[t.id] = t  # ids and numbers grow together, so the dict stays in number order
            if t.state.finished:
                unfinished.discard(t.id)
            else:
                unfinished.add(t.id)
        return list(cache.values())

    @property
    def id(self) -> int:
        """The experiment's id in its storage."""
        return self.record.id

    # ---- reading ----
    @property
    def trials(self) -> list[FrozenTrial]:
        """Every trial, in number order."""
        return self.storage.get_trials(self.id)

    def trial(self, number: int, with_reports: bool = True) -> FrozenTrial:
        """The trial with this number (with its per-step reports unless `with_reports=False`)."""
        for t in self.storage.get_trials(self.id):
            if t.number == number:
                return self.storage.get_trial(t.id, with_reports=with_reports) if with_reports else t
        raise KeyError(f"experiment {self.name!r} has no trial number {number}")

    def _better(self, a: float, b: float) -> bool:
        return a < b if self.direction == "min" else a > b

    @property
    def best(self) -> FrozenTrial:
        """The best trial by the selection rule of `knoblab.selection`: among COMPLETE trials that meet the outcome
        constraints (in a multi-fidelity search, those that reached the top rung), cross-validated ones first by their
        CV mean, then by value, ties broken by the validation loss; with no COMPLETE trial, the PRUNED trials that got
        furthest. With several objectives there is none: see `pareto_front` and `best_by`."""
        if self.objectives.multi:
            raise ValueError(
                f"experiment {self.name!r} has {len(self.metrics)} objectives ({self.objectives.describe()}), so no "
                f"single best trial: use exp.pareto_front (the trials no other beats in every objective) or "
                f"exp.best_by({self.metric!r})"
            )
        ranked = selection.ranked(self.storage.get_trials(self.id), self.metric, self.direction)
        if not ranked:
            raise ValueError(f"experiment {self.name!r} has no COMPLETE {self._feasible_word()}trial yet")
        return ranked[0]

    @property
    def resource_spent(self) -> int:
        """The training resource spent so far: steps (epochs) reported by every trial, promoted or not."""
        return sum(self._resource_counts().values())

    def _resource_counts(self) -> dict[int, int]:
        """Trial id -> steps reported (one storage query)."""
        count = getattr(self.storage, "count_reports", None)
        if count is not None:
            return count(self.id)
        ids = [t.id for t in self.storage.get_trials(self.id)]
        return {tid: len(r) for tid, r in self.storage.get_reports(ids).items()}

    def _feasible_word(self) -> str:
        return "feasible " if self.constraints else ""

    def best_by(self, metric: str, direction: str | None = None) -> FrozenTrial:
        """The COMPLETE trial (meeting the outcome constraints) with the best value of one metric: an objective
        (its direction is known) or any other metric the objective returned (then give `direction`)."""
        if direction is None:
            if metric not in self.metrics:
                raise ValueError(
                    f"best_by: {metric!r} is not an objective of {self.name!r} ({self.metrics}); "
                    "give direction='min' or 'max' for another metric"
                )
            direction = self.directions[self.metrics.index(metric)]
        if direction not in ("min", "max"):
            raise ValueError(f"direction: got {direction!r}; allowed: 'min' or 'max'")
        sign = 1.0 if direction == "min" else -1.0
        best, key = None, math.inf
        for t in self.storage.get_trials(self.id, states=(TrialState.COMPLETE,)):
            v = t.metrics.get(metric)
            if v is None or not is_feasible(t) or not _is_numeric(v) or not math.isfinite(v):
                continue
            if sign * float(v) < key:
                best, key = t, sign * float(v)
        if best is None:
            raise ValueError(
                f"experiment {self.name!r} has no COMPLETE {self._feasible_word()}trial with metric {metric!r} yet"
            )
        return best

    @property
    def pareto_front(self) -> list[FrozenTrial]:
        """The COMPLETE trials that meet the outcome constraints and that no other such trial dominates (is at least
        as good in every objective and better in one), in number order. With one objective: the best trial(s)."""
        return pareto_trials(self.storage.get_trials(self.id, states=(TrialState.COMPLETE,)), self.directions)

    @property
    def results(self) -> pd.DataFrame:
        """One row per trial: number, state, value, a column per knob, a column per metric, duration, resource (the
        steps it reported, when any trial reported), times; with several objectives or outcome constraints, `pareto`,
        `feasible` and `violation` columns."""
        trials = self.storage.get_trials(self.id)
        df = results_frame(trials, self.space, self.metric, resources=self._resource_counts())
        return outcome_columns(df, trials, self.directions, bool(self.constraints))

    # ---- steering by hand ----
    def enqueue(self, params: Mapping[str, Any], note: str | None = None) -> FrozenTrial:
        """Queues a trial with params chosen by hand; it runs before any the strategy proposes."""
        clean = self.space.validate(params)
        if not self.space.feasible(clean):
            raise ValueError(f"params {_short(clean)}: ruled out by the experiment's constraint")
        trial = self.storage.create_trial(
            self.id, clean, TrialState.QUEUED, attrs={"source": "enqueued"}, round=self.round
        )
        assert trial is not None  # only a budget (limit=) makes create_trial refuse, and none is given
        if note:
            self.storage.set_note(trial.id, note)
        return trial

    def note(self, number: int, text: str) -> None:
        """Attaches a free-text note to a trial."""
        self.storage.set_note(self.trial(number, with_reports=False).id, text)

    # ---- ask / tell ----
    def _seed_for(self, number: int) -> int:
        return int(np.random.SeedSequence([self.seed, number]).generate_state(1)[0])

    def ask(self, n: int = 1) -> list[Trial]:
        """n new trials, stored as RUNNING: queued ones first, then the strategy's proposals (none while the
        scheduler's `wants_new_trials` says no). Fewer than n when nothing is left to run now."""
        if not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n: got {n!r}; give an integer >= 1")
        out: list[Trial] = []
        while len(out) < n:
            frozen = self.storage.claim_queued(self.id, seed_for=self._seed_for, limit=self._limit)
            if frozen is None:
                break
            out.append(self._handle(frozen))
        wants = getattr(self.scheduler, "wants_new_trials", None)  # PBT runs only the segments it queues
        if len(out) < n and (wants is None or wants(self)):
            if isinstance(self.strategy, AutoStrategy) and self.strategy.chosen is None:
                self._resolve_auto(n_trials=None, fraction_limit=None)  # ask/tell without optimize: no budget
            self._propose(n, out)
        return out

    def _propose(self, n: int, out: list[Trial]) -> None:
        """Adds the strategy's proposals to `out` until it holds n. On a finite space (a grid) a point that another
        process added since this one read the history is refused by the storage, and the strategy is asked
        again with the history that now holds it: no grid point runs twice, however many workers ask at once."""
        finite = self.space.is_finite or getattr(self.strategy, "resolution", None) is not None
        for _ in range(100):
            history = self._history()
            k = n - len(out)
            shown = History(history, start=self._claim_positions(k, len(history)))
            proposals = self.strategy.ask(shown, k)
            known = history[-1].number if history else -1
            taken = False
            for params in proposals:
                try:
                    frozen = self.storage.create_trial(
                        self.id,
                        params,
                        TrialState.RUNNING,
                        seed_for=self._seed_for,
                        attrs={"source": self.strategy.name},
                        limit=self._limit,
                        round=self.round,
                        distinct_after=known if finite else None,
                    )
                except DuplicatePoint:
                    taken = True
                    continue
                if frozen is None:
                    return  # concurrent workers used the rest of the budget
                out.append(self._handle(frozen))
            if not taken or len(out) >= n:
                return

    def _claim_positions(self, n: int, history_length: int) -> int:
        """Where the next n proposals start in the strategy's stream (see `strategies.base.History`): a block of
        positions claimed in the storage in one transaction, so processes asking at the same moment (workers,
        `load(...).optimize`) never draw the same points, while one process with a seed draws 0, 1, 2, ... on
        every run. Counted per round (each has its own seed); an experiment stored before the counter existed goes
        on from its history's length, as the strategies did then."""
        key = str(self.round)

        def claim(attrs: dict[str, Any]) -> dict[str, Any]:
            positions = dict(attrs.get("stream_positions", {}))
            positions[key] = int(positions.get(key, history_length)) + n
            return {"stream_positions": positions}

        return int(self.storage.update_experiment_attrs(self.id, claim)["stream_positions"][key]) - n

    def _resolve_auto(
        self, *, n_trials: int | None, fraction_limit: float | None, max_resource: int | None = None
    ) -> None:
        """strategy="auto" chooses from the budget once per round, on first use, and stores the choice with the
        experiment (attrs "auto_choice", by round, as rounds are stored): a rerun with a larger n_trials, a reopened
        experiment and a standalone worker go on with the strategy the round started with; a new round chooses
        again. Of processes choosing at once, the first to store wins and the others use its choice."""
        key = str(self.round)
        assert isinstance(self.strategy, AutoStrategy)
        choice = self.record.attrs.get("auto_choice", {}).get(key)
        if choice is None:
            proposed = self.strategy.choose(
                n_trials=n_trials, fraction_limit=fraction_limit, max_resource=max_resource, scheduler=self.scheduler
            )

            def remember(attrs: dict[str, Any]) -> dict[str, Any]:
                stored = dict(attrs.get("auto_choice", {}))
                return {} if key in stored else {"auto_choice": {**stored, key: proposed}}

            self.record.attrs["auto_choice"] = self.storage.update_experiment_attrs(self.id, remember)["auto_choice"]
            choice = self.record.attrs["auto_choice"][key]
        self.strategy.use(choice)

    def _handle(self, frozen: FrozenTrial) -> Trial:
        return Trial(self.storage, frozen, should_stop_hook=self._should_stop)

    def _should_stop(self, trial: Trial) -> bool:
        if self._deadline is not None and time.monotonic() > self._deadline:
            return True
        if self.scheduler is not None and self.scheduler.should_stop(self, trial):
            return True  # asked first: a trial pausing at its rung keeps its checkpoint even as the budget ends
        if self._max_resource is not None and self.resource_spent >= self._max_resource:
            self.storage.set_attrs(trial.id, {"stopped_by": f"max_resource={self._max_resource} spent"})
            return True
        return False

    def tell(
        self,
        trial: Trial | FrozenTrial | int,
        result: Any = None,
        *,
        state: TrialState | str | None = None,
        error: str | None = None,
    ) -> FrozenTrial:
        """Ends a trial with its result (a number or a dict holding the metric). Bad results end it FAILED.

        A trial that another process ended while it ran (stale recovery, after a silence past `stale_after`) keeps
        what that process stored: the late result is not written, a `LateResultWarning` names the trial, and the
        trial comes back as stored."""
        trial_id = self._trial_id(trial)
        frozen = self.storage.get_trial(trial_id, with_reports=True)
        if frozen.state != TrialState.RUNNING:
            if frozen.attrs.get("interrupted"):  # recovered by another process while it ran: a late result
                return self._late(trial, frozen)
            if frozen.state.finished:
                raise ValueError(f"trial {frozen.number} of {self.name!r} is already {frozen.state}")
            raise ValueError(f"trial {frozen.number} of {self.name!r} is {frozen.state}; tell only trials from ask()")
        state = TrialState(state) if state is not None else TrialState.COMPLETE
        value: float | None = None
        metrics: dict[str, Any] = {}
        values: list[float] | None = None
        multi = self.objectives.multi
        if state == TrialState.COMPLETE:
            try:
                if multi:
                    values, metrics = self._interpret_many(result)
                else:
                    value, metrics = self._interpret(result)
            except ObjectiveResultError as e:
                state, error = TrialState.FAILED, str(e)
        attrs = None
        if state == TrialState.PRUNED:
            if multi:
                values, metrics = self._last_reported_many(frozen, result)
            else:
                value, metrics = self._last_reported(frozen, result)
            if frozen.reports:  # how far it got: strategies rank pruned trials by it without reading the reports
                attrs = {"reached": reached(frozen)}
        if self.constraints and state in (TrialState.COMPLETE, TrialState.PRUNED) and metrics:
            try:
                attrs = {**(attrs or {}), **self.constraints.evaluate(metrics)}
            except ValueError as e:  # a constraint that cannot be judged on these metrics: not a usable result
                if state == TrialState.COMPLETE:
                    state, error, value, values = TrialState.FAILED, str(e), None, None
        stored = self.storage.finish_trial(trial_id, state, value, metrics, error, attrs=attrs, values=values)
        done = self.storage.get_trial(trial_id, with_reports=True)
        if not stored:  # ended by another process since we read it
            return self._late(trial, done)
        self.strategy.tell(done)
        if self.scheduler is not None and hasattr(self.scheduler, "on_finish"):
            self.scheduler.on_finish(self, done)
        return done

    def _late(self, trial: Trial | FrozenTrial | int, stored: FrozenTrial) -> FrozenTrial:
        """A result for a trial another process ended while it ran (stale recovery, a driver): not stored, so what
        that process decided stands (its retry, if queued, runs on its own). Warns, naming the trial, and returns it
        as stored; the strategy and scheduler are not told, as the recovering process did not tell them either."""
        if isinstance(trial, Trial):
            trial.mark_lost(stored)
        else:
            warnings.warn(LateResultWarning(late_message(stored)), stacklevel=3)
        return stored

    def _trial_id(self, trial: Trial | FrozenTrial | int) -> int:
        if isinstance(trial, Trial | FrozenTrial):
            return trial.id
        if isinstance(trial, numbers.Integral):
            return self.trial(int(trial), with_reports=False).id
        raise ValueError(f"trial: got {trial!r}; give a Trial, a FrozenTrial or a trial number")

    def _interpret_many(self, result: Any) -> tuple[list[float], dict[str, Any]]:
        """Several objectives: the result must be a dict with a finite number for each objective metric."""
        if result is None:
            raise ObjectiveResultError(f"the objective returned None; return a dict with {self.metrics}")
        if not isinstance(result, Mapping):
            raise ObjectiveResultError(
                f"the objective returned a {type(result).__name__} ({_short(result)}); with several objectives "
                f"return a dict holding each of {self.metrics}"
            )
        missing = [m for m in self.metrics if m not in result]
        if missing:
            raise ObjectiveResultError(
                f"the objective's metrics {sorted(map(str, result))} lack {missing}, objectives of the experiment"
            )
        metrics = {str(k): _plain_metric(v) for k, v in result.items()}
        values = []
        for m in self.metrics:
            v = metrics[m]
            if not _is_numeric(v):
                raise ObjectiveResultError(f"metric {m!r} is {_short(v)}, not a number")
            if not math.isfinite(v):
                raise ObjectiveResultError(f"metric {m!r} is {v}: the trial diverged or failed")
            values.append(float(v))
        try:
            dumps(metrics)
        except TypeError as e:
            raise ObjectiveResultError(f"the objective's metrics cannot be stored as JSON: {e}") from None
        return values, metrics

    def _interpret(self, result: Any) -> tuple[float, dict[str, Any]]:
        if result is None:
            raise ObjectiveResultError("the objective returned None; return a number or a dict of metrics")
        if isinstance(result, Mapping):
            if self.metric not in result:
                raise ObjectiveResultError(
                    f"the objective's metrics {sorted(result)} lack {self.metric!r}, the experiment's metric"
                )
            metrics = {}
            for k, v in result.items():
                metrics[str(k)] = _plain_metric(v)
            value = _number(metrics[self.metric]) if _is_numeric(metrics[self.metric]) else metrics[self.metric]
        elif _is_numeric(result):
            value = _number(result)
            metrics = {self.metric: value}
        else:
            raise ObjectiveResultError(
                f"the objective returned a {type(result).__name__} ({_short(result)}); "
                "return a number or a dict of metrics"
            )
        if not isinstance(value, float):
            raise ObjectiveResultError(f"metric {self.metric!r} is {_short(value)}, not a number")
        if not math.isfinite(value):
            raise ObjectiveResultError(f"metric {self.metric!r} is {value}: the trial diverged or failed")
        try:
            dumps(metrics)
        except TypeError as e:
            raise ObjectiveResultError(f"the objective's metrics cannot be stored as JSON: {e}") from None
        return value, metrics

    def _last_reported_many(self, frozen: FrozenTrial, result: Any) -> tuple[list[float] | None, dict[str, Any]]:
        """A pruned trial's objectives with several of them: what it returned, else the metrics of its reported
        step that is best for the first objective (what schedulers prune on), when that step has every objective."""
        if result is not None:
            try:
                return self._interpret_many(result)
            except ObjectiveResultError:
                pass
        sign = 1.0 if self.direction == "min" else -1.0
        best = None
        for _, m in frozen.reports or []:
            v = m.get(self.metric)
            if v is not None and math.isfinite(v) and (best is None or sign * v < sign * best[self.metric]):
                best = m
        if best is None or not all(_is_numeric(best.get(k)) and math.isfinite(best[k]) for k in self.metrics):
            return None, dict(best or {})
        return [float(best[k]) for k in self.metrics], dict(best)

    def _last_reported(self, frozen: FrozenTrial, result: Any) -> tuple[float | None, dict[str, Any]]:
        """A pruned trial's value: what it returned, else the best of its reported curve for the metric."""
        if result is not None:
            try:
                return self._interpret(result)
            except ObjectiveResultError:
                pass
        curve = [v for _, v in frozen.curve(self.metric) if math.isfinite(v)]
        if not curve:
            return None, {}
        value = min(curve) if self.direction == "min" else max(curve)
        return value, {self.metric: value}

    # ---- crash recovery ----
    def recover_stale(self) -> list[FrozenTrial]:
        """RUNNING trials whose process is gone become FAILED (interrupted); with on_stale="retry" their params
        are queued again. Returns the stale trials found."""
        host = socket.gethostname()
        stale = []
        limit = now() - timedelta(seconds=self.stale_after)
        for t in self.storage.get_trials(self.id, states=(TrialState.RUNNING,)):
            pid, t_host = t.attrs.get("pid"), t.attrs.get("host")
            dead = t_host == host and pid is not None and pid != os.getpid() and not pid_alive(pid)
            silent = t.heartbeat_at is not None and t.heartbeat_at < limit
            if dead or silent:
                why = "its process died" if dead else f"no heartbeat for {self.stale_after:.0f} s"
                if self.interrupted(t, f"interrupted: {why} (pid {pid} on {t_host})"):
                    stale.append(t)
        return stale

    def interrupted(self, trial: FrozenTrial, reason: str) -> bool:
        """Ends a RUNNING trial whose run was cut short (its process died, Ctrl-C) as FAILED and interrupted, so
        it does not count against the budget; with on_stale="retry" its params are queued again. False when
        another process had already ended or recovered it (then nothing is queued: each retry happens once)."""
        if not self.storage.requeue(trial.id, reason):
            return False
        if self.on_stale == "retry":
            scheduled = {k: v for k, v in trial.attrs.items() if k in SCHEDULED_ATTRS}  # a PBT segment stays one
            self.storage.create_trial(
                self.id,
                trial.params,
                TrialState.QUEUED,
                seed=trial.seed,
                attrs={**scheduled, **_attempt_of(trial), "source": "retry", "retry_of": trial.number},
                round=trial.round,
            )
        return True

    # ---- the loop ----
    def optimize(
        self,
        objective: Objective,
        n_trials: int | None = None,
        time_limit: float | None = None,
        n_jobs: int = 1,
        *,
        fraction_limit: float | None = None,
        target: float | None = None,
        catch: tuple[type[BaseException], ...] = (Exception,),
        show_progress: bool | None = None,
        callbacks: list[Callable[[Experiment, FrozenTrial], None]] | None = None,
        executor: Any = None,
        trial_timeout: float | None = None,
        max_resource: int | None = None,
        retries: int = 0,
        retry_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
        gpus: Any = None,
    ) -> Experiment:
        """Runs trials until a budget ends. Budgets count the whole experiment, so a rerun finishes what is left.

        The first failures of a call are warned (`TrialFailedWarning`, with the last line of the traceback); a call
        in which every trial failed raises `AllTrialsFailedError` at its end; a call with nothing left to run says
        so in one line.

        Args:
            objective: `objective(trial) -> float | dict`; read `trial.params`, call `trial.report(step, ...)`.
            n_trials: the experiment's total number of trials (interrupted ones are not counted).
            time_limit: seconds for this call; no trial starts after it, and `trial.should_stop()` turns True.
            n_jobs: trials at a time (1: in this process).
            fraction_limit: a fraction of the finite grid to try (0.01 is 1%), drawn without repeats.
            target: stop once the best value reaches it (<= for min, >= for max).
            catch: exceptions that fail a trial and let the search go on.
            show_progress: a progress bar (default: only when output is a terminal).
            callbacks: `fn(experiment, finished_trial)` after each trial.
            executor: where trials run when n_jobs > 1 or when given: "processes" (the default for n_jobs > 1),
                "ray", or an executor from `knoblab.executors` (e.g. `RayExecutor(address=..., num_gpus=0.5)`).
            trial_timeout: seconds a trial may take, from being handed to a worker, before its worker is killed
                and the trial FAILED (runs trials in worker processes, even with n_jobs=1).
            max_resource: the training resource the experiment may spend: steps (Keras epochs) reported, counted
                over every trial of the experiment (pruned, paused, promoted, failed or interrupted alike) from
                storage, so a rerun continues the same budget. No trial starts once it is spent, and a running
                trial is stopped at the first `trial.should_stop()` after the step that spends it (it ends PRUNED
                with attr `stopped_by`; the Keras reporter asks after every epoch). Trials running in parallel may
                each finish the step they are in, so the total can pass the budget by up to n_jobs - 1 steps; an
                objective that never asks `should_stop` is stopped only between trials.
            retries: how many times a trial whose objective raised one of `retry_on` runs again (same params, same
                seed) before it stays FAILED. Attempts are trials of their own, with attrs `attempt` and `retry_of`;
                a configuration counts once against n_trials. Interrupted trials (a dead process) are retried as
                `on_stale` says, whatever this is.
            retry_on: the exceptions worth another attempt (e.g. `MemoryError`, a flaky data loader's `OSError`);
                only exceptions in `catch` fail a trial, so only those can be retried.
            gpus: the GPUs each worker sees (runs trials in worker processes, even with n_jobs=1): "auto" (every
                visible device, shared out), a device list such as [0, 1], GPUs per worker (0.5: two workers per
                device; 0: none), or None to leave the environment alone. Each trial records its devices in
                `attrs["gpus"]`; see `knoblab.executors.devices`.
        """
        if not callable(objective):
            raise ValueError(f"objective: got {type(objective).__name__}; give a function objective(trial)")
        self.constraints.check_usable()  # a stored constraint function that cannot be imported here
        n_trials = _check_count("n_trials", n_trials)
        max_resource = _check_count("max_resource", max_resource)
        if time_limit is not None and not (_is_numeric(time_limit) and time_limit > 0):
            raise ValueError(f"time_limit: got {time_limit!r}; give seconds > 0 or None")
        if not (isinstance(n_jobs, numbers.Integral) and n_jobs >= 1):
            raise ValueError(f"n_jobs: got {n_jobs!r}; give an integer >= 1")
        if target is not None and not _is_numeric(target):
            raise ValueError(f"target: got {target!r}; give a number or None")
        if target is not None and self.objectives.multi:
            raise ValueError(
                f"target: experiment {self.name!r} has several objectives, so no single value to reach; "
                "use n_trials or time_limit"
            )
        if fraction_limit is not None:
            if not (_is_numeric(fraction_limit) and 0 < fraction_limit <= 1):
                raise ValueError(f"fraction_limit: got {fraction_limit!r}; give a fraction in (0, 1]")
            if not self.space.is_finite:
                name = next(d.knob.name for d in self.space.dimensions if not d.knob.finite)
                raise ValueError(
                    f"fraction_limit needs a finite space, but knob {name!r} is continuous; "
                    "use n_trials, or a list or (low, high, n) tuple for it"
                )
            # exact arithmetic on the decimal as written (0.0005 is 1/2000, not the float just above it): a fraction
            # of a 10**400-point grid overflows a float
            size = self.space.grid_size(self.grid_resolution)
            by_fraction = max(1, math.ceil(Fraction(repr(float(fraction_limit))) * size))
            n_trials = by_fraction if n_trials is None else min(n_trials, by_fraction)
        no_budget = n_trials is None and time_limit is None and target is None and max_resource is None
        if no_budget and self.strategy.size() is None:
            if not (isinstance(self.strategy, AutoStrategy) and self.space.is_finite):
                raise ValueError("give a budget: n_trials, time_limit, fraction_limit, target or max_resource")
        if isinstance(self.strategy, AutoStrategy):
            self._resolve_auto(n_trials=n_trials, fraction_limit=fraction_limit, max_resource=max_resource)
        elif fraction_limit is not None and self._strategy_arg == "grid" and not self.strategy.shuffle:
            # strategy="grid" with a fraction: a random subset of the grid (as the README says), not its first rows
            self.strategy = make_strategy("grid", fraction_limit=fraction_limit, grid_resolution=self.grid_resolution)
            self.strategy.setup(self.space, seed=self._round_seed(), direction=self._strategy_direction())
        if trial_timeout is not None and not (_is_numeric(trial_timeout) and trial_timeout > 0):
            raise ValueError(f"trial_timeout: got {trial_timeout!r}; give seconds > 0 or None")
        self._retry = check_retry(retries, retry_on)
        if max_resource is not None and self.round > 0:  # as n_trials: this round's budget, the experiment's count
            counts = self._resource_counts()
            max_resource += sum(counts.get(t.id, 0) for t in self.storage.get_trials(self.id) if t.round != self.round)
        if n_trials is not None and self.round > 0:
            # n_trials counts this round's trials; the loop and the storage count the whole experiment's
            n_trials += sum(1 for t in self.storage.get_trials(self.id) if t.round != self.round and trials_used([t]))
        if gpus is not None:
            from .executors.devices import check_request

            gpus = check_request(gpus)
        self._max_resource = max_resource  # read by _budget_spent, _should_stop and the progress bar
        if n_jobs > 1 or executor is not None or trial_timeout is not None or gpus is not None:
            from .executors import run_parallel

            try:
                return run_parallel(
                    self,
                    objective,
                    n_trials=n_trials,
                    time_limit=time_limit,
                    n_jobs=n_jobs,
                    target=target,
                    catch=catch,
                    show_progress=show_progress,
                    callbacks=callbacks,
                    executor=executor,
                    trial_timeout=trial_timeout,
                    gpus=gpus,
                )
            finally:
                self._max_resource = None
                self._retry = (0, ())

        self.recover_stale()
        self._limit = n_trials
        self._deadline = time.monotonic() + time_limit if time_limit else None
        progress = ProgressBar(self, n_trials, show_progress)
        outcome = CallOutcome(self, n_trials, target)
        try:
            with Heartbeat(self.storage, self.heartbeat_interval) as beat:
                while not self._budget_spent(n_trials, target):
                    trials = self.ask(1)  # queued first, then the strategy
                    if not trials:
                        break  # the strategy has nothing left (a finished grid)
                    trial = trials[0]
                    beat.ids = {trial.id}
                    done = self.run_trial(objective, trial, catch)
                    beat.ids = set()
                    if trial.lost:  # recovered elsewhere while it ran (warned): its retry, if any, is queued
                        continue
                    progress.update(self, done)
                    outcome.seen(done)
                    for cb in callbacks or ():
                        cb(self, done)
        finally:
            progress.close()
            self._deadline = None
            self._limit = None
            self._max_resource = None
            self._retry = (0, ())
        outcome.end()
        return self

    def _budget_spent(self, n_trials: int | None, target: float | None) -> bool:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return True
        if self._max_resource is not None and self.resource_spent >= self._max_resource:
            return True
        trials = self._all_trials()
        if n_trials is not None:
            if trials_used(trials) >= n_trials:
                return True
        if target is not None:
            values = [  # this round's: a target an earlier round reached does not end the next one
                t.value
                for t in trials
                if t.state == TrialState.COMPLETE and t.value is not None and t.round == self.round and is_feasible(t)
            ]
            if values and (min(values) <= target if self.direction == "min" else max(values) >= target):
                return True
        return False

    def run_trial(
        self, objective: Objective, trial: Trial, catch: tuple[type[BaseException], ...] = (Exception,)
    ) -> FrozenTrial:
        """Runs the objective on one trial (already stored as RUNNING) and stores how it ended."""
        token = _current_trial.set(trial)
        try:
            result = objective(trial)
        except TrialPruned as e:  # it may carry the metrics of the steps it ran (the Keras reporter's summary)
            return self.tell(trial, getattr(e, "result", None), state=TrialState.PRUNED)
        except KeyboardInterrupt:
            self.interrupted(trial.freeze(), "interrupted: KeyboardInterrupt")
            raise
        except ObjectiveSetupError as e:
            self.tell(
                trial, None, state=TrialState.FAILED, error=f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}"
            )
            raise
        except catch as e:
            tb = traceback.format_exc()
            done = self.tell(trial, None, state=TrialState.FAILED, error=f"{type(e).__name__}: {e}\n\n{tb}")
            if not trial.lost and retry_failed(self, done, e) is not None:
                done.attrs.update(retried=True, attempt=done.attrs.get("attempt", 1))
            return done
        finally:
            _current_trial.reset(token)
        return self.tell(trial, result)

    # ---- rounds, analysis, honest evaluation, export: knoblab.analysis (plots and importances need its extra) ----
    @property
    def rounds(self) -> list[dict[str, Any]]:
        """Every round: its number, space (as described), parent round, reason, changes and start time."""
        from .analysis.rounds import round_records

        record = self.storage.get_experiment(self.name)
        assert record is not None  # an experiment is never deleted from under its handle
        return round_records(record)

    def next_round(self, space: Mapping[str, Any] | Space, reason: str = "") -> int:
        """Starts a new round with its own space, narrowing the current one; returns its number. New trials carry
        it, the strategy sees only its trials, and n_trials counts them. See `knoblab.analysis.rounds.start_round`."""
        from .analysis.rounds import start_round

        return start_round(self, space, reason)

    def analyze(self, rounds: Any = None, **kwargs: Any):
        """Correlations, importances, per-value summaries, overfitting, entropy of the current round (or `rounds`:
        an int, a list, "all"): see `knoblab.analysis.analyze`."""
        from .analysis import analyze

        return analyze(self, rounds, **kwargs)

    def suggest_space(self, rounds: Any = None, **kwargs: Any):
        """A narrower space for the next round, each change explained: see `knoblab.analysis.suggest_space`."""
        from .analysis import suggest_space

        return suggest_space(self, rounds, **kwargs)

    def evaluate_best(self, k: int, x_test: Any, y_test: Any, **kwargs: Any) -> pd.DataFrame:
        """Scores the top k trials' saved models on a test set the search never saw: see
        `knoblab.analysis.evaluate.evaluate_best`."""
        from .analysis.evaluate import evaluate_best

        return evaluate_best(self, k, x_test, y_test, **kwargs)

    def export_best(self, path: str | os.PathLike, **kwargs: Any):
        """Writes the best trial's model, knobs, metrics, space and versions to a folder: see `knoblab.export`."""
        from .export import export_best

        return export_best(self, path, **kwargs)

    def _repr_html_(self) -> str:  # notebooks: see knoblab.reprs
        return experiment_html(self)

    def __repr__(self) -> str:
        metric, direction = (self.metrics, self.directions) if self.objectives.multi else (self.metric, self.direction)
        return f"Experiment({self.name!r}, metric={metric!r}, direction={direction!r}, storage={self.storage!r})"


# ---- helpers ----
def _check_multi_objective(objectives: Objectives, strategy: Strategy, scheduler: Any) -> None:
    """With several objectives, a strategy or scheduler that handles one only is refused in one line."""
    if not objectives.multi:
        return
    limit = getattr(strategy, "max_objectives", 1)
    if limit is not None and limit < len(objectives):
        from .strategies import multi_objective_names

        raise ValueError(
            f"strategy {strategy.name!r} optimizes one objective; with {len(objectives)} "
            f"({objectives.describe()}) use one of {multi_objective_names()}"
        )
    if scheduler is not None and getattr(scheduler, "multi_objective", True) is False:
        raise ValueError(
            f"scheduler {getattr(scheduler, 'name', type(scheduler).__name__)!r} cannot rank trials on "
            f"{len(objectives)} objectives ({objectives.describe()}); use 'asha', 'hyperband' or 'median', "
            "which stop trials on the first objective, or no scheduler"
        )


def _unknown(store: Storage, name: str) -> str:
    known = [e.name for e in store.list_experiments()]
    return f"no experiment {name!r} in {store!r}; known: {known}"


def _stored_defaults(store, name, space, metric, direction, strategy, grid_resolution) -> tuple:
    """What a constructor argument left out means: the stored experiment's (its latest round's space, its metric,
    direction and strategy) when there is one, else the defaults of a new experiment ("value", "min", "auto")."""
    record = store.get_experiment(name)
    if record is None:
        if space is None:
            raise ValueError(f"{_unknown(store, name)}; give a space to create it")
        return (
            space,
            "value" if metric is None else metric,
            "min" if direction is None else direction,
            "auto" if strategy is None else strategy,
            grid_resolution,
        )
    if space is None:
        from .analysis.rounds import round_records

        space = Space.from_description(round_records(record)[-1]["space"])  # the latest round's space
    if strategy is None:
        strategy = record.attrs.get("strategy", "auto")
    if grid_resolution is None:  # a grid over Real knobs cannot be set up again without it
        grid_resolution = record.attrs.get("grid_resolution")
    stored = Objectives.from_record(record.metric, record.direction, record.objectives)
    if metric is None:
        metric = list(stored.metrics) if stored.multi else stored.metrics[0]
    if direction is None:  # the stored directions go with the stored metrics (another metric fails the check later)
        given = [metric] if isinstance(metric, str) else list(metric)
        if given == list(stored.metrics):
            direction = list(stored.directions) if stored.multi else stored.directions[0]
        else:
            direction = "min" if isinstance(metric, str) else ["min"] * len(given)
    return space, metric, direction, strategy, grid_resolution


def _stored_constraints(store: Storage, name: str) -> OutcomeConstraints:
    """A stored experiment's outcome constraints (none for a new one): strings reparsed, functions imported."""
    record = store.get_experiment(name)
    stored = ((record.objectives or {}).get("constraints") or []) if record is not None else []
    return OutcomeConstraints.from_description(stored, f"experiment {name!r}")


def _attempt_of(trial: FrozenTrial) -> dict[str, Any]:
    """An interrupted attempt's number goes to the run that replaces it: an interruption is no failed attempt."""
    return {"attempt": trial.attrs["attempt"]} if "attempt" in trial.attrs else {}


def _is_numeric(x: Any) -> bool:
    return isinstance(x, numbers.Real | np.number) and not isinstance(x, bool | np.bool_)


def _number(x: Any) -> float:
    return float(x)


def _plain_metric(v: Any) -> Any:
    """A metric as stored: integers stay integers (an epoch number), other numbers become floats."""
    if isinstance(v, numbers.Integral | np.integer) and not isinstance(v, bool | np.bool_):
        return int(v)
    return float(v) if _is_numeric(v) else v


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_count(name: str, n: Any) -> int | None:
    if n is None:
        return None
    if not (isinstance(n, numbers.Integral) and not isinstance(n, bool) and int(n) >= 1):
        raise ValueError(f"{name}: got {n!r}; give an integer >= 1 or None")
    return int(n)


def _flatten(description: Mapping[str, Any], out: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {} if out is None else out
    for name, d in description.items():
        if d.get("kind") == "branch":
            out[name] = {"kind": "branch", "choices": [v for v, _ in d["options"]]}
            for _, sub in d["options"]:
                _flatten(sub, out)
        else:
            out[name] = d
    return out


def _space_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    a, b = _flatten(old), _flatten(new)
    parts = [f"knob {k!r} added" for k in b if k not in a]
    parts += [f"knob {k!r} removed" for k in a if k not in b]
    parts += [f"knob {k!r} changed from {a[k]} to {b[k]}" for k in a if k in b and a[k] != b[k]]
    return "; ".join(parts) or "the knobs' order or nesting changed"
