"""What the dashboard shows of an experiment's objectives: one metric, or several with their Pareto front, and the
outcome constraints that make some trials infeasible (stored and shown, never the best nor on the front)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..pareto import losses, pareto_mask
from ..trial import TrialState

__all__: list[str] = []  # the dashboard's plumbing, not an API

_COMPLETE = TrialState.COMPLETE.value


def objectives_of(e: Any) -> dict[str, Any]:
    """An experiment row's objectives: {"metrics", "directions", "constraints"}; from its objectives column when it
    has one (several objectives or outcome constraints), else its one metric and direction."""
    stored: Any = None
    if getattr(e, "objectives", None):
        try:
            stored = json.loads(e.objectives)
        except ValueError:
            stored = None  # the storage reader names a broken row; the page shows the one metric
    if (
        isinstance(stored, dict)
        and stored.get("metrics")
        and len(stored.get("directions") or []) == len(stored["metrics"])
    ):
        metrics, directions = [str(m) for m in stored["metrics"]], [str(d) for d in stored["directions"]]
    else:
        metrics, directions = [e.metric], [e.direction]
    constraints = stored.get("constraints") if isinstance(stored, dict) else None
    shown = [
        c if isinstance(c, str) else str(c.get("function", c)) if isinstance(c, dict) else str(c)
        for c in (constraints or [])
    ]
    return {"metrics": metrics, "directions": directions, "constraints": shown}


def best_row(rows: list[dict[str, Any]], direction: str) -> dict[str, Any] | None:
    """The best COMPLETE feasible row by its value (one objective), or None."""
    best = None
    for r in rows:
        v = r["value"]
        if r["state"] != _COMPLETE or v is None or not r.get("feasible", True):
            continue
        if best is None or (v < best["value"] if direction == "min" else v > best["value"]):
            best = r
    return best


def front_ids(rows: list[dict[str, Any]], directions: list[str]) -> list[int]:
    """Ids of the Pareto front (several objectives): the COMPLETE feasible rows with every objective that no other
    such row dominates, in trial-number order; as `Experiment.pareto_front` picks them."""
    m = len(directions)
    kept = [
        r
        for r in rows
        if r["state"] == _COMPLETE
        and r.get("feasible", True)
        and isinstance(r.get("values"), list)
        and len(r["values"]) == m
        and all(v is not None for v in r["values"])
    ]
    if not kept:
        return []
    mask = pareto_mask(losses(np.array([r["values"] for r in kept], dtype=float), directions))
    return [r["id"] for r, on in sorted(zip(kept, mask, strict=True), key=lambda pair: pair[0]["number"]) if on]
