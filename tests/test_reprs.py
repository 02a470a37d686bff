"""Rich HTML in notebooks: Experiment, Analysis and SpaceSuggestion show themselves as escaped HTML tables, and
analysis figures render inline as PNG."""

from __future__ import annotations

import base64
import re

import pytest

import knoblab as kl

pytest.importorskip("matplotlib")


def test_an_experiment_shows_its_state_and_best_trials_escaped(sqlite_url):
    space = {"x": kl.Real(0.0, 1.0), "tag": ["<b>bold</b>", "plain"]}
    exp = kl.Experiment("html <&> name", space, storage=sqlite_url, strategy="random", seed=0)
    assert "none yet" in exp._repr_html_()
    exp.optimize(lambda t: t.params["x"] if t.params["x"] < 0.8 else float("nan"), n_trials=12)
    html = exp._repr_html_()
    assert "html &lt;&amp;&gt; name" in html and "<b>bold</b>" not in html and "&lt;b&gt;bold" in html
    complete = sum(1 for t in exp.trials if t.state == "COMPLETE")
    failed = len(exp.trials) - complete
    assert f"{complete} COMPLETE" in html and (failed == 0 or f"{failed} FAILED" in html)
    assert "minimum of value" in html
    first_row = re.search(r"best \d+ of \d+ complete</h4><table>.*?<tbody><tr><td class='n'>(\d+)</td>", html)
    assert first_row and int(first_row.group(1)) == exp.best.number


def test_an_analysis_shows_its_summary_tables_and_history_plot(sqlite_url):
    from tests.analysis.support import stored_experiment

    exp = stored_experiment(sqlite_url, n=60)
    a = exp.analyze()
    html = a._repr_html_()
    assert "60 complete of 60 trials" in html and "strongest rank correlations" in html
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html).group(1))
    assert png.startswith(b"\x89PNG") and len(png) > 5_000

    s = a.suggest_space()
    shown = s._repr_html_()
    assert s.changed
    for c in s.changes:
        assert f"<td>{c.knob}</td><td>{c.action}</td>" in shown
    assert "kept" in shown


def test_analysis_figures_render_inline_as_png(sqlite_url):
    from knoblab.plots import analysis as P
    from tests.analysis.support import stored_experiment

    a = stored_experiment(sqlite_url, n=20).analyze()
    for fig in (P.optimization_history(a), P.correlation_bars(a), P.parallel_coordinates(a)):
        assert fig._repr_png_().startswith(b"\x89PNG")
