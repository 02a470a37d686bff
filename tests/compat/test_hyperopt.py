"""hyperopt code on knoblab: hp.* spaces parsed as hyperopt parses them, and fmin run as hyperopt runs it.

hyperopt itself is the reference: its own samplers draw the points, its own space_eval builds what the objective
should get, and its own fmin sets the counts that ours must match."""

from __future__ import annotations

import functools
import math
import os
import pickle
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import knoblab as kl
from knoblab.compat.hyperopt import Trials, from_hyperopt
from knoblab.space import Branch, Categorical, Int, Real

hyperopt = pytest.importorskip("hyperopt", reason="hyperopt is in the bench extra: pip install 'knoblab[bench]'")
from hyperopt import STATUS_FAIL, STATUS_OK, hp, pyll, space_eval  # noqa: E402
from hyperopt.early_stop import no_progress_loss  # noqa: E402


# ---- spaces users write: the walkthroughs' and hyperopt's documented ones ----
def lstm_space():
    """Walkthrough 001's search space: an LSTM with a second layer (and its knobs) only when two are chosen."""
    return {
        "batch_size": hp.choice("bs", [30, 40, 50, 60, 70]),
        "time_steps": hp.choice("ts", [30, 50, 60, 80, 90]),
        "lstm1_nodes": hp.choice("units_lsmt1", [70, 80, 100, 130]),
        "lstm1_dropouts": hp.uniform("dos_lstm1", 0, 1),
        "lstm_layers": hp.choice(
            "num_layers_lstm",
            [
                {"layers": "one"},
                {
                    "layers": "two",
                    "lstm2_nodes": hp.choice("units_lstm2", [20, 30, 40, 50]),
                    "lstm2_dropouts": hp.uniform("dos_lstm2", 0, 1),
                },
            ],
        ),
        "dense_layers": hp.choice(
            "num_layers_dense",
            [{"layers": "one"}, {"layers": "two", "dense2_nodes": hp.choice("units_dense", [10, 20, 30, 40])}],
        ),
        "lr": hp.uniform("lr", 0, 1),
        "epochs": hp.choice("epochs", [30, 40, 50, 60, 70]),
        "optimizer": hp.choice("optmz", ["sgd", "rms"]),
    }


def hyperas_space():
    """What Hyperas generates from walkthrough 004's {{choice(...)}} / {{uniform(0, 1)}} template model."""
    return {
        "Dropout": hp.uniform("Dropout", 0, 1),
        "Dense": hp.choice("Dense", [256, 512, 1024]),
        "Activation": hp.choice("Activation", ["relu", "sigmoid"]),
        "Dropout_1": hp.uniform("Dropout_1", 0, 1),
        "conditional": hp.choice("conditional", ["three", "four"]),
        "add": hp.choice("add", [{"layer": "dropout"}, {"layer": "dense", "Dense_2": hp.choice("Dense_2", [64, 128])}]),
        "optimizer": hp.choice("optimizer", ["rmsprop", "adam", "sgd"]),
        "batch_size": hp.choice("batch_size", [64, 128]),
    }


def classifier_space():
    """hyperopt's documented nested space (its wiki, "a search space over classifiers")."""
    return hp.choice(
        "classifier_type",
        [
            {"type": "naive_bayes"},
            {
                "type": "svm",
                "C": hp.lognormal("svm_C", 0, 1),
                "kernel": hp.choice(
                    "svm_kernel",
                    [{"ktype": "linear"}, {"ktype": "RBF", "width": hp.lognormal("svm_rbf_width", 0, 1)}],
                ),
            },
            {
                "type": "dtree",
                "criterion": hp.choice("dtree_criterion", ["gini", "entropy"]),
                "max_depth": hp.choice("dtree_max_depth", [None, hp.qlognormal("dtree_max_depth_int", 3, 1, 1)]),
                "min_samples_split": hp.qlognormal("dtree_min_samples_split", 2, 1, 1),
            },
        ],
    )


def every_kind_space():
    """Every hp.* function, with tuples, lists, scope.int and arithmetic around them."""
    return {
        "u": hp.uniform("u", -2, 3),
        "lu": hp.loguniform("lu", np.log(1e-4), np.log(1e-1)),
        "qu": hp.quniform("qu", 8, 64, 8),
        "qf": hp.quniform("qf", 0, 1, 0.25),
        "qlu": hp.qloguniform("qlu", np.log(1), np.log(100), 1),
        "ri": hp.randint("ri", 5),
        "ri2": hp.randint("ri2", 3, 9),
        "ui": hp.uniformint("ui", 1, 6),
        "n": hp.normal("n", 0, 2),
        "qn": hp.qnormal("qn", 10, 2, 1),
        "ln": hp.lognormal("ln", 0, 0.5),
        "pc": hp.pchoice("pc", [(0.2, "a"), (0.8, "b")]),
        "pair": (hp.choice("tup", [(1, 2), (3, 4)]), [hp.uniform("in_list", 0, 1), "const"]),
        "fn": hp.choice("fn", [math.sqrt, math.exp]),
        "structs": hp.choice("structs", [{"a": 1}, {"a": 2}]),
        "scaled": 10 * hp.uniform("half", 0, 0.5) + 1,
        "as_int": pyll.scope.int(hp.quniform("units", 16, 128, 16)),
    }


SPACES = {"lstm": lstm_space, "hyperas": hyperas_space, "classifiers": classifier_space, "kinds": every_kind_space}


def hyperopt_points(space, n, seed=0):
    """n assignments drawn by hyperopt's own random search, with the point its fn received for each."""
    seen = []

    def record(point):
        seen.append(point)
        return 0.0

    trials = hyperopt.Trials()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hyperopt.fmin(
            record, space, algo=hyperopt.rand.suggest, max_evals=n, trials=trials,
            rstate=np.random.default_rng(seed), show_progressbar=False,
        )  # fmt: skip
    assignments = [{k: v[0] for k, v in t["misc"]["vals"].items() if v} for t in trials.trials]
    return assignments, seen


def translate(space):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # normal and pchoice knobs warn of their approximation
        return from_hyperopt(space)


# ---- the space ----
@pytest.mark.parametrize("which", sorted(SPACES))
def test_every_point_hyperopt_draws_maps_to_our_space_and_back_with_the_same_objective_argument(which):
    space = SPACES[which]()
    ours = translate(space)
    assignments, points = hyperopt_points(space, 150)
    for assignment, point in zip(assignments, points):
        if which in ("classifiers", "kinds") and not _inside_truncation(assignment):
            continue  # a normal draw past 3 sigma, which the truncated range leaves out by design
        params = ours.from_hyperopt(assignment)
        assert ours.contains(params)
        assert _same(ours.to_hyperopt(params), assignment)  # the labels hyperopt made active, with its values
        assert ours.rebuild(params) == point  # what hyperopt's fn got
        assert space_eval(space, ours.to_hyperopt(params)) == point


@pytest.mark.parametrize("which", sorted(SPACES))
def test_every_point_we_draw_is_one_hyperopt_can_build(which):
    space = SPACES[which]()
    ours = translate(space)
    rng = np.random.default_rng(1)
    for _ in range(200):
        params = ours.sample(rng)
        assignment = ours.to_hyperopt(params)
        assert ours.rebuild(params) == space_eval(space, assignment)
        assert ours.from_hyperopt(assignment) == params


def _inside_truncation(assignment):
    """Whether hyperopt's draw lies in the +-3 sigma our normal knobs span (quantized ones half a step wider)."""
    ranges = {
        "svm_C": (math.exp(-3), math.exp(3)),
        "svm_rbf_width": (math.exp(-3), math.exp(3)),
        "dtree_max_depth_int": (math.exp(0) - 0.5, math.exp(6) + 0.5),
        "dtree_min_samples_split": (math.exp(-1) - 0.5, math.exp(5) + 0.5),
        "n": (-6, 6),
        "qn": (4, 16),
        "ln": (math.exp(-1.5), math.exp(1.5)),
    }
    return all(lo <= assignment[k] <= hi for k, (lo, hi) in ranges.items() if k in assignment)


def _same(a, b):
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) for k in a)


def test_walkthrough_001_space_becomes_branches_over_the_lstm_and_dense_layers():
    ours = from_hyperopt(lstm_space())
    assert isinstance(ours.knobs["num_layers_lstm"], Branch)
    one, two = ours.knobs["num_layers_lstm"].subspaces
    assert list(one.knobs) == [] and sorted(two.knobs) == ["dos_lstm2", "units_lstm2"]
    assert ours.knobs["bs"].choices == [30, 40, 50, 60, 70]  # plain options are stored as themselves
    assert ours.knobs["optmz"].choices == ["sgd", "rms"]
    assert set(ours.all_knobs()) == {
        "bs", "ts", "units_lsmt1", "dos_lstm1", "num_layers_lstm", "units_lstm2", "dos_lstm2", "num_layers_dense",
        "units_dense", "lr", "epochs", "optmz",
    }  # fmt: skip


def test_each_hp_function_becomes_the_knob_the_table_says():
    with pytest.warns(UserWarning) as caught:
        ours = from_hyperopt(every_kind_space())
    k = ours.knobs
    assert isinstance(k["u"], Real) and (k["u"].low, k["u"].high, k["u"].log) == (-2, 3, False)
    assert isinstance(k["lu"], Real) and k["lu"].log
    assert math.isclose(k["lu"].low, 1e-4) and math.isclose(k["lu"].high, 1e-1)
    assert isinstance(k["qu"], Int) and (k["qu"].low, k["qu"].high, k["qu"].step) == (8, 64, 8)
    assert isinstance(k["qf"], Categorical) and k["qf"].choices == [0.0, 0.25, 0.5, 0.75, 1.0] and k["qf"].ordered
    assert isinstance(k["qlu"], Int) and k["qlu"].log and (k["qlu"].low, k["qlu"].high) == (1, 100)
    assert isinstance(k["ri"], Int) and (k["ri"].low, k["ri"].high) == (0, 4)  # randint's upper end is excluded
    assert isinstance(k["ri2"], Int) and (k["ri2"].low, k["ri2"].high) == (3, 8)
    assert isinstance(k["ui"], Int) and (k["ui"].low, k["ui"].high) == (1, 6)
    assert isinstance(k["n"], Real) and (k["n"].low, k["n"].high) == (-6, 6)  # mu +- 3 sigma
    assert isinstance(k["qn"], Int) and (k["qn"].low, k["qn"].high) == (4, 16)
    assert isinstance(k["ln"], Real) and k["ln"].log and math.isclose(k["ln"].high, math.exp(1.5))
    assert k["pc"].choices == ["a", "b"]
    assert k["tup"].choices == [(1, 2), (3, 4)] and k["fn"].choices == [math.sqrt, math.exp]  # values themselves
    assert k["structs"].choices == [0, 1]  # dicts are structures: chosen by index
    assert (k["units"].low, k["units"].high, k["units"].step) == (16, 128, 16)
    said = " ".join(str(w.message) for w in caught)
    for label in ("'n'", "'qn'", "'ln'", "'pc'"):
        assert label in said  # each approximation is named
    assert "3 sigma" in said and "probabilities" in said


def test_the_range_of_normal_knobs_follows_sigmas():
    with pytest.warns(UserWarning, match="mu \\+- 2 sigma"):
        ours = from_hyperopt({"x": hp.normal("x", 1, 0.5)}, sigmas=2)
    assert (ours.knobs["x"].low, ours.knobs["x"].high) == (0.0, 2.0)


def test_every_value_hyperopt_samples_for_a_quantized_knob_is_a_value_of_ours_and_the_reverse():
    for dist in (
        hp.quniform("x", 0.2, 3.3, 0.5),
        hp.quniform("x", -7, 20, 3),
        hp.qloguniform("x", np.log(0.5), np.log(40), 1),
        hp.qloguniform("x", np.log(1), np.log(60), 5),
        hp.uniformint("x", 3, 9),
    ):
        rng = np.random.default_rng(0)
        drawn = {float(pyll.stochastic.sample(dist, rng=rng)) for _ in range(3000)}
        knob = from_hyperopt({"x": dist}).knobs["x"]
        assert drawn == {float(v) for v in knob.grid_values()}


def test_a_label_used_in_several_options_is_one_knob_above_the_choice():
    lr = hp.loguniform("lr", -7, 0)
    space = hp.choice("model", [{"kind": "a", "lr": lr}, {"kind": "b", "lr": lr, "m": hp.uniform("m", 0, 1)}])
    ours = from_hyperopt(space)
    assert list(ours.knobs) == ["model", "lr"] or list(ours.knobs) == ["lr", "model"]
    assert list(ours.knobs["model"].subspaces[1].knobs) == ["m"]
    for params in (ours.sample(s) for s in range(30)):
        assert ours.rebuild(params) == space_eval(space, ours.to_hyperopt(params))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: {"x": hp.uniform("x", 0, hp.uniform("y", 1, 2))}, "knob 'x': its range depends on knob 'y'"),
        (lambda: {"x": hp.uniform("x", 0, 0)}, "knob 'x': got \\(0.0, 0.0\\); low must be < high"),
        (lambda: {"x": hp.quniform("x", 0, 1, 0)}, "knob 'x': got q=0"),
        (lambda: {"x": hp.quniform("x", 0, 1000, 0.01)}, "knob 'x': 100001 multiples"),
        (lambda: {"x": hp.uniform("x", 0, 1), "y": kl.Real(0, 1)}, "one style"),
        (lambda: {"a": hp.uniform("x", 0, 1), "b": hp.uniform("x", 0, 2)}, "knob 'x': two different hp expressions"),
    ],
)
def test_bad_spaces_get_one_line_naming_the_knob(make, message):
    with pytest.raises(ValueError, match=message) as e:
        from_hyperopt(make())
    assert "\n" not in str(e.value)


def test_from_hyperopt_refuses_a_space_without_hp_and_space_eval_takes_both_kinds():
    with pytest.raises(ValueError, match="without hyperopt hp"):
        from_hyperopt({"x": kl.Real(0, 1)})
    assert kl.compat.hyperopt.space_eval({"x": [1, 2]}, {"x": 2}) == {"x": 2}
    space = lstm_space()
    point = {"bs": 1, "ts": 0, "units_lsmt1": 2, "dos_lstm1": 0.5, "num_layers_lstm": 0, "num_layers_dense": 0,
             "lr": 0.1, "epochs": 3, "optmz": 1}  # fmt: skip
    assert kl.compat.hyperopt.space_eval(translate(space), point) == space_eval(space, point)


def test_a_hyperopt_space_is_a_knoblab_space_an_experiment_takes(sqlite_url):
    ours = from_hyperopt(lstm_space())
    exp = kl.Experiment("hp-space", ours, storage=sqlite_url, strategy="tpe", seed=0)
    got = []
    exp.optimize(lambda t: got.append(ours.rebuild(t.params)) or t.params["lr"], n_trials=12)
    assert all(isinstance(p["lstm_layers"], dict) and p["lstm_layers"]["layers"] in ("one", "two") for p in got)
    reopened = kl.Experiment("hp-space", from_hyperopt(lstm_space()), storage=sqlite_url)
    assert len(reopened.trials) == 12  # the same space described the same way: reopening continues it


# ---- fmin ----
def test_hyperopts_first_example_finds_the_minimum():
    best = kl.fmin(fn=lambda x: (x - 1) ** 2, space=hp.uniform("x", -10, 10), algo=hyperopt.tpe.suggest,
                   max_evals=60, rstate=np.random.default_rng(0), show_progressbar=False)  # fmt: skip
    assert set(best) == {"x"} and abs(best["x"] - 1) < 0.5


def test_the_tutorials_objective_with_status_extras_and_attachments():
    def objective(x):
        return {
            "loss": x**2,
            "status": STATUS_OK,
            "eval_time": time.time(),
            "other_stuff": {"type": None, "value": [0, 1, 2]},
            "attachments": {"time_module": pickle.dumps(time.time)},
        }

    trials = Trials()
    best = kl.fmin(objective, space=hp.uniform("x", -10, 10), algo=hyperopt.tpe.suggest, max_evals=12,
                   trials=trials, show_progressbar=False)  # fmt: skip
    assert len(trials.trials) == 12 and len(trials) == 12
    assert trials.statuses() == ["ok"] * 12
    assert trials.losses() == [r["loss"] for r in trials.results]
    assert best == trials.argmin and trials.best_trial["result"]["loss"] == min(trials.losses())
    assert trials.results[3]["other_stuff"] == {"type": None, "value": [0, 1, 2]}
    assert pickle.loads(trials.trial_attachments(trials.trials[5])["time_module"]) is time.time
    doc = trials.trials[0]
    assert (
        doc["tid"] == 0 and doc["state"] == 2 and math.isclose(doc["misc"]["vals"]["x"][0] ** 2, doc["result"]["loss"])
    )
    # what the storage keeps: the numbers as metrics, the JSON-able rest as attrs
    stored = trials.experiment.trials[3]
    assert stored.metrics["eval_time"] > 0 and stored.attrs["hyperopt_result"]["other_stuff"]["value"] == [0, 1, 2]


def test_a_result_that_is_not_json_stays_in_memory_and_the_rest_is_stored(sqlite_url):
    class Model:  # what a Hyperas objective returns besides its loss: a live object, not data
        pass

    models = []

    def fn(p):
        models.append(Model())
        return {"loss": p["x"], "status": STATUS_OK, "model": models[-1], "curve": np.array([0.5, 0.25])}

    trials = Trials("models", sqlite_url)
    kl.fmin(fn, {"x": hp.uniform("x", 0, 1)}, max_evals=3, trials=trials, show_progressbar=False)
    assert [r["model"] for r in trials.results] == models  # the objects themselves, for this process's trials
    stored = trials.experiment.trials[0].attrs["hyperopt_result"]
    assert stored["unstored"] == ["model"] and stored["curve"] == [0.5, 0.25]
    reread = Trials("models", sqlite_url)
    kl.fmin(fn, {"x": hp.uniform("x", 0, 1)}, max_evals=3, trials=reread, show_progressbar=False)
    assert all("model" not in r and r["curve"] == [0.5, 0.25] for r in reread.results)


def test_fmin_fills_hyperopts_own_trials_as_hyperopt_does_and_they_still_pickle():
    space = lstm_space()
    theirs = hyperopt.Trials()
    best = kl.fmin(lambda p: p["lr"], space, algo=hyperopt.tpe.suggest, max_evals=8, trials=theirs,
                   show_progressbar=False)  # fmt: skip
    assert len(theirs.trials) == 8 and best == theirs.argmin
    assert space_eval(space, best)["lr"] == min(theirs.losses())
    again = pickle.loads(pickle.dumps(theirs))
    assert again.losses() == theirs.losses()
    kl.fmin(lambda p: p["lr"], space, algo=hyperopt.tpe.suggest, max_evals=11, trials=theirs, show_progressbar=False)
    assert len(theirs.trials) == 11  # the same Trials again: max_evals counts what it holds


def test_trials_from_a_hyperopt_run_are_imported_and_the_search_goes_on():
    space = {"x": hp.uniform("x", -3, 3), "k": hp.choice("k", ["a", "b"])}
    theirs = hyperopt.Trials()
    hyperopt.fmin(lambda p: p["x"] ** 2, space, algo=hyperopt.rand.suggest, max_evals=6, trials=theirs,
                  rstate=np.random.default_rng(0), show_progressbar=False)  # fmt: skip
    losses = theirs.losses()
    theirs = pickle.loads(pickle.dumps(theirs))  # as users keep them between runs
    calls = []
    kl.fmin(lambda p: calls.append(p) or p["x"] ** 2, space, algo=hyperopt.tpe.suggest, max_evals=10,
            trials=theirs, show_progressbar=False)  # fmt: skip
    assert len(calls) == 4 and len(theirs.trials) == 10
    assert theirs.losses()[:6] == pytest.approx(losses)


def test_status_fail_counts_as_a_trial_and_is_never_the_best():
    def fn(p):
        if p["x"] > 0:
            return {"status": STATUS_FAIL, "why": "positive"}
        return {"loss": -p["x"], "status": STATUS_OK}

    trials = Trials()
    best = kl.fmin(fn, {"x": hp.uniform("x", -1, 1)}, algo=hyperopt.rand.suggest, max_evals=20, trials=trials,
                   rstate=np.random.default_rng(3), show_progressbar=False)  # fmt: skip
    assert len(trials) == 20 and "fail" in trials.statuses() and "ok" in trials.statuses()
    assert best["x"] <= 0
    failed = [t for t in trials.experiment.trials if t.state == kl.TrialState.FAILED]
    assert failed and all(t.attrs["hyperopt_result"] == {"status": "fail", "why": "positive"} for t in failed)


def test_an_exception_in_fn_propagates_unless_caught_and_caught_ones_do_not_count():
    def fn(p):
        if p["x"] > 0.5:
            raise ArithmeticError("too big")
        return p["x"]

    trials = Trials()
    with pytest.raises(ArithmeticError, match="too big"):
        kl.fmin(fn, {"x": hp.uniform("x", 0, 1)}, algo=hyperopt.rand.suggest, max_evals=50, trials=trials,
                rstate=np.random.default_rng(0), show_progressbar=False)  # fmt: skip
    failed = [t for t in trials.experiment.trials if t.state == kl.TrialState.FAILED]
    assert len(failed) == 1 and "ArithmeticError: too big" in failed[0].error  # stored before it was raised

    caught = Trials()
    kl.fmin(fn, {"x": hp.uniform("x", 0, 1)}, algo=hyperopt.rand.suggest, max_evals=10, trials=caught,
            catch_eval_exceptions=True, rstate=np.random.default_rng(0), show_progressbar=False)  # fmt: skip
    errors = [d for d in caught._dynamic_trials if d["state"] == 3]
    assert errors and errors[0]["misc"]["error"] == ("ArithmeticError", "too big")
    assert len(caught.trials) + len(errors) == 10  # as hyperopt: max_evals - len(trials) new trials per call
    kl.fmin(fn, {"x": hp.uniform("x", 0, 1)}, algo=hyperopt.rand.suggest, max_evals=10, trials=caught,
            catch_eval_exceptions=True, show_progressbar=False)  # fmt: skip
    assert len(caught._dynamic_trials) == 10 + len(errors)


def test_the_same_counts_as_hyperopts_fmin_for_errors_and_points_to_evaluate():
    def run(fmin, trials):
        calls = []

        def fn(p):
            calls.append(p)
            if len(calls) % 3 == 0:
                raise RuntimeError("every third")
            return p["x"] ** 2

        for max_evals in (5, 8):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fmin(fn, {"x": hp.uniform("x", -1, 1)}, algo=hyperopt.rand.suggest, max_evals=max_evals,
                     trials=trials, catch_eval_exceptions=True, show_progressbar=False)  # fmt: skip
        points = []
        fmin(lambda p: points.append(p) or 0.0, {"x": hp.uniform("x", -1, 1)}, algo=hyperopt.rand.suggest,
             max_evals=4, points_to_evaluate=[{"x": 0.5}, {"x": -0.25}], show_progressbar=False)  # fmt: skip
        return len(calls), len(trials.trials), len(points), points[:2]

    import logging

    logging.getLogger("hyperopt").setLevel(logging.CRITICAL)
    assert run(kl.fmin, Trials()) == run(hyperopt.fmin, hyperopt.Trials())


def test_a_dict_without_status_stops_the_search_with_one_line():
    with pytest.raises(kl.trial.ObjectiveSetupError, match="without 'status'"):
        kl.fmin(lambda p: {"loss": 1.0}, {"x": hp.uniform("x", 0, 1)}, max_evals=3, show_progressbar=False)
    with pytest.raises(kl.trial.ObjectiveSetupError, match="status 'done'"):
        kl.fmin(lambda p: {"loss": 1.0, "status": "done"}, {"x": hp.uniform("x", 0, 1)}, max_evals=3,
                show_progressbar=False)  # fmt: skip
    with pytest.raises(kl.trial.ObjectiveSetupError, match="needs a numeric 'loss'"):
        kl.fmin(lambda p: {"status": STATUS_OK}, {"x": hp.uniform("x", 0, 1)}, max_evals=3, show_progressbar=False)


def test_a_named_search_is_stored_and_a_rerun_continues_it(sqlite_url):
    calls = []

    def fn(p):
        calls.append(p)
        return {"loss": p["lr"], "status": STATUS_OK}

    first = kl.fmin(fn, lstm_space(), algo=hyperopt.tpe.suggest, max_evals=6, name="lstm", storage=sqlite_url,
                    show_progressbar=False)  # fmt: skip
    again = kl.fmin(fn, lstm_space(), algo=hyperopt.tpe.suggest, max_evals=6, name="lstm", storage=sqlite_url,
                    show_progressbar=False)  # fmt: skip
    assert len(calls) == 6 and first == again  # nothing run twice
    kl.fmin(fn, lstm_space(), algo=hyperopt.tpe.suggest, max_evals=9, trials=Trials("lstm", sqlite_url),
            show_progressbar=False)  # fmt: skip
    assert len(calls) == 9
    exp = kl.Experiment.load("lstm", storage=sqlite_url)
    assert len(exp.trials) == 9 and exp.metric == "loss" and exp.direction == "min"
    assert pickle.loads(pickle.dumps(Trials("lstm", sqlite_url))).name == "lstm"


def test_trials_save_file_keeps_the_search_in_that_file(tmp_path):
    path = tmp_path / "search.trials"
    calls = []
    for max_evals in (4, 6):
        kl.fmin(lambda p: calls.append(p) or p["x"], {"x": hp.uniform("x", 0, 1)}, max_evals=max_evals,
                trials_save_file=str(path), show_progressbar=False)  # fmt: skip
    assert len(calls) == 6 and path.exists()


def test_early_stop_fn_loss_threshold_and_timeout_end_the_search():
    counts = []
    for fmin, trials in ((kl.fmin, Trials()), (hyperopt.fmin, hyperopt.Trials())):
        fmin(lambda p: 1.0, {"x": hp.uniform("x", 0, 1)}, max_evals=100, trials=trials,
             early_stop_fn=no_progress_loss(5), show_progressbar=False)  # fmt: skip
        counts.append(len(trials))
    assert counts[0] == counts[1] < 10  # stopped where hyperopt stops
    trials = Trials()
    kl.fmin(lambda p: p["x"], {"x": hp.uniform("x", 0, 1)}, algo=hyperopt.rand.suggest, max_evals=500,
            trials=trials, loss_threshold=0.2, rstate=np.random.default_rng(0), show_progressbar=False)  # fmt: skip
    assert len(trials) < 500 and min(trials.losses()) <= 0.2 and all(v > 0.2 for v in trials.losses()[:-1])
    started = time.monotonic()
    kl.fmin(lambda p: time.sleep(0.05) or p["x"], {"x": hp.uniform("x", 0, 1)}, timeout=0.5, show_progressbar=False)
    assert time.monotonic() - started < 5


def test_return_argmin_false_gives_the_point_and_rstate_repeats_the_search():
    space = classifier_space()
    runs = []
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            point = kl.fmin(lambda p: len(str(p)), space, algo=hyperopt.tpe.suggest, max_evals=12,
                            rstate=np.random.default_rng(7), return_argmin=False, show_progressbar=False)  # fmt: skip
        runs.append(point)
    assert runs[0] == runs[1] and runs[0]["type"] in ("naive_bayes", "svm", "dtree")


def test_algorithms_map_to_our_strategies():
    from knoblab.compat.hyperopt import _strategy
    from knoblab.strategies.tpe import TPESearch

    assert _strategy(hyperopt.tpe.suggest) == "tpe" and _strategy(None) == "tpe"
    assert _strategy(hyperopt.rand.suggest) == "random"
    assert _strategy(hyperopt.anneal.suggest) == "tpe"
    tuned = _strategy(functools.partial(hyperopt.tpe.suggest, n_startup_jobs=3, n_EI_candidates=50))
    assert isinstance(tuned, TPESearch) and (tuned.n_startup, tuned.n_candidates) == (3, 50)
    assert _strategy("gp") == "gp"
    trials = Trials()
    kl.fmin(lambda p: p["x"], {"x": hp.uniform("x", 0, 1)}, algo=hyperopt.rand.suggest, max_evals=3, trials=trials,
            show_progressbar=False)  # fmt: skip
    assert {t.attrs["source"] for t in trials.experiment.trials} == {"random"}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_evals": -1}, "max_evals: got -1"),
        ({"max_evals": None}, "give a budget"),
        ({"algo": print}, "algo: got"),
        ({"timeout": 0}, "timeout: got 0"),
        ({"rstate": "seed"}, "rstate: got 'seed'"),
        ({"trials": object()}, "trials: got object"),
        ({"pass_expr_memo_ctrl": True}, "pass_expr_memo_ctrl"),
        ({"n_jobs": 0}, "n_jobs: got 0"),
        ({"sigmas": 0}, "sigmas: got 0"),
        ({"name": ""}, "name: got ''"),
        ({"trials": Trials(), "name": "x"}, "name / storage"),
        ({"points_to_evaluate": [{"y": 1}]}, "points_to_evaluate\\[0\\]: knob 'y'"),
    ],
)
def test_bad_arguments_get_one_line_naming_the_argument(kwargs, message):
    kwargs = {"max_evals": 3, "show_progressbar": False, **kwargs}
    with pytest.raises(ValueError, match=message) as e:
        kl.fmin(lambda p: 0.0, {"x": hp.uniform("x", 0, 1)}, **kwargs)
    assert "\n" not in str(e.value)


def test_an_unnamed_trials_refuses_pickling_with_the_reason():
    with pytest.raises(TypeError, match="temporary database"):
        pickle.dumps(Trials())


def test_fmin_on_a_knoblab_space_needs_no_hyperopt(tmp_path):
    code = (
        "import sys; sys.modules['hyperopt'] = None\n"  # importing hyperopt would fail
        "import knoblab as kl\n"
        "best = kl.fmin(lambda p: (p['x'] - 0.3) ** 2 + (p['k'] != 'b'), {'x': kl.Real(0, 1), 'k': ['a', 'b']},\n"
        "               max_evals=25, rstate=0, show_progressbar=False)\n"
        "assert best['k'] == 'b' and abs(best['x'] - 0.3) < 0.2, best\n"
        "print('ok')\n"
    )
    src = str(Path(kl.__file__).resolve().parents[1])  # this checkout's knoblab, not an installed one
    env = {**os.environ, "PYTHONPATH": src}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


def test_an_annotated_space_as_hyperopt_reads_it():
    def fn(x: hp.uniform("x", -1, 1), y: hp.choice("y", [0, 10])):  # noqa: F821 - hyperopt's annotation style
        return x**2 + y

    best = kl.fmin(fn, "annotated", algo=hyperopt.tpe.suggest, max_evals=15, rstate=np.random.default_rng(0),
                   show_progressbar=False)  # fmt: skip
    assert best["y"] == 0 and set(best) == {"x", "y"}


def _square(point):  # module level, so worker processes can import it
    return (point["x"] - 0.5) ** 2


@pytest.mark.slow
def test_n_jobs_runs_trials_in_worker_processes(tmp_path):
    trials = Trials(name="par", storage=f"sqlite:///{tmp_path / 'p.db'}")
    best = kl.fmin(_square, {"x": hp.uniform("x", 0, 1)}, algo=hyperopt.rand.suggest, max_evals=6, trials=trials,
                   n_jobs=2, show_progressbar=False)  # fmt: skip
    assert len(trials) == 6 and 0 <= best["x"] <= 1
    assert len({t.attrs.get("pid") for t in trials.experiment.trials}) >= 1
