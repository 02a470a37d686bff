"""TensorBoardCallback: event files that TensorBoard's own reader opens, with per-epoch scalars and the knobs as
hparams of the HParams dashboard."""

from __future__ import annotations

import pytest

import knoblab as kl
from knoblab.trial import TrialState

pytest.importorskip("tensorboard", reason="pip install 'knoblab[tensorboard]'")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import api_pb2, metadata  # noqa: E402

from knoblab.tracking import TensorBoardCallback, log_experiment  # noqa: E402

SPACE = {
    "lr": kl.Real(1e-3, 1e-1, log=True),
    "units": kl.Int(4, 64),
    "act": ["relu", "tanh", None],  # mixed types: shown as text
    "flag": kl.Bool(),
    "epochs": 3,
    "layers": kl.Branch({1: {}, 2: {"units2": kl.Int(2, 8)}}),
}


def objective(trial):
    p = trial.params
    if p["units"] > 60:
        raise RuntimeError("too wide")  # some FAILED trials
    for epoch in range(p["epochs"]):
        trial.report(epoch, loss=p["lr"] * 10 / (epoch + 1), val_loss=p["lr"] * 12 / (epoch + 1))
    return {"val_loss": p["lr"] * 4, "units_used": p["units"]}


def read(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_every_trial_is_a_run_with_hparams_and_epoch_scalars(tmp_path, sqlite_url):
    logdir = tmp_path / "tb"
    exp = kl.Experiment("tb", SPACE, metric="val_loss", storage=sqlite_url, strategy="random", seed=1)
    exp.optimize(objective, n_trials=8, callbacks=[TensorBoardCallback(logdir)])

    # the experiment summary at the root: every knob (branch sub-knobs too) with its domain, metrics as columns
    root = read(logdir)
    experiment = metadata.parse_experiment_plugin_data(root.PluginTagToContent("hparams")[metadata.EXPERIMENT_TAG])
    infos = {h.name: h for h in experiment.hparam_infos}
    assert set(infos) == {"lr", "units", "act", "flag", "epochs", "layers", "units2"}
    assert (infos["lr"].domain_interval.min_value, infos["lr"].domain_interval.max_value) == (1e-3, 1e-1)
    assert infos["units"].type == api_pb2.DATA_TYPE_FLOAT64 and infos["units"].domain_interval.max_value == 64
    assert list(infos["act"].domain_discrete.values) and infos["act"].type == api_pb2.DATA_TYPE_STRING
    assert {v.string_value for v in infos["act"].domain_discrete.values} == {"relu", "tanh", "None"}
    assert infos["flag"].type == api_pb2.DATA_TYPE_BOOL
    metrics = [m.name.tag for m in experiment.metric_infos]
    assert metrics[0] == "result/val_loss" and "loss" in metrics and "val_loss" in metrics

    trials = exp.storage.get_trials(exp.id, with_reports=True)
    assert {t.state for t in trials} >= {TrialState.COMPLETE, TrialState.FAILED}
    for t in trials:
        acc = read(logdir / f"trial_{t.number:05d}")
        start = metadata.parse_session_start_info_plugin_data(
            acc.PluginTagToContent("hparams")[metadata.SESSION_START_INFO_TAG]
        )
        shown = {k: v.WhichOneof("kind") for k, v in start.hparams.items()}
        assert set(shown) == set(t.params)  # the inactive branch's knob is absent, as in the trial
        assert start.hparams["lr"].number_value == pytest.approx(t.params["lr"])
        assert start.hparams["act"].string_value == str(t.params["act"])
        assert start.hparams["flag"].bool_value == t.params["flag"]
        end = metadata.parse_session_end_info_plugin_data(
            acc.PluginTagToContent("hparams")[metadata.SESSION_END_INFO_TAG]
        )
        scalars = acc.Tags()["scalars"]
        if t.state == TrialState.FAILED:
            assert end.status == api_pb2.STATUS_FAILURE
            assert not scalars
            continue
        assert end.status == api_pb2.STATUS_SUCCESS
        curve = [(e.step, e.value) for e in acc.Scalars("val_loss")]
        assert curve == [(s, pytest.approx(m["val_loss"])) for s, m in t.reports]
        assert acc.Scalars("result/val_loss")[-1].value == pytest.approx(t.value)
        assert acc.Scalars("result/units_used")[-1].value == t.params["units"]


def test_a_rerun_and_log_experiment_write_each_trial_once(tmp_path, sqlite_url):
    logdir = tmp_path / "tb"
    exp = kl.Experiment("tb2", {"x": kl.Real(0, 1)}, storage=sqlite_url, strategy="random", seed=2)
    exp.optimize(lambda t: (t.report(0, value=t.params["x"]), t.params["x"])[1], n_trials=3)
    assert log_experiment(exp, TensorBoardCallback(logdir)) == 3  # trials run before the callback existed
    exp.optimize(lambda t: t.params["x"], n_trials=5, callbacks=[TensorBoardCallback(logdir)])
    log_experiment(exp, TensorBoardCallback(logdir))  # again: nothing doubles
    runs = sorted(p.name for p in logdir.iterdir() if p.is_dir())
    assert runs == [f"trial_{i:05d}" for i in range(5)]
    assert all(len(list((logdir / r).glob("events.out.tfevents*"))) == 1 for r in runs)
    assert len(list(logdir.glob("events.out.tfevents*"))) == 1  # one experiment summary
    assert [e.value for e in read(logdir / "trial_00000").Scalars("value")] == [pytest.approx(exp.trials[0].value)]


def test_parallel_workers_are_mirrored_by_the_driver(tmp_path, sqlite_url):
    from tests.executors import objectives

    logdir = tmp_path / "tb"
    exp = kl.Experiment("tbp", {"x": kl.Real(0, 1)}, storage=sqlite_url, strategy="random", seed=3)
    exp.optimize(objectives.quadratic, n_trials=4, n_jobs=2, callbacks=[TensorBoardCallback(logdir)])
    for t in exp.storage.get_trials(exp.id, with_reports=True):
        assert [e.step for e in read(logdir / f"trial_{t.number:05d}").Scalars("loss")] == [0, 1, 2]


def test_bad_arguments_name_themselves(tmp_path):
    with pytest.raises(TypeError, match="metrics"):
        TensorBoardCallback(tmp_path, metrics="val_loss")
    with pytest.raises(ValueError, match="states"):
        TensorBoardCallback(tmp_path, states=["DONE"])


@pytest.mark.filterwarnings("ignore:html5lib.s sanitizer is deprecated:DeprecationWarning")
def test_the_hparams_dashboard_lists_every_trial_with_its_knobs_and_result(tmp_path, sqlite_url):
    """What TensorBoard's HParams plugin itself serves to the dashboard's table, from our event files."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider
    from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import hparams_plugin, list_session_groups

    logdir = tmp_path / "tb"
    exp = kl.Experiment("tbh", {"x": kl.Real(0, 1), "o": ["a", "b"]}, storage=sqlite_url, strategy="random", seed=4)

    def obj(t):
        for s in range(3):
            t.report(s, loss=t.params["x"] / (s + 1))
        return t.params["x"]

    exp.optimize(obj, n_trials=4, callbacks=[TensorBoardCallback(logdir)])
    mux = pem.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    tb = base_plugin.TBContext(
        logdir=str(logdir), multiplexer=mux, data_provider=data_provider.MultiplexerDataProvider(mux, str(logdir))
    )
    backend = hparams_plugin.HParamsPlugin(tb)._context
    request = api_pb2.ListSessionGroupsRequest(start_index=0, slice_size=10, allowed_statuses=[api_pb2.STATUS_SUCCESS])
    groups = list_session_groups.Handler(context.RequestContext(), backend, "", request).run().session_groups
    shown = {g.name: g for g in groups}
    assert sorted(shown) == [f"trial_{i:05d}" for i in range(4)]
    for t in exp.trials:
        g = shown[f"trial_{t.number:05d}"]
        assert g.hparams["x"].number_value == pytest.approx(t.params["x"])
        assert g.hparams["o"].string_value == t.params["o"]
        values = {m.name.tag: m.value for m in g.metric_values}
        assert values["result/value"] == pytest.approx(t.value, rel=1e-6)
        assert values["loss"] == pytest.approx(t.params["x"] / 3, rel=1e-6)  # the last epoch's
