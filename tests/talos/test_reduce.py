"""Talos' reducers as knoblab rounds: which value each drops, from synthetic rounds, then inside real scans."""

import json

import pytest

import knoblab.talos as talos
from knoblab.talos import reduce
from knoblab.trial import FrozenTrial, TrialState

from .conftest import iris_model, keras

SPACE = {"units": [4, 8, 16], "act": ["relu", "elu"]}


def _trials(rows, metric="val_acc"):
    return [
        FrozenTrial(id=i, number=i, state=TrialState.COMPLETE, params=p, value=v, metrics={metric: v})
        for i, (p, v) in enumerate(rows)
    ]


# elu rounds score low, whatever the units: elu is the value that goes with worse val_acc
ROWS = [({"units": u, "act": a}, (0.9 if a == "relu" else 0.3) + 0.01 * i) for i, (u, a) in
        enumerate([(4, "relu"), (8, "elu"), (16, "relu"), (4, "elu"), (8, "relu"), (16, "elu")])]  # fmt: skip


@pytest.mark.parametrize("method", ["correlation", "spearman", "pearson", "kendall"])
def test_a_correlation_reducer_drops_the_value_that_goes_with_worse_results(method):
    drop = reduce.correlation_drop(
        _trials(ROWS), SPACE, method=method, metric="val_acc", minimize=False, threshold=0.2, window=20
    )
    assert (drop.knob, drop.values) == ("act", ["elu"])
    assert drop.why.startswith(f"{method}: act='elu' goes with lower val_acc (r=-")


def test_minimize_loss_reverses_what_worse_means():
    rows = [(p, v) for p, v in ROWS]  # read as a loss, the high scores of relu are the bad ones
    drop = reduce.correlation_drop(
        _trials(rows, "loss"), SPACE, method="spearman", metric="loss", minimize=True, threshold=0.2, window=20
    )
    assert (drop.knob, drop.values) == ("act", ["relu"]) and "higher loss" in drop.why


def test_a_correlation_below_the_threshold_or_too_few_rounds_drops_nothing():
    kwargs = dict(method="spearman", metric="val_acc", minimize=False, window=20)
    assert reduce.correlation_drop(_trials(ROWS), SPACE, threshold=0.99, **kwargs) is None
    assert reduce.correlation_drop(_trials(ROWS[:2]), SPACE, threshold=0.0, **kwargs) is None


def test_the_window_reads_only_the_last_rounds():
    rows = ROWS + [({"units": 4, "act": "elu"}, 0.95), ({"units": 8, "act": "relu"}, 0.2),
                   ({"units": 16, "act": "elu"}, 0.96), ({"units": 4, "act": "relu"}, 0.25)]  # fmt: skip
    drop = reduce.correlation_drop(
        _trials(rows), SPACE, method="spearman", metric="val_acc", minimize=False, threshold=0.2, window=4
    )
    assert (drop.knob, drop.values) == ("act", ["relu"])  # in the last 4 rounds relu is the bad one


def test_a_missing_reduction_metric_says_which_ones_there_are():
    with pytest.raises(
        ValueError, match=r"reduction_metric='val_f1' is not among the metrics the model logs \(\['val_acc'\]\)"
    ):
        reduce.correlation_drop(
            _trials(ROWS), SPACE, method="spearman", metric="val_f1", minimize=False, threshold=0.2, window=20
        )


@pytest.mark.parametrize("method", ["forrest", "trees"])
def test_a_forest_reducer_drops_the_value_that_explains_least(method):
    # act decides the metric; units 16 is in rounds of both kinds, so it explains nothing
    rows = [({"units": u, "act": a}, (0.9 if a == "relu" else 0.3) + (0.05 if u == 4 else 0.0))
            for u, a in [(4, "relu"), (8, "elu"), (16, "relu"), (16, "elu"), (4, "elu"), (8, "relu"),
                         (16, "relu"), (16, "elu"), (4, "relu"), (8, "elu")]]  # fmt: skip
    drop = reduce.importance_drop(_trials(rows), SPACE, method=method, metric="val_acc", window=20, seed=0)
    assert drop.knob == "units" and drop.values in ([8], [16])
    assert f"{method}: units=" in drop.why and "explains least" in drop.why


def test_a_value_in_every_round_of_the_window_is_never_dropped():
    rows = [({"units": 4, "act": a}, v) for a, v in [("relu", 0.9), ("elu", 0.2), ("relu", 0.8), ("elu", 0.1)]]
    drop = reduce.importance_drop(_trials(rows), SPACE, method="forrest", metric="val_acc", window=20)
    assert drop is None or drop.knob == "act"  # units=4 is constant: it says nothing


def test_gamify_drops_what_the_file_switches_off(tmp_path):
    g = reduce.Gamify(tmp_path / "id.json", SPACE)
    assert g.drops(SPACE) == []  # no file yet
    g.export(SPACE)
    state = json.loads((tmp_path / "id.json").read_text())
    assert state["0"]["1"] == ["active", 0, "units", "8"] and state["1"]["0"] == ["active", 0, "act", "relu"]
    state["0"]["1"][0] = "inactive"
    (tmp_path / "id.json").write_text(json.dumps(state))
    (drop,) = g.drops(SPACE)
    assert (drop.knob, drop.values) == ("units", [8]) and "switched off in id.json" in drop.why
    g.export({"units": [4, 16], "act": ["relu", "elu"]})
    assert json.loads((tmp_path / "id.json").read_text())["0"]["1"][0] == "disabled"
    assert g.drops({"units": [4, 16], "act": ["relu", "elu"]}) == []  # already gone


def test_the_param_object_of_a_local_strategy():
    view = reduce.ParamObject(SPACE, round_counter=3)
    view.remove_is("units", 8)
    view.remove_ge("units", 16)
    view.remove_is_not("act", "relu")
    assert [(d.knob, d.values) for d in view.drops] == [("units", [8]), ("units", [16]), ("act", ["elu"])]
    with pytest.raises(ValueError, match="param_object: no knob 'layers'"):
        view.remove_le("layers", 2)
    with pytest.raises(NotImplementedError, match="remove_lambda: knoblab narrows a space value by value"):
        view.remove_lambda(lambda p: True)


def test_a_local_strategy_file_is_read_afresh_each_time(tmp_path, capsys):
    class Scan:
        pass

    assert reduce.local_drops(Scan(), SPACE, 1, tmp_path) == []
    assert "No talos_strategy.py found in pwd. Nothing is done." in capsys.readouterr().out
    (tmp_path / "talos_strategy.py").write_text(
        "def talos_strategy(scan_object):\n    scan_object.param_object.remove_is('units', 4)\n    return scan_object\n"
    )
    assert [(d.knob, d.values) for d in reduce.local_drops(Scan(), SPACE, 1, tmp_path)] == [("units", [4])]
    (tmp_path / "talos_strategy.py").write_text("def talos_strategy(scan_object):\n    return 'act', 'elu'\n")
    assert [(d.knob, d.values) for d in reduce.local_drops(Scan(), SPACE, 2, tmp_path)] == [("act", ["elu"])]


# ---- inside real scans ----
P = {"first_neuron": [2, 4, 8, 16], "activation": ["relu", "elu"], "batch_size": [16], "epochs": [2]}


def test_a_reduction_starts_a_round_without_the_value_and_it_never_runs_again(small_iris, capsys):
    x, y = small_iris
    scan = talos.Scan(
        x, y, P, iris_model, "red", reduction_method="correlation", reduction_interval=4, reduction_window=3,
        reduction_threshold=0.0, reduction_metric="val_loss", minimize_loss=True, disable_progress_bar=True, seed=1,
    )  # fmt: skip
    rounds = scan.experiment.rounds
    assert len(rounds) >= 2 and rounds[1]["reason"].startswith("talos reduction: correlation: ")
    assert "permutations reduced" in capsys.readouterr().out
    dropped = [(k, v) for k, spec in P.items() for v in spec if v not in scan._space[k]]
    assert dropped, "a reduction with threshold 0 drops a value"
    spaces = {r["round"]: r["space"] for r in rounds}
    for _, row in scan.data.iterrows():  # every round ran within the space of its round
        for knob in P:
            assert row[knob] in spaces[row["round"]][knob]["choices"], (row["round"], knob, row[knob])
    assert len(set(map(tuple, scan.data[list(P)].values))) == len(scan.data)  # no permutation ran twice
    # a rerun with the same dict continues in the narrowed round
    again = talos.Scan(
        x, y, P, iris_model, "red", reduction_method="correlation", reduction_interval=4, reduction_window=3,
        reduction_threshold=0.0, reduction_metric="val_loss", minimize_loss=True, disable_progress_bar=True, seed=1,
    )  # fmt: skip
    assert again.experiment.round == scan.experiment.round and again._space == scan._space
    assert len(again.data) == len(scan.data)


def test_gamify_in_a_scan_writes_the_file_and_obeys_it(small_iris):
    x, y = small_iris
    p = {**P, "first_neuron": [2, 4]}
    scan = talos.Scan(x, y, p, iris_model, "gam", round_limit=1, reduction_method="gamify", disable_progress_bar=True)
    path = scan._folder / f"{scan.experiment_id}.json"
    state = json.loads(path.read_text())
    state["1"]["1"][0] = "off"  # activation elu
    path.write_text(json.dumps(state))
    again = talos.Scan(x, y, p, iris_model, "gam", round_limit=3, reduction_method="gamify", disable_progress_bar=True)
    assert "elu" not in list(again.data["activation"][1:]) and again._space["activation"] == ["relu"]


def test_local_strategy_in_a_scan(small_iris):
    x, y = small_iris
    with open("talos_strategy.py", "w") as f:
        f.write("def talos_strategy(scan_object):\n")
        f.write("    assert len(scan_object.data) == scan_object.param_object.round_counter\n")
        f.write("    scan_object.param_object.remove_le('first_neuron', 4)\n")
        f.write("    return scan_object\n")
    scan = talos.Scan(
        x, y, P, iris_model, "loc", round_limit=4, reduction_method="local_strategy", reduction_interval=2,
        disable_progress_bar=True,
    )  # fmt: skip
    assert scan._space["first_neuron"] == [8, 16]
    assert set(scan.data["first_neuron"][2:]) <= {8, 16}


def test_narrowing_an_object_valued_knob_and_continuing_it(small_iris):
    x, y = small_iris
    relu, elu = keras.activations.relu, keras.activations.elu
    p = {**P, "first_neuron": [2, 4, 8, 16], "activation": [relu, elu]}  # 4 elu permutations: 3 rounds leave one
    with open("talos_strategy.py", "w") as f:
        f.write("import keras\n\n\ndef talos_strategy(scan_object):\n")
        f.write("    scan_object.param_object.remove_is('activation', keras.activations.relu)\n")
        f.write("    return scan_object\n")
    kwargs = dict(
        round_limit=3, reduction_method="local_strategy", reduction_interval=2, disable_progress_bar=True, seed=0
    )
    scan = talos.Scan(x, y, p, iris_model, "objred", **kwargs)
    assert scan._space["activation"] == [elu] and list(scan.data["activation"][1:]) == ["elu", "elu"]
    again = talos.Scan(x, y, p, iris_model, "objred", **{**kwargs, "round_limit": 4})
    assert again.experiment.round == 1 and again._space["activation"] == [elu]
    assert list(again.data["activation"][3:]) == ["elu"]
