"""What the front doors for other libraries' code share: where an unnamed search lives, and running a search whose
objective's own exceptions must reach the caller (hyperopt's fmin, scikit-learn's error_score="raise").

Not part of the core: the core imports nothing from here.
"""

from __future__ import annotations

import numbers
import shutil
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..trial import ObjectiveSetupError, TrialPruned, TrialState

__all__ = ["Scratch", "RaisingObjective", "run_search", "seed_from"]


class Scratch:
    """Where a search the user did not name lives (hyperopt and scikit-learn searches are fresh each call unless
    named): an in-memory SQLite database, or with `shared=True` (worker processes must open it too) a file in a
    temporary folder, removed when `close()` is called or its owner is garbage-collected.

    `heartbeat_interval` is what such an experiment should beat at: never, for an in-memory one (no other process
    can see it, and its one connection is best not shared with the heartbeat thread)."""

    def __init__(self, owner: Any = None, *, shared: bool = False):
        self.shared = shared
        self.folder: Path | None = None
        self._finalizer: weakref.finalize[..., Any] | None = None
        if shared:
            self.folder = Path(tempfile.mkdtemp(prefix="knoblab-"))
            self.url = f"sqlite:///{self.folder / 'search.db'}"
            self._finalizer = weakref.finalize(self if owner is None else owner, shutil.rmtree, self.folder, True)
        else:
            self.url = "sqlite://"
        self.heartbeat_interval = 15.0 if shared else 1e9

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


class RaisingObjective:
    """Wraps an objective so that an exception it raises, after the trial is stored FAILED with its traceback,
    reaches the caller of the search as the same exception object (see `run_search`).

    Picklable when `fn` is, so worker processes can run it."""

    def __init__(self, fn: Callable[[Any], Any], expected: tuple[type[BaseException], ...] = ()):
        self.fn = fn
        self.expected = tuple(expected)  # exceptions that fail the trial and let the search go on
        self.error: BaseException | None = None

    def __call__(self, trial: Any) -> Any:
        try:
            return self.fn(trial)
        except (TrialPruned, ObjectiveSetupError):
            raise
        except self.expected:
            raise
        except Exception as e:
            self.error = e
            raise

    def __getstate__(self) -> dict[str, Any]:
        return {"fn": self.fn, "expected": self.expected, "error": None}


def run_search(
    exp: Any,
    objective: Callable[[Any], Any],
    *,
    n_trials: int | None,
    n_jobs: int = 1,
    raise_errors: bool = True,
    expected: tuple[type[BaseException], ...] = (),
    callbacks: list[Callable[[Any, Any], None]] | None = None,
    **kwargs: Any,
) -> None:
    """`exp.optimize(objective, ...)`; with `raise_errors`, the first exception the objective raises stops the
    search and is raised here (its trial is stored FAILED first), as hyperopt and scikit-learn do; `expected`
    exceptions only fail their trial.

    In this process the exception object itself is raised; with worker processes (n_jobs > 1), the one the worker
    sent back (the driver re-raises exceptions outside `catch`)."""
    if not raise_errors:
        exp.optimize(objective, n_trials=n_trials, n_jobs=n_jobs, callbacks=callbacks, **kwargs)
        return
    if n_jobs > 1 or kwargs.get("executor") is not None:
        exp.optimize(objective, n_trials=n_trials, n_jobs=n_jobs, callbacks=callbacks, catch=expected, **kwargs)
        return
    wrapped = RaisingObjective(objective, expected)

    def reraise(experiment: Any, done: Any) -> None:
        if done.state == TrialState.FAILED and wrapped.error is not None:
            error, wrapped.error = wrapped.error, None
            raise error

    exp.optimize(wrapped, n_trials=n_trials, n_jobs=n_jobs, callbacks=[reraise, *(callbacks or ())], **kwargs)


def seed_from(random_state: Any, argument: str) -> int | None:
    """An experiment seed from a numpy-style random state: an int, a Generator or RandomState (one draw), or None."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"{argument}: got {random_state!r}; give an integer >= 0, a numpy Generator or None")
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    raise ValueError(
        f"{argument}: got {random_state!r} of type {type(random_state).__name__}; give an integer >= 0, a numpy "
        "Generator or RandomState, or None"
    )
