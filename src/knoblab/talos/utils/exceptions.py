"""Talos' `talos.utils.exceptions` path."""

from ..exceptions import TalosDataError, TalosModelError, TalosParamsError, TalosReturnError, TalosTypeError

__all__ = ["TalosReturnError", "TalosParamsError", "TalosTypeError", "TalosModelError", "TalosDataError"]
