"""`DistributeParamSpace`: one ParamSpace split into `machines` ParamSpaces of about equal size, for scans run on
several machines (`param_spaces[i]` is machine i's). Pieces of one split run under one experiment_name and one
storage join one knoblab experiment."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from .ParamSpace import ParamSpace

__all__ = ["DistributeParamSpace"]


class DistributeParamSpace:
    """The permutations of `params` (limited as ParamSpace limits them), shuffled and split into `machines`."""

    def __init__(
        self,
        params: Mapping[str, Any],
        param_keys: Iterable[str],
        random_method: str = "uniform_mersenne",
        fraction_limit: float | None = None,
        round_limit: int | None = None,
        time_limit: str | None = None,
        boolean_limit: Callable[[dict], bool] | None = None,
        machines: int = 2,
        seed: int | None = None,
    ):
        if not (isinstance(machines, int) and machines >= 1):
            raise ValueError(f"machines: got {machines!r}; give an integer >= 1")
        self._params = ParamSpace(
            params, param_keys, random_method, fraction_limit, round_limit, time_limit, boolean_limit, seed=seed
        )
        self.machines = machines
        self.param_spaces = self._split_param_space(np.random.default_rng(seed))

    def _split_param_space(self, rng: np.random.Generator) -> dict[int, ParamSpace]:
        rows = self._params.param_space[rng.permutation(len(self._params.param_space))]
        out = {}
        for i, part in enumerate(np.array_split(rows, self.machines)):
            piece = copy.copy(self._params)
            piece.param_space = part
            piece.dimensions = len(part)
            piece.param_index = list(range(len(part)))
            out[i] = piece
        return out
