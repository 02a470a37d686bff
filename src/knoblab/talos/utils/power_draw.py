"""`power_draw_append(history, power_draw)`: a fit's GPU power (from callbacks.PowerDraw) as history entries, so a
scan stores it with the round."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["power_draw_append"]


def power_draw_append(history: Any, power_draw: Any) -> Any:
    """Adds watts_min, watts_max, seconds and Ws (watt-seconds) to `history.history`; returns the history."""
    log = power_draw.log
    joined = log["epoch_begin"] + log["epoch_end"]
    if not joined:
        raise ValueError("power_draw_append: the PowerDraw callback recorded nothing; pass it to fit(callbacks=...)")
    history.history["watts_min"] = [min(joined)]
    history.history["watts_max"] = [max(joined)]
    history.history["seconds"] = [sum(log["seconds"])]
    average = (np.array(log["epoch_begin"]) + np.array(log["epoch_end"])) / 2
    history.history["Ws"] = [round(float(np.sum(average * np.array(log["seconds"]))), 2)]
    return history
