"""Every analysis plot returns a Figure with something drawn, for numeric and categorical knobs, and copes with
an experiment that has too little to show."""

import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

import knoblab as kl  # noqa: E402
from knoblab.plots import analysis as P  # noqa: E402

from ..analysis.support import stored_experiment, synthetic_objective  # noqa: E402


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('plots') / 'k.db'}"
    exp = stored_experiment(url, n=30)
    exp.next_round({"x": kl.Real(0.0, 4.0), "opt": ["a", "b"], "n": (1, 5, 5), "fixed": 3}, "narrow")
    exp.optimize(synthetic_objective, n_trials=10, show_progress=False)
    return exp.analyze("all")


def _drawn(fig) -> bool:
    ax = fig.axes[0]
    return bool(ax.lines or ax.patches or ax.collections or ax.images)


@pytest.mark.parametrize(
    "draw",
    [
        P.correlation_bars,
        P.importance_bars,
        lambda a: P.metric_kde(a, "x"),
        lambda a: P.metric_kde(a, "opt"),
        lambda a: P.grouped_bars(a, "n", "opt"),
        P.train_val_scatter,
        P.learning_curves,
        P.optimization_history,
        P.parallel_coordinates,
        lambda a: P.metric_contour(a, "x", "n"),
        lambda a: P.metric_contour(a, "x", "opt"),
        P.rounds_kde,
    ],
    ids=[
        "corr",
        "importance",
        "kde-num",
        "kde-cat",
        "bars",
        "scatter",
        "curves",
        "history",
        "parallel",
        "contour",
        "contour-cat",
        "rounds",
    ],
)
def test_each_plot_returns_a_drawn_figure(analysis, draw):
    fig = draw(analysis)
    assert isinstance(fig, Figure) and _drawn(fig)
    fig.savefig(__import__("io").BytesIO(), format="png")


def test_train_val_scatter_draws_the_regression_line(analysis):
    fig = P.train_val_scatter(analysis)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert any(label.startswith("fit: slope") for label in labels)


def test_plots_accept_an_experiment_and_name_unknown_knobs(analysis):
    assert isinstance(P.optimization_history(analysis.experiment), Figure)
    with pytest.raises(ValueError, match="knob 'nope'"):
        P.metric_kde(analysis, "nope")


def test_plots_of_an_empty_experiment_say_so(sqlite_url):
    exp = kl.Experiment("empty", {"x": kl.Real(0.0, 1.0)}, storage=sqlite_url)
    a = exp.analyze()
    for draw in (P.correlation_bars, P.train_val_scatter, P.optimization_history, P.parallel_coordinates):
        fig = draw(a)
        assert isinstance(fig, Figure) and fig.axes[0].texts  # a message instead of a plot
