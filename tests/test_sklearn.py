"""knoblab.sklearn: scikit-learn's search estimators on knoblab's strategies and storage.

scikit-learn is the reference: its own GridSearchCV gives the cv_results_ ours must match, and its own estimator
checks run on ours with the same instances and expected failures as on its GridSearchCV."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is in the keras and analysis extras")

from scipy.stats import loguniform, randint, uniform  # noqa: E402
from sklearn import model_selection as ms  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris, make_classification  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import FitFailedWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import knoblab as kl  # noqa: E402
from knoblab.sklearn import FoldPruner, GridSearchCV, RandomizedSearchCV, SearchCV  # noqa: E402

IRIS = load_iris(return_X_y=True)


def assert_same_results(ours, theirs):
    """The same cv_results_ as scikit-learn's (times aside): keys in order, scores, ranks, params, masks."""
    a, b = ours.cv_results_, theirs.cv_results_
    assert list(a) == list(b)
    for key in b:
        if "time" in key:
            assert a[key].shape == b[key].shape and a[key].dtype == b[key].dtype
        elif key == "params":
            assert a[key] == b[key]
        elif key.startswith("param_"):
            assert a[key].dtype == b[key].dtype
            assert np.array_equal(np.ma.getmaskarray(a[key]), np.ma.getmaskarray(b[key]))
            assert list(a[key].compressed()) == list(b[key].compressed())
        else:
            assert a[key].dtype == b[key].dtype, key
            np.testing.assert_allclose(a[key], b[key], rtol=1e-12, err_msg=key)
    for attr in ("best_index_", "best_params_", "best_score_", "n_splits_", "multimetric_"):
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr


# ---- the same results as scikit-learn's own GridSearchCV ----
@pytest.mark.parametrize(
    "estimator, grid, kwargs",
    [
        (SVC(), {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}, {"cv": 5, "return_train_score": True}),
        (Ridge(), {"alpha": np.logspace(-3, 2, 6), "fit_intercept": [True, False]}, {"scoring": "r2", "cv": 3}),
        (
            LogisticRegression(max_iter=500),
            {"C": [0.01, 0.1, 1.0]},
            {"scoring": ["accuracy", "f1_macro"], "refit": "f1_macro", "cv": StratifiedKFold(4)},
        ),
        (
            DecisionTreeClassifier(random_state=0),
            {"max_depth": [None, 2, 4], "criterion": ["gini", "entropy"]},
            {"scoring": {"acc": "accuracy", "bal": "balanced_accuracy"}, "refit": False, "cv": 3},
        ),
        (
            Pipeline([("scale", StandardScaler()), ("svc", SVC())]),
            {"svc__C": [0.5, 5.0], "svc__gamma": ["scale", 0.1]},
            {"cv": KFold(3, shuffle=True, random_state=1), "refit": lambda r: int(np.argmax(r["mean_test_score"]))},
        ),
    ],
    ids=["svc", "ridge-r2", "multimetric", "no-refit", "pipeline-callable-refit"],
)
def test_grid_search_gives_scikit_learns_cv_results(estimator, grid, kwargs):
    X, y = IRIS if estimator.__class__ is not Ridge else (IRIS[0][:, :3], IRIS[0][:, 3])
    ours = GridSearchCV(estimator, grid, **kwargs).fit(X, y)
    theirs = ms.GridSearchCV(estimator, grid, **kwargs).fit(X, y)
    assert_same_results(ours, theirs)
    if kwargs.get("refit", True) is not False:
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert ours.score(X, y) == theirs.score(X, y)
    else:
        assert not hasattr(ours, "best_estimator_")
        with pytest.raises(AttributeError):
            ours.predict(X)


def test_a_list_of_param_grids_is_searched_as_scikit_learn_does_without_the_hidden_knob():
    grid = [{"kernel": ["linear"], "C": [1, 10]}, {"kernel": ["rbf"], "C": [1, 10], "gamma": [0.1, 1.0]}]
    ours = GridSearchCV(SVC(), grid, cv=3).fit(*IRIS)
    theirs = ms.GridSearchCV(SVC(), grid, cv=3).fit(*IRIS)
    assert_same_results(ours, theirs)
    assert all("_grid" not in p for p in ours.cv_results_["params"])
    assert not any(k.startswith("param__") for k in ours.cv_results_)


def test_estimators_as_values_in_a_pipeline_grid():
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    grid = [{"clf": [SVC()], "clf__C": [0.1, 1.0]}, {"clf": [LogisticRegression(max_iter=300)], "clf__C": [1.0]}]
    ours = GridSearchCV(pipe, grid, cv=3).fit(*IRIS)
    theirs = ms.GridSearchCV(pipe, grid, cv=3).fit(*IRIS)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"])
    assert repr(ours.best_params_) == repr(theirs.best_params_)
    assert type(ours.best_estimator_.named_steps["clf"]) is type(theirs.best_estimator_.named_steps["clf"])


# ---- RandomizedSearchCV and SearchCV ----
def test_randomized_search_draws_scipy_distributions_within_their_support_and_repeats_with_random_state():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    space = {"C": loguniform(1e-3, 1e2), "max_iter": randint(50, 200), "tol": uniform(1e-4, 1e-3)}
    runs = [RandomizedSearchCV(LogisticRegression(), space, n_iter=6, cv=3, random_state=4).fit(X, y) for _ in range(2)]
    params = runs[0].cv_results_["params"]
    assert len(params) == 6 and params == runs[1].cv_results_["params"]
    for p in params:
        assert 1e-3 <= p["C"] <= 1e2 and 50 <= p["max_iter"] <= 199 and isinstance(p["max_iter"], int)
        assert 1e-4 <= p["tol"] <= 1.1e-3
    assert runs[0].best_score_ == max(runs[0].cv_results_["mean_test_score"])


def test_randomized_search_over_lists_runs_at_most_the_grid_with_scikit_learns_warning():
    with pytest.warns(UserWarning, match="The total space of parameters 3 is smaller than n_iter=10"):
        search = RandomizedSearchCV(SVC(), {"C": [0.1, 1, 10]}, cv=3, random_state=0).fit(*IRIS)
    assert sorted(p["C"] for p in search.cv_results_["params"]) == [0.1, 1, 10]


def test_searchcv_with_tpe_and_knoblab_knobs():
    X, y = make_classification(200, 10, random_state=0)
    space = {"C": kl.Real(1e-3, 1e2, log=True), "penalty": ["l2"], "max_iter": 300}
    search = SearchCV(LogisticRegression(), space, strategy="tpe", n_iter=12, cv=3, random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 12 and all(p["max_iter"] == 300 for p in search.cv_results_["params"])
    assert search.best_score_ == max(search.cv_results_["mean_test_score"])
    with pytest.raises(ValueError, match="n_iter: parameter 'C' is continuous"):
        SearchCV(LogisticRegression(), space, cv=3).fit(X, y)


def test_an_mlp_classifier_tuned_with_tuples_and_distributions():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    space = {"hidden_layer_sizes": [(8,), (16, 8)], "alpha": loguniform(1e-5, 1e-1), "learning_rate_init": [1e-2]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP's ConvergenceWarning at a few iterations
        search = RandomizedSearchCV(
            MLPClassifier(max_iter=60, random_state=0), space, n_iter=4, cv=3, random_state=0
        ).fit(X, y)
    sizes = [p["hidden_layer_sizes"] for p in search.cv_results_["params"]]
    assert set(sizes) <= {(8,), (16, 8)} and all(isinstance(s, tuple) for s in sizes)
    assert search.best_estimator_.hidden_layer_sizes in ((8,), (16, 8)) and search.score(X, y) > 0.8


def test_an_mlp_classifier_gives_scikit_learns_results():
    X, y = make_classification(150, 6, random_state=1)
    grid = {"hidden_layer_sizes": [4, 12], "alpha": [1e-4, 1e-1]}
    mlp = MLPClassifier(max_iter=40, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP's ConvergenceWarning at a few iterations
        ours = GridSearchCV(mlp, grid, cv=3, return_train_score=True).fit(X, y)
        theirs = ms.GridSearchCV(mlp, grid, cv=3, return_train_score=True).fit(X, y)
    assert_same_results(ours, theirs)


@pytest.mark.slow
def test_n_jobs_runs_candidates_in_worker_processes_with_the_same_results():
    ours = GridSearchCV(SVC(), {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}, cv=3, n_jobs=2).fit(*IRIS)
    theirs = ms.GridSearchCV(SVC(), {"C": [0.1, 1, 10], "kernel": ["linear", "rbf"]}, cv=3).fit(*IRIS)
    assert_same_results(ours, theirs)


# ---- scikit-learn's conventions ----
def test_cv_as_an_int_a_splitter_with_groups_and_an_iterable_of_splits():
    X, y = IRIS
    groups = np.arange(len(y)) % 5
    for cv, fit_kwargs in ((4, {}), (GroupKFold(5), {"groups": groups}), (list(KFold(3).split(X)), {})):
        ours = GridSearchCV(SVC(), {"C": [0.5, 2.0]}, cv=cv).fit(X, y, **fit_kwargs)
        theirs = ms.GridSearchCV(SVC(), {"C": [0.5, 2.0]}, cv=cv).fit(X, y, **fit_kwargs)
        assert_same_results(ours, theirs)


def test_a_scoring_callable_and_one_returning_a_dict():
    def accuracy(estimator, X, y):
        return float(np.mean(estimator.predict(X) == y))

    def two(estimator, X, y):
        return {"acc": accuracy(estimator, X, y), "half": accuracy(estimator, X, y) / 2}

    for scoring, refit in ((accuracy, True), (two, "acc")):
        ours = GridSearchCV(SVC(), {"C": [0.1, 1]}, scoring=scoring, refit=refit, cv=3).fit(*IRIS)
        theirs = ms.GridSearchCV(SVC(), {"C": [0.1, 1]}, scoring=scoring, refit=refit, cv=3).fit(*IRIS)
        assert_same_results(ours, theirs)


def test_failing_fits_score_error_score_with_scikit_learns_warning_and_raise_lets_the_error_out(sqlite_url):
    grid = {"C": [1.0, -1.0]}  # SVC refuses C <= 0: those fits fail
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        ours = GridSearchCV(SVC(), grid, cv=3).fit(*IRIS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = ms.GridSearchCV(SVC(), grid, cv=3).fit(*IRIS)
    assert_same_results(ours, theirs)
    scored = GridSearchCV(SVC(), grid, cv=3, error_score=-1.0)
    with pytest.warns(FitFailedWarning):
        scored.fit(*IRIS)
    assert list(scored.cv_results_["mean_test_score"]).count(-1.0) == 1
    raising = GridSearchCV(SVC(), grid, cv=3, error_score="raise", name="r", storage=sqlite_url)
    with pytest.raises(ValueError, match="'C' parameter of SVC"):
        raising.fit(*IRIS)
    failed = [t for t in kl.Experiment.load("r", storage=sqlite_url).trials if t.state == kl.TrialState.FAILED]
    assert len(failed) == 1  # stored before the error was let out


def test_fit_params_are_split_with_the_folds():
    X, y = IRIS
    weights = np.linspace(0.5, 2.0, len(y))
    ours = GridSearchCV(SVC(), {"C": [0.5, 2.0]}, cv=3).fit(X, y, sample_weight=weights)
    theirs = ms.GridSearchCV(SVC(), {"C": [0.5, 2.0]}, cv=3).fit(X, y, sample_weight=weights)
    assert_same_results(ours, theirs)


def test_verbose_says_how_many_fits(capsys):
    GridSearchCV(SVC(), {"C": [0.5, 2.0]}, cv=3, verbose=1).fit(*IRIS)
    assert "Fitting 3 folds for each of 2 candidates, totalling 6 fits" in capsys.readouterr().out


class CountingSVC(SVC):
    """An SVC that counts its fits (class-wide), to see what a rerun runs again."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


# ---- storage: a named search continues ----
@pytest.mark.parametrize(
    "make",
    [
        lambda n, **kw: SearchCV(CountingSVC(), {"C": kl.Real(1e-2, 1e2, log=True), "kernel": ["linear", "rbf"]},
                                 strategy="random", n_iter=n, **kw),
        pytest.param(
            lambda n, **kw: RandomizedSearchCV(CountingSVC(), {"C": loguniform(1e-2, 1e2), "kernel": ["linear", "rbf"]},
                                               n_iter=n, **kw),
        ),
    ],
    ids=["searchcv-knobs", "randomized-scipy"],
)  # fmt: skip
def test_a_named_search_continues_and_refuses_other_data(sqlite_url, make):
    X, y = IRIS
    kwargs = {"cv": 3, "random_state": 0, "name": "svc", "storage": sqlite_url}
    CountingSVC.fits = 0
    first = make(5, **kwargs).fit(X, y)
    assert CountingSVC.fits == 5 * 3 + 1
    CountingSVC.fits = 0
    again = make(5, **kwargs).fit(X, y)
    assert CountingSVC.fits == 1  # only the refit: every candidate came from the storage
    assert again.cv_results_["params"] == first.cv_results_["params"] and again.best_params_ == first.best_params_
    CountingSVC.fits = 0
    more = make(7, **kwargs).fit(X, y)
    assert CountingSVC.fits == 2 * 3 + 1 and len(more.cv_results_["params"]) == 7
    assert more.experiment_name_ == "svc" and len(kl.Experiment.load("svc", storage=sqlite_url).trials) == 7
    with pytest.raises(ValueError, match="name: experiment 'svc' was fitted with another X, y or groups") as e:
        make(5, **kwargs).fit(X[:120], y[:120])
    assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="cv folds"):
        make(5, **{**kwargs, "cv": KFold(3, shuffle=True, random_state=2)}).fit(X, y)


def test_an_unnamed_search_is_fresh_each_fit_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    CountingSVC.fits = 0
    search = GridSearchCV(CountingSVC(), {"C": [0.5, 2.0]}, cv=3)
    search.fit(*IRIS)
    search.fit(*IRIS)
    assert CountingSVC.fits == 2 * (2 * 3 + 1)
    assert list(tmp_path.iterdir()) == [] and search.experiment_name_ is None


# ---- per-fold pruning ----
def test_pruning_stops_hopeless_candidates_after_a_fold_and_ranks_them_last():
    X, y = make_classification(300, 10, n_informative=4, random_state=0)
    grid = {"C": [1e-5, 1e-4, 1.0, 3.0, 10.0, 1e-6, 30.0, 2e-6, 5.0, 1e-5 * 3]}  # the tiny Cs are hopeless
    CountingSVC.fits = 0
    search = GridSearchCV(CountingSVC(kernel="linear"), grid, cv=5, pruning=FoldPruner(n_startup=3)).fit(X, y)
    results = search.cv_results_
    pruned = results["pruned"]
    assert pruned.any() and CountingSVC.fits < len(grid["C"]) * 5 + 1
    for i in np.flatnonzero(pruned):
        folds = [results[f"split{k}_test_score"][i] for k in range(5)]
        assert np.isnan(folds[-1])  # the folds it did not run
        assert results["params"][i]["C"] < 1e-3  # only hopeless candidates were stopped
        assert results["rank_test_score"][i] > max(results["rank_test_score"][~pruned])
    assert not pruned[search.best_index_] and search.best_params_["C"] >= 1.0


def test_the_fold_pruner_rule_on_a_stored_experiment(sqlite_url):
    exp = kl.Experiment("rule", {"c": kl.Real(0, 1)}, metric="mean_test_score", direction="max", storage=sqlite_url)
    for means in ([0.9, 0.9, 0.9], [0.8, 0.82, 0.81], [0.7, 0.72, 0.7]):
        trial = exp.ask(1)[0]
        for k, m in enumerate(means):
            trial.report(k, mean_test_score=m)
        exp.tell(trial, means[-1])
    rule = FoldPruner(n_startup=3)
    running = exp.ask(1)[0]
    running.report(0, mean_test_score=0.85)  # above the median (0.8) of fold 0's means
    assert not rule.should_stop(exp, running)
    running.report(1, mean_test_score=0.75)  # below the median (0.82) of the means over folds 0..1
    assert rule.should_stop(exp, running)
    assert not FoldPruner(n_startup=4).should_stop(exp, running)  # too few finished candidates to judge
    assert not FoldPruner(n_startup=3, min_folds=3).should_stop(exp, running)


# ---- bad input: one line naming the argument ----
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: GridSearchCV(SVC(), {"C": 1.0}), "param_grid: parameter 'C' needs a list"),
        (lambda: GridSearchCV(SVC(), {"C": uniform(0, 1)}), "param_grid: parameter 'C' is a distribution"),
        (lambda: GridSearchCV(SVC(), {"C": []}), "param_grid: knob 'C'"),
        (lambda: GridSearchCV(SVC(), [{"C": [1]}, {}]), "param_grid\\[1\\]: got an empty dict"),
        (lambda: RandomizedSearchCV(SVC(), {"C": 3}), "param_distributions: parameter 'C' is not iterable"),
        (lambda: SearchCV(SVC(), "C"), "param_space: got str"),
        (lambda: GridSearchCV(SVC(), {"C": [1]}, scoring="nope"), "scoring: got 'nope'"),
        (lambda: GridSearchCV(SVC(), {"C": [1]}, scoring=["accuracy", "f1_macro"]), "refit: for multi-metric"),
        (lambda: GridSearchCV(SVC(), {"C": [1]}, n_jobs=0), "n_jobs: got 0"),
        (lambda: GridSearchCV(SVC(), {"C": [1]}, error_score="skip"), "error_score: got 'skip'"),
        (lambda: SearchCV(SVC(), {"C": [1]}, n_iter=0), "n_iter: got 0"),
        (lambda: SearchCV(SVC(), {"C": [1]}, strategy="best"), "strategy: got 'best'"),
        (lambda: SearchCV(SVC(), {"C": [1]}, pruning="soon"), "pruning: scheduler: got 'soon'"),
        (lambda: SearchCV(SVC(), {"C": [1]}, name=""), "name: got ''"),
        (lambda: SearchCV(SVC(), {"C": [1]}, random_state="x"), "random_state: got 'x'"),
        (lambda: FoldPruner(quantile=1.5), "quantile: got 1.5"),
    ],
)
def test_bad_input_gets_one_line_naming_the_argument(make, message):
    with pytest.raises(ValueError, match=message) as e:
        make().fit(*IRIS)
    assert "\n" not in str(e.value)


# ---- scikit-learn's own estimator checks, on the instances and with the expected failures of its GridSearchCV ----
def _check_instances():
    cases = [
        (Ridge(), "alpha"),
        (LogisticRegression(), "C"),
        (Pipeline([("pca", PCA()), ("ridge", Ridge())]), "ridge__alpha"),
        (Pipeline([("pca", PCA()), ("logisticregression", LogisticRegression())]), "logisticregression__C"),
    ]
    # scikit-learn's instances for its GridSearchCV: a regressor, a classifier, a pipeline of each; one class each
    # (they share every method but the strategy), so the checks stay within minutes on two cores
    out = [
        GridSearchCV(cases[0][0], {"alpha": [0.1, 1.0]}, cv=2, error_score="raise"),
        GridSearchCV(cases[3][0], {"logisticregression__C": [0.1, 1.0]}, cv=2, error_score="raise"),
        RandomizedSearchCV(cases[1][0], {"C": [0.1, 1.0]}, cv=2, error_score="raise", random_state=0),
        SearchCV(cases[2][0], {"ridge__alpha": [0.1, 1.0]}, cv=2, error_score="raise"),
    ]
    return out


# what scikit-learn expects its own GridSearchCV and RandomizedSearchCV to fail (its _test_common/instance_generator)
SKLEARNS_EXPECTED_FAILURES = {
    "check_supervised_y_2d": "DataConversionWarning not caught",
    "check_requires_y_none": "Doesn't fail gracefully",
}


@pytest.mark.slow
@parametrize_with_checks(_check_instances(), expected_failed_checks=lambda e: SKLEARNS_EXPECTED_FAILURES)
def test_scikit_learns_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


# ---- a Keras classifier wrapped by scikeras, as in walkthrough 004 ----
def create_model(units=8, activation="relu", dropout=0.0):
    """Walkthrough 004's create_model(hparams1=dvalue, ...): the knobs are the model function's arguments."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(units, activation=activation),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def keras_classifier():
    scikeras = pytest.importorskip("scikeras.wrappers", reason="scikeras is in the scikeras extra")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # build_fn is scikeras' deprecated name for model=, as 004 writes it
        return scikeras.KerasClassifier(
            build_fn=create_model, units=8, activation="relu", dropout=0.0, epochs=2, batch_size=16, verbose=0
        )


def tiny_binary():
    X, y = make_classification(96, 8, random_state=0)
    return X.astype("float32"), y


@pytest.mark.keras
def test_a_scikeras_classifier_in_grid_search_as_walkthrough_004_writes_it():
    x, y = tiny_binary()
    param_grid = dict(units=[4, 8], activation=["relu", "tanh"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grid_result = GridSearchCV(estimator=keras_classifier(), param_grid=param_grid, n_jobs=1, cv=2).fit(x, y)
    means = grid_result.cv_results_["mean_test_score"]
    stds = grid_result.cv_results_["std_test_score"]
    params = grid_result.cv_results_["params"]
    assert len(means) == len(stds) == len(params) == 4 and all(0 <= m <= 1 for m in means)
    assert grid_result.best_params_ in params and grid_result.best_score_ == max(means)
    assert set(grid_result.predict(x[:5])) <= {0, 1} and grid_result.predict_proba(x[:5]).shape == (5, 2)
    assert grid_result.best_estimator_.model_.layers[0].units == grid_result.best_params_["units"]


@pytest.mark.keras
@pytest.mark.slow
def test_a_scikeras_classifier_in_randomized_search_with_scipy_distributions(sqlite_url):
    x, y = tiny_binary()
    param_dist = dict(units=randint(2, 12), activation=["relu", "tanh"], dropout=uniform(0, 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = RandomizedSearchCV(
            estimator=keras_classifier(), param_distributions=param_dist, n_iter=3, cv=2, random_state=0,
            pruning=True, name="keras", storage=sqlite_url,
        ).fit(x, y)  # fmt: skip
    assert len(search.cv_results_["params"]) == 3
    for p in search.cv_results_["params"]:
        assert 2 <= p["units"] <= 11 and 0 <= p["dropout"] <= 0.5
    exp = kl.Experiment.load("keras", storage=sqlite_url)
    assert [len(t.reports or exp.trial(t.number).reports) for t in exp.trials] == [2, 2, 2]  # one report per fold
