"""`create_param_space(data, no_of_metrics)`: a ParamSpace of the values seen in a results table's columns."""

from __future__ import annotations

import pandas as pd

from ..parameters import ParamSpace

__all__ = ["create_param_space"]


def create_param_space(data: pd.DataFrame, no_of_metrics: int = 2) -> ParamSpace:
    """The ParamSpace over every column after the first `no_of_metrics`, each knob taking the values seen in it."""
    params = {col: data[col].dropna().unique().tolist() or [None] for col in data.iloc[:, no_of_metrics:].columns}
    return ParamSpace(params, list(params))
