"""Talos' exception names. Each is also a ValueError or TypeError, so knoblab's rule holds: bad input is one clear
line, and `except ValueError` catches it as well as `except TalosParamsError` does."""

from __future__ import annotations

__all__ = ["TalosReturnError", "TalosParamsError", "TalosTypeError", "TalosModelError", "TalosDataError"]


class TalosReturnError(ValueError):
    """The model function returned something other than (history, model)."""


class TalosParamsError(ValueError):
    """A params dict (or one round's params) lacks or misstates a value a Talos helper needs."""


class TalosTypeError(TypeError):
    """An argument of the wrong type."""


class TalosModelError(ValueError):
    """A model-building helper got what it cannot use (lr_normalizer and an optimizer it does not know)."""


class TalosDataError(ValueError):
    """The data or the limits leave nothing to run (a fraction_limit below one permutation)."""
