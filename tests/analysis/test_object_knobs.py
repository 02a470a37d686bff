"""Analysis of knobs whose values are functions or classes: tables, correlations and summaries name them."""

import math

import knoblab as kl


def test_correlations_and_per_value_summaries_name_object_values(sqlite_url):
    space = {"act": [math.sqrt, math.log1p, "linear"], "x": kl.Real(1.0, 4.0)}
    exp = kl.Experiment("objects_analysis", space, storage=sqlite_url, strategy="random", seed=0)

    def objective(t):
        act = t.params["act"]
        return t.params["x"] if act == "linear" else act(t.params["x"])

    exp.optimize(objective, n_trials=24)
    exp.next_round({"act": [math.sqrt, math.log1p], "x": kl.Real(1.0, 4.0)}, reason="drop linear")
    exp.optimize(objective, n_trials=12)
    a = exp.analyze(rounds="all")
    text = str(a.summary()) + a.correlations.to_string() + a.per_value.to_string()
    assert "0x" not in text, "an object was shown by its repr"
    assert "act=sqrt" in a.correlations.to_string() and "act=log1p" in a.correlations.to_string()
