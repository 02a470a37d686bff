"""How fast the dashboard opens an experiment of 10,000 trials (issue 8 asks for under 2 seconds; issue 17 adds the
learning curves of every trial and four more plots, and asks for a trial page in under a second).

Builds a SQLite file with N trials (20 reported epochs each), then times:
  * the API calls the experiment page makes, on a fresh server (cold cache) and again (warm);
  * a poll for changes, a sorted and filtered table page, a trial page, and the knob importances;
  * the learning curves (every report of every trial read once, then kept current), a brushed table with the ids
    the plots keep, and the CSV of every trial;
  * with Chromium and playwright present: a real browser from navigation to the table and every plot drawn, and
    a trial page (plotly.js fetched on the first visit, from the browser's cache after).

    python bench/dashboard_scale.py [--trials 10000] [--epochs 20] [--no-browser]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import socket
import statistics
import tempfile
import threading
import time
import warnings
from datetime import timedelta
from pathlib import Path

import knoblab as kl
from knoblab.dashboard import create_app
from knoblab.storage.sql import SQLStorage, dumps, now, reports, trials

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SPACE = {
    "lr": kl.Real(1e-5, 1e-1, log=True),
    "units": kl.Int(16, 1024, log=True),
    "dropout": kl.Real(0.0, 0.6),
    "optimizer": ["adam", "nadam", "rmsprop", "sgd"],
    "batch_size": [16, 32, 64, 128, 256],
    "layers": kl.Int(1, 6),
    "epochs": 20,
}


def build(path: Path, n: int, epochs: int) -> tuple[str, int]:
    """A stored experiment of n finished trials, written in bulk (the search would take hours to make it)."""
    url = f"sqlite:///{path}"
    exp = kl.Experiment("scale", SPACE, metric="val_loss", storage=url, seed=0, strategy="random")
    storage: SQLStorage = exp.storage
    rng = random.Random(0)
    t0 = now() - timedelta(hours=12)
    trial_rows, report_rows = [], []
    for i in range(n):
        params = exp.space.sample(i)
        state = "COMPLETE" if i % 20 else rng.choice(["PRUNED", "FAILED"])
        val = 0.3 + 0.05 * (math.log10(params["lr"]) + 3) ** 2 + rng.random() * 0.1
        start = t0 + timedelta(seconds=4 * i)
        trial_rows.append(
            dict(
                id=i + 1,
                experiment_id=exp.id,
                number=i,
                round=0,
                state=state,
                params=dumps(params),
                value=None if state == "FAILED" else val,
                metrics=dumps({} if state == "FAILED" else {"val_loss": val, "loss": val * 0.8}),
                seed=i,
                started_at=start,
                finished_at=start + timedelta(seconds=3.5),
                heartbeat_at=start + timedelta(seconds=3.5),
                host="bench",
                pid=1,
                error="RuntimeError: diverged" if state == "FAILED" else None,
                note=None,
                attrs="{}",
                stop_requested=False,
            )
        )
        for e in range(epochs):
            m = {"loss": val * 0.8 + 1 / (e + 1), "val_loss": val + 1 / (e + 1), "accuracy": 1 - val / (e + 1)}
            report_rows.append(dict(trial_id=i + 1, step=e, metrics=dumps(m), at=start))
    with storage.engine.begin() as conn:
        conn.execute(trials.insert(), trial_rows)
        for k in range(0, len(report_rows), 50_000):
            conn.execute(reports.insert(), report_rows[k : k + 50_000])
    storage.close()
    return url, exp.id


def timed(fn, repeat: int = 1) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def api_numbers(url: str, exp_id: int, trial_id: int) -> list[tuple[str, float]]:
    out = []

    def open_page(c: TestClient) -> None:
        for path in (
            "/api/config",
            f"/api/experiments/{exp_id}",
            f"/api/experiments/{exp_id}/points?since=0",
            f"/api/experiments/{exp_id}/trials?limit=50",
        ):
            r = c.get(path)
            assert r.status_code == 200, (path, r.text[:200])

    c = TestClient(create_app(url))
    out.append(("experiment page API, fresh server (cold cache)", timed(lambda: open_page(c))))
    out.append(("experiment page API, warm", timed(lambda: open_page(c), 5)))
    out.append(("experiments list", timed(lambda: c.get("/api/experiments"), 5)))
    first = c.get(f"/api/experiments/{exp_id}/points").json()
    since = f"since={first['rev']}&epoch={first['epoch']}"
    time.sleep(0.5)
    out.append(("poll for changes (none)", timed(lambda: c.get(f"/api/experiments/{exp_id}/points?{since}"), 5)))
    out.append(
        (
            "table page sorted by a knob, filtered",
            timed(
                lambda: c.get(
                    f"/api/experiments/{exp_id}/trials",
                    params={"sort": "param.lr", "desc": True, "filter": "optimizer=adam, val_loss<0.5", "offset": 200},
                ),
                5,
            ),
        )
    )
    out.append(("trial page (20 epochs)", timed(lambda: c.get(f"/api/trials/{trial_id}"), 5)))
    curves = f"/api/experiments/{exp_id}/curves"
    other = iter(range(1, 7))  # layers!=1, !=2, ...: a selection not computed before
    fresh = TestClient(create_app(url))  # its rows read, its reports not yet
    fresh.get(f"/api/experiments/{exp_id}/points")
    out.append(("learning curves, fresh server, first call", timed(lambda: fresh.get(curves))))
    fresh.close()
    out.append(
        (
            "learning curves, another filter each time",
            timed(lambda: c.get(curves, params={"filter": f"layers!={next(other)}"}), 5),
        )
    )
    got = c.get(curves).json()
    same = {"since": got["rev"], "epoch": got["epoch"]}
    out.append(("learning curves, poll with no change", timed(lambda: c.get(curves, params=same), 5)))
    size = len(c.get(curves, params={"top": 200}).content)
    out.append((f"learning curves payload (best 200 + band): {size / 1e3:.0f} kB", float("nan")))
    brush = "param.lr>=0.0001, param.lr<=0.01, param.optimizer=adam|nadam"
    trials_url = f"/api/experiments/{exp_id}/trials"
    out.append(
        (
            "table brushed, with the ids the plots keep",
            timed(lambda: c.get(trials_url, params={"brush": brush, "ids": 1}), 5),
        )
    )
    out.append(("CSV of every trial", timed(lambda: c.get(f"/api/experiments/{exp_id}/trials.csv"), 3)))

    def importances() -> None:  # what the page asks once drawn: a forest in a child process
        while c.get(f"/api/experiments/{exp_id}/importances").json().get("computing"):
            time.sleep(0.2)

    out.append(("importances, child process (last 2,000 trials)", timed(importances)))
    size = len(c.get(f"/api/experiments/{exp_id}/points?since=0").content)
    out.append((f"points payload: {size / 1e6:.2f} MB", float("nan")))
    return out


def browser_numbers(url: str, exp_id: int, trial_id: int) -> list[tuple[str, float]]:
    import uvicorn
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]
    args += ["--disable-background-networking", "--disable-component-update", "--disable-sync"]
    out = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
            page = b.new_page(viewport={"width": 1400, "height": 1000})

            def open_page() -> dict[str, float]:
                """Seconds from navigation to each part first drawn (the page's performance marks)."""
                page.goto(f"http://127.0.0.1:{port}/experiments/{exp_id}", wait_until="commit")
                page.wait_for_function(
                    "['timeline', 'curves'].every((m) => performance.getEntriesByName(`knoblab:${m}`).length)",
                    timeout=120_000,
                )
                marks = page.evaluate("performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])")
                return {name.split(":")[1]: t / 1000 for name, t in marks}

            parts = ["table", "history", "parallel", "curves", "knobs", "pair", "timeline"]
            first = open_page()
            again = [open_page() for _ in range(3)]
            for part in parts:
                out.append((f"browser, first visit: {part} drawn", first[part]))
            for part in parts:
                out.append(
                    (f"browser, reopened (median of 3): {part} drawn", statistics.median(a[part] for a in again))
                )

            def open_trial(tab) -> dict[str, float]:
                tab.goto(f"http://127.0.0.1:{port}/trials/{trial_id}", wait_until="commit")
                tab.wait_for_function("performance.getEntriesByName('knoblab:curves').length", timeout=120_000)
                marks = tab.evaluate("performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])")
                return {name.split(":")[1]: t / 1000 for name, t in marks}

            fresh = b.new_context(viewport={"width": 1400, "height": 1000}).new_page()  # an empty browser cache
            first = open_trial(fresh)
            again = [open_trial(fresh) for _ in range(3)]
            for part, what in (("text", "text"), ("curves", "curves (plotly)")):
                out.append((f"browser, trial page, first visit: {what} drawn", first[part]))
                out.append(
                    (
                        f"browser, trial page, reopened (median of 3): {what} drawn",
                        statistics.median(a[part] for a in again),
                    )
                )
            b.close()
    finally:
        server.should_exit = True
        thread.join(10)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        url, exp_id = build(Path(tmp) / "scale.db", args.trials, args.epochs)
        print(f"built {args.trials} trials x {args.epochs} epochs in {time.perf_counter() - t:.1f} s")
        rows = api_numbers(url, exp_id, max(1, args.trials // 2))
        if not args.no_browser and os.path.exists("/usr/bin/chromium"):
            try:
                rows += browser_numbers(url, exp_id, max(1, args.trials // 2))
            except ImportError:
                print("(playwright missing: no browser timing)")
        width = max(len(name) for name, _ in rows)
        for name, s in rows:
            print(f"{name.ljust(width)}  {'' if math.isnan(s) else f'{s * 1000:8.0f} ms'}")


if __name__ == "__main__":
    main()
