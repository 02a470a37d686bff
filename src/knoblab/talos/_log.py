"""Talos' experiment folder: `./<experiment_name>/<experiment id>.csv`, one row per round (round_epochs, the last
epoch of each metric, the params), for code that reads it (Analyze(path), recover_best_model, ExperimentLog).

knoblab's storage is the record; this file is written from it, a row appended as each round ends (never rewritten
whole, except once when a scan starts, so a continued experiment's file holds every round)."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ExperimentLogFile"]


class ExperimentLogFile:
    """The CSV experiment log of one scan."""

    def __init__(self, folder: Path, experiment_id: str):
        self.folder = folder
        self.path = folder / f"{experiment_id}.csv"
        self.columns: list[str] | None = None

    def start(self, data: pd.DataFrame, talos_columns: Sequence[str]) -> None:
        """Creates the folder and writes the rounds already stored (an empty file for a new experiment, as Talos,
        so an ExperimentLog callback finds it during the first round)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path.write_text("", encoding="utf-8")
        self.columns = None
        for _, row in data.iterrows():
            self.append(row, talos_columns)

    def append(self, row: pd.Series | dict[str, Any], talos_columns: Sequence[str]) -> None:
        """Appends one round; the first round's columns are the file's header (later rows keep to them)."""
        if self.columns is None:
            self.columns = [c for c in talos_columns if c not in ("start", "end", "duration")]
            with open(self.path, "a", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow(self.columns)
        with open(self.path, "a", newline="", encoding="utf-8") as f:
            csv.writer(f).writerow([_cell(row.get(c)) for c in self.columns])


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return v
