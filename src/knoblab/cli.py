"""The `knoblab` command: list, show and export experiments in a storage."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .selection import ranked
from .storage import DEFAULT_URL, StorageError, safe_url
from .storage.sql import SQLStorage

STORAGE_HELP = f"SQLAlchemy URL of the storage (env KNOBLAB_STORAGE; default {DEFAULT_URL})"


def _open(url: str | None) -> SQLStorage:
    url = url or os.environ.get("KNOBLAB_STORAGE") or DEFAULT_URL
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///") :].split("?")[0].removeprefix("file:"))  # file:...?mode=ro&uri=true too
        if not path.exists():
            raise click.ClickException(f"storage {url}: no such file {path.resolve()}")
    try:
        return SQLStorage(url)
    except StorageError as e:
        raise click.ClickException(str(e)) from None


def _load(name: str, url: str | None):
    from .experiment import Experiment
    from .strategies import RandomSearch

    store = _open(url)
    try:
        # reading needs no strategy: a random search (whose set-up needs nothing) stands in for the stored one,
        # which may need options unknown here; and an instance, unlike a name, is not recorded in the storage
        return Experiment.load(name, store, strategy=RandomSearch())
    except KeyError as e:
        raise click.ClickException(e.args[0]) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="knoblab")
def main() -> None:
    """knoblab: hyperparameter experiments that never lose a trial."""


@main.command("ls")
@click.option("--storage", default=None, help=STORAGE_HELP)
def ls_command(storage: str | None) -> None:
    """Lists the experiments in a storage with their trials by state and best value."""
    store = _open(storage)
    summaries = store.experiment_summaries()
    if not summaries:
        click.echo(f"no experiments in {safe_url(store.url)}")
        return
    from .objectives import Objectives, is_feasible, pareto_trials

    rows = []
    for s in summaries:
        e, counts = s["experiment"], s["counts"]
        done = store.get_trials(e.id)
        objectives = Objectives.from_record(e.metric, e.direction, e.objectives)
        if objectives.multi:  # no single best: the size of the Pareto front
            front = pareto_trials(done, objectives.directions)
            best_text = f"front of {len(front)}" if front else "-"
        else:
            values = [t.value for t in done if t.state.value == "COMPLETE" and t.value is not None and is_feasible(t)]
            best = (min(values) if e.direction == "min" else max(values)) if values else None
            best_text = "-" if best is None else f"{best:.6g}"
        rows.append(
            [
                e.name,
                ", ".join(f"{d} {m}" for m, d in zip(objectives.metrics, objectives.directions)),
                sum(counts.values()),
                " ".join(f"{k.lower()}={v}" for k, v in sorted(counts.items())),
                best_text,
                e.created_at.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    _table(["name", "objective", "trials", "by state", "best", "created (UTC)"], rows)


@main.command("show")
@click.argument("name")
@click.option("--storage", default=None, help=STORAGE_HELP)
@click.option("--top", default=10, show_default=True, help="how many of the best trials to list")
def show_command(name: str, storage: str | None, top: int) -> None:
    """Shows an experiment: counts by state and its best trials (with several objectives, its Pareto front)."""
    exp = _load(name, storage)
    df = exp.results
    objectives = ", ".join(f"{d} {m}" for m, d in zip(exp.metrics, exp.directions))
    click.echo(f"experiment {exp.name}: {objectives}, seed {exp.seed}, storage {safe_url(exp.storage.url)}")
    if exp.constraints:
        click.echo("outcome constraints: " + "; ".join(c.name for c in exp.constraints.items))
    counts = df["state"].value_counts().to_dict() if len(df) else {}
    click.echo("trials: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    done = df[df["state"] == "COMPLETE"]
    broken = 0
    if "feasible" in done.columns:
        broken = int((done["feasible"] == False).sum())  # noqa: E712 - a column of True/False/None
        if broken:
            click.echo(f"{broken} COMPLETE trials break an outcome constraint: never the best, never on the front")
        done = done[done["feasible"] != False]  # noqa: E712
    # a knob named like a bookkeeping column (seed, duration...) is "param_<name>" in the results
    knobs = [f"param_{k}" if f"param_{k}" in df.columns else k for k in exp.space.all_knobs()]
    knobs = [k for k in knobs if k in df.columns]
    if len(exp.metrics) > 1:
        if len(done) == 0:
            click.echo("no COMPLETE trial meets the outcome constraints yet" if broken else "no COMPLETE trial yet")
            return
        front = done[done["pareto"]]
        columns = [f"metric_{m}" if f"metric_{m}" in front.columns else m for m in exp.metrics]
        front = front.sort_values(columns[0], ascending=exp.directions[0] == "min").head(top)
        click.echo(
            f"Pareto front ({int(done['pareto'].sum())} trials; sorted by {exp.metrics[0]}, first {len(front)}):"
        )
        click.echo(front[["number", *columns, *knobs, "duration"]].to_string(index=False, float_format=_g))
        return
    # in the order of knoblab.selection (the best first: CV means, then values, ties by val_loss; never a trial
    # that broke an outcome constraint)
    order = [t.number for t in ranked(exp.storage.get_trials(exp.id), exp.metric, exp.direction)]
    if not order:
        click.echo("no COMPLETE trial meets the outcome constraints yet" if broken else "no COMPLETE trial yet")
        return
    best = df.set_index("number", drop=False).loc[order].head(top)
    view = best[["number", "value", *(["cv_mean"] if "cv_mean" in best.columns else []), *knobs, "duration"]]
    click.echo(f"best {len(view)}:")
    click.echo(view.to_string(index=False, float_format=_g))


def _g(v: float) -> str:
    return f"{v:.6g}"


@main.command("export")
@click.argument("name")
@click.option("--storage", default=None, help=STORAGE_HELP)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), default="csv", show_default=True)
@click.option(
    "-o",
    "--output",
    default=None,
    help="file to write (default NAME.FORMAT; '-' for standard output, csv and json only)",
)
def export_command(name: str, storage: str | None, fmt: str, output: str | None) -> None:
    """Exports an experiment's results table (one row per trial) as CSV, Parquet or JSON."""
    from .export import results_table, write_results

    output = output or f"{name}.{fmt}"
    if fmt == "parquet" and output == "-":
        raise click.ClickException("parquet cannot go to standard output; give -o FILE")
    df = results_table(_load(name, storage))
    try:
        write_results(df, fmt, sys.stdout if output == "-" else output)
    except ImportError:
        raise click.ClickException("parquet needs pyarrow: pip install 'knoblab[parquet]'") from None
    except OSError as e:  # a missing folder, a read-only disk, a name the file system refuses
        text = str(e)
        raise click.ClickException(
            text if text.startswith("cannot write") else f"cannot write {output}: {text}"
        ) from None
    if output != "-":
        click.echo(f"wrote {len(df)} trials to {output}", err=True)


@main.command("worker")
@click.argument("name")
@click.option("--storage", default=None, help=STORAGE_HELP)
@click.option(
    "--objective",
    "objective_ref",
    required=True,
    help="the objective as module:function (importable here; the current folder is on the path) or file.py:function",
)
@click.option("--n-trials", type=click.IntRange(min=1), default=None, help="the experiment's total trial budget")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None, help="seconds to work")
@click.option(
    "--on-stale",
    type=click.Choice(["retry", "fail"]),
    default="retry",
    show_default=True,
    help="what happens to a trial whose worker died: run its params again, or only mark it FAILED",
)
@click.option(
    "--stale-after",
    type=click.FloatRange(min=0, min_open=True),
    default=600.0,
    show_default=True,
    help="seconds without a heartbeat after which a running trial of another machine counts as dead",
)
@click.option("--heartbeat", type=click.FloatRange(min=0, min_open=True), default=15.0, show_default=True)
def worker_command(
    name: str,
    storage: str | None,
    objective_ref: str,
    n_trials: int | None,
    time_limit: float | None,
    on_stale: str,
    stale_after: float,
    heartbeat: float,
) -> None:
    """Runs trials of experiment NAME until its budget is used, alongside any number of other workers.

    Workers need no coordinator: each asks the experiment's strategy itself, trial numbers and queued trials are
    handed out through the storage, each exactly once. Start as many as you like, on any machine that reaches the
    storage (PostgreSQL for several machines). The experiment must exist (create it with `kl.Experiment(...)`).
    """
    import signal

    from .experiment import Experiment
    from .outcomes import AllTrialsFailedError

    objective = _import_objective(objective_ref)
    store = _open(storage)
    try:
        exp = Experiment.load(name, store, on_stale=on_stale, stale_after=stale_after, heartbeat_interval=heartbeat)
    except KeyError as e:
        raise click.ClickException(e.args[0]) from None

    def terminate(signum, frame):  # `kill` (SIGTERM) ends the running trial as interrupted, to be retried
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    ran = []
    where = safe_url(store.url)
    click.echo(f"worker {os.getpid()}: experiment {name!r} in {where}", err=True)
    try:
        exp.optimize(
            objective, n_trials=n_trials, time_limit=time_limit, callbacks=[lambda e, t: ran.append(t.state.value)]
        )
    except (ValueError, StorageError, AllTrialsFailedError) as e:
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        click.echo(f"worker {os.getpid()}: interrupted after {len(ran)} trials", err=True)
        sys.exit(130)
    counts = {s: ran.count(s) for s in sorted(set(ran))}
    click.echo(
        f"worker {os.getpid()}: ran {len(ran)} trials ({', '.join(f'{k} {v}' for k, v in counts.items()) or 'none'})",
        err=True,
    )


def _import_objective(ref: str):
    """`module:function` or `path/file.py:function` -> the function, with errors that say what is wrong."""
    import importlib
    import importlib.util

    module_name, sep, attr = ref.rpartition(":")
    if not sep or not module_name or not attr:
        raise click.BadParameter(
            f"got {ref!r}; give module:function, e.g. mypkg.train:objective", param_hint="--objective"
        )
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).resolve()
            if not path.is_file():
                raise click.BadParameter(f"no such file {path}", param_hint="--objective")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None:
                raise click.BadParameter(f"{path} is not a Python file that can be imported", param_hint="--objective")
            module = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = module
            spec.loader.exec_module(module)
        else:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_name)
    except click.BadParameter:
        raise
    except Exception as e:
        raise click.BadParameter(
            f"cannot import {module_name!r}: {type(e).__name__}: {e}", param_hint="--objective"
        ) from None
    objective = getattr(module, attr, None)
    if not callable(objective):
        raise click.BadParameter(f"{module_name!r} has no function {attr!r}", param_hint="--objective")
    return objective


@main.command("dashboard")
@click.option("--storage", default=None, help=STORAGE_HELP)
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind; any but loopback needs --token")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--read-only", is_flag=True, help="show everything, change nothing (no notes, stops or enqueues)")
@click.option(
    "--token",
    default=None,
    envvar="KNOBLAB_DASHBOARD_TOKEN",
    help="secret every browser must present (open /?token=T once); required off loopback (env KNOBLAB_DASHBOARD_TOKEN)",
)
def dashboard_command(storage: str | None, host: str, port: int, read_only: bool, token: str | None) -> None:
    """Serves a live dashboard of the storage's experiments in the browser, safe while searches write to it."""
    try:
        from .dashboard import is_loopback, serve
    except ImportError as e:
        raise click.ClickException(f"the dashboard needs its extra ({e}): pip install 'knoblab[dashboard]'") from None
    if not is_loopback(host) and not token:
        raise click.ClickException(
            f"--host {host} lets other machines reach the dashboard, which can stop and enqueue trials: "
            "give --token T (or env KNOBLAB_DASHBOARD_TOKEN), or keep the default --host 127.0.0.1"
        )
    store = _open(storage)
    shown = f"[{host}]" if ":" in host else host
    query = "/?token=<your token>" if token else "/"
    click.echo(
        f"knoblab dashboard of {safe_url(store.url)} at http://{shown}:{port}{query}"
        + (" (read-only)" if read_only else "")
    )
    try:
        serve(store, host=host, port=port, read_only=read_only, token=token)
    except (RuntimeError, ValueError) as e:
        raise click.ClickException(str(e)) from None


@main.command("report")
@click.argument("name")
@click.option("--storage", default=None, help=STORAGE_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="file to write (default NAME.html)")
@click.option("--rounds", default=None, help="rounds to analyse: a number, a comma list or 'all' (default: the latest)")
def report_command(name: str, storage: str | None, output: str | None, rounds: str | None) -> None:
    """Writes one self-contained HTML report of experiment NAME: plots inline, opens offline, no server."""
    exp = _load(name, storage)
    try:
        from .analysis import analyze
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise click.ClickException(f"the report needs its extra ({e}): pip install 'knoblab[analysis]'") from None
    chosen: object = None
    if rounds:
        try:
            chosen = "all" if rounds == "all" else [int(r) for r in rounds.split(",")]
        except ValueError:
            raise click.BadParameter(f"got {rounds!r}; give 2, 0,1 or all", param_hint="--rounds") from None
    output = output or f"{name}.html"
    try:
        path = analyze(exp, chosen).report(output)
    except ImportError as e:
        raise click.ClickException(f"the report needs its extra ({e}): pip install 'knoblab[analysis]'") from None
    click.echo(f"wrote {path}", err=True)


def _table(header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for line in [header, *rows]:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(line, widths)).rstrip())


if __name__ == "__main__":
    main()
