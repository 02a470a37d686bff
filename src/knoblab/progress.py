"""The progress bar of a search: trials done, best so far, resource spent and time left (tqdm; silent off a
terminal)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from .experiment import Experiment

__all__ = ["ProgressBar"]


class ProgressBar:
    """A tqdm bar with trials done, best so far and time left; silent when output is not a terminal."""

    def __init__(self, exp: Experiment, n_trials: int | None, show: bool | None):
        from tqdm.auto import tqdm

        done = sum(1 for t in exp.storage.get_trials(exp.id) if t.state.finished and not t.attrs.get("interrupted"))
        self.bar = tqdm(
            total=n_trials,
            initial=min(done, n_trials) if n_trials else done,
            disable=None if show is None else not show,
            desc=exp.name,
            unit="trial",
            leave=True,
        )
        self.best: float | None = None

    def update(self, exp: Experiment, trial: FrozenTrial) -> None:
        if trial.state == TrialState.COMPLETE and trial.value is not None:
            if self.best is None or exp._better(trial.value, self.best):
                self.best = trial.value
        parts = [f"best {exp.metric}={self.best:.4g}"] if self.best is not None else []
        budget = getattr(exp, "_max_resource", None)
        if budget is not None:  # a resource budget (optimize's max_resource, Scan's epoch_budget)
            parts.append(f"resource {exp.resource_spent}/{budget}")
        if parts:
            self.bar.set_postfix_str(", ".join(parts), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
