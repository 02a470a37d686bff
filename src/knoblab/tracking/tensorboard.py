"""Mirrors trials to TensorBoard: one run per trial with its knobs as hparams (the HParams dashboard compares them),
its per-epoch curves as scalars, and its result metrics; written with TensorBoard's own event writer, so neither
TensorFlow nor PyTorch is needed (`pip install 'knoblab[tensorboard]'`, then `tensorboard --logdir LOGDIR`)."""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..space import Categorical, Fixed, Int, Knob, Real, Space
from ..trial import FrozenTrial, TrialState
from .common import RESULT_PREFIX, epoch_metrics, result_metrics, seconds

if TYPE_CHECKING:
    from ..experiment import Experiment

__all__ = ["TensorBoardCallback", "run_name"]


def run_name(trial: FrozenTrial) -> str:
    """The TensorBoard run (a sub-folder of the log folder) that holds one trial."""
    return f"trial_{trial.number:05d}"


def _tensorboard() -> Any:
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
        from tensorboard.plugins.hparams import summary_v2 as hp
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ImportError("TensorBoardCallback needs TensorBoard: pip install 'knoblab[tensorboard]'") from None
    import types

    return types.SimpleNamespace(
        event_pb2=event_pb2,
        summary_pb2=summary_pb2,
        api_pb2=api_pb2,
        metadata=metadata,
        plugin_data_pb2=plugin_data_pb2,
        hp=hp,
        EventFileWriter=EventFileWriter,
    )


def _discrete_kind(values: list[Any]) -> type:
    """The one type TensorBoard's Discrete domain holds for these values: bool, float or str."""
    if all(isinstance(v, bool) for v in values):
        return bool
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return float
    return str


class _Knobs:
    """How each knob of a space appears in TensorBoard: its domain, and its values converted to the domain's type."""

    def __init__(self, space: Space, tb: Any):
        self.kinds: dict[str, type] = {}
        self.hparams = []
        for name, knob in space.all_knobs().items():
            domain, kind = self._domain(knob, tb.hp)
            self.kinds[name] = kind
            self.hparams.append(tb.hp.HParam(name, domain))

    def _domain(self, knob: Knob, hp: Any) -> tuple[Any, type]:
        if isinstance(knob, Real):
            return hp.RealInterval(float(knob.low), float(knob.high)), float
        if isinstance(knob, Int):
            return hp.IntInterval(int(knob.low), int(knob.high)), int
        if isinstance(knob, Categorical | Fixed):
            values = list(knob.choices) if isinstance(knob, Categorical) else [knob.value]
            kind = _discrete_kind(values)
            return hp.Discrete([self._as(kind, v) for v in values]), kind
        return None, str

    @staticmethod
    def _as(kind: type, value: Any) -> Any:
        if kind is str:
            return value if isinstance(value, str) else str(value)
        return kind(value)

    def values(self, params: dict[str, Any]) -> dict[str, Any]:
        return {name: self._as(self.kinds.get(name, str), v) for name, v in params.items()}


class TensorBoardCallback:
    """An `optimize(callbacks=[...])` callback that writes each finished trial to `logdir/trial_NNNNN/`, and the
    experiment's knobs and metrics to `logdir/` for the HParams dashboard.

    Args:
        logdir: the folder `tensorboard --logdir` is pointed at (one experiment per folder).
        metrics: metric names the HParams table shows as columns, besides `result/<metric>` (the trial's result)
            and the metrics of the first trial logged that did not fail; every metric's per-epoch curve is in the
            Scalars tab either way.
        states: the trial states mirrored (default: every finished trial; FAILED ones carry no result).

    Trials whose run folder already exists are skipped, so a rerun (or `log_experiment`) never doubles a curve.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        *,
        metrics: Iterable[str] = (),
        states: Iterable[TrialState | str] = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED),
    ):
        self.logdir = Path(logdir)
        if isinstance(metrics, str):
            raise TypeError(f"metrics: got the string {metrics!r}; give a list of metric names")
        self.metrics = list(metrics)
        try:
            self.states = {TrialState(s) for s in states}
        except ValueError:
            raise ValueError(f"states: got {list(states)!r}; allowed: {[s.value for s in TrialState]}") from None
        self._tb = _tensorboard()
        self._knobs: _Knobs | None = None
        self._configured = False

    def __call__(self, exp: Experiment, trial: FrozenTrial) -> None:
        if trial.state not in self.states or not trial.state.finished:
            return
        folder = self.logdir / run_name(trial)
        if folder.exists():
            return
        if trial.reports is None:
            trial = exp.storage.get_trial(trial.id, with_reports=True)
        if self._knobs is None:
            self._knobs = _Knobs(exp.space, self._tb)
        if not self._configured and trial.state != TrialState.FAILED:  # the first trial that has metrics
            self._write_config(exp, trial, self._knobs)
            self._configured = True
        self._write_trial(trial, folder, self._knobs)

    # ---- writing ----
    def _summary(self, tag: str, data: Any) -> Any:
        tb = self._tb
        return tb.summary_pb2.Summary(
            value=[
                tb.summary_pb2.Summary.Value(
                    tag=tag, metadata=tb.metadata.create_summary_metadata(data), tensor=tb.metadata.NULL_TENSOR
                )
            ]
        )

    def _write(self, folder: Path, events: list[tuple[float, int, Any]]) -> None:
        writer = self._tb.EventFileWriter(str(folder))
        try:
            for wall, step, summary in events:
                writer.add_event(self._tb.event_pb2.Event(wall_time=wall, step=step, summary=summary))
        finally:
            writer.close()

    def _write_config(self, exp: Experiment, first: FrozenTrial, knobs: _Knobs) -> None:
        """The experiment summary: every knob with its domain, and the metrics shown as columns."""
        if any(self.logdir.glob("events.out.tfevents*")):
            return  # written by an earlier run into this folder: TensorBoard reads the first one only
        names = [RESULT_PREFIX + exp.metric, *result_metrics(first), *self.metrics]
        names += sorted({k for _, m in epoch_metrics(first) for k in m})
        metrics = [self._tb.hp.Metric(name) for name in dict.fromkeys(names)]
        pb = self._tb.hp.hparams_config_pb(knobs.hparams, metrics, time_created_secs=time.time())
        self.logdir.mkdir(parents=True, exist_ok=True)
        self._write(self.logdir, [(time.time(), 0, pb)])

    def _write_trial(self, trial: FrozenTrial, folder: Path, knobs: _Knobs) -> None:
        tb = self._tb
        end = seconds(trial.finished_at) or time.time()
        start = seconds(trial.started_at) or end
        values = knobs.values(trial.params)
        events: list[tuple[float, int, Any]] = [
            (start, 0, tb.hp.hparams_pb(values, trial_id=run_name(trial), start_time_secs=start))
        ]
        steps = epoch_metrics(trial)
        for step, metrics in steps:
            summary = tb.summary_pb2.Summary(
                value=[tb.summary_pb2.Summary.Value(tag=k, simple_value=v) for k, v in metrics.items()]
            )
            events.append((end, step, summary))
        last = steps[-1][0] if steps else 0
        result = result_metrics(trial)
        if result:
            summary = tb.summary_pb2.Summary(
                value=[tb.summary_pb2.Summary.Value(tag=k, simple_value=v) for k, v in result.items()]
            )
            events.append((end, last, summary))
        status = tb.api_pb2.STATUS_FAILURE if trial.state == TrialState.FAILED else tb.api_pb2.STATUS_SUCCESS
        end_info = tb.plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=end)
        data = tb.plugin_data_pb2.HParamsPluginData(session_end_info=end_info)
        events.append((end, last, self._summary(tb.metadata.SESSION_END_INFO_TAG, data)))
        self._write(folder, events)

    def __repr__(self) -> str:
        return f"TensorBoardCallback({str(self.logdir)!r})"
