"""The one progress display rule: shown in a terminal or a notebook by default, hidden elsewhere, forced by
show_progress; the notebook case is run for real in tests/examples/test_notebook.py."""

from __future__ import annotations

import io
import sys
import warnings

import knoblab as kl
from knoblab.progress import ProgressBar, bar_class, in_notebook


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_default_shows_in_a_terminal_only(monkeypatch):
    assert not in_notebook()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert bar_class(None)[1] is False
    assert bar_class(True)[1] is True
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert bar_class(None)[1] is True
    assert bar_class(False)[1] is False


def test_a_terminal_bar_counts_trials_without_warnings(monkeypatch, sqlite_url):
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    exp = kl.Experiment("bar", {"x": kl.Real(0, 1)}, storage=sqlite_url, strategy="random", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exp.optimize(lambda t: t.params["x"], n_trials=3)
    assert "bar: 100%" in term.getvalue() and "3/3" in term.getvalue()
    bar = ProgressBar(exp, 5, None)  # a rerun starts from what is stored
    assert bar.bar.n == 3
    bar.close()
