"""One conformance suite for every strategy: each one in `knoblab.strategies.REGISTRY` at import time, plus "auto".

A strategy added later (tpe, gp, cmaes, ...) is tested here the day it registers itself. A strategy that only
handles some spaces says so with `supports(space) -> bool` (on `Strategy`, True by default); unsupported
combinations are skipped, not failed.

Note to the owner of strategies/{tpe,gp,cmaes}.py: `Strategy.supports(space)` and the helper
`Strategy.distinct(history, n, candidates)` were added to base.py with this suite; please confirm or amend that
contract there (and here) rather than work around it in a strategy.
"""

from __future__ import annotations

import math
import numbers

import pytest

import knoblab as kl
from knoblab.space import Space
from knoblab.strategies import REGISTRY, make_strategy
from knoblab.strategies.auto import AutoStrategy
from knoblab.strategies.grid import GridSearch
from knoblab.trial import FrozenTrial, TrialState

STRATEGIES = sorted(REGISTRY) + ["auto"]
CORE = ["grid", "random", "sobol", "lhs", "auto"]  # the core's own; model-based ones are held to the contract only
GRID_RESOLUTION = 5  # so that "grid" can search spaces with Real knobs too

SPACES = {
    "real": {"x": kl.Real(-3.0, 2.0)},
    "real_log": {"lr": kl.Real(1e-5, 1.0, log=True)},
    "int": {"n": kl.Int(-5, 40)},
    "int_log": {"units": kl.Int(4, 1024, log=True)},
    "int_step": {"batch": kl.Int(16, 256, step=16)},
    "categorical": {"opt": ["adam", "nadam", "rmsprop", "sgd", "adagrad", "ftrl"]},
    "bool": {"shuffle": kl.Bool()},
    "talos_float": {"dropout": (0.0, 0.5, 11)},
    "talos_int": {"neurons": (8, 64, 8)},
    "fixed_and_real": {"epochs": 20, "name": "mlp", "x": kl.Real(0.0, 1.0)},
    "mixed": {
        "lr": kl.Real(1e-4, 1e-1, log=True),
        "units": kl.Int(8, 256, log=True),
        "batch": kl.Int(16, 128, step=16),
        "dropout": (0.0, 0.5, 6),
        "opt": ["adam", "nadam", "rmsprop"],
        "epochs": 100,
        "shuffle": kl.Bool(),
    },
    "finite_small": {"a": ["x", "y", "z"], "b": kl.Bool(), "c": (1, 3, 3)},  # 18 points
    "conditional": {
        "lr": kl.Real(1e-4, 1e-1, log=True),
        "layers": kl.Branch(
            {
                1: {},
                2: {"units2": kl.Int(8, 128), "dropout2": kl.Real(0.0, 0.5)},
                3: {
                    "units3": kl.Int(8, 64, log=True),
                    "norm": kl.Branch(
                        {"none": {}, "batch": {"momentum": (0.9, 0.99, 4)}, "layer": {"eps": [1e-5, 1e-3]}}
                    ),
                },
            }
        ),
    },
    "conditional_finite": {
        "opt": ["adam", "sgd"],
        "layers": kl.Branch(
            {1: {}, 2: {"u": [16, 32]}, 3: {"v": [1, 2], "w": kl.Branch({"x": {}, "y": {"z": [0, 1]}})}}
        ),
    },  # 2 * (1 + 2 + 2 * 3) = 18 points
    # values stored by reference (knoblab.values): functions, a class, tuples
    "objects": {"act": [math.sqrt, math.exp, "linear"], "kind": [int, float], "shape": [(64, 32), (16,)]},
}

# constraints (Talos' boolean_limit) every strategy must respect, on a finite and a continuous space
CONSTRAINED = {
    "finite_small": lambda p: not (p["a"] == "x" and p["b"]) and p["c"] != 2,  # 18 points, 10 allowed
    "mixed": lambda p: p["units"] * p["batch"] <= 4096 and p["opt"] != "rmsprop",
    "conditional_finite": lambda p: p["layers"] != 3 or p["w"] == "x",  # 18 points, 12 allowed
}


# ---- helpers ----


def active_names(spec: dict, params: dict) -> set[str]:
    out = set()
    for name, knob in spec.items():
        out.add(name)
        if isinstance(knob, kl.Branch):
            out |= active_names(knob.options[params[name]], params)
    return out


def objective(params: dict) -> float:
    """A deterministic value per point, so model-based strategies have something to learn from."""
    total = 0.0
    for k, v in sorted(params.items()):
        if isinstance(v, bool):
            total += 0.3 * v
        elif isinstance(v, numbers.Number):
            total += (v - 0.37) ** 2 / (1 + abs(v))
        else:
            total += 0.1 * (sum(map(ord, str(v))) % 7)
        total += 0.01 * len(k)
    return total


def make(name: str, space: Space, seed: int = 0, budget: int | None = 40):
    """A strategy as an experiment would build it, or None when it does not support the space."""
    strategy = make_strategy(name, grid_resolution=GRID_RESOLUTION)
    if not strategy.supports(space):
        return None
    strategy.setup(space, seed=seed, direction="min")
    if isinstance(strategy, AutoStrategy):
        strategy.configure(n_trials=budget, fraction_limit=None)
    return strategy


def make_or_skip(name: str, space: Space, seed: int = 0, budget: int | None = 40):
    strategy = make(name, space, seed, budget)
    if strategy is None:
        pytest.skip(f"{name} does not support this space (supports() is False)")
    return strategy


def record(history: list[FrozenTrial], params: dict, strategy) -> FrozenTrial:
    number = len(history)
    t = FrozenTrial(
        id=number + 1,
        number=number,
        state=TrialState.COMPLETE,
        params=params,
        value=objective(params),
        metrics={"value": objective(params)},
    )
    history.append(t)
    strategy.tell(t)
    return t


def run(strategy, n: int, history: list[FrozenTrial] | None = None, batch: int = 1) -> list[FrozenTrial]:
    """The experiment loop without storage: ask, 'run', record, tell; stops early when the strategy runs dry."""
    history = list(history or [])
    while len(history) < n:
        points = strategy.ask(history, min(batch, n - len(history)))
        assert len(points) <= min(batch, n - len(history))
        if not points:
            break
        for p in points:
            record(history, p, strategy)
    return history


def point_key(params: dict) -> tuple:
    return tuple(sorted((k, type(v).__name__, repr(v)) for k, v in params.items()))


def is_seed_blind(strategy) -> bool:
    """An ordered grid visits points in the same order whatever the seed."""
    chosen = strategy.chosen if isinstance(strategy, AutoStrategy) else strategy
    return isinstance(chosen, GridSearch) and not chosen.shuffle


strategy_param = pytest.mark.parametrize("name", STRATEGIES)
space_param = pytest.mark.parametrize("space_name", sorted(SPACES))


def test_the_suite_covers_the_registry():
    assert {"grid", "random", "sobol", "lhs"} <= set(STRATEGIES)
    assert "auto" in STRATEGIES


# ---- the contract ----


@strategy_param
@space_param
def test_every_point_is_in_the_space_with_exactly_its_active_knobs(name, space_name):
    spec = SPACES[space_name]
    space = Space(spec)
    strategy = make_or_skip(name, space)
    history = run(strategy, 12)  # past the usual 10 start-up points of model-based strategies
    history = run(strategy, 16, history, batch=4)
    assert history, "the strategy proposed nothing"
    if name in CORE and space.is_finite:  # the core's strategies stop only when the grid is used up
        assert len(history) == min(16, space.grid_size())
    for t in history:
        assert space.contains(t.params), f"{name} proposed {t.params}, outside the space"
        assert set(t.params) == active_names(spec, t.params)
        for k, v in t.params.items():
            assert type(v).__module__ == "builtins", f"{k}={v!r} is not a plain Python value"


@strategy_param
@space_param
def test_the_same_seed_gives_the_same_points(name, space_name):
    space = Space(SPACES[space_name])
    a = run(make_or_skip(name, space, seed=7), 12, batch=3)
    b = run(make_or_skip(name, space, seed=7), 12, batch=3)
    assert [t.params for t in a] == [t.params for t in b]


@strategy_param
@pytest.mark.parametrize("space_name", ["mixed", "conditional", "real"])
def test_another_seed_gives_other_points(name, space_name):
    space = Space(SPACES[space_name])
    strategy = make_or_skip(name, space, seed=1)
    if is_seed_blind(strategy):
        pytest.skip("an ordered grid does not depend on the seed")
    a = run(strategy, 10)
    b = run(make_or_skip(name, space, seed=2), 10)
    assert [t.params for t in a] != [t.params for t in b]


@strategy_param
@space_param
@pytest.mark.parametrize("history_size", [0, 5])
def test_a_batch_holds_n_distinct_points_where_the_space_has_that_many(name, space_name, history_size):
    space = Space(SPACES[space_name])
    strategy = make_or_skip(name, space)
    history = run(strategy, history_size)
    # how many points the strategy can reach: its own count (a grid over Real knobs), else the space's
    size = strategy.size()
    if size is None:
        size = space.grid_size() if space.is_finite else 10**9
    unseen = size - len({point_key(t.params) for t in history})
    n = min(8, unseen)
    if n < 2:
        pytest.skip("the space has no room left for a batch")
    points = strategy.ask(history, n)
    assert len(points) == n
    assert len({point_key(p) for p in points}) == n, f"{name} repeated a point in one batch: {points}"
    for p in points:
        assert space.contains(p)


@strategy_param
@space_param
def test_a_reopened_search_continues_the_stream(name, space_name):
    """A fresh instance given the history (what a reopened experiment has) proposes what the first would have."""
    space = Space(SPACES[space_name])
    first = make_or_skip(name, space, seed=3)
    history = run(first, 12)
    n = len(history)
    # the points of a run split in two equal those of one run
    again = make_or_skip(name, space, seed=3)
    resumed = run(again, n, history[: n // 2])
    assert [t.params for t in resumed] == [t.params for t in history]
    # and both go on alike from the same history
    fresh = make_or_skip(name, space, seed=3)
    assert fresh.ask(history, 3) == first.ask(history, 3)


@strategy_param
def test_ask_does_not_mutate_the_history(name):
    space = Space(SPACES["conditional"])
    strategy = make_or_skip(name, space)
    history = run(strategy, 6)
    before = [(t.number, dict(t.params), t.value) for t in history]
    strategy.ask(history, 4)
    assert [(t.number, dict(t.params), t.value) for t in history] == before


@strategy_param
def test_history_with_failed_pruned_and_running_trials_is_accepted(name):
    space = Space(SPACES["mixed"])
    strategy = make_or_skip(name, space)
    history = run(strategy, 4)
    for i, state in enumerate([TrialState.FAILED, TrialState.PRUNED, TrialState.RUNNING, TrialState.QUEUED]):
        p = space.sample(100 + i)
        history.append(FrozenTrial(id=100 + i, number=len(history), state=state, params=p, value=None))
    points = strategy.ask(history, 3)
    assert len(points) == 3 and all(space.contains(p) for p in points)


# ---- what the core's own strategies promise beyond the contract ----


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("space_name", ["finite_small", "conditional_finite", "bool"])
def test_core_strategies_never_repeat_a_point_of_a_finite_space(name, space_name):
    space = Space(SPACES[space_name])
    size = space.grid_size()
    strategy = make(name, space, budget=None)  # auto without a budget: not a grid
    history = run(strategy, size + 5, batch=2)
    assert len(history) == size, f"{name} gave {len(history)} trials over a grid of {size}"
    assert len({point_key(t.params) for t in history}) == size
    assert strategy.ask(history, 3) == []


@pytest.mark.parametrize("name", CORE)
def test_core_strategies_skip_points_enqueued_by_hand(name):
    space = Space(SPACES["finite_small"])
    strategy = make(name, space, budget=None)
    history: list[FrozenTrial] = []
    for p in (space.grid_point(0), space.grid_point(7), space.grid_point(17)):
        record(history, p, strategy)
    history = run(strategy, 18, history, batch=3)
    assert len({point_key(t.params) for t in history}) == 18


def test_strategy_errors_name_the_choice():
    with pytest.raises(ValueError, match="strategy: got 'bayes'"):
        make_strategy("bayes")
    with pytest.raises(ValueError, match="strategy: got 3"):
        make_strategy(3)


# ---- constraints: every strategy proposes only the points the space's constraint accepts ----


@strategy_param
@pytest.mark.parametrize("space_name", sorted(CONSTRAINED))
def test_every_proposal_satisfies_the_constraint(name, space_name):
    rule = CONSTRAINED[space_name]
    space = Space(SPACES[space_name], constraint=rule)
    strategy = make_or_skip(name, space, budget=None)
    history = run(strategy, 14)
    history = run(strategy, 20, history, batch=3)
    assert history
    for t in history:
        assert space.contains(t.params) and rule(t.params), (
            f"{name} proposed {t.params}, which the constraint rules out"
        )


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("space_name", ["finite_small", "conditional_finite"])
def test_core_strategies_visit_exactly_the_allowed_points_of_a_finite_space(name, space_name):
    rule = CONSTRAINED[space_name]
    space = Space(SPACES[space_name], constraint=rule)
    allowed = [p for p in Space(SPACES[space_name]).grid() if rule(p)]
    assert space.grid_size() == len(allowed) < Space(SPACES[space_name]).grid_size()
    assert space.grid_size_is_exact() and list(space.grid()) == allowed
    history = run(make(name, space, budget=None), len(allowed) + 5, batch=2)
    assert sorted(map(point_key, (t.params for t in history))) == sorted(map(point_key, allowed))


def test_a_shuffled_grid_draws_a_fraction_of_the_allowed_points_only():
    rule = CONSTRAINED["finite_small"]
    space = Space(SPACES["finite_small"], constraint=rule)
    grid = GridSearch(shuffle=True)
    grid.setup(space, seed=5, direction="min")
    assert grid.size() == 10
    assert all(rule(p) for p in grid.ask([], 8)) and grid.ask([], 8) != []


# ---- several objectives: the strategies that take them, held to the same contract ----

MULTI = sorted(n for n in STRATEGIES if getattr(make_strategy(n), "max_objectives", 1) is None)
MULTI_SPACES = ["mixed", "conditional", "finite_small", "real", "conditional_finite"]
DIRECTIONS = ("min", "max")


def second(params: dict) -> float:
    """An objective that conflicts with `objective` (maximized: larger where `objective` is larger, roughly)."""
    return objective(params) + 0.5 * sum(len(str(v)) for v in params.values()) % 3


def make_multi(name: str, space: Space, seed: int = 0, budget: int | None = 40):
    strategy = make_strategy(name, grid_resolution=GRID_RESOLUTION)
    if not strategy.supports(space):
        pytest.skip(f"{name} does not support this space (supports() is False)")
    strategy.setup(space, seed=seed, direction=DIRECTIONS)
    if isinstance(strategy, AutoStrategy):
        strategy.configure(n_trials=budget, fraction_limit=None)
    return strategy


def record_multi(history: list[FrozenTrial], params: dict, strategy, feasible: bool | None = None) -> FrozenTrial:
    number = len(history)
    values = [objective(params), second(params)]
    attrs = {} if feasible is None else {"feasible": feasible, "violation": 0.0 if feasible else 1.0 + number}
    if feasible is not None:
        attrs["constraint_values"] = [-1.0 if feasible else 1.0 + number]
    t = FrozenTrial(
        id=number + 1,
        number=number,
        state=TrialState.COMPLETE,
        params=params,
        metrics={"a": values[0], "b": values[1]},
        values=values,
        attrs=attrs,
    )
    history.append(t)
    strategy.tell(t)
    return t


def run_multi(strategy, n: int, history: list[FrozenTrial] | None = None, batch: int = 1, constrained: bool = False):
    history = list(history or [])
    while len(history) < n:
        points = strategy.ask(history, min(batch, n - len(history)))
        assert len(points) <= min(batch, n - len(history))
        if not points:
            break
        for p in points:
            record_multi(history, p, strategy, feasible=(len(history) % 3 != 0) if constrained else None)
    return history


multi_param = pytest.mark.parametrize("name", MULTI)


def test_the_multi_objective_strategies_are_registered():
    assert {"motpe", "mogp", "nsga2", "random", "sobol", "lhs", "grid", "auto"} <= set(MULTI)
    assert not {"tpe", "gp", "cmaes"} & set(MULTI)


@multi_param
@pytest.mark.parametrize("space_name", MULTI_SPACES)
def test_multi_every_point_is_in_the_space_and_a_seed_repeats_it(name, space_name):
    spec = SPACES[space_name]
    space = Space(spec)
    a = run_multi(make_multi(name, space, seed=5), 14, batch=2)
    a = run_multi(make_multi(name, space, seed=5), 18, a, batch=4)
    b = run_multi(make_multi(name, space, seed=5), 14, batch=2)
    b = run_multi(make_multi(name, space, seed=5), 18, b, batch=4)
    assert a and [t.params for t in a] == [t.params for t in b]
    for t in a:
        assert space.contains(t.params) and set(t.params) == active_names(spec, t.params)
    if space.is_finite and name in CORE:
        assert len(a) == min(18, space.grid_size())


@multi_param
@pytest.mark.parametrize("space_name", ["mixed", "conditional"])
def test_multi_a_reopened_search_continues_the_stream(name, space_name):
    space = Space(SPACES[space_name])
    first = make_multi(name, space, seed=3)
    history = run_multi(first, 12)
    resumed = run_multi(make_multi(name, space, seed=3), 12, history[:6])
    assert [t.params for t in resumed] == [t.params for t in history]
    assert make_multi(name, space, seed=3).ask(history, 3) == first.ask(history, 3)


@multi_param
@pytest.mark.parametrize("space_name", ["mixed", "finite_small"])
def test_multi_a_batch_holds_distinct_points(name, space_name):
    space = Space(SPACES[space_name])
    strategy = make_multi(name, space)
    history = run_multi(strategy, 12)
    size = strategy.size() or (space.grid_size() if space.is_finite else 10**9)
    n = min(6, size - len({point_key(t.params) for t in history}))
    if n < 2:
        pytest.skip("no room left for a batch")
    points = strategy.ask(history, n)
    assert len(points) == n and len({point_key(p) for p in points}) == n


@multi_param
def test_multi_history_with_failed_pruned_running_and_infeasible_trials_is_accepted(name):
    space = Space(SPACES["mixed"])
    strategy = make_multi(name, space)
    history = run_multi(strategy, 12, constrained=True)  # a third of them infeasible, with constraint values
    for i, state in enumerate([TrialState.FAILED, TrialState.PRUNED, TrialState.RUNNING, TrialState.QUEUED]):
        p = space.sample(100 + i)
        history.append(FrozenTrial(id=100 + i, number=len(history), state=state, params=p))
    pruned = FrozenTrial(id=200, number=len(history), state=TrialState.PRUNED, params=space.sample(7), values=[1, 2])
    history.append(pruned)
    before = [(t.number, dict(t.params), t.values) for t in history]
    points = strategy.ask(history, 3)
    assert len(points) == 3 and all(space.contains(p) for p in points)
    assert [(t.number, dict(t.params), t.values) for t in history] == before


def test_lhs_asked_one_point_at_a_time_is_still_a_latin_hypercube():
    # each ask of one point is a row of the same hypercube: every knob lands once in each of 16 equal slices
    from knoblab.strategies.base import History
    from knoblab.strategies.qmc import LatinHypercubeSearch

    space = Space({"x": kl.Real(0.0, 1.0), "y": kl.Real(0.0, 1.0)})
    lhs = LatinHypercubeSearch()
    lhs.setup(space, seed=3, direction="max")
    one_by_one = [lhs.ask(History([], start=i), 1)[0] for i in range(LatinHypercubeSearch.block)]
    for knob in ("x", "y"):
        slices = sorted(int(p[knob] * LatinHypercubeSearch.block) for p in one_by_one)
        assert slices == list(range(LatinHypercubeSearch.block)), (knob, slices)
    # a batch from the same position gives the same points
    assert lhs.ask(History([], start=0), LatinHypercubeSearch.block) == one_by_one
