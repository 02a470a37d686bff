"""The dashboard's web app: a JSON API over the storage, a few static pages, and plotly.js from the plotly package.

Pages are one HTML shell plus small vanilla JS (static/); the browser polls the API for what changed since its last
look, so new trials and epochs show within a second or two. Steering (notes, stop, enqueue) goes through the same
storage calls the search uses. Nothing is fetched from the internet.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.resources
import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from ..storage.sql import SQLStorage, loads, safe_url
from ..trial import TrialState
from . import curves as learning_curves
from .data import STATES, Data, clean, shown, shown_params, to_json
from .importance import MAX_TRIALS, Importances, analysis_missing
from .knobs import all_knobs, flat_knobs, rounds_of, space_labels
from .space_edit import read_space
from .table import FilterError, default_columns, field_getter, matching, metrics_of, to_csv

STATIC = Path(__file__).parent / "static"
TOKEN_COOKIE = "knoblab_token"
# no inline script runs, even if some string slipped through unescaped; plotly.js (trial and compare pages)
# evaluates strings as it loads, so 'unsafe-eval' stays (tried without: the pages throw)
PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
CSRF_HEADER = "x-knoblab"  # every change must carry it: a page from another origin cannot add it without CORS


def plotly_js() -> Path:
    """plotly.min.js as shipped inside the plotly Python package (package_data), never from a CDN."""
    try:
        path = Path(str(importlib.resources.files("plotly") / "package_data" / "plotly.min.js"))
    except ModuleNotFoundError:
        raise RuntimeError("the dashboard needs plotly: pip install 'knoblab[dashboard]'") from None
    if not path.is_file():
        raise RuntimeError(f"plotly.min.js is missing from the plotly package ({path}); reinstall plotly")
    return path


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _json(obj: Any, status: int = 200) -> Response:
    # json.dumps directly: FastAPI's encoder walks every value and is slow on 10,000 rows
    return Response(to_json(obj), status_code=status, media_type="application/json")


def _storable_id(i: int) -> bool:
    """Ids are 64-bit in every database: a larger one names no row (and would not even reach the query)."""
    return -(2**63) <= i < 2**63


def create_app(
    storage: SQLStorage | str,
    *,
    read_only: bool = False,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
    poll_interval: float = 0.5,
) -> FastAPI:
    """The dashboard over a storage (an `SQLStorage` or its URL).

    Args:
        read_only: refuse every change (notes, stop, enqueue, rounds) with 403 and hide the controls.
        token: when given, every request must carry it (cookie set by opening `/?token=T`, or `Authorization:
            Bearer T`); required by the CLI for any non-loopback address.
        allowed_hosts: Host header values accepted (without port); guards a loopback server against DNS
            rebinding. None accepts any.
        poll_interval: seconds between the pages' polls for changes.
    """
    if isinstance(storage, str):
        storage = SQLStorage(storage)
    plotly_path = plotly_js()
    data = Data(storage)
    importance_jobs = Importances()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        importance_jobs.close()
        data.close()

    app = FastAPI(title="knoblab dashboard", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.data = data
    hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    @app.middleware("http")
    async def guard(request: Request, call_next):
        path = request.url.path
        if hosts is not None:
            host = (request.headers.get("host") or "").lower()
            host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if host not in hosts:
                return JSONResponse({"detail": f"host {host!r} is not served here"}, status_code=400)
        if token is not None:
            given = request.query_params.get("token")
            if given is not None and request.method == "GET" and not path.startswith("/api/"):
                if not hmac.compare_digest(given, token):
                    return HTMLResponse("<h1>401: wrong token</h1>", status_code=401)
                rest = {k: v for k, v in request.query_params.items() if k != "token"}
                target = path + ("?" + urlencode(rest) if rest else "")
                response = RedirectResponse(target, status_code=303)
                response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
                return response
            auth = request.headers.get("authorization", "")
            sent = auth[7:] if auth.lower().startswith("bearer ") else request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(sent, token):
                if path.startswith("/api/"):
                    return JSONResponse({"detail": "a token is required: open the dashboard with ?token=..."}, 401)
                return HTMLResponse(
                    "<h1>401: this dashboard needs its token</h1><p>Open it as /?token=YOUR_TOKEN.</p>",
                    status_code=401,
                )
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if read_only:
                return JSONResponse({"detail": "the dashboard is read-only (--read-only): nothing can change"}, 403)
            if request.headers.get(CSRF_HEADER) != "1":
                return JSONResponse({"detail": f"changes need the {CSRF_HEADER}: 1 header"}, 403)
        return await call_next(request)

    @app.middleware("http")  # added last, so it runs outermost: the guard's refusals get the header too
    async def nosniff(request: Request, call_next):  # JSON too: a browser must never read an answer as a page
        response = await call_next(request)
        response.headers.setdefault("x-content-type-options", "nosniff")
        return response

    # ---- helpers ----
    def experiment_or_404(experiment_id: int):
        row = data.experiment_row(experiment_id) if _storable_id(experiment_id) else None
        if row is None:
            raise HTTPException(404, f"no experiment with id {experiment_id}")
        return row

    def trial_or_404(trial_id: int):
        row = data.trial_row(trial_id) if _storable_id(trial_id) else None
        if row is None:
            raise HTTPException(404, f"no trial with id {trial_id}")
        return row

    def rounds_supported() -> bool:
        from ..experiment import Experiment

        return callable(getattr(Experiment, "next_round", None))

    def summary(e, rows: list[dict[str, Any]]) -> dict[str, Any]:
        counts = {s: 0 for s in STATES}
        best = None
        stopped = 0
        for r in rows:
            counts[r["state"]] += 1
            stopped += r["stopped"]
            v = r["value"]
            if r["state"] == TrialState.COMPLETE.value and v is not None:
                if best is None or (v < best["value"] if e.direction == "min" else v > best["value"]):
                    best = {"id": r["id"], "number": r["number"], "value": v}
        return {"counts": counts, "stopped": stopped, "best": best, "n_trials": len(rows)}

    def table_query(e, rows, state: str, filter_text: str, brush: str, sort: str, desc: bool):
        """Every row the table's states, filter and brush keep, sorted; 400 naming what cannot be read."""
        knobs = [k["name"] for k in all_knobs(rounds_of(e))]
        metric_names = sorted(metrics_of(rows))
        states = [s for s in state.split(",") if s]
        bad = [s for s in states if s not in STATES]
        if bad:
            raise HTTPException(400, f"state: got {bad[0]!r}; allowed: {STATES}")
        try:
            kept = matching(
                rows,
                knobs=knobs,
                metrics=metric_names,
                states=states or None,
                filter_text=filter_text,
                brush=brush,
                sort=sort,
                descending=desc,
            )
        except FilterError as err:
            raise HTTPException(400, str(err)) from None
        return kept, knobs, metric_names

    # ---- pages ----
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"cache-control": "no-cache", **PAGE_HEADERS})

    app.get("/", include_in_schema=False)(page)
    app.get("/experiments/{experiment_id}", include_in_schema=False)(lambda experiment_id: page())
    app.get("/trials/{trial_id}", include_in_schema=False)(lambda trial_id: page())
    app.get("/compare", include_in_schema=False)(page)

    # plotly.js (4.8 MB) under a name that changes with its content: browsers keep it for a year and never ask again
    plotly_url = f"/static/vendor/plotly-{hashlib.sha256(plotly_path.read_bytes()).hexdigest()[:12]}.min.js"

    @app.get(plotly_url, include_in_schema=False)
    def plotly_asset():
        return FileResponse(
            plotly_path,
            media_type="text/javascript",
            headers={"cache-control": "public, max-age=31536000, immutable"},
        )

    @app.get("/static/{name}", include_in_schema=False)
    def static_asset(name: str):
        path = STATIC / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(404, f"no asset {name!r}")
        types = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}
        return FileResponse(path, media_type=types.get(path.suffix), headers={"cache-control": "no-cache"})

    # ---- reading ----
    @app.get("/api/config")
    def config():
        return _json(
            {
                "read_only": read_only,
                "storage": safe_url(storage.url),
                "poll_interval": poll_interval,
                "rounds_supported": rounds_supported(),
                "epoch": data.epoch,
                "plotly": plotly_url,
            }
        )

    @app.get("/api/experiments")
    def list_experiments():
        return _json({"experiments": data.summaries()})

    @app.get("/api/experiments/{experiment_id}")
    def experiment(experiment_id: int):
        e = experiment_or_404(experiment_id)
        rows = data.cache(experiment_id).all_rows()
        metric_names = metrics_of(rows)
        rounds = rounds_of(e)
        per_round: dict[int, int] = {}
        for r in rows:
            per_round[r["round"]] = per_round.get(r["round"], 0) + 1
        attrs = loads(e.attrs)
        return _json(
            {
                "id": e.id,
                "name": e.name,
                "metric": e.metric,
                "direction": e.direction,
                "seed": e.seed,
                "created_at": e.created_at,
                "space": rounds[-1]["space"],  # the latest round's, which the search and enqueue use
                "knobs": all_knobs(rounds),
                "enqueue_knobs": flat_knobs(rounds[-1]["space"]),
                "space_labels": space_labels(rounds[-1]["space"]),
                "metrics": metric_names,
                "rounds": max(len(rounds), max(per_round, default=0) + 1),
                "round_list": [
                    {
                        "round": r.get("round"),
                        "parent": r.get("parent"),
                        "reason": r.get("reason"),
                        "created_at": r.get("created_at"),
                        "n_trials": per_round.get(r["round"], 0) if isinstance(r.get("round"), int) else 0,
                    }
                    for r in rounds
                ],
                "attrs": attrs,
                "note": attrs.get("note") if isinstance(attrs.get("note"), str) else "",
                **summary(e, rows),
            }
        )

    @app.get("/api/experiments/{experiment_id}/trials")
    def experiment_trials(
        experiment_id: int,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        sort: str = "number",
        desc: bool = False,
        state: str = "",
        filter: str = "",
        brush: str = "",
        ids: bool = False,
    ):
        """One page of the trials table; with `ids`, the ids of every matching trial too (the plots keep those)."""
        e = experiment_or_404(experiment_id)
        cache = data.cache(experiment_id)
        kept, _, _ = table_query(e, cache.all_rows(), state, filter, brush, sort, desc)
        out = {"total": len(kept), "offset": offset, "limit": limit, "rows": kept[offset : offset + limit]}
        if ids:
            out["ids"] = [r["id"] for r in kept]
        return _json({**out, "rev": cache.rev})

    @app.get("/api/experiments/{experiment_id}/trials.csv")
    def experiment_csv(
        experiment_id: int,
        sort: str = "number",
        desc: bool = False,
        state: str = "",
        filter: str = "",
        brush: str = "",
        columns: str = "",
    ):
        """Every trial the table keeps (not one page), as CSV with exact values; `columns` as the filter names them."""
        e = experiment_or_404(experiment_id)
        kept, knobs, metric_names = table_query(
            e, data.cache(experiment_id).all_rows(), state, filter, brush, sort, desc
        )
        chosen = [c.strip() for c in columns.split(",") if c.strip()] or default_columns(knobs, metric_names)
        for c in chosen:
            try:
                field_getter(c, knobs, metric_names)
            except FilterError:
                raise HTTPException(
                    400, f"columns: no column {c!r}; choose among {default_columns(knobs, metric_names)}"
                ) from None
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", e.name).strip("_") or f"experiment-{e.id}"
        return Response(
            to_csv(kept, chosen, knobs, metric_names),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}-trials.csv"'},
        )

    @app.get("/api/experiments/{experiment_id}/points")
    def experiment_points(experiment_id: int, since: int = 0, epoch: str = ""):
        """The trials' numbers, states, values and knobs for the plots; only rows changed after revision `since`."""
        e = experiment_or_404(experiment_id)
        cache = data.cache(experiment_id)
        reset = epoch != data.epoch or since > cache.rev
        changed = cache.changed_since(0 if reset else since)
        points = [
            {
                "id": r["id"],
                "n": r["number"],
                "s": r["state"],
                "v": r["value"],
                "p": r["params"],
                "r": r["round"],
                "t": r["t"],
                "w": cache.worker_index[r["worker"]],
                **({"x": True} if r["stopped"] else {}),  # stopped by user; left out for the others (bytes x 10,000)
            }
            for r in changed
        ]
        return _json(
            {
                "epoch": data.epoch,
                "rev": cache.rev,
                "reset": reset,
                "points": points,
                "workers": cache.workers,
                "created_at": e.created_at,
                **summary(e, cache.all_rows()),
            }
        )

    @app.get("/api/experiments/{experiment_id}/curves")
    def experiment_curves(
        experiment_id: int,
        metric: str = "",
        top: Annotated[int, Query(ge=1, le=5000)] = 200,
        state: str = "",
        filter: str = "",
        brush: str = "",
        since: int = 0,
        epoch: str = "",
    ):
        """Learning curves of the trials the table keeps: all up to `top`, else the best `top`, every running one
        and a band of all; `unchanged` when nothing changed after revision `since` (of this server's `epoch`)."""
        e = experiment_or_404(experiment_id)
        cache = data.cache(experiment_id)
        rev = cache.rev  # before reading: a change meanwhile shows at the next poll
        if epoch == data.epoch and since == rev:
            return _json({"unchanged": True, "rev": rev, "epoch": data.epoch})
        kept, _, _ = table_query(e, cache.all_rows(), state, filter, brush, "number", False)

        def pick(name: str) -> dict[str, Any]:
            return cache.memo(
                rev,
                ("curves", name, top, state, filter, brush),
                lambda: learning_curves.choose(
                    kept, cache.memo(rev, ("counts",), cache.report_counts), cache.reports_of, name, e.direction, top
                ),
            )

        name = metric or e.metric
        chosen = pick(name)
        if chosen["metrics"] and name not in chosen["metrics"]:
            if metric:
                raise HTTPException(400, f"metric: no trial shown reported {metric!r}; reported: {chosen['metrics']}")
            name = chosen["metrics"][0]  # the experiment's metric is not reported per step: the first one that is
            chosen = pick(name)
        return _json({"metric": name, "rev": rev, "epoch": data.epoch, "top": top, **chosen})

    @app.get("/api/experiments/{experiment_id}/importances")
    def importances(experiment_id: int):
        """First-order fANOVA importances of the current round (knoblab.analysis), computed in a worker process;
        `computing` while a fresher result is on its way."""
        e = experiment_or_404(experiment_id)
        missing = analysis_missing()
        if missing:
            return _json({"available": False, "reason": missing})
        current = len(rounds_of(e)) - 1
        n = sum(1 for r in data.cache(experiment_id).all_rows() if r["round"] == current and r["state"] == "COMPLETE")
        if n < 5:
            return _json({"available": False, "reason": f"importances need 5 complete trials in round {current}"})
        result = importance_jobs.get(storage.url, experiment_id, e.name, (current, n))
        return _json({"available": True, "max_trials": MAX_TRIALS, **result})

    def trial_payload(row, after_step: int) -> dict[str, Any]:
        e = experiment_or_404(row.experiment_id)
        reps = data.reports([row.id], after_step)[row.id]
        return clean(
            {
                "id": row.id,
                "number": row.number,
                "experiment": {"id": e.id, "name": e.name, "metric": e.metric, "direction": e.direction},
                "knobs": [k["name"] for k in all_knobs(rounds_of(e))],
                "state": row.state,
                "value": row.value,
                "params": shown_params(row.params),
                "metrics": loads(row.metrics),
                "note": row.note,
                "error": row.error,
                "host": row.host,
                "pid": row.pid,
                "seed": row.seed,
                "round": row.round,
                "attrs": loads(row.attrs),
                "started_at": row.started_at,
                "finished_at": row.finished_at,
                "heartbeat_at": row.heartbeat_at,
                "duration": (
                    ((row.finished_at or row.heartbeat_at) - row.started_at).total_seconds()
                    if row.started_at and (row.finished_at or row.heartbeat_at)
                    else None
                ),
                "stop_requested": bool(row.stop_requested),
                "stopped": bool(row.stop_requested) and row.state == TrialState.PRUNED.value,
                "reports": reps,
                "after_step": after_step,
            }
        )

    @app.get("/api/trials/{trial_id}")
    def trial(trial_id: int, after_step: int = -1):
        """One trial; its reports only after `after_step` (the last step the page already has)."""
        return _json(trial_payload(trial_or_404(trial_id), after_step))

    @app.get("/api/compare")
    def compare(ids: str = ""):
        try:
            wanted = [int(x) for x in ids.split(",") if x.strip()]
        except ValueError:
            raise HTTPException(400, f"ids: got {ids!r}; give trial ids separated by commas, e.g. ids=3,7") from None
        if not wanted:
            return _json({"trials": []})
        if len(wanted) > 50:
            raise HTTPException(400, f"ids: {len(wanted)} trials; compare at most 50 at a time")
        return _json({"trials": [trial_payload(trial_or_404(i), -1) for i in wanted]})

    # ---- steering ----
    @app.post("/api/experiments/{experiment_id}/note")
    def set_experiment_note(experiment_id: int, body: Annotated[dict, Body()]):
        """A note (Markdown) on the experiment, kept in its attrs."""
        experiment_or_404(experiment_id)
        note = body.get("note")
        if not isinstance(note, str):
            raise HTTPException(400, f"note: got {note!r}; give text")
        if len(note) > 10_000:
            raise HTTPException(400, f"note: {len(note)} characters; at most 10,000")
        storage.update_experiment_attrs(experiment_id, lambda _attrs: {"note": note})
        return _json({"ok": True, "note": note})

    @app.post("/api/trials/{trial_id}/note")
    def set_note(trial_id: int, body: Annotated[dict, Body()]):
        row = trial_or_404(trial_id)
        note = body.get("note")
        if not isinstance(note, str):
            raise HTTPException(400, f"note: got {note!r}; give text")
        if len(note) > 10_000:
            raise HTTPException(400, f"note: {len(note)} characters; at most 10,000")
        storage.set_note(trial_id, note)
        data.cache(row.experiment_id).invalidate(trial_id)
        return _json({"ok": True, "note": note})

    @app.post("/api/trials/{trial_id}/stop")
    def stop(trial_id: int):
        row = trial_or_404(trial_id)
        if row.state != TrialState.RUNNING.value:
            raise HTTPException(409, f"trial {row.number} is {row.state}; only a RUNNING trial can be stopped")
        storage.request_stop(trial_id)
        data.cache(row.experiment_id).invalidate(trial_id)
        return _json({"ok": True, "stop_requested": True})

    @app.post("/api/experiments/{experiment_id}/enqueue")
    def enqueue(experiment_id: int, body: Annotated[dict, Body()]):
        from ..experiment import Experiment

        e = experiment_or_404(experiment_id)
        params, note = body.get("params"), body.get("note") or None
        if not isinstance(params, dict):
            raise HTTPException(400, f"params: got {params!r}; give a dict of knob values")
        try:
            queued = Experiment.load(e.name, storage).enqueue(params, note=note)
        except (ValueError, TypeError) as err:
            raise HTTPException(400, str(err)) from None
        data.cache(experiment_id).refresh(force=True)
        shown_back = {k: shown(v) for k, v in queued.params.items()}  # functions, Keras objects: by name
        return _json({"ok": True, "trial": {"id": queued.id, "number": queued.number, "params": shown_back}})

    @app.post("/api/experiments/{experiment_id}/rounds")
    def new_round(experiment_id: int, body: Annotated[dict, Body()]):
        from ..experiment import Experiment

        e = experiment_or_404(experiment_id)
        try:
            space = read_space(body.get("space"))
        except (ValueError, TypeError) as err:
            raise HTTPException(400, str(err)) from None
        if not rounds_supported():
            raise HTTPException(
                501,
                "new rounds need knoblab's rounds API (Experiment.next_round); the edited space is valid but not stored",
            )
        reason = body.get("reason") or ""
        if not isinstance(reason, str):
            raise HTTPException(400, f"reason: got {reason!r}; give text")
        try:
            number = Experiment.load(e.name, storage).next_round(space, reason=reason)
        except (ValueError, TypeError) as err:
            raise HTTPException(400, str(err)) from None
        data.cache(experiment_id).refresh(force=True)
        return _json({"ok": True, "round": number})

    return app


def serve(
    storage: SQLStorage | str,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    read_only: bool = False,
    token: str | None = None,
    log_level: str = "warning",
) -> None:
    """Serves the dashboard until interrupted. A non-loopback `host` needs a `token`."""
    import uvicorn

    if not is_loopback(host) and not token:
        raise ValueError(
            f"host: {host!r} lets other machines reach the dashboard, which can stop and enqueue trials; "
            "give a token (--token T or env KNOBLAB_DASHBOARD_TOKEN), or bind 127.0.0.1"
        )
    allowed = ["127.0.0.1", "localhost", "[::1]", host.lower()] if is_loopback(host) else None
    app = create_app(storage, read_only=read_only, token=token, allowed_hosts=allowed)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
