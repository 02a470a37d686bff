"""random_method names map to knoblab strategies; the network ones and unknown ones say so."""

import pytest

from knoblab.space import Space
from knoblab.strategies import GridSearch, SobolSearch
from knoblab.talos.random_methods import RANDOM_METHODS, HaltonSearch, LatinDesign, strategy_for


def test_an_unlimited_scan_is_the_grid_in_order_whatever_the_method():
    for method in RANDOM_METHODS:
        s = strategy_for(method, limited=False, budget=10)
        assert isinstance(s, GridSearch) and not s.shuffle


@pytest.mark.parametrize(
    "method, kind",
    [
        ("uniform_mersenne", GridSearch),
        ("uniform_crypto", GridSearch),
        ("sobol", SobolSearch),
        ("korobov_matrix", SobolSearch),
        ("halton", HaltonSearch),
        ("latin_matrix", LatinDesign),
        ("latin_improved", LatinDesign),
        ("latin_sudoku", LatinDesign),
    ],
)
def test_a_limited_scan_draws_with_the_named_method(method, kind):
    s = strategy_for(method, limited=True, budget=5)
    assert isinstance(s, kind)
    if kind is GridSearch:
        assert s.shuffle


@pytest.mark.parametrize("method", ["quantum", "ambience"])
def test_methods_that_need_a_web_service_are_refused(method):
    with pytest.raises(ValueError, match=f"random_method='{method}' draws from .* over the network"):
        strategy_for(method, limited=True, budget=5)


def test_an_unknown_method_warns_and_draws_uniformly_as_talos_does():
    with pytest.warns(UserWarning, match="'latin_suduko' is not a Talos random method; using 'uniform_mersenne'"):
        s = strategy_for("latin_suduko", limited=True, budget=5)
    assert isinstance(s, GridSearch) and s.shuffle


def _ask_all(strategy, space, n):
    strategy.setup(space, seed=3, direction="min")
    from knoblab.trial import FrozenTrial, TrialState

    history = []
    for i in range(n):
        (params,) = strategy.ask(history, 1)
        history.append(FrozenTrial(id=i, number=i, state=TrialState.COMPLETE, params=params, value=0.0))
    return [t.params for t in history]


def test_the_latin_design_uses_each_slice_of_each_knob_once_even_asked_one_at_a_time():
    space = Space({"a": list(range(10)), "b": list(range(10))})
    points = _ask_all(LatinDesign(10), space, 10)
    assert sorted(p["a"] for p in points) == list(range(10))
    assert sorted(p["b"] for p in points) == list(range(10))


def test_halton_and_the_latin_design_never_repeat_a_point_of_a_finite_space():
    space = Space({"a": [1, 2, 3], "b": ["x", "y"]})
    for strategy in (HaltonSearch(), LatinDesign(4)):
        points = _ask_all(strategy, space, 6)  # the whole grid, past the design's 4 points
        assert len({tuple(sorted(p.items())) for p in points}) == 6


def test_the_halton_stream_spreads_each_knob_more_evenly_than_chance():
    points = _ask_all(HaltonSearch(), Space({"a": list(range(10)), "b": list(range(10))}), 10)
    # a scrambled Halton sequence's first 10 points hit 8 and 9 of the 10 slices of its two knobs; uniform draws
    # hit 6.5 on average
    assert len({p["a"] for p in points}) >= 8 and len({p["b"] for p in points}) >= 8


def test_the_latin_design_keeps_the_strategy_size_method_so_an_experiment_without_budget_says_so():
    import knoblab as kl

    strategy = LatinDesign(3)
    assert strategy.n_points == 3 and strategy.size() is None  # the design's count once hid size()
    exp = kl.Experiment("latin", {"a": kl.Real(0.0, 1.0)}, strategy=strategy, storage="sqlite://")
    with pytest.raises(ValueError, match="give a budget"):
        exp.optimize(lambda trial: trial.params["a"])
