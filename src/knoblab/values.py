"""Knob values that are not plain JSON: functions, classes, Keras objects, scikit-learn estimators, tuples.

Users put such values in their params dicts (Talos' walkthroughs pass `keras.activations.relu`, the class
`keras.optimizers.Adam` or a loss function; scikit-learn grids pass estimator instances). knoblab never pickles
them: each value has a *stored form*, plain JSON that storage, strategies, grids and the dashboard work with, and
that is turned back into the object for the objective::

    relu                        -> {"$ref": "keras.activations:relu"}          (an importable function or class)
    Adam(learning_rate=0.01)    -> {"$keras": "keras.optimizers:Adam", "config": {...}, "name": "Adam(...)"}
    SVC(C=10)                   -> {"$object": "sklearn.svm:SVC", "params": {"C": 10}, "name": "SVC(C=10)"}
    (64, 32)                    -> {"$tuple": [64, 32]}

- `encode(value)` gives the stored form (plain JSON values are their own stored form); it raises `ValueError`
  for what cannot be stored by reference (a lambda, a closure, a set, a complex number, NaN, ...), and the space
  names the knob in that message.
- `decode(stored)` gives the object back: a function or class is imported, a Keras object rebuilt from its config
  (`cls.from_config`), an estimator from its params (`cls(**params)`); each decode builds a fresh instance, so two
  trials never share an optimizer's state. A reference that cannot be imported in this process (a function defined
  in another script's `__main__`) decodes, leniently, to an `Unresolved` placeholder that keeps its stored form.
- `display(value)` is the short name people read in tables, plots and exports ("relu", "Adam(learning_rate=0.01)"),
  computed from either form without importing anything.

This module imports no deep-learning framework: Keras is used only when the value is already a Keras object (so
Keras is loaded) or when a stored Keras object is decoded.
"""

from __future__ import annotations

import importlib
import inspect
import json
import math
import numbers
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["encode", "decode", "display", "is_plain", "is_stored_object", "same", "Unresolved", "MARKERS"]

MARKERS = ("$ref", "$keras", "$object", "$tuple")


class Unresolved:
    """A stored reference that this process cannot import (say `__main__:my_loss` read by the dashboard): it shows
    by name and keeps its stored form, so re-storing it changes nothing."""

    def __init__(self, stored: Mapping[str, Any], reason: str):
        self.stored = dict(stored)
        self.reason = reason

    def __repr__(self) -> str:
        return display(self.stored)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Unresolved) and _key(self.stored) == _key(other.stored)

    def __hash__(self) -> int:
        return hash(_key(self.stored))


def is_stored_object(x: Any) -> bool:
    """Whether `x` is the stored form of a non-JSON value (a dict with one of the `MARKERS`)."""
    return isinstance(x, dict) and any(m in x for m in MARKERS)


def is_plain(value: Any) -> bool:
    """Whether a value is its own stored form: None, a bool, a str, a finite int or float."""
    if value is None or isinstance(value, bool | str):
        return True
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, float) and math.isfinite(value)


# ---- encode ----
def encode(value: Any) -> Any:
    """The stored (JSON) form of a knob value; raises ValueError with the reason when it has none."""
    if isinstance(value, np.generic):
        value = value.item()
    if is_plain(value):
        return int(value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if isinstance(value, Unresolved):
        return dict(value.stored)
    if isinstance(value, float):
        raise ValueError(f"{value} is not a finite number: NaN and infinities do not survive storage (JSON)")
    if is_stored_object(value):  # already a stored form (a space read back from storage)
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        raise ValueError("a dict is not a knob value (for sub-knobs that depend on a choice, use kl.Branch)")
    if isinstance(value, set | frozenset | complex | bytes | bytearray | np.ndarray) or _is_number_like(value):
        raise ValueError(
            f"a {type(value).__name__} cannot be stored as a knob value; use a number, a string, a list or a tuple"
        )
    if inspect.isclass(value) or inspect.isfunction(value) or inspect.isbuiltin(value) or inspect.ismethod(value):
        return {"$ref": reference(value)}
    if _is_keras_object(value):
        config = value.get_config()
        return {"$keras": _keras_class(value), "config": _jsonable(config), "name": _keras_name(value, config)}
    if hasattr(value, "get_params") and callable(value.get_params):  # scikit-learn's estimator contract
        params = {k: encode(v) for k, v in value.get_params(deep=False).items()}
        return {"$object": reference(type(value)), "params": params, "name": _one_line(repr(value))}
    if callable(value):  # functools.partial, a callable instance: nothing to import it by
        raise ValueError(
            f"{value!r} is a callable object without an import path; use a module-level function or class instead"
        )
    raise ValueError(
        f"a {type(value).__name__} object cannot be stored by reference (it is not a function, a class, a Keras "
        "object with get_config() or an estimator with get_params()); use a plain value and build the object "
        "in your objective"
    )


def _is_number_like(value: Any) -> bool:
    return isinstance(value, numbers.Number)  # Decimal, Fraction and other numbers JSON cannot keep exactly


def reference(obj: Any) -> str:
    """'module:qualname' by which `obj` (a function or class) is imported again; Keras' public path when it has one.

    Raises ValueError for what cannot be imported by name: a lambda, a function defined inside a function."""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    module = getattr(obj, "__module__", None)
    if qualname is None or module is None:
        raise ValueError(f"{obj!r} has no module and name to import it by")
    if "<lambda>" in qualname:
        raise ValueError("a lambda cannot be stored by reference; define it with def at module level and use its name")
    if "<locals>" in qualname:
        raise ValueError(
            f"{qualname} is defined inside a function (a closure) and cannot be imported by name; "
            "define it at module level"
        )
    for path in _public_paths(obj):
        mod, _, name = path.rpartition(".")
        if mod and _resolves(f"{mod}:{name}", obj):
            return f"{mod}:{name}"
    ref = f"{module}:{qualname}"
    if module != "__main__" and not _resolves(ref, obj):
        raise ValueError(f"{module}.{qualname} cannot be imported back by that name")
    return ref


def _public_paths(obj: Any) -> list[str]:
    """Keras records its public names (`keras.activations.relu`) on what it exports; the first that resolves wins."""
    paths = getattr(obj, "_api_export_path", None)
    if isinstance(paths, str):
        return [paths]
    if isinstance(paths, list | tuple):
        name = getattr(obj, "__name__", "")
        return sorted(paths, key=lambda p: (not p.endswith("." + name), p))  # keras.losses.x before keras.metrics.x
    return []


def _resolves(ref: str, obj: Any) -> bool:
    try:
        return _import(ref) is obj
    except Exception:
        return False


def _keras_class(value: Any) -> str:
    """The public class a Keras object is an instance of ('keras.optimizers:Adam', though on the torch backend the
    instance's own class is keras.src.backend.torch...Adam): what rebuilds it on any backend."""
    for cls in type(value).__mro__:
        for path in _public_paths(cls):
            mod, _, name = path.rpartition(".")
            try:
                found = _import(f"{mod}:{name}")
            except Exception:
                continue
            if isinstance(found, type) and isinstance(value, found) and hasattr(found, "from_config"):
                return f"{mod}:{name}"
    return reference(type(value))


def _is_keras_object(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.split(".")[0] == "keras" and callable(getattr(value, "get_config", None))


def _jsonable(config: Any) -> Any:
    """A Keras config as plain JSON (configs nest dicts; a value inside may itself be a Keras object)."""
    if isinstance(config, dict):
        return {str(k): _jsonable(v) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return [_jsonable(v) for v in config]
    if isinstance(config, np.generic):
        return config.item()
    if config is None or isinstance(config, bool | str | int | float):
        return config
    keras = sys.modules.get("keras")
    if keras is not None:
        return keras.saving.serialize_keras_object(config)
    raise ValueError(f"a Keras config holds a {type(config).__name__} that cannot be stored")


def _keras_name(value: Any, config: Mapping[str, Any]) -> str:
    """'Adam(learning_rate=0.01)': the class name and what differs from the class's default config."""
    cls = _import(_keras_class(value))
    name = _public_name(cls)
    try:
        default = cls().get_config()
    except Exception:
        default = {}
    changed = [
        f"{k}={_short(v)}" for k, v in config.items() if k != "name" and (k not in default or not _close(default[k], v))
    ]
    return f"{name}({', '.join(changed)})"


def _public_name(cls: type) -> str:
    for path in _public_paths(cls):
        return path.rpartition(".")[2]
    return cls.__name__


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6)
    return a == b


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict) and "class_name" in v:
        return str(v["class_name"])
    return _one_line(repr(v))


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---- decode ----
def decode(stored: Any, *, strict: bool = False) -> Any:
    """The value of a stored form: the object itself for references, a fresh instance for Keras objects and
    estimators, a tuple for "$tuple". With strict=False a reference that cannot be imported here gives an
    `Unresolved` (shown by name); with strict=True it raises ValueError saying why."""
    if isinstance(stored, list):
        return [decode(v, strict=strict) for v in stored]
    if not is_stored_object(stored):
        return stored
    if "$tuple" in stored:
        return tuple(decode(v, strict=strict) for v in stored["$tuple"])
    try:
        if "$ref" in stored:
            return _import(stored["$ref"])
        if "$keras" in stored:
            cls = _import(stored["$keras"])
            return cls.from_config(stored.get("config") or {})
        cls = _import(stored["$object"])
        return cls(**{k: decode(v, strict=True) for k, v in (stored.get("params") or {}).items()})
    except Exception as e:
        reason = f"cannot rebuild {display(stored)} from {_origin(stored)} ({type(e).__name__}: {e})"
        if strict:
            raise ValueError(reason) from None
        return Unresolved(stored, reason)


def _origin(stored: Mapping[str, Any]) -> str:
    return str(stored.get("$ref") or stored.get("$keras") or stored.get("$object"))


def _import(ref: str) -> Any:
    module, _, qualname = ref.partition(":")
    if not module or not qualname:
        raise ValueError(f"{ref!r} is not a 'module:name' reference")
    obj: Any = sys.modules[module] if module == "__main__" else importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


# ---- display ----
def display(value: Any) -> str | Any:
    """The short name of a knob value as people read it; plain values come back unchanged."""
    if isinstance(value, Unresolved):
        value = value.stored
    if is_stored_object(value):
        if "$tuple" in value:
            return (
                "("
                + ", ".join(str(display(v)) for v in value["$tuple"])
                + ("," if len(value["$tuple"]) == 1 else "")
                + ")"
            )
        if "name" in value:
            return str(value["name"])
        return _origin(value).rpartition(":")[2].rpartition(".")[2]
    if is_plain(value) or isinstance(value, float):
        return value
    if isinstance(value, list):
        return [display(v) for v in value]
    try:
        return display(encode(value))
    except ValueError:
        return _one_line(repr(value))


def same(a: Any, b: Any) -> bool:
    """Whether two knob values are the same value (compared in their stored form, so an Adam() instance equals
    another with the same config, and 1 and True stay apart)."""
    try:
        return _key(encode(a)) == _key(encode(b))
    except ValueError:
        return a is b


def _key(stored: Any) -> str:
    return json.dumps(stored, sort_keys=True)


def stored_key(value: Any) -> str:
    """A canonical text of a value's stored form: equal for values that store the same."""
    return _key(encode(value))


def encode_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A params dict in its stored form (what storage writes and grids compare)."""
    return {k: encode(v) for k, v in params.items()}


def decode_params(stored: Mapping[str, Any], *, strict: bool = False) -> dict[str, Any]:
    """A params dict back from its stored form (see `decode`)."""
    return {k: decode(v, strict=strict) if isinstance(v, dict | list) else v for k, v in stored.items()}


def point_key(params: Mapping[str, Any]) -> tuple:
    """A hashable identity of a params dict, equal for dicts that store the same (1, 1.0 and True stay apart, an
    object equals its stored form): how strategies and grids tell points already run."""
    return tuple(sorted((k, _value_key(v)) for k, v in params.items()))


def _value_key(v: Any) -> tuple[str, str]:
    if v is None or isinstance(v, bool | int | str) or (isinstance(v, float) and math.isfinite(v)):
        return (type(v).__name__, repr(v))
    try:
        return ("stored", stored_key(v))
    except ValueError:
        return (type(v).__name__, repr(v))
