"""Keras glue for schedulers that pause and resume trials: PBT and promotion-mode ASHA/Hyperband.

How a Keras trial pauses and resumes (the choice, and why):
- A scheduler pauses a trial by storing `paused_at` in its attrs and answering "stop". The reporter then saves the
  model's weights and its optimizer's state (not the learning rate: PBT may have changed it) to
  `<artifacts_dir>/checkpoints/trial_<number>_r<resource>.npz` and stores that path as the trial's `checkpoint`
  attr. A plain `.npz` of arrays, not a `.keras` file: loading it needs no custom objects and no safe-mode
  exceptions, and it restores into the model the user's function has just built with the (perhaps perturbed)
  params, so dropout or learning-rate changes take effect while the weights carry over.
- A continuation trial (queued by the scheduler with `resume_step` and `resume_checkpoint` attrs) gets its reporter
  prepared here: the reporter loads the checkpoint when training begins, numbers its epochs from `resume_step`,
  and `fit` is called with `initial_epoch=resume_step`, so `epochs=params["epochs"]` still means "train up to
  that many epochs in all". A checkpoint that is missing or does not fit the model (a knob that changes the
  architecture) is ignored with a warning: the trial trains from scratch and reports from step 0.
- Checkpoints are deleted once no trial can resume from them (the scheduler decides, in the process that ran the
  trial that freed them; `Scan.run` releases the paused trials' ones when the search ends): see "Checkpoints" in
  `knoblab.schedulers.base`. `keep_checkpoints=True` on the scheduler keeps them all.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["prepare", "save_checkpoint", "load_checkpoint", "on_told_to_stop"]


def _attrs(trial: Any) -> dict[str, Any]:
    frozen = getattr(trial, "_frozen", None)
    return dict(getattr(frozen, "attrs", None) or {})


def prepare(trial: Any, reporter: Any, artifacts_dir: str | Path) -> None:
    """Sets up a trial's reporter: where checkpoints go, and the checkpoint and first epoch of a continuation."""
    reporter.checkpoint_dir = Path(artifacts_dir) / "checkpoints"
    attrs = _attrs(trial)
    path, step = attrs.get("resume_checkpoint"), int(attrs.get("resume_step") or 0)
    if path and step > 0:
        if Path(path).exists():
            reporter.resume_from, reporter.start_step = str(path), step
        else:
            warnings.warn(
                f"trial {trial.number}: checkpoint {path} is gone; it trains from scratch", RuntimeWarning, stacklevel=2
            )


def _optimizer_arrays(model: Any) -> list[np.ndarray]:
    opt = getattr(model, "optimizer", None)
    if opt is None or not getattr(opt, "built", False):
        return []
    return [np.array(v, copy=True) for v in opt.variables if not v.path.endswith("learning_rate")]


def save_checkpoint(model: Any, path: str | Path) -> str:
    """Writes the model's weights and optimizer state (learning rate excluded) to an `.npz` file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = [np.asarray(w) for w in model.get_weights()]
    arrays = {f"w{i:04d}": w for i, w in enumerate(weights)}
    arrays.update({f"o{i:04d}": v for i, v in enumerate(_optimizer_arrays(model))})
    tmp = path.with_suffix(".tmp.npz")
    # numpy's stub lets **kwds fill `allow_pickle: bool` too; the keys here are only w0000.../o0000...
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)  # whole or not at all: a reader never sees half a checkpoint
    return str(path)


def load_checkpoint(model: Any, path: str | Path) -> bool:
    """Loads weights (and the optimizer state when it fits) saved by `save_checkpoint`; False when they do not
    fit the model (then nothing is changed)."""
    with np.load(path) as data:
        weights = [data[k] for k in sorted(k for k in data.files if k.startswith("w"))]
        opt_state = [data[k] for k in sorted(k for k in data.files if k.startswith("o"))]
    current = model.get_weights()
    if len(current) != len(weights) or any(a.shape != b.shape for a, b in zip(current, weights)):
        return False
    model.set_weights(weights)
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "built", False) and opt_state:
        targets = [v for v in opt.variables if not v.path.endswith("learning_rate")]
        if len(targets) == len(opt_state) and all(tuple(v.shape) == a.shape for v, a in zip(targets, opt_state)):
            for v, a in zip(targets, opt_state):
                v.assign(a)
    return True


def on_train_begin(reporter: Any, model: Any) -> None:
    """Loads the continuation's checkpoint into the freshly built model (once)."""
    path = getattr(reporter, "resume_from", None)
    if not path:
        return
    reporter.resume_from = None
    if not load_checkpoint(model, path):
        warnings.warn(
            f"checkpoint {path} does not fit this model (an architecture knob changed?); training from scratch",
            RuntimeWarning,
            stacklevel=2,
        )


def on_told_to_stop(reporter: Any, model: Any) -> None:
    """When a scheduler paused the trial (its `paused_at` attr), saves a checkpoint and stores its path."""
    trial = reporter.trial
    folder = getattr(reporter, "checkpoint_dir", None)
    if trial is None or folder is None:
        return
    attrs = trial.freeze().attrs
    paused = attrs.get("paused_at")
    if paused is None:
        return
    path = save_checkpoint(model, Path(folder) / f"trial_{trial.number:05d}_r{int(paused)}.npz")
    trial.set_attr("checkpoint", path)
