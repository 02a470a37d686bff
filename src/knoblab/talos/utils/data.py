"""Data helpers from Talos: `val_split` (shuffle, then the last part validates), `kfold`, `rescale_meanzero`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["val_split", "kfold", "rescale_meanzero"]


def _rows(x: Any, index: np.ndarray) -> Any:
    if isinstance(x, pd.DataFrame | pd.Series):
        return x.iloc[index]
    return np.asarray(x)[index]


def _shuffle(x: Any, y: Any = None, multi_input: bool = False, seed: int | None = None) -> Any:
    """x (and y) in one random row order, without changing the arrays given; a list x with multi_input=True is
    several inputs of the same rows."""
    if isinstance(x, list) and not multi_input:
        raise TypeError("For multi-input x, set multi_input to True")
    n = len(x[0]) if multi_input else len(x)
    order = np.random.default_rng(seed).permutation(n)
    x_out = [_rows(part, order) for part in x] if multi_input else _rows(x, order)
    return x_out if y is None else (x_out, _rows(y, order))


def val_split(x: Any, y: Any, split: float, shuffled: bool = True, *, seed: int | None = None) -> tuple:
    """(x_train, y_train, x_val, y_val): the rows shuffled, then the last `split` fraction validates (as Talos'
    talos.utils.val_split, from wrangle.array_split); `seed` makes the shuffle repeatable."""
    if not (isinstance(split, float | int) and 0 < split < 1):
        raise ValueError(f"val_split: split must be a fraction in (0, 1), got {split!r}")
    if shuffled:
        x, y = _shuffle(x, y, seed=seed)
    limit = int(len(x) * (1 - split))
    return x[:limit], y[:limit], x[limit:], y[limit:]


def kfold(
    x: Any, y: Any, folds: int = 10, shuffled: bool = True, multi_input: bool = False, *, seed: int | None = None
) -> tuple[list, list]:
    """x and y cut into `folds` consecutive folds of len(y) // folds rows each (the remainder is left out, as in
    Talos), after a shuffle unless shuffled=False."""
    if not (isinstance(folds, int) and folds >= 2):
        raise ValueError(f"kfold: folds must be an integer >= 2, got {folds!r}")
    if isinstance(x, list) and not multi_input:
        raise TypeError("For multi-input x, set multi_input to True")
    if shuffled:
        x, y = _shuffle(x, y, multi_input=multi_input, seed=seed)
    step = len(y) // folds
    if step < 1:
        raise ValueError(f"kfold: {len(y)} rows cannot make {folds} folds")
    out_x, out_y = [], []
    for i in range(folds):
        lo, hi = i * step, (i + 1) * step
        out_x.append([part[lo:hi] for part in x] if multi_input else x[lo:hi])
        out_y.append(y[lo:hi])
    return out_x, out_y


def rescale_meanzero(x: Any) -> np.ndarray:
    """Each numeric column rescaled to mean 0 and standard deviation 1 (ddof=1, as pandas); other columns kept."""
    df = pd.DataFrame(x).copy()
    for col in df.select_dtypes(include="number").columns:
        std = df[col].std(axis=0)
        df[col] = (df[col] - df[col].mean(axis=0)) / (std if std else 1.0)
    return df.values
