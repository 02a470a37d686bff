"""Learning curves of many trials at once: which curves to draw, and the band of all the others.

Every trial is drawn while there are at most `top` of them; beyond that the best `top` (and every running one) are
drawn as lines over a density band: per step, the 10-90% and 25-75% ranges and the median of the matching trials
that reached that step (of an even sample of `BAND_SAMPLE` of them when there are more). Only the reports of the
trials drawn and sampled are read, so a page of a 10,000-trial experiment costs a few thousand trials' reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..trial import TrialState
from .data import Curve

__all__: list[str] = []  # the dashboard's own plumbing (its public face is knoblab.dashboard)

BAND_SAMPLE = 1000  # the band of more trials than this is estimated from this many, evenly spread
BAND_STEPS = 300  # more distinct steps than this are binned, so the band stays a few kilobytes
MAX_POINTS = 500  # a longer curve is thinned to this many points (its last one kept)
COMPLETE, PRUNED, RUNNING = TrialState.COMPLETE.value, TrialState.PRUNED.value, TrialState.RUNNING.value


def _rank_key(row: dict[str, Any], reached: int, direction: str):
    """Best first: complete trials by value, then pruned ones by how far they got, then the rest."""
    v = row["value"]
    signed = math.inf if v is None else (v if direction == "min" else -v)
    if row["state"] == COMPLETE and v is not None:
        return (0, 0, signed)
    if row["state"] == PRUNED:
        return (1, -reached, signed)
    return (2, -reached, row["number"])


def _thin(steps: list[int], values: list[float | None]) -> tuple[list[int], list[float | None]]:
    if len(steps) <= MAX_POINTS:
        return steps, values
    keep = np.unique(np.linspace(0, len(steps) - 1, MAX_POINTS).round().astype(int))
    return [steps[i] for i in keep], [values[i] for i in keep]


def band(curves: Iterable[Curve], metric: str) -> dict[str, list] | None:
    """Per step (or bin of steps): how many curves reached it, their median and 10/25/75/90% quantiles."""
    steps, values = [], []
    for c in curves:
        column = c.values.get(metric)
        if column is not None:
            steps.append(np.asarray(c.steps, dtype=float))
            values.append(np.asarray(column, dtype=float))  # None is NaN
    if not steps:
        return None
    s, v = np.concatenate(steps), np.concatenate(values)
    ok = np.isfinite(v)
    s, v = s[ok], v[ok]
    if not len(s):
        return None
    distinct = np.unique(s)
    if len(distinct) > BAND_STEPS:
        edges = np.linspace(distinct[0], distinct[-1], BAND_STEPS + 1)
        group = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, BAND_STEPS - 1)
    else:
        group = np.searchsorted(distinct, s)
    order = np.lexsort((v, group))
    g, v = group[order], v[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    counts = ends - starts
    if len(distinct) > BAND_STEPS:
        ordered = s[order]
        x = [float(np.mean(ordered[a:b])) for a, b in zip(starts, ends, strict=True)]
    else:
        x = [float(distinct[i]) for i in g[starts]]

    def q(p: float) -> list[float]:
        pos = starts + p * (counts - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, ends - 1)
        return (v[lo] + (v[hi] - v[lo]) * (pos - lo)).tolist()

    return {
        "steps": x,
        "count": counts.tolist(),
        "q10": q(0.1),
        "q25": q(0.25),
        "q50": q(0.5),
        "q75": q(0.75),
        "q90": q(0.9),
    }


def choose(
    rows: list[dict[str, Any]],
    counts: dict[int, tuple[int, int]],
    read: Callable[[Iterable[int]], dict[int, Curve]],
    metric: str,
    direction: str,
    top: int,
) -> dict[str, Any]:
    """The curves to draw for `metric` among `rows` (the trials a filter keeps), given how far each reported
    (`counts`: {trial_id: (reports, last step)}) and a way to `read` their curves: all of them up to `top`, else the
    best `top` and every running trial, with the band of all. Each curve is {id, n, s, x (stopped), steps, values};
    `metrics` names what the read curves reported."""
    have = [r for r in rows if r["id"] in counts]
    if len(have) <= top:
        shown, sample = have, []
    else:
        running = [r for r in have if r["state"] == RUNNING]
        rest = sorted(
            (r for r in have if r["state"] != RUNNING),
            key=lambda r: _rank_key(r, counts[r["id"]][1] + 1, direction),
        )
        shown = rest[:top] + running
        every = max(1, math.ceil(len(have) / BAND_SAMPLE))
        sample = sorted(have, key=lambda r: r["number"])[::every]
    curves = read([r["id"] for r in shown] + [r["id"] for r in sample])
    names: dict[str, None] = {}
    for curve in curves.values():
        names.update(dict.fromkeys(curve.values))
    out = []
    for r in sorted(shown, key=lambda r: r["number"]):
        c = curves.get(r["id"])
        if c is None or metric not in c.values:
            continue
        steps, values = _thin(c.steps, c.values[metric])
        out.append(
            {"id": r["id"], "n": r["number"], "s": r["state"], "x": r["stopped"], "steps": steps, "values": values}
        )
    return {
        "metrics": list(names),
        "n": len(have),
        "shown": len(out),
        "curves": out,
        "band": band((curves[r["id"]] for r in sample if r["id"] in curves), metric) if sample else None,
        "band_of": len(sample),
    }
