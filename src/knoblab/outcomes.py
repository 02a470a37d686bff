"""How a call to `optimize` ended, told to the user, and what happens to a trial that failed.

Nothing ends silently: the first failures of a call are warned with the last line of their traceback, a call in
which every trial failed raises `AllTrialsFailedError` at its end, and a call that had nothing left to run says so
in one line (on the "knoblab" logger). A trial whose objective raised one of `retry_on` is run again, up to
`retries` times, as attempts of one configuration (see `retry_failed`).
"""

from __future__ import annotations

import logging
import numbers
import os
import sys
import warnings
from types import FrameType
from typing import TYPE_CHECKING, Any

from .trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from .experiment import Experiment

__all__ = ["AllTrialsFailedError", "TrialFailedWarning", "CallOutcome", "check_retry", "retry_failed"]

logger = logging.getLogger("knoblab")

#: at most this many failure warnings per call (each for an error not warned before in the call)
MAX_FAILURE_WARNINGS = 3


class TrialFailedWarning(UserWarning):
    """A trial ended FAILED (its objective raised, or returned no usable value); the search goes on."""


class AllTrialsFailedError(RuntimeError):
    """Every trial that a call to `optimize` ran ended FAILED: the objective is broken, not unlucky."""


def error_line(trial: FrozenTrial) -> str:
    """The line that ends a failed trial's traceback, "ExceptionType: message" (a message of several lines: its
    first), or its one-line reason. Stored errors start with that line, the traceback after it."""
    lines = [line for line in (trial.error or "").splitlines() if line.strip()]
    return lines[0].strip() if lines else "no reason stored"


def _outside_knoblab() -> int:
    """The stacklevel of the first caller outside the knoblab package (the user's optimize, Scan...), for a
    warning raised from a function that `_outside_knoblab`'s caller called."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame: FrameType | None = sys._getframe(2)  # the caller of the function that warns
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame = frame.f_back
        level += 1
    return level


def notify(message: str) -> None:
    """One line for the user on the "knoblab" logger; shown on stderr when the program configured no logging."""
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("knoblab: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
    logger.info(message)


class CallOutcome:
    """Watches the trials one call to `optimize` finishes: warns at its first failures, and at its end raises when
    all of them failed, or says that there was nothing left to run."""

    def __init__(self, exp: Experiment, n_trials: int | None, target: float | None):
        self.exp = exp
        self.n_trials = n_trials
        self.target = target
        self.finished = 0
        self.failed: list[FrozenTrial] = []
        self.warned: set[str] = set()

    def seen(self, trial: FrozenTrial) -> None:
        """Called with each trial the call finished (not with trials another process ended)."""
        self.finished += 1
        if trial.state != TrialState.FAILED:
            return
        self.failed.append(trial)
        if trial.attrs.get("retried"):
            return  # its next attempt is queued: warned if that one fails too
        line = error_line(trial)
        if line in self.warned or len(self.warned) >= MAX_FAILURE_WARNINGS:
            return
        self.warned.add(line)
        more = (
            "; further failures of this call are not warned (see exp.results['error'])"
            if len(self.warned) == MAX_FAILURE_WARNINGS
            else ""
        )
        where = "the full traceback is in" if "Traceback" in (trial.error or "") else "see"
        warnings.warn(
            TrialFailedWarning(
                f"trial {trial.number} of {self.exp.name!r} FAILED: {line} ({where} exp.trial({trial.number}).error);"
                f" the search goes on{more}"
            ),
            stacklevel=_outside_knoblab(),
        )

    def end(self) -> None:
        """At the end of a call that was not interrupted: raises if every trial it ran failed; says so when it ran
        none because nothing was left."""
        if self.finished and len(self.failed) == self.finished:
            last = self.failed[-1]
            raise AllTrialsFailedError(
                f"all {self.finished} trial{'s' if self.finished > 1 else ''} of this call to optimize on "
                f"{self.exp.name!r} FAILED; the last, trial {last.number}: {error_line(last)} (see "
                f"exp.trial({last.number}).error). Failed trials count against n_trials: after fixing the "
                "objective, raise n_trials or use a new experiment name"
            )
        if self.finished == 0:
            notify(f"experiment {self.exp.name!r} has nothing left to run: {self._why_nothing()}")

    def _why_nothing(self) -> str:

        trials = self.exp.storage.get_trials(self.exp.id)
        used = trials_used(trials)
        if self.n_trials is not None and used >= self.n_trials:
            return f"{used} trials count against n_trials={self.n_trials}; raise n_trials to run more"
        if self.target is not None:
            return f"its best value already reaches target={self.target:g}"
        size = self.exp.strategy.size()
        if size is not None:
            return f"every point of its {size}-point grid has run; widen the space to run more"
        return "the strategy proposed no new trial"


def check_retry(retries: Any, retry_on: Any) -> tuple[int, tuple[type[BaseException], ...]]:
    """Validates optimize's `retries` and `retry_on`, naming the argument at fault."""
    if not (isinstance(retries, numbers.Integral) and not isinstance(retries, bool) and int(retries) >= 0):
        raise ValueError(f"retries: got {retries!r}; give an integer >= 0 (runs of a failed trial after the first)")
    classes = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    if not classes or not all(isinstance(c, type) and issubclass(c, BaseException) for c in classes):
        raise ValueError(f"retry_on: got {retry_on!r}; give an exception class or a tuple of them, e.g. MemoryError")
    return int(retries), classes


def retry_failed(exp: Experiment, trial: FrozenTrial, error: BaseException) -> FrozenTrial | None:
    """Queues another attempt of a trial whose objective raised `error`, when the experiment's retry policy (set by
    `optimize(retries=..., retry_on=...)`) names it and attempts are left; returns the queued trial, or None.

    The failed attempt keeps its traceback and is marked `retried` (it does not count against n_trials: the
    configuration counts once); the next attempt has the same params and seed, `retry_of` (the attempt before)
    and `attempt` (1, 2, ...) in its attrs, and runs before anything the strategy proposes."""
    from .schedulers import SCHEDULED_ATTRS

    retries, retry_on = getattr(exp, "_retry", (0, ()))
    if not retries or not isinstance(error, retry_on) or trial.state != TrialState.FAILED:
        return None
    attempt = int(trial.attrs.get("attempt", 1))
    if attempt > retries:
        return None
    exp.storage.set_attrs(trial.id, {"retried": True, "attempt": attempt})
    scheduled = {k: v for k, v in trial.attrs.items() if k in SCHEDULED_ATTRS}
    return exp.storage.create_trial(
        exp.id,
        trial.params,
        TrialState.QUEUED,
        seed=trial.seed,
        attrs={
            **scheduled,
            "source": "retry",
            "retry_after": "failed",
            "retry_of": trial.number,
            "attempt": attempt + 1,
        },
        round=trial.round,
    )


def trials_used(trials: list[FrozenTrial]) -> int:
    """How many trials count against n_trials: all but QUEUED ones, interrupted ones (a process died under them)
    and failed attempts that were retried (a configuration counts once, see `optimize(retries=...)`)."""
    return sum(
        1
        for t in trials
        if t.state != TrialState.QUEUED and not t.attrs.get("interrupted") and not t.attrs.get("retried")
    )
