"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by playwright; nothing downloaded).

A uvicorn server on a free loopback port serves a real SQLite file; a thread writes epochs of a running trial
while its page is open. Every test fails on a console error, an uncaught page error, or any dialog (an alert() from
a knob value or a note would be one).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import socket
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs its extra: pip install 'knoblab[dashboard]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (the dev extra)")

import sqlalchemy as sa  # noqa: E402
import uvicorn  # noqa: E402

import knoblab as kl  # noqa: E402
from knoblab.dashboard import create_app  # noqa: E402
from knoblab.storage.sql import trials as trials_table  # noqa: E402
from knoblab.trial import TrialState  # noqa: E402

from ..chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from .support import (  # noqa: E402
    NOTE_XSS,
    SHOWCASE_SPACE,
    XSS,
    LiveTrial,
    curve_objective,
    make_experiment,
    make_object_experiment,
    make_pruning_experiment,
    showcase_objective,
)

pytestmark = pytest.mark.slow

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"  # axe-core, served from the test suite
LIVE_S = 2.0  # new trials and epochs must show within this, without a reload

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The dashboard app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app):
        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.thread.start()
            deadline = time.monotonic() + 20
            while not self.server.started:
                assert time.monotonic() < deadline, "the dashboard did not start"
                time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'knoblab.db'}"
    exp = make_experiment(url, name="mlp-search", n_trials=40)
    exp.storage.set_note(exp.trials[0].id, NOTE_XSS)
    make_experiment(url, name=NOTE_XSS, n_trials=2)  # a name with markup: shown as text everywhere
    pruning = make_pruning_experiment(url, name="pruning", n_trials=70)  # complete, pruned and stopped trials
    objects = make_object_experiment(url)  # functions, tuples and a Keras object as knob values
    with Server(create_app(url)) as base:
        yield SimpleNamespace(base=base, exp=exp, url=url, pruning=pruning, objects=objects)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


class Watch:
    """Console errors, page errors and dialogs seen by one page; `allow` names an error a step provokes."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.allowed: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("dialog", self._dialog)

    def _dialog(self, d) -> None:
        self.dialogs.append(d.message)
        d.dismiss()

    def allow(self, text: str) -> None:
        self.allowed.append(text)

    def check(self) -> None:
        unexpected = [e for e in self.errors if not any(a in e for a in self.allowed)]
        assert not unexpected, f"console errors: {unexpected}"
        assert not self.dialogs, f"a dialog opened (a string ran as code?): {self.dialogs}"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.watch = Watch(pg)
    yield pg
    try:
        assert pg.evaluate("window.__xss") is None, "a note's onerror handler ran"
        pg.watch.check()
    finally:
        context.close()


def settled(page) -> None:
    """Waits until the experiment page has drawn every plot once (the learning curves whenever the server sends
    them, the timeline last of the others)."""
    page.wait_for_function(
        "['timeline', 'curves'].every((m) => performance.getEntriesByName(`knoblab:${m}`).length)", timeout=30_000
    )


def panels(page, plot: str) -> list[dict]:
    """What a canvas scatter plot drew, per panel: title, axes (type, title, range, tick labels), plot rectangle."""
    return page.evaluate(
        "(plot) => document.getElementById(plot).plotState.panels"
        ".map(({key, title, zoomed, rect, x, y, series}) => ({key, title, zoomed, rect, x, y, series}))",
        plot,
    )


def drawn_points(page, plot: str, panel: int = 0) -> list[dict]:
    """The hoverable points a panel drew: trial id and number, values, and canvas coordinates (CSS pixels)."""
    return page.evaluate(f"document.getElementById('{plot}').plotState.panels[{panel}].points")


def on_canvas(page, plot: str, x: float, y: float) -> tuple[float, float]:
    """Viewport coordinates of a point given in the plot's canvas coordinates (the plot scrolled into view)."""
    canvas = page.locator(f"#{plot} canvas.sp-overlay")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    return box["x"] + x, box["y"] + y


def empty_spot(points: list[dict], rect: dict, away: float = 14) -> tuple[float, float]:
    """A spot inside the plot rectangle with no point within `away` pixels (a click there opens nothing)."""
    for fy in (0.5, 0.3, 0.7, 0.15, 0.85):
        for fx in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8):
            x, y = rect["left"] + fx * rect["width"], rect["top"] + fy * rect["height"]
            if all((p["sx"] - x) ** 2 + (p["sy"] - y) ** 2 > away**2 for p in points):
                return x, y
    raise AssertionError("no empty spot in the plot")


# ---- pages ----
def test_experiments_page_lists_every_experiment(world, page):
    page.goto(world.base + "/")
    row = page.locator("#experiments tbody tr", has_text="mlp-search")
    row.wait_for()
    assert "complete" in row.inner_text() and "min val_loss" in row.inner_text()
    assert page.locator("#live.on").count() == 1
    odd = page.locator("#experiments tbody tr", has_text="onerror")
    assert odd.locator("a").inner_text() == NOTE_XSS and odd.locator("img").count() == 0
    odd.locator("a").click()
    page.locator("#title").wait_for()
    assert page.locator("#title").inner_text() == NOTE_XSS and page.title().endswith(NOTE_XSS)
    assert page.locator("#crumbs span", has_text="onerror").inner_text() == NOTE_XSS
    page.go_back()
    row.locator("a").click()
    page.wait_for_url(f"**/experiments/{world.exp.id}")
    page.locator("#title").wait_for()
    assert page.locator("#title").inner_text() == "mlp-search"


def test_experiment_page_table_plots_and_escaped_strings(world, page):
    page.goto(f"{world.base}/experiments/{world.exp.id}")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 40")
    # every user string is text: the knob value and the note show as written, nothing runs
    cells = page.locator("#trials td", has_text="alert(1)")
    assert cells.count() > 0 and cells.first.inner_text() == XSS
    assert page.locator("#trials td", has_text="onerror").first.inner_text() == NOTE_XSS
    assert page.locator("#trials script, #trials img").count() == 0
    # the plots render, on canvases: plotly.js is not even loaded on this page
    settled(page)
    page.locator("#plot-parallel .parcoords").first.wait_for(state="attached")
    assert page.evaluate("typeof window.Plotly") == "undefined"
    assert page.locator("script[src*='plotly']").count() == 0
    [hist] = panels(page, "plot-history")
    assert (hist["x"]["title"], hist["y"]["title"]) == ("trial", "val_loss")
    assert [s["name"] for s in hist["series"]] == ["complete", "pruned", "best so far"]
    complete = [t for t in world.exp.trials if t.state == TrialState.COMPLETE]
    assert hist["series"][0]["count"] == len(complete)
    assert {p["n"] for p in drawn_points(page, "plot-history") if p["series"] == "complete"} == {
        t.number for t in complete
    }
    knob = {p["title"]: p for p in panels(page, "plot-knobs")}
    assert list(knob) == ["lr", "units", "opt", "layers", "units2"]  # a panel per knob, in the space's order
    assert knob["lr"]["x"]["type"] == "log" and knob["units"]["x"]["type"] == "linear"
    lrs = [t.params["lr"] for t in complete]
    assert knob["lr"]["x"]["range"][0] < min(lrs) and knob["lr"]["x"]["range"][1] > max(lrs)
    assert all(float(t) > 0 for t in knob["lr"]["x"]["ticks"])
    # category axes: the choices in their order, shown as written (the markup is text on a canvas)
    assert knob["opt"]["x"]["type"] == "category" and knob["opt"]["x"]["ticks"] == ["adam", XSS]
    assert knob["layers"]["x"]["ticks"] == ["1", "2"]
    assert knob["units2"]["series"][0]["count"] == sum(t.params["layers"] == 2 for t in complete)
    page.locator("#importances table.bars").wait_for(timeout=120_000)  # a forest fitted in a worker process
    assert "fANOVA" in page.inner_text("#importances")
    # sort by the metric, descending, by clicking its header twice
    page.locator("#trials th[data-key='value']").click()
    page.wait_for_function("document.querySelector('#trials th.sorted')?.dataset.key === 'value'")
    page.locator("#trials th[data-key='value']").click()
    page.wait_for_selector("#trials th.sorted.desc")
    best_first = max(t.value for t in world.exp.trials if t.value is not None)
    first_number = page.locator("#trials tbody tr").first.get_attribute("data-number")
    assert [t.value for t in world.exp.trials if t.number == int(first_number)] == [pytest.approx(best_first)]
    # filter by a knob
    page.fill("#filter", "opt=adam")
    adam = sum(t.params["opt"] == "adam" for t in world.exp.trials)
    page.wait_for_function(f"document.querySelectorAll('#trials tbody tr').length === {adam}")
    page.fill("#filter", "nosuchknob>1")
    page.wait_for_selector(".msg.error")
    page.watch.allow("status of 400")  # the filter's error comes back as a 400, shown under the box
    page.fill("#filter", "")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 40")


def test_new_trials_appear_without_reload(world, page):
    page.goto(f"{world.base}/experiments/{world.exp.id}")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 40")
    settled(page)
    page.evaluate("window.__same_page = true")
    n = len(world.exp.trials)
    world.exp.optimize(curve_objective, n_trials=n + 1, show_progress=False)
    t0 = time.monotonic()
    page.wait_for_function(
        f"document.querySelector('#trials tbody tr[data-number=\"{n}\"]') !== null", timeout=LIVE_S * 1000
    )
    assert time.monotonic() - t0 < LIVE_S
    page.wait_for_function(
        f"document.getElementById('plot-history').plotState.panels[0].points.some((p) => p.n === {n})",
        timeout=LIVE_S * 1000,
    )
    assert time.monotonic() - t0 < LIVE_S
    assert page.evaluate("window.__same_page") is True
    assert page.locator("#plot-history canvas").count() == 2  # redrawn in place, not stacked up


def test_plots_hover_zoom_and_click_through(world, page):
    page.goto(f"{world.base}/experiments/{world.exp.id}")
    settled(page)
    tip = page.locator("#plot-history .sp-tip")
    # hover: the nearest point's trial number and value
    target = max(drawn_points(page, "plot-history"), key=lambda p: p["n"] if p["series"] == "complete" else -1)
    page.mouse.move(*on_canvas(page, "plot-history", target["sx"], target["sy"]))
    tip.wait_for(state="visible")
    number, value = tip.inner_text().split(": ")
    assert number == f"#{target['n']}" and float(value) == pytest.approx(target["y"], rel=1e-4)
    # on a knob panel the tooltip names the knob's value too, as written
    opt = [p["title"] for p in panels(page, "plot-knobs")].index("opt")
    point = next(p for p in drawn_points(page, "plot-knobs", opt) if p["x"] == 1)  # the XSS choice
    page.mouse.move(*on_canvas(page, "plot-knobs", point["sx"], point["sy"]))
    knob_tip = page.locator("#plot-knobs .sp-tip")
    page.wait_for_function(
        "(n) => document.querySelector('#plot-knobs .sp-tip').textContent.startsWith(`#${n}: `)", arg=point["n"]
    )
    assert knob_tip.inner_text().split("\n")[1] == f"opt = {XSS}"
    page.mouse.move(0, 0)
    tip.wait_for(state="hidden")
    # box zoom narrows the ranges to the box; a double-click (on a point or not) restores them
    [before] = panels(page, "plot-history")
    r = before["rect"]
    x0, y0 = on_canvas(page, "plot-history", r["left"] + 0.2 * r["width"], r["top"] + 0.1 * r["height"])
    x1, y1 = on_canvas(page, "plot-history", r["left"] + 0.6 * r["width"], r["top"] + 0.9 * r["height"])
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=3)
    page.mouse.move(x1, y1, steps=3)
    page.mouse.up()
    page.wait_for_function("document.getElementById('plot-history').plotState.panels[0].zoomed")
    [zoomed] = panels(page, "plot-history")
    (lo, hi), (blo, bhi) = zoomed["x"]["range"], before["x"]["range"]
    assert lo == pytest.approx(blo + 0.2 * (bhi - blo), rel=0.05, abs=0.3)
    assert hi == pytest.approx(blo + 0.6 * (bhi - blo), rel=0.05, abs=0.3)
    assert zoomed["y"]["range"][1] - zoomed["y"]["range"][0] < before["y"]["range"][1] - before["y"]["range"][0]
    assert not any(p["zoomed"] for p in panels(page, "plot-knobs"))  # each panel zooms on its own
    inside = [p for p in drawn_points(page, "plot-history") if p["series"] == "complete"]
    assert inside and all(lo <= p["x"] <= hi for p in inside)
    page.mouse.dblclick(*on_canvas(page, "plot-history", inside[0]["sx"], inside[0]["sy"]))
    page.wait_for_function("!document.getElementById('plot-history').plotState.panels[0].zoomed")
    assert panels(page, "plot-history")[0]["x"]["range"] == before["x"]["range"]
    page.wait_for_timeout(400)
    assert "/experiments/" in page.url  # the double-click did not open the point under it
    # a click on an empty spot opens nothing; a click on a point opens its trial
    all_points = drawn_points(page, "plot-history")
    page.mouse.click(*on_canvas(page, "plot-history", *empty_spot(all_points, r)))
    page.wait_for_timeout(400)
    assert "/experiments/" in page.url
    page.mouse.click(*on_canvas(page, "plot-history", target["sx"], target["sy"]))
    page.wait_for_url(f"**/trials/{target['id']}")
    page.locator("#knobs").wait_for()


def test_plots_redraw_to_a_narrower_window(world, page):
    page.goto(f"{world.base}/experiments/{world.exp.id}")
    settled(page)
    [wide] = panels(page, "plot-history")
    columns = lambda: len({round(p["rect"]["left"]) for p in panels(page, "plot-knobs")})  # noqa: E731
    assert columns() == 4
    page.set_viewport_size({"width": 760, "height": 1000})
    # the history's card changes width (the two-card row stacks below 1000 px): redrawn to the new size
    page.wait_for_function(
        f"Math.abs(document.getElementById('plot-history').plotState.panels[0].rect.width - {wide['rect']['width']})"
        " > 20"
    )
    page.wait_for_function("document.getElementById('plot-knobs').plotState.panels[0].rect.width > 200")
    assert columns() == 2  # panels keep a readable width: fewer columns, more rows, a taller holder
    assert page.evaluate("document.getElementById('plot-knobs').clientHeight") == 3 * 240
    assert [p["y"]["title"] for p in panels(page, "plot-knobs")] == ["val_loss", "", "val_loss", "", "val_loss"]
    assert page.locator("#plot-history canvas, #plot-knobs canvas").count() == 4


def test_running_trial_curve_grows_live_and_stops(world, page):
    with LiveTrial(world.exp, every=0.3) as live:
        page.goto(f"{world.base}/trials/{live.trial.id}")
        page.locator("#curves [data-metrics='loss,val_loss'] .main-svg").first.wait_for()
        page.evaluate("window.__same_page = true")
        count = "document.querySelector('#curves [data-metrics]').data[0].x.length"
        before = page.evaluate(count)
        page.wait_for_function(f"{count} >= {before + 3}", timeout=LIVE_S * 1000 + 1500)
        assert page.evaluate("window.__same_page") is True
        assert page.locator("h1 .badge.RUNNING").count() == 1
        assert page.locator("#knobs [data-knob='opt']").inner_text() == live.trial.params["opt"]
        # a note in Markdown; raw HTML in it stays text
        page.click("#note-edit")
        page.fill("#note", "<b>lr too high?</b> *maybe*")
        page.click("#note-save")
        page.wait_for_selector("#note-msg.ok")
        assert world.exp.storage.get_trial(live.trial.id).note == "<b>lr too high?</b> *maybe*"
        assert page.inner_text("#note-view em") == "maybe" and page.locator("#note-view b").count() == 0
        assert "<b>lr too high?</b>" in page.inner_text("#note-view")
        # stop: the objective's trial.should_stop() turns True
        page.click("#stop")
        page.wait_for_selector("#stop-msg.ok")
        assert live.saw_stop.wait(5), "the running objective never saw should_stop() turn True"
        page.wait_for_selector("h1 .badge.STOPPED:text('stop requested')")
        world.exp.tell(live.trial, None, state=TrialState.PRUNED)
        # it ended as PRUNED on request: shown as stopped by user, not as pruned by the scheduler
        page.wait_for_selector("h1 .badge.STOPPED:text('stopped by user')", timeout=LIVE_S * 1000 + 1500)
        assert page.locator("h1 .badge.PRUNED").count() == 0
        assert page.locator("#stop").is_hidden()


def test_enqueue_names_the_knob_at_fault_then_queues(world, page):
    page.goto(f"{world.base}/experiments/{world.exp.id}")
    page.locator("#enqueue-form").wait_for()
    settled(page)
    page.fill("#enqueue-form [data-knob='lr']", "5")
    page.fill("#enqueue-form [data-knob='units']", "9")
    page.select_option("#enqueue-form [data-knob='opt']", label=XSS)
    page.watch.allow("status of 400")  # the refused enqueue is a 400, shown in the form
    page.click("#enqueue-btn")
    page.wait_for_selector("#enqueue-msg.error")
    assert "knob 'lr'" in page.inner_text("#enqueue-msg")
    # a branch's sub-knob shows once its branch is chosen
    assert page.locator("#enqueue-form [data-knob='units2']").is_hidden()
    page.select_option("#enqueue-form [data-knob='layers']", label="2")
    page.fill("#enqueue-form [data-knob='units2']", "7")
    page.fill("#enqueue-form [data-knob='lr']", "0.003")
    page.fill("#enqueue-note", "hand-picked")
    page.click("#enqueue-btn")
    page.wait_for_selector("#enqueue-msg.ok")
    queued = world.exp.storage.get_trials(world.exp.id, states=(TrialState.QUEUED,))
    assert [t.params for t in queued] == [{"lr": 0.003, "units": 9, "opt": XSS, "epochs": 5, "layers": 2, "units2": 7}]
    assert queued[0].note == "hand-picked"
    page.wait_for_selector(f"#trials tbody tr[data-id='{queued[0].id}'] .badge.QUEUED", timeout=LIVE_S * 1000)
    world.exp.optimize(curve_objective, n_trials=len(world.exp.trials), show_progress=False)  # runs it


def test_new_round_with_an_edited_space(world, page):
    page.goto(f"{world.base}/experiments/{world.exp.id}")
    form = page.locator("#round-form")
    form.wait_for()
    assert page.inner_text("#round-btn") == "Start round 1" and page.locator("#round-list li").count() == 1
    page.watch.allow("status of 400")
    page.click("#round-btn")  # unchanged: refused, with the reason shown
    page.wait_for_selector("#round-msg.error")
    assert "round 0" in page.inner_text("#round-msg")
    # a range edited upside down: the error names the knob
    page.fill("#round-form [data-knob='lr'] [data-field='low']", "0.5")
    page.click("#round-btn")
    page.wait_for_function("document.querySelector('#round-msg').textContent.includes(\"knob 'lr'\")")
    assert "low must be < high" in page.inner_text("#round-msg")
    page.fill("#round-form [data-knob='lr'] [data-field='low']", "abc")
    page.click("#round-btn")
    page.wait_for_function("document.querySelector('#round-msg').textContent.includes('must be a number')")
    assert "knob 'lr'" in page.inner_text("#round-msg")
    # keeping no value of a knob is refused, naming it
    for i in (0, 1):
        page.uncheck(f"#round-form [data-knob='opt'] [data-choice='{i}']")
    page.fill("#round-form [data-knob='lr'] [data-field='low']", "0.0001")
    page.click("#round-btn")
    page.wait_for_function("document.querySelector('#round-msg').textContent.includes(\"knob 'opt'\")")
    # narrow lr, drop the markup choice of opt, and keep only one branch of layers
    page.check("#round-form [data-knob='opt'] [data-choice='0']")
    page.fill("#round-form [data-knob='lr'] [data-field='high']", "0.01")
    page.uncheck("#round-form [data-knob='layers'] > .branch [data-choice='0']")
    assert page.locator("#round-form [data-knob='units2']").is_visible()
    page.fill("#round-reason", "lr above 1e-2 diverges")
    page.click("#round-btn")
    page.wait_for_selector("#round-msg.ok")
    page.wait_for_function("document.querySelectorAll('#round-list li').length === 2")  # the page reloaded
    assert "lr above 1e-2 diverges" in page.inner_text("#round-list")
    assert page.inner_text("#round-btn") == "Start round 2"
    rounds = world.exp.storage.get_experiment("mlp-search").attrs["rounds"]
    assert [r["round"] for r in rounds] == [1]
    space = rounds[0]["space"]
    assert (space["lr"]["low"], space["lr"]["high"], space["lr"]["log"]) == (0.0001, 0.01, True)
    assert space["opt"]["choices"] == ["adam"] and [v for v, _ in space["layers"]["options"]] == [2]
    assert space["epochs"] == {"kind": "fixed", "value": 5}
    assert "0.01 (log)" in page.get_attribute("#enqueue-form [data-knob='lr']", "placeholder")


def test_compare_overlays_chosen_trials(world, page):
    page.goto(f"{world.base}/experiments/{world.exp.id}")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 40")
    picks = page.locator("#trials input.pick")
    for i in (0, 1, 2):
        picks.nth(i).check()
    page.click("#compare-btn")
    page.wait_for_url("**/compare?trials=*")
    page.locator("#plot-compare .main-svg").first.wait_for()
    page.wait_for_function("document.getElementById('plot-compare').data.length === 3")
    assert page.locator("#compare-table tbody tr").count() == 3
    assert page.input_value("#compare-metric") == "val_loss"
    page.select_option("#compare-metric", "loss")
    page.wait_for_function("document.getElementById('plot-compare').layout.yaxis.title.text === 'loss'")


def test_read_only_dashboard_shows_no_controls(world, page):
    with Server(create_app(world.url, read_only=True)) as base:
        page.goto(f"{base}/trials/{world.exp.trials[1].id}")
        page.locator("#knobs").wait_for()
        assert page.locator("#stop").count() == 0 and page.locator("#note-edit").count() == 0
        assert page.locator("#note-view").is_visible()
        assert page.inner_text("#mode") == "read-only"
        page.goto(f"{base}/experiments/{world.exp.id}")
        page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 40")
        assert page.locator("#enqueue-btn").count() == 0 and page.locator("#round-btn").count() == 0
        page.goto("about:blank")  # stop polling before this server goes away


# ---- issue 17: learning curves, the missing plots, brushing, the table, notes, accessibility ----
def pager_total(page) -> int:
    text = page.inner_text(".pager span")
    return 0 if "no trials" in text else int(re.search(r"of (\d+)", text).group(1))


def series_of(page, plot: str, panel: int = 0) -> dict[str, dict]:
    return {s["name"]: s for s in panels(page, plot)[panel]["series"]}


def test_learning_curves_of_every_trial(world, page):
    exp = world.pruning
    page.goto(f"{world.base}/experiments/{exp.id}")
    settled(page)
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    stopped = [t for t in trials if t.state == TrialState.PRUNED and exp.storage.stop_requested(t.id)]
    pruned = [t for t in trials if t.state == TrialState.PRUNED and t not in stopped]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(trials) <= 200 and stopped and pruned
    # every trial's curve is drawn (fewer than the 200 shown by default), by state, each with all its epochs
    series = series_of(page, "plot-curves")
    assert series["complete"]["count"] == len(complete) - 1 and series["best"]["count"] == 1
    assert series["pruned"]["count"] == len(pruned) and series["stopped by user"]["count"] == len(stopped)
    assert series["complete"]["points"] == 8 * (len(complete) - 1)
    assert "10–90% of all" not in series  # no band while every curve is drawn
    # pruned and stopped trials end at their rung, with a mark there
    drawn = drawn_points(page, "plot-curves")
    ends = {p["n"]: p for p in drawn if p["series"] == "pruned here"}
    assert {t.number for t in pruned} == set(ends) and all(p["x"] == 2 for p in ends.values())
    assert [p["x"] for p in drawn if p["series"] == "stopped here"] == [3]
    assert series["pruned here"]["shape"] == "cross"
    # the best trial's curve is the best line, and its last point is its value
    best = min(complete, key=lambda t: t.value)
    best_line = [p for p in drawn if p["series"] == "best"]
    assert {p["n"] for p in best_line} == {best.number}
    assert best_line[-1]["y"] == pytest.approx(best.reports[-1][1]["val_loss"])
    # hover names the trial, the metric and the epoch; a click opens the trial
    target = next(p for p in drawn if p["series"] == "complete" and p["x"] == 4)
    page.mouse.move(*on_canvas(page, "plot-curves", target["sx"], target["sy"]))
    tip = page.locator("#plot-curves .sp-tip")
    tip.wait_for(state="visible")
    assert re.match(r"#\d+ \(complete\): val_loss [\d.e-]+ at epoch 4", tip.inner_text())
    assert tip.inner_text().startswith(f"#{target['n']} ")
    page.select_option("#curves-metric", "loss")  # another metric: its curves
    page.wait_for_function("document.getElementById('plot-curves').plotState.panels[0].y.title === 'loss'")
    # beyond the lines shown, the best ones over a band of all
    page.select_option("#curves-top", "50")
    page.wait_for_function(
        "document.getElementById('plot-curves').plotState.panels[0].series.some((s) => s.kind === 'band')"
    )
    series = series_of(page, "plot-curves")
    assert series["complete"]["count"] + series["best"]["count"] == 50 and series["pruned"]["count"] == 0
    assert "The best 50 of 70 trials" in page.inner_text("#curves-info")
    assert {"10–90% of all", "25–75%", "median"} <= set(series)
    page.select_option("#curves-metric", "val_loss")
    page.wait_for_function("document.getElementById('plot-curves').plotState.panels[0].y.title === 'val_loss'")
    drawn = drawn_points(page, "plot-curves")
    target = next(p for p in drawn if p["series"] == "complete")
    page.mouse.click(*on_canvas(page, "plot-curves", target["sx"], target["sy"]))
    page.wait_for_url(f"**/trials/{target['id']}")
    # a running trial's curve grows live, drawn whatever its rank
    page.goto(f"{world.base}/experiments/{exp.id}")
    settled(page)
    page.select_option("#curves-top", "50")
    with LiveTrial(exp, every=0.25) as live:
        running = "document.getElementById('plot-curves').plotState.panels[0].series.find((s) => s.name === 'running')"
        page.wait_for_function(f"{running}.count === 1", timeout=10_000)
        first = page.evaluate(f"{running}.points")
        page.wait_for_function(f"{running}.points >= {first + 3}", timeout=10_000)
        ring = [p for p in drawn_points(page, "plot-curves") if p["series"] == "running, now"]
        assert [p["id"] for p in ring] == [live.trial.id]
    exp.tell(live.trial, None, state=TrialState.PRUNED)


def test_plots_first_at_1440_by_900(world, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{world.base}/experiments/{world.pruning.id}")
        settled(page)
        # in one go: the stats are redrawn at every poll
        box = page.evaluate(
            """() => Object.fromEntries(['#stat-best', '#plot-curves', '#plot-history', '#trials'].map((sel) => {
                const r = document.querySelector(sel).getBoundingClientRect();
                return [sel, {x: r.x, y: r.y, width: r.width, height: r.height}];
            }))"""
        )
        for sel in ("#stat-best", "#plot-curves", "#plot-history"):  # seen without scrolling, before the table
            assert box[sel]["y"] + box[sel]["height"] <= 900, (sel, box[sel])
            assert box[sel]["y"] + box[sel]["height"] <= box["#trials"]["y"], sel
        assert box["#plot-curves"]["width"] > 500 and box["#plot-history"]["width"] > 500
    finally:
        context.close()


def test_contour_rank_edf_and_timeline(world, page):
    exp = world.pruning
    page.goto(f"{world.base}/experiments/{exp.id}")
    settled(page)
    trials = exp.storage.get_trials(exp.id)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    page.select_option("#pair-x", "units")
    page.select_option("#pair-y", "layers")
    page.wait_for_function("document.getElementById('plot-pair').plotState.panels[0].y.type === 'category'")
    contour, rank = panels(page, "plot-pair")
    assert (contour["key"], rank["key"]) == ("contour", "rank")
    assert contour["x"]["title"] == "units" and contour["y"]["ticks"] == ["1", "2"]
    assert contour["series"][0] == {"name": "contour", "kind": "raster", "count": 64 * 64}
    assert contour["x"]["range"] == [8, 64]  # the knob's whole range
    ranked = drawn_points(page, "plot-pair", 1)
    assert sorted(p["n"] for p in ranked) == sorted(t.number for t in complete)
    assert all(p["y"] == [1, 2].index(next(t for t in complete if t.id == p["id"]).params["layers"]) for p in ranked)
    # the empirical distribution: a step per complete trial, up to all of them
    edf = drawn_points(page, "plot-edf")
    assert len(edf) == len(complete) and max(p["y"] for p in edf) == 1
    values = sorted(t.value for t in complete)
    assert sorted(p["x"] for p in edf) == pytest.approx(values)
    assert all(
        p["y"] == pytest.approx((values.index(p["x"]) + 1) / len(values)) for p in edf if values.count(p["x"]) == 1
    )
    # the timeline: a bar per trial that started, on its worker's row, colored by how it ended
    [tl] = panels(page, "plot-timeline")
    with exp.storage.engine.connect() as conn:
        query = sa.select(trials_table.c.host, trials_table.c.pid).where(trials_table.c.experiment_id == exp.id)
        hosts = conn.execute(query.distinct()).all()
    assert tl["x"]["type"] == "time" and tl["y"]["ticks"] == sorted(f"{host}:{pid}" for host, pid in hosts)
    series = {s["name"]: s["count"] for s in tl["series"]}
    stops = sum(t.state == TrialState.PRUNED and exp.storage.stop_requested(t.id) for t in trials)
    assert series["complete"] == len(complete) and series["stopped by user"] == stops
    assert series["pruned"] == sum(t.state == TrialState.PRUNED for t in trials) - stops
    bars = drawn_points(page, "plot-timeline")
    page.mouse.move(*on_canvas(page, "plot-timeline", bars[0]["sx"], bars[0]["sy"]))
    page.locator("#plot-timeline .sp-tip").wait_for(state="visible")
    near = {b["n"] for b in bars if abs(b["sx"] - bars[0]["sx"]) < 8}  # fast trials: bars a pixel apart
    assert int(page.inner_text("#plot-timeline .sp-tip").split(" ")[0][1:]) in near


def _drag(page, selector: str, x: float, y0: float, y1: float) -> None:
    box = _box(page, selector)
    page.mouse.move(box["x"] + x, box["y"] + y0)
    page.mouse.down()
    page.mouse.move(box["x"] + x, box["y"] + (y0 + y1) / 2, steps=3)
    page.mouse.move(box["x"] + x, box["y"] + y1, steps=3)
    page.mouse.up()


def test_parallel_coordinates_brush_filters_the_table_and_plots(world, page):
    exp = world.pruning
    page.goto(f"{world.base}/experiments/{exp.id}")
    settled(page)
    trials = exp.storage.get_trials(exp.id)
    state = page.evaluate("document.getElementById('plot-parallel').plotState")
    dims = {d["key"]: d for d in state["dims"]}
    assert list(dims) == ["param.lr", "param.units", "param.opt", "param.layers", "param.units2", "value"]
    assert dims["param.units2"]["na"] and not dims["param.lr"]["na"]  # a conditional knob keeps its axis
    assert state["lines"] == state["kept"] == sum(t.state == TrialState.COMPLETE for t in trials)
    top, bottom = state["rect"]["top"], state["rect"]["bottom"]
    overlay = "#plot-parallel canvas.pc-overlay"
    _drag(page, overlay, dims["param.lr"]["x"], top + 0.25 * (bottom - top), top + 0.75 * (bottom - top))
    page.wait_for_function("document.getElementById('plot-parallel').plotState.dims[0].brush !== null")
    brush = page.evaluate("document.getElementById('plot-parallel').plotState.dims[0].brush")

    def inside(t) -> bool:
        return brush["lo"] <= math.log10(t.params["lr"]) <= brush["hi"]

    expected = [t for t in trials if inside(t)]
    assert 0 < len(expected) < len(trials)
    page.wait_for_function(f"document.querySelector('.pager span').textContent.endsWith('of {len(expected)}')")
    done = [t for t in expected if t.state == TrialState.COMPLETE]
    # the other plots keep the same trials; the parallel coordinates fade the others
    page.wait_for_function(f"document.getElementById('plot-parallel').plotState.kept === {len(done)}")
    hist = "document.getElementById('plot-history').plotState.panels[0]"
    page.wait_for_function(f"{hist}.series[0].count === {len(done)}")
    assert {p["n"] for p in drawn_points(page, "plot-history") if p["series"] == "complete"} == {t.number for t in done}
    edf = "document.getElementById('plot-edf').plotState.panels[0]"  # drawn a frame or two after the history
    page.wait_for_function(f"{edf}.series[0].count === {len(done)}")
    assert page.locator("#brush-chips button[data-brush='param.lr']").count() == 1
    # the n/a slot of a conditional knob keeps the trials without it (layers = 1)
    x0, y0 = _origin(page, overlay)
    page.mouse.click(x0 + dims["param.units2"]["x"], y0 + state["rect"]["naY"])
    one_layer = [t for t in expected if t.params["layers"] == 1]
    page.wait_for_function(f"document.querySelector('.pager span').textContent.endsWith('of {len(one_layer)}')")
    assert page.locator("#trials tbody tr").count() == min(50, len(one_layer))
    # the table's own filter combines with the brush; the CSV holds the same trials
    page.fill("#filter", "opt=adam")
    both = [t for t in one_layer if t.params["opt"] == "adam"]
    page.wait_for_function(f"document.querySelector('.pager span').textContent.endsWith('of {len(both)}')")
    rows = list(
        csv.DictReader(io.StringIO(page.request.get(world.base + page.get_attribute("#csv-link", "href")).text()))
    )
    assert sorted(int(r["number"]) for r in rows) == sorted(t.number for t in both)
    # a chip removes its range; "clear all" every range
    page.click("#brush-chips button[data-brush='param.lr']")
    page.wait_for_function("document.getElementById('plot-parallel').plotState.dims[0].brush === null")
    page.click("#brush-clear")
    page.fill("#filter", "")
    page.wait_for_function(f"document.querySelector('.pager span').textContent.endsWith('of {len(trials)}')")
    # by keyboard: pick the first axis, a range appears and moves with the arrows, Escape clears it
    page.focus(overlay)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    page.wait_for_function("document.getElementById('plot-parallel').plotState.dims[0].brush !== null")
    page.wait_for_function(f"!document.querySelector('.pager span').textContent.endsWith('of {len(trials)}')")
    page.keyboard.press("Escape")
    page.wait_for_function(f"document.querySelector('.pager span').textContent.endsWith('of {len(trials)}')")


def _box(page, selector: str) -> dict:
    """The element's box in the viewport, scrolled into view first (the mouse acts on what is on screen)."""
    page.locator(selector).scroll_into_view_if_needed()
    return page.locator(selector).bounding_box()


def _origin(page, selector: str) -> tuple[float, float]:
    box = _box(page, selector)
    return box["x"], box["y"]


def test_table_columns_csv_and_formats(world, page):
    exp = kl.Experiment(
        "formats", {"dropout": kl.Real(0.0, 0.5), "units": kl.Int(8, 64)}, metric="loss", storage=world.url
    )
    exp.enqueue({"dropout": 0.1 + 0.2, "units": 9})
    exp.optimize(lambda t: {"loss": t.params["dropout"], "acc": 0.1 + 0.7}, n_trials=1, show_progress=False)
    page.goto(f"{world.base}/experiments/{exp.id}")
    row = page.locator("#trials tbody tr").first
    row.wait_for()
    cells = dict(zip(page.locator("#trials thead th").all_inner_texts()[1:], row.locator("td").all_inner_texts()[1:]))
    assert cells["dropout"] == "0.3" and cells["loss"] == "0.3"  # 0.30000000000000004 as stored
    assert cells["acc"] == "0.8" and cells["duration"] == "< 0.1 s"
    href = page.get_attribute("#csv-link", "href")
    [stored] = csv.DictReader(io.StringIO(page.request.get(world.base + href).text()))
    assert stored["dropout"] == "0.30000000000000004" and float(stored["acc"]) == 0.1 + 0.7  # exact in the CSV
    # the pruning experiment: metrics of pruned trials from their last report; a column chooser that is kept
    page.goto(f"{world.base}/experiments/{world.pruning.id}")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 50")
    pruned = next(t for t in world.pruning.trials if t.number == 4)
    last = world.pruning.storage.get_trial(pruned.id).reports[-1]
    cell = page.locator("#trials tbody tr[data-number='4'] td.from-last")
    assert cell.count() == 1 and cell.get_attribute("title") == f"last report, step {last[0]}"
    assert cell.inner_text().replace("\u00a0", " ").endswith(f"@{last[0]}")
    page.click("#columns summary")
    page.uncheck("#columns [data-column='param.units']")
    assert page.locator("#trials th[data-key='param.units']").count() == 0
    rows = list(
        csv.DictReader(io.StringIO(page.request.get(world.base + page.get_attribute("#csv-link", "href")).text()))
    )
    assert "units" not in rows[0] and "lr" in rows[0] and len(rows) == len(world.pruning.trials)
    assert {float(r["lr"]) for r in rows} == {t.params["lr"] for t in world.pruning.trials}
    page.reload()
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 50")
    assert page.locator("#trials th[data-key='param.units']").count() == 0  # kept in this browser
    assert page.locator("#trials th[data-key='param.lr']").count() == 1


def test_notes_in_markdown_and_stopped_apart_from_pruned(world, page):
    exp = world.pruning
    page.goto(f"{world.base}/experiments/{exp.id}")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 50")
    text = (
        "**Fast** runs: keep `lr` low\n\n- one\n- two\n\n"
        f"{NOTE_XSS} [bad](javascript:window.__xss=1) [docs](https://example.com/x)"
    )
    page.click("#exp-note-edit")
    page.fill("#exp-note", text)
    page.click("#exp-note-save")
    page.wait_for_selector("#exp-note-msg.ok")
    assert exp.storage.get_experiment("pruning").attrs["note"] == text
    for _ in range(2):  # as saved, and as read back after a reload
        view = page.locator("#exp-note-view")
        assert view.locator("strong").inner_text() == "Fast" and view.locator("code").inner_text() == "lr"
        assert view.locator("li").count() == 2 and view.locator("img").count() == 0
        assert view.locator("a").count() == 1 and view.locator("a").get_attribute("href") == "https://example.com/x"
        assert NOTE_XSS in view.inner_text()  # raw HTML shows as text
        page.reload()
        page.locator("#exp-note-view strong").wait_for()
    # stopped by user and pruned by the scheduler are told apart
    stopped = next(t for t in exp.trials if t.number == 3)
    assert page.inner_text("#trials tbody tr[data-number='3'] .badge") == "stopped by user"
    assert page.inner_text("#trials tbody tr[data-number='4'] .badge") == "pruned"
    assert "1 stopped by user" in page.inner_text("#stats")
    page.goto(f"{world.base}/trials/{stopped.id}")
    assert page.locator("h1 .badge.STOPPED").inner_text() == "stopped by user"
    page.click("#note-edit")
    page.fill("#note", "stopped: *too slow*")
    page.click("#note-save")
    page.wait_for_selector("#note-msg.ok")
    assert page.inner_text("#note-view em") == "too slow"
    page.goto(f"{world.base}/trials/{next(t for t in exp.trials if t.number == 4).id}")
    assert page.locator("h1 .badge.PRUNED").inner_text() == "pruned by the scheduler"
    page.goto(f"{world.base}/experiments/{exp.id}")
    page.locator("#trials tbody tr[data-number='3'] .note-cell em").wait_for()
    assert page.inner_text("#trials tbody tr[data-number='3'] .note-cell") == "stopped: too slow"
    page.goto(world.base + "/")
    page.locator("#experiments tbody tr[data-name='pruning'] .note-cell strong").wait_for()


def test_keyboard_reaches_sorting_and_the_plots(world, page):
    page.goto(f"{world.base}/experiments/{world.pruning.id}")
    settled(page)
    page.focus("#filter")
    for _ in range(60):  # Tab goes from the filter to the table's column buttons
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('th')?.dataset.key === 'number'"):
            break
    else:
        raise AssertionError("Tab never reached the table's sort buttons")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('th').dataset.key") == "value"
    page.keyboard.press("Enter")
    page.wait_for_selector("#trials th.sorted[data-key='value'][aria-sort='ascending']")
    assert page.evaluate("document.activeElement.closest('th').dataset.key") == "value"  # focus stays
    page.keyboard.press("Enter")
    page.wait_for_selector("#trials th.sorted.desc[aria-sort='descending']")
    # a plot: arrows move from trial to trial (its tooltip says which), Enter opens it
    page.focus("#plot-history canvas.sp-overlay")
    assert "Arrow keys" in page.get_attribute("#plot-history canvas.sp-overlay", "aria-label")
    page.keyboard.press("ArrowRight")
    tip = page.locator("#plot-history .sp-tip")
    tip.wait_for(state="visible")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("End")
    n = int(tip.inner_text().split(":")[0][1:])
    page.keyboard.press("+")  # zoom in around that trial, then back
    page.wait_for_function("document.getElementById('plot-history').plotState.panels[0].zoomed")
    assert int(tip.inner_text().split(":")[0][1:]) == n
    page.keyboard.press("Escape")
    page.wait_for_function("!document.getElementById('plot-history').plotState.panels[0].zoomed")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    trial = next(t for t in world.pruning.trials if t.number == n)
    page.wait_for_url(f"**/trials/{trial.id}")


def _axe(page) -> list[dict]:
    page.evaluate(AXE.read_text())  # evaluated by the test driver, not as a script of the page
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter((v) => v.impact === 'serious' || v.impact === 'critical')
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ': ' + n.failureSummary)}))"""
    )


def _pages(world) -> list[tuple[str, str]]:
    ids = [t.id for t in world.pruning.trials[:3]]
    return [
        ("/", "#experiments tbody tr"),
        (f"/experiments/{world.pruning.id}", None),
        (f"/trials/{ids[0]}", "#curves .main-svg"),
        (f"/compare?trials={','.join(map(str, ids))}", "#plot-compare .main-svg"),
    ]


def _open(page, world, path: str, ready: str | None) -> None:
    page.goto(world.base + path)
    if ready is None:
        settled(page)
        page.locator("#importances table.bars, #importances p").first.wait_for()
    else:
        page.locator(ready).first.wait_for()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_audit_finds_nothing_serious(world, browser, scheme):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        found = {}
        for path, ready in _pages(world):
            _open(page, world, path, ready)
            found[path] = _axe(page)
        assert not any(found.values()), json.dumps(found, indent=1)
    finally:
        context.close()


def test_no_horizontal_scrolling_at_390_px(world, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        for path, ready in _pages(world):
            _open(page, world, path, ready)
            width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width[0] <= width[1], (path, width)
    finally:
        context.close()


def test_dark_theme_follows_the_system_and_the_toggle(world, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(f"{world.base}/experiments/{world.pruning.id}")
        settled(page)
        background = "getComputedStyle(document.body).backgroundColor"
        assert page.evaluate(background) == "rgb(15, 19, 27)"  # the system's dark setting
        assert page.input_value("#theme") == "system"
        page.select_option("#theme", "light")
        assert page.evaluate(background) == "rgb(246, 247, 249)"
        page.reload()
        settled(page)
        assert page.input_value("#theme") == "light" and page.evaluate(background) == "rgb(246, 247, 249)"
        page.select_option("#theme", "dark")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert page.evaluate(background) == "rgb(15, 19, 27)"
    finally:
        context.close()


def test_plotly_loads_once_then_from_the_browser_cache(world, browser):
    app = create_app(world.url)
    served = []

    @app.middleware("http")
    async def count(request, call_next):
        if "/vendor/plotly" in request.url.path:
            served.append(request.url.path)
        return await call_next(request)

    with Server(app) as base:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            for t in world.pruning.trials[:3]:  # three trial pages: plotly.js fetched for the first only
                page.goto(f"{base}/trials/{t.id}")
                page.locator("#curves .main-svg").first.wait_for()
            assert len(served) == 1, served
            page.goto("about:blank")
        finally:
            context.close()


def test_functions_tuples_and_keras_objects_show_by_name(world, page):
    exp = world.objects
    page.goto(f"{world.base}/experiments/{exp.id}")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 3")
    settled(page)
    column = page.locator("#trials thead th").all_inner_texts().index("act")
    assert [r.locator("td").nth(column).inner_text() for r in page.locator("#trials tbody tr").all()] == [
        "sqrt",
        "exp",
        "sqrt",
    ]
    assert "Adam(learning_rate=0.01)" in page.inner_text("#trials tbody tr[data-number='2']")
    knob = {p["title"]: p for p in panels(page, "plot-knobs")}
    assert knob["act"]["x"]["ticks"] == ["sqrt", "exp"] and knob["shape"]["x"]["ticks"] == ["(64, 32)", "(16,)"]
    dims = {d["key"]: d for d in page.evaluate("document.getElementById('plot-parallel').plotState.dims")}
    assert dims["param.act"]["ticks"] == ["sqrt", "exp"]
    page.fill("#filter", "act=exp")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 1")
    # enqueue and the round form name the values too, and send their stored forms back
    options = page.locator("#enqueue-form [data-knob='opt'] option").all_inner_texts()
    assert options == ["sgd", "Adam(learning_rate=0.01)"]
    assert "sqrt" in page.inner_text("#round-form [data-knob='act']")
    page.select_option("#enqueue-form [data-knob='act']", label="exp")
    page.select_option("#enqueue-form [data-knob='shape']", label="(16,)")
    page.fill("#enqueue-form [data-knob='x']", "0.125")
    page.click("#enqueue-btn")
    page.wait_for_selector("#enqueue-msg.ok")
    queued = exp.storage.get_trials(exp.id, states=(TrialState.QUEUED,))
    assert (queued[-1].params["act"], queued[-1].params["shape"], queued[-1].params["x"]) == (math.exp, (16,), 0.125)


def test_screenshot_for_the_readme(world, page, tmp_path):
    """docs/dashboard.png: an experiment's page while a trial runs (a small palette keeps the file small). The
    checkout's copy is rewritten only with KNOBLAB_UPDATE_SCREENSHOT=1; a plain test run leaves the tree clean."""
    shot = SCREENSHOT if os.environ.get("KNOBLAB_UPDATE_SCREENSHOT") == "1" else tmp_path / "dashboard.png"
    asha = kl.schedulers.SuccessiveHalving(reduction_factor=2, min_resource=3, max_resource=12)
    exp = kl.Experiment(
        "mnist-mlp", SHOWCASE_SPACE, metric="val_loss", storage=world.url, seed=3, strategy="sobol", scheduler=asha
    )
    exp.optimize(showcase_objective, n_trials=60, show_progress=False)
    exp.storage.update_experiment_attrs(
        exp.id, lambda _: {"note": "Sobol sweep of a small MLP: **adam** with lr near `3e-3` leads; see trial 5."}
    )
    page.set_viewport_size({"width": 1440, "height": 1400})

    def curve(step: int) -> dict[str, float]:  # a network still learning, like the others
        return {"loss": 0.3 + 0.9 * math.exp(-0.5 * (step + 1)), "val_loss": 0.34 + 0.9 * math.exp(-0.45 * (step + 1))}

    with LiveTrial(exp, every=0.4, max_steps=12, curve=curve):
        page.goto(f"{world.base}/experiments/{exp.id}")
        page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 50")
        page.locator("#trials th[data-key='value'] button").click()
        page.wait_for_selector("#trials th.sorted")
        settled(page)
        page.wait_for_timeout(1500)  # let the live redraws settle
        shot.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": 1440, "height": 1400})
    try:
        from PIL import Image

        with Image.open(shot) as im:
            im.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE).save(shot, optimize=True)
    except ImportError:
        pass
    assert shot.stat().st_size > 10_000
