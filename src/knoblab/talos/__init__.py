"""Talos 1.x code on Keras 3: `import knoblab.talos as talos` and the rest of a Talos script runs as it was.

    import knoblab.talos as talos
    scan = talos.Scan(x, y, params=p, model=iris_model, experiment_name="iris", round_limit=20)
    talos.Analyze(scan).best_params("val_acc", ["acc", "loss", "val_loss"])
    talos.Deploy(scan, "iris_deploy", "val_acc"); talos.Restore("iris_deploy.zip")

A thin layer: each round is a knoblab trial, stored as it runs (so a rerun continues), searched by knoblab's
strategies and narrowed with knoblab's analysis. docs/talos.md lists every Talos keyword and name with its status.
Importing this package imports Keras.
"""

from __future__ import annotations

from .. import __version__ as __version__
from . import autom8 as autom8
from . import callbacks as callbacks
from . import parameters as parameters
from . import templates as templates
from . import utils as utils
from .analyze import Analyze, Reporting
from .deploy import Deploy
from .evaluate import Evaluate
from .predict import Predict
from .restore import Restore
from .scan import Scan

TALOS_API = "1.4"  # the Talos release whose API this follows

# the commands; the subpackages (utils, templates, callbacks, autom8, parameters) are reached by attribute, as in Talos
__all__ = ["Scan", "Analyze", "Reporting", "Evaluate", "Predict", "Deploy", "Restore"]
