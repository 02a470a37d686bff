"""hyperopt code on knoblab: `fmin(fn, space, algo=..., max_evals=..., trials=...)` runs a hyperopt-style objective
(returning a loss, or a dict with 'loss' and 'status') on a knoblab Experiment, and `Trials` reads it back as
hyperopt's Trials do::

    from hyperopt import hp, tpe, STATUS_OK
    import knoblab as kl

    space = {"lr": hp.loguniform("lr", -9, -2),
             "layers": hp.choice("layers", [{"n": 1}, {"n": 2, "units2": hp.quniform("units2", 8, 64, 8)}])}
    best = kl.fmin(lambda p: {"loss": ..., "status": STATUS_OK}, space, algo=tpe.suggest, max_evals=50)

The space translates as `knoblab.compat.hyperopt_space` says (`from_hyperopt`, re-exported here). The `hyperopt`
package is needed only when the space holds `hp.*` objects: `fmin` over a plain knoblab space (a dict of
`kl.Real`, lists, ...) works without it, and its objective receives the trial's params dict.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from ..space import Space
from ..storage.sql import dumps
from ..trial import FrozenTrial, ObjectiveSetupError, TrialState
from ._runs import Scratch, run_search, seed_from
from .hyperopt_space import HyperoptSpace, _holds_pyll, from_hyperopt, is_hyperopt_space, space_eval  # noqa: F401

# from_hyperopt, space_eval and HyperoptSpace are importable from here too (they live in hyperopt_space)
__all__ = [
    "fmin",
    "Trials",
    "AllTrialsFailed",
    "STATUS_OK",
    "STATUS_FAIL",
    "STATUS_STRINGS",
    "ALGORITHMS",
]

STATUS_NEW, STATUS_RUNNING, STATUS_SUSPENDED, STATUS_OK, STATUS_FAIL = "new", "running", "suspended", "ok", "fail"
STATUS_STRINGS = (STATUS_NEW, STATUS_RUNNING, STATUS_SUSPENDED, STATUS_OK, STATUS_FAIL)
# hyperopt's job states, as its trial documents carry them
JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_DONE, JOB_STATE_ERROR = 0, 1, 2, 3

#: hyperopt's search algorithms and the knoblab strategy each runs as (hyperopt has no GP; we have no annealing:
#: TPE, which samples near the best trials so far, is the closest to it)
ALGORITHMS = {
    "hyperopt.tpe.suggest": "tpe",
    "hyperopt.rand.suggest": "random",
    "hyperopt.anneal.suggest": "tpe",
    "hyperopt.atpe.suggest": "tpe",
}


class AllTrialsFailed(Exception):
    """No trial ended with status 'ok', so there is no best trial (hyperopt raises its own of the same name)."""


# ---------------------------------------------------------------------------------------------------------------
# trials
# ---------------------------------------------------------------------------------------------------------------
class _StatusFail(Exception):
    """fn returned a result whose status is not 'ok': the trial ends FAILED and the search goes on."""


# hyperopt Trials objects that fmin filled, and the knoblab Trials behind each (a weak map, so that pickling the
# user's Trials, as hyperopt users do, never meets our storage)
_MIRRORED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Trials:
    """hyperopt's `Trials`, backed by a knoblab experiment: `.trials` (hyperopt's trial documents), `.results`,
    `.losses()`, `.statuses()`, `.best_trial`, `.argmin`, `.vals`, `.idxs`, `.tids`, `len()`, iteration.

    `Trials()` keeps its trials in a temporary database for as long as the object lives (as hyperopt's in-memory
    Trials: passing it to `fmin` again continues the same search). `Trials(name="x")` stores them in `storage`
    (default ./knoblab.db) as experiment "x": a rerun of the script continues it, the dashboard and CLI show it.

    What is read back: a trial's loss, status and the JSON-able keys of its result; keys that are not JSON (a
    Keras model, as Hyperas objectives return) stay in memory, in this object, for the trials this process ran.
    `.experiment` is the knoblab Experiment (after the first fmin), for `results`, `analyze()` and the rest.
    """

    def __init__(self, name: str | None = None, storage: Any = None):
        if name is not None and not (isinstance(name, str) and name.strip()):
            raise ValueError(f"name: got {name!r}; give a non-empty string or None (a temporary search)")
        self.name = name
        self.storage = storage
        self.experiment: Any = None
        self.space: Space | None = None
        self.attachments: dict[str, Any] = {}
        self._results: dict[int, dict[str, Any]] = {}  # trial number -> what fn returned, in this process
        self._scratch: Scratch | None = None
        self._store: Any = None

    # ---- opening the experiment ----
    def _open(self, space: Space, strategy: Any, seed: int | None, n_jobs: int = 1) -> Any:
        from ..experiment import Experiment
        from ..storage import open_storage

        if self._store is None:
            if self.name is None and self.storage is None:
                self._scratch = Scratch(owner=self, shared=n_jobs > 1)
                self._store = open_storage(self._scratch.url)
            else:
                self._store = open_storage(self.storage)
        name = self.name or "fmin"
        exists = self._store.get_experiment(name) is not None
        extra: dict[str, Any] = {}  # an unnamed search beats as its scratch database wants
        if self._scratch is not None:
            extra["heartbeat_interval"] = self._scratch.heartbeat_interval
        self.experiment = Experiment(
            name,
            space,
            metric="loss",
            direction="min",
            strategy=strategy,
            storage=self._store,
            seed=None if exists else seed,
            **extra,
        )
        self.space = space
        return self.experiment

    def _frozen(self) -> list[FrozenTrial]:
        if self.experiment is None:
            return []
        return [t for t in self.experiment.trials if not t.attrs.get("interrupted")]

    # ---- hyperopt's documents ----
    def _doc(self, t: FrozenTrial) -> dict[str, Any]:
        space = self.space
        assert space is not None  # set by _open, with the experiment the trial is from
        labels = list(space.labels) if isinstance(space, HyperoptSpace) else list(space.all_knobs())
        point = space.to_hyperopt(t.params) if isinstance(space, HyperoptSpace) else dict(t.params)
        stored = t.attrs.get("hyperopt_result")
        result: dict[str, Any]
        if t.state == TrialState.QUEUED:
            state, result = JOB_STATE_NEW, {"status": STATUS_NEW}
        elif t.state == TrialState.RUNNING:
            state, result = JOB_STATE_RUNNING, {"status": STATUS_RUNNING}
        elif t.state == TrialState.COMPLETE:
            state = JOB_STATE_DONE
            result = {**dict(stored or {}), **t.metrics, "loss": t.value, "status": STATUS_OK}
        elif stored is not None:  # fn returned a status other than 'ok'
            state, result = JOB_STATE_DONE, dict(stored)
        else:  # fn raised, or a scheduler stopped it
            state, result = JOB_STATE_ERROR, {"status": STATUS_FAIL}
        result = self._results.get(t.number, result)
        misc: dict[str, Any] = {
            "tid": t.number,
            "cmd": None,
            "workdir": None,
            "idxs": {label: [t.number] if label in point else [] for label in labels},
            "vals": {label: [point[label]] if label in point else [] for label in labels},
        }
        if state == JOB_STATE_ERROR and t.error:
            head = t.error.split("\n")[0]
            kind, _, message = head.partition(": ")
            misc["error"] = (kind, message)
        return {
            "state": state,
            "tid": t.number,
            "spec": None,
            "result": result,
            "misc": misc,
            "exp_key": None,
            "owner": None,
            "version": 0,
            "book_time": t.started_at,
            "refresh_time": t.finished_at or t.heartbeat_at,
        }

    @property
    def _dynamic_trials(self) -> list[dict[str, Any]]:
        """Every trial's document, those whose fn raised included (hyperopt's name for the same list)."""
        return [self._doc(t) for t in self._frozen()]

    @property
    def trials(self) -> list[dict[str, Any]]:
        """The trial documents, as hyperopt's `Trials.trials`: those whose fn raised are left out, as hyperopt does."""
        return [d for d in self._dynamic_trials if d["state"] != JOB_STATE_ERROR]

    def refresh(self) -> None:
        """Nothing to do: every read goes to the storage (kept for code written for hyperopt)."""

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.trials)

    @property
    def tids(self) -> list[int]:
        """Each trial's id (its knoblab trial number), as hyperopt's `Trials.tids`."""
        return [d["tid"] for d in self.trials]

    @property
    def specs(self) -> list[Any]:
        """Each trial's spec (None: knoblab keeps the point in `misc["vals"]`)."""
        return [d["spec"] for d in self.trials]

    @property
    def results(self) -> list[dict[str, Any]]:
        """Each trial's result dict (loss, status and the rest of what fn returned)."""
        return [d["result"] for d in self.trials]

    @property
    def miscs(self) -> list[dict[str, Any]]:
        """Each trial's misc: its tid, and the labels it used in `idxs` and `vals`."""
        return [d["misc"] for d in self.trials]

    @property
    def idxs_vals(self) -> tuple[dict[str, list], dict[str, list]]:
        """(idxs, vals): for each label, the tids that used it and the values they had."""
        idxs: dict[str, list] = {}
        vals: dict[str, list] = {}
        for misc in self.miscs:
            for label, v in misc["vals"].items():
                idxs.setdefault(label, []).extend(misc["idxs"][label])
                vals.setdefault(label, []).extend(v)
        return idxs, vals

    @property
    def idxs(self) -> dict[str, list]:
        """For each label, the tids of the trials that used it."""
        return self.idxs_vals[0]

    @property
    def vals(self) -> dict[str, list]:
        """For each label, the values it had in the trials that used it."""
        return self.idxs_vals[1]

    def losses(self, bandit: Any = None) -> list[float | None]:
        """Each trial's loss (None where it has none: a failed status)."""
        return [r.get("loss") for r in self.results]

    def statuses(self, bandit: Any = None) -> list[str | None]:
        """Each trial's status ('ok', 'fail', ...)."""
        return [r.get("status") for r in self.results]

    def count_by_state_unsynced(self, arg: Any) -> int:
        """How many trials are in a hyperopt job state (or any of a list of them), errored ones included."""
        states = {arg} if isinstance(arg, int) else set(arg)
        return sum(1 for d in self._dynamic_trials if d["state"] in states)

    count_by_state_synced = count_by_state_unsynced

    @property
    def best_trial(self) -> dict[str, Any]:
        """The document of the trial with the lowest loss among those with status 'ok'; AllTrialsFailed if none."""
        ok = [
            d
            for d in self.trials
            if d["result"].get("status") == STATUS_OK
            and d["result"].get("loss") is not None
            and not math.isnan(float(d["result"]["loss"]))
        ]
        if not ok:
            raise AllTrialsFailed("no trial ended with status 'ok'")
        return min(ok, key=lambda d: float(d["result"]["loss"]))

    @property
    def argmin(self) -> dict[str, Any]:
        """The best trial's assignment {label: value} (choices as indices), as hyperopt's `Trials.argmin`."""
        return {label: v[0] for label, v in self.best_trial["misc"]["vals"].items() if v}

    def average_best_error(self, bandit: Any = None) -> float:
        """The best trial's loss (hyperopt weighs by loss variance when trials report one; knoblab does not)."""
        return float(self.best_trial["result"]["loss"])

    def trial_attachments(self, trial: Mapping[str, Any]) -> dict[str, Any]:
        """The attachments fn returned for this trial (kept in memory, for the trials this process ran)."""
        return self.attachments.setdefault(f"ATTACH::{trial['tid']}", {})

    def __reduce__(self):
        if self.name is None and self.storage is None:
            raise TypeError(
                "a Trials() without a name lives in a temporary database and cannot be pickled; use "
                "Trials(name='...', storage='sqlite:///file.db') and reopen it by name instead"
            )
        if not isinstance(self.storage, str | None):
            raise TypeError("a Trials over a storage object cannot be pickled; give the storage as a URL")
        return (Trials, (self.name, self.storage))

    def __repr__(self) -> str:
        where = "temporary" if self.name is None and self.storage is None else repr(self.name or "fmin")
        return f"Trials({where}, {len(self._frozen())} trials)"


def _is_hyperopt_trials(obj: Any) -> bool:
    return type(obj).__module__.startswith("hyperopt") and hasattr(obj, "_dynamic_trials")


def _mirror(store: Trials, target: Any) -> None:
    """Writes the experiment's trials into a hyperopt Trials object, as hyperopt's fmin would have left it."""
    target._dynamic_trials = store._dynamic_trials
    target.attachments.update(store.attachments)
    target.refresh()


def _import(store: Trials, source: Any, space: Space) -> None:
    """Brings the trials of a hyperopt Trials (say one unpickled from an earlier hyperopt run) into a new
    experiment: finished ones with their results, not-yet-run ones queued. A point outside the knoblab space (a
    normal knob's tail past `sigmas`) is skipped with a warning naming its tid."""
    exp = store.experiment
    skipped = []
    for doc in sorted(source._dynamic_trials, key=lambda d: d["tid"]):
        if doc["state"] not in (JOB_STATE_DONE, JOB_STATE_NEW):
            continue
        assignment = {label: v[0] for label, v in doc["misc"]["vals"].items() if v}
        try:
            params = space.from_hyperopt(assignment) if isinstance(space, HyperoptSpace) else space.validate(assignment)
        except ValueError as e:
            skipped.append(f"tid {doc['tid']} ({e})")
            continue
        queued = exp.enqueue(params, note=f"from hyperopt Trials, tid {doc['tid']}")
        if doc["state"] == JOB_STATE_NEW:
            continue
        (trial,) = [t for t in exp.ask(1) if t.id == queued.id] or [None]
        if trial is None:  # pragma: no cover - another process took it
            continue
        result = dict(doc["result"])
        stored, _ = _storable(result)
        trial.set_attr("hyperopt_result", stored)
        if result.get("status") == STATUS_OK and _is_number(result.get("loss")):
            exp.tell(trial, {"loss": float(result["loss"]), **_numbers(result)})
        else:
            exp.tell(trial, None, state=TrialState.FAILED, error=f"status {result.get('status')!r} (from hyperopt)")
    if skipped:
        warnings.warn("hyperopt trials not imported: " + "; ".join(skipped), UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------------------------
# fmin
# ---------------------------------------------------------------------------------------------------------------
class _FminObjective:
    """Runs hyperopt's `fn` on a trial: builds its argument as hyperopt would, reads its result as hyperopt does."""

    def __init__(self, fn: Callable[..., Any], space: Space, keywords: bool, results: dict[int, dict[str, Any]]):
        self.fn, self.space, self.keywords, self.results = fn, space, keywords, results
        self.attachments: dict[int, dict[str, Any]] = {}  # trial number -> the attachments fn returned

    def __call__(self, trial: Any) -> dict[str, float]:
        point = self.space.rebuild(trial.params) if isinstance(self.space, HyperoptSpace) else trial.params
        result = self.fn(**point) if self.keywords else self.fn(point)
        return self.interpret(trial, result)

    def interpret(self, trial: Any, result: Any) -> dict[str, float]:
        if _is_number(result):
            self.results[trial.number] = {"loss": float(result), "status": STATUS_OK}
            return {"loss": float(result)}
        if not isinstance(result, Mapping):
            raise ObjectiveSetupError(
                f"fn returned {type(result).__name__}; return a number (the loss) or a dict with 'loss' and 'status'"
            )
        result = dict(result)
        status = result.get("status")
        if status is None:
            raise ObjectiveSetupError(
                f"fn returned a dict without 'status' (keys {sorted(map(str, result))}); add 'status': STATUS_OK "
                "(or STATUS_FAIL), as hyperopt requires"
            )
        if status not in STATUS_STRINGS:
            raise ObjectiveSetupError(f"fn returned status {status!r}; allowed: {list(STATUS_STRINGS)}")
        attachments = result.pop("attachments", None)
        if attachments:
            self.attachments[trial.number] = dict(attachments)
        stored, unstored = _storable(result)
        if unstored:
            stored["unstored"] = unstored  # what was not JSON (a model): kept in memory only
        trial.set_attr("hyperopt_result", stored)
        self.results[trial.number] = result
        if status != STATUS_OK:
            raise _StatusFail(f"fn returned status {status!r}")
        if not _is_number(result.get("loss")):
            raise ObjectiveSetupError(
                f"fn returned status 'ok' with loss {result.get('loss')!r}; status 'ok' needs a numeric 'loss'"
            )
        result["loss"] = float(result["loss"])  # as hyperopt's Domain.evaluate does
        return {**_numbers(result), "loss": result["loss"]}

    def __getstate__(self) -> dict[str, Any]:
        # worker processes get the function and the space; results they see stay with them
        return {**self.__dict__, "results": {}}


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real | np.number) and not isinstance(x, bool | np.bool_)


def _numbers(result: Mapping[str, Any]) -> dict[str, float]:
    """The result's finite numbers other than the loss: stored as the trial's metrics."""
    return {
        str(k): float(v)
        for k, v in result.items()
        if k not in ("loss", "status") and _is_number(v) and math.isfinite(float(v))
    }


def _storable(result: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The result's plain-JSON entries (numbers, strings, lists, dicts; numpy scalars and arrays as lists), and the
    names of the others (a Keras model, an estimator: they stay in memory, never serialized into the trial)."""
    stored, unstored = {}, []
    for k, v in result.items():
        try:
            json.dumps(v, default=_plain_numpy)
        except (TypeError, ValueError):
            unstored.append(str(k))
            continue
        stored[str(k)] = json.loads(dumps(v))
    return stored, unstored


def _plain_numpy(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not plain JSON")


class _EarlyStop(Exception):
    """early_stop_fn said stop."""


def _strategy(algo: Any) -> Any:
    """A knoblab strategy for hyperopt's `algo` (tpe.suggest, rand.suggest, anneal.suggest, a functools.partial of
    one), a knoblab strategy name, or a knoblab Strategy."""
    import functools

    from ..strategies import Strategy
    from ..strategies.tpe import TPESearch

    if algo is None:
        return "tpe"  # hyperopt's default
    if isinstance(algo, str | Strategy):
        return algo
    keywords: dict[str, Any] = {}
    if isinstance(algo, functools.partial):
        keywords, algo = dict(algo.keywords), algo.func
    where = f"{getattr(algo, '__module__', '')}.{getattr(algo, '__name__', '')}"
    if where not in ALGORITHMS:
        raise ValueError(
            f"algo: got {algo!r}; allowed: hyperopt's tpe.suggest, rand.suggest, anneal.suggest, atpe.suggest (or a "
            "functools.partial of one), a knoblab strategy name ('tpe', 'random', 'gp', ...) or a Strategy"
        )
    name = ALGORITHMS[where]
    if name == "tpe" and where == "hyperopt.tpe.suggest":
        options: dict[str, Any] = {}
        if "n_startup_jobs" in keywords:
            options["n_startup"] = int(keywords.pop("n_startup_jobs"))
        if "n_EI_candidates" in keywords:
            options["n_candidates"] = int(keywords.pop("n_EI_candidates"))
        keywords.pop("rng", None)
        if keywords:
            warnings.warn(
                f"algo: tpe.suggest options {sorted(keywords)} have no knoblab counterpart and are ignored",
                UserWarning,
                stacklevel=3,
            )
        return TPESearch(**options) if options else "tpe"
    if keywords:
        warnings.warn(f"algo: {where} options {sorted(keywords)} are ignored", UserWarning, stacklevel=3)
    return name


def fmin(
    fn: Callable[..., Any],
    space: Any,
    algo: Any = None,
    max_evals: int | None = None,
    timeout: float | None = None,
    loss_threshold: float | None = None,
    trials: Any = None,
    rstate: Any = None,
    allow_trials_fmin: bool = True,
    pass_expr_memo_ctrl: Any = None,
    catch_eval_exceptions: bool = False,
    verbose: bool = True,
    return_argmin: bool = True,
    points_to_evaluate: list[Mapping[str, Any]] | None = None,
    max_queue_len: int = 1,
    show_progressbar: Any = True,
    early_stop_fn: Callable[..., Any] | None = None,
    trials_save_file: str = "",
    *,
    name: str | None = None,
    storage: Any = None,
    n_jobs: int = 1,
    sigmas: float = 3.0,
) -> Any:
    """hyperopt's `fmin` on knoblab: minimizes `fn` over `space` (an `hp.*` space or a knoblab one) and returns the
    best assignment {label: value}, with choices as indices, as hyperopt does (`space_eval(space, best)` gives
    the point itself).

    hyperopt's arguments mean what they mean there: `max_evals` counts the trials of `trials` (passing the same
    Trials again continues; trials whose fn raised are not counted), `timeout` seconds, `loss_threshold` stops
    once reached, `rstate` seeds the search, `catch_eval_exceptions=False` lets fn's exceptions out (the trial is
    stored FAILED first), `points_to_evaluate` runs first (on top of max_evals, as in hyperopt),
    `early_stop_fn(trials, *args) -> (stop, args)` after each trial, `trials_save_file` keeps the search in that
    SQLite file (continued when it exists). `algo`: see ALGORITHMS (or a knoblab strategy name). `max_queue_len` is accepted and has no effect.
    `trials` may be `knoblab.compat.hyperopt.Trials` or hyperopt's own `Trials`, which is filled as hyperopt's
    fmin fills it (its earlier trials, from a hyperopt run, are imported first).

    knoblab's own: `name` / `storage` store the search as a named experiment that a rerun continues (default: a
    temporary one, as hyperopt's in-memory Trials), `n_jobs` runs trials in that many processes (fn and the space
    must pickle), `sigmas` sets the range of normal knobs. fn's argument is what hyperopt would pass; inside it,
    `knoblab.current_trial()` is the running trial (to report per-epoch metrics).
    """
    if not callable(fn):
        raise ValueError(f"fn: got {type(fn).__name__}; give a function of one point")
    if pass_expr_memo_ctrl:
        raise ValueError("pass_expr_memo_ctrl: not supported; fn receives the evaluated point, as by default")
    keywords = False
    if isinstance(space, str) and space == "annotated":
        import inspect

        try:  # eval_str: annotations written under `from __future__ import annotations` are strings
            annotations = inspect.get_annotations(fn, eval_str=True)
        except Exception as e:
            raise ValueError(f"space='annotated': fn's annotations cannot be read ({type(e).__name__}: {e})") from None
        space = {k: v for k, v in annotations.items() if k != "return"}
        for k, v in space.items():
            if not _holds_pyll(v):
                raise ValueError(f"space='annotated': argument {k!r} is annotated with {v!r}, not an hp.* expression")
        keywords = True
    space = _as_space(space, sigmas)
    if max_evals is not None and not (isinstance(max_evals, numbers.Integral) and max_evals >= 0):
        raise ValueError(f"max_evals: got {max_evals!r}; give an integer >= 0 or None")
    if max_evals is None and timeout is None and loss_threshold is None:
        raise ValueError("give a budget: max_evals, timeout or loss_threshold")
    if timeout is not None and not (_is_number(timeout) and timeout > 0):
        raise ValueError(f"timeout: got {timeout!r}; give seconds > 0 or None")
    if loss_threshold is not None and not _is_number(loss_threshold):
        raise ValueError(f"loss_threshold: got {loss_threshold!r}; give a number or None")
    if early_stop_fn is not None and not callable(early_stop_fn):
        raise ValueError(f"early_stop_fn: got {early_stop_fn!r}; give a function (trials, *args) -> (stop, args)")
    if not (isinstance(n_jobs, numbers.Integral) and n_jobs >= 1):
        raise ValueError(f"n_jobs: got {n_jobs!r}; give an integer >= 1")
    strategy = _strategy(algo)
    seed = seed_from(rstate, "rstate")
    store, mirror = _trials_for(trials, name, storage, trials_save_file, allow_trials_fmin)
    fresh_mirror = mirror is not None and mirror not in _MIRRORED
    exp = store._open(space, strategy, seed, int(n_jobs))
    if fresh_mirror:
        if mirror._dynamic_trials and exp.trials:
            raise ValueError(
                f"trials: this hyperopt Trials holds {len(mirror._dynamic_trials)} trials and experiment "
                f"{exp.name!r} already has {len(exp.trials)}; pass a fresh Trials() or another name"
            )
        _import(store, mirror, space)
        _MIRRORED[mirror] = store
    extra = 0  # hyperopt runs points_to_evaluate on top of max_evals
    if points_to_evaluate and not exp.trials:
        if not isinstance(points_to_evaluate, list):
            raise ValueError(f"points_to_evaluate: got {type(points_to_evaluate).__name__}; give a list of dicts")
        for i, point in enumerate(points_to_evaluate):
            try:
                params = space.from_hyperopt(point) if isinstance(space, HyperoptSpace) else space.validate(point)
            except ValueError as e:
                raise ValueError(f"points_to_evaluate[{i}]: {e}") from None
            exp.enqueue(params, note="points_to_evaluate")
            extra += 1

    n_trials = None
    if max_evals is not None:
        used = [t for t in exp.trials if t.state != TrialState.QUEUED and not t.attrs.get("interrupted")]
        raised = sum(1 for t in used if t.state == TrialState.FAILED and "hyperopt_result" not in t.attrs)
        n_trials = raised + int(max_evals) + extra
    callbacks = []
    if mirror is not None:
        callbacks.append(lambda e, t: _mirror(store, mirror))
    stop_args: list[Any] = []
    if early_stop_fn is not None:

        def early_stop(experiment: Any, done: FrozenTrial) -> None:
            nonlocal stop_args
            stop, stop_args = early_stop_fn(mirror if mirror is not None else store, *stop_args)
            if stop:
                raise _EarlyStop

        callbacks.append(early_stop)
    objective = _FminObjective(fn, space, keywords, store._results)
    budget = n_trials is None or n_trials > len(
        [t for t in exp.trials if t.state != TrialState.QUEUED and not t.attrs.get("interrupted")]
    )
    try:
        if budget:
            run_search(
                exp,
                objective,
                n_trials=n_trials,
                n_jobs=int(n_jobs),
                raise_errors=not catch_eval_exceptions,
                expected=(_StatusFail,),
                callbacks=callbacks,
                time_limit=timeout,
                target=loss_threshold,
                show_progress=None if (verbose and show_progressbar) else False,
            )
    except _EarlyStop:
        pass
    finally:
        store.attachments.update({f"ATTACH::{tid}": a for tid, a in objective.attachments.items()})
        if mirror is not None:
            _mirror(store, mirror)
    view = mirror if mirror is not None else store
    if return_argmin:
        if len(view.trials) == 0:
            raise AllTrialsFailed("there are no evaluated trials, so no argmin")
        return view.argmin
    if len(view.trials) > 0:
        return space_eval(space, view.argmin)
    return None


def _as_space(space: Any, sigmas: float) -> Space:
    if isinstance(space, Space):
        return space
    if is_hyperopt_space(space):
        return HyperoptSpace(space, sigmas=sigmas)
    if not isinstance(space, Mapping):
        raise ValueError(
            f"space: got {type(space).__name__}; give a dict of hyperopt hp.* expressions or of knoblab knobs "
            "(a single hp.* expression too)"
        )
    return Space(space)


def _trials_for(trials: Any, name: str | None, storage: Any, save_file: str, allow_trials_fmin: bool) -> tuple:
    """The knoblab Trials to run with, and the hyperopt Trials to fill (or None)."""
    if save_file:
        if trials is not None or name is not None or storage is not None:
            raise ValueError("trials_save_file: give it alone, or name/storage (or trials), not both")
        return Trials(name="fmin", storage=f"sqlite:///{save_file}"), None
    if trials is None:
        return Trials(name=name, storage=storage), None
    if name is not None or storage is not None:
        raise ValueError("name / storage: give them to Trials(name=..., storage=...), or drop trials")
    if isinstance(trials, Trials):
        return trials, None
    if _is_hyperopt_trials(trials):
        if getattr(trials, "asynchronous", False) or type(trials).__name__ != "Trials":
            raise ValueError(
                f"trials: got hyperopt's {type(trials).__name__}, which runs trials elsewhere; knoblab runs them "
                "itself (n_jobs=... for worker processes): pass Trials() or none"
            )
        linked = _MIRRORED.get(trials)
        return (Trials() if linked is None else linked), trials
    raise ValueError(
        f"trials: got {type(trials).__name__}; give knoblab.compat.hyperopt.Trials(), hyperopt's Trials() or None"
    )
