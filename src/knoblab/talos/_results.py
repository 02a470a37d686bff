"""A scan's results in Talos' layout, from what storage holds: `data` (one row per round: start, end, duration,
round_epochs, the last epoch of every logged metric, the params; then knoblab's number, state, round and error),
`round_history` (every round's epochs), `round_times` and `learning_entropy`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import entropy

from ..analysis.stats import curve_kl
from ..trial import FrozenTrial
from ._values import shown

__all__ = ["TalosResults", "talos_results", "TIME_FORMAT", "KNOBLAB_COLUMNS"]

TIME_FORMAT = "%m/%d/%y-%H%M%S"  # Talos' time.strftime('%D-%H%M%S')
KNOBLAB_COLUMNS = ("number", "state", "round", "error")


@dataclass
class TalosResults:
    """Everything a finished Talos scan exposes about its rounds, row i of each being the same round."""

    data: pd.DataFrame
    round_history: list[dict[str, list[float]]]
    round_times: pd.DataFrame
    learning_entropy: pd.DataFrame
    trials: list[FrozenTrial]
    talos_columns: list[str]
    metric_keys: list[str]


def _history(reports: Sequence[tuple[int, Mapping[str, Any]]], keys: list[str]) -> dict[str, list[float]]:
    for _, m in reports:
        keys += [k for k in m if k not in keys]
    return {k: [_float(m.get(k)) for _, m in reports] for k in keys if any(k in m for _, m in reports)}


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def _time(t: Any) -> str | None:
    return t.astimezone().strftime(TIME_FORMAT) if t is not None else None


def talos_results(
    trials: Sequence[FrozenTrial], reports: Mapping[int, Sequence[tuple[int, Mapping[str, Any]]]], param_keys: list[str]
) -> TalosResults:
    """The Talos view of finished trials (in number order; interrupted ones, which ran again, left out)."""
    trials = [t for t in trials if t.state.finished and not t.attrs.get("interrupted")]
    keys: list[str] = []
    histories = [_history(reports.get(t.id, []), keys) for t in trials]
    metric_keys = [k for k in keys if any(k in h for h in histories)]
    taken = {"start", "end", "duration", "round_epochs", *metric_keys, *param_keys}
    ours = {c: (f"knoblab_{c}" if c in taken else c) for c in KNOBLAB_COLUMNS}
    rows, times = [], []
    for t, h in zip(trials, histories, strict=True):
        start, end = _time(t.started_at), _time(t.finished_at)
        times.append({"start": start, "end": end, "duration": t.duration})
        row: dict[str, Any] = {"start": start, "end": end, "duration": t.duration}
        row["round_epochs"] = max((len(v) for v in h.values()), default=0)
        for k in metric_keys:
            row[k] = h[k][-1] if h.get(k) else math.nan
        for k in param_keys:
            row[k] = shown(t.params.get(k))
        row[ours["number"]] = t.number
        row[ours["state"]] = t.state.value
        row[ours["round"]] = t.round
        row[ours["error"]] = (t.error or "").split("\n")[0] or None
        rows.append(row)
    talos_columns = ["start", "end", "duration", "round_epochs", *metric_keys, *param_keys]
    data = pd.DataFrame(rows, columns=[*talos_columns, *ours.values()])
    round_times = pd.DataFrame(times, columns=["start", "end", "duration"])
    return TalosResults(
        data, histories, round_times, learning_entropy(histories, metric_keys), list(trials), talos_columns, metric_keys
    )


def learning_entropy(histories: Sequence[Mapping[str, list[float]]], keys: Sequence[str]) -> pd.DataFrame:
    """Per round and training metric: the KL divergence of its validation curve from its training curve when every
    metric has both (knoblab.analysis.stats.curve_kl), else the Shannon entropy of the training curve, as Talos."""
    train = [k for k in keys if not k.startswith("val_")]
    rows = []
    for h in histories:
        pairs = all(f"val_{k}" in h and len(h[f"val_{k}"]) == len(h.get(k, [])) for k in train)
        row = {}
        for k in train:
            curve = h.get(k, [])
            if pairs:
                row[k] = curve_kl(h[f"val_{k}"], curve)
            else:
                values = np.asarray(curve, dtype=float)
                ok = len(values) > 0 and np.all(np.isfinite(values)) and np.all(values >= 0) and values.sum() > 0
                row[k] = float(entropy(values)) if ok else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=train)
