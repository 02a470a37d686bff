"""`Restore(path_to_zip)`: a Deploy package back as an object like the Scan it came from (model, params, details,
results, x, y). The model is loaded from the package's knoblab export after its SHA-256 is checked, in Keras' safe
mode, uncompiled (as Talos' JSON-and-weights model was)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..export import restore

__all__ = ["Restore"]


class Restore:
    """The contents of `<name>.zip` (from Deploy), extracted beside it into `<name>/`."""

    def __init__(self, path_to_zip: str, custom_objects: Mapping[str, Any] | None = None):
        archive = Path(path_to_zip)
        if archive.suffix != ".zip" or not archive.exists():
            raise FileNotFoundError(f"Restore: {path_to_zip!r} is not a Deploy package (<name>.zip, as Deploy writes)")
        folder = archive.with_suffix("")
        with zipfile.ZipFile(archive) as z:
            z.extractall(folder)
        prefix = folder / folder.name

        def load(path: Path) -> Any:
            import keras

            return keras.saving.load_model(path, custom_objects=dict(custom_objects or {}) or None, compile=False)

        self.export = restore(folder, loader=load)
        self.model = self.export.model
        self.params = json.loads(Path(f"{prefix}_params.json").read_text(encoding="utf-8"))
        self.details = pd.read_csv(f"{prefix}_details.txt", header=None)
        self.x = _read(f"{prefix}_x.csv")
        self.y = _read(f"{prefix}_y.csv")
        self.results = pd.read_csv(f"{prefix}_results.csv").drop(columns="Unnamed: 0")


def _read(path: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, header=None)
    except pd.errors.EmptyDataError:  # data that was not 2-D: Deploy wrote an empty file
        return pd.DataFrame()
