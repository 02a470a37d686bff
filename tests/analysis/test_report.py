"""The HTML report: self-contained, escaped, written by `knoblab report`, and clean in a real browser."""

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("matplotlib")

import knoblab as kl  # noqa: E402
from knoblab.cli import main  # noqa: E402

from .browser import open_in_chromium  # noqa: E402
from .support import synthetic_objective  # noqa: E402

XSS = '<script>alert("x")</script>'
IMG_XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An experiment whose names and values are HTML: the report must show them as text."""
    root = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{root / 'k.db'}"
    space = {"x": kl.Real(0.0, 10.0), "opt": ["a", "b", IMG_XSS], "n": (1, 5, 5), "fixed": 3}
    exp = kl.Experiment(XSS, space, storage=url, strategy="random", seed=0)
    exp.optimize(synthetic_objective, n_trials=24, show_progress=False)
    exp.note(0, XSS)
    exp.next_round({"x": kl.Real(0.0, 5.0), "opt": ["a", "b"], "n": (1, 5, 5), "fixed": 3}, reason=IMG_XSS)
    exp.optimize(synthetic_objective, n_trials=8, show_progress=False)
    return exp, url, root


def test_report_is_self_contained_and_escaped(hostile):
    exp, _, root = hostile
    path = exp.analyze("all").report(str(root / "r.html"))
    text = Path(path).read_text(encoding="utf-8")
    assert XSS not in text and IMG_XSS not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", text)  # nothing fetched
    images = re.findall(r"<img [^>]*src='([^']*)'", text)
    assert len(images) >= 10 and all(src.startswith("data:image/png;base64,") for src in images)
    for heading in (
        "rounds",
        "best trials",
        "rank correlations",
        "importances",
        "per value",
        "training vs",
        "suggested next space",
    ):
        assert f"<h2>{heading}" in text


def test_cli_report_writes_the_file(hostile, tmp_path):
    exp, url, _ = hostile
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", XSS, "--storage", url, "-o", str(out), "--rounds", "0,1"])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 50_000 and "wrote" in result.output
    bad = CliRunner().invoke(main, ["report", XSS, "--storage", url, "--rounds", "first"])
    assert bad.exit_code != 0 and "--rounds" in bad.output
    missing = CliRunner().invoke(main, ["report", "nope", "--storage", url])
    assert missing.exit_code != 0 and "no experiment 'nope'" in missing.output


def test_report_of_an_experiment_without_trials(sqlite_url, tmp_path):
    exp = kl.Experiment("empty", {"x": kl.Real(0.0, 1.0)}, storage=sqlite_url)
    text = Path(exp.analyze().report(str(tmp_path / "e.html"))).read_text(encoding="utf-8")
    assert "no COMPLETE trial" in text


@pytest.mark.slow
def test_report_renders_in_chromium_without_errors(hostile):
    exp, _, root = hostile
    path = exp.analyze("all").report(str(root / "browser.html"))
    seen = open_in_chromium(path)
    assert seen["errors"] == [] and seen["dialogs"] == []
    assert all(url.startswith(("file:", "data:")) for url in seen["requests"])
    assert len(seen["images"]) >= 10
    for image in seen["images"]:
        assert image["complete"] and image["width"] > 100 and image["visible"], image
