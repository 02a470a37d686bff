"""scikit-learn's hyperparameter search on knoblab: `SearchCV`, and `GridSearchCV` / `RandomizedSearchCV` shaped
as scikit-learn's, over knoblab's strategies and storage::

    from knoblab.sklearn import GridSearchCV, RandomizedSearchCV, SearchCV

    search = GridSearchCV(SVC(), {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}, cv=5).fit(X, y)
    search.best_params_, search.best_score_, search.cv_results_      # scikit-learn's layout
    SearchCV(MLPClassifier(), {"alpha": loguniform(1e-5, 1e-1), "hidden_layer_sizes": [(32,), (64,)]},
             strategy="tpe", n_iter=40, pruning=True, name="mlp").fit(X, y)   # stored: a rerun continues

Each candidate is one knoblab trial: its folds run one after the other, each fold's score is reported
(`trial.report(fold, test_score=..., mean_test_score=<mean so far>)`), and the per-fold scores, fit and score
times are stored with the trial, so `cv_results_` is built from the storage: a search named with `name=` (and
`storage=`) that is fitted again continues where it stopped, and runs only the candidates it has not run.

Pruning (`pruning=True`, see `FoldPruner`): after each fold a candidate whose mean score over the folds done so far
is below the median of the finished candidates' mean over the same folds is stopped; it keeps the folds it ran
in `cv_results_` (NaN for the others), ranks after every candidate that ran all folds, and is marked in the
`pruned` column. Any knoblab scheduler can be given instead (`pruning="median"`, a `Scheduler`).

The space (`param_grid` / `param_distributions` / `param_space`) is scikit-learn's: a dict of lists (or arrays,
or tuples: all are lists of choices here, as in scikit-learn), scipy.stats frozen distributions (randint, uniform,
loguniform), or a list of such dicts; knoblab knobs (kl.Real, kl.Int, kl.Branch) are accepted too.
"""

from __future__ import annotations

import numbers
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .compat._runs import Scratch, run_search, seed_from
from .schedulers.base import Scheduler, current_step
from .space import BRANCH_OF_GRIDS, Knob, Space
from .trial import ObjectiveSetupError, TrialPruned, TrialState

try:  # scikit-learn is an optional dependency of knoblab; this module needs it
    from sklearn.base import clone, is_classifier
    from sklearn.exceptions import FitFailedWarning
    from sklearn.metrics import check_scoring, get_scorer
    from sklearn.model_selection import check_cv
    from sklearn.model_selection._search import BaseSearchCV
    from sklearn.utils import _safe_indexing
    from sklearn.utils.metaestimators import _safe_split
    from sklearn.utils.validation import _num_samples, indexable
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(f"knoblab.sklearn needs scikit-learn ({e}); pip install 'knoblab[sklearn]'") from None

__all__ = ["SearchCV", "GridSearchCV", "RandomizedSearchCV", "FoldPruner"]


def _grid_knob() -> str:
    """The hidden knob a list of param dicts branches on (which dict a candidate comes from): not a parameter."""
    return BRANCH_OF_GRIDS


class FoldPruner(Scheduler):
    """Per-fold pruning for cross-validation: stops a candidate after fold k when its mean test score over folds
    0..k is worse than the `quantile` (default: the median) of the same mean, over the same folds, of the
    candidates that ran every fold.

    The folds are the same for every candidate, so the comparison is paired (an easy fold lifts everyone). No
    candidate stops before `min_folds` folds, nor before `n_startup` candidates have run every fold.
    `metric` defaults to the experiment's ("mean_test_score", or "mean_test_<refit>" for several metrics).
    """

    name = "fold-pruner"

    def __init__(self, n_startup: int = 5, min_folds: int = 1, quantile: float = 0.5, metric: str | None = None):
        super().__init__(metric)
        for arg, value, low in (("n_startup", n_startup, 1), ("min_folds", min_folds, 1)):
            if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low):
                raise ValueError(f"{arg}: got {value!r}; give an integer >= {low}")
        if not (isinstance(quantile, numbers.Real) and 0 < quantile < 1):
            raise ValueError(f"quantile: got {quantile!r}; give a number in (0, 1) (0.5: the median)")
        self.n_startup: int = int(n_startup)
        self.min_folds: int = int(min_folds)
        self.quantile: float = float(quantile)

    def should_stop(self, experiment: Any, trial: Any) -> bool:
        step = current_step(trial)
        if step is None or step + 1 < self.min_folds:
            return False
        metric = self.metric_of(experiment)
        cache: dict[int, list[float]] = self.__dict__.setdefault("_means", {})
        finished = [
            t.id
            for t in experiment.storage.get_trials(experiment.id, states=(TrialState.COMPLETE,))
            if t.round == trial._frozen.round and t.id != trial.id
        ]
        if len(finished) < self.n_startup:
            return False
        unread = [tid for tid in finished if tid not in cache]
        reports = experiment.storage.get_reports([*unread, trial.id])
        for tid in unread:
            cache[tid] = _curve(reports.get(tid, []), metric)
        others = [c[step] for c in (cache[tid] for tid in finished) if len(c) > step and np.isfinite(c[step])]
        mine = _curve(reports.get(trial.id, []), metric)
        if len(others) < self.n_startup or len(mine) <= step:
            return False
        if not np.isfinite(mine[step]):
            return True  # a fold that failed to score: hopeless
        threshold = float(np.quantile(others, self.quantile if experiment.direction == "min" else 1 - self.quantile))
        return bool(mine[step] > threshold if experiment.direction == "min" else mine[step] < threshold)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_means", None)
        return state

    def __repr__(self) -> str:
        return f"FoldPruner(n_startup={self.n_startup}, min_folds={self.min_folds}, quantile={self.quantile})"


def _curve(reports: list[tuple[int, dict[str, Any]]], metric: str) -> list[float]:
    out = [np.nan] * (max((s for s, _ in reports), default=-1) + 1)
    for s, m in reports:
        v = m.get(metric)
        out[s] = np.nan if v is None else float(v)
    return out


# ---------------------------------------------------------------------------------------------------------------
# one candidate: its folds, one after the other
# ---------------------------------------------------------------------------------------------------------------
class _CrossValidate:
    """The objective of one candidate: fits and scores it on every fold, reporting each fold's score, and stores
    the per-fold record (scores, times, failures) with the trial. Picklable, for worker processes."""

    def __init__(self, search: SearchCV, X, y, fit_params, splits, scorers, metric_key: str, grid_knob: str):
        self.estimator = clone(search.estimator)
        self.X, self.y, self.fit_params, self.splits = X, y, fit_params, splits
        self.scorers = scorers  # a dict of scorers, or one callable (which may return a dict)
        self.metric_key = metric_key
        self.grid_knob = grid_knob
        self.return_train_score = bool(search.return_train_score)
        # scikit-learn >= 1.8 also weighs the scores by sample_weight, for scorers that take it; earlier ones do not
        weights = fit_params.get("sample_weight")
        self.score_weights = weights if hasattr(BaseSearchCV, "_check_scorers_accept_sample_weight") else None
        self.error_score = search.error_score
        self.verbose = search.verbose

    def __call__(self, trial: Any) -> dict[str, float]:
        params = candidate_params(trial.params, self.grid_knob)
        n = len(self.splits)
        record: dict[str, Any] = {"test": {}, "train": {}, "fit_time": [], "score_time": [], "n_test": [], "errors": []}
        for k, (train, test) in enumerate(self.splits):
            started = time.time()
            estimator = clone(self.estimator).set_params(**clone(params, safe=False))
            X_train, y_train = _safe_split(estimator, self.X, self.y, train)
            X_test, y_test = _safe_split(estimator, self.X, self.y, test, train)
            fit_params = {k_: _index_param(v, train, self.X) for k_, v in self.fit_params.items()}
            error = None
            try:
                if y_train is None:
                    estimator.fit(X_train, **fit_params)
                else:
                    estimator.fit(X_train, y_train, **fit_params)
            except Exception as e:
                if self.error_score == "raise":
                    raise
                error = f"{type(e).__name__}: {e}"
            fit_time = time.time() - started
            started = time.time()
            if error is None:
                test_scores = self._score(estimator, X_test, y_test, test)
                train_scores = self._score(estimator, X_train, y_train, train) if self.return_train_score else {}
            else:
                test_scores = self._error_scores()
                train_scores = self._error_scores() if self.return_train_score else {}
            score_time = time.time() - started
            for name, v in test_scores.items():
                record["test"].setdefault(name, []).append(v)
            for name, v in train_scores.items():
                record["train"].setdefault(name, []).append(v)
            record["fit_time"].append(fit_time)
            record["score_time"].append(score_time)
            record["n_test"].append(int(_num_samples(X_test)))
            record["errors"].append(error)
            if self.verbose > 2:
                shown = ", ".join(f"{name}={v:.3f}" for name, v in test_scores.items())
                print(f"[CV {k + 1}/{n}; trial {trial.number}] END {params}; {shown} total time={fit_time:.1f}s")
            means = {f"mean_test_{name}": float(np.mean(vs)) for name, vs in record["test"].items()}
            trial.report(k, **{f"test_{name}": v for name, v in test_scores.items()}, **means)
            if k < n - 1 and trial.should_stop():
                trial.set_attr("cv", record)
                raise TrialPruned(f"stopped after fold {k + 1} of {n}")
        trial.set_attr("cv", record)
        if self.metric_key not in record["test"]:
            raise ObjectiveSetupError(
                f"refit: the scoring callable returned {sorted(record['test'])}, which lack {self.metric_key!r}; for "
                "multi-metric scoring, refit must be one of its keys, a callable, or False"
            )
        return {f"mean_test_{name}": float(np.mean(vs)) for name, vs in record["test"].items()}

    def _score(self, estimator: Any, X: Any, y: Any, rows: np.ndarray) -> dict[str, float]:
        if callable(self.scorers) and not isinstance(self.scorers, Mapping):
            named = {"score": self.scorers}
        else:
            named = self.scorers
        out: dict[str, float] = {}
        for name, scorer in named.items():
            kwargs = {}
            accepts = getattr(scorer, "_accept_sample_weight", None)
            if self.score_weights is not None and accepts is not None and accepts():
                kwargs["sample_weight"] = _safe_indexing(self.score_weights, rows)
            try:
                value = scorer(estimator, X, y, **kwargs)
            except Exception:
                if self.error_score == "raise":
                    raise
                warnings.warn(
                    f"Scoring failed. The score on this train-test partition for these parameters will be set to "
                    f"{self.error_score}.",
                    UserWarning,
                    stacklevel=2,
                )
                value = self.error_score
            if isinstance(value, Mapping) and name == "score" and len(named) == 1:  # a callable returning a dict
                out.update({str(k): _score_number(v, k) for k, v in value.items()})
            else:
                out[name] = _score_number(value, name)
        return out

    def _error_scores(self) -> dict[str, float]:
        names = ["score"] if callable(self.scorers) and not isinstance(self.scorers, Mapping) else list(self.scorers)
        return {name: float(self.error_score) for name in names}


def _score_number(value: Any, name: Any) -> float:
    if hasattr(value, "item"):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if not isinstance(value, numbers.Number) or isinstance(value, bool):
        raise ValueError(f"scoring must return a number, got {value!r} ({type(value).__name__}) (scorer={name})")
    return float(value)  # type: ignore[arg-type]  # typeshed's numbers.Number has no __float__ (python/mypy#3186)


def _index_param(value: Any, indices: np.ndarray, X: Any) -> Any:
    """A fit parameter for one fold: indexed by the fold's rows when it has one entry per sample (sample_weight)."""
    if value is None or np.isscalar(value) or not hasattr(value, "__len__"):
        return value
    try:
        if _num_samples(value) == _num_samples(X):
            return _safe_indexing(value, indices)
    except TypeError:
        pass
    return value


def candidate_params(params: Mapping[str, Any], grid_knob: str | None = None) -> dict[str, Any]:
    """A trial's params as scikit-learn sees the candidate: without the hidden knob of a list of param dicts, in
    sorted order (as scikit-learn's ParameterGrid gives them)."""
    grid_knob = _grid_knob() if grid_knob is None else grid_knob
    return {k: params[k] for k in sorted(params) if k != grid_knob}


# ---------------------------------------------------------------------------------------------------------------
# cv_results_
# ---------------------------------------------------------------------------------------------------------------
def cv_results(
    trials: Sequence[Any], n_splits: int, grid_knob: str, *, return_train_score: bool, pruned_column: bool
) -> dict[str, Any]:
    """scikit-learn's `cv_results_` from stored trials (each with its per-fold record in attrs["cv"])."""
    from numpy.ma import MaskedArray
    from scipy.stats import rankdata

    n = len(trials)
    records = [t.attrs["cv"] for t in trials]
    names: list[str] = []
    for r in records:
        names += [k for k in r["test"] if k not in names]
    pruned = np.array([t.state == TrialState.PRUNED for t in trials], dtype=bool)

    def table(get) -> np.ndarray:
        out = np.full((n, n_splits), np.nan)
        for i, r in enumerate(records):
            values = [np.nan if v is None else v for v in get(r)]
            out[i, : len(values)] = values
        return out

    results: dict[str, Any] = {}

    def store(key: str, array: np.ndarray, splits: bool = False, rank: bool = False) -> None:
        if splits:
            for k in range(n_splits):
                results[f"split{k}_{key}"] = array[:, k]
        run = np.array([[j < len(r["fit_time"]) for j in range(n_splits)] for r in records]).reshape(n, n_splits)
        # a candidate that ran every fold: numpy's mean (NaN if a fold failed), as scikit-learn; a pruned one: the
        # mean of the folds it ran
        means = np.array([np.average(array[i, run[i]]) if run[i].any() else np.nan for i in range(n)], dtype=np.float64)
        stds = np.array(
            [np.sqrt(np.average((array[i, run[i]] - means[i]) ** 2)) if run[i].any() else np.nan for i in range(n)],
            dtype=np.float64,
        )
        results[f"mean_{key}"] = means
        if key.startswith(("train_", "test_")) and np.any(~np.isfinite(means)):
            warnings.warn(
                f"One or more of the {key.split('_')[0]} scores are non-finite: {means}", UserWarning, stacklevel=3
            )
        results[f"std_{key}"] = stds
        if rank:
            results[f"rank_{key}"] = _rank(means, pruned, rankdata)

    store("fit_time", table(lambda r: r["fit_time"]))
    store("score_time", table(lambda r: r["score_time"]))
    candidates = [candidate_params(t.params, grid_knob) for t in trials]
    seen: dict[str, dict[int, Any]] = {}
    for i, params in enumerate(candidates):
        for name, value in params.items():
            seen.setdefault(f"param_{name}", {})[i] = value
    for key, values in seen.items():
        try:
            arr = np.array(list(values.values()))
            dtype = arr.dtype if arr.dtype.kind != "U" and arr.ndim == 1 else object
        except ValueError:
            dtype = np.dtype(object)
        column = MaskedArray(np.empty(n, dtype=dtype), mask=True)
        for i, value in values.items():
            column[i] = value
        results[key] = column
    results["params"] = candidates
    for name in names:
        store(f"test_{name}", table(lambda r, name=name: r["test"].get(name, [])), splits=True, rank=True)
        if return_train_score:
            store(f"train_{name}", table(lambda r, name=name: r["train"].get(name, [])), splits=True)
    if pruned_column:
        results["pruned"] = pruned
    return results


def _rank(means: np.ndarray, pruned: np.ndarray, rankdata) -> np.ndarray:
    """Ranks as scikit-learn's (min method, NaN tied last), with every pruned candidate after every full one."""
    finite = ~np.isnan(means)
    if not finite.any():
        return np.ones(len(means), dtype=np.int32)
    full = finite & ~pruned
    part = finite & pruned
    key = np.zeros(len(means))
    span = (np.nanmax(means) - np.nanmin(means)) + 1.0
    key[full] = means[full]
    key[part] = means[part] - 2 * span  # below every full candidate
    key[~finite] = np.nanmin(means) - 4 * span  # below everything, tied
    return rankdata(-key, method="min").astype(np.int32, copy=False)


# ---------------------------------------------------------------------------------------------------------------
# the estimators
# ---------------------------------------------------------------------------------------------------------------
class SearchCV(BaseSearchCV):
    """A cross-validated search over `param_space` with a knoblab strategy, as a scikit-learn meta-estimator.

    scikit-learn's arguments (estimator, scoring, n_jobs, refit, cv, verbose, error_score, return_train_score)
    mean what they mean in its GridSearchCV; pre_dispatch is accepted and has no effect.

    Args:
        param_space: a dict of knobs (lists, scipy.stats distributions, kl.Real / kl.Int / kl.Branch, scalars as
            fixed values) or a list of such dicts.
        strategy: "auto" (default), "grid", "random", "sobol", "lhs", "tpe", "gp", "cmaes" or a Strategy.
        n_iter: how many candidates in all (default: the whole grid of a finite space; required otherwise).
        random_state: seeds the strategy (an int, a numpy RandomState/Generator, or None).
        pruning: False, True (a `FoldPruner`), or a knoblab scheduler (a name or an instance).
        name: store the search as this knoblab experiment (default: a temporary one per fit); fitting a named
            search again continues it. Its data, folds, estimator and scoring must stay the same.
        storage: where a named search is stored (a URL; default ./knoblab.db).

    Fitted attributes are scikit-learn's (``cv_results_``, ``best_index_``, ``best_params_``, ``best_score_``,
    ``best_estimator_`` when refit, ``refit_time_``, ``scorer_``, ``multimetric_``, ``n_splits_``), and
    ``experiment_name_`` (None for a temporary search).
    """

    _space_argument = "param_space"
    _default_n_iter: int | None = None

    def __init__(
        self,
        estimator: Any,
        param_space: Any,
        *,
        strategy: Any = "auto",
        n_iter: int | None = None,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        random_state: Any = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        pruning: Any = False,
        name: str | None = None,
        storage: Any = None,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_space = param_space
        self.strategy = strategy
        self.n_iter = n_iter
        self.random_state = random_state
        self.pruning = pruning
        self.name = name
        self.storage = storage

    # what the aliases call their space
    def _param_space(self) -> Any:
        return getattr(self, self._space_argument)

    def _run_search(self, evaluate_candidates: Callable[..., Any]) -> None:  # pragma: no cover - fit is our own
        raise NotImplementedError("knoblab's searches run through knoblab.Experiment (see fit)")

    # ---- checks ----
    def _check_arguments(self) -> None:
        if not hasattr(self.estimator, "fit"):
            raise TypeError(f"estimator: got {type(self.estimator).__name__}, which has no fit method")
        if self.n_jobs is not None and not (isinstance(self.n_jobs, numbers.Integral) and self.n_jobs != 0):
            raise ValueError(f"n_jobs: got {self.n_jobs!r}; give a non-zero integer (-1: every CPU) or None")
        if not (isinstance(self.error_score, numbers.Real) or self.error_score == "raise"):
            raise ValueError(f"error_score: got {self.error_score!r}; give a number (np.nan) or 'raise'")
        if not (isinstance(self.refit, bool | str) or callable(self.refit)):
            raise ValueError(f"refit: got {self.refit!r}; give True, False, a scorer's name or a callable")
        if self.n_iter is not None and not (
            isinstance(self.n_iter, numbers.Integral) and not isinstance(self.n_iter, bool) and self.n_iter >= 1
        ):
            raise ValueError(f"n_iter: got {self.n_iter!r}; give an integer >= 1 or None")
        if not (isinstance(self.verbose, numbers.Integral) and not isinstance(self.verbose, bool)) and not (
            isinstance(self.verbose, bool)
        ):
            raise ValueError(f"verbose: got {self.verbose!r}; give an integer")
        if self.name is not None and not (isinstance(self.name, str) and self.name.strip()):
            raise ValueError(f"name: got {self.name!r}; give a non-empty string or None (a temporary search)")
        if not isinstance(self.return_train_score, bool | np.bool_):
            raise ValueError(f"return_train_score: got {self.return_train_score!r}; give True or False")

    def _scorers(self) -> tuple[Any, str, bool]:
        """(scorers, refit metric, multi-metric): one scorer or a dict of them, as scikit-learn builds them."""
        scoring = self.scoring
        if scoring is None or isinstance(scoring, str) or callable(scoring):
            if isinstance(scoring, str):
                _get_scorer(scoring, "scoring")
            scorer = scoring if callable(scoring) else check_scoring(self.estimator, scoring)
            metric = self.refit if callable(scoring) and isinstance(self.refit, str) else "score"
            return scorer, metric, False
        if isinstance(scoring, list | tuple | set):
            names = list(scoring)
            if not names or not all(isinstance(s, str) for s in names) or len(set(names)) != len(names):
                raise ValueError(
                    f"scoring: got {scoring!r}; a list of scorers must hold distinct names of scikit-learn's scorers"
                )
            scorers = {s: _get_scorer(s, "scoring") for s in names}
        elif isinstance(scoring, Mapping):
            if not scoring or not all(isinstance(k, str) for k in scoring):
                raise ValueError(f"scoring: got {scoring!r}; a dict of scorers needs string keys")
            scorers = {k: (v if callable(v) else _get_scorer(v, f"scoring[{k!r}]")) for k, v in scoring.items()}
        else:
            raise ValueError(
                f"scoring: got {scoring!r}; give None, a scorer's name, a callable, a list of names or a dict"
            )
        if (
            self.refit is not False
            and not (isinstance(self.refit, str) and self.refit in scorers)
            and not callable(self.refit)
        ):
            raise ValueError(
                "refit: for multi-metric scoring, refit must be set to a scorer key or a callable to refit an "
                "estimator with the best parameter setting on the whole data and make the best_* attributes "
                f"available for that metric; set refit=False if this is not needed. {self.refit!r} was passed."
            )
        metric = self.refit if isinstance(self.refit, str) else next(iter(scorers))
        return scorers, metric, True

    def _space(self) -> Space:
        """The knoblab space of `param_space` (scikit-learn's conventions: tuples and arrays are lists of choices)."""
        raw = self._param_space()
        argument = self._space_argument
        if isinstance(raw, Mapping):
            grids, single = [raw], True
        elif isinstance(raw, list | tuple) and raw and all(isinstance(g, Mapping) for g in raw):
            grids, single = list(raw), False
        else:
            raise ValueError(
                f"{argument}: got {type(raw).__name__}; give a dict {{parameter: values}} or a list of such dicts"
            )
        converted = []
        for i, grid in enumerate(grids):
            where = argument if single else f"{argument}[{i}]"
            if not grid:
                raise ValueError(f"{where}: got an empty dict; give at least one parameter")
            converted.append({name: self._knob(where, name, grid[name]) for name in sorted(grid, key=str)})
        try:
            return Space(converted[0] if single else converted)
        except ValueError as e:
            raise ValueError(f"{argument}: {e}") from None

    def _knob(self, where: str, name: Any, value: Any) -> Any:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: parameter names must be non-empty strings, got {name!r}")
        if isinstance(value, np.ndarray):
            if value.ndim != 1:
                raise ValueError(f"{where}: parameter {name!r}: an array of values must be one-dimensional")
            return value.tolist()
        if isinstance(value, tuple):
            return list(value)  # scikit-learn reads any sequence as choices (knoblab's (low, high, n) is not used)
        if isinstance(value, list | Knob) or _is_distribution(value):
            return value
        return self._scalar(where, name, value)

    def _scalar(self, where: str, name: str, value: Any) -> Any:
        return value  # SearchCV: a scalar is a fixed value

    # ---- fit ----
    def fit(self, X: Any, y: Any = None, **params: Any) -> SearchCV:
        """Runs the search (or continues a named one) and refits the best candidate on the whole data."""
        self._check_arguments()
        scorers, metric, multimetric = self._scorers()
        groups = params.pop("groups", None)
        X, y, groups = indexable(X, y, groups)
        fit_params = dict(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        n_splits = cv.get_n_splits(X, y, groups)
        splits = list(cv.split(X, y, groups))
        if len(splits) != n_splits:
            raise ValueError(
                f"cv.split and cv.get_n_splits return inconsistent results. Expected {n_splits} splits, got "
                f"{len(splits)}"
            )
        space = self._space()
        grid_knob = _grid_knob()
        scratch = Scratch(shared=self._n_jobs() > 1) if self.name is None and self.storage is None else None
        try:
            exp = self._experiment(space, f"mean_test_{metric}", scratch)
            self._check_same_data(exp, X, y, groups, splits, scorers, fit_params)
            n_trials = self._budget(space)
            if self.verbose > 0:
                print(
                    f"Fitting {n_splits} folds for each of {n_trials} candidates, totalling {n_splits * n_trials} fits"
                )
            objective = _CrossValidate(self, X, y, fit_params, splits, scorers, metric, grid_knob)
            run_search(
                exp,
                objective,
                n_trials=n_trials,
                n_jobs=self._n_jobs(),
                raise_errors=True,
                show_progress=None if self.verbose > 0 else False,
            )
            trials = [
                t
                for t in exp.storage.get_trials(exp.id)
                if t.state.finished and "cv" in t.attrs and not t.attrs.get("interrupted")
            ]
            self.experiment_name_ = exp.name if scratch is None else None
        finally:
            if scratch is not None:
                scratch.close()
        if not trials:
            raise ValueError("No fits were performed. Was the CV iterator empty? Were there no candidates?")
        _warn_about_fit_failures(trials, self.error_score)
        results = cv_results(
            trials,
            n_splits,
            grid_knob,
            return_train_score=self.return_train_score,
            pruned_column=self.pruning is not False and self.pruning is not None,
        )
        self.multimetric_ = multimetric or any(
            f"mean_test_{metric}" != k for k in results if k.startswith("mean_test_")
        )
        if (
            callable(self.scoring)
            and self.multimetric_
            and not (isinstance(self.refit, str) and f"mean_test_{self.refit}" in results)
            and self.refit is not False
            and not callable(self.refit)
        ):
            raise ValueError(
                "refit: for multi-metric scoring, refit must be set to a scorer key or a callable; "
                f"{self.refit!r} was passed."
            )
        if self.refit or not self.multimetric_:
            self.best_index_ = self._best_index(results, metric)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(**clone(self.best_params_, safe=False))
            started = time.time()
            if y is not None:
                self.best_estimator_.fit(X, y, **fit_params)
            else:
                self.best_estimator_.fit(X, **fit_params)
            self.refit_time_ = time.time() - started
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        self.scorer_ = scorers
        self.cv_results_ = results
        self.n_splits_ = n_splits
        return self

    def _best_index(self, results: Mapping[str, Any], metric: str) -> int:
        if callable(self.refit):
            best = self.refit(results)
            if not isinstance(best, numbers.Integral):
                raise TypeError("best_index_ returned is not an integer")
            index = int(best)
            if index < 0 or index >= len(results["params"]):
                raise IndexError("best_index_ index out of range")
            return index
        return int(results[f"rank_test_{metric}"].argmin())

    def _n_jobs(self) -> int:
        if self.n_jobs is None:
            return 1
        if self.n_jobs < 0:
            return max(1, (os.cpu_count() or 1) + 1 + int(self.n_jobs))
        return int(self.n_jobs)

    def _budget(self, space: Space) -> int:
        if self.n_iter is not None:
            return int(self.n_iter)
        if self._default_n_iter is not None:
            return self._default_n_iter
        if not space.is_finite:
            name = next(d.knob.name for d in space.dimensions if not d.knob.finite)
            raise ValueError(
                f"n_iter: parameter {name!r} is continuous, so the space has no finite grid; give n_iter (how many "
                "candidates to try)"
            )
        return space.grid_size()

    def _experiment(self, space: Space, metric: str, scratch: Scratch | None) -> Any:
        from .experiment import Experiment
        from .schedulers import make_scheduler
        from .storage import open_storage

        store = open_storage(scratch.url if scratch is not None else self.storage)
        name = self.name or "search"
        exists = store.get_experiment(name) is not None
        seed = seed_from(self.random_state, "random_state")
        scheduler: Scheduler | None
        if self.pruning is True:
            scheduler = FoldPruner()
        elif self.pruning is False or self.pruning is None:
            scheduler = None
        else:
            try:
                scheduler = make_scheduler(self.pruning)
            except ValueError as e:
                raise ValueError(f"pruning: {e}; or True (knoblab.sklearn.FoldPruner) or False") from None
        extra: dict[str, Any] = {"heartbeat_interval": scratch.heartbeat_interval} if scratch is not None else {}
        try:
            return Experiment(
                name,
                space,
                metric=metric,
                direction="max",
                strategy=self.strategy,
                scheduler=scheduler,
                storage=store,
                seed=None if exists else seed,
                **extra,
            )
        except ValueError as e:
            if str(e).startswith("strategy:"):
                raise
            if not exists:
                raise ValueError(f"{self._space_argument}: {e}") from None
            raise

    def _check_same_data(self, exp: Any, X: Any, y: Any, groups: Any, splits: list, scorers: Any, fit_params) -> None:
        """A named search continues only on the data, folds, estimator and scoring it started with."""
        import joblib

        def digest(obj: Any) -> str:
            try:
                return joblib.hash(obj)
            except Exception:
                return repr(obj)

        now = {
            "data": digest((X, y, groups, sorted(fit_params))),
            "folds": digest([np.asarray(test) for _, test in splits]),
            "estimator": digest(clone(self.estimator)),
            "scoring": sorted(scorers) if isinstance(scorers, Mapping) else digest(self.scoring),
            "error_score": repr(self.error_score),
            "return_train_score": bool(self.return_train_score),
        }

        def remember(attrs: dict[str, Any]) -> dict[str, Any]:
            return {} if "sklearn" in attrs else {"sklearn": now}

        stored = exp.storage.update_experiment_attrs(exp.id, remember)["sklearn"]
        changed = [k for k in now if stored.get(k) != now[k]]
        if changed:
            what = {"data": "X, y or groups", "folds": "the cv folds (give a splitter a fixed random_state)"}
            raise ValueError(
                f"name: experiment {exp.name!r} was fitted with another "
                + ", ".join(what.get(k, k) for k in changed)
                + "; fit it with the same ones to continue it, or give a new name"
            )


def _get_scorer(name: Any, argument: str) -> Any:
    try:
        return get_scorer(name)
    except ValueError:
        raise ValueError(
            f"{argument}: got {name!r}, not a scikit-learn scorer; see sklearn.metrics.get_scorer_names()"
        ) from None


def _is_distribution(value: Any) -> bool:
    return hasattr(value, "rvs") and hasattr(value, "dist")


def _warn_about_fit_failures(trials: Sequence[Any], error_score: Any) -> None:
    errors = [e for t in trials for e in t.attrs["cv"]["errors"] if e is not None]
    total = sum(len(t.attrs["cv"]["errors"]) for t in trials)
    if not errors:
        return
    counts: dict[str, int] = {}
    for e in errors:
        counts[e] = counts.get(e, 0) + 1
    summary = "\n".join(f"{'-' * 80}\n{n} fits failed with the following error:\n{e}" for e, n in counts.items())
    if len(errors) == total:
        raise ValueError(
            f"\nAll the {total} fits failed.\nIt is very likely that your model is misconfigured.\nYou can try to "
            f"debug the error by setting error_score='raise'.\n\nBelow are more details about the failures:\n{summary}"
        )
    warnings.warn(
        f"\n{len(errors)} fits failed out of a total of {total}.\nThe score on these train-test partitions for these "
        f"parameters will be set to {error_score}.\nIf these failures are not expected, you can try to debug them by "
        f"setting error_score='raise'.\n\nBelow are more details about the failures:\n{summary}",
        FitFailedWarning,
        stacklevel=3,
    )


class GridSearchCV(SearchCV):
    """scikit-learn's GridSearchCV on knoblab: every candidate of `param_grid` (a dict of lists, or a list of
    such dicts), stored and resumable with `name=`; `strategy="grid"` by default (another strategy with `n_iter`
    tries that many of the grid's points)."""

    _space_argument = "param_grid"

    def __init__(
        self,
        estimator: Any,
        param_grid: Any,
        *,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        error_score: Any = np.nan,
        return_train_score: bool = False,
        strategy: Any = "grid",
        n_iter: int | None = None,
        random_state: Any = None,
        pruning: Any = False,
        name: str | None = None,
        storage: Any = None,
    ):
        super().__init__(
            estimator,
            None,
            strategy=strategy,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            pruning=pruning,
            name=name,
            storage=storage,
        )
        del self.param_space
        self.param_grid = param_grid

    def _knob(self, where: str, name: Any, value: Any) -> Any:
        if _is_distribution(value):
            raise ValueError(
                f"{where}: parameter {name!r} is a distribution; GridSearchCV needs lists of values (use "
                "RandomizedSearchCV or SearchCV for distributions)"
            )
        return super()._knob(where, name, value)

    def _scalar(self, where: str, name: str, value: Any) -> Any:
        raise ValueError(
            f"{where}: parameter {name!r} needs a list or a numpy array of values, but got {value!r} (of type "
            f"{type(value).__name__}); wrap a single value in a list"
        )


class RandomizedSearchCV(SearchCV):
    """scikit-learn's RandomizedSearchCV on knoblab: `n_iter` candidates (10 by default) drawn from
    `param_distributions` (lists, scipy.stats randint / uniform / loguniform, or a list of such dicts), stored
    and resumable with `name=`; `strategy="random"` by default ("tpe", "gp", ... to search by model instead).
    Lists only: drawn without repeats, at most the whole grid (with a warning, as scikit-learn)."""

    _space_argument = "param_distributions"

    def __init__(
        self,
        estimator: Any,
        param_distributions: Any,
        *,
        n_iter: int = 10,
        scoring: Any = None,
        n_jobs: int | None = None,
        refit: Any = True,
        cv: Any = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        random_state: Any = None,
        error_score: Any = np.nan,
        return_train_score: bool = False,
        strategy: Any = "random",
        pruning: Any = False,
        name: str | None = None,
        storage: Any = None,
    ):
        super().__init__(
            estimator,
            None,
            strategy=strategy,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            pruning=pruning,
            name=name,
            storage=storage,
        )
        del self.param_space
        self.param_distributions = param_distributions

    def _scalar(self, where: str, name: str, value: Any) -> Any:
        raise ValueError(
            f"{where}: parameter {name!r} is not iterable or a distribution (value={value!r}); give a list of "
            "values or a scipy.stats distribution"
        )

    def _budget(self, space: Space) -> int:
        n = super()._budget(space)
        if space.is_finite and space.grid_size() < n:
            warnings.warn(
                f"The total space of parameters {space.grid_size()} is smaller than n_iter={n}. Running "
                f"{space.grid_size()} iterations. For exhaustive searches, use GridSearchCV.",
                UserWarning,
                stacklevel=3,
            )
            return space.grid_size()
        return n
