"""`Scan`: Talos' Scan, keyword for keyword, as a thin layer over `knoblab.keras.scan.Scan` and its experiment.

    scan = talos.Scan(x, y, params=p, model=input_model, experiment_name="iris", round_limit=20)
    scan.data                      # Talos' columns (last epoch of each metric, round_epochs, start, end), then ours
    scan.best_model("val_acc")     # the Keras model of the round with the highest val_acc

What it translates: the params dict (Talos ranges written out, see `params`), the budget (fraction_limit of the
grid, rounded down as Talos does; round_limit; the whole grid in order otherwise), random_method (see
`random_methods`), boolean_limit (the experiment's constraint), time_limit and performance_target (checked between
rounds, as Talos does), the reducers (see `reduce`). Each round is a knoblab trial, stored as it runs: a script run
again with the same params dict continues its experiment (only the missing rounds run), and one run with another
params dict under a used experiment_name starts a new run stored as "<name>#2" (it says so).

Every round's model is saved (`knoblab_artifacts/<experiment>/trial_NNNNN.keras`) unless save_weights and
save_models are both False; the folder `<experiment_name>/` holds Talos' files (the experiment log CSV, the
ExperimentLog .log, the gamify JSON), and the trials live in knoblab's storage (./knoblab.db unless `storage=` says
otherwise), where `knoblab show`, the dashboard and `knoblab.analysis` see them.
"""

from __future__ import annotations

import json
import math
import numbers
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
from tqdm import tqdm

from ..analysis.evaluate import fingerprint
from ..analysis.rounds import round_records, start_round
from ..keras.scan import ModelFunctionError
from ..keras.scan import Scan as KerasScan
from ..outcomes import AllTrialsFailedError, trials_used
from ..space import Space
from ..stopping import StopOnNaN, direction_of
from ..storage import ExperimentRecord, Storage, open_storage
from ..storage.sql import dumps
from ..trial import FrozenTrial
from . import reduce
from ._log import ExperimentLogFile
from ._results import TalosResults, talos_results
from ._values import same
from .exceptions import TalosDataError
from .params import to_space
from .random_methods import strategy_for

__all__ = ["Scan"]

_KEEP_ALL = 10**9  # keep_models: every round's model stays on disk, as Talos keeps every round's weights


class _RoundModel:
    """The user's model function as one round runs it: prints the params when asked, and refuses what is not a
    Keras model with one clear line. A class, so it pickles when the model function does."""

    def __init__(self, fn: Callable, print_params: bool):
        self.fn, self.print_params = fn, print_params

    def __call__(self, x_train, y_train, x_val, y_val, params):
        if self.print_params:
            print(params)
        out = self.fn(x_train, y_train, x_val, y_val, params)
        if isinstance(out, tuple | list) and len(out) == 2 and not isinstance(out[1], keras.Model):
            first = out[0]
            if hasattr(first, "append_loss") or hasattr(getattr(first, "history", None), "keys"):
                raise ModelFunctionError(
                    f"the model function returned a {type(first).__name__} and a {type(out[1]).__name__}, not "
                    "(history, keras.Model): knoblab.talos runs Keras models (a PyTorch model's loop can report "
                    "its epochs to a knoblab.Experiment objective instead)"
                )
        return out


class Scan:
    """Talos' Scan (see the module docstring); Talos' arguments keep their names, order and defaults.

    knoblab's own, keyword-only: `storage` (a SQLAlchemy URL or storage; default ./knoblab.db), `metric` and
    `direction` (what the experiment records as each round's value: val_loss at the last epoch by default),
    `threads` (compute threads per round, default 1).
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        params: Any,
        model: Callable,
        experiment_name: str = "talos_experiment",
        x_val: Any = None,
        y_val: Any = None,
        val_split: float = 0.3,
        multi_input: bool = False,
        random_method: str = "uniform_mersenne",
        seed: int | None = None,
        performance_target: list | None = None,
        fraction_limit: float | None = None,
        round_limit: int | None = None,
        time_limit: str | float | None = None,
        boolean_limit: Callable[[dict], bool] | None = None,
        reduction_method: str | None = None,
        reduction_interval: int = 50,
        reduction_window: int = 20,
        reduction_threshold: float = 0.2,
        reduction_metric: str = "val_acc",
        minimize_loss: bool = False,
        disable_progress_bar: bool = False,
        print_params: bool = False,
        clear_session: bool = True,
        save_weights: bool = True,
        save_models: bool = False,
        *,
        storage: str | Storage | None = None,
        metric: str = "val_loss",
        direction: str | None = None,
        threads: int | None = 1,
    ):
        from .parameters import ParamSpace

        if not callable(model):
            raise ValueError(
                f"model: got {type(model).__name__}; give a function model(x_train, y_train, x_val, y_val, params) "
                "-> (history, model)"
            )
        if not isinstance(experiment_name, str) or not experiment_name.strip():
            raise ValueError(f"experiment_name: got {experiment_name!r}; give a non-empty string (a folder name)")
        for name, data in (("x", x), ("x_val", x_val)):
            if isinstance(data, list) and not multi_input:
                raise TypeError(f"For multi-input x, set multi_input to True (Scan got a list for {name})")
        _check_options(
            fraction_limit, round_limit, reduction_method, reduction_interval, reduction_window, reduction_threshold
        )
        self.x, self.y, self.params, self.model = x, y, params, model
        self.experiment_name = experiment_name
        self.x_val, self.y_val, self.val_split, self.multi_input = x_val, y_val, val_split, multi_input
        self.random_method, self.seed = random_method, seed
        self.performance_target = _check_target(performance_target)
        self.fraction_limit, self.round_limit = fraction_limit, round_limit
        self.time_limit, self.boolean_limit = time_limit, boolean_limit
        self.reduction_method, self.reduction_interval = reduction_method, reduction_interval
        self.reduction_window, self.reduction_threshold = reduction_window, reduction_threshold
        self.reduction_metric, self.minimize_loss = reduction_metric, minimize_loss
        self.disable_progress_bar, self.print_params = disable_progress_bar, print_params
        self.clear_session, self.save_weights, self.save_models = clear_session, save_weights, save_models
        self._deadline = _deadline(time_limit)
        if boolean_limit is not None and not callable(boolean_limit):
            raise ValueError(f"boolean_limit: got {boolean_limit!r}; give a function of the params, e.g. lambda p: ...")

        # the space, and the permutations a ParamSpace fixes (its own limits already applied, as in Talos)
        if isinstance(params, ParamSpace):
            space, fixed = params.space_dict(), params.permutations()
        else:
            space, fixed = to_space(params), None
        self._original_space = {k: list(v) for k, v in space.items()}
        self._space = {k: list(v) for k, v in space.items()}
        parsed = Space(space, _constraint(boolean_limit))
        size = parsed.grid_size()
        if fixed is not None:
            budget, limited = len(fixed), False
        elif fraction_limit is not None:
            budget, limited = int(size * fraction_limit), True
            if budget < 1:
                raise TalosDataError(
                    f"fraction_limit={fraction_limit} of {size} permutations is less than one round; raise it or "
                    "give round_limit"
                )
        elif round_limit is not None:
            budget, limited = min(int(round_limit), size), True
        else:
            budget, limited = size, False
        self._budget = budget

        # the experiment: this params dict's earlier run under the name, or a new one
        self.storage = open_storage(storage)
        direction = direction or direction_of(metric)
        description = json.loads(dumps(parsed.describe()))
        identity = {"params": "ParamSpace" if fixed is not None else "dict", "data": _data_key(x, y, x_val, y_val)}
        name, record, why_new = _resolve(self.storage, experiment_name, description, metric, direction, seed, identity)
        talos_attrs = dict((record.attrs.get("talos") or {}) if record else {})
        self._folder = Path(experiment_name).resolve()  # in the working folder, as Talos; absolute from here on
        self.experiment_id = talos_attrs.get("experiment_id") or _new_id(self._folder)
        self._log = ExperimentLogFile(self._folder, self.experiment_id)
        self._inner = KerasScan(
            x,
            y,
            params=parsed,
            model=_RoundModel(model, print_params),
            experiment_name=name,
            x_val=x_val,
            y_val=y_val,
            val_split=val_split,
            metric=metric,
            direction=direction,
            objective="last",
            stop=[StopOnNaN(("loss", metric))],  # a diverged round is FAILED whatever follows: stop it there
            restore_best_weights=False,
            keep_models=_KEEP_ALL if (save_weights or save_models) else 0,
            artifacts_dir=Path("knoblab_artifacts").resolve() / name,  # the experiment folder keeps Talos' files only
            threads=threads,
            strategy=strategy_for(random_method, limited=limited, budget=budget) if fixed is None else "grid",
            storage=self.storage,
            seed=seed,
            show_progress=False,
            run=False,
        )
        self.experiment = self._inner.experiment
        if not talos_attrs:
            talos_attrs = {
                "experiment_id": self.experiment_id,
                "experiment_name": experiment_name,
                "random_method": random_method,
                "budget": budget,
                **identity,
            }
            self.storage.set_experiment_attrs(self.experiment.id, {"talos": talos_attrs})
        if why_new:
            print(f"talos: {why_new}; this scan starts a new run, stored as experiment {name!r}")
        elif record is not None:
            done = trials_used(self.experiment.trials)
            print(
                f"talos: experiment {name!r} continues ({done} of {budget} rounds stored in {self.storage!r}); "
                "the same params dict continues a scan, another one starts a new run"
            )
        self._enter_latest_round()
        if fixed is not None:
            self._enqueue(fixed)
        self._gamify = reduce.Gamify(self._folder / f"{self.experiment_id}.json", self._original_space)
        stored = self._results()
        self._log.start(stored.data, stored.talos_columns)
        self._run()
        self._finish()

    # ---- the loop ----
    def _enter_latest_round(self) -> None:
        """A continued experiment goes on in the round its last reduction started (rounds chain one from another)."""
        record = self.storage.get_experiment(self.experiment.name)
        assert record is not None  # self.experiment is stored under this name
        rounds = round_records(record)
        for r in rounds[1:]:
            space = {
                k: [v for v in self._original_space[k] if _in_description(v, r["space"].get(k))] for k in self._space
            }
            start_round(self.experiment, space, r["reason"], changes=r["changes"], warm_start=True)
            self._space = space

    def _enqueue(self, permutations: list[dict[str, Any]]) -> None:
        stored = [t.params for t in self.experiment.trials]
        for p in permutations:
            if not any(all(same(p[k], q.get(k)) for k in p) for q in stored):
                self.experiment.enqueue(p)

    def _run(self) -> None:
        exp = self.experiment
        trials = exp.trials
        seen = {t.id for t in trials if t.state.finished}
        bar = tqdm(
            total=self._budget, initial=min(trials_used(trials), self._budget), disable=self.disable_progress_bar
        )
        try:
            while trials_used(trials) < self._budget:
                if self._deadline is not None and time.time() >= self._deadline:
                    break
                if self.reduction_method == "gamify":  # values switched off in the file go before the next round
                    drops = self._gamify.drops(self._space)
                    if drops:
                        self._narrow(drops, "gamify")
                in_round = trials_used([t for t in trials if t.round == exp.round])
                try:
                    self._inner.run(n_trials=in_round + 1)
                except AllTrialsFailedError:
                    pass  # as in Talos, a failed round is a row with its reason (and was warned); the scan goes on
                trials = exp.trials
                new = [t for t in trials if t.state.finished and t.id not in seen]
                if not new:
                    break  # the (narrowed) grid has nothing left to run
                for t in new:
                    seen.add(t.id)
                    if not t.attrs.get("interrupted"):
                        self._log_round(t)
                        bar.update(1)
                if self._target_met(new[-1]):
                    break
                self._reduce(trials)
        finally:
            bar.close()

    def _log_round(self, trial: FrozenTrial) -> None:
        reports = self.storage.get_reports([trial.id])
        one = talos_results([trial], reports, list(self._original_space))
        if len(one.data):
            self._log.append(one.data.iloc[0].to_dict(), one.talos_columns)

    def _target_met(self, trial: FrozenTrial) -> bool:
        if self.performance_target is None:
            return False
        metric, value, loss = self.performance_target
        if trial.state.value != "COMPLETE":
            return False
        if metric not in trial.metrics:
            known = sorted(m for m in trial.metrics if not m.startswith("last_"))
            raise ValueError(f"performance_target: metric {metric!r} is not among the metrics the model logs ({known})")
        got = float(trial.metrics[metric])
        if (got <= value) if loss else (got >= value):
            print(f"Target {value:.3f} have been met.")
            return True
        return False

    def _reduce(self, trials: list[FrozenTrial]) -> None:
        method = self.reduction_method
        if method is None:
            return
        done = trials_used(trials)
        drops: list[reduce.Drop] = []
        if method == "gamify":
            self._gamify.export(self._space)
            return
        if (done + 1) % self.reduction_interval == 0:  # as Talos: after rounds interval-1, 2*interval-1, ...
            if method in reduce.CORRELATIONS:
                drop = reduce.correlation_drop(
                    trials,
                    self._space,
                    method=method,
                    metric=self.reduction_metric,
                    minimize=self.minimize_loss,
                    threshold=self.reduction_threshold,
                    window=self.reduction_window,
                )
                drops = [drop] if drop else []
            elif method in ("trees", "forrest"):
                drop = reduce.importance_drop(
                    trials,
                    self._space,
                    method=method,
                    metric=self.reduction_metric,
                    window=self.reduction_window,
                    seed=self.experiment.seed % (2**32),
                )
                drops = [drop] if drop else []
            elif method == "local_strategy":
                self._refresh()  # the strategy reads scan.data as it stands
                drops = reduce.local_drops(self, self._space, done)
        if drops:
            self._narrow(drops, method)

    def _narrow(self, drops: list[reduce.Drop], method: str) -> None:
        """A new round without the dropped values (warm-started: what already ran is not run again)."""
        space = {k: list(v) for k, v in self._space.items()}
        changes = []
        for d in drops:
            if d.knob not in space:
                continue
            keep = [c for c in space[d.knob] if not any(same(c, v) for v in d.values)]
            if len(keep) == len(space[d.knob]):
                continue
            if not keep:
                print(f"talos: {method} would drop every value of {d.knob!r}; kept")
                continue
            space[d.knob] = keep
            changes.append(d.why)
        if not changes:
            return
        before, after = _grid_size(self._space), _grid_size(space)
        start_round(self.experiment, space, "talos reduction: " + "; ".join(changes), changes=changes, warm_start=True)
        self._space = space
        print(f"Total {100 * (before - after) / before:.1f}% permutations reduced")

    # ---- results ----
    def _results(self) -> TalosResults:
        trials = self.storage.get_trials(self.experiment.id)
        reports = self.storage.get_reports([t.id for t in trials])
        return talos_results(trials, reports, list(self._original_space))

    def _refresh(self) -> None:
        r = self._results()
        self.data: pd.DataFrame = r.data
        self.round_history: list[dict[str, list[float]]] = r.round_history
        self.round_times: pd.DataFrame = r.round_times
        self.learning_entropy: pd.DataFrame = r.learning_entropy
        self._trials: list[FrozenTrial] = r.trials
        self._talos_columns: list[str] = r.talos_columns

    def _finish(self) -> None:
        self._refresh()
        self.details = pd.Series(
            {
                "experiment_name": self.experiment_name,
                "random_method": self.random_method,
                "reduction_method": self.reduction_method,
                "reduction_interval": self.reduction_interval,
                "reduction_window": self.reduction_window,
                "reduction_threshold": self.reduction_threshold,
                "reduction_metric": self.reduction_metric,
                "experiment_id": self.experiment_id,
                "complete_time": time.strftime("%m/%d/%y/%H:%M"),
                "x_shape": getattr(self.x, "shape", "multi-input"),
                "y_shape": getattr(self.y, "shape", "multi-input"),
                "knoblab_experiment": self.experiment.name,
                "knoblab_storage": repr(self.storage),
                "knoblab_metric": self.experiment.metric,
            }
        )
        failed = self.data[self.data[_col(self.data, "state")] == "FAILED"]
        if len(failed):
            first = failed[_col(self.data, "error")].dropna()
            print(
                f"talos: {len(failed)} of {len(self.data)} rounds failed"
                + (f" (the first: {first.iloc[0]})" if len(first) else "")
                + "; their rows in scan.data have state FAILED"
            )

    @property
    def results(self) -> pd.DataFrame:
        """knoblab's table of every trial (`Experiment.results`)."""
        return self.experiment.results

    @property
    def saved_models(self) -> list[str | None]:
        """Each round's model as Keras JSON (None where no model was kept), read from its saved file."""
        return [m.to_json() if m is not None else None for m in self._models()]

    @property
    def saved_weights(self) -> list[list[np.ndarray] | None]:
        """Each round's weights (None where no model was kept), read from its saved file."""
        return [m.get_weights() if m is not None else None for m in self._models()]

    def _models(self) -> list[Any]:
        out = []
        for i in range(len(self.data)):
            try:
                out.append(self._model(i))
            except FileNotFoundError:
                out.append(None)
        return out

    def _model(self, row: int, custom_objects: Mapping[str, Any] | None = None) -> keras.Model:
        """The model of round `row` (a row of scan.data), uncompiled, as Talos' model_from_json gives it."""
        if not (isinstance(row, numbers.Integral) and 0 <= row < len(self._trials)):
            raise ValueError(f"model_id: got {row!r}; give a row of scan.data (0 to {len(self._trials) - 1})")
        trial = self._trials[int(row)]
        path = trial.attrs.get("model_path")
        if not path or not Path(path).exists():
            why = (
                "save_weights=False and save_models=False keep no models"
                if not (self.save_weights or self.save_models)
                else f"the round ended {trial.state.value}"
                + (f" ({(trial.error or '').splitlines()[0]})" if trial.error else "")
            )
            raise FileNotFoundError(f"round {row} (trial {trial.number}) has no saved model: {why}")
        return keras.saving.load_model(path, custom_objects=dict(custom_objects or {}) or None, compile=False)

    def _best_row(self, metric: str, asc: bool) -> int:
        """The row with the best `metric`; of tied rows, the first (Talos' sort leaves ties to chance)."""
        if metric not in self.data.columns:
            metrics = [c for c in self._talos_columns if c not in ("start", "end", "duration", *self._original_space)]
            raise ValueError(f"metric {metric!r} is not a column of scan.data; its metrics: {metrics}")
        values = pd.to_numeric(self.data[metric], errors="coerce")
        if values.notna().sum() == 0:
            raise ValueError(f"metric {metric!r}: no round has a value")
        return int(values.sort_values(ascending=asc, na_position="last", kind="stable").index[0])

    def best_model(
        self,
        metric: str = "val_acc",
        asc: bool = False,
        saved: bool = False,
        custom_objects: Mapping[str, Any] | None = None,
    ) -> keras.Model:
        """The model of the round with the best `metric` (asc=True for a loss), reloaded from its file."""
        return self._model(self._best_row(metric, asc), custom_objects)

    def evaluate_models(
        self,
        x_val: Any,
        y_val: Any,
        task: str,
        n_models: int = 10,
        metric: str = "val_acc",
        folds: int = 5,
        shuffle: bool = True,
        asc: bool = False,
        saved: bool = False,
        custom_objects: Mapping[str, Any] | None = None,
        average: str | None = None,
    ) -> None:
        """k-fold scores of the best n_models rounds by `metric`, added to scan.data as eval_f1score_mean and
        eval_f1score_std (eval_mae_* for task='continuous'); NaN for the other rounds."""
        from .evaluate import Evaluate

        if not (isinstance(n_models, int) and n_models >= 1):
            raise ValueError(f"n_models: got {n_models!r}; give an integer >= 1")
        self._best_row(metric, asc)  # the metric is checked
        order = pd.to_numeric(self.data[metric], errors="coerce").sort_values(
            ascending=asc, na_position="last", kind="stable"
        )
        picks = set(order.index[:n_models])
        evaluator = Evaluate(self)
        out = []
        for i in tqdm(range(len(self.data)), disable=self.disable_progress_bar):
            if i in picks:
                scores = evaluator.evaluate(
                    x_val, y_val, task=task, metric=metric, model_id=i, folds=folds, shuffle=shuffle, asc=asc,
                    saved=saved, custom_objects=custom_objects, average=average,
                )  # fmt: skip
                out.append((float(np.mean(scores)), float(np.std(scores))))
            else:
                out.append((math.nan, math.nan))
        heading = "eval_mae" if task == "continuous" else "eval_f1score"
        self.data[heading + "_mean"] = [m for m, _ in out]
        self.data[heading + "_std"] = [s for _, s in out]
        print(">> Added evaluation score columns to scan_object.data")

    # ---- knoblab's analysis of the same trials ----
    def analyze(self, rounds: Any = "all", **kwargs: Any):
        """knoblab's analysis (correlations, importances, overfitting, ...) of the scan: `knoblab.analysis`."""
        return self.experiment.analyze(rounds, **kwargs)

    def __repr__(self) -> str:
        return f"talos.Scan({self.experiment_name!r}, experiment={self.experiment.name!r}, rounds={len(self.data)})"


# ---- helpers ----
def _check_options(fraction_limit, round_limit, method, interval, window, threshold) -> None:
    if fraction_limit is not None and not (
        isinstance(fraction_limit, numbers.Real)
        and not isinstance(fraction_limit, bool)
        and 0 < float(fraction_limit) <= 1
    ):
        raise ValueError(f"fraction_limit: got {fraction_limit!r}; give a fraction in (0, 1]")
    if round_limit is not None and not (
        isinstance(round_limit, numbers.Integral) and not isinstance(round_limit, bool) and int(round_limit) >= 1
    ):
        raise ValueError(f"round_limit: got {round_limit!r}; give an integer >= 1")
    if method is not None and method not in reduce.REDUCTION_METHODS:
        raise ValueError(f"reduction_method: got {method!r}; allowed: None or one of {list(reduce.REDUCTION_METHODS)}")
    for name, v in (("reduction_interval", interval), ("reduction_window", window)):
        if not (isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 1):
            raise ValueError(f"{name}: got {v!r}; give an integer >= 1")
    if not (isinstance(threshold, numbers.Real) and float(threshold) >= 0):
        raise ValueError(f"reduction_threshold: got {threshold!r}; give a number >= 0")


def _check_target(target: Any) -> tuple[str, float, bool] | None:
    if target is None:
        return None
    ok = (
        isinstance(target, list | tuple)
        and len(target) == 3
        and isinstance(target[0], str)
        and isinstance(target[1], numbers.Real)
        and isinstance(target[2], bool)
    )
    if not ok:
        raise ValueError(
            f"performance_target: got {target!r}; give [metric, value, is_loss], e.g. ['val_acc', 0.9, False]"
        )
    return target[0], float(target[1]), target[2]


def _deadline(time_limit: Any) -> float | None:
    """Talos' time_limit ("YYYY-MM-DD HH:MM", checked before each round) as an epoch time; seconds are also taken."""
    if time_limit is None:
        return None
    if isinstance(time_limit, numbers.Real) and not isinstance(time_limit, bool):
        if time_limit <= 0:
            raise ValueError(f"time_limit: got {time_limit!r}; give seconds > 0 or 'YYYY-MM-DD HH:MM'")
        return time.time() + float(time_limit)
    if isinstance(time_limit, str):
        try:
            return datetime.strptime(time_limit, "%Y-%m-%d %H:%M").timestamp()
        except ValueError:
            pass
    raise ValueError(f"time_limit: got {time_limit!r}; give 'YYYY-MM-DD HH:MM' (as Talos) or seconds")


def _constraint(boolean_limit: Callable | None) -> Callable[[dict], bool] | None:
    """boolean_limit as the experiment's constraint: a permutation runs only where it is True (the core calls it
    with the params as the model function gets them)."""
    return boolean_limit


def _resolve(
    storage: Storage,
    name: str,
    description: dict,
    metric: str,
    direction: str,
    seed: int | None,
    identity: dict[str, str],
) -> tuple[str, ExperimentRecord | None, str | None]:
    """(the experiment to use, its record if it exists, why a new run is needed when the name is taken): the name,
    or "<name>#2", "<name>#3", ... : the first that holds this params dict and data (continued) or is free (a new
    run)."""
    why = None
    for k in range(1, 10_000):
        candidate = name if k == 1 else f"{name}#{k}"
        record = storage.get_experiment(candidate)
        if record is None:
            return candidate, None, why
        differs = _differs(record, description, metric, direction, seed, identity)
        if not differs:
            return candidate, record, None
        if why is None:
            why = f"experiment {name!r} already holds a scan with {differs}"
    raise ValueError(f"experiment_name {name!r}: 10,000 runs under this name; choose another name")


def _differs(
    record: ExperimentRecord, description: dict, metric: str, direction: str, seed: int | None, identity: dict
) -> str:
    stored = record.attrs.get("talos") or {}
    if stored.get("params", "dict") != identity["params"]:
        return f"params given as a {stored.get('params', 'dict')} (this scan's are a {identity['params']})"
    if stored.get("data", identity["data"]) != identity["data"]:
        return "other data (x, y, x_val, y_val differ)"
    if record.space != description:
        old, new = record.space, description
        parts = [f"knob {k!r} added" for k in new if k not in old]
        parts += [f"knob {k!r} removed" for k in old if k not in new]
        parts += [f"knob {k!r} changed" for k in new if k in old and old[k] != new[k]]
        return "another params dict (" + (", ".join(parts) or "the knobs' order changed") + ")"
    if (record.metric, record.direction) != (metric, direction):
        return f"another metric ({record.direction} {record.metric!r})"
    if seed is not None and record.seed != seed:
        return f"another seed ({record.seed})"
    return ""


def _new_id(folder: Path) -> str:
    """Talos' experiment id (the start time, '%m%d%y%H%M%S'), made unique in the folder."""
    base = time.strftime("%m%d%y%H%M%S")
    candidate, k = base, 1
    while (folder / f"{candidate}.csv").exists():
        k += 1
        candidate = f"{base}-{k}"
    return candidate


def _data_key(*parts: Any) -> str:
    """A short hash of the data a scan is given (arrays, lists or dicts of them, DataFrames), to tell runs apart."""
    leaves: list[np.ndarray] = []

    def walk(a: Any) -> None:
        if a is None:
            leaves.append(np.zeros(0))
        elif isinstance(a, Mapping):
            for k in sorted(a, key=str):
                walk(a[k])
        elif isinstance(a, list | tuple) and a and hasattr(a[0], "__len__") and not isinstance(a[0], str):
            for part in a:
                walk(part)
        else:
            arr = np.asarray(a)
            leaves.append(arr.astype(str) if arr.dtype == object else arr)

    for part in parts:
        walk(part)
    return fingerprint(*leaves)


def _in_description(value: Any, knob: Mapping[str, Any] | None) -> bool:
    """Whether a round's stored knob description still holds `value`."""
    if not knob:
        return False
    if knob.get("kind") == "fixed":
        choices = [knob.get("value")]
    else:
        choices = knob.get("choices", [])
    stored = json.loads(dumps(Space({"k": [value]}).describe()))["k"]
    mine = stored.get("choices", [stored.get("value")])[0]
    return any(json.dumps(mine, sort_keys=True) == json.dumps(c, sort_keys=True) for c in choices)


def _grid_size(space: Mapping[str, list[Any]]) -> int:
    return int(np.prod([len(v) for v in space.values()]))


def _col(data: pd.DataFrame, name: str) -> str:
    return name if name in data.columns else f"knoblab_{name}"
