"""Talos' callbacks on Keras 3: `ExperimentLog` (every epoch of every round in a .log file beside the experiment
log), `TrainingPlot` (live training curves) and `PowerDraw` (GPU watts per epoch, from nvidia-smi).

knoblab stores every epoch of every trial anyway (`scan.round_history`, the dashboard); these keep Talos code and
its files working.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import keras

if TYPE_CHECKING:
    from matplotlib.figure import Figure  # matplotlib is imported at run time only to draw

__all__ = ["ExperimentLog", "TrainingPlot", "PowerDraw"]


class ExperimentLog(keras.callbacks.Callback):
    """Appends each epoch's logs to `<experiment_name>/<experiment id>.log`: columns id (one per fit), epoch and
    the logged metrics, a header first. `experiment_name` must be the running Scan's (its folder holds the CSV
    experiment log whose name the .log takes); `params` is the round's params dict, as in Talos."""

    def __init__(self, experiment_name: str, params: Mapping[str, Any]):
        super().__init__()
        logs = glob.glob(os.path.join(".", experiment_name, "*.csv"))
        if not logs:
            raise ValueError(
                f"ExperimentLog: no experiment log in ./{experiment_name}/; experiment_name has to match "
                "Scan(experiment_name=...) of a scan started in this folder"
            )
        latest = max(logs, key=os.path.getmtime)
        self.name = latest[: -len(".csv")] + ".log"
        self.params_dict = dict(params)
        self.final_out: list[list[Any]] = []

    def on_train_begin(self, logs=None):
        self.hash = "0x" + secrets.token_hex(8)
        self.final_out = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not self.final_out and not os.path.exists(self.name):
            self.final_out.append(["id", "epoch", *logs.keys()])
        self.final_out.append([self.hash, epoch + 1, *(round(float(v), 4) for v in logs.values())])

    def on_train_end(self, logs=None):
        with open(self.name, "a+", encoding="utf-8") as f:
            for row in self.final_out:
                f.write(",".join(map(str, row)) + "\n")


class TrainingPlot(keras.callbacks.Callback):
    """Training curves redrawn after every epoch: one panel per metric in `metrics` (training dashed, validation
    solid). In a notebook the figure is shown in place; elsewhere `self.figure` holds it (matplotlib)."""

    def __init__(
        self,
        figsize: tuple[float, float] | None = None,
        cell_size: tuple[float, float] = (6, 4),
        dynamic_x_axis: bool = False,
        max_cols: int = 2,
        y_max: float | None = 1,
        metrics: Sequence[str] | None = None,
    ):
        super().__init__()
        self.figsize, self.cell_size, self.dynamic_x_axis = figsize, cell_size, dynamic_x_axis
        self.max_cols, self.y_max = max_cols, y_max
        self.metrics = list(metrics) if metrics is not None else ["loss"]
        self.logs: list[dict[str, float]] = []
        self.figure: Figure | None = None

    def on_train_begin(self, logs=None):
        self.logs = []
        self.base_metrics = [m for m in self.metrics if not m.startswith("val_")]
        rows = (len(self.base_metrics) + 1) // self.max_cols + 1
        if self.figsize is None:
            self.figsize = (self.max_cols * self.cell_size[0], rows * self.cell_size[1])
        self.max_epoch = None if self.dynamic_x_axis else (self.params or {}).get("epochs")

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append({k: float(v) for k, v in (logs or {}).items()})
        self.draw()

    def draw(self) -> Any:
        """Draws the curves so far; returns the figure."""
        from matplotlib.figure import Figure

        missing = [m for m in self.base_metrics if self.logs and m not in self.logs[0]]
        if missing:
            raise ValueError(
                f"TrainingPlot: metrics {missing} are not in the logs; the logs hold {sorted(self.logs[0])}"
            )
        fig = Figure(figsize=self.figsize)
        rows = (len(self.base_metrics) + 1) // self.max_cols + 1
        epochs = range(1, len(self.logs) + 1)
        for i, metric in enumerate(self.base_metrics):
            ax = fig.add_subplot(rows, self.max_cols, i + 1)
            ax.plot(epochs, [log[metric] for log in self.logs], label="training", color="#1B2F33", linestyle="dashed")
            if f"val_{metric}" in self.logs[0]:
                ax.plot(epochs, [log[f"val_{metric}"] for log in self.logs], label="validation", color="#A72608")
            if self.max_epoch:
                ax.set_xlim(0, self.max_epoch)
            if self.y_max is not None:
                ax.set_ylim(0, self.y_max)
            ax.set_title(metric)
            ax.set_xlabel("epoch", color="grey")
            ax.legend(loc="upper right")
        fig.tight_layout()
        self.figure = fig
        _show_in_notebook(fig)
        return fig


def _show_in_notebook(fig: Any) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import clear_output, display
    except ImportError:
        return
    if get_ipython() is not None:
        clear_output(wait=True)
        display(fig)


class PowerDraw(keras.callbacks.Callback):
    """GPU 0's power draw (watts, from nvidia-smi) at the start and end of every epoch, and each epoch's seconds;
    `talos.utils.power_draw_append(history, power_draw)` adds them to the history."""

    def __init__(self) -> None:
        super().__init__()
        if shutil.which("nvidia-smi") is None:
            raise RuntimeError("PowerDraw reads GPU power with nvidia-smi, which is not on this machine's PATH")
        self.log: dict[str, list[float]] = {"epoch_begin": [], "epoch_end": [], "seconds": []}

    @staticmethod
    def _watts() -> float:
        out = subprocess.run(
            ["nvidia-smi", "-i", "0", "--query-gpu=power.draw", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[0])

    def on_train_begin(self, logs=None):
        self.log = {"epoch_begin": [], "epoch_end": [], "seconds": []}

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.time()
        self.log["epoch_begin"].append(self._watts())

    def on_epoch_end(self, epoch, logs=None):
        self.log["epoch_end"].append(self._watts())
        self.log["seconds"].append(round(time.time() - self._start, 3))
