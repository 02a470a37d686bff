"""Helpers of the dashboard tests: small experiments in a real storage, a live trial fed by a thread."""

from __future__ import annotations

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
    """A fake training run: loss and val_loss per epoch, the metric is val_loss."""
    lr = trial.params["lr"]
    for epoch in range(5):
        trial.report(epoch, loss=1.0 / (epoch + 1), val_loss=1.2 / (epoch + 1) + lr)
    return {"val_loss": 0.25 + lr, "loss": 0.2}


def make_experiment(url: str, name: str = "demo", n_trials: int = 12) -> kl.Experiment:
    exp = kl.Experiment(name, SPACE, metric="val_loss", storage=url, seed=0, strategy="random")
    exp.optimize(curve_objective, n_trials=n_trials, show_progress=False)
    return exp


class LiveTrial:
    """A RUNNING trial whose curve a background thread extends every `every` seconds until stopped or told to."""

    def __init__(self, exp: kl.Experiment, every: float = 0.3, max_steps: int = 400):
        self.exp = exp
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
            self.trial.report(step, loss=1.0 / (step + 1), val_loss=1.1 / (step + 1))
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
