"""Each tool's search, driven the way its documentation shows, under one epoch ledger.

The ledger counts every epoch any tool trains (promoted or not, continued or from scratch) through a callback
that every fit gets. It stops the fit that reaches the budget at that epoch, and each tool is kept from starting
a trial once the budget is spent (Keras Tuner's oracle says STOPPED, Optuna's study is stopped; knoblab's Scan
stops by itself with `epoch_budget`). Tools that train only full trials (random search, Talos, Keras Tuner's
Bayesian optimization) get budget // MAX_EPOCHS of them. Every tool returns the configuration it selects by its
own rule; `run.py` retrains and scores it.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from . import spaces
from .tasks import BATCH_SIZE, MAX_EPOCHS, Split, build, fit, fit_args


class BudgetSpent(RuntimeError):
    """A fit was started after the epoch budget was spent (a tool's driver let one through)."""


class Ledger:
    """Epochs trained, fits started and seconds inside fit, across every trial of one search."""

    def __init__(self) -> None:
        self.reset(None)

    def reset(self, budget: int | None) -> None:
        self.budget, self.epochs, self.fits, self.fit_seconds = budget, 0, 0, 0.0

    @property
    def spent(self) -> bool:
        return self.budget is not None and self.epochs >= self.budget


LEDGER = Ledger()
KNOBLAB_DB = "knoblab.db"  # knoblab's storage, in the work folder of each search


class Count(keras.callbacks.Callback):
    """Counts into LEDGER (a module global, so the copies Keras Tuner makes of callbacks count in one place)."""

    def on_train_begin(self, logs=None):
        if LEDGER.spent:
            raise BudgetSpent(f"the budget of {LEDGER.budget} epochs is spent")
        LEDGER.fits += 1
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        LEDGER.epochs += 1
        if LEDGER.spent:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        LEDGER.fit_seconds += time.perf_counter() - self._t0


def _fit(model, split: Split, epochs: int, callbacks: list, **kwargs):
    """A search's fit: `tasks.fit`, counted into the ledger."""
    return fit(model, split, epochs, [*callbacks, Count()], **kwargs)


def _builder(task: str, split: Split, seed: int):
    return lambda params: build(task, params, split.n_classes, split.x_train.shape[1:], seed)


# ---- knoblab ----
def knoblab_default(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    """knoblab's Scan as a user writes it: the default strategy and scheduler, the budget in epochs."""
    return _knoblab(task, split, budget, seed, workdir, strategy="auto")


def knoblab_gp(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    """knoblab's Scan with strategy="gp" and the default scheduler: the GP on every rung's results."""
    return _knoblab(task, split, budget, seed, workdir, strategy="gp")


def knoblab_tpe(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    """knoblab's Scan with strategy="tpe" and the default scheduler: the default before 6e63aa0 (TPE under
    Hyperband, BOHB-like)."""
    return _knoblab(task, split, budget, seed, workdir, strategy="tpe")


def knoblab_hyperband_always(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    """knoblab's default with the multi-fidelity schedule at any budget (the 30-full-trial rule lifted): does
    Hyperband + TPE pay at 900 epochs too, where the default trains full trials?"""
    import knoblab.keras.scan as scan_module

    scan_module.MULTI_FIDELITY_MAX_FULL_TRIALS = 10**9
    return _knoblab(task, split, budget, seed, workdir, strategy="auto")


def knoblab_sh1(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    """knoblab's default with successive halving from 1 epoch (rungs 1, 3, 9; one bracket) instead of the planned
    schedule: many cheap first-rung trials, as Keras Tuner's Hyperband spends 240 epochs."""
    return _knoblab(task, split, budget, seed, workdir, strategy="auto", schedule={"min_resource": 1, "n_brackets": 1})


def knoblab_hb1(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    """knoblab's default with Hyperband from 1 epoch in two brackets (rungs 1, 3, 9 and 3, 9)."""
    return _knoblab(task, split, budget, seed, workdir, strategy="auto", schedule={"min_resource": 1, "n_brackets": 2})


def knoblab_random(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    return _knoblab(task, split, budget, seed, workdir, strategy="random", full_trials=True)


def _knoblab(task, split, budget, seed, workdir, strategy, full_trials=False, schedule=None):
    import knoblab as kl
    from knoblab.schedulers import Hyperband

    make = _builder(task, split, seed)

    def model_fn(x_train, y_train, x_val, y_val, params):
        model = make(params)
        history = _fit(model, split, int(params["epochs"]), [])
        return history, model

    kwargs: dict[str, Any] = {}
    if not full_trials and "epoch_budget" in inspect.signature(kl.Scan).parameters:
        kwargs["epoch_budget"] = budget
        how = f"epoch_budget={budget}"
    else:  # before Scan had epoch_budget: full trials, as many as fit
        kwargs["n_trials"] = budget // MAX_EPOCHS
        how = f"n_trials={budget // MAX_EPOCHS}"
    if schedule is not None:  # a schedule given instead of Scan's plan (development variants)
        kwargs["scheduler"] = Hyperband(max_resource=MAX_EPOCHS, mode="promote", **schedule)
    scan = kl.Scan(
        split.x_train,
        split.y_train,
        params=spaces.knoblab(task),
        model=model_fn,
        experiment_name=f"{task}-{seed}",
        x_val=split.x_val,
        y_val=split.y_val,
        metric="val_accuracy",
        strategy=strategy,
        seed=seed,
        storage=f"sqlite:///{workdir / KNOBLAB_DB}",
        artifacts_dir=workdir / "artifacts",
        keep_models=0,
        show_progress=False,
        **kwargs,
    )
    exp = scan.experiment
    choice = exp.record.attrs.get("auto_choice") if strategy == "auto" else strategy
    return {
        "best": {k: scan.best_params[k] for k in spaces.KNOBS[task]},
        "trials": len(exp.trials),
        "how": f"Scan(strategy={strategy!r}, {how}); chose {choice}, scheduler {exp.scheduler!r}",
    }


# ---- Keras Tuner ----
def _kt_hypermodel(task: str, split: Split, seed: int):
    make = _builder(task, split, seed)

    def hypermodel(hp):
        return make(spaces.keras_tuner(task, hp))

    return hypermodel


def kt_hyperband(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    import keras_tuner as kt

    tuner = kt.Hyperband(
        _kt_hypermodel(task, split, seed),
        objective="val_accuracy",
        max_epochs=MAX_EPOCHS,
        factor=3,
        hyperband_iterations=1000,  # as many as the budget allows: the ledger ends the search
        seed=seed,
        directory=str(workdir),
        project_name="kt",
        overwrite=True,
    )
    return _kt_search(tuner, task, split, epochs=MAX_EPOCHS, how=f"Hyperband(max_epochs={MAX_EPOCHS}, factor=3)")


def kt_bayesian(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    import keras_tuner as kt

    n = budget // MAX_EPOCHS
    tuner = kt.BayesianOptimization(
        _kt_hypermodel(task, split, seed),
        objective="val_accuracy",
        max_trials=n,
        seed=seed,
        directory=str(workdir),
        project_name="kt",
        overwrite=True,
    )
    return _kt_search(tuner, task, split, epochs=MAX_EPOCHS, how=f"BayesianOptimization(max_trials={n})")


def _kt_search(tuner, task: str, split: Split, epochs: int, how: str) -> dict[str, Any]:
    oracle = tuner.oracle
    populate = oracle.populate_space

    def populate_within_budget(trial_id):  # no new trial once the budget is spent
        if LEDGER.spent:
            return {"status": "STOPPED", "values": None}
        return populate(trial_id)

    oracle.populate_space = populate_within_budget
    tuner.search(**fit_args(split, epochs), callbacks=[Count()])
    best = tuner.get_best_hyperparameters(1)[0].values
    return {"best": {k: best[k] for k in spaces.KNOBS[task]}, "trials": len(oracle.trials), "how": how}


# ---- Optuna ----
def optuna_tpe_hyperband(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    make = _builder(task, split, seed)

    class Report(keras.callbacks.Callback):
        def __init__(self, trial):
            super().__init__()
            self.trial, self.pruned = trial, False

        def on_epoch_end(self, epoch, logs=None):
            self.trial.report(float(logs["val_accuracy"]), epoch)
            if self.trial.should_prune():
                self.pruned = True
                self.model.stop_training = True

    def objective(trial):
        model = make(spaces.optuna(task, trial))
        report = Report(trial)
        history = _fit(model, split, MAX_EPOCHS, [report])
        if report.pruned:
            raise optuna.TrialPruned()
        return float(np.max(history.history["val_accuracy"]))

    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS, reduction_factor=3),
    )
    study.optimize(objective, n_trials=100_000, callbacks=[lambda s, t: s.stop() if LEDGER.spent else None])
    return {
        "best": {k: study.best_trial.params[k] for k in spaces.KNOBS[task]},
        "trials": len(study.trials),
        "how": f"TPESampler + HyperbandPruner(1, {MAX_EPOCHS}, 3)",
    }


# ---- Talos ----
def talos_random(task: str, split: Split, budget: int, seed: int, workdir: Path) -> dict[str, Any]:
    import os

    import talos

    make = _builder(task, split, seed)

    def model_fn(x_train, y_train, x_val, y_val, params):
        model = make(params)
        history = _fit(model, split, int(params["epochs"]), [])
        return history, model

    n = budget // MAX_EPOCHS
    here = os.getcwd()
    os.chdir(workdir)  # Talos writes its experiment folder in the working directory
    try:
        scan = talos.Scan(
            split.x_train,
            split.y_train,
            params=spaces.talos(task),
            model=model_fn,
            experiment_name="talos",
            x_val=split.x_val,
            y_val=split.y_val,
            round_limit=n,
            seed=seed,
            random_method="uniform_mersenne",
            reduction_metric="val_accuracy",
            disable_progress_bar=True,
            save_weights=False,
        )
    finally:
        os.chdir(here)
    data = scan.data
    top = data.sort_values("val_accuracy", ascending=False).iloc[0]  # Talos' idiom: the best row of scan.data
    best = {k: top[k].item() if hasattr(top[k], "item") else top[k] for k in spaces.KNOBS[task]}
    return {"best": best, "trials": len(data), "how": f"Scan(round_limit={n}, random_method='uniform_mersenne')"}


# what each tool imports, loaded before the clock starts (import time is not search overhead)
IMPORTS = {
    "knoblab-default": ("knoblab", "knoblab.keras"),
    "knoblab-random": ("knoblab", "knoblab.keras"),
    "knoblab-gp": ("knoblab", "knoblab.keras"),
    "knoblab-tpe": ("knoblab", "knoblab.keras"),
    "knoblab-hyperband-always": ("knoblab", "knoblab.keras"),
    "knoblab-sh1": ("knoblab", "knoblab.keras"),
    "knoblab-hb1": ("knoblab", "knoblab.keras"),
    "kt-hyperband": ("keras_tuner",),
    "kt-bayesian": ("keras_tuner",),
    "optuna-tpe-hyperband": ("optuna",),
    "talos-random": ("talos", "talos.scan.Scan"),
}


def warm_up(tool: str, task: str, split: Split) -> None:
    """Imports the tool and trains the task's model for one epoch outside the ledger, so that no tool pays for
    the first fit's one-off costs (backend start-up, kernel selection)."""
    import importlib

    for name in IMPORTS[tool]:
        importlib.import_module(name)
    model = build(
        task,
        {"lr": 1e-3, "units": 8, "dropout": 0.0, "l2": 1e-4, "layers": 1},
        split.n_classes,
        split.x_train.shape[1:],
        0,
    )
    model.fit(
        split.x_train,
        split.y_train,
        validation_data=(split.x_val, split.y_val),
        epochs=1,
        batch_size=BATCH_SIZE,
        verbose=0,
    )


TOOLS = {
    "knoblab-default": knoblab_default,
    "knoblab-random": knoblab_random,
    "kt-hyperband": kt_hyperband,
    "kt-bayesian": kt_bayesian,
    "optuna-tpe-hyperband": optuna_tpe_hyperband,
    "talos-random": talos_random,
}
# run only when named (--tools): variants of knoblab's default, to find out what it should be
EXTRA_TOOLS = {
    "knoblab-gp": knoblab_gp,
    "knoblab-tpe": knoblab_tpe,
    "knoblab-hyperband-always": knoblab_hyperband_always,
    "knoblab-sh1": knoblab_sh1,
    "knoblab-hb1": knoblab_hb1,
}
