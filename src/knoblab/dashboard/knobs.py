"""The knobs of a stored experiment as the pages use them: flattened (branch sub-knobs included), merged over rounds,
and named as people read them (a function or Keras object by its short name) next to the stored form enqueue sends
back."""

from __future__ import annotations

import json
from typing import Any

from ..storage.sql import loads
from .data import shown

__all__: list[str] = []  # the dashboard's own plumbing (its public face is knoblab.dashboard)


def flat_knobs(description: dict[str, Any], parent: list | None = None) -> list[dict[str, Any]]:
    """Every knob of a stored space, branch sub-knobs included, with the branch value that switches them on.

    Choices keep their stored form (what enqueue sends back) and have `labels`, the names people read; a long
    (low, high, n) tuple stored by its ends reads as a numeric range."""
    out = []
    for name, d in description.items():
        item = {"name": name, **{k: v for k, v in d.items() if k != "options"}, "when": parent}
        if d.get("kind") == "branch":
            item["choices"] = [v for v, _ in d["options"]]
        if d.get("kind") == "categorical" and "linspace" in d:
            low, high, n, integer = d["linspace"]
            item.update(kind="int" if integer else "real", low=low, high=high, log=False, n=n)
        if "choices" in item:
            item["labels"] = [_label(c) for c in item["choices"]]
        out.append(item)
        if d.get("kind") == "branch":
            for value, sub in d["options"]:
                out += flat_knobs(sub, [name, value])
    return out


def _label(value: Any) -> str:
    """A choice as the enqueue form and the round form name it."""
    v = shown(value)
    return v if isinstance(v, str) else json.dumps(v)


def _shown_knob(k: dict[str, Any]) -> dict[str, Any]:
    """A knob for the reading pages: its choices, fixed value and branch value by the names the trials show."""
    out = {**k}
    if "choices" in out:
        out["choices"] = [shown(c) for c in out["choices"]]
    if "value" in out:
        out["value"] = shown(out["value"])
    if out.get("when"):
        out["when"] = [out["when"][0], shown(out["when"][1])]
    return out


def space_labels(description: dict[str, Any]) -> dict[str, list[str]]:
    """The names of every knob's choices (branch values, fixed value) in a stored space, for the new-round form."""
    out = {}
    for k in flat_knobs(description):
        if "labels" in k:
            out[k["name"]] = k["labels"]
        elif k.get("kind") == "fixed":
            out[k["name"]] = [_label(k.get("value"))]
    return out


def rounds_of(e: Any) -> list[dict[str, Any]]:
    """Every round of a stored experiment, round 0 (the space it was created with) first.

    Later rounds live in the experiment's attrs under "rounds" (see knoblab.analysis.rounds); read here directly so
    the dashboard need not import the analysis stack.
    """
    attrs = loads(e.attrs)
    first = {"round": 0, "space": loads(e.space), "parent": None, "reason": "", "created_at": e.created_at}
    later = [r for r in attrs.get("rounds", []) if isinstance(r, dict) and isinstance(r.get("space"), dict)]
    return [first, *later]


def all_knobs(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The knobs of every round, merged: numeric ranges widened, choices joined (table columns, plot axes)."""
    merged: dict[str, dict[str, Any]] = {}
    for r in rounds:
        for k in map(_shown_knob, flat_knobs(r["space"])):
            have = merged.get(k["name"])
            if have is None or have.get("kind") != k.get("kind"):
                merged[k["name"]] = dict(k)
            elif k.get("kind") in ("real", "int"):
                have["low"], have["high"] = min(have["low"], k["low"]), max(have["high"], k["high"])
            elif "choices" in k:
                seen = {json.dumps(c) for c in have["choices"]}
                have["choices"] = have["choices"] + [c for c in k["choices"] if json.dumps(c) not in seen]
                have["labels"] = [_label(c) for c in have["choices"]]
    return list(merged.values())
