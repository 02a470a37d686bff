"""Other libraries' code on knoblab: thin layers that translate into a Space and an Experiment and call them.

- `knoblab.compat.hyperopt`: `from_hyperopt(space)`, `fmin(fn, space, algo=..., max_evals=..., trials=...)`,
  `Trials`, `space_eval` (hyperopt itself is imported only when a space holds `hp.*` expressions).

The core never imports this package.
"""

from __future__ import annotations

__all__ = ["from_hyperopt", "fmin", "space_eval", "Trials"]


def __getattr__(name: str):
    if name in __all__:
        from . import hyperopt

        return getattr(hyperopt, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
