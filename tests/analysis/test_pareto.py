"""Several objectives in the analysis, the HTML report and the command line: the Pareto front, its hypervolume with
a documented reference point, infeasible trials shown but kept off the front."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("matplotlib")

import knoblab as kl  # noqa: E402
from knoblab import pareto  # noqa: E402
from knoblab.cli import main  # noqa: E402

SPACE = {"x": kl.Real(0.0, 1.0), "y": kl.Real(0.0, 1.0), "opt": ["adam", "sgd"]}


def objective(trial):
    x, y = trial.params["x"], trial.params["y"]
    g = 1 + 9 * y
    return {"error": x, "accuracy": 1 - g * (1 - math.sqrt(x / g)) / 10, "size": 1000 * y}


@pytest.fixture
def multi(sqlite_url):
    exp = kl.Experiment(
        "trade",
        SPACE,
        metric=["error", "accuracy"],
        direction=["min", "max"],
        storage=sqlite_url,
        seed=0,
        strategy="random",
        constraints=["size <= 700"],
    )
    return exp.optimize(objective, n_trials=30)


def test_hypervolume_and_its_reference_point(multi):
    a = multi.analyze()
    front = multi.pareto_front
    assert sorted(a.pareto_front.index) == sorted(t.number for t in front)
    assert list(a.pareto_front.columns[:3]) == ["round", "error", "accuracy"]
    assert a.pareto_front["error"].is_monotonic_increasing  # sorted by the first objective, best first
    # default reference: the worst of each objective among feasible complete trials, 10% of its range outward
    feasible = [t for t in multi.trials if t.attrs["feasible"]]
    errors = [t.values[0] for t in feasible]
    accuracies = [t.values[1] for t in feasible]
    assert a.reference_point["error"] == pytest.approx(max(errors) + 0.1 * (max(errors) - min(errors)))
    assert a.reference_point["accuracy"] == pytest.approx(min(accuracies) - 0.1 * (max(accuracies) - min(accuracies)))
    losses = pareto.losses([t.values for t in front], ["min", "max"])
    ref = pareto.losses([[a.reference_point["error"], a.reference_point["accuracy"]]], ["min", "max"])[0]
    assert a.hypervolume == pytest.approx(pareto.hypervolume(losses, ref)) and a.hypervolume > 0
    fixed = multi.analyze(reference_point={"error": 1.0, "accuracy": 0.0})
    assert fixed.hypervolume == pytest.approx(pareto.hypervolume(losses, [1.0, 0.0]))
    assert multi.analyze(reference_point=[1.0, 0.0]).hypervolume == pytest.approx(fixed.hypervolume)
    with pytest.raises(ValueError, match="reference_point: got"):
        _ = multi.analyze(reference_point=[1.0]).hypervolume
    assert "hypervolume" in a.summary() and "break an outcome constraint" in a.summary()


def test_per_knob_tables_are_about_one_objective_at_a_time(multi):
    by_error = multi.analyze()
    by_accuracy = multi.analyze(metric="accuracy")
    assert by_error.metric == "error" and by_accuracy.direction == "max"
    assert by_accuracy.best["accuracy"].is_monotonic_decreasing
    assert all(multi.trial(int(n)).attrs["feasible"] for n in by_accuracy.best.index)  # never an infeasible best
    assert set(by_error.correlations["knob"]) >= {"x", "y"}
    with pytest.raises(ValueError, match="metric: got 'size'; the experiment's objectives are"):
        multi.analyze(metric="size")


def test_the_report_lists_the_front_and_draws_it(multi, tmp_path):
    text = Path(multi.analyze().report(str(tmp_path / "r.html"))).read_text(encoding="utf-8")
    assert "<h2>Pareto front</h2>" in text and "Hypervolume" in text
    assert "alt='Pareto front'" in text
    for t in multi.pareto_front:
        assert f"<td class='n'>{t.number}</td>" in text


def test_three_objectives_draw_three_projections(sqlite_url):
    exp = kl.Experiment(
        "three",
        SPACE,
        metric=["error", "accuracy", "size"],
        direction=["min", "max", "min"],
        storage=sqlite_url,
        seed=0,
        strategy="random",
    )
    exp.optimize(objective, n_trials=12)
    fig = exp.analyze().figures()[0][1]
    assert len(fig.axes) == 3
    assert exp.analyze().hypervolume > 0


def test_show_lists_the_front_and_ls_its_size(multi):
    url = multi.storage.url
    out = CliRunner().invoke(main, ["show", "trade", "--storage", url], catch_exceptions=False).output
    assert "min error, max accuracy" in out and "outcome constraints: size <= 700" in out
    assert f"Pareto front ({len(multi.pareto_front)} trials; sorted by error" in out
    assert "break an outcome constraint" in out
    shown = [
        line.split()[0]
        for line in out.splitlines()[
            out.splitlines().index(next(line for line in out.splitlines() if line.startswith("Pareto front"))) + 2 :
        ]
    ]
    assert sorted(int(n) for n in shown) == sorted(t.number for t in multi.pareto_front)
    listing = CliRunner().invoke(main, ["ls", "--storage", url], catch_exceptions=False).output
    assert f"front of {len(multi.pareto_front)}" in listing


def test_show_of_a_constrained_single_objective_experiment_lists_feasible_trials_only(sqlite_url):
    exp = kl.Experiment("one", SPACE, metric="error", storage=sqlite_url, seed=0, constraints=["size <= 300"])
    exp.optimize(objective, n_trials=15)
    out = CliRunner().invoke(main, ["show", "one", "--storage", sqlite_url], catch_exceptions=False).output
    listed = [
        int(line.split()[0])
        for line in out.splitlines()[
            out.splitlines().index(next(line for line in out.splitlines() if line.startswith("best"))) + 2 :
        ]
    ]
    assert listed and all(exp.trial(n).attrs["feasible"] for n in listed)
    assert listed[0] == exp.best.number
