"""Hand-written learning curves: the i-th new trial (knob `i`, proposed in order) reports CURVES[i] step by step."""

from __future__ import annotations

import knoblab as kl
from knoblab.strategies.base import Strategy
from knoblab.trial import TrialPruned


class InOrder(Strategy):
    """Proposes i = 0, 1, 2, ... (continuations queued by a scheduler do not count)."""

    name = "in_order"

    def __init__(self, epochs: int, count: int | None = None, offset: int = 0):
        self.epochs, self.count, self.offset = epochs, count, offset

    def ask(self, history, n):
        k = sum(1 for t in history if t.attrs.get("source") not in ("promotion", "pbt"))
        if self.count is not None:
            n = max(0, min(n, self.count - k))
        return [{"i": self.offset + k + j, "epochs": self.epochs} for j in range(n)]


def curve_objective(curves):
    def objective(trial):
        curve = curves[trial.params["i"]]
        start = trial._frozen.attrs.get("resume_step", 0)  # a promoted continuation reports from its rung on
        for step in range(start, len(curve)):
            trial.report(step, loss=curve[step])
            if trial.should_stop():
                raise TrialPruned()
        return curve[-1]

    return objective


def run_curves(url, curves, scheduler, n_trials=None, seed=0, name="curves"):
    """Runs the curves in order under `scheduler`; returns the experiment."""
    epochs = len(curves[0])
    space = {"i": list(range(len(curves))), "epochs": epochs}
    exp = kl.Experiment(
        name,
        space,
        metric="loss",
        direction="min",
        strategy=InOrder(epochs, len(curves)),
        scheduler=scheduler,
        storage=url,
        seed=seed,
    )
    exp.optimize(curve_objective(curves), n_trials=n_trials or len(curves), show_progress=False)
    return exp


def outcome(exp):
    """[(i, state, first step, steps reported)] in trial order."""
    out = []
    for t in exp.storage.get_trials(exp.id, with_reports=True):
        first = t.reports[0][0] if t.reports else None
        out.append((t.params["i"], t.state.value, first, len(t.reports)))
    return out


def checkpointing_objective(curves, folder, log):
    """`curve_objective` that pauses and resumes as the Keras layer does, with real files: a paused trial writes
    `folder/trial_<n>_r<resource>.npz` and stores it as its `checkpoint`; a continuation reads its
    `resume_checkpoint` first, logging ("missing", number) when the file is gone."""
    from pathlib import Path

    import numpy as np

    def objective(trial):
        attrs = trial._frozen.attrs
        start = attrs.get("resume_step", 0)
        if start:
            path = attrs.get("resume_checkpoint")
            if path and Path(path).is_file():
                with np.load(path) as data:
                    assert int(data["step"]) == start
                log.append(("resumed", trial.number))
            else:
                log.append(("missing", trial.number))
        curve = curves[trial.params["i"]] if "i" in trial.params else [trial.params["x"]] * trial.params["epochs"]
        for step in range(start, len(curve)):
            trial.report(step, loss=curve[step])
            if trial.should_stop():
                paused = trial.freeze().attrs.get("paused_at")
                if paused is not None:
                    path = Path(folder) / f"trial_{trial.number:05d}_r{paused}.npz"
                    np.savez(path, step=np.array(paused))
                    trial.set_attr("checkpoint", str(path))
                raise TrialPruned()
        return curve[-1]

    return objective


def files(folder):
    """The checkpoint files in `folder`, by name."""
    from pathlib import Path

    return sorted(p.name for p in Path(folder).glob("*.npz"))
