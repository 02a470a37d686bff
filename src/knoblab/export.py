"""Export of the best model with everything needed to trust it later, and `restore` to load it back.

An export is a folder::

    model.keras     the trained model, byte for byte the file the trial saved
    params.json     its knobs
    metrics.json    its metrics, value, trial number and round, the experiment's metric and direction
    space.json      the space of its round (as `Space.describe()`), to know what was searched
    versions.json   Python, knoblab, Keras and its backend, numpy and the rest, at export time
    export.json     the manifest: files, the model's SHA-256, when and from which experiment

Keras is imported only inside these functions: `import knoblab` stays framework-free.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import json
import math
import numbers
import os
import platform
import shutil
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import pandas as pd

from . import values
from .storage.sql import dumps, now

if TYPE_CHECKING:
    from .experiment import Experiment
    from .trial import FrozenTrial

__all__ = ["export_best", "restore", "Restored", "package_versions", "results_table", "write_results"]

_PACKAGES = ("knoblab", "keras", "torch", "tensorflow", "jax", "numpy", "scipy", "pandas", "scikit-learn", "h5py")


def package_versions() -> dict[str, str | None]:
    """Versions of Python and of the packages a model's behaviour depends on (None: not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version(), "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    out["keras_backend"] = os.environ.get("KERAS_BACKEND")
    try:
        import sys

        if "keras" in sys.modules:
            out["keras_backend"] = sys.modules["keras"].backend.backend()
    except Exception:
        pass
    return out


def results_table(exp: Experiment) -> pd.DataFrame:
    """The experiment's results table as exported: `exp.results`, with integer knobs and metrics kept integers
    where some trials lack them (an Int inside a Branch) instead of turning into floats."""
    from .results import results_frame

    return results_frame(exp.storage.get_trials(exp.id), exp.space, exp.metric, integers=True)


def write_results(df: pd.DataFrame, fmt: str, output: str | os.PathLike | TextIO) -> None:
    """Writes a results table as "csv", "parquet" or "json" (a list of records, floats with all their digits) to
    a path or an open text stream. A path that cannot be written is an OSError whose message names it."""
    if fmt not in ("csv", "parquet", "json"):
        raise ValueError(f"format: got {fmt!r}; allowed: 'csv', 'parquet' or 'json'")
    if isinstance(output, str | os.PathLike):
        path = Path(output)
        if path.is_dir():
            raise IsADirectoryError(f"cannot write {path}: it is a folder; give a file name")
        if not path.parent.is_dir():
            why = "is not a folder" if path.parent.exists() else "does not exist"
            raise FileNotFoundError(f"cannot write {path}: {path.parent} {why}")
    if fmt == "parquet":
        if not isinstance(output, str | os.PathLike):
            raise ValueError("parquet cannot go to a text stream; give a file")
        df.to_parquet(output, index=False)  # ImportError without pyarrow
    elif fmt == "csv":
        df.to_csv(output, index=False)
    else:
        text = json.dumps([{k: _json_value(v) for k, v in row.items()} for row in df.to_dict("records")], indent=1)
        if isinstance(output, str | os.PathLike):
            Path(output).write_text(text + "\n", encoding="utf-8")
        else:
            output.write(text + "\n")


def _json_value(v: Any) -> Any:
    """A table cell as JSON: numbers as Python numbers (repr keeps every digit), missing as null, times as ISO."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp | datetime.datetime):
        return v.isoformat()
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v) if math.isfinite(v) else None
    return v


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_best(
    exp: Experiment,
    path: str | os.PathLike,
    *,
    number: int | None = None,
    model: Any = None,
    model_path: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> Path:
    """Writes the best trial (or trial `number`) of `exp` to the folder `path`; returns the folder.

    The model is the trial's saved `.keras` file (a Scan keeps the best ones), or `model_path` (a file saved
    some other way), or `model` (a Keras model, e.g. the best params retrained on all the data; saved here).
    """
    folder = Path(path)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder} exists and is not empty; give overwrite=True or another path")
    trial: FrozenTrial = exp.best if number is None else exp.trial(number, with_reports=False)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "model.keras"
    if model is not None:
        model.save(target)
    else:
        source = Path(model_path) if model_path else trial.attrs.get("model_path")
        if not source or not Path(source).exists():
            raise FileNotFoundError(
                f"trial {trial.number} of {exp.name!r} has no saved model (attrs['model_path'] = "
                f"{trial.attrs.get('model_path')!r}); pass model= (a Keras model) or model_path="
            )
        source = Path(source)
        if source.suffix != ".keras":
            target = folder / f"model{source.suffix}"
        shutil.copyfile(source, target)
    round_space = next((r["space"] for r in exp.rounds if r["round"] == trial.round), exp.record.space)
    files = {
        "params.json": values.encode_params(trial.params),  # objects by reference (knoblab.values), never pickled
        "metrics.json": {
            "experiment": exp.name,
            "metric": exp.metric,
            "direction": exp.direction,
            "value": trial.value,
            "trial": trial.number,
            "round": trial.round,
            "metrics": trial.metrics,
        },
        "space.json": round_space,
        "versions.json": package_versions(),
    }
    for name, content in files.items():
        (folder / name).write_text(json.dumps(json.loads(dumps(content)), indent=2) + "\n", encoding="utf-8")
    manifest = {
        "format": "knoblab-export/1",
        "experiment": exp.name,
        "trial": trial.number,
        "exported_at": now().isoformat(timespec="seconds"),
        "model": target.name,
        "model_sha256": _sha256(target),
        "files": [target.name, *files],
    }
    (folder / "export.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder


@dataclass
class Restored:
    """An exported model back in memory, with what was known about it."""

    model: Any
    params: dict[str, Any]
    metrics: dict[str, Any]
    space: dict[str, Any]
    versions: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: Any, **kwargs: Any) -> Any:
        """The restored model's predictions for `x` (Keras' `predict`, quiet by default)."""
        kwargs.setdefault("verbose", 0)
        return self.model.predict(x, **kwargs)

    def __repr__(self) -> str:
        m = self.metrics
        return (
            f"Restored(experiment={m.get('experiment')!r}, trial={m.get('trial')}, "
            f"{m.get('metric')}={m.get('value')}, params={self.params})"
        )


def restore(
    path: str | os.PathLike,
    custom_objects: Mapping[str, Any] | None = None,
    loader: Callable[[Path], Any] | None = None,
) -> Restored:
    """Loads an export written by `export_best`: the model in Keras safe mode (no arbitrary code from the file),
    after checking its SHA-256 against the manifest; warns when Keras or its backend differ from export time."""
    folder = Path(path)
    manifest_path = folder / "export.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{folder} is not a knoblab export (no export.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))

    def read(name: str) -> dict[str, Any]:
        return json.loads((folder / name).read_text(encoding="utf-8"))

    model_file = folder / manifest["model"]
    digest = _sha256(model_file)
    if digest != manifest.get("model_sha256"):
        raise ValueError(f"{model_file}: its SHA-256 {digest[:12]}... differs from the manifest's; the file changed")
    versions = read("versions.json")
    if loader is not None:
        model = loader(model_file)
    else:
        import keras

        model = keras.saving.load_model(model_file, custom_objects=dict(custom_objects or {}) or None, safe_mode=True)
        now_versions = package_versions()
        for key in ("keras", "keras_backend"):
            if versions.get(key) and versions.get(key) != now_versions.get(key):
                warnings.warn(
                    f"exported with {key} {versions[key]}, loaded with {now_versions.get(key)}: predictions may differ",
                    stacklevel=2,
                )
    params = values.decode_params(read("params.json"))  # functions and Keras objects back as themselves
    return Restored(model, params, read("metrics.json"), read("space.json"), versions, manifest)
