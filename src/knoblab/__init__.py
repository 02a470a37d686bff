"""knoblab: hyperparameter experiments on Keras models (and any Python objective) that never lose a trial."""

from __future__ import annotations

from .experiment import Experiment, current_trial
from .outcomes import AllTrialsFailedError, TrialFailedWarning
from .space import Bool, Branch, Categorical, Fixed, Int, Real, Space
from .storage import StorageError
from .trial import FrozenTrial, Trial, TrialPruned, TrialState

__version__ = "0.1.0"


def __getattr__(name: str):
    # the Keras layer loads on first use, so `import knoblab` never imports a deep-learning framework
    if name == "Scan":
        from .keras.scan import Scan

        return Scan
    if name == "keras":
        import importlib

        return importlib.import_module(".keras", __name__)
    if name == "restore":  # export.py imports Keras only when a model is loaded
        from .export import restore

        return restore
    if name in ("fmin", "from_hyperopt"):  # hyperopt code on knoblab; hyperopt loads only for hp.* spaces
        from .compat import hyperopt

        return getattr(hyperopt, name)
    if name == "metrics":
        import importlib

        return importlib.import_module(".metrics", __name__)
    raise AttributeError(f"module 'knoblab' has no attribute {name!r}")


__all__ = [
    "Experiment",
    "Space",
    "Real",
    "Int",
    "Categorical",
    "Fixed",
    "Bool",
    "Branch",
    "Trial",
    "FrozenTrial",
    "TrialState",
    "TrialPruned",
    "StorageError",
    "AllTrialsFailedError",
    "TrialFailedWarning",
    "Scan",
    "current_trial",
    "restore",
    "fmin",
    "from_hyperopt",
    "__version__",
]
