"""The experiment loop on a real SQLite file: budgets, reopening, failures, results, ask/tell, reports, pruning."""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path

import pandas as pd
import pytest

import knoblab as kl
from knoblab import AllTrialsFailedError, TrialFailedWarning
from knoblab.storage.sql import SQLStorage
from knoblab.trial import LateResultWarning, TrialState

SPACE = {
    "lr": kl.Real(1e-4, 1e-1, log=True),
    "units": kl.Int(8, 256, log=True),
    "dropout": (0.0, 0.5, 6),
    "optimizer": ["adam", "nadam", "rmsprop"],
    "epochs": 10,
    "layers": kl.Branch({1: {}, 2: {"units2": kl.Int(8, 128)}}),
}
FINITE = {"a": [1, 2, 3, 4], "b": ["x", "y", "z"], "c": kl.Bool()}  # 24 points


def loss(params: dict) -> float:
    return (math.log10(params["lr"]) + 2) ** 2 + params["dropout"] + (0.3 if params["layers"] == 1 else 0.0)


def objective(trial):
    return loss(trial.params)


class Counter:
    """An objective that counts its calls and records the params it saw."""

    def __init__(self, fn=objective):
        self.fn, self.calls = fn, []

    def __call__(self, trial):
        self.calls.append(trial.params)
        return self.fn(trial)


def make(url, name="exp", space=SPACE, **kwargs):
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("metric", "val_loss")
    return kl.Experiment(name, space, storage=url, **kwargs)


def states(exp) -> list[str]:
    return [t.state.value for t in exp.trials]


# ---- running ----


def test_optimize_runs_n_trials_and_stores_them(sqlite_url):
    exp = make(sqlite_url)
    f = Counter()
    exp.optimize(f, n_trials=6)
    assert len(f.calls) == 6
    trials = exp.trials
    assert [t.number for t in trials] == list(range(6))
    assert states(exp) == ["COMPLETE"] * 6
    for t, params in zip(trials, f.calls):
        assert t.params == params
        assert t.value == pytest.approx(loss(params))
        assert t.metrics == {"val_loss": t.value}
        assert t.started_at <= t.finished_at and t.duration >= 0
    assert exp.best.value == min(t.value for t in trials)
    # what another process sees is the same
    again = make(sqlite_url)
    assert [t.params for t in again.trials] == [t.params for t in trials]


def test_n_trials_is_the_experiments_total(sqlite_url):
    f = Counter()
    make(sqlite_url).optimize(f, n_trials=4)
    assert len(f.calls) == 4
    make(sqlite_url).optimize(f, n_trials=4)  # the same script run again: nothing left to do
    assert len(f.calls) == 4
    make(sqlite_url).optimize(f, n_trials=7)  # a bigger budget: only the difference
    assert len(f.calls) == 7
    assert len(make(sqlite_url).trials) == 7


def test_failed_trials_count_against_the_budget(sqlite_url):
    def sometimes(trial):
        if trial.number % 2:
            raise RuntimeError("boom")
        return 1.0

    exp = make(sqlite_url)
    exp.optimize(sometimes, n_trials=6)
    assert states(exp) == ["COMPLETE", "FAILED"] * 3
    exp.optimize(sometimes, n_trials=6)
    assert len(exp.trials) == 6


@pytest.mark.parametrize("strategy", ["random", "sobol", "lhs", "auto", "grid"])
def test_reopening_continues_the_seeded_stream_exactly(tmp_path, strategy):
    space = FINITE if strategy == "grid" else SPACE
    one = make(f"sqlite:///{tmp_path / 'one.db'}", space=space, strategy=strategy, seed=11)
    one.optimize(objective if space is SPACE else (lambda t: t.params["a"]), n_trials=10)
    whole = [t.params for t in one.trials]

    url = f"sqlite:///{tmp_path / 'two.db'}"
    f = (lambda t: t.params["a"]) if space is FINITE else objective
    make(url, space=space, strategy=strategy, seed=11).optimize(f, n_trials=5)
    make(url, space=space, strategy=strategy, seed=11).optimize(f, n_trials=10)
    split = [t.params for t in make(url, space=space, strategy=strategy, seed=11).trials]
    assert split == whole
    assert len({tuple(sorted(p.items())) for p in whole}) == 10


@pytest.mark.parametrize("strategy", ["random", "sobol"])
def test_an_experiment_stored_before_the_stream_counter_goes_on_from_its_history(tmp_path, strategy):
    """Proposals are indexed by stream positions claimed in the storage; a file written before that counter
    existed (no "stream_positions" in its attrs) goes on from its history's length, repeating no point."""
    import sqlite3

    one = make(f"sqlite:///{tmp_path / 'one.db'}", strategy=strategy, seed=5)
    one.optimize(objective, n_trials=8)
    path = tmp_path / "two.db"
    make(f"sqlite:///{path}", strategy=strategy, seed=5).optimize(objective, n_trials=4)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE experiments SET attrs = json_remove(attrs, '$.stream_positions')")
    again = make(f"sqlite:///{path}", strategy=strategy, seed=5)
    assert "stream_positions" not in again.record.attrs
    again.optimize(objective, n_trials=8)
    assert [t.params for t in again.trials] == [t.params for t in one.trials]


def test_the_seed_is_stored_and_reused_when_not_given(sqlite_url):
    exp = make(sqlite_url, seed=None, strategy="random")
    assert isinstance(exp.seed, int)
    exp.optimize(objective, n_trials=3)
    again = make(sqlite_url, seed=None, strategy="random")
    assert again.seed == exp.seed
    again.optimize(objective, n_trials=6)
    other = make(sqlite_url.replace("knoblab.db", "other.db"), seed=exp.seed, strategy="random")
    other.optimize(objective, n_trials=6)
    assert [t.params for t in again.trials] == [t.params for t in other.trials]
    # each trial gets its own seed, a function of the experiment's seed and the trial's number
    assert [t.seed for t in again.trials] == [t.seed for t in other.trials]
    assert len({t.seed for t in again.trials}) == 6


# ---- failures and bad results ----


def test_a_failing_objective_fails_its_trial_and_the_search_goes_on(sqlite_url):
    def fragile(trial):
        if trial.number == 2:
            return 1 / 0
        return loss(trial.params)

    exp = make(sqlite_url)
    exp.optimize(fragile, n_trials=5)
    assert states(exp) == ["COMPLETE", "COMPLETE", "FAILED", "COMPLETE", "COMPLETE"]
    failed = exp.trial(2)
    assert failed.value is None
    assert failed.error.startswith("ZeroDivisionError: division by zero")
    assert "Traceback" in failed.error and "in fragile" in failed.error and "1 / 0" in failed.error
    assert failed.finished_at is not None
    df = exp.results
    assert df.loc[2, "error"] == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize(
    "result, reason",
    [
        (float("nan"), "is nan"),
        (float("inf"), "is inf"),
        (float("-inf"), "is -inf"),
        (None, "returned None"),
        ("0.5", "returned a str"),
        ([0.1, 0.2], "returned a list"),
        ({"loss": 0.1}, "lack 'val_loss'"),
        ({"val_loss": "low"}, "'low', not a number"),
        ({"val_loss": float("nan"), "acc": 0.5}, "is nan"),
        ({"val_loss": None}, "None, not a number"),
        (True, "returned a bool"),
    ],
)
def test_unusable_results_fail_the_trial_with_a_clear_reason(sqlite_url, result, reason):
    exp = make(sqlite_url)
    with pytest.warns(TrialFailedWarning, match=reason), pytest.raises(AllTrialsFailedError, match=reason):
        exp.optimize(lambda t: result, n_trials=2)
    assert states(exp) == ["FAILED", "FAILED"]
    for t in exp.trials:
        assert reason in t.error, t.error
        assert "\n" not in t.error
        assert t.value is None
    with pytest.raises(ValueError, match="no COMPLETE trial"):
        _ = exp.best


def test_dict_results_store_every_metric(sqlite_url):
    import numpy as np

    def many(trial):
        return {
            "val_loss": np.float32(0.25),
            "val_accuracy": 0.91,
            "epochs_run": np.int64(7),
            "optimizer_used": trial.params["optimizer"],
        }

    exp = make(sqlite_url)
    exp.optimize(many, n_trials=2)
    t = make(sqlite_url).trials[0]
    assert t.state == TrialState.COMPLETE
    assert t.value == pytest.approx(0.25)
    assert t.metrics["val_accuracy"] == 0.91
    assert t.metrics["epochs_run"] == 7 and type(t.metrics["epochs_run"]) is int
    assert t.metrics["optimizer_used"] == t.params["optimizer"]


def test_a_result_that_cannot_be_stored_as_json_fails_the_trial(sqlite_url):
    exp = make(sqlite_url)
    with pytest.warns(TrialFailedWarning), pytest.raises(AllTrialsFailedError, match="JSON"):
        exp.optimize(lambda t: {"val_loss": 0.1, "model": object()}, n_trials=1)
    assert exp.trials[0].state == TrialState.FAILED
    assert "JSON" in exp.trials[0].error


# ---- the results table ----


def test_results_dataframe_columns(sqlite_url):
    exp = make(sqlite_url)
    exp.optimize(lambda t: {"val_loss": loss(t.params), "val_accuracy": 0.5}, n_trials=8)
    df = exp.results
    assert isinstance(df, pd.DataFrame) and len(df) == 8
    cols = list(df.columns)
    assert cols[:3] == ["number", "state", "value"]
    knobs = ["lr", "units", "dropout", "optimizer", "epochs", "layers", "units2"]
    assert cols[3:10] == knobs
    for c in ("val_loss", "val_accuracy", "duration", "started_at", "finished_at", "seed", "note", "error"):
        assert c in cols
    assert len(cols) == len(set(cols))
    assert (df["state"] == "COMPLETE").all()
    assert list(df["number"]) == list(range(8))
    assert (df["value"] == df["val_loss"]).all()
    assert (df["duration"] >= 0).all()
    # a knob of a branch not taken is empty in that row
    one_layer = df[df["layers"] == 1]
    assert len(one_layer) and one_layer["units2"].isna().all()
    assert df[df["layers"] == 2]["units2"].notna().all()


def test_results_columns_never_collide(sqlite_url):
    space = {"x": kl.Real(0, 1), "seed": [1, 2], "duration": [10, 20]}
    exp = kl.Experiment("clash", space, storage=sqlite_url, seed=0)  # metric "value"
    exp.optimize(lambda t: {"value": t.params["x"], "duration": 99.0, "x": -1.0, "error": "none"}, n_trials=3)
    df = exp.results
    cols = list(df.columns)
    assert len(cols) == len(set(cols)), cols
    assert set(df["param_seed"]) <= {1, 2} and set(df["param_duration"]) <= {10, 20}
    assert (df["duration"] < 60).all()  # the trial's duration, not the knob or the metric
    assert (df["metric_duration"] == 99.0).all() and (df["metric_x"] == -1.0).all()
    assert (df["x"] == df["value"]).all()
    assert df["error"].isna().all() and (df["metric_error"] == "none").all()
    assert df["seed"].tolist() == [t.seed for t in exp.trials]


def test_results_of_an_empty_experiment_has_the_columns(sqlite_url):
    df = make(sqlite_url).results
    assert len(df) == 0
    assert {"number", "state", "value", "lr", "units2", "duration"} <= set(df.columns)


# ---- steering by hand ----


def test_enqueued_params_are_validated_and_run_first(sqlite_url):
    exp = make(sqlite_url)
    hand = {"lr": 0.01, "units": 64, "dropout": 0.2, "optimizer": "nadam", "layers": 2, "units2": 32}
    queued = exp.enqueue(hand, note="the config from the paper")
    assert queued.state == TrialState.QUEUED
    with pytest.raises(ValueError, match=r"knob 'units2': got 500") as e:
        exp.enqueue({**hand, "units2": 500})
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"knob 'momentum': not in the space"):
        exp.enqueue({**hand, "momentum": 0.9})
    f = Counter()
    exp.optimize(f, n_trials=3)
    assert f.calls[0] == {**hand, "epochs": 10}
    first = exp.trial(0)
    assert first.state == TrialState.COMPLETE and first.note == "the config from the paper"
    assert first.attrs["source"] == "enqueued" and first.seed is not None
    assert len(f.calls) == 3  # the enqueued trial counts against n_trials


def test_ask_and_tell_in_batches(sqlite_url):
    exp = make(sqlite_url, strategy="sobol")
    batch = exp.ask(4)
    assert len(batch) == 4
    assert len({tuple(sorted(t.params.items())) for t in batch}) == 4
    other = SQLStorage(sqlite_url)  # stored as RUNNING before anything runs
    assert [t.state for t in other.get_trials(exp.id)] == [TrialState.RUNNING] * 4
    exp.tell(batch[0], 0.31)
    exp.tell(batch[1], {"val_loss": 0.12, "acc": 0.9})
    exp.tell(batch[2].number, float("nan"))
    exp.tell(batch[3], state="PRUNED")
    by_number = {t.number: t for t in other.get_trials(exp.id)}
    assert by_number[0].state == TrialState.COMPLETE and by_number[0].value == 0.31
    assert by_number[1].metrics == {"val_loss": 0.12, "acc": 0.9}
    assert by_number[2].state == TrialState.FAILED and "nan" in by_number[2].error
    assert by_number[3].state == TrialState.PRUNED
    assert exp.best.number == 1 and exp.best.params == batch[1].params
    with pytest.raises(ValueError, match="already COMPLETE"):
        exp.tell(batch[0], 0.1)
    with pytest.raises(ValueError, match="n: got 0"):
        exp.ask(0)
    nxt = exp.ask(2)  # the stream goes on after the told ones
    assert [t.number for t in nxt] == [4, 5]
    assert not {tuple(sorted(t.params.items())) for t in nxt} & {tuple(sorted(t.params.items())) for t in batch}


def test_note_and_attrs_are_stored(sqlite_url):
    def annotate(trial):
        trial.set_note("lr looked high")
        trial.set_attr("model_path", f"/models/{trial.number}.keras")
        assert kl.current_trial() is trial
        return 0.5

    exp = make(sqlite_url)
    exp.optimize(annotate, n_trials=2)
    assert kl.current_trial() is None
    t = make(sqlite_url).trial(1)
    assert t.note == "lr looked high" and t.attrs["model_path"] == "/models/1.keras"
    exp.note(0, "rerun later")
    assert make(sqlite_url).trial(0).note == "rerun later"


def test_callbacks_see_each_finished_trial(sqlite_url):
    seen = []
    make(sqlite_url).optimize(objective, n_trials=3, callbacks=[lambda e, t: seen.append((t.number, t.state))])
    assert seen == [(0, TrialState.COMPLETE), (1, TrialState.COMPLETE), (2, TrialState.COMPLETE)]


# ---- budgets ----


@pytest.mark.parametrize("direction", ["min", "max"])
def test_target_ends_the_search(sqlite_url, direction):
    values = [5.0, 4.0, 3.0, 2.0, 1.0, 0.0] if direction == "min" else [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    exp = make(sqlite_url, direction=direction)
    exp.optimize(lambda t: values[t.number], n_trials=6, target=2.0 if direction == "min" else 3.0)
    assert len(exp.trials) == 4  # the fourth value reaches the target
    assert exp.best.value == (2.0 if direction == "min" else 3.0)


def test_time_limit_ends_the_search_and_turns_should_stop(sqlite_url):
    flags = []

    def slow(trial):
        for step in range(100):
            trial.report(step, val_loss=1.0 / (step + 1))
            if trial.should_stop():
                flags.append(step)
                raise kl.TrialPruned()
            time.sleep(0.01)
        return 0.5

    exp = make(sqlite_url)
    t0 = time.monotonic()
    exp.optimize(slow, n_trials=1000, time_limit=0.4)
    elapsed = time.monotonic() - t0
    assert elapsed < 3.0
    trials = exp.trials
    assert 1 <= len(trials) <= 2
    assert flags, "should_stop() never turned True when time ran out"
    assert trials[-1].state == TrialState.PRUNED
    # the next call has its own time budget
    exp.optimize(slow, n_trials=1000, time_limit=0.2)
    assert len(exp.trials) > len(trials)


def test_fraction_limit_of_a_180k_grid(sqlite_url):
    from .test_space import TALOS_180K

    exp = kl.Experiment("talos", TALOS_180K, metric="val_acc", direction="max", storage=sqlite_url, seed=0)
    f = Counter(lambda t: t.params["lr"] * t.params["dropout"])
    exp.optimize(f, fraction_limit=0.0005)
    assert len(f.calls) == math.ceil(0.0005 * 180_000) == 90
    assert len({tuple(sorted(p.items())) for p in f.calls}) == 90
    from knoblab.strategies.grid import GridSearch

    assert isinstance(exp.strategy.chosen, GridSearch) and exp.strategy.chosen.shuffle  # auto: a shuffled grid
    indices = sorted(exp.space.grid_index(p) for p in f.calls)
    assert indices[-1] - indices[0] > 100_000  # spread over the grid, not its first 90 points
    # a fraction that is not a whole number of trials rounds up
    exp.optimize(f, fraction_limit=0.00051)
    assert len(f.calls) == 92


def test_fraction_limit_needs_a_finite_space(sqlite_url):
    with pytest.raises(ValueError, match=r"fraction_limit needs a finite space, but knob 'lr' is continuous"):
        make(sqlite_url).optimize(objective, fraction_limit=0.1)


def test_an_exhausted_grid_ends_the_search(sqlite_url):
    exp = kl.Experiment("small", FINITE, storage=sqlite_url, seed=0, strategy="grid")
    f = Counter(lambda t: t.params["a"])
    exp.optimize(f, n_trials=100)
    assert len(f.calls) == 24 and len({tuple(sorted(p.items())) for p in f.calls}) == 24


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"n_trials": 0}, "n_trials: got 0"),
        ({"n_trials": 2.5}, "n_trials: got 2.5"),
        ({"n_trials": 3, "time_limit": -1}, "time_limit: got -1"),
        ({"n_trials": 3, "n_jobs": 0}, "n_jobs: got 0"),
        ({"n_trials": 3, "target": "low"}, "target: got 'low'"),
        ({"fraction_limit": 1.5}, "fraction_limit: got 1.5"),
        ({}, "give a budget"),
    ],
)
def test_bad_optimize_arguments_are_one_line_errors(sqlite_url, kwargs, fragment):
    with pytest.raises(ValueError) as e:
        make(sqlite_url).optimize(objective, **kwargs)
    assert fragment in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"direction": "down"}, "direction: got 'down'"),
        ({"metric": ""}, "metric: got ''"),
        ({"seed": -1}, "seed: got -1"),
        ({"strategy": "bayes"}, "strategy: got 'bayes'"),
        ({"on_stale": "ignore"}, "on_stale: got 'ignore'"),
    ],
)
def test_bad_experiment_arguments_are_one_line_errors(sqlite_url, kwargs, fragment):
    with pytest.raises(ValueError) as e:
        make(sqlite_url, **kwargs)
    assert fragment in str(e.value) and "\n" not in str(e.value)


# ---- reopening ----


@pytest.mark.parametrize(
    "change, fragments",
    [
        ({"space": {**SPACE, "momentum": [0.9, 0.99]}}, ["another space", "knob 'momentum' added"]),
        ({"space": {k: v for k, v in SPACE.items() if k != "dropout"}}, ["knob 'dropout' removed"]),
        ({"space": {**SPACE, "lr": kl.Real(1e-5, 1e-1, log=True)}}, ["knob 'lr' changed", "1e-05"]),
        (
            {"space": {**SPACE, "layers": kl.Branch({1: {}, 2: {"units2": kl.Int(8, 64)}})}},
            ["knob 'units2' changed", "64"],
        ),
        ({"metric": "val_accuracy"}, ["min 'val_loss'", "got min 'val_accuracy'"]),
        ({"direction": "max"}, ["optimizes min 'val_loss'", "got max 'val_loss'"]),
        ({"seed": 1}, ["seed=0", "got seed=1"]),
    ],
)
def test_reopening_with_a_change_says_what_changed(sqlite_url, change, fragments):
    make(sqlite_url).optimize(objective, n_trials=1)
    with pytest.raises(ValueError) as e:
        make(sqlite_url, **change)
    text = str(e.value)
    assert "experiment 'exp'" in text and "\n" not in text
    for f in fragments:
        assert f in text, text


def test_reopening_with_the_same_space_written_anew_is_fine(sqlite_url):
    make(sqlite_url).optimize(objective, n_trials=2)
    rebuilt = {**SPACE, "layers": kl.Branch({1: {}, 2: {"units2": kl.Int(8, 128)}}), "dropout": (0.0, 0.5, 6)}
    make(sqlite_url, space=rebuilt).optimize(objective, n_trials=3)
    assert len(make(sqlite_url).trials) == 3


def test_load_reopens_by_name_alone(sqlite_url):
    make(sqlite_url, strategy="random").optimize(objective, n_trials=3)
    exp = kl.Experiment.load("exp", sqlite_url)
    assert exp.metric == "val_loss" and exp.seed == 0 and len(exp.trials) == 3
    exp.optimize(objective, n_trials=5)
    assert len(exp.trials) == 5
    with pytest.raises(KeyError, match="no experiment 'nope'"):
        kl.Experiment.load("nope", sqlite_url)


def test_load_reopens_a_grid_over_real_knobs_with_its_resolution(sqlite_url):
    space = {"lr": kl.Real(0.1, 1.0), "opt": ["a", "b"]}
    kl.Experiment("g", space, storage=sqlite_url, seed=0, strategy="grid", grid_resolution=3).optimize(
        lambda t: t.params["lr"], n_trials=2
    )
    exp = kl.Experiment.load("g", sqlite_url)  # as `knoblab worker` opens it: by name alone
    exp.optimize(lambda t: t.params["lr"], n_trials=100)
    points = [tuple(sorted(t.params.items())) for t in exp.trials]
    assert len(points) == 6 and len(set(points)) == 6


# ---- reports, pruning, stop requests ----


def test_reports_are_stored_at_once_and_readable_from_another_storage(sqlite_url):
    seen_while_running = []

    def curve(trial):
        other = SQLStorage(sqlite_url)  # as a dashboard or a second process would open it
        for step in range(3):
            trial.report(step, val_loss=1.0 / (step + 1), loss=2.0 / (step + 1))
            live = other.get_trial(trial.id)
            assert live.state == TrialState.RUNNING
            seen_while_running.append([(s, m["val_loss"]) for s, m in live.reports])
        other.close()
        return 0.3

    exp = make(sqlite_url)
    exp.optimize(curve, n_trials=1)
    assert seen_while_running == [
        [(0, 1.0)],
        [(0, 1.0), (1, 0.5)],
        [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))],
    ]
    t = exp.trial(0)
    assert t.curve("loss") == [(0, 2.0), (1, 1.0), (2, pytest.approx(2 / 3))]


def test_report_rejects_bad_steps_and_values(sqlite_url):
    errors = []

    def bad(trial):
        for step, metrics in ((-1, {"a": 1.0}), (1.5, {"a": 1.0}), (0, {"a": "high"})):
            try:
                trial.report(step, **metrics)
            except ValueError as e:
                errors.append(str(e))
        return 0.1

    make(sqlite_url).optimize(bad, n_trials=1)
    assert "step must be an integer >= 0, got -1" in errors[0]
    assert "got 1.5" in errors[1]
    assert "metric 'a' must be a number, got 'high'" in errors[2]


@pytest.mark.parametrize("direction, best", [("min", 0.5), ("max", 0.9)])
def test_trial_pruned_keeps_the_best_of_its_curve(sqlite_url, direction, best):
    def pruned(trial):
        for step, v in enumerate([0.9, 0.5, 0.7]):
            trial.report(step, val_loss=v)
        raise kl.TrialPruned()

    exp = make(sqlite_url, direction=direction)
    exp.optimize(pruned, n_trials=2)
    assert states(exp) == ["PRUNED", "PRUNED"]
    t = exp.trial(0)
    assert t.value == best and t.metrics == {"val_loss": best}
    assert [v for _, v in t.curve("val_loss")] == [0.9, 0.5, 0.7]
    with pytest.raises(ValueError, match="no COMPLETE trial"):
        _ = exp.best


def test_a_stop_request_through_storage_turns_should_stop(sqlite_url):
    answers = []

    def watched(trial):
        answers.append(trial.should_stop())
        SQLStorage(sqlite_url).request_stop(trial.id)  # as the dashboard's stop button would
        answers.append(trial.should_stop())
        if trial.should_stop():
            raise kl.TrialPruned()
        return 1.0

    exp = make(sqlite_url)
    exp.optimize(watched, n_trials=2)
    assert answers == [False, True, False, True]
    assert states(exp) == ["PRUNED", "PRUNED"]


def test_keyboard_interrupt_requeues_the_trial_and_a_rerun_finishes(sqlite_url):
    f = Counter()

    def interrupted(trial):
        if trial.number == 2:
            raise KeyboardInterrupt
        return f(trial)

    exp = make(sqlite_url)
    with pytest.raises(KeyboardInterrupt):
        exp.optimize(interrupted, n_trials=5)
    t = exp.trial(2)
    assert t.state == TrialState.FAILED and t.attrs.get("interrupted") and "KeyboardInterrupt" in t.error
    assert exp.trial(3).state == TrialState.QUEUED and exp.trial(3).params == t.params
    exp.optimize(f, n_trials=5)
    assert len(f.calls) == 5
    assert f.calls[2] == t.params  # the interrupted point ran again, first
    counted = [x for x in exp.trials if not x.attrs.get("interrupted")]
    assert len(counted) == 5 and all(x.state == TrialState.COMPLETE for x in counted)


def test_the_core_imports_no_deep_learning_framework():
    import subprocess
    import sys

    code = (
        "import sys, knoblab as kl\n"
        "kl.Experiment('x', {'a': [1, 2]}, storage='sqlite:///:memory:').optimize(lambda t: 1.0, n_trials=1)\n"
        "bad = [m for m in ('keras', 'torch', 'tensorflow', 'jax') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_late_result_after_stale_recovery_is_refused_and_the_search_goes_on(sqlite_url):
    """The trial fell silent, another process recovered it (FAILED, interrupted, retry queued), then its run ended:
    the late report and result are not written over the recovery, a warning names the trial, the loop goes on."""
    from .executors import objectives
    from .executors.test_processes import check_late_result_refused, late_experiment

    exp = late_experiment(sqlite_url)
    seen = []
    with pytest.warns(LateResultWarning, match="trial 0 is no longer RUNNING") as caught:
        exp.optimize(objectives.recovered_while_running, n_trials=4, callbacks=[lambda e, t: seen.append(t.number)])
    assert len([w for w in caught if issubclass(w.category, LateResultWarning)]) == 1  # once, for report and result
    check_late_result_refused(exp, 4)
    assert 0 not in seen and len(seen) == 4  # callbacks see the trials this loop finished, not the refused one
    with pytest.warns(LateResultWarning, match="trial 0"):  # ask/tell: the same refusal, by trial number
        assert exp.tell(0, 0.0).state == TrialState.FAILED
    assert exp.trial(0).value is None


# ---- reopening by name, failures told, retries ----


def test_reopening_by_name_alone_needs_no_space(sqlite_url):
    exp = make(sqlite_url, strategy="tpe", direction="max")
    exp.optimize(objective, n_trials=4)
    again = kl.Experiment("exp", storage=sqlite_url)  # no space, metric, direction or strategy
    assert again.space.describe() == exp.space.describe()
    assert (again.metric, again.direction, again.seed) == ("val_loss", "max", 0)
    assert again.strategy.name == "tpe"
    again.optimize(objective, n_trials=6)
    assert len(again.trials) == 6
    with pytest.raises(ValueError, match="no experiment 'nope'.*known: \\['exp'\\]; give a space to create it"):
        kl.Experiment("nope", storage=sqlite_url)
    with pytest.raises(KeyError, match="no experiment 'nope'"):
        kl.Experiment.load("nope", sqlite_url)


def test_a_rerun_with_nothing_left_says_so_in_one_line(sqlite_url, caplog):
    caplog.set_level("INFO", logger="knoblab")
    exp = make(sqlite_url)
    exp.optimize(objective, n_trials=3)
    assert not [r for r in caplog.records if r.name == "knoblab"]
    exp.optimize(objective, n_trials=3)
    (record,) = [r for r in caplog.records if r.name == "knoblab"]
    assert record.getMessage() == (
        "experiment 'exp' has nothing left to run: 3 trials count against n_trials=3; raise n_trials to run more"
    )
    caplog.clear()
    grid = make(sqlite_url, name="grid", space={"a": [1, 2]}, strategy="grid")
    grid.optimize(lambda t: t.params["a"])
    grid.optimize(lambda t: t.params["a"])
    (record,) = [r for r in caplog.records if r.name == "knoblab"]
    assert "every point of its 2-point grid has run" in record.getMessage()


def test_a_rerun_with_nothing_left_prints_one_line_without_logging_set_up(tmp_path):
    import subprocess
    import sys

    code = (
        "import knoblab as kl\n"
        "exp = kl.Experiment('q', {'x': kl.Real(0, 1)}, storage='sqlite:///k.db', seed=0)\n"
        "exp.optimize(lambda t: t.params['x'], n_trials=2)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(kl.__file__).parents[1])}  # this knoblab, from any folder
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == (
        "knoblab: experiment 'q' has nothing left to run: 2 trials count against n_trials=2; raise n_trials to run more"
    )


def test_failures_are_warned_with_the_last_line_of_the_traceback(sqlite_url):
    def sometimes(trial):
        if trial.number in (1, 2):
            raise KeyError("units3")
        if trial.number == 4:
            raise RuntimeError("CUDA out of memory\nwhile allocating 2 GiB")
        return loss(trial.params)

    exp = make(sqlite_url, strategy="random")
    with pytest.warns(TrialFailedWarning) as warned:
        exp.optimize(sometimes, n_trials=6)
    messages = [str(w.message) for w in warned]
    assert messages == [
        "trial 1 of 'exp' FAILED: KeyError: 'units3' (the full traceback is in exp.trial(1).error); the search goes on",
        "trial 4 of 'exp' FAILED: RuntimeError: CUDA out of memory (the full traceback is in exp.trial(4).error); "
        "the search goes on",
    ]  # one per error, trial 2's repeats trial 1's; the last line of a traceback ends with the message's first
    assert all(w.filename == __file__ for w in warned)  # pointing at the call to optimize


def test_a_call_in_which_every_trial_failed_raises_at_its_end(sqlite_url):
    calls = []

    def broken(trial):
        calls.append(trial.number)
        raise ZeroDivisionError("division by zero")

    exp = make(sqlite_url)
    every = r"all 4 trials of this call .* FAILED.*trial 3: Zero"
    with (
        pytest.warns(TrialFailedWarning, match="division by zero") as warned,
        pytest.raises(AllTrialsFailedError, match=every),
    ):
        exp.optimize(broken, n_trials=4)
    assert calls == [0, 1, 2, 3] and len(warned) == 1  # every trial ran; the error warned once
    assert states(exp) == ["FAILED"] * 4
    exp.optimize(objective, n_trials=6)  # one that works: no error (the call's trials did not all fail)
    assert states(exp)[4:] == ["COMPLETE", "COMPLETE"]


def test_retries_run_a_failed_configuration_again_as_attempts_of_one_trial(sqlite_url):
    runs: dict[float, int] = {}

    def out_of_memory_twice(trial):
        lr = trial.params["lr"]
        runs[lr] = runs.get(lr, 0) + 1
        if trial.number < 3 and runs[lr] <= 2:  # the first two configurations fail twice, then fit
            raise MemoryError("out of memory")
        if trial.params["units"] > 250:
            raise ValueError("not retried: ValueError is not in retry_on")
        return loss(trial.params)

    exp = make(sqlite_url, strategy="random")
    exp.optimize(out_of_memory_twice, n_trials=5, retries=2, retry_on=MemoryError)
    trials = exp.trials
    assert sum(1 for t in trials if not t.attrs.get("retried")) == 5  # a configuration counts once
    first = trials[0]
    assert first.state == TrialState.FAILED and first.attrs["retried"] and first.attrs["attempt"] == 1
    chain = [first]
    while True:
        nxt = [t for t in trials if t.attrs.get("retry_of") == chain[-1].number]
        if not nxt:
            break
        chain += nxt
    assert [t.attrs.get("attempt", 1) for t in chain] == [1, 2, 3]
    assert [t.state for t in chain] == [TrialState.FAILED, TrialState.FAILED, TrialState.COMPLETE]
    assert all(t.params == first.params and t.seed == first.seed for t in chain)
    assert "MemoryError: out of memory" in chain[1].error
    assert all(t.attrs.get("retry_after") == "failed" for t in chain[1:])


def test_a_configuration_out_of_retries_stays_failed(sqlite_url):
    exp = make(sqlite_url)
    with pytest.raises(AllTrialsFailedError):
        exp.optimize(lambda t: 1 / 0, n_trials=2, retries=1)
    trials = exp.trials
    assert len(trials) == 4 and all(t.state == TrialState.FAILED for t in trials)
    assert [t.attrs.get("attempt", 1) for t in trials] == [1, 2, 1, 2]
    assert [bool(t.attrs.get("retried")) for t in trials] == [True, False, True, False]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"retries": -1}, "retries: got -1"),
        ({"retries": 1.5}, "retries: got 1.5"),
        ({"retries": 1, "retry_on": "MemoryError"}, "retry_on: got 'MemoryError'"),
        ({"retries": 1, "retry_on": ()}, "retry_on: got ()"),
    ],
)
def test_bad_retry_arguments_are_one_line_errors(sqlite_url, kwargs, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        make(sqlite_url).optimize(objective, n_trials=1, **kwargs)


def test_an_interrupted_attempt_keeps_its_number(sqlite_url):
    exp = make(sqlite_url)
    (trial,) = exp.ask(1)
    exp.storage.set_attrs(trial.id, {"attempt": 2, "retry_of": 7})
    exp.interrupted(exp.trial(trial.number, with_reports=False), "interrupted: test")
    queued = exp.trials[-1]
    assert queued.state == TrialState.QUEUED and queued.attrs["attempt"] == 2 and queued.attrs["retry_of"] == 0


# ---- constraints on permutations (issue 14: Talos' boolean_limit in the core) ----


def test_a_constraint_holds_for_every_trial_and_fraction_limit_counts_allowed_points(sqlite_url):
    space = {"first_neuron": [8, 16, 32, 64, 128], "hidden_layers": [0, 1, 2, 3], "batch": [16, 32]}
    rule = lambda p: p["first_neuron"] * p["hidden_layers"] < 100  # noqa: E731 - as Talos users write it
    exp = kl.Experiment("constrained", space, storage=sqlite_url, seed=0, constraint=rule)
    allowed = sum(rule(p) for p in kl.Space(space).grid())
    assert exp.space.grid_size() == allowed < 40
    exp.optimize(lambda t: t.params["first_neuron"] / (1 + t.params["hidden_layers"]), fraction_limit=0.5)
    assert len(exp.trials) == -(-allowed // 2)
    assert all(rule(t.params) for t in exp.trials)
    with pytest.raises(ValueError, match="ruled out by the experiment's constraint"):
        exp.enqueue({"first_neuron": 128, "hidden_layers": 3, "batch": 16})
    exp.next_round({"first_neuron": [64, 128], "hidden_layers": [1, 2, 3], "batch": [16]}, reason="narrower")
    exp.optimize(lambda t: 1.0)  # the grid of the round: only the allowed points
    assert all(rule(t.params) for t in exp.trials if t.round == 1)
    assert {(t.params["first_neuron"], t.params["hidden_layers"]) for t in exp.trials if t.round == 1} == {(64, 1)}


@pytest.mark.parametrize("strategy", ["tpe", "gp", "random", "sobol"])
def test_model_based_and_random_strategies_respect_a_constraint_on_a_continuous_space(sqlite_url, strategy):
    rule = lambda p: p["x"] + p["y"] <= 1.0  # noqa: E731
    exp = kl.Experiment(
        f"constrained_{strategy}",
        {"x": kl.Real(0.0, 1.0), "y": kl.Real(0.0, 1.0)},
        storage=sqlite_url,
        strategy=strategy,
        seed=0,
        constraint=rule,
    )
    exp.optimize(lambda t: (t.params["x"] - 0.7) ** 2 + (t.params["y"] - 0.7) ** 2, n_trials=18)
    assert len(exp.trials) == 18 and all(rule(t.params) for t in exp.trials)


def test_a_grid_with_a_fraction_limit_is_a_random_subset_not_the_first_rows(sqlite_url):
    exp = kl.Experiment(
        "grid_fraction", {"a": list(range(10)), "b": list(range(10))}, storage=sqlite_url, strategy="grid", seed=0
    )
    exp.optimize(lambda t: float(t.params["a"]), fraction_limit=0.1)
    firsts = {t.params["a"] for t in exp.trials}
    assert len(exp.trials) == 10 and len(firsts) > 3, f"the first rows of the grid ran in order: {firsts}"
