"""Scan with an epoch budget (issue 13): the default multi-fidelity schedule, continuing from saved weights, a best
from the top rung (or from the furthest trials when the budget ends mid-bracket), and select="cv"."""

import numpy as np
import pytest

import knoblab as kl
from knoblab.schedulers import Hyperband
from knoblab.selection import ranked
from knoblab.trial import TrialState

from .conftest import RecordWeights, keras, tiny_model

SPACE = {"lr": kl.Real(1e-3, 3e-1, log=True), "units": kl.Int(2, 16), "epochs": 9}
_SEEN: dict[int, dict[str, list]] = {}


def recording_model(x_train, y_train, x_val, y_val, params):
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(params["units"], activation="relu"),
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


def budget_scan(tiny_data, tmp_path, sqlite_url, **kwargs):
    x, y = tiny_data
    options = dict(
        params=SPACE,
        model=recording_model,
        experiment_name="budget",
        metric="val_accuracy",
        storage=sqlite_url,
        seed=0,
        artifacts_dir=tmp_path / "art",
        show_progress=False,
    )
    options.update(kwargs)
    return kl.Scan(x, y, **options)


@pytest.mark.slow
def test_the_default_schedule_continues_promoted_trials_from_their_weights(tiny_data, tmp_path, sqlite_url):
    _SEEN.clear()
    s = budget_scan(tiny_data, tmp_path, sqlite_url, epoch_budget=60)
    assert s.schedule["scheduler"] == "hyperband" and s.schedule["mode"] == "promote"
    assert isinstance(s.experiment.scheduler, Hyperband) and s.experiment.strategy.choice == "tpe"
    assert s.experiment.storage.get_experiment("budget").attrs["scan_schedule"] == s.schedule
    assert s.experiment.resource_spent == 60 and s.data["resource"].sum() == 60
    trials = {t.number: t for t in s.experiment.storage.get_trials(s.experiment.id, with_reports=True)}
    continuations = [t for t in trials.values() if "resumed_from" in t.attrs and t.state != TrialState.QUEUED]
    assert continuations
    for t in continuations:
        parent = trials[t.attrs["resumed_from"]]
        # it starts at the parent's rung, from the weights the parent ended with: nothing is trained twice
        assert t.reports[0][0] == parent.attrs["paused_at"] == _SEEN[t.number]["first_epoch"] == len(parent.reports)
        for a, b in zip(_SEEN[parent.number]["end"], _SEEN[t.number]["start"]):
            np.testing.assert_array_equal(a, b)
    for t in trials.values():  # every chain that completed trained 9 epochs in all, segment by segment
        if t.state == TrialState.COMPLETE:
            chain, node = 0, t
            while True:
                chain += len(node.reports)
                if "resumed_from" not in node.attrs:
                    break
                node = trials[node.attrs["resumed_from"]]
            assert chain == 9
    # the best trained in full; a paused trial never is the best while a complete one exists
    assert s.best.state == TrialState.COMPLETE and s.best.reports is None
    assert trials[s.best.number].reports[-1][0] == 8
    assert "trained in full (9 epochs)" in s.selection


@pytest.mark.slow
def test_a_rerun_continues_the_epoch_budget(tiny_data, tmp_path, sqlite_url):
    first = budget_scan(tiny_data, tmp_path, sqlite_url, model=tiny_model, epoch_budget=40)
    assert first.experiment.resource_spent == 40
    again = budget_scan(tiny_data, tmp_path, sqlite_url, model=tiny_model, epoch_budget=40)
    assert len(again.data) == len(first.data) and again.experiment.resource_spent == 40  # nothing more ran
    assert again.schedule == first.schedule  # the stored choice, whatever the new budget
    more = budget_scan(tiny_data, tmp_path, sqlite_url, model=tiny_model, epoch_budget=70)
    assert more.experiment.resource_spent == 70 and more.schedule == first.schedule


def test_full_trials_when_multi_fidelity_does_not_pay(tiny_data, tmp_path, sqlite_url):
    s = budget_scan(tiny_data, tmp_path, sqlite_url, model=tiny_model, epoch_budget=20, run=False)
    assert s.experiment.scheduler is None and "only 2.2 full trials" in s.schedule["why"]
    short = budget_scan(
        tiny_data,
        tmp_path,
        sqlite_url,
        experiment_name="short",
        params={**SPACE, "epochs": 4},
        epoch_budget=20,
        run=False,
    )
    assert short.experiment.scheduler is None and short.schedule["why"] == "trials of 4 epochs"
    by_count = budget_scan(tiny_data, tmp_path, sqlite_url, experiment_name="count", n_trials=3, run=False)
    assert by_count.experiment.scheduler is None and by_count.schedule is None  # n_trials counts full trials


@pytest.mark.slow
def test_a_run_that_ends_mid_bracket_still_has_a_best_with_its_model(tiny_data, tmp_path, sqlite_url):
    # rungs at 3 and 9 below 27 epochs, and 40 epochs in all: no trial can train 27 epochs
    s = budget_scan(
        tiny_data,
        tmp_path,
        sqlite_url,
        model=tiny_model,
        params={**SPACE, "epochs": 27},
        scheduler=Hyperband(3, 3, 27, n_brackets=1, mode="promote"),
        epoch_budget=40,
    )
    trials = s.experiment.trials
    assert not any(t.state == TrialState.COMPLETE for t in trials)
    furthest = max(t.attrs.get("reached", 0) for t in trials)
    assert furthest >= 9  # a promoted trial got to the second rung
    assert s.best.attrs["reached"] == furthest and s.best.state == TrialState.PRUNED
    assert s.best_model() is not None  # a paused candidate keeps its model too
    assert "got furthest" in s.selection


@pytest.mark.slow
def test_select_cv_stores_fold_scores_and_picks_the_best_mean(tiny_data, tmp_path, sqlite_url):
    s = budget_scan(
        tiny_data,
        tmp_path,
        sqlite_url,
        model=tiny_model,
        params={**SPACE, "epochs": 4},
        n_trials=4,
        select="cv",
        cv_top=2,
        cv_folds=3,
        keep_models=1,
    )
    done = [t for t in s.experiment.trials if t.attrs.get("cv_mean") is not None]
    assert len(done) == 2
    by_value = sorted((t for t in s.experiment.trials), key=lambda t: -t.value)
    assert {t.number for t in done} <= {t.number for t in by_value[:3]}  # the top by value (ties: val_loss)
    for t in done:
        cv = t.attrs["cv"]
        assert cv["folds"] == 3 and len(cv["scores"]) == 3 and cv["rows"] == 96 and cv["metric"] == "val_accuracy"
        assert t.attrs["cv_mean"] == pytest.approx(np.mean(cv["scores"]))
        assert t.attrs["cv_std"] == pytest.approx(np.std(cv["scores"], ddof=1))
        assert cv["epochs"] == 12  # 3 folds of 4 epochs: not trials, not counted in the budget
        assert cv["tie"] == "val_loss" and t.attrs["cv_tie_mean"] == pytest.approx(np.mean(cv["tie_scores"]))
        assert len(cv["best_epochs"]) == 3 and all(0 <= e < 4 for e in cv["best_epochs"])
    lead = max(done, key=lambda t: t.attrs["cv_mean"])
    se = lead.attrs["cv_std"] / np.sqrt(3)
    tied = [t for t in done if t.attrs["cv_mean"] >= lead.attrs["cv_mean"] - se - 1e-12]
    assert s.best.number == min(tied, key=lambda t: t.attrs["cv_tie_mean"]).number  # one-SE ties: the CV loss
    assert s.best_model() is not None  # keep_models rises to cv_top: the winner's model is on disk
    assert "cross-validation" in s.selection and {"cv_mean", "cv_std"} <= set(s.data.columns)
    assert s.experiment.resource_spent == 16
    table = s.cross_validate()  # again: the stored scores are reused, nothing retrained
    assert sorted(table["number"]) == sorted(t.number for t in done)


def test_smoothing_scores_a_window_and_breaks_ties_by_val_loss():
    r = kl.keras.Reporter(None, "val_accuracy", "max", smooth=3, tie="val_loss")
    for acc, loss in [(1.0, 0.9), (0.5, 0.8), (0.5, 0.7), (0.8, 0.6), (0.8, 0.5), (0.8, 0.4), (0.7, 0.3)]:
        r.record({"val_accuracy": acc, "val_loss": loss})
    # the lone 1.0 at epoch 0 is no full window; windows ending at 5 (0.8) beat those ending at 4 (0.7) and 6
    assert r.best_epoch == 5 and r.best_value == pytest.approx(0.8)
    summary = r.summary()
    assert summary["val_accuracy"] == pytest.approx(0.8) and summary["val_loss"] == pytest.approx(0.5)
    assert summary["smoothed_over"] == 3 and summary["best_epoch"] == 5
    tied = kl.keras.Reporter(None, "val_accuracy", "max", smooth=1, tie="val_loss")
    for acc, loss in [(0.9, 0.5), (0.9, 0.2), (0.9, 0.4)]:
        tied.record({"val_accuracy": acc, "val_loss": loss})
    assert tied.best_epoch == 1  # equal accuracy: the lower validation loss
    short = kl.keras.Reporter(None, "val_accuracy", "max", smooth=3)
    for acc in (0.6, 0.9):
        short.record({"val_accuracy": acc})
    assert short.best_epoch == 1 and short.best_value == pytest.approx(0.75)  # fewer epochs than the window


def test_bad_scan_arguments_of_issue_13_are_named(tiny_data, tmp_path, sqlite_url):
    for bad in ({"epoch_budget": 0}, {"select": "best"}, {"cv_folds": 1}, {"cv_top": 0}, {"smooth_epochs": 0}):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=name):
            budget_scan(tiny_data, tmp_path, sqlite_url, run=False, **bad)


def test_refit_trains_the_best_params_on_every_development_row(tiny_data, tmp_path, sqlite_url):
    seen = []

    def model_fn(x_train, y_train, x_val, y_val, params):
        seen.append((len(x_train), len(x_val), params["epochs"]))
        return tiny_model(x_train, y_train, x_val, y_val, params)

    s = budget_scan(tiny_data, tmp_path, sqlite_url, model=model_fn, params={**SPACE, "epochs": 5}, n_trials=2)
    model = s.refit()
    assert seen[-1] == (96, 96, s.best.metrics["best_epoch"] + 1)  # training + validation rows, the chosen epochs
    assert model.predict(tiny_data[0][:3], verbose=0).shape == (3, 1)
    s.refit(epochs=2)
    assert seen[-1][2] == 2
    s.cross_validate(1, 2)  # cross-validated: refit trains for the median epoch its folds chose
    chosen = s.best.attrs["cv"]["best_epochs"]
    s.refit()
    assert seen[-1][:2] == (96, 96) and seen[-1][2] == int(np.median(chosen)) + 1
    assert len(s.experiment.trials) == 2  # not a trial: nothing stored


def test_an_ensemble_averages_the_top_trials_in_the_selection_order(tiny_data, tmp_path, sqlite_url):
    seen = []

    def model_fn(x_train, y_train, x_val, y_val, params):
        seen.append((len(x_train), params["units"]))
        return tiny_model(x_train, y_train, x_val, y_val, params)

    s = budget_scan(
        tiny_data, tmp_path, sqlite_url, model=model_fn, params={**SPACE, "epochs": 3}, n_trials=4, keep_models=4
    )
    order = [t.number for t in ranked(s.experiment.trials, s.metric, s.direction)]
    refits = s.ensemble(3)
    assert refits.numbers == order[:3] and len(refits) == 3
    assert [n for n, _ in seen[-3:]] == [96, 96, 96]  # each member retrained on every development row
    x = tiny_data[0][:5]
    members = np.stack([m.predict(x, verbose=0) for m in refits.models])
    assert np.allclose(refits.predict(x, verbose=0), members.mean(axis=0), atol=1e-6)
    assert not np.allclose(members[0], members[1])  # different models, not one model three times
    saved = s.ensemble(3, refit=False)  # the models the search saved: nothing retrained
    n_fits = len(seen)
    assert saved.numbers == order[:3] and len(seen) == n_fits
    assert np.allclose(
        saved.predict(x, verbose=0)[:, 0], np.mean([m.predict(x, verbose=0)[:, 0] for m in saved.models], axis=0)
    )
    one_kept = budget_scan(
        tiny_data,
        tmp_path / "b",
        sqlite_url,
        model=model_fn,
        params={**SPACE, "epochs": 3},
        n_trials=3,
        keep_models=1,
        experiment_name="one-kept",
    )
    with pytest.raises(FileNotFoundError, match="keep_models=1"):  # the second best's file was never kept
        one_kept.ensemble(2, refit=False)
    with pytest.raises(ValueError, match="k:"):
        s.ensemble(0)
