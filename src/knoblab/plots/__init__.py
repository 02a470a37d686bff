"""Matplotlib figures for reports and notebooks; each function returns a Figure."""

from .._extras import require

require("matplotlib", "knoblab.plots", "analysis")
