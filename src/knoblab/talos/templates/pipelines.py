"""Talos' template pipelines: a Scan of a template dataset, params dict and model, under experiment name 'test'."""

from __future__ import annotations

from typing import Any

__all__ = ["breast_cancer", "cervical_cancer", "iris", "titanic"]


def _scan(name: str, round_limit: int, random_method: str, params: Any = None) -> Any:
    from .. import Scan
    from . import datasets, models
    from . import params as templates_params

    x, y = getattr(datasets, name)()
    return Scan(
        x,
        y,
        params if params is not None else getattr(templates_params, name)(),
        getattr(models, name),
        "test",
        random_method=random_method,
        round_limit=round_limit,
    )


def breast_cancer(round_limit: int = 2, random_method: str = "uniform_mersenne") -> Any:
    """A Scan of the breast cancer template."""
    return _scan("breast_cancer", round_limit, random_method)


def cervical_cancer(round_limit: int = 2, random_method: str = "uniform_mersenne") -> Any:
    """A Scan of the cervical cancer template."""
    return _scan("cervical_cancer", round_limit, random_method)


def iris(round_limit: int = 2, random_method: str = "uniform_mersenne") -> Any:
    """A Scan of the iris template."""
    return _scan("iris", round_limit, random_method)


def titanic(round_limit: int = 2, random_method: str = "uniform_mersenne", debug: bool = False) -> Any:
    """A Scan of the titanic template (`debug=True`: its small params grid)."""
    from . import params as templates_params

    return _scan("titanic", round_limit, random_method, templates_params.titanic(debug))
