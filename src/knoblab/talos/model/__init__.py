"""Talos' `talos.model` path (lr_normalizer, early_stopper, hidden_layers), for code that imports from it."""

from ..utils.early_stopper import early_stopper
from ..utils.network import hidden_layers
from ..utils.normalizers import lr_normalizer

__all__ = ["lr_normalizer", "early_stopper", "hidden_layers"]
