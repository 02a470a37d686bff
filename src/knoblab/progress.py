"""The progress bar of a search: trials done, best so far, resource spent and time left (tqdm).

One rule everywhere: by default the bar shows in a terminal and in a notebook, and nowhere else (a log file, a
pipe, CI). In a notebook it is tqdm's widget when ipywidgets is installed, else the same text bar as in a terminal
(never tqdm's warning that ipywidgets is missing)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from .experiment import Experiment

__all__ = ["ProgressBar", "bar_class", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (notebook, lab, VS Code), False in a terminal or a plain script."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return False
    shell = sys.modules["IPython"].get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def bar_class(show: bool | None) -> tuple[Any, bool]:
    """(the tqdm class to use, whether the bar shows) under the rule of this module's docstring."""
    from tqdm.std import tqdm

    notebook = in_notebook()
    shown = show if show is not None else notebook or bool(getattr(sys.stderr, "isatty", lambda: False)())
    if notebook:
        try:  # tqdm's widget needs ipywidgets; without it, the text bar (and no TqdmWarning)
            from tqdm.notebook import IProgress
            from tqdm.notebook import tqdm as widget
        except ImportError:
            return tqdm, shown
        return (widget if IProgress is not None else tqdm), shown
    return tqdm, shown


class ProgressBar:
    """A tqdm bar with trials done, best so far and time left; shown in a terminal or a notebook (see above)."""

    def __init__(self, exp: Experiment, n_trials: int | None, show: bool | None):
        tqdm, shown = bar_class(show)
        done = sum(1 for t in exp.storage.get_trials(exp.id) if t.state.finished and not t.attrs.get("interrupted"))
        self.bar = tqdm(
            total=n_trials,
            initial=min(done, n_trials) if n_trials else done,
            disable=not shown,
            desc=exp.name,
            unit="trial",
            leave=True,
        )
        self.best: float | None = None

    def update(self, exp: Experiment, trial: FrozenTrial) -> None:
        """Counts one finished trial and shows the best value so far (with several objectives, the size of the
        Pareto front)."""
        if len(getattr(exp, "metrics", ())) > 1 and not self.bar.disable:
            from .objectives import pareto_trials

            front = pareto_trials(exp._all_trials(), exp.directions)
            self.bar.set_postfix_str(f"Pareto front of {len(front)}", refresh=False)
        elif (
            trial.state == TrialState.COMPLETE and trial.value is not None and trial.attrs.get("feasible") is not False
        ):
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
        """Ends the bar (it stays on screen)."""
        self.bar.close()
