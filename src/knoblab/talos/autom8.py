"""Talos' autom8 (AutoScan, AutoParams, AutoModel, AutoPredict) is not part of knoblab.talos: each raises one line
saying what to use instead."""

from __future__ import annotations

from typing import Any

__all__ = ["AutoScan", "AutoParams", "AutoModel", "AutoPredict"]

_INSTEAD = (
    "knoblab.talos does not port Talos' autom8; write the params dict and model function (knoblab.talos.templates "
    "has examples), or let knoblab pick the search: knoblab.Scan(..., strategy='auto')"
)


class _NotPorted:
    def __init__(self, *args: Any, **kwargs: Any):
        raise NotImplementedError(f"talos.autom8.{type(self).__name__}: {_INSTEAD}")


class AutoScan(_NotPorted):
    """Not ported (see the module docstring)."""


class AutoParams(_NotPorted):
    """Not ported (see the module docstring)."""


class AutoModel(_NotPorted):
    """Not ported (see the module docstring)."""


def AutoPredict(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - Talos' name
    """Not ported (see the module docstring)."""
    raise NotImplementedError(f"talos.autom8.AutoPredict: {_INSTEAD}")
