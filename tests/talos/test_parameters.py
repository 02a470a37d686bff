"""ParamSpace and DistributeParamSpace: Talos' explicit permutation lists, and a Scan that runs exactly them."""

import pytest

import knoblab.talos as talos
from knoblab.talos.exceptions import TalosDataError
from knoblab.talos.parameters import DistributeParamSpace, ParamSpace

from .conftest import iris_model

P = {"first_neuron": [4, 8, 16], "activation": ["relu", "elu"], "batch_size": (8, 32, 2), "epochs": [1]}


def test_a_param_space_lists_every_permutation_first_key_slowest():
    ps = ParamSpace(P, P.keys())
    assert ps.dimensions == 12 and len(ps) == 12 and ps.param_space.shape == (12, 4)
    assert ps.permutations()[:3] == [
        {"first_neuron": 4, "activation": "relu", "batch_size": 8, "epochs": 1},
        {"first_neuron": 4, "activation": "relu", "batch_size": 20, "epochs": 1},
        {"first_neuron": 4, "activation": "elu", "batch_size": 8, "epochs": 1},
    ]
    first = ps.round_parameters()
    assert first["batch_size"] == 8 and ps.round_counter == 1 and len(ps) == 11


def test_limits_and_removals():
    assert len(ParamSpace(P, P.keys(), fraction_limit=0.5, seed=0)) == 6
    assert len(ParamSpace(P, P.keys(), round_limit=5, seed=0)) == 5
    limited = ParamSpace(P, P.keys(), boolean_limit=lambda p: p["first_neuron"] * p["batch_size"] < 200)
    assert {(p["first_neuron"], p["batch_size"]) for p in limited.permutations()} == {
        (4, 8),
        (4, 20),
        (8, 8),
        (8, 20),
        (16, 8),
    }
    ps = ParamSpace(P, P.keys())
    ps.remove_is("activation", "elu")
    ps.remove_ge("first_neuron", 16)
    assert {(p["first_neuron"], p["activation"]) for p in ps.permutations()} == {(4, "relu"), (8, "relu")}
    ps.remove_is_not("first_neuron", 8)
    ps.remove_lambda(lambda p: p["batch_size"] > 10)
    assert ps.permutations() == [{"first_neuron": 8, "activation": "relu", "batch_size": 20, "epochs": 1}]
    ps.remove_le("batch_size", 20)
    assert ps.round_parameters() is False
    with pytest.raises(TalosDataError):
        ParamSpace(P, P.keys(), fraction_limit=0.01)
    with pytest.raises(ValueError, match=r"param_keys: \['lr'\] are not in params"):
        ParamSpace(P, ["lr"])


def test_a_distributed_space_splits_the_permutations_without_overlap():
    d = DistributeParamSpace(params=P, param_keys=P.keys(), machines=5, seed=0)
    pieces = [d.param_spaces[i].permutations() for i in range(5)]
    assert sorted(len(p) for p in pieces) == [2, 2, 2, 3, 3]
    seen = [tuple(sorted(p.items())) for piece in pieces for p in piece]
    assert len(seen) == len(set(seen)) == 12


def test_a_scan_of_a_param_space_runs_exactly_its_permutations(small_iris):
    x, y = small_iris
    d = DistributeParamSpace(params=P, param_keys=P.keys(), machines=4, seed=1)
    piece = d.param_spaces[0]
    scan = talos.Scan(x, y, piece, iris_model, "dist", round_limit=1, disable_progress_bar=True)
    ran = [tuple(r) for r in scan.data[list(P)].itertuples(index=False)]
    assert ran == [tuple(p.values()) for p in piece.permutations()]  # all 3, in order: Scan's limits do not apply
    again = talos.Scan(x, y, piece, iris_model, "dist", disable_progress_bar=True)
    assert len(again.data) == 3  # continued: nothing ran twice


def test_a_dict_scan_is_another_run_than_a_param_space_scan_of_the_same_values(small_iris, capsys):
    x, y = small_iris
    piece = DistributeParamSpace(params=P, param_keys=P.keys(), machines=4, seed=1).param_spaces[0]
    talos.Scan(x, y, piece, iris_model, "kinds", disable_progress_bar=True)
    scan = talos.Scan(x, y, P, iris_model, "kinds", round_limit=2, disable_progress_bar=True)
    assert scan.experiment.name == "kinds#2" and len(scan.data) == 2
    assert "already holds a scan with params given as a ParamSpace (this scan's are a dict)" in capsys.readouterr().out
