"""The `knoblab` command: list, show and export experiments in a storage."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .storage import DEFAULT_URL, StorageError, safe_url
from .storage.sql import SQLStorage

STORAGE_HELP = f"SQLAlchemy URL of the storage (env KNOBLAB_STORAGE; default {DEFAULT_URL})"


def _open(url: str | None) -> SQLStorage:
    url = url or os.environ.get("KNOBLAB_STORAGE") or DEFAULT_URL
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///") :])
        if not path.exists():
            raise click.ClickException(f"storage {url}: no such file {path.resolve()}")
    try:
        return SQLStorage(url)
    except StorageError as e:
        raise click.ClickException(str(e)) from None


def _load(name: str, url: str | None):
    from .experiment import Experiment

    store = _open(url)
    try:
        return Experiment.load(name, store)
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
    rows = []
    for s in summaries:
        e, counts = s["experiment"], s["counts"]
        done = store.get_trials(e.id)
        values = [t.value for t in done if t.state.value == "COMPLETE" and t.value is not None]
        best = (min(values) if e.direction == "min" else max(values)) if values else None
        rows.append(
            [
                e.name,
                f"{e.direction} {e.metric}",
                sum(counts.values()),
                " ".join(f"{k.lower()}={v}" for k, v in sorted(counts.items())),
                "-" if best is None else f"{best:.6g}",
                e.created_at.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    _table(["name", "objective", "trials", "by state", "best", "created (UTC)"], rows)


@main.command("show")
@click.argument("name")
@click.option("--storage", default=None, help=STORAGE_HELP)
@click.option("--top", default=10, show_default=True, help="how many of the best trials to list")
def show_command(name: str, storage: str | None, top: int) -> None:
    """Shows an experiment: counts by state and its best trials."""
    exp = _load(name, storage)
    df = exp.results
    click.echo(
        f"experiment {exp.name}: {exp.direction} {exp.metric}, seed {exp.seed}, storage {safe_url(exp.storage.url)}"
    )
    counts = df["state"].value_counts().to_dict() if len(df) else {}
    click.echo("trials: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
    done = df[df["state"] == "COMPLETE"].sort_values("value", ascending=exp.direction == "min").head(top)
    if len(done) == 0:
        click.echo("no COMPLETE trial yet")
        return
    knobs = [k for k in exp.space.all_knobs() if k in done.columns]
    view = done[["number", "value", *knobs, "duration"]]
    click.echo(f"best {len(view)}:")
    click.echo(view.to_string(index=False, float_format=lambda v: f"{v:.6g}"))


@main.command("export")
@click.argument("name")
@click.option("--storage", default=None, help=STORAGE_HELP)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "json"]), default="csv", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="file to write (default NAME.FORMAT; '-' for standard output, csv and json only)",
)
def export_command(name: str, storage: str | None, fmt: str, output: str | None) -> None:
    """Exports an experiment's results table (one row per trial) as CSV, Parquet or JSON."""
    df = _load(name, storage).results
    output = output or f"{name}.{fmt}"
    if fmt == "parquet":
        if output == "-":
            raise click.ClickException("parquet cannot go to standard output; give -o FILE")
        try:
            df.to_parquet(output, index=False)
        except ImportError:
            raise click.ClickException("parquet needs pyarrow: pip install 'knoblab[parquet]'") from None
    else:
        target = sys.stdout if output == "-" else output
        if fmt == "csv":
            df.to_csv(target, index=False)
        else:
            df.to_json(target, orient="records", date_format="iso", indent=1)
    if output != "-":
        click.echo(f"wrote {len(df)} trials to {output}", err=True)


def _table(header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for line in [header, *rows]:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(line, widths)).rstrip())


if __name__ == "__main__":
    main()
