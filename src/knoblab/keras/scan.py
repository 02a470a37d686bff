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
import functools
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from ..experiment import Experiment
from ..reprs import experiment_html
from ..space import Space
from ..stopping import StopRule, direction_of
from ..storage import Storage
from ..trial import FrozenTrial, ObjectiveSetupError, Trial, TrialPruned, TrialState
from . import hygiene
from .callbacks import Reporter
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
                args = list(args)
                args[5] = _with(args[5], reporter)
            else:
                kwargs["callbacks"] = _with(kwargs.get("callbacks"), reporter)
            if reporter.start_step and len(args) <= 11:  # a continuation (see knoblab.keras.pbt)
                kwargs.setdefault("initial_epoch", reporter.start_step)
        return original(self, *args, **kwargs)

    fit._knoblab_hook = True
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
        self.metric, self.direction = scan.metric, scan.direction
        self.rules = scan.stop
        self.restore_best_weights = scan.restore_best_weights
        self.objective_epoch = scan.objective
        self.keep_models = scan.keep_models
        self.artifacts_dir = scan.artifacts_dir
        self.threads = scan.threads
        self.hook_fit = scan.hook_fit
        self.experiment_id = scan.experiment.id

    def __call__(self, trial: Trial) -> dict[str, Any]:
        hygiene.limit_threads(self.threads)
        hygiene.seed_trial(trial.seed)
        if self.hook_fit:
            _install_fit_hook()
        reporter = Reporter(trial, self.metric, self.direction, self.rules, self.restore_best_weights)
        prepare_resume(trial, reporter, self.artifacts_dir)
        token = _active_reporter.set(reporter)
        try:
            x_train, y_train, x_val, y_val = self.data
            out = self.model_fn(x_train, y_train, x_val, y_val, trial.params)
            history, model = _check_return(out)
            if not reporter.epochs:  # the reporter never ran (a custom loop, or hook_fit=False without it)
                _replay(reporter, history)
            if reporter.pruned:
                raise TrialPruned(reporter.stop_reason)
            summary = reporter.summary(self.objective_epoch)
            value = summary.get(self.metric)
            if value is not None and math.isfinite(value) and self.keep_models > 0:
                self._keep_if_top(trial, model, value)
            return summary
        finally:
            _active_reporter.reset(token)
            del reporter
            hygiene.clean_up()

    def _keep_if_top(self, trial: Trial, model: keras.Model, value: float) -> None:
        storage = trial._storage
        done = [t for t in storage.get_trials(self.experiment_id, states=(TrialState.COMPLETE,)) if t.value is not None]
        sign = 1.0 if self.direction == "min" else -1.0
        kept = sorted((t for t in done if t.attrs.get("model_path")), key=lambda t: sign * t.value)
        if len(kept) >= self.keep_models and sign * value >= sign * kept[self.keep_models - 1].value:
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
        metric: the epoch metric to optimize, e.g. "val_accuracy", "val_loss", "val_f1".
        direction: "min" or "max" (default: inferred from the metric's name).
        objective: "best" (the metric at its best epoch, the default) or "last" (at the last epoch).
        n_trials / round_limit: the experiment's total number of trials (round_limit is Talos' name).
        fraction_limit: a fraction of the finite grid to try, e.g. 0.01 of 180,000 permutations.
        time_limit: seconds (or a "YYYY-MM-DD HH:MM" end time, as in Talos).
        target (or performance_target): stop once the metric reaches it.
        stop: per-trial early-stopping rules (knoblab.stopping: Patience, Threshold, StopOnNaN, TimeBudget).
        restore_best_weights: keep the weights of the best epoch in the returned and saved model.
        keep_models: how many of the best trials keep their `.keras` file on disk (0: none).
        artifacts_dir: where models go (default ./knoblab_artifacts/<experiment_name>).
        threads: compute threads per trial (default 1; None leaves the backend's default).
        hook_fit: add the reporting callback to every `fit` automatically (see the module docstring).
        strategy, scheduler, storage, seed, n_jobs: as for `knoblab.Experiment`.
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
        metric: str = "val_loss",
        direction: str | None = None,
        objective: str = "best",
        n_trials: int | None = None,
        round_limit: int | None = None,
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
        scheduler: Any = None,
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
        if objective not in ("best", "last"):
            raise ValueError(f"objective: got {objective!r}; allowed: 'best' or 'last'")
        if n_trials is not None and round_limit is not None and n_trials != round_limit:
            raise ValueError(f"n_trials={n_trials} and round_limit={round_limit} disagree; give one")
        if target is not None and performance_target is not None and target != performance_target:
            raise ValueError(f"target={target} and performance_target={performance_target} disagree; give one")
        if not (isinstance(keep_models, int) and keep_models >= 0):
            raise ValueError(f"keep_models: got {keep_models!r}; give an integer >= 0")
        if threads is not None and not (isinstance(threads, int) and threads >= 1):
            raise ValueError(f"threads: got {threads!r}; give an integer >= 1 or None")
        stop = list(stop)
        for rule in stop:
            if not isinstance(rule, StopRule):
                raise ValueError(f"stop: got {rule!r}; give rules from knoblab.stopping (Patience, Threshold, ...)")
        self.model_fn = model
        self.metric = metric
        self.direction = direction or direction_of(metric)
        self.objective = objective
        self.stop = stop
        self.restore_best_weights = restore_best_weights
        self.keep_models = keep_models
        self.threads = threads
        self.hook_fit = hook_fit
        self.custom_objects = dict(custom_objects or {})
        self.artifacts_dir = Path(artifacts_dir) if artifacts_dir else Path("knoblab_artifacts") / experiment_name
        self.n_trials = n_trials if n_trials is not None else round_limit
        self.fraction_limit = fraction_limit
        self.time_limit = _seconds(time_limit)
        self.target = target if target is not None else performance_target
        self.n_jobs = n_jobs
        self.show_progress = show_progress
        self.callbacks = list(callbacks)
        self.gpus = gpus
        _check_data(x, y, x_val, y_val, val_split)
        self.experiment = Experiment(
            experiment_name,
            params,
            metric=metric,
            direction=self.direction,
            strategy=strategy,
            scheduler=scheduler,
            storage=storage,
            seed=seed,
        )
        # split with the experiment's stored seed: a rerun of the script validates on the very same rows
        self._data = _split(x, y, x_val, y_val, val_split, shuffle, self.experiment.seed)
        if run:
            self.run()

    def run(self, n_trials: int | None = None, time_limit: float | None = None) -> Scan:
        """Runs (or continues) the search; budgets are the experiment's totals. When it ends, the checkpoints of
        paused trials that no queued or running trial resumes from are deleted (a scheduler made with
        `keep_checkpoints=True` keeps them): a later run that promotes one trains it from scratch."""
        n_trials = n_trials if n_trials is not None else self.n_trials
        if n_trials is None and self.fraction_limit is None and self.time_limit is None and self.target is None:
            if not self.experiment.space.is_finite:
                raise ValueError("give a budget: n_trials (round_limit), fraction_limit, time_limit or target")
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
        )
        release = getattr(self.experiment.scheduler, "release_checkpoints", None)
        if release is not None:  # paused trials' checkpoints nothing will resume from (unless keep_checkpoints)
            release(self.experiment)
        return self

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
    def best_params(self) -> dict[str, Any]:
        """The best trial's knobs."""
        return dict(self.experiment.best.params)

    def history(self, number: int | None = None) -> pd.DataFrame:
        """The per-epoch metrics of one trial (default: the best), one row per epoch."""
        trial = self.experiment.best if number is None else self.experiment.trial(number, with_reports=False)
        reports = self.experiment.storage.get_reports([trial.id]).get(trial.id, [])
        return pd.DataFrame([{"epoch": step, **m} for step, m in reports])

    def best_model(self, custom_objects: Mapping[str, Any] | None = None) -> keras.Model:
        """The best trial's model, reloaded from its saved `.keras` file (Keras safe mode)."""
        best = self.experiment.best
        path = best.attrs.get("model_path")
        if not path or not Path(path).exists():
            kept = [t.number for t in self.experiment.trials if t.attrs.get("model_path")]
            raise FileNotFoundError(
                f"the best trial ({best.number}) has no saved model (keep_models={self.keep_models}; "
                f"trials with models: {kept}); its params are scan.best_params, to retrain"
            )
        objects = {**self.custom_objects, **(custom_objects or {})}
        return keras.saving.load_model(path, custom_objects=objects or None, safe_mode=True)

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
