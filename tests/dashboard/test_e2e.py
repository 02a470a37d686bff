"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by playwright; nothing downloaded).

A uvicorn server on a free loopback port serves a real SQLite file; a thread writes epochs of a running trial
while its page is open. Every test fails on a console error, an uncaught page error, or any dialog (an alert() from
a knob value or a note would be one).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs its extra: pip install 'knoblab[dashboard]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (the dev extra)")

import uvicorn  # noqa: E402

from knoblab.dashboard import create_app  # noqa: E402
from knoblab.trial import TrialState  # noqa: E402

from ..chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from .support import (  # noqa: E402
    NOTE_XSS,
    SHOWCASE_SPACE,
    XSS,
    LiveTrial,
    curve_objective,
    make_experiment,
    showcase_objective,
)

pytestmark = pytest.mark.slow

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
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
    with Server(create_app(url)) as base:
        yield SimpleNamespace(base=base, exp=exp, url=url)


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
    """Waits until the experiment page has drawn every plot once."""
    page.wait_for_function("performance.getEntriesByName('knoblab:knobs').length", timeout=30_000)


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
        # a note, with markup that must stay text
        page.fill("#note", "<b>lr too high?</b>")
        page.click("#note-save")
        page.wait_for_selector("#note-msg.ok")
        assert world.exp.storage.get_trial(live.trial.id).note == "<b>lr too high?</b>"
        # stop: the objective's trial.should_stop() turns True
        page.click("#stop")
        page.wait_for_selector("#stop-msg.ok")
        assert live.saw_stop.wait(5), "the running objective never saw should_stop() turn True"
        page.wait_for_selector("h1 .badge.stop")
        world.exp.tell(live.trial, None, state=TrialState.PRUNED)
        page.wait_for_selector("h1 .badge.PRUNED", timeout=LIVE_S * 1000 + 1500)
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
    import json

    page.goto(f"{world.base}/experiments/{world.exp.id}")
    page.locator("#round-space").wait_for()
    assert page.inner_text("#round-btn") == "Start round 1" and page.locator("#round-list li").count() == 1
    space = json.loads(page.input_value("#round-space"))
    page.fill("#round-space", json.dumps(space))  # unchanged: refused, with the reason shown
    page.watch.allow("status of 400")
    page.click("#round-btn")
    page.wait_for_selector("#round-msg.error")
    assert "round 0" in page.inner_text("#round-msg")
    space["lr"]["high"] = 0.01
    page.fill("#round-space", json.dumps(space))
    page.fill("#round-reason", "lr above 1e-2 diverges")
    page.click("#round-btn")
    page.wait_for_selector("#round-msg.ok")
    page.wait_for_function("document.querySelectorAll('#round-list li').length === 2")  # the page reloaded
    assert "lr above 1e-2 diverges" in page.inner_text("#round-list")
    assert page.inner_text("#round-btn") == "Start round 2"
    rounds = world.exp.storage.get_experiment("mlp-search").attrs["rounds"]
    assert [(r["round"], r["space"]["lr"]["high"]) for r in rounds] == [(1, 0.01)]
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
        assert page.locator("#stop").count() == 0 and page.locator("#note-save").count() == 0
        assert page.locator("#note").get_attribute("readonly") is not None
        assert page.inner_text("#mode") == "read-only"
        page.goto(f"{base}/experiments/{world.exp.id}")
        page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 40")
        assert page.locator("#enqueue-btn").count() == 0 and page.locator("#round-btn").count() == 0
        page.goto("about:blank")  # stop polling before this server goes away


def test_screenshot_for_the_readme(world, page):
    """docs/dashboard.png: an experiment's page while a trial runs (a small palette keeps the file small)."""
    import knoblab as kl

    exp = kl.Experiment("mnist-mlp", SHOWCASE_SPACE, metric="val_loss", storage=world.url, seed=3, strategy="sobol")
    exp.optimize(showcase_objective, n_trials=60, show_progress=False)
    page.set_viewport_size({"width": 1400, "height": 1420})
    with LiveTrial(exp, every=0.2):
        page.goto(f"{world.base}/experiments/{exp.id}")
        page.wait_for_function("document.querySelectorAll('#trials tbody tr').length >= 50")
        page.locator("#trials th[data-key='value']").click()
        page.wait_for_selector("#trials th.sorted")
        page.locator("#plot-parallel .parcoords").first.wait_for(state="attached")
        settled(page)
        page.wait_for_timeout(1500)  # let the live redraws settle
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), clip={"x": 0, "y": 0, "width": 1400, "height": 1420})
    try:
        from PIL import Image

        with Image.open(SCREENSHOT) as im:
            im.convert("RGB").quantize(colors=128, dither=Image.Dither.NONE).save(SCREENSHOT, optimize=True)
    except ImportError:
        pass
    assert SCREENSHOT.stat().st_size > 10_000
