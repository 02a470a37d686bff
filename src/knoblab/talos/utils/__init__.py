"""`talos.utils`: lr_normalizer, hidden_layers, early_stopper, metrics, generators, data splits and the rest."""

from . import gpu_utils, metrics
from .data import kfold, rescale_meanzero, val_split
from .early_stopper import early_stopper
from .generator import SequenceGenerator, generator
from .hidden_layers import hidden_layers
from .normalizers import lr_normalizer
from .power_draw import power_draw_append
from .recover_best_model import recover_best_model
from .torch_history import TorchHistory

__all__ = [
    "lr_normalizer",
    "hidden_layers",
    "early_stopper",
    "generator",
    "SequenceGenerator",
    "rescale_meanzero",
    "val_split",
    "kfold",
    "metrics",
    "gpu_utils",
    "TorchHistory",
    "power_draw_append",
    "recover_best_model",
]
