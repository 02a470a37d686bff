"""The multi-objective benchmark problems: ZDT1-3 (2 objectives), DTLZ2 (3 objectives) and a Keras MLP's accuracy
against its parameter count (2 objectives, a table computed once).

Every problem minimizes all its objectives (the Keras one turns accuracy into error) and has a fixed reference
point and the largest hypervolume reachable (to report how far from it each run ends):
- ZDT1-3 (Zitzler, Deb & Thiele 2000) on [0, 1]^d, reference (11, 11) as in BoTorch's test problems; the fronts'
  hypervolumes are 120 + 2/3, 120 + 1/3 and 128.7756 (computed here from a dense sample of the true front).
- DTLZ2 (Deb et al. 2002) with 3 objectives on [0, 1]^d, reference (1.1, 1.1, 1.1); the front is the positive
  unit sphere's octant, hypervolume 1.1^3 - pi/6.
- keras-digits: a Keras MLP on scikit-learn's digits (1,797 8x8 images, shipped with scikit-learn), knobs: one or
  two hidden layers, units 4..256 (powers of two) per layer, learning rate (5 values), dropout (3 values); the
  objectives are the validation error after 12 epochs (Adam, batch 128) and log10 of the number of parameters
  (on a log scale, so that the hypervolume rewards a good small model as much as a good large one). The 840
  configurations were trained once (`python -m bench.multi.keras_table`, deterministic seeds) into
  bench/results/multi/keras_table.jsonl, so every optimizer and seed reads the same numbers; reference (1.0 error, 10^5 parameters), above the table's
  largest model (85,002 parameters).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..optimizers import Param

TABLE = Path(__file__).resolve().parents[1] / "results" / "multi" / "keras_table.jsonl"


@dataclass
class Problem:
    name: str
    space: list[Param]
    fn: Callable[[dict[str, Any]], list[float]]
    directions: tuple[str, ...]
    reference: tuple[float, ...]  # in losses (every objective minimized)
    max_hypervolume: float

    def __call__(self, params: dict[str, Any]) -> list[float]:
        return [float(v) for v in self.fn(params)]

    def losses(self, values: list[list[float]]) -> np.ndarray:
        sign = np.array([1.0 if d == "min" else -1.0 for d in self.directions])
        return np.asarray(values, dtype=float).reshape(-1, len(self.directions)) * sign


def _x(p: dict[str, Any], d: int) -> np.ndarray:
    return np.array([p[f"x{i}"] for i in range(d)], dtype=float)


def zdt(which: int, d: int) -> Problem:
    def fn(p):
        x = _x(p, d)
        f1 = x[0]
        g = 1.0 + 9.0 * x[1:].sum() / (d - 1)
        r = f1 / g
        if which == 1:
            h = 1.0 - math.sqrt(r)
        elif which == 2:
            h = 1.0 - r * r
        else:
            h = 1.0 - math.sqrt(r) - r * math.sin(10 * math.pi * f1)
        return [f1, g * h]

    return Problem(
        f"ZDT{which}-{d}d",
        [Param(f"x{i}", "real", 0.0, 1.0) for i in range(d)],
        fn,
        ("min", "min"),
        (11.0, 11.0),
        _zdt_front_hv(which),
    )


@cache
def _zdt_front_hv(which: int) -> float:
    from knoblab.pareto import hypervolume

    f1 = np.linspace(0.0, 1.0, 200_001)
    if which == 1:
        f2 = 1 - np.sqrt(f1)
    elif which == 2:
        f2 = 1 - f1**2
    else:
        f2 = 1 - np.sqrt(f1) - f1 * np.sin(10 * np.pi * f1)
    return hypervolume(np.column_stack([f1, f2]), (11.0, 11.0))


def dtlz2(d: int, m: int = 3) -> Problem:
    def fn(p):
        x = _x(p, d)
        g = float(np.sum((x[m - 1 :] - 0.5) ** 2))
        f = []
        for i in range(m):
            v = 1.0 + g
            for j in range(m - 1 - i):
                v *= math.cos(x[j] * math.pi / 2)
            if i > 0:
                v *= math.sin(x[m - 1 - i] * math.pi / 2)
            f.append(v)
        return f

    return Problem(
        f"DTLZ2-{d}d",
        [Param(f"x{i}", "real", 0.0, 1.0) for i in range(d)],
        fn,
        ("min",) * m,
        (1.1,) * m,
        1.1**m - (math.pi / 6 if m == 3 else float("nan")),
    )


# ---- the Keras table ----
LR = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
DROPOUT = (0.0, 0.2, 0.4)
KERAS_SPACE = [
    Param("layers", "int", 1, 2),
    Param("log2_units1", "int", 2, 8),
    Param("log2_units2", "int", 2, 8),
    Param("lr_index", "int", 0, len(LR) - 1),
    Param("dropout_index", "int", 0, len(DROPOUT) - 1),
]


def keras_key(p: dict[str, Any]) -> str:
    """The table's key of a configuration (the second layer's units do not matter with one layer)."""
    layers = int(p["layers"])
    u2 = int(p["log2_units2"]) if layers == 2 else 0
    return f"{layers}-{int(p['log2_units1'])}-{u2}-{int(p['lr_index'])}-{int(p['dropout_index'])}"


def keras_configs() -> list[dict[str, int]]:
    out = []
    for layers in (1, 2):
        for u1 in range(2, 9):
            for u2 in range(2, 9) if layers == 2 else (2,):
                for lr in range(len(LR)):
                    for dr in range(len(DROPOUT)):
                        out.append(
                            {
                                "layers": layers,
                                "log2_units1": u1,
                                "log2_units2": u2,
                                "lr_index": lr,
                                "dropout_index": dr,
                            }
                        )
    return out


def read_table() -> dict[str, dict[str, Any]]:
    """The trained configurations, by `keras_key`."""
    out = {}
    for line in TABLE.read_text().splitlines() if TABLE.exists() else []:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill
        out[row["key"]] = row
    return out


def keras_digits() -> Problem:
    if not TABLE.exists():
        raise FileNotFoundError(f"{TABLE} is missing: build it with `python -m bench.multi.keras_table`")
    table = read_table()

    def fn(p):
        row = table[keras_key(p)]
        return [row["val_error"], math.log10(row["params"])]

    front = np.array([[r["val_error"], math.log10(r["params"])] for r in table.values()])
    from knoblab.pareto import hypervolume

    ref = (1.0, 5.0)
    return Problem("keras-digits", KERAS_SPACE, fn, ("min", "min"), ref, hypervolume(front, ref))


def problems(names: list[str] | None = None) -> list[Problem]:
    """The benchmark's problems (the Keras one when its table has been built)."""
    out = [zdt(1, 10), zdt(2, 10), zdt(3, 10), dtlz2(6)]
    if len(read_table()) == len(keras_configs()):
        out.append(keras_digits())
    if names:
        out = [p for p in out if p.name in names]
    return out
