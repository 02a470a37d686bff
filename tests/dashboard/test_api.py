"""The dashboard's JSON API over a real SQLite file: reading, live increments, steering, and its safety rules."""

from __future__ import annotations

import math
import re
import shutil
import sqlite3
import threading
import time
import warnings

import pytest

pytest.importorskip("fastapi", reason="the dashboard needs its extra: pip install 'knoblab[dashboard]'")

from click.testing import CliRunner  # noqa: E402

from knoblab import Experiment  # noqa: E402
from knoblab.cli import main
from knoblab.dashboard import create_app, is_loopback
from knoblab.dashboard.table import FilterError, parse_filter
from knoblab.storage.sql import SQLStorage
from knoblab.trial import TrialState

from .support import ADAM, NOTE_XSS, XSS, LiveTrial, make_experiment, make_object_experiment, make_pruning_experiment

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note that it prefers httpx2
    from fastapi.testclient import TestClient

CHANGE = {"x-knoblab": "1"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """One stored experiment, made once; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("template") / "knoblab.db"
    make_experiment(f"sqlite:///{path}").storage.close()
    return path


@pytest.fixture
def exp(template, sqlite_url):
    shutil.copy(template, sqlite_url[len("sqlite:///") :])
    return Experiment.load("demo", sqlite_url)


@pytest.fixture
def client(exp):
    with TestClient(create_app(exp.storage.url)) as c:
        yield c


# ---- reading ----
def test_experiments_list_counts_best_rounds_and_time(client, exp):
    (e,) = client.get("/api/experiments").json()["experiments"]
    assert e["name"] == "demo" and e["metric"] == "val_loss" and e["direction"] == "min"
    assert e["counts"] == {"COMPLETE": 12} and e["n_trials"] == 12 and e["rounds"] == 1
    assert e["best"] == pytest.approx(exp.best.value)
    assert e["elapsed"] >= 0 and not e["running"]


def test_experiment_detail_flattens_branch_knobs(client, exp):
    d = client.get(f"/api/experiments/{exp.id}").json()
    knobs = {k["name"]: k for k in d["knobs"]}
    assert list(knobs) == ["lr", "units", "opt", "epochs", "layers", "units2"]
    assert knobs["units2"]["when"] == ["layers", 2] and knobs["layers"]["choices"] == [1, 2]
    assert knobs["opt"]["choices"] == ["adam", XSS]  # raw in JSON; the pages put it in the DOM as text
    assert set(d["metrics"]) == {"val_loss", "loss"}
    assert d["best"]["number"] == exp.best.number and d["counts"]["COMPLETE"] == 12


def test_trials_table_pages_and_sorts(client, exp):
    url = f"/api/experiments/{exp.id}/trials"
    page = client.get(url, params={"limit": 5, "offset": 10}).json()
    assert page["total"] == 12 and [r["number"] for r in page["rows"]] == [10, 11]
    values = sorted(t.value for t in exp.trials)
    asc = client.get(url, params={"sort": "value", "limit": 3}).json()["rows"]
    desc = client.get(url, params={"sort": "value", "desc": True, "limit": 3}).json()["rows"]
    assert [r["value"] for r in asc] == pytest.approx(values[:3])
    assert [r["value"] for r in desc] == pytest.approx(values[::-1][:3])
    by_knob = client.get(url, params={"sort": "param.units", "limit": 100}).json()["rows"]
    assert [r["params"]["units"] for r in by_knob] == sorted(t.params["units"] for t in exp.trials)
    # a branch knob missing from most trials sorts last either way
    for d in (False, True):
        rows = client.get(url, params={"sort": "units2", "desc": d, "limit": 100}).json()["rows"]
        present = [r["params"].get("units2") is not None for r in rows]
        assert present == sorted(present, reverse=True)


def test_trials_table_filters_by_state_knob_and_metric(client, exp):
    url = f"/api/experiments/{exp.id}/trials"
    trials = exp.trials
    adam_small = [t for t in trials if t.params["opt"] == "adam" and t.params["lr"] < 0.01]
    got = client.get(url, params={"filter": "opt=adam, lr<0.01", "limit": 100}).json()
    assert got["total"] == len(adam_small)
    xss = client.get(url, params={"filter": f'opt="{XSS}"', "limit": 100}).json()
    assert xss["total"] == sum(t.params["opt"] == XSS for t in trials)
    by_metric = client.get(url, params={"filter": "metric.loss>=0.2, val_loss<1", "limit": 100}).json()
    assert by_metric["total"] == 12
    assert client.get(url, params={"state": "RUNNING,QUEUED"}).json()["total"] == 0
    bad = client.get(url, params={"filter": "nosuch=1"})
    assert bad.status_code == 400 and "'nosuch'" in bad.json()["detail"] and "lr" in bad.json()["detail"]
    assert client.get(url, params={"state": "DONE"}).status_code == 400


def test_parse_filter():
    assert parse_filter("lr<0.01, opt=adam note~'a b' flag==true") == [
        ("lr", "<", 0.01),
        ("opt", "=", "adam"),
        ("note", "~", "a b"),
        ("flag", "=", True),
    ]
    with pytest.raises(FilterError, match="cannot read"):
        parse_filter("lr is small")


def test_points_are_incremental(client, exp):
    url = f"/api/experiments/{exp.id}/points"
    first = client.get(url).json()
    assert first["reset"] and len(first["points"]) == 12
    rev, epoch = first["rev"], first["epoch"]
    same = client.get(url, params={"since": rev, "epoch": epoch}).json()
    assert not same["reset"] and same["points"] == []
    exp.optimize(lambda t: {"val_loss": 0.5, "loss": 0.1}, n_trials=13, show_progress=False)
    time.sleep(0.5)  # the cache re-reads at most every 0.4 s
    new = client.get(url, params={"since": rev, "epoch": epoch}).json()
    assert [p["n"] for p in new["points"]] == [12] and new["n_trials"] == 13
    # a browser that talked to another server (another epoch) gets everything again
    assert len(client.get(url, params={"since": rev, "epoch": "old"}).json()["points"]) == 13


def test_trial_detail_and_reports_after_step(client, exp):
    t = exp.trials[3]
    d = client.get(f"/api/trials/{t.id}").json()
    assert d["number"] == 3 and d["experiment"]["name"] == "demo" and d["params"] == t.params
    assert [r["step"] for r in d["reports"]] == [0, 1, 2, 3, 4] and {"loss", "val_loss"} <= set(d["reports"][0])
    assert d["host"] and d["duration"] >= 0 and d["state"] == "COMPLETE"
    later = client.get(f"/api/trials/{t.id}", params={"after_step": 2}).json()
    assert [r["step"] for r in later["reports"]] == [3, 4]
    assert client.get("/api/trials/9999").status_code == 404


def test_non_finite_metrics_become_null(client, exp):
    trial = exp.ask(1)[0]
    trial.report(0, loss=math.nan, val_loss=math.inf)
    d = client.get(f"/api/trials/{trial.id}").json()  # a NaN would make the browser's JSON.parse throw
    assert d["reports"] == [{"step": 0, "loss": None, "val_loss": None}]


def test_compare(client, exp):
    ids = [t.id for t in exp.trials[:3]]
    got = client.get("/api/compare", params={"ids": ",".join(map(str, ids))}).json()["trials"]
    assert [t["id"] for t in got] == ids and all(len(t["reports"]) == 5 for t in got)
    assert client.get("/api/compare", params={"ids": "1,x"}).status_code == 400


def test_live_trial_shows_new_epochs(client, exp):
    with LiveTrial(exp, every=0.05) as live:
        time.sleep(0.3)
        first = client.get(f"/api/trials/{live.trial.id}").json()
        assert first["state"] == "RUNNING" and first["reports"]
        last = first["reports"][-1]["step"]
        time.sleep(0.3)
        more = client.get(f"/api/trials/{live.trial.id}", params={"after_step": last}).json()["reports"]
        assert more and more[0]["step"] == last + 1
        rows = client.get(f"/api/experiments/{exp.id}/trials", params={"state": "RUNNING"}).json()["rows"]
        assert [r["id"] for r in rows] == [live.trial.id]


@pytest.mark.slow
def test_importances_come_from_a_worker_process(client, exp):
    pytest.importorskip("sklearn")
    url = f"/api/experiments/{exp.id}/importances"
    first = client.get(url).json()
    assert first["available"] is True
    deadline = time.monotonic() + 120
    got = first
    while got.get("computing") and time.monotonic() < deadline:
        time.sleep(0.5)
        got = client.get(url).json()
    assert not got["computing"] and "error" not in got, got
    assert {r["knob"] for r in got["rows"]} <= {"lr", "units", "opt", "layers", "units2"}
    assert got["round"] == 0 and got["n"] == got["of"] == 12
    # lr drives the objective (val_loss grows with log lr away from 10^-2.5): it must rank first
    assert got["rows"][0]["knob"] == "lr"
    assert client.get(url).json()["computing"] is False  # the same trials: nothing computed again


def test_importances_wait_for_five_trials(sqlite_url):
    exp = make_experiment(sqlite_url, n_trials=3)
    with TestClient(create_app(exp.storage.url)) as c:
        r = c.get(f"/api/experiments/{exp.id}/importances").json()
        assert r["available"] is False and "5 complete trials" in r["reason"]


# ---- steering ----
def test_note_is_stored_and_shown(client, exp):
    t = exp.trials[0]
    r = client.post(f"/api/trials/{t.id}/note", json={"note": NOTE_XSS}, headers=CHANGE)
    assert r.status_code == 200
    assert exp.storage.get_trial(t.id).note == NOTE_XSS
    row = client.get(f"/api/experiments/{exp.id}/trials", params={"filter": "note~onerror"}).json()["rows"]
    assert [x["id"] for x in row] == [t.id]
    assert client.post(f"/api/trials/{t.id}/note", json={"note": 3}, headers=CHANGE).status_code == 400


def test_stop_reaches_the_objective(client, exp):
    with LiveTrial(exp, every=0.05) as live:
        r = client.post(f"/api/trials/{live.trial.id}/stop", headers=CHANGE)
        assert r.status_code == 200
        assert live.saw_stop.wait(5), "trial.should_stop() never turned True"
    assert exp.storage.stop_requested(live.trial.id)
    done = exp.trials[0]
    r = client.post(f"/api/trials/{done.id}/stop", headers=CHANGE)
    assert r.status_code == 409 and "COMPLETE" in r.json()["detail"]


def test_enqueue_validates_and_names_the_knob(client, exp):
    url = f"/api/experiments/{exp.id}/enqueue"
    bad = client.post(url, json={"params": {"lr": 5.0, "units": 9, "opt": "adam", "layers": 1}}, headers=CHANGE)
    assert bad.status_code == 400 and "'lr'" in bad.json()["detail"]
    missing = client.post(url, json={"params": {"lr": 0.01, "opt": "adam", "layers": 1}}, headers=CHANGE)
    assert missing.status_code == 400 and "'units'" in missing.json()["detail"]
    inactive = client.post(
        url, json={"params": {"lr": 0.01, "units": 9, "opt": "adam", "layers": 1, "units2": 5}}, headers=CHANGE
    )
    assert inactive.status_code == 400 and "'units2'" in inactive.json()["detail"]
    params = {"lr": 0.01, "units": 9, "opt": XSS, "layers": 2, "units2": 5}
    ok = client.post(url, json={"params": params, "note": "by hand"}, headers=CHANGE)
    assert ok.status_code == 200
    queued = ok.json()["trial"]
    rows = client.get(f"/api/experiments/{exp.id}/trials", params={"state": "QUEUED"}).json()["rows"]
    assert [r["number"] for r in rows] == [queued["number"]] and rows[0]["note"] == "by hand"
    (ran,) = exp.ask(1)  # the search runs it before anything the strategy proposes
    assert ran.number == queued["number"] and ran.params == {**params, "epochs": 5}


def test_new_round_with_an_edited_space(client, exp):
    url = f"/api/experiments/{exp.id}/rounds"
    detail = client.get(f"/api/experiments/{exp.id}").json()
    assert client.get("/api/config").json()["rounds_supported"] is True
    for bad in ({"lr": {"kind": "nope"}}, {"lr": "abc"}, {"lr": {"kind": "real", "low": 1}}, []):
        assert client.post(url, json={"space": bad}, headers=CHANGE).status_code == 400, bad
    same = client.post(url, json={"space": detail["space"]}, headers=CHANGE)
    assert same.status_code == 400 and "round 0" in same.json()["detail"]
    narrowed = {**detail["space"], "lr": {"kind": "real", "low": 0.001, "high": 0.01, "log": True}}
    r = client.post(url, json={"space": narrowed, "reason": "lr above 1e-2 diverges"}, headers=CHANGE)
    assert r.status_code == 200 and r.json()["round"] == 1
    after = client.get(f"/api/experiments/{exp.id}").json()
    assert after["rounds"] == 2 and after["space"] == narrowed
    assert [x["reason"] for x in after["round_list"]][1] == "lr above 1e-2 diverges"
    lr = {k["name"]: k for k in after["knobs"]}["lr"]
    assert (lr["low"], lr["high"]) == (1e-4, 1e-1)  # columns and axes still cover round 0's trials
    assert client.get("/api/experiments").json()["experiments"][0]["rounds"] == 2
    # the search and enqueue now use round 1's space
    enq = f"/api/experiments/{exp.id}/enqueue"
    out = client.post(enq, json={"params": {"lr": 0.05, "units": 9, "opt": "adam", "layers": 1}}, headers=CHANGE)
    assert out.status_code == 400 and "'lr'" in out.json()["detail"]
    ok = client.post(enq, json={"params": {"lr": 0.005, "units": 9, "opt": "adam", "layers": 1}}, headers=CHANGE)
    assert ok.status_code == 200
    (t,) = Experiment.load("demo", exp.storage).ask(1)
    assert t.params["lr"] == 0.005 and exp.storage.get_trial(t.id).round == 1


def test_new_round_off_without_the_rounds_api(client, exp, monkeypatch):
    from knoblab.experiment import Experiment as Exp

    monkeypatch.delattr(Exp, "next_round")
    assert client.get("/api/config").json()["rounds_supported"] is False
    space = client.get(f"/api/experiments/{exp.id}").json()["space"]
    r = client.post(f"/api/experiments/{exp.id}/rounds", json={"space": space}, headers=CHANGE)
    assert r.status_code == 501 and "next_round" in r.json()["detail"]


# ---- safety ----
def test_read_only_refuses_every_change(exp):
    with TestClient(create_app(exp.storage.url, read_only=True)) as c:
        assert c.get("/api/config").json()["read_only"] is True
        t = exp.trials[0]
        for path, body in [
            (f"/api/trials/{t.id}/note", {"note": "x"}),
            (f"/api/trials/{t.id}/stop", {}),
            (f"/api/experiments/{exp.id}/enqueue", {"params": {}}),
            (f"/api/experiments/{exp.id}/rounds", {"space": {}}),
            (f"/api/experiments/{exp.id}/note", {"note": "x"}),
        ]:
            r = c.post(path, json=body, headers=CHANGE)
            assert r.status_code == 403 and "read-only" in r.json()["detail"]
        assert c.get(f"/api/experiments/{exp.id}/trials").status_code == 200
    assert exp.storage.get_trial(t.id).note is None


def test_changes_need_the_custom_header(client, exp):
    # a form posted by another site cannot set it, so it cannot steer the search
    r = client.post(f"/api/trials/{exp.trials[0].id}/note", json={"note": "x"})
    assert r.status_code == 403 and "x-knoblab" in r.json()["detail"]


def test_token_guards_pages_and_api(exp):
    with TestClient(create_app(exp.storage.url, token="s3cret")) as c:
        assert c.get("/api/experiments").status_code == 401
        assert c.get("/").status_code == 401
        assert c.get("/static/app.js").status_code == 401
        assert c.get("/api/experiments", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/api/experiments", headers={"authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/?token=wrong", follow_redirects=False).status_code == 401
        r = c.get(f"/experiments/{exp.id}?token=s3cret", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/experiments/{exp.id}"
        assert "httponly" in r.headers["set-cookie"].lower()
        c.cookies.set("knoblab_token", "s3cret")
        assert c.get("/api/experiments").status_code == 200 and c.get("/").status_code == 200


def test_host_header_is_checked_on_loopback(exp):
    with TestClient(create_app(exp.storage.url, allowed_hosts=["127.0.0.1", "localhost"])) as c:
        assert c.get("/api/config", headers={"host": "127.0.0.1:8080"}).status_code == 200
        assert c.get("/api/config", headers={"host": "evil.example:8080"}).status_code == 400


def test_assets_are_local_and_pages_forbid_inline_scripts(client):
    page = client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    js = client.get(client.get("/api/config").json()["plotly"])
    assert js.status_code == 200 and "plotly.js" in js.text[:500] and len(js.content) > 1_000_000
    app_js = client.get("/static/app.js").text
    assert not re.search(r"innerHTML\s*=|outerHTML|insertAdjacentHTML|document\.write", app_js)
    assert "https://" not in app_js
    for name in ("markdown.js", "plots.js"):
        assert not re.search(
            r"innerHTML\s*=|outerHTML|insertAdjacentHTML|document\.write", client.get(f"/static/{name}").text
        )
    assert client.get("/static/..%2Fapp.py").status_code == 404


def test_reads_never_wait_for_a_writer(client, exp, sqlite_url):
    """A search holding the write lock must not stall the dashboard (nor the reverse)."""
    path = sqlite_url[len("sqlite:///") :]
    writer = sqlite3.connect(path, isolation_level=None, timeout=30)
    writer.execute("BEGIN IMMEDIATE")
    try:
        result = {}

        def read():
            t0 = time.monotonic()
            result["status"] = client.get(f"/api/experiments/{exp.id}/trials").status_code
            result["list"] = client.get("/api/experiments").status_code
            result["s"] = time.monotonic() - t0

        th = threading.Thread(target=read)
        th.start()
        th.join(10)
        assert result.get("status") == 200 and result.get("list") == 200 and result["s"] < 2
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_is_loopback():
    assert all(is_loopback(h) for h in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"])
    assert not any(is_loopback(h) for h in ["0.0.0.0", "192.168.1.5", "::", "example.com"])


def test_cli_refuses_a_public_bind_without_token(exp, monkeypatch):
    calls = []
    monkeypatch.setattr("knoblab.dashboard.serve", lambda *a, **k: calls.append((a, k)))
    monkeypatch.delenv("KNOBLAB_DASHBOARD_TOKEN", raising=False)
    url = exp.storage.url
    r = CliRunner().invoke(main, ["dashboard", "--storage", url, "--host", "0.0.0.0"])
    assert r.exit_code != 0 and "--token" in r.output and not calls
    r = CliRunner().invoke(main, ["dashboard", "--storage", url, "--host", "0.0.0.0", "--token", "t", "--read-only"])
    assert r.exit_code == 0, r.output
    (args, kwargs) = calls[-1]
    assert kwargs == {"host": "0.0.0.0", "port": 8080, "read_only": True, "token": "t"}
    r = CliRunner().invoke(main, ["dashboard", "--storage", url])
    assert r.exit_code == 0 and "http://127.0.0.1:8080/" in r.output and calls[-1][1]["host"] == "127.0.0.1"


def test_serve_refuses_a_public_bind_without_token(exp):
    from knoblab.dashboard import serve

    with pytest.raises(ValueError, match="token"):
        serve(exp.storage.url, host="0.0.0.0")


def test_works_over_postgresql(postgres_url):
    exp = make_experiment(postgres_url, n_trials=4)
    with TestClient(create_app(SQLStorage(postgres_url))) as c:
        (e,) = c.get("/api/experiments").json()["experiments"]
        assert e["counts"] == {"COMPLETE": 4}
        assert c.get(f"/api/experiments/{exp.id}/trials").json()["total"] == 4
        t = exp.trials[0]
        assert c.post(f"/api/trials/{t.id}/note", json={"note": "pg"}, headers=CHANGE).status_code == 200
        assert len(c.get(f"/api/trials/{t.id}").json()["reports"]) == 5
        curves = c.get(f"/api/experiments/{exp.id}/curves").json()["curves"]  # read through the driver's cursor
        assert len(curves) == 4 and all(cv["steps"] == [0, 1, 2, 3, 4] for cv in curves)
        from .support import curve_objective

        exp.optimize(curve_objective, n_trials=5, show_progress=False)
        time.sleep(0.5)
        assert len(c.get(f"/api/experiments/{exp.id}/curves").json()["curves"]) == 5  # and kept current
    assert exp.storage.get_trial(t.id).state == TrialState.COMPLETE


@pytest.mark.parametrize("huge", ["99999999999999999999", str(2**63), "-99999999999999999999"])
def test_ids_past_the_database_range_are_not_found(client, huge):
    for url in (
        f"/api/trials/{huge}",
        f"/api/experiments/{huge}",
        f"/api/experiments/{huge}/trials",
        f"/api/experiments/{huge}/points",
        f"/api/experiments/{huge}/importances",
        f"/api/compare?ids=1,{huge}",
    ):
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code, r.text)
    for url in (f"/api/trials/{huge}/stop", f"/api/experiments/{huge}/enqueue"):
        r = client.post(url, json={"params": {}}, headers=CHANGE)
        assert r.status_code == 404, (url, r.status_code, r.text)


def test_json_responses_are_not_sniffed(client, exp):
    for r in (
        client.get("/api/experiments"),
        client.get(f"/api/trials/{exp.trials[0].id}"),
        client.get("/api/trials/9999"),  # an error, from FastAPI's own handler
        client.post(f"/api/trials/{exp.trials[0].id}/stop"),  # refused by the guard (no change header)
    ):
        assert r.headers["content-type"].startswith("application/json"), r.headers
        assert r.headers.get("x-content-type-options") == "nosniff", (r.request.url, r.headers)


# ---- issue 17: curves, brushing, CSV, notes, rounds ----
@pytest.fixture(scope="module")
def pruning_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("pruning") / "knoblab.db"
    make_pruning_experiment(f"sqlite:///{path}").storage.close()
    return path


@pytest.fixture
def pruning(pruning_template, sqlite_url):
    shutil.copy(pruning_template, sqlite_url[len("sqlite:///") :])
    exp = Experiment.load("pruning", sqlite_url)
    with TestClient(create_app(exp.storage.url)) as c:
        yield exp, c


def test_parse_filter_alternatives():
    assert parse_filter("opt=adam|'a b'|3, x!=none|1") == [("opt", "=", ("adam", "a b", 3.0)), ("x", "!=", (None, 1.0))]
    assert parse_filter('opt="a|b", note~it\'s') == [("opt", "=", "a|b"), ("note", "~", "it's")]
    with pytest.raises(FilterError, match="alternatives"):
        parse_filter("lr<1|2")
    with pytest.raises(FilterError, match="brush: cannot read"):
        parse_filter("lr is small", "brush")


def test_brush_and_filter_keep_the_same_trials_with_their_ids(client, exp):
    url = f"/api/experiments/{exp.id}/trials"
    brush = f'param.opt=adam|"{XSS}", param.lr>=0.001, param.lr<=0.05'
    got = client.get(url, params={"brush": brush, "filter": "units>20", "ids": True, "limit": 3}).json()
    want = [t for t in exp.trials if 0.001 <= t.params["lr"] <= 0.05 and t.params["units"] > 20]
    assert got["total"] == len(want) and sorted(got["ids"]) == sorted(t.id for t in want) and len(got["rows"]) <= 3
    assert "ids" not in client.get(url).json()  # only when asked
    # a conditional knob: =none keeps the trials without it
    none = client.get(url, params={"brush": "param.units2=none", "ids": True}).json()
    assert sorted(none["ids"]) == sorted(t.id for t in exp.trials if "units2" not in t.params)
    bad = client.get(url, params={"brush": "param.nosuch>1"})
    assert bad.status_code == 400 and "no knob named 'nosuch'" in bad.json()["detail"]


def test_csv_holds_every_kept_trial_exactly(client, exp):
    exp.storage.set_note(exp.trials[0].id, '=HYPERLINK("http://x")')
    url = f"/api/experiments/{exp.id}/trials.csv"
    r = client.get(url, params={"filter": "opt=adam", "columns": "number,state,param.lr,metric.loss,value,note"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="demo-trials.csv"'
    rows = list(__import__("csv").DictReader(__import__("io").StringIO(r.text)))
    adam = [t for t in exp.trials if t.params["opt"] == "adam"]
    assert [int(x["number"]) for x in rows] == [t.number for t in adam]  # every one, not a page
    assert list(rows[0]) == ["number", "state", "lr", "loss", "value", "note"]
    by_number = {t.number: t for t in adam}
    for x in rows:
        t = by_number[int(x["number"])]
        assert float(x["lr"]) == t.params["lr"] and float(x["value"]) == t.value  # exact, not rounded
    if exp.trials[0].params["opt"] == "adam":
        assert rows[0]["note"] == '\'=HYPERLINK("http://x")'  # not a formula in a spreadsheet
    full = client.get(url).text.splitlines()
    assert len(full) == 13 and full[0].startswith("number,state,stopped,value,round,lr,units,opt")
    bad = client.get(url, params={"columns": "number,nosuch"})
    assert bad.status_code == 400 and "'nosuch'" in bad.json()["detail"]


def test_curves_every_trial_then_the_best_over_a_band(pruning):
    exp, c = pruning
    url = f"/api/experiments/{exp.id}/curves"
    trials = exp.storage.get_trials(exp.id, with_reports=True)
    everything = c.get(url).json()
    assert everything["metric"] == "val_loss" and everything["metrics"] == ["loss", "val_loss"]
    assert everything["n"] == everything["shown"] == len(trials) == 70 and everything["band"] is None
    by_id = {cv["id"]: cv for cv in everything["curves"]}
    for t in trials:
        assert by_id[t.id]["steps"] == [s for s, _ in t.reports]
        assert by_id[t.id]["values"] == [m["val_loss"] for _, m in t.reports]
        assert by_id[t.id]["s"] == t.state.value and by_id[t.id]["x"] == exp.storage.stop_requested(t.id)
    top = c.get(url, params={"top": 10, "metric": "loss"}).json()
    complete = sorted((t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    assert {cv["id"] for cv in top["curves"]} == {t.id for t in complete[:10]}  # the best by the objective
    band = top["band"]
    assert band["steps"] == list(range(8)) and band["count"][0] == 70 and band["count"][-1] == 55
    import numpy as np

    at3 = [m["loss"] for t in trials for s, m in t.reports if s == 3]
    assert band["q50"][3] == pytest.approx(float(np.median(at3)))
    assert band["q10"][3] == pytest.approx(float(np.quantile(at3, 0.1)))
    assert band["q90"][3] == pytest.approx(float(np.quantile(at3, 0.9)))
    # the filter and brush the table uses
    few = c.get(url, params={"filter": "layers=2", "state": "PRUNED"}).json()
    assert {cv["id"] for cv in few["curves"]} == {
        t.id for t in trials if t.state == TrialState.PRUNED and t.params["layers"] == 2
    }
    assert c.get(url, params={"metric": "nosuch"}).status_code == 400
    # nothing changed: a short answer
    same = c.get(url, params={"since": everything["rev"], "epoch": everything["epoch"]}).json()
    assert same == {"unchanged": True, "rev": everything["rev"], "epoch": everything["epoch"]}


def test_curves_grow_while_a_trial_runs(pruning):
    exp, c = pruning
    url = f"/api/experiments/{exp.id}/curves"
    first = c.get(url, params={"top": 5}).json()
    with LiveTrial(exp, every=0.05) as live:
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline and len(seen) < 3:
            time.sleep(0.5)
            got = c.get(url, params={"top": 5}).json()
            cv = [x for x in got["curves"] if x["id"] == live.trial.id]
            if cv:
                seen.append(len(cv[0]["steps"]))
        assert len(seen) == 3 and seen[0] < seen[-1], seen  # drawn whatever its rank, and growing
        assert got["rev"] > first["rev"] and got["shown"] == 6


def test_pruned_and_running_trials_show_their_last_report(pruning):
    exp, c = pruning
    rows = c.get(f"/api/experiments/{exp.id}/trials", params={"state": "PRUNED", "limit": 100}).json()["rows"]
    for r in rows:
        t = exp.storage.get_trial(r["id"])
        step, metrics = t.reports[-1]
        assert r["last"] == {"step": step, "metrics": metrics}
    # the table filters and sorts on them as it shows them
    got = c.get(f"/api/experiments/{exp.id}/trials", params={"filter": "state=PRUNED, loss>0", "limit": 100}).json()
    assert got["total"] == len(rows)
    complete = c.get(f"/api/experiments/{exp.id}/trials", params={"state": "COMPLETE"}).json()["rows"]
    assert all(r["last"] is None for r in complete)


def test_stopped_trials_are_told_apart_from_pruned(pruning):
    exp, c = pruning
    stops = [t for t in exp.trials if t.state == TrialState.PRUNED and exp.storage.stop_requested(t.id)]
    assert [t.number for t in stops] == [3]
    d = c.get(f"/api/experiments/{exp.id}").json()
    assert d["stopped"] == 1 and d["counts"]["PRUNED"] == 15
    (e,) = c.get("/api/experiments").json()["experiments"]
    assert e["stopped"] == 1
    points = {p["n"]: p for p in c.get(f"/api/experiments/{exp.id}/points").json()["points"]}
    assert points[3]["x"] is True and "x" not in points[4] and points[4]["s"] == "PRUNED"
    assert c.get(f"/api/trials/{stops[0].id}").json()["stopped"] is True


def test_points_carry_times_and_workers(client, exp):
    got = client.get(f"/api/experiments/{exp.id}/points").json()
    t0 = exp.storage.get_experiment("demo").created_at
    t = exp.trials[5]
    p = next(x for x in got["points"] if x["id"] == t.id)
    assert p["t"][0] == pytest.approx((t.started_at - t0).total_seconds(), abs=0.01)
    assert p["t"][1] == pytest.approx((t.finished_at - t0).total_seconds(), abs=0.01)
    assert got["workers"][p["w"]].endswith(":" + str(__import__("os").getpid()))


def test_experiment_note(client, exp):
    url = f"/api/experiments/{exp.id}/note"
    assert client.post(url, json={"note": "**why**: " + NOTE_XSS}, headers=CHANGE).status_code == 200
    assert exp.storage.get_experiment("demo").attrs["note"] == "**why**: " + NOTE_XSS
    assert client.get(f"/api/experiments/{exp.id}").json()["note"] == "**why**: " + NOTE_XSS
    assert client.get("/api/experiments").json()["experiments"][0]["note"] == "**why**: " + NOTE_XSS
    assert client.post(url, json={"note": 3}, headers=CHANGE).status_code == 400
    assert client.post(url, json={"note": "x" * 10_001}, headers=CHANGE).status_code == 400


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        ({"lr": {"kind": "real", "low": 0.1, "high": 0.01, "log": True}}, "knob 'lr': low 0.1 is not below high"),
        ({"lr": {"kind": "real", "low": 0.001, "high": 0.01}}, "knob 'lr': a real knob needs log"),
        ({"lr": {"kind": "real", "low": "a", "high": 0.01, "log": False}}, "knob 'lr': low must be a number"),
        ({"lr": {"kind": "real", "low": -1, "high": 0.01, "log": True}}, "knob 'lr'"),
        ({"units": {"kind": "int", "low": 8.5, "high": 64, "log": False, "step": 1}}, "knob 'units'"),
        ({"opt": {"kind": "categorical", "choices": []}}, "knob 'opt': keep at least one value"),
        ({"opt": {"kind": "nope"}}, "knob 'opt': unknown kind 'nope'"),
        (
            {"layers": {"kind": "branch", "options": [[2, {"units2": {"kind": "int", "low": 9, "high": 3}}]]}},
            "knob 'units2'",
        ),
    ],
)
def test_new_round_errors_name_the_knob(client, exp, edit, says):
    space = {**client.get(f"/api/experiments/{exp.id}").json()["space"], **edit}
    r = client.post(f"/api/experiments/{exp.id}/rounds", json={"space": space}, headers=CHANGE)
    assert r.status_code == 400 and says in r.json()["detail"], r.json()


def test_plotly_is_kept_by_browsers(client):
    url = client.get("/api/config").json()["plotly"]
    assert re.fullmatch(r"/static/vendor/plotly-[0-9a-f]{12}\.min\.js", url)
    r = client.get(url)
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/static/vendor/plotly.min.js").status_code == 404  # one address, named by its content


def test_knob_values_stored_by_reference_show_by_name(sqlite_url):
    exp = make_object_experiment(sqlite_url)
    with TestClient(create_app(exp.storage.url)) as c:
        d = c.get(f"/api/experiments/{exp.id}").json()
        knobs = {k["name"]: k for k in d["knobs"]}
        assert knobs["act"]["choices"] == ["sqrt", "exp"] and knobs["shape"]["choices"] == ["(64, 32)", "(16,)"]
        assert knobs["opt"]["choices"] == ["sgd", "Adam(learning_rate=0.01)"]
        enqueue = {k["name"]: k for k in d["enqueue_knobs"]}  # the stored forms, to send back, with their names
        assert enqueue["act"]["choices"] == [{"$ref": "math:sqrt"}, {"$ref": "math:exp"}]
        assert enqueue["opt"]["labels"] == ["sgd", "Adam(learning_rate=0.01)"] and d["space_labels"]["act"] == [
            "sqrt",
            "exp",
        ]
        url = f"/api/experiments/{exp.id}/trials"
        rows = c.get(url).json()["rows"]
        assert [r["params"]["act"] for r in rows] == ["sqrt", "exp", "sqrt"]
        assert rows[2]["params"] == {"act": "sqrt", "shape": "(16,)", "opt": "Adam(learning_rate=0.01)", "x": 0.75}
        assert c.get(url, params={"filter": "act=sqrt"}).json()["total"] == 2
        assert c.get(url, params={"filter": "opt=Adam(learning_rate=0.01)"}).json()["total"] == 1
        assert c.get(url, params={"brush": 'param.shape="(64, 32)"|"(16,)"'}).json()["total"] == 3
        points = c.get(f"/api/experiments/{exp.id}/points").json()["points"]
        assert {p["p"]["act"] for p in points} == {"sqrt", "exp"}
        assert c.get(f"/api/trials/{rows[1]['id']}").json()["params"]["act"] == "exp"
        assert "\nexp," in c.get(f"/api/experiments/{exp.id}/trials.csv", params={"columns": "act,x"}).text
        # enqueue sends a stored form back: stored as is
        ok = c.post(
            f"/api/experiments/{exp.id}/enqueue",
            json={
                "params": {
                    "act": enqueue["act"]["choices"][1],
                    "shape": enqueue["shape"]["choices"][1],
                    "opt": ADAM,
                    "x": 0.1,
                }
            },
            headers=CHANGE,
        )
        assert ok.status_code == 200, ok.json()
    queued = exp.storage.get_trials(exp.id, states=(TrialState.QUEUED,))
    assert [t.params["act"] for t in queued][-1] is math.exp


def test_a_hand_edited_row_shows_what_is_readable(client, exp, sqlite_url):
    """One row with broken JSON (edited by hand) does not take the table down: it says which field is unreadable."""
    t, other = exp.trials[2], exp.trials[3]
    with sqlite3.connect(sqlite_url[len("sqlite:///") :]) as con:
        con.execute("UPDATE trials SET params = '{broken' WHERE id = ?", (t.id,))
    rows = {r["id"]: r for r in client.get(f"/api/experiments/{exp.id}/trials", params={"limit": 100}).json()["rows"]}
    assert len(rows) == 12 and rows[t.id]["params"] == {}
    assert rows[t.id]["error"] == f"table trials, row {t.id}: field params: cannot read it as a JSON object"
    assert rows[other.id]["params"] == other.params  # the others as stored
