"""PBT and promotion: exploitation copies weights (compared by value), exploration stays inside the space, and the
Keras reporter stops fit at a rung, saves a checkpoint and a continuation resumes from it."""

from __future__ import annotations

import numpy as np
import pytest

import knoblab as kl
from knoblab.schedulers import PBT, SuccessiveHalving, explore
from knoblab.trial import TrialPruned, TrialState

from .conftest import RecordWeights

keras = pytest.importorskip("keras")


# ---- exploration stays inside the space ----
def test_explore_keeps_every_knob_inside_the_space():
    space = kl.Space(
        {
            "lr": kl.Real(1e-4, 1e-1, log=True),
            "dropout": kl.Real(0.0, 0.5),
            "units": kl.Int(8, 64),
            "batch": (16, 128, 8),  # ordered choices
            "opt": ["adam", "sgd"],
            "epochs": 5,
        }
    )
    rng = np.random.default_rng(0)
    mutable = ["lr", "dropout", "units", "batch", "opt"]
    corners = [
        {"lr": 1e-1, "dropout": 0.5, "units": 64, "batch": 128, "opt": "sgd", "epochs": 5},
        {"lr": 1e-4, "dropout": 0.0, "units": 8, "batch": 16, "opt": "adam", "epochs": 5},
    ]
    seen_change = set()
    for i in range(400):
        params = corners[i % 2] if i < 100 else space.sample(rng)
        new, changed = explore(space, params, mutable, rng, resample_probability=0.25)
        assert space.contains(new), new
        assert new["epochs"] == 5
        seen_change |= set(changed)
        for name, (old, value) in changed.items():
            assert params[name] == old and new[name] == value
    assert seen_change == set(mutable)


def test_explore_perturbs_by_the_factors_and_clips_at_the_bounds():
    space = kl.Space({"lr": kl.Real(1e-4, 1e-1, log=True), "dropout": kl.Real(0.0, 0.5)})
    rng = np.random.default_rng(1)
    for _ in range(100):
        new, _ = explore(space, {"lr": 1e-2, "dropout": 0.45}, ["lr", "dropout"], rng, resample_probability=0.0)
        assert new["lr"] / 1e-2 == pytest.approx(0.8) or new["lr"] / 1e-2 == pytest.approx(1.2)
        assert new["dropout"] in (pytest.approx(0.36), 0.5)  # 0.45 * 1.2 = 0.54 is clipped to the top, 0.5
        new, _ = explore(space, {"lr": 1e-1, "dropout": 0.0}, ["lr"], rng, resample_probability=0.0)
        assert new["lr"] in (pytest.approx(0.08), 0.1) and new["dropout"] == 0.0  # not mutable: kept


# ---- PBT on a plain objective: lineage ----
def _plain_objective(trial):
    start = trial._frozen.attrs.get("resume_step", 0)
    for step in range(start, trial.params["epochs"]):
        trial.report(step, loss=trial.params["x"] + 1.0 / (step + 1))
        if trial.should_stop():
            raise TrialPruned()
    return trial.params["x"]


def test_pbt_population_segments_and_lineage(sqlite_url):
    pbt = PBT(population=4, interval=2, quantile=0.25, mutable=["x"])
    space = {"x": kl.Real(0.0, 1.0), "epochs": 6}
    exp = kl.Experiment("pbt", space, metric="loss", strategy="random", scheduler=pbt, storage=sqlite_url, seed=0)
    assert pbt.n_trials(exp) == 12
    assert [t.state for t in exp.trials] == [TrialState.QUEUED] * 4  # generation 0 queued when it opened
    exp.optimize(_plain_objective, n_trials=pbt.n_trials(exp), show_progress=False)
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    assert len(trials) == 12
    for member in range(4):
        segments = [t for t in trials if t.attrs["member"] == member]
        assert [t.attrs["generation"] for t in segments] == [0, 1, 2]
        assert [t.state for t in segments] == [TrialState.PRUNED, TrialState.PRUNED, TrialState.COMPLETE]
        assert [t.reports[0][0] for t in segments] == [0, 2, 4]  # each segment continues where the last paused
        assert [len(t.reports) for t in segments] == [2, 2, 2]
    exploited = [t for t in trials if "exploited_from" in t.attrs]
    assert exploited, "with a spread of x, the bottom member copies the top one"
    by_number = {t.number: t for t in trials}
    for t in exploited:
        donor = by_number[t.attrs["exploited_from"]]
        assert t.attrs["parent"] == donor.number
        assert t.attrs["resume_step"] == donor.attrs["paused_at"]
        assert t.params["epochs"] == donor.params["epochs"]
        assert 0.0 <= t.params["x"] <= 1.0
    frame = exp.results
    assert {"member", "generation", "parent", "exploited_from"} <= set(frame.columns)
    assert frame["member"].tolist() == [t.attrs["member"] for t in trials]


def test_a_reopened_pbt_experiment_does_not_queue_a_second_population(sqlite_url):
    space = {"x": kl.Real(0.0, 1.0), "epochs": 4}
    kl.Experiment("p", space, metric="loss", scheduler=PBT(population=3), storage=sqlite_url, seed=0)
    exp = kl.Experiment("p", space, metric="loss", scheduler=PBT(population=3), storage=sqlite_url, seed=0)
    assert len(exp.trials) == 3


# ---- Keras: weights copied by value ----
_SEEN: dict[int, dict[str, list[np.ndarray]]] = {}


def _recording_model(x_train, y_train, x_val, y_val, params):
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(params["lr"]), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=params["epochs"],
        batch_size=16,
        verbose=0,
        callbacks=[RecordWeights(_SEEN)],
    )
    return history, model


def _checkpoint_weights(path):
    with np.load(path) as data:
        return [data[k] for k in sorted(k for k in data.files if k.startswith("w"))]


@pytest.mark.slow
def test_keras_pbt_exploitation_copies_the_donors_weights(tmp_path, sqlite_url, tiny_data):
    _SEEN.clear()
    x, y = tiny_data
    pbt = PBT(population=4, interval=1, quantile=0.25, mutable=["lr"], keep_checkpoints=True)  # read below
    space = {"lr": kl.Real(1e-3, 3e-1, log=True), "epochs": 3}
    scan = kl.Scan(
        x,
        y,
        params=space,
        model=_recording_model,
        experiment_name="pbt_keras",
        metric="val_loss",
        scheduler=pbt,
        storage=sqlite_url,
        seed=1,
        n_trials=12,
        artifacts_dir=tmp_path / "art",
        keep_models=0,
        show_progress=False,
    )
    trials = {t.number: t for t in scan.experiment.storage.get_trials(scan.experiment.id, with_reports=True)}
    assert len(trials) == 12
    exploited = [t for t in trials.values() if "exploited_from" in t.attrs]
    assert exploited
    for t in trials.values():
        assert pbt_space_ok(t.params)
        if t.attrs["generation"] > 0:
            parent = trials[t.attrs["parent"]]
            # the segment started from the parent's (own or donor's) checkpoint: same arrays, by value
            assert t.attrs["resume_checkpoint"] == parent.attrs["checkpoint"]
            saved = _checkpoint_weights(parent.attrs["checkpoint"])
            for a, b in zip(saved, _SEEN[parent.number]["end"]):
                np.testing.assert_array_equal(a, b)  # the checkpoint is the parent's weights when it paused
            for a, b in zip(saved, _SEEN[t.number]["start"]):
                np.testing.assert_array_equal(a, b)  # and the segment began training from exactly them
            assert _SEEN[t.number]["first_epoch"] == t.attrs["resume_step"] == t.reports[0][0]
    for t in exploited:
        donor = trials[t.attrs["exploited_from"]]
        assert donor.attrs["member"] != t.attrs["member"]
        assert t.params["lr"] != donor.params["lr"] or t.attrs["perturbed"] == {}


def pbt_space_ok(params):
    return 1e-3 <= params["lr"] <= 3e-1 and params["epochs"] == 3


# ---- Keras: the reporter stops fit at the rung; a promoted trial resumes ----
def _promoting_scan(name, tmp_path, sqlite_url, tiny_data, keep_checkpoints):
    """8 random trials of 4 epochs under promotion-mode successive halving (rungs at 1, 2, 4 epochs)."""
    _SEEN.clear()
    x, y = tiny_data
    return kl.Scan(
        x,
        y,
        params={"lr": kl.Real(1e-3, 3e-1, log=True), "epochs": 4},
        model=_recording_model,
        experiment_name=name,
        metric="val_loss",
        strategy="random",
        scheduler=SuccessiveHalving(2, 1, 4, mode="promote", keep_checkpoints=keep_checkpoints),
        storage=sqlite_url,
        seed=0,
        n_trials=8,
        artifacts_dir=tmp_path / "art",
        keep_models=0,
        show_progress=False,
    )


@pytest.mark.slow
def test_keras_promotion_pauses_at_the_rung_and_resumes_from_the_checkpoint(tmp_path, sqlite_url, tiny_data):
    scan = _promoting_scan("promote", tmp_path, sqlite_url, tiny_data, keep_checkpoints=True)  # read below
    trials = {t.number: t for t in scan.experiment.storage.get_trials(scan.experiment.id, with_reports=True)}
    first = trials[0]
    assert first.state == TrialState.PRUNED and len(first.reports) == 1  # fit stopped after the rung's 1 epoch
    assert first.attrs["paused_at"] == 1
    # a continuation promoted when the budget ran out stays QUEUED: only those that ran are checked
    continuations = [t for t in trials.values() if "resumed_from" in t.attrs and t.state != TrialState.QUEUED]
    assert continuations
    for t in continuations:
        parent = trials[t.attrs["resumed_from"]]
        assert t.params == parent.params and t.reports[0][0] == parent.attrs["paused_at"]
        for a, b in zip(_checkpoint_weights(parent.attrs["checkpoint"]), _SEEN[t.number]["start"]):
            np.testing.assert_array_equal(a, b)
    done = [t for t in trials.values() if t.state == TrialState.COMPLETE]
    for t in done:  # a completed chain trained 4 epochs in all: its last segment reports up to epoch 3
        assert t.reports[-1][0] == 3


@pytest.mark.slow
def test_keras_scan_deletes_checkpoints_nothing_resumes_from(tmp_path, sqlite_url, tiny_data):
    scan = _promoting_scan("promote_clean", tmp_path, sqlite_url, tiny_data, keep_checkpoints=False)
    trials = scan.experiment.storage.get_trials(scan.experiment.id, with_reports=True)
    saved = [t.attrs["checkpoint"] for t in trials if t.attrs.get("checkpoint")]
    continuations = [t for t in trials if "resumed_from" in t.attrs and t.state != TrialState.QUEUED]
    assert saved and continuations
    for t in continuations:  # each resumed from its parent's file before it was deleted
        assert _SEEN[t.number]["first_epoch"] == t.attrs["resume_step"] == t.reports[0][0]
    # once Scan.run returned, only what a continuation still QUEUED (promoted as the budget ran out) resumes from
    queued = sorted(t.attrs["resume_checkpoint"] for t in trials if t.state == TrialState.QUEUED)
    left = sorted(str(p) for p in (tmp_path / "art" / "checkpoints").glob("*.npz"))
    assert left == queued and len(left) < len(saved)


def test_keras_stop_mode_stops_fit_at_the_rung(sqlite_url, tiny_data):
    from tests.keras.conftest import tiny_model

    x, y = tiny_data

    class StopAtTwo(SuccessiveHalving):
        """Every trial after the first is "out" at rung 2: checks the reporter ends fit there."""

        def _in_top(self, mine, values):
            return len(values) == 1

    scan = kl.Scan(
        x,
        y,
        params={"lr": [0.01, 0.05, 0.1], "epochs": 6},
        model=tiny_model,
        experiment_name="stop",
        metric="val_loss",
        scheduler=StopAtTwo(2, 2, 6),
        storage=sqlite_url,
        seed=0,
        n_trials=3,
        keep_models=0,
        show_progress=False,
    )
    trials = scan.experiment.storage.get_trials(scan.experiment.id, with_reports=True)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.PRUNED]
    assert [len(t.reports) for t in trials] == [6, 2, 2]
