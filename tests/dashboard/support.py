"""Helpers of the dashboard tests: small experiments in a real storage, a live trial fed by a thread."""

from __future__ import annotations

import math
import threading

import knoblab as kl

XSS = "<script>alert(1)</script>"
NOTE_XSS = '<img src=x onerror="window.__xss=1">'

SPACE = {
    "lr": kl.Real(1e-4, 1e-1, log=True),
    "units": kl.Int(8, 64),
    "opt": ["adam", XSS],
    "epochs": 5,
    "layers": kl.Branch({1: {}, 2: {"units2": kl.Int(4, 16)}}),
}


def curve_objective(trial):
    """A fake training run with a plausible landscape: loss and val_loss per epoch, the metric is val_loss."""
    p = trial.params
    final = 0.2 + 0.08 * (math.log10(p["lr"]) + 2.5) ** 2 + 0.4 / p["units"] + (0.03 if p["opt"] == XSS else 0.0)
    for epoch in range(p["epochs"]):
        trial.report(epoch, loss=0.8 * final + 0.5 / (epoch + 1), val_loss=final + 0.6 / (epoch + 1))
    return {"val_loss": final + 0.6 / p["epochs"], "loss": 0.8 * final + 0.5 / p["epochs"]}


def make_experiment(url: str, name: str = "demo", n_trials: int = 12) -> kl.Experiment:
    exp = kl.Experiment(name, SPACE, metric="val_loss", storage=url, seed=0, strategy="random")
    exp.optimize(curve_objective, n_trials=n_trials, show_progress=False)
    return exp


class LiveTrial:
    """A RUNNING trial whose curve a background thread extends every `every` seconds until stopped or told to."""

    def __init__(self, exp: kl.Experiment, every: float = 0.3, max_steps: int = 400, curve=None):
        self.exp = exp
        self.curve = curve or (lambda step: {"loss": 1.0 / (step + 1), "val_loss": 1.1 / (step + 1)})
        self.trial = exp.ask(1)[0]
        self.every = every
        self.max_steps = max_steps
        self.halt = threading.Event()
        self.saw_stop = threading.Event()
        self.steps = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        step = 0
        while not self.halt.is_set() and step < self.max_steps:
            self.trial.report(step, **self.curve(step))
            self.steps = step + 1
            step += 1
            if self.trial.should_stop():  # what an objective does: the dashboard's Stop shows up here
                self.saw_stop.set()
                break
            self.halt.wait(self.every)

    def __enter__(self) -> LiveTrial:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.halt.set()
        self.thread.join(timeout=10)


SHOWCASE_SPACE = {
    "lr": kl.Real(1e-4, 1e-1, log=True),
    "units": kl.Int(16, 512, log=True),
    "dropout": (0.0, 0.5, 6),
    "optimizer": ["adam", "nadam", "rmsprop"],
    "batch_size": [32, 64, 128],
    "epochs": 12,
}


def showcase_objective(trial):
    """Curves that look like a small network's: training loss keeps falling, validation loss turns up when it
    overfits (low dropout, many units)."""
    import numpy as np

    p = trial.params
    rng = np.random.default_rng(trial.seed)
    floor = (
        0.28
        + 0.06 * (math.log10(p["lr"]) + 2.7) ** 2
        + {"adam": 0.0, "nadam": 0.01, "rmsprop": 0.04}[p["optimizer"]]
        + 2.0 / p["units"]
        + 0.02 * rng.standard_normal()
    )
    overfit = 0.004 * (0.5 - p["dropout"]) * math.log2(p["units"])
    speed = 0.25 + 3 * p["lr"] ** 0.5
    val = 0.0
    for epoch in range(p["epochs"]):
        fit = math.exp(-speed * (epoch + 1))
        loss = floor * 0.85 + 0.9 * fit - overfit * epoch
        val = floor + 0.9 * fit + overfit * epoch + 0.01 * rng.standard_normal()
        trial.report(epoch, loss=loss, val_loss=val)
        if trial.should_stop():  # a scheduler (the screenshot's ASHA) prunes the unpromising ones
            raise kl.TrialPruned(f"stopped at epoch {epoch}")
    return {"val_loss": val, "loss": loss}


def pruning_objective(trial):
    """Like `curve_objective` over 8 epochs; every 5th trial is pruned at epoch 2 (as a scheduler would) and trial 3
    is stopped at epoch 3 as the dashboard's Stop does (a stop request, seen by `should_stop()`)."""
    p = trial.params
    final = 0.2 + 0.08 * (math.log10(p["lr"]) + 2.5) ** 2 + 0.4 / p["units"]
    for epoch in range(8):
        trial.report(epoch, loss=0.8 * final + 0.5 / (epoch + 1), val_loss=final + 0.6 / (epoch + 1))
        if trial.number % 5 == 4 and epoch == 2:
            raise kl.TrialPruned("pruned at epoch 2")
        if trial.number == 3 and epoch == 3:
            trial._storage.request_stop(trial.id)
        if trial.should_stop():
            raise kl.TrialPruned("stopped")
    return {"val_loss": final + 0.6 / 8, "loss": 0.8 * final + 0.5 / 8}


def make_pruning_experiment(url: str, name: str = "pruning", n_trials: int = 70) -> kl.Experiment:
    """An experiment with complete, pruned and stopped trials, each reporting loss and val_loss per epoch."""
    exp = kl.Experiment(name, SPACE, metric="val_loss", storage=url, seed=1, strategy="random")
    exp.optimize(pruning_objective, n_trials=n_trials, show_progress=False)
    return exp


# a Keras optimizer as knoblab.values stores it: tests show it by name without importing Keras (no trial runs it)
ADAM = {"$keras": "keras.optimizers:Adam", "config": {"learning_rate": 0.01}, "name": "Adam(learning_rate=0.01)"}
OBJECT_SPACE = {"act": [math.sqrt, math.exp], "shape": [(64, 32), (16,)], "opt": ["sgd", ADAM], "x": kl.Real(0.0, 1.0)}


def make_object_experiment(url: str, name: str = "objects") -> kl.Experiment:
    """Knob values stored by reference (functions, tuples, a Keras object): two trials run, one (with the Keras
    object) waits in the queue."""
    exp = kl.Experiment(name, OBJECT_SPACE, metric="loss", storage=url, seed=0, strategy="random")
    for act, x in ((math.sqrt, 0.5), (math.exp, 0.25)):
        exp.enqueue({"act": act, "shape": (64, 32), "opt": "sgd", "x": x})
    exp.optimize(lambda t: {"loss": t.params["act"](t.params["x"])}, n_trials=2, show_progress=False)
    exp.enqueue({"act": math.sqrt, "shape": (16,), "opt": ADAM, "x": 0.75})
    return exp
