"""`talos.utils`: lr_normalizer, hidden_layers, early_stopper, generators, data splits and the rest; the metrics are
`talos.utils.metrics` and the GPU helpers `talos.utils.gpu_utils`."""

from . import gpu_utils as gpu_utils
from . import metrics as metrics
from .data import kfold, rescale_meanzero, val_split
from .early_stopper import early_stopper
from .generator import SequenceGenerator, generator
from .network import hidden_layers
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
    "TorchHistory",
    "power_draw_append",
    "recover_best_model",
]
