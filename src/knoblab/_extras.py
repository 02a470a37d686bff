"""Optional dependencies: an import that fails names the extra that installs it, as `pip install 'knoblab[X]'`."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, what: str, extra: str) -> ModuleType:
    """Imports `module` for `what` (a feature, in words), or raises ModuleNotFoundError naming the missing module
    and the extra that brings it (the module itself, or one it needs, such as Keras' backend)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        missing = getattr(e, "name", None) or module
        raise ModuleNotFoundError(f"{what} needs {missing}: pip install 'knoblab[{extra}]'", name=missing) from None
