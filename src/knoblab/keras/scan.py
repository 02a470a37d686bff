"""`Scan`: Talos' plain ergonomics on knoblab's experiments. A Talos model function runs unchanged::

    def build_and_fit(x_train, y_train, x_val, y_val, params):
        model = keras.Sequential([...])
        model.compile(optimizer=params["optimizer"], loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x_train, y_train, validation_data=(x_val, y_val),
                            epochs=params["epochs"], batch_size=params["batch_size"], verbose=0)
        return history, model

    scan = kl.Scan(x, y, params=space, model=build_and_fit, experiment_name="breast_cancer",
                   fraction_limit=0.01, metric="val_accuracy")

While a trial runs, every `Model.fit` in it gets knoblab's reporting callback added (so each epoch is stored
as it happens and the trial can be stopped). To add it yourself instead, pass `callbacks=kl.keras.callbacks()`
to `fit` and `hook_fit=False` to Scan: that one argument is the only change a model function ever needs.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from ..experiment import Experiment
from ..observations import reached
from ..reprs import experiment_html
from ..schedulers import Hyperband
from ..selection import ranked, sort_key, tie_breaker
from ..space import Space, as_space
from ..stopping import StopRule, direction_of
from ..storage import Storage, open_storage
from ..trial import FrozenTrial, ObjectiveSetupError, Trial, TrialPruned, TrialState
from . import hygiene
from .callbacks import Reporter
from .cost import EXTRA_METRICS, inference_latency, parameter_count
from .ensemble import Ensemble
from .pbt import prepare as prepare_resume

__all__ = ["Scan", "callbacks", "ModelFunctionError"]

ModelFunction = Callable[[Any, Any, Any, Any, dict[str, Any]], tuple[Any, Any]]

_active_reporter: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar("knoblab_reporter", default=None)


class ModelFunctionError(ObjectiveSetupError, TypeError):
    """The model function broke the Talos contract `(x_train, y_train, x_val, y_val, params) -> (history, model)`."""


def callbacks() -> list[keras.callbacks.Callback]:
    """The callbacks of the running trial, for `model.fit(..., callbacks=kl.keras.callbacks())`.

    Empty outside a Scan trial, so a model function that passes it still runs on its own."""
    reporter = _active_reporter.get()
    return [reporter] if reporter is not None else []


def _install_fit_hook() -> None:
    """Wraps `keras.Model.fit` once per process so that, inside a trial, the trial's reporter joins the
    callbacks. Outside a trial (no active reporter) the wrapper changes nothing."""
    if getattr(keras.Model.fit, "_knoblab_hook", False):
        return
    original = keras.Model.fit

    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        reporter = _active_reporter.get()
        if reporter is not None:
            if len(args) > 5:  # fit(x, y, batch_size, epochs, verbose, callbacks, ...)
                args = (*args[:5], _with(args[5], reporter), *args[6:])
            else:
                kwargs["callbacks"] = _with(kwargs.get("callbacks"), reporter)
            if reporter.start_step and len(args) <= 11:  # a continuation (see knoblab.keras.pbt)
                kwargs.setdefault("initial_epoch", reporter.start_step)
        return original(self, *args, **kwargs)

    fit.__dict__["_knoblab_hook"] = True  # marks this wrapper for the check above (a function attribute, untyped)
    keras.Model.fit = fit


def _with(cbs: Any, reporter: Reporter) -> list:
    if cbs is None:
        cbs = []
    elif not isinstance(cbs, list | tuple):
        cbs = [cbs]
    cbs = list(cbs)
    if not any(cb is reporter for cb in cbs):
        cbs.append(reporter)
    return cbs


class _KerasObjective:
    """One Scan trial: seed, fit through the user's model function, summarize, keep the best k models.

    A class rather than a closure, so it pickles for process workers when the model function is importable."""

    def __init__(self, scan: Scan):
        self.model_fn = scan.model_fn
        self.data = scan._data
        self.metric, self.direction = scan.monitor, scan.monitor_direction  # the epoch metric a trial is judged by
        self.extra_metrics = list(scan.extra_metrics)
        self.rules = scan.stop
        self.restore_best_weights = scan.restore_best_weights
        self.objective_epoch = scan.objective_epoch
        self.smooth = scan.smooth
        self.tie = tie_breaker(scan.monitor)
        self.several = not isinstance(scan.metric, str)  # several objectives: no single value to rank kept models by
        self.keep_models = scan.keep_models
        self.artifacts_dir = scan.artifacts_dir
        self.threads = scan.threads
        self.hook_fit = scan.hook_fit
        self.experiment_id = scan.experiment.id

    def __call__(self, trial: Trial) -> dict[str, Any]:
        hygiene.limit_threads(self.threads)
        hygiene.start_trial()
        hygiene.seed_trial(trial.seed)
        try:
            return self._run(trial)
        finally:  # after _run returned: its model and history are no longer referenced, so they are collected
            hygiene.clean_up()

    def reporter(self, trial: Trial | None) -> Reporter:
        """The reporting callback of one trial (or of a cross-validation fit: trial None)."""
        return Reporter(
            trial, self.metric, self.direction, self.rules, self.restore_best_weights, smooth=self.smooth, tie=self.tie
        )

    def _run(self, trial: Trial) -> dict[str, Any]:
        if self.hook_fit:
            _install_fit_hook()
        reporter = self.reporter(trial)
        prepare_resume(trial, reporter, self.artifacts_dir)
        token = _active_reporter.set(reporter)
        try:
            x_train, y_train, x_val, y_val = self.data
            started = time.perf_counter()
            out = self.model_fn(x_train, y_train, x_val, y_val, trial.params)
            train_seconds = time.perf_counter() - started
            history, model = _check_return(out)
            if not reporter.epochs:  # the reporter never ran (a custom loop, or hook_fit=False without it)
                _replay(reporter, history)
            summary = reporter.summary(self.objective_epoch)
            if reporter.pruned:  # paused at a rung, stopped by a scheduler or by the budget: the value of its epochs
                if self.keep_models > 0 and summary:
                    attrs = trial.freeze().attrs
                    if attrs.get("paused_at") is not None or attrs.get("stopped_by") is not None:
                        # a candidate for best only if nothing completes (a budget that ends mid-bracket)
                        self._keep_if_top(trial, model, summary, TrialState.PRUNED, reporter)
                raise TrialPruned(reporter.stop_reason, result=summary or None)
            # measured on the trained model once it completes (several objectives, outcome constraints)
            if "params" in self.extra_metrics:
                summary["params"] = parameter_count(model)
            if "latency" in self.extra_metrics:
                summary["latency"] = inference_latency(model, x_val)
            if "train_seconds" in self.extra_metrics:
                summary["train_seconds"] = train_seconds
            if self.keep_models > 0:
                self._keep_if_top(trial, model, summary, TrialState.COMPLETE, reporter)
            return summary
        finally:
            _active_reporter.reset(token)

    def _keep_if_top(
        self, trial: Trial, model: keras.Model, summary: dict[str, Any], state: TrialState, reporter: Reporter
    ) -> None:
        """Saves the model when the trial is among the best `keep_models` by the selection rule
        (`knoblab.selection`), and deletes the file of the one it displaces."""
        value = summary.get(self.metric)
        if value is None or not math.isfinite(value):
            return
        storage = trial._storage
        mine = FrozenTrial(
            trial.id,
            trial.number,
            state,
            trial.params,
            float(value),
            summary,
            attrs={"reached": reporter.start_step + len(reporter.epochs)},
        )

        def key(t: FrozenTrial) -> tuple:
            if self.several:  # no single value: ranked by the epoch metric (the first logged objective)
                t = dataclasses.replace(t, value=t.metrics.get(self.metric))
            return sort_key(t, self.metric, self.direction)

        others = storage.get_trials(self.experiment_id)
        kept = sorted((t for t in others if t.attrs.get("model_path") and t.id != trial.id), key=key)
        if len(kept) >= self.keep_models and key(mine) >= key(kept[self.keep_models - 1]):
            return  # not better than the k-th best kept model
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        # absolute, so best_model() and export_best() work from any working folder
        path = (self.artifacts_dir / f"trial_{trial.number:05d}.keras").resolve()
        try:
            model.save(path)
        except Exception as e:  # an unserializable custom layer must not fail a good trial
            warnings.warn(
                f"trial {trial.number}: the model could not be saved ({e}); best_model() will not have it", stacklevel=2
            )
            trial.set_attr("model_error", str(e))
            return
        trial.set_attr("model_path", str(path))
        for old in kept[self.keep_models - 1 :]:  # this one joins the top k: the k-th best drops out
            Path(old.attrs["model_path"]).unlink(missing_ok=True)
            storage.set_attrs(old.id, {"model_path": None})


def _check_return(out: Any) -> tuple[Any, keras.Model]:
    if not (isinstance(out, tuple | list) and len(out) == 2):
        raise ModelFunctionError(
            f"the model function returned {type(out).__name__}; it must return (history, model) as in Talos: "
            "`history = model.fit(...); return history, model`"
        )
    history, model = out
    if not isinstance(model, keras.Model):
        raise ModelFunctionError(
            f"the model function's second return value is a {type(model).__name__}, "
            "not a keras.Model; return (history, model)"
        )
    if not (isinstance(history, keras.callbacks.History | Mapping)):
        raise ModelFunctionError(
            f"the model function's first return value is a {type(history).__name__}; "
            "return the History that model.fit gives (or its .history dict)"
        )
    return history, model


def _replay(reporter: Reporter, history: Any) -> None:
    """Stores a finished fit's per-epoch history when the reporter did not see it happen."""
    logs = history.history if isinstance(history, keras.callbacks.History) else dict(history)
    n = max((len(v) for v in logs.values()), default=0)
    reporter.restore_best_weights = False  # too late: the weights are the last epoch's
    for epoch in range(n):
        reporter.record({k: v[epoch] for k, v in logs.items() if epoch < len(v)})


class Scan:
    """A Talos-style scan: data, a dict of knobs and a model function in; a stored experiment out.

    Args:
        x, y: the training data; the scan splits a validation set off it unless x_val/y_val are given.
            Keep your test set out of the scan: it must never see it.
        params: the dict of knobs (see `knoblab.space`): lists, (low, high, n) tuples, kl.Real, kl.Branch, ...
        model: `model(x_train, y_train, x_val, y_val, params) -> (history, model)`, exactly as in Talos.
        experiment_name: the experiment's name in storage; rerunning the script continues it.
        val_split: the fraction of (x, y) held out for validation when x_val is not given.
        shuffle: shuffle before splitting (False: the last rows validate, as time series need).
        metric: the epoch metric to optimize, e.g. "val_accuracy", "val_loss", "val_f1"; or a list for several
            objectives, e.g. ["val_accuracy", "params"] (see `pareto_front`). With several, a trial's epoch is chosen
            by the first metric Keras logs, and the others are read at that epoch.
        direction: "min" or "max", one per metric with several (default: inferred from each metric's name).
        constraints: outcome constraints on a trial's metrics, e.g. ["params <= 100000"] (see `knoblab.objectives`):
            trials that break one are stored, shown, and never best nor on the Pareto front.
        extra_metrics: metrics measured on each trial's model and added to its metrics: "params" (parameter count),
            "latency" (seconds per sample of inference on validation rows, measured) and "train_seconds" (see
            `knoblab.keras.cost`). Default: those that `metric` or `constraints` name.
        objective: how a trial's epochs become its value. "auto" (the default): "smooth" for a metric that is
            maximized (accuracy, AUC, F1: coarse on a small validation set), else "best". "smooth": the best mean
            of the metric over `smooth_epochs` consecutive epochs (and of val_loss, which breaks ties);
            "best": the metric at its best epoch; "last": at the last epoch. With restore_best_weights the model
            keeps the weights of the chosen epoch (the last of the best window). With several objectives this is
            about the first one Keras logs.
        smooth_epochs: the window of "smooth" (default 3).
        n_trials / round_limit: the experiment's total number of trials (round_limit is Talos' name).
        epoch_budget: the experiment's total of training epochs, over every trial (promoted, paused or stopped
            ones alike), counted from storage so a rerun continues it; a running trial is stopped at the epoch
            that spends it (see `Experiment.optimize`'s max_resource). With the default scheduler it also sizes
            the multi-fidelity schedule (below).
        fraction_limit: a fraction of the finite grid to try, e.g. 0.01 of 180,000 permutations.
        time_limit: seconds (or a "YYYY-MM-DD HH:MM" end time, as in Talos).
        target (or performance_target): stop once the metric reaches it.
        stop: per-trial early-stopping rules (knoblab.stopping: Patience, Threshold, StopOnNaN, TimeBudget).
        restore_best_weights: keep the weights of the best epoch in the returned and saved model.
        keep_models: how many of the best trials keep their `.keras` file on disk (0: none).
        artifacts_dir: where models go (default ./knoblab_artifacts/<experiment_name>).
        threads: compute threads per trial (default 1; None leaves the backend's default).
        hook_fit: add the reporting callback to every `fit` automatically (see the module docstring).
        scheduler: "auto" (the default) picks multi-fidelity when it pays: with an epoch_budget that allows fewer
            than MULTI_FIDELITY_MAX_FULL_TRIALS full trials of a fixed `epochs` knob of at least
            MULTI_FIDELITY_MIN_EPOCHS, Hyperband in promotion mode with brackets sized to the budget
            (`Hyperband.for_budget`): trials train to a rung and pause, the best go on from their saved weights
            and optimizer state (never retrained from scratch), and the best trial is chosen among those that
            reached the last epoch. Otherwise none (every trial trains in full). The choice is stored with the
            experiment, so a rerun keeps it. None, a name or an instance as for `knoblab.Experiment`.
        strategy: as for `knoblab.Experiment`; "auto" (the default) learns from the rung results with a scheduler
            (TPE on every trial, ranked by the epochs it reached, BOHB-like).
        select: how the best trial is chosen (see `knoblab.selection`). "value" (the default): the best value
            among the trials that trained in full, ties broken by val_loss. "cv": besides, when a run ends, the top
            `cv_top` of them are retrained with `cv_folds`-fold cross-validation on the development data (the
            training and validation rows together; the same objective, each fold's rows validating), stored as
            trial attrs (`cv_mean`, `cv_std`, `cv_tie_mean`, `cv`), and the best is the one with the best CV mean,
            means within one standard error of it counting as tied and broken by the CV mean of val_loss. Those
            fits are not trials and do not count against epoch_budget. `refit()` then trains the winner on every
            development row.
        storage, seed, n_jobs: as for `knoblab.Experiment`.
        gpus: the GPUs each worker sees, as for `Experiment.optimize`: "auto", [0, 1], 0.5 (two trials per device),
            0 (CPU only), or None to leave the environment alone.
        callbacks: `fn(experiment, finished_trial)` after each trial, as for `Experiment.optimize` (e.g.
            `knoblab.tracking.TensorBoardCallback`, `MLflowCallback`).
        run: start the search at once (as Talos does); False to call `scan.run()` later.
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        params: Mapping[str, Any] | Space,
        model: ModelFunction,
        experiment_name: str,
        x_val: Any = None,
        y_val: Any = None,
        val_split: float = 0.3,
        *,
        shuffle: bool = True,
        metric: str | list[str] = "val_loss",
        direction: str | list[str] | None = None,
        constraints: Any = None,
        extra_metrics: Iterable[str] | None = None,
        objective: str = "auto",
        smooth_epochs: int = 3,
        n_trials: int | None = None,
        round_limit: int | None = None,
        epoch_budget: int | None = None,
        fraction_limit: float | None = None,
        time_limit: float | str | None = None,
        target: float | None = None,
        performance_target: float | None = None,
        stop: Iterable[StopRule] = (),
        restore_best_weights: bool = True,
        keep_models: int = 3,
        artifacts_dir: str | Path | None = None,
        threads: int | None = 1,
        hook_fit: bool = True,
        strategy: Any = "auto",
        scheduler: Any = "auto",
        select: str = "value",
        cv_top: int = 5,
        cv_folds: int = 5,
        storage: str | Storage | None = None,
        seed: int | None = None,
        n_jobs: int = 1,
        show_progress: bool | None = None,
        custom_objects: Mapping[str, Any] | None = None,
        callbacks: Iterable[Callable[[Experiment, FrozenTrial], Any]] = (),
        gpus: Any = None,
        run: bool = True,
    ):
        if not callable(model):
            raise ValueError(
                f"model: got {type(model).__name__}; give a function "
                "model(x_train, y_train, x_val, y_val, params) -> (history, model)"
            )
        if objective not in OBJECTIVES:
            raise ValueError(f"objective: got {objective!r}; allowed: {', '.join(map(repr, OBJECTIVES))}")
        if not (isinstance(smooth_epochs, int) and not isinstance(smooth_epochs, bool) and smooth_epochs >= 1):
            raise ValueError(f"smooth_epochs: got {smooth_epochs!r}; give an integer >= 1")
        if n_trials is not None and round_limit is not None and n_trials != round_limit:
            raise ValueError(f"n_trials={n_trials} and round_limit={round_limit} disagree; give one")
        if epoch_budget is not None and not (
            isinstance(epoch_budget, int) and not isinstance(epoch_budget, bool) and epoch_budget >= 1
        ):
            raise ValueError(f"epoch_budget: got {epoch_budget!r}; give an integer >= 1 (epochs over all trials)")
        if target is not None and performance_target is not None and target != performance_target:
            raise ValueError(f"target={target} and performance_target={performance_target} disagree; give one")
        if not (isinstance(keep_models, int) and keep_models >= 0):
            raise ValueError(f"keep_models: got {keep_models!r}; give an integer >= 0")
        if threads is not None and not (isinstance(threads, int) and threads >= 1):
            raise ValueError(f"threads: got {threads!r}; give an integer >= 1 or None")
        if select not in ("value", "cv"):
            raise ValueError(f"select: got {select!r}; allowed: 'value' or 'cv'")
        for name, v, low in (("cv_top", cv_top, 1), ("cv_folds", cv_folds, 2)):
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= low):
                raise ValueError(f"{name}: got {v!r}; give an integer >= {low}")
        stop = list(stop)
        for rule in stop:
            if not isinstance(rule, StopRule):
                raise ValueError(f"stop: got {rule!r}; give rules from knoblab.stopping (Patience, Threshold, ...)")
        self.model_fn = model
        metrics = [metric] if isinstance(metric, str) else list(metric)
        self.extra_metrics = _extra_metrics(extra_metrics, metrics, constraints)
        if direction is None:
            directions = [EXTRA_METRICS.get(m) or direction_of(m) for m in metrics]
        else:
            directions = [direction] if isinstance(direction, str) else list(direction)
        logged = [(m, d) for m, d in zip(metrics, directions) if m not in self.extra_metrics]
        if not logged:
            raise ValueError(f"metric: got {metrics}; at least one must be a metric Keras logs (e.g. 'val_accuracy')")
        if select == "cv" and len(metrics) > 1:
            raise ValueError(
                f"select: 'cv' picks one best trial, but metric {metrics} has several objectives (no single best: "
                "see scan.pareto_front); use select='value' (the default)"
            )
        self.metric = metric if isinstance(metric, str) else metrics
        self.direction = directions[0] if isinstance(metric, str) else directions
        self.monitor, self.monitor_direction = logged[0]  # the metric that picks a trial's epoch
        if objective == "auto":
            objective = "smooth" if self.monitor_direction == "max" else "best"
        self.objective = objective
        self.objective_epoch = "last" if objective == "last" else "best"
        self.smooth = smooth_epochs if objective == "smooth" else 1
        self.stop = stop
        self.restore_best_weights = restore_best_weights
        self.select, self.cv_top, self.cv_folds = select, cv_top, cv_folds
        # with select="cv" the cross-validated top k keep their models, so the winner's is on disk
        self.keep_models = max(keep_models, cv_top) if select == "cv" and keep_models > 0 else keep_models
        self.threads = threads
        self.hook_fit = hook_fit
        self.custom_objects = dict(custom_objects or {})
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir else Path("knoblab_artifacts") / experiment_name
        self.n_trials = n_trials if n_trials is not None else round_limit
        self.epoch_budget = epoch_budget
        self.fraction_limit = fraction_limit
        self.time_limit = _seconds(time_limit)
        self.target = target if target is not None else performance_target
        self.n_jobs = n_jobs
        self.show_progress = show_progress
        self.callbacks = list(callbacks)
        self.gpus = gpus
        _check_data(x, y, x_val, y_val, val_split)
        space = as_space(params)
        store = open_storage(storage)
        auto = isinstance(scheduler, str) and scheduler == "auto"
        if auto:
            scheduler, self.schedule = _default_schedule(store, experiment_name, space, epoch_budget, hook_fit)
        else:
            self.schedule = None
        if scheduler is not None and metrics[0] in self.extra_metrics:  # schedulers decide on the first objective
            if not auto:
                raise ValueError(
                    f"metric: {metrics[0]!r} comes first, but schedulers stop trials on the first metric and it is "
                    f"only measured once a trial ends; put a metric Keras logs first, e.g. {[logged[0][0], metrics[0]]}"
                )
            why = f"the first objective, {metrics[0]!r}, is measured once a trial ends"
            scheduler, self.schedule = None, {"scheduler": None, "why": why}
        self.experiment = Experiment(
            experiment_name,
            space,
            metric=metric,
            direction=self.direction,
            strategy=strategy,
            scheduler=scheduler,
            storage=store,
            seed=seed,
            constraints=constraints,
        )
        if self.schedule is not None and "scan_schedule" not in self.experiment.record.attrs:
            self.experiment.storage.set_experiment_attrs(self.experiment.id, {"scan_schedule": self.schedule})
        # split with the experiment's stored seed: a rerun of the script validates on the very same rows
        self._data = _split(x, y, x_val, y_val, val_split, shuffle, self.experiment.seed)
        if run:
            self.run()

    def run(
        self, n_trials: int | None = None, time_limit: float | None = None, epoch_budget: int | None = None
    ) -> Scan:
        """Runs (or continues) the search; budgets are the experiment's totals. When it ends, the checkpoints of
        paused trials that no queued or running trial resumes from are deleted (a scheduler made with
        `keep_checkpoints=True` keeps them): a later run that promotes one trains it from scratch. With
        select="cv", the top trials are then cross-validated (those already cross-validated are not again)."""
        n_trials = n_trials if n_trials is not None else self.n_trials
        epoch_budget = epoch_budget if epoch_budget is not None else self.epoch_budget
        budgets = (n_trials, epoch_budget, self.fraction_limit, self.time_limit, self.target)
        if all(b is None for b in budgets) and not self.experiment.space.is_finite:
            raise ValueError(
                "give a budget: n_trials (round_limit), epoch_budget, fraction_limit, time_limit or target"
            )
        try:
            self.experiment.optimize(
                _KerasObjective(self),
                n_trials=n_trials,
                time_limit=time_limit or self.time_limit,
                n_jobs=self.n_jobs,
                fraction_limit=self.fraction_limit,
                target=self.target,
                show_progress=self.show_progress,
                callbacks=self.callbacks,
                gpus=self.gpus,
                max_resource=epoch_budget,
            )
            release = getattr(self.experiment.scheduler, "release_checkpoints", None)
            if release is not None:  # paused trials' checkpoints nothing will resume from (unless keep_checkpoints)
                release(self.experiment)
            if self.select == "cv":
                self.cross_validate()
        finally:
            hygiene.release()
        return self

    def cross_validate(self, k: int | None = None, folds: int | None = None) -> pd.DataFrame:
        """Retrains the top k trials (default cv_top; by value, among the trials that trained in full) on `folds`
        folds of the development data and stores each one's scores as trial attrs (`cv_mean`, `cv_std`,
        `cv_tie_mean`, `cv`): from then on the best is the one with the best CV mean, ties within one standard
        error broken by the tie-breaker's CV mean (`knoblab.selection`). One row per trial."""
        return _cross_validate(self, k or self.cv_top, folds or self.cv_folds)

    @property
    def selection(self) -> str:
        """How the best trial was chosen, in one sentence (the rule of `knoblab.selection` applied to this scan)."""
        return _describe_selection(self)

    # ---- results ----
    @property
    def data(self) -> pd.DataFrame:
        """One row per trial: knobs, the metrics at the chosen epoch, `last_*` metrics, best epoch, duration."""
        return self.experiment.results

    @property
    def best(self) -> FrozenTrial:
        """The best COMPLETE trial."""
        return self.experiment.best

    @property
    def pareto_front(self) -> list[FrozenTrial]:
        """Several objectives: the trials no other beats in every objective (see `Experiment.pareto_front`)."""
        return self.experiment.pareto_front

    @property
    def best_params(self) -> dict[str, Any]:
        """The best trial's knobs."""
        return dict(self.experiment.best.params)

    def history(self, number: int | None = None) -> pd.DataFrame:
        """The per-epoch metrics of one trial (default: the best), one row per epoch."""
        trial = self.experiment.best if number is None else self.experiment.trial(number, with_reports=False)
        reports = self.experiment.storage.get_reports([trial.id]).get(trial.id, [])
        return pd.DataFrame([{"epoch": step, **m} for step, m in reports])

    def best_model(self, custom_objects: Mapping[str, Any] | None = None, number: int | None = None) -> keras.Model:
        """The best trial's model (or trial `number`'s, e.g. one on the Pareto front), reloaded from its saved
        `.keras` file (Keras safe mode)."""
        best = self.experiment.best if number is None else self.experiment.trial(number, with_reports=False)
        path = best.attrs.get("model_path")
        if not path or not Path(path).exists():
            kept = [t.number for t in self.experiment.trials if t.attrs.get("model_path")]
            raise FileNotFoundError(
                f"the best trial ({best.number}) has no saved model (keep_models={self.keep_models}; "
                f"trials with models: {kept}); its params are scan.best_params, to retrain"
            )
        objects = {**self.custom_objects, **(custom_objects or {})}
        return keras.saving.load_model(path, custom_objects=objects or None, safe_mode=True)

    def refit(self, epochs: int | None = None, number: int | None = None) -> keras.Model:
        """The best trial's params (or trial `number`'s) trained again on all the development rows (training and
        validation together), for `epochs` epochs (default: as many as its chosen epoch took, `best_epoch + 1`,
        or, when it was cross-validated, the median of the epochs its folds chose, + 1), from its seed: a final
        model that learns from the rows that only validated during the search. Nothing is stored and nothing is
        stopped early; the model function gets the development rows as its validation data too, so the
        validation metrics Keras logs in this fit are training metrics and mean nothing."""
        trial = self.experiment.best if number is None else self.experiment.trial(number, with_reports=False)
        chosen = [e for e in (trial.attrs.get("cv") or {}).get("best_epochs") or [] if e is not None]
        if epochs is None and chosen:  # cross-validated: the median epoch its folds chose
            epochs = int(np.median(chosen)) + 1
        elif epochs is None:
            epochs = int(trial.metrics.get("best_epoch", (trial.params.get("epochs") or 1) - 1)) + 1
        if not (isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1):
            raise ValueError(f"epochs: got {epochs!r}; give an integer >= 1 or None")
        x_train, y_train, x_val, y_val = self._data
        x_dev, y_dev = _concat(x_train, x_val), _concat(y_train, y_val)
        params = {**trial.params, "epochs": epochs}
        hygiene.limit_threads(self.threads)
        hygiene.seed_trial(trial.seed)
        _, model = _check_return(self.model_fn(x_dev, y_dev, x_dev, y_dev, params))
        return model

    def ensemble(self, k: int = 5, refit: bool = True) -> Ensemble:
        """The top k trials in the selection order (`knoblab.selection`: the best first), as one model whose
        `predict` averages theirs. refit=True retrains each on all the development rows (`refit`); False reloads
        the models the search saved (keep_models must be at least k). Nothing here reads a test row."""
        if not (isinstance(k, int) and not isinstance(k, bool) and k >= 1):
            raise ValueError(f"k: got {k!r}; give an integer >= 1")
        exp = self.experiment
        if len(exp.metrics) > 1:
            raise ValueError(
                f"ensemble: the top k follow one objective, but {exp.name!r} has {len(exp.metrics)} "
                f"({exp.metrics}); pick trials from scan.pareto_front and refit(number=...) them"
            )
        order = ranked(exp.storage.get_trials(exp.id), exp.metric, exp.direction)
        complete = [t for t in order if t.state == TrialState.COMPLETE]
        top = (complete or order)[:k]  # those that trained in full, when any did
        if not top:
            raise ValueError(f"experiment {exp.name!r} has no COMPLETE trial yet")
        if refit:
            return Ensemble([self.refit(number=t.number) for t in top], [t.number for t in top])
        missing = [t.number for t in top if not (t.attrs.get("model_path") and Path(t.attrs["model_path"]).exists())]
        if missing:
            raise FileNotFoundError(
                f"trials {missing} of the top {k} have no saved model (keep_models={self.keep_models}); "
                f"use refit=True, or scan with keep_models >= {k}"
            )
        objects = self.custom_objects or None
        models = [keras.saving.load_model(t.attrs["model_path"], custom_objects=objects, safe_mode=True) for t in top]
        return Ensemble(models, [t.number for t in top])

    # ---- analysis and honest evaluation (knoblab.analysis) ----
    def analyze(self, rounds: Any = None, **kwargs: Any):
        """Correlations, importances, per-value summaries, overfitting, entropy: see `knoblab.analysis`."""
        return self.experiment.analyze(rounds, **kwargs)

    def evaluate_best(self, k: int, x_test: Any, y_test: Any, **kwargs: Any) -> pd.DataFrame:
        """The best k models scored on a test set the scan never saw (warns if its rows are in the scan's data)."""
        kwargs.setdefault("custom_objects", self.custom_objects)
        kwargs.setdefault("search_data", (self._data[0], self._data[2]))
        return self.experiment.evaluate_best(k, x_test, y_test, **kwargs)

    def _repr_html_(self) -> str:  # notebooks: the experiment's view (knoblab.reprs)
        return experiment_html(self.experiment)

    def __repr__(self) -> str:
        return f"Scan({self.experiment.name!r}, metric={self.metric!r}, trials={len(self.experiment.trials)})"


def _extra_metrics(given: Iterable[str] | None, metrics: list[str], constraints: Any) -> list[str]:
    """The extra metrics to measure: as given (checked), else those the objectives or string constraints name."""
    if given is not None:
        out = [given] if isinstance(given, str) else list(given)
        for m in out:
            if m not in EXTRA_METRICS:
                raise ValueError(f"extra_metrics: got {m!r}; allowed: {sorted(EXTRA_METRICS)}")
        return out
    from ..objectives import OutcomeConstraints

    named = set(metrics) | set(OutcomeConstraints(constraints).metrics())
    return [m for m in EXTRA_METRICS if m in named]


def _seconds(time_limit: float | str | None) -> float | None:
    if time_limit is None or isinstance(time_limit, int | float):
        return time_limit
    try:
        end = datetime.strptime(time_limit, "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"time_limit: got {time_limit!r}; give seconds or 'YYYY-MM-DD HH:MM'") from None
    seconds = (end - datetime.now()).total_seconds()
    if seconds <= 0:
        raise ValueError(f"time_limit: {time_limit!r} is in the past")
    return seconds


def _rows(a: Any) -> int:
    return len(a)


def _take(a: Any, index: np.ndarray) -> Any:
    if isinstance(a, pd.DataFrame | pd.Series):
        return a.iloc[index]
    if isinstance(a, Mapping):  # inputs or outputs by layer name
        return {k: _take(v, index) for k, v in a.items()}
    if isinstance(a, list | tuple) and a and hasattr(a[0], "__len__") and not isinstance(a[0], str):
        return type(a)(_take(part, index) for part in a)  # multi-input (or multi-output) models: a list of arrays
    return np.asarray(a)[index]


def _n_rows(x: Any) -> int:
    """Rows of a data argument: an array, or a list or dict of arrays (one per input or output of the model)."""
    if isinstance(x, Mapping) and x:
        return _n_rows(next(iter(x.values())))
    return _rows(x[0]) if isinstance(x, list | tuple) and x and hasattr(x[0], "__len__") else _rows(x)


def _check_data(x, y, x_val, y_val, val_split) -> None:
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither (then val_split holds out part of x, y)")
    n = _n_rows(x)
    if _n_rows(y) != n:
        raise ValueError(f"x has {n} rows but y has {_n_rows(y)}")
    if x_val is not None:
        if _n_rows(x_val) != _n_rows(y_val):
            raise ValueError(f"x_val has {_n_rows(x_val)} rows but y_val has {_n_rows(y_val)}")
        return
    if not 0 < val_split < 1:
        raise ValueError(f"val_split: got {val_split!r}; give a fraction in (0, 1)")
    n_val = int(round(n * val_split))
    if n_val < 1 or n_val >= n:
        raise ValueError(f"val_split={val_split} of {n} rows leaves no training or validation rows")


def _split(x, y, x_val, y_val, val_split, shuffle, seed):
    """(x_train, y_train, x_val, y_val): the given validation data, or a seeded split of (x, y)."""
    if x_val is not None:
        return x, y, x_val, y_val
    n = _n_rows(x)
    n_val = int(round(n * val_split))
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    train, val = np.sort(order[:-n_val]), np.sort(order[-n_val:])
    return _take(x, train), _take(y, train), _take(x, val), _take(y, val)


# ---- the default schedule (multi-fidelity when it pays) ----
OBJECTIVES = ("auto", "smooth", "best", "last")
#: Scan's default scheduler is multi-fidelity only for trials of at least this many epochs ...
MULTI_FIDELITY_MIN_EPOCHS = 9
#: ... and an epoch budget of fewer full trials than this (with more, full-length model-based search does well)
MULTI_FIDELITY_MAX_FULL_TRIALS = 30


def _fixed_epochs(space: Space) -> int | None:
    value = getattr(space.all_knobs().get("epochs"), "value", None)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _default_schedule(
    storage: Storage, name: str, space: Space, epoch_budget: int | None, hook_fit: bool
) -> tuple[Any, dict[str, Any] | None]:
    """scheduler="auto": (the scheduler, the record of the choice stored with the experiment). A stored choice is
    kept, so a rerun with another budget continues the schedule it started with."""
    record = storage.get_experiment(name)
    stored = record.attrs.get("scan_schedule") if record is not None else None
    if stored is not None:
        return _scheduler_from(stored), stored
    if epoch_budget is None:
        return None, None  # n_trials counts full trials: no budget in epochs to size brackets to
    epochs = _fixed_epochs(space)
    if epochs is None or epochs < MULTI_FIDELITY_MIN_EPOCHS:
        why = f"trials of {epochs} epochs" if epochs else "no fixed 'epochs' knob"
        return None, {"scheduler": None, "why": why}
    full = epoch_budget / epochs
    if full >= MULTI_FIDELITY_MAX_FULL_TRIALS:
        return None, {"scheduler": None, "why": f"the budget allows {full:.0f} full trials"}
    from ..schedulers.hyperband import plan_brackets

    plan = plan_brackets(epochs, epoch_budget)
    if plan is None:
        return None, {"scheduler": None, "why": f"the budget allows only {full:.1f} full trials"}
    chosen = {
        "scheduler": "hyperband",
        "mode": "promote" if hook_fit else "stop",  # without the fit hook a continuation cannot resume
        "max_resource": epochs,
        "epoch_budget": epoch_budget,
        **plan,
    }
    return _scheduler_from(chosen), chosen


def _scheduler_from(record: Mapping[str, Any]) -> Any:
    if record.get("scheduler") != "hyperband":
        return None
    return Hyperband(
        reduction_factor=int(record["reduction_factor"]),
        min_resource=int(record["min_resource"]),
        max_resource=int(record["max_resource"]),
        n_brackets=int(record["n_brackets"]),
        mode=record.get("mode", "promote"),
    )


# ---- select="cv" ----
def _concat(a: Any, b: Any) -> Any:
    if isinstance(a, pd.DataFrame | pd.Series):
        return pd.concat([a, b])
    if isinstance(a, list | tuple) and a and hasattr(a[0], "__len__") and not isinstance(a[0], str):
        return type(a)(_concat(p, q) for p, q in zip(a, b))  # multi-input models: a list of arrays
    return np.concatenate([np.asarray(a), np.asarray(b)])


def _fold_indices(y: Any, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) row indices of `folds` folds; stratified for class labels (each class dealt evenly)."""
    labels = np.asarray(y)
    n = len(labels)
    if folds > n:
        raise ValueError(f"cv_folds={folds} is more than the {n} development rows")
    rng = np.random.default_rng([int(seed), 17])
    flat = labels.reshape(n, -1)
    classes = flat.argmax(axis=1) if flat.shape[1] > 1 else flat[:, 0]  # one-hot rows by their class
    is_labels = np.all(np.mod(classes, 1) == 0) and len(np.unique(classes)) <= max(20, n // folds)
    fold_of = np.empty(n, dtype=int)
    if is_labels:
        start = 0
        for c in np.unique(classes):
            rows = rng.permutation(np.flatnonzero(classes == c))
            fold_of[rows] = (start + np.arange(len(rows))) % folds
            start += len(rows)
    else:
        fold_of[rng.permutation(n)] = np.arange(n) % folds
    return [(np.flatnonzero(fold_of != i), np.flatnonzero(fold_of == i)) for i in range(folds)]


def _fit_fold(objective: _KerasObjective, params: dict[str, Any], data: tuple[Any, Any, Any, Any]) -> dict[str, Any]:
    """One cross-validation fit, scored as a trial is (its objective on the fold's validation rows): the metric, the
    tie-breaker, the chosen epoch and the epochs trained."""
    if objective.hook_fit:
        _install_fit_hook()
    reporter = objective.reporter(None)
    token = _active_reporter.set(reporter)
    try:
        history, _ = _check_return(objective.model_fn(*data, params))
        if not reporter.epochs:
            _replay(reporter, history)
        summary = reporter.summary(objective.objective_epoch)
    finally:
        _active_reporter.reset(token)

    def finite(v: Any) -> float | None:
        return float(v) if v is not None and math.isfinite(v) else None

    return {
        "score": finite(summary.get(objective.metric)),
        "tie": finite(summary.get(objective.tie)) if objective.tie else None,
        "best_epoch": summary.get("best_epoch"),
        "epochs": len(reporter.epochs),
    }


def _mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation, or (None, None) when a fold has no value (it diverged)."""
    present = [v for v in values if v is not None]
    if not present or len(present) < len(values):
        return None, None
    return float(np.mean(present)), float(np.std(present, ddof=1)) if len(present) > 1 else 0.0


def _cross_validate(scan: Scan, k: int, folds: int) -> pd.DataFrame:
    exp = scan.experiment
    x_train, y_train, x_val, y_val = scan._data
    x_dev, y_dev = _concat(x_train, x_val), _concat(y_train, y_val)
    splits = _fold_indices(y_dev, folds, exp.seed)
    objective = _KerasObjective(scan)
    rows = []
    for t in ranked(exp.storage.get_trials(exp.id), exp.metric, exp.direction, use_cv=False)[:k]:
        record = t.attrs.get("cv") or {}
        if not (record.get("folds") == folds and record.get("metric") == exp.metric):
            fits = []
            for i, (train, val) in enumerate(splits):
                hygiene.limit_threads(scan.threads)
                hygiene.start_trial()
                hygiene.seed_trial((int(t.seed or 0) + i) % 2**32)
                try:
                    data = (_take(x_dev, train), _take(y_dev, train), _take(x_dev, val), _take(y_dev, val))
                    fits.append(_fit_fold(objective, dict(t.params), data))
                finally:
                    hygiene.clean_up()
            record = {
                "metric": exp.metric,
                "folds": folds,
                "scores": [f["score"] for f in fits],
                "tie": objective.tie,
                "tie_scores": [f["tie"] for f in fits] if objective.tie else None,
                "best_epochs": [f["best_epoch"] for f in fits],
                "epochs": sum(f["epochs"] for f in fits),
                "rows": len(y_dev),
            }
            mean, std = _mean_std(record["scores"])
            tie_mean = _mean_std(record["tie_scores"])[0] if objective.tie else None
            exp.storage.set_attrs(t.id, {"cv_mean": mean, "cv_std": std, "cv_tie_mean": tie_mean, "cv": record})
        mean, std = _mean_std(record["scores"])
        row = {"number": t.number, exp.metric: t.value, "cv_mean": mean, "cv_std": std}
        if record.get("tie"):
            row[f"cv_{record['tie']}"] = _mean_std(record["tie_scores"])[0]
        row.update({f"fold_{i}": v for i, v in enumerate(record["scores"])})
        rows.append(row)
    return pd.DataFrame(rows)


def _describe_selection(scan: Scan) -> str:
    exp = scan.experiment
    if len(exp.metrics) > 1:
        return (
            f"no single best: {len(exp.metrics)} objectives ({', '.join(exp.metrics)}); scan.pareto_front holds the "
            "trials no other beats in every objective"
        )
    trials = exp.storage.get_trials(exp.id)
    order = ranked(trials, exp.metric, exp.direction)
    if not order:
        return "no trial has finished yet"
    best = order[0]
    how = {
        "smooth": f"{exp.metric} averaged over {scan.smooth} consecutive epochs (the best window)",
        "best": f"{exp.metric} at its best epoch",
        "last": f"{exp.metric} at the last epoch",
    }[scan.objective]
    tie = tie_breaker(exp.metric)
    if tie:
        how += f", ties broken by {tie}"
    complete = [t for t in order if t.state == TrialState.COMPLETE]
    epochs = _fixed_epochs(exp.space)
    if complete:
        pool = f"the {len(complete)} trials that trained in full" + (f" ({epochs} epochs)" if epochs else "")
    else:
        pool = f"the {len(order)} trials that got furthest ({reached(order[0])} epochs: the budget ended first)"
    spent = exp.resource_spent
    text = f"trial {best.number}: the best {how} among {pool}, of {len(trials)} trials ({spent} epochs in all)"
    cv = best.attrs.get("cv")
    if best.attrs.get("cv_mean") is not None and cv:
        n_cv = sum(1 for t in trials if t.attrs.get("cv_mean") is not None)
        text += (
            f"; then the top {n_cv} were retrained with {cv['folds']}-fold cross-validation on the "
            f"{cv['rows']} development rows and the best CV mean won"
            + (f" (means within one standard error tied, broken by the lowest CV {cv['tie']})" if cv.get("tie") else "")
            + f": {exp.metric} {best.attrs['cv_mean']:.4f} ± {best.attrs['cv_std']:.4f}"
            + (f", {cv['tie']} {best.attrs['cv_tie_mean']:.4f}" if best.attrs.get("cv_tie_mean") is not None else "")
            + f" (its single-split value {best.value:.4f})"
        )
    return text
