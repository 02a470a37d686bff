"""`Deploy(scan, model_name, metric)`: the best round's model and the scan's records in `<model_name>.zip`, for
`Restore` elsewhere. The package holds a knoblab export (model.keras, params.json, metrics.json, space.json,
versions.json, export.json: `knoblab.restore` reads it and checks the model's SHA-256) and Talos' files:
<name>_model.json and <name>_model.weights.h5 (Keras 3 names weights files so), <name>_details.txt,
<name>_results.csv, <name>_x.csv and <name>_y.csv (100 rows), <name>_params.json (each knob's values, Talos ranges
written out, objects by name) and README.txt."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..export import export_best
from ..storage.sql import dumps
from ._values import shown

__all__ = ["Deploy"]

README = """To activate the assets in this deploy package:

    import knoblab.talos as talos
    restored = talos.Restore('path/to/{name}.zip')

restored.model, .params, .details, .results, .x and .y then stand in for the Scan object. The folder is also a
knoblab export: knoblab.restore('path/to/{name}') loads model.keras after checking its SHA-256.
"""


class Deploy:
    """Writes `<model_name>.zip` from a finished Scan: the round with the best `metric` (asc=True for a loss)."""

    def __init__(
        self,
        scan_object: Any,
        model_name: str,
        metric: str,
        asc: bool = False,
        saved: bool = False,
        custom_objects: Mapping[str, Any] | None = None,
    ):
        folder = Path(model_name)
        if not folder.name:
            raise ValueError(f"model_name: got {model_name!r}; give a name for the package")
        folder.mkdir()  # as Talos: an existing folder of that name is an error, never overwritten
        self.scan_object, self.model_name, self.metric, self.asc = scan_object, folder.name, metric, asc
        self.data = scan_object.data
        self.best_model = scan_object._best_row(metric, asc)
        self.model = scan_object._model(self.best_model, custom_objects)
        trial = scan_object._trials[self.best_model]
        self.path = folder / folder.name
        try:
            export_best(scan_object.experiment, folder, number=trial.number)
            self.model.save_weights(f"{self.path}_model.weights.h5")
            Path(f"{self.path}_model.json").write_text(self.model.to_json(), encoding="utf-8")
            scan_object.details.to_csv(f"{self.path}_details.txt", header=False)
            self._save_data()
            scan_object.data[scan_object._talos_columns].to_csv(f"{self.path}_results.csv")
            params = {k: [shown(v) for v in values] for k, values in scan_object._original_space.items()}
            Path(f"{self.path}_params.json").write_text(json.dumps(json.loads(dumps(params)), indent=2), "utf-8")
            (folder / "README.txt").write_text(README.format(name=folder.name), encoding="utf-8")
            self.archive = Path(shutil.make_archive(str(folder), "zip", folder))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"Deploy package {folder.name} have been saved.")

    def _save_data(self) -> None:
        try:
            x = pd.DataFrame(self.scan_object.x[:100])
            y = pd.DataFrame(self.scan_object.y[:100])
        except (ValueError, TypeError):
            x, y = pd.DataFrame(), pd.DataFrame()
            print("data is not 2d, dummy data written instead.")
        x.to_csv(f"{self.path}_x.csv", header=False, index=False)
        y.to_csv(f"{self.path}_y.csv", header=False, index=False)
