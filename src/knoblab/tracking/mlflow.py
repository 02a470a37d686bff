"""Mirrors trials to MLflow: one run per trial under one MLflow experiment, with the knobs as params, the per-epoch
curves as stepped metrics, the result metrics, the trial's state as tags, and the best trial's saved model as an
artifact of its run (`pip install 'knoblab[mlflow]'`; any tracking URI: a server, `sqlite:///mlflow.db`, a folder)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..trial import FrozenTrial, TrialState
from .common import epoch_metrics, plain_params, result_metrics, seconds

if TYPE_CHECKING:
    from ..experiment import Experiment

__all__ = ["MLflowCallback"]

_STATUS = {TrialState.COMPLETE: "FINISHED", TrialState.PRUNED: "KILLED", TrialState.FAILED: "FAILED"}
_BATCH = 900  # MLflow takes at most 1,000 metrics in one log_batch


class MLflowCallback:
    """An `optimize(callbacks=[...])` callback that logs each finished trial as an MLflow run.

    Args:
        tracking_uri: where MLflow stores runs (None: MLflow's own default, e.g. $MLFLOW_TRACKING_URI).
        experiment_name: the MLflow experiment (default: the knoblab experiment's name); created if missing.
        artifact_location: where a newly created MLflow experiment keeps artifacts (None: the store's default).
        log_models: when a trial becomes the best, log the model file it saved (the `model_path` attr a Scan sets,
            or one your objective sets with `trial.set_attr("model_path", path)`) as the run's `model/` artifact,
            and move the tag `knoblab.best` to that run.
        tags: extra tags for every run.

    Runs carry the tags `knoblab.experiment` and `knoblab.trial` (the trial number); a trial already logged to the
    MLflow experiment is skipped, so a rerun (or `log_experiment`) never doubles a run.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment_name: str | None = None,
        *,
        artifact_location: str | os.PathLike | None = None,
        log_models: bool = True,
        tags: dict[str, str] | None = None,
    ):
        try:
            from mlflow.entities import Metric, Param, RunTag
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise ImportError("MLflowCallback needs MLflow: pip install 'knoblab[mlflow]'") from None
        self._Metric, self._Param, self._RunTag = Metric, Param, RunTag
        self.client = MlflowClient(tracking_uri)
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.artifact_location = None if artifact_location is None else Path(artifact_location).resolve().as_uri()
        self.log_models = log_models
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        self._experiment_ids: dict[str, str] = {}

    def experiment_id(self, exp: Experiment) -> str:
        """The id of the MLflow experiment this knoblab experiment's runs go to (created on first use)."""
        name = self.experiment_name or exp.name
        if name not in self._experiment_ids:
            found = self.client.get_experiment_by_name(name)
            if found is None:
                eid = self.client.create_experiment(
                    name, artifact_location=self.artifact_location, tags={"knoblab.experiment": exp.name}
                )
            else:
                eid = found.experiment_id
            self._experiment_ids[name] = eid
        return self._experiment_ids[name]

    def run_for(self, exp: Experiment, number: int) -> Any:
        """The MLflow run of trial `number`, or None when it was not logged."""
        runs = self.client.search_runs(
            [self.experiment_id(exp)],
            f"tags.`knoblab.trial` = '{int(number)}' and tags.`knoblab.experiment` = '{_quoted(exp.name)}'",
            max_results=1,
        )
        return runs[0] if runs else None

    def __call__(self, exp: Experiment, trial: FrozenTrial) -> None:
        if not trial.state.finished or self.run_for(exp, trial.number) is not None:
            return
        if trial.reports is None:
            trial = exp.storage.get_trial(trial.id, with_reports=True)
        start = _millis(trial.started_at)
        end = _millis(trial.finished_at) or start or int(time.time() * 1000)
        tags = {
            **self.tags,
            "knoblab.experiment": exp.name,
            "knoblab.trial": str(trial.number),
            "knoblab.state": str(trial.state),
            "knoblab.round": str(trial.round),
        }
        if trial.note:
            tags["mlflow.note.content"] = trial.note
        if trial.error:
            tags["knoblab.error"] = trial.error.split("\n")[0][:5000]
        run = self.client.create_run(self.experiment_id(exp), start_time=start, tags=tags, run_name=_name(trial))
        run_id = run.info.run_id
        params = [self._Param(k, str(v)[:6000]) for k, v in plain_params(trial.params).items()]
        if trial.seed is not None:
            params.append(self._Param("knoblab.seed", str(trial.seed)))
        metrics = [self._Metric(k, v, end, step) for step, values in epoch_metrics(trial) for k, v in values.items()]
        last = max((m.step for m in metrics), default=0)
        metrics += [self._Metric(k, v, end, last) for k, v in result_metrics(trial).items()]
        self.client.log_batch(run_id, params=params)
        for i in range(0, len(metrics), _BATCH):
            self.client.log_batch(run_id, metrics=metrics[i : i + _BATCH])
        if self.log_models and trial.state == TrialState.COMPLETE:
            self._log_if_best(exp, trial, run_id)
        self.client.set_terminated(run_id, _STATUS[trial.state], end_time=end)

    def _log_if_best(self, exp: Experiment, trial: FrozenTrial, run_id: str) -> None:
        try:
            best = exp.best
        except ValueError:
            return
        path = trial.attrs.get("model_path")
        if best.id != trial.id or not path or not Path(path).exists():
            return
        self.client.log_artifact(run_id, str(path), artifact_path="model")
        previous = self.client.search_runs(
            [self.experiment_id(exp)],
            f"tags.`knoblab.best` = 'true' and tags.`knoblab.experiment` = '{_quoted(exp.name)}'",
        )
        for old in previous:
            self.client.set_tag(old.info.run_id, "knoblab.best", "false")
        self.client.set_tag(run_id, "knoblab.best", "true")

    def __repr__(self) -> str:
        return f"MLflowCallback({self.tracking_uri!r}, experiment_name={self.experiment_name!r})"


def _name(trial: FrozenTrial) -> str:
    return f"trial_{trial.number:05d}"


def _millis(at: Any) -> int | None:
    t = seconds(at)
    return None if t is None else int(t * 1000)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
