"""Multi-objective TPE (MOTPE, after Ozaki et al. 2020, "Multiobjective tree-structured Parzen estimator for
computationally expensive optimization problems"): TPE whose good/bad split is made by Pareto dominance.

The trials are ordered as in `strategies._multi`: feasible COMPLETE trials by non-domination rank, a rank by
hypervolume contribution (the trial whose removal loses the most volume first), then PRUNED trials, then trials that
broke an outcome constraint, by violation. The first gamma(n) of that order are the good set l(x), the rest (and,
as constant liars, the RUNNING trials) the bad set g(x), and the candidate with the largest l(x)/g(x) wins: every
other part (multivariate kernels, branches modelled on their own, Sobol start-up, batches) is knoblab's TPE
(tpe.py). With one objective it is that TPE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..space import Space
from ..trial import FrozenTrial, TrialState
from ._multi import observe
from .tpe import TPESearch

__all__ = ["MOTPESearch"]


class MOTPESearch(TPESearch):
    """TPE for one or several objectives (see the module docstring); the arguments are TPESearch's."""

    name = "motpe"
    max_objectives = None

    def setup(self, space: Space, *, seed: int, direction: str | tuple[str, ...]) -> None:
        super().setup(space, seed=seed, direction=direction)

    def _observed(self, history: Sequence[FrozenTrial]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(self.directions) == 1:
            return super()._observed(history)
        obs = observe(history, self.directions, pruned=self.learn_from_pruned)
        shape = (0, self.enc.ndim)
        rows = [self.enc.encode_trial(t) for t in obs.trials]
        pending = [self.enc.encode_trial(t) for t in history if t.state == TrialState.RUNNING]
        X = np.array(rows).reshape(-1, self.enc.ndim) if rows else np.empty(shape)
        P = np.array(pending).reshape(-1, self.enc.ndim) if pending else np.empty(shape)
        return X, obs.score, P
