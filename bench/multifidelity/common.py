"""What both multi-fidelity benchmarks share: the methods compared, each run as trials that report per epoch, and the
bookkeeping of compute (epochs trained) against the best full-budget value found so far."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import knoblab as kl
from knoblab.schedulers import Hyperband, SuccessiveHalving
from knoblab.trial import TrialPruned

ETA = 3


class Ledger:
    """Counts epochs trained and records (epochs so far, best value of a full-budget trial so far) as trials end."""

    def __init__(self, direction: str = "min"):
        self.epochs = 0
        self.best = math.inf if direction == "min" else -math.inf
        self.sign = 1.0 if direction == "min" else -1.0
        self.trajectory: list[tuple[int, float]] = []
        self.trials = 0

    def complete(self, value: float) -> None:
        self.trials += 1
        if self.sign * value < self.sign * self.best:
            self.best = value
        self.trajectory.append((self.epochs, self.best))

    def pruned(self) -> None:
        self.trials += 1


# a trial's training: train(params, start_epoch) -> an iterator of each epoch's value, resuming at start_epoch
Train = Callable[[dict, int], "iter"]


def _final(values, direction, how):
    if how == "last":
        return values[-1]
    return min(values) if direction == "min" else max(values)


def run_random(space, sample, train, max_epochs, budget_epochs, seed, direction="min", final="last"):
    """Full-budget random search: every trial trains max_epochs."""
    ledger = Ledger(direction)
    exp = kl.Experiment(
        "random", space, metric="value", direction=direction, strategy="random", storage="sqlite://", seed=seed
    )

    def objective(trial):
        values = []
        for _, v in zip(range(max_epochs), train(trial.params, 0)):
            ledger.epochs += 1
            values.append(v)
        value = _final(values, direction, final)
        ledger.complete(value)
        return value

    while ledger.epochs < budget_epochs:
        exp.optimize(objective, n_trials=ledger.trials + 10, show_progress=False)
    return ledger


def run_knoblab(scheduler, space, train, max_epochs, budget_epochs, seed, direction="min", final="last"):
    ledger = Ledger(direction)
    exp = kl.Experiment(
        "kl",
        space,
        metric="value",
        direction=direction,
        strategy="random",
        scheduler=scheduler,
        storage="sqlite://",
        seed=seed,
    )

    def objective(trial):
        start = int(trial._frozen.attrs.get("resume_step") or 0)  # a promoted continuation resumes at its rung
        values = []
        for step, v in zip(range(start, max_epochs), train(trial.params, start)):
            ledger.epochs += 1
            values.append(v)
            trial.report(step, value=v)
            if trial.should_stop():
                ledger.pruned()
                raise TrialPruned()
        value = _final(values, direction, final)
        ledger.complete(value)
        return value

    while ledger.epochs < budget_epochs:
        exp.optimize(objective, n_trials=ledger.trials + 20, show_progress=False)
    return ledger


def run_optuna(pruner_name, suggest, train, max_epochs, budget_epochs, seed, direction="min", final="last"):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if pruner_name == "sh":
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=ETA)
    else:
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs, reduction_factor=ETA)
    study = optuna.create_study(
        direction="minimize" if direction == "min" else "maximize",
        sampler=optuna.samplers.RandomSampler(seed=seed),
        pruner=pruner,
    )
    ledger = Ledger(direction)

    def objective(trial):
        params = suggest(trial)
        values = []
        for step, v in zip(range(max_epochs), train(params, 0)):
            ledger.epochs += 1
            values.append(v)
            trial.report(v, step + 1)  # optuna's step is the resource: epochs done
            if trial.should_prune():
                ledger.pruned()
                raise optuna.TrialPruned()
        value = _final(values, direction, final)
        ledger.complete(value)
        return value

    while ledger.epochs < budget_epochs:
        study.optimize(objective, n_trials=20)
    return ledger


def methods(max_epochs, only=None):
    """name -> how to run it (given the problem's pieces)."""
    every = {
        "random (full budget)": lambda p, seed, budget: run_random(
            p["space"], None, p["train"], max_epochs, budget, seed, p["direction"], p.get("final", "last")
        ),
        "knoblab ASHA": lambda p, seed, budget: run_knoblab(
            SuccessiveHalving(ETA, 1, max_epochs),
            p["space"],
            p["train"],
            max_epochs,
            budget,
            seed,
            p["direction"],
            p.get("final", "last"),
        ),
        "knoblab ASHA (promote)": lambda p, seed, budget: run_knoblab(
            SuccessiveHalving(ETA, 1, max_epochs, mode="promote"),
            p["space"],
            p["train"],
            max_epochs,
            budget,
            seed,
            p["direction"],
            p.get("final", "last"),
        ),
        "knoblab Hyperband": lambda p, seed, budget: run_knoblab(
            Hyperband(ETA, 1, max_epochs),
            p["space"],
            p["train"],
            max_epochs,
            budget,
            seed,
            p["direction"],
            p.get("final", "last"),
        ),
        "optuna SuccessiveHalvingPruner": lambda p, seed, budget: run_optuna(
            "sh", p["suggest"], p["train"], max_epochs, budget, seed, p["direction"], p.get("final", "last")
        ),
        "optuna HyperbandPruner": lambda p, seed, budget: run_optuna(
            "hb", p["suggest"], p["train"], max_epochs, budget, seed, p["direction"], p.get("final", "last")
        ),
    }
    return {k: v for k, v in every.items() if only is None or k in only}


def append(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0
