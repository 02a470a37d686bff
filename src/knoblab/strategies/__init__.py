"""Search strategies: each proposes points from the history behind the small contract in base.py."""

from __future__ import annotations

from collections.abc import Callable

from .base import History, Strategy
from .cmaes import CMAESSearch
from .gp import GPSearch
from .grid import GridSearch
from .mogp import MOGPSearch
from .motpe import MOTPESearch
from .nsga2 import NSGA2Search
from .qmc import LatinHypercubeSearch, SobolSearch
from .random import RandomSearch
from .tpe import TPESearch

# name -> factory(options) ; model-based strategies register themselves here when they land
REGISTRY: dict[str, Callable[..., Strategy]] = {
    "grid": GridSearch,
    "random": RandomSearch,
    "sobol": SobolSearch,
    "lhs": LatinHypercubeSearch,
    "tpe": TPESearch,
    "gp": GPSearch,
    "cmaes": CMAESSearch,
    # several objectives (each also searches a single one)
    "motpe": MOTPESearch,
    "mogp": MOGPSearch,
    "nsga2": NSGA2Search,
}


def multi_objective_names() -> list[str]:
    """The strategy names that accept several objectives ("auto" first)."""
    return ["auto"] + [name for name, make in REGISTRY.items() if getattr(make, "max_objectives", 1) is None]


def make_strategy(
    strategy: str | Strategy, *, fraction_limit: float | None = None, grid_resolution: int | None = None
) -> Strategy:
    """A strategy instance from a name or an instance; "auto" picks one from the space and budget at setup."""
    if isinstance(strategy, Strategy):
        return strategy
    if not isinstance(strategy, str):
        raise ValueError(f"strategy: got {strategy!r}; allowed: a name in {sorted(REGISTRY) + ['auto']} or a Strategy")
    if strategy == "auto":
        from .auto import AutoStrategy

        return AutoStrategy()
    if strategy == "grid":
        return GridSearch(shuffle=fraction_limit is not None, resolution=grid_resolution)
    if strategy not in REGISTRY:
        raise ValueError(f"strategy: got {strategy!r}; allowed: {sorted(REGISTRY) + ['auto']} or a Strategy instance")
    return REGISTRY[strategy]()


__all__ = [
    "Strategy",
    "History",
    "GridSearch",
    "RandomSearch",
    "SobolSearch",
    "LatinHypercubeSearch",
    "MOTPESearch",
    "MOGPSearch",
    "NSGA2Search",
    "REGISTRY",
    "multi_objective_names",
    "make_strategy",
]
