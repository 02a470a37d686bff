"""The `knoblab` command on a real SQLite file: ls, show, export; one-line errors; a silent progress bar off a terminal."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from click.testing import CliRunner

import knoblab as kl
from knoblab.cli import main

SPACE = {"lr": kl.Real(1e-3, 1e-1, log=True), "opt": ["adam", "sgd"], "layers": kl.Branch({1: {}, 2: {"u": [8, 16]}})}


@pytest.fixture
def filled(sqlite_url):
    """Two experiments: 'alpha' (min val_loss, 5 trials, one FAILED) and 'beta' (max acc, 3 trials)."""

    def alpha(trial):
        if trial.number == 2:
            raise RuntimeError("diverged")
        return {"val_loss": trial.params["lr"] * 10, "acc": 0.5}

    kl.Experiment("alpha", SPACE, metric="val_loss", storage=sqlite_url, seed=1, strategy="random").optimize(
        alpha, n_trials=5
    )
    kl.Experiment("beta", {"x": [1, 2, 3]}, metric="acc", direction="max", storage=sqlite_url, seed=2).optimize(
        lambda t: t.params["x"] / 10, n_trials=3
    )
    return sqlite_url


def invoke(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False, **kwargs)


def one_line_error(result, *fragments):
    assert result.exit_code != 0
    text = result.output.strip()
    assert text.startswith("Error: ")
    assert "\n" not in text, text
    assert "Traceback" not in text
    for f in fragments:
        assert f in text, text


def test_ls_lists_experiments_with_counts_and_best(filled):
    result = invoke("ls", "--storage", filled)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:3] == ["name", "objective", "trials"]
    alpha = next(line for line in lines if line.startswith("alpha"))
    beta = next(line for line in lines if line.startswith("beta"))
    exp = kl.Experiment.load("alpha", filled)
    assert "min val_loss" in alpha and "complete=4" in alpha and "failed=1" in alpha
    assert f"{exp.best.value:.6g}" in alpha
    assert "max acc" in beta and "complete=3" in beta and "0.3" in beta


def test_ls_reads_the_storage_from_the_environment(filled):
    result = invoke("ls", env={"KNOBLAB_STORAGE": filled})
    assert result.exit_code == 0 and "alpha" in result.output


def test_ls_of_an_empty_storage(sqlite_url):
    kl.storage.SQLStorage(sqlite_url).close()
    result = invoke("ls", "--storage", sqlite_url)
    assert result.exit_code == 0 and "no experiments in" in result.output


def test_a_missing_file_is_a_one_line_error_and_creates_nothing(tmp_path):
    path = tmp_path / "nope.db"
    result = invoke("ls", "--storage", f"sqlite:///{path}")
    one_line_error(result, "no such file", str(path))
    assert not path.exists()


def test_a_corrupt_file_is_a_one_line_error(tmp_path):
    path = tmp_path / "bad.db"
    path.write_bytes(b"not a database at all" * 100)
    one_line_error(invoke("ls", "--storage", f"sqlite:///{path}"), "not a readable SQLite database")


def test_show_gives_counts_and_the_best_trials(filled):
    result = invoke("show", "alpha", "--storage", filled, "--top", 3)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "experiment alpha: min val_loss, seed 1" in out
    assert "COMPLETE 4" in out and "FAILED 1" in out
    exp = kl.Experiment.load("alpha", filled)
    best = sorted(t.value for t in exp.trials if t.value is not None)[:3]
    table = out[out.index("best 3:") :].splitlines()
    assert table[1].split()[:3] == ["number", "value", "lr"]
    assert [float(line.split()[1]) for line in table[2:5]] == pytest.approx(best, rel=1e-5)


def test_show_lists_a_knob_named_like_a_bookkeeping_column(sqlite_url):
    exp = kl.Experiment("s", {"seed": [101, 202], "x": kl.Real(0, 1)}, storage=sqlite_url, seed=0)
    exp.optimize(lambda t: t.params["x"], n_trials=4)
    result = invoke("show", "s", "--storage", sqlite_url)
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("best 4:") :].splitlines()
    assert table[1].split() == ["number", "value", "param_seed", "x", "duration"]
    assert {line.split()[2] for line in table[2:6]} <= {"101", "202"}


def test_show_a_missing_experiment_is_a_one_line_error(filled):
    one_line_error(invoke("show", "gamma", "--storage", filled), "no experiment 'gamma'", "alpha", "beta")


def test_show_an_experiment_with_no_complete_trial(sqlite_url):
    kl.Experiment("empty", SPACE, storage=sqlite_url, seed=0).ask(2)
    result = invoke("show", "empty", "--storage", sqlite_url)
    assert result.exit_code == 0 and "RUNNING 2" in result.output and "no COMPLETE trial yet" in result.output


def test_show_and_export_a_grid_experiment_over_real_knobs(sqlite_url):
    """Reading needs no strategy: a grid with a resolution must not break `show` (which knows no resolution)."""
    exp = kl.Experiment("g", {"lr": kl.Real(0.1, 1.0)}, storage=sqlite_url, seed=0, strategy="grid", grid_resolution=3)
    exp.optimize(lambda t: t.params["lr"], n_trials=10)
    assert len(exp.trials) == 3
    result = invoke("show", "g", "--storage", sqlite_url)
    assert result.exit_code == 0, result.output
    assert "COMPLETE 3" in result.output


def test_show_on_a_read_only_database(tmp_path, filled):
    path = tmp_path / "knoblab.db"
    ro = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = invoke("show", "alpha", "--storage", ro)
    assert result.exit_code == 0, result.output
    assert "COMPLETE 4" in result.output


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_export_writes_one_row_per_trial(filled, tmp_path, fmt):
    out = tmp_path / f"alpha.{fmt}"
    result = invoke("export", "alpha", "--storage", filled, "--format", fmt, "-o", out)
    assert result.exit_code == 0, result.output
    assert "wrote 5 trials" in result.output
    if fmt == "csv":
        df = pd.read_csv(out)
    elif fmt == "json":
        records = json.loads(out.read_text())
        assert isinstance(records, list)
        df = pd.DataFrame(records)
    else:
        pytest.importorskip("pyarrow")
        df = pd.read_parquet(out)
    assert len(df) == 5
    for col in ("number", "state", "value", "lr", "opt", "layers", "u", "val_loss", "acc", "duration", "error"):
        assert col in df.columns, col
    assert sorted(df["state"]) == ["COMPLETE"] * 4 + ["FAILED"]
    assert df.loc[df["number"] == 2, "error"].iloc[0].startswith("RuntimeError: diverged")


def test_export_defaults_to_name_dot_format_in_the_working_directory(filled, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("export", "beta", "--storage", filled)
    assert result.exit_code == 0
    assert len(pd.read_csv(tmp_path / "beta.csv")) == 3


def test_export_to_standard_output(filled):
    result = CliRunner().invoke(main, ["export", "beta", "--storage", filled, "-o", "-"], catch_exceptions=False)
    assert result.exit_code == 0
    df = pd.read_csv(io.StringIO(result.stdout))
    assert sorted(df["x"]) == [1, 2, 3]
    one_line_error(invoke("export", "beta", "--storage", filled, "--format", "parquet", "-o", "-"), "parquet")


def test_export_rejects_an_unknown_format(filled):
    result = invoke("export", "beta", "--storage", filled, "--format", "xml")
    assert result.exit_code == 2 and "xml" in result.output


def test_export_a_missing_experiment_is_a_one_line_error(filled):
    one_line_error(invoke("export", "gamma", "--storage", filled), "no experiment 'gamma'")


def test_help_and_version():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("ls", "show", "export"):
        assert command in result.output
    assert kl.__version__ in invoke("--version").output


def test_the_knoblab_command_is_installed(filled):
    exe = __import__("shutil").which("knoblab", path=str(__import__("pathlib").Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the console script is not installed in this environment")
    done = subprocess.run([exe, "ls", "--storage", filled], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "alpha" in done.stdout


PROGRESS = textwrap.dedent(
    """
    import sys
    import knoblab as kl
    show = {"default": None, "on": True}[sys.argv[2]]
    exp = kl.Experiment("p", {"x": kl.Real(0, 1)}, storage="sqlite:///" + sys.argv[1], seed=0)
    exp.optimize(lambda t: t.params["x"], n_trials=5, show_progress=show)
    """
)


def test_the_progress_bar_prints_nothing_when_output_is_not_a_terminal(tmp_path):
    script = tmp_path / "p.py"
    script.write_text(PROGRESS)
    quiet = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "a.db"), "default"], capture_output=True, text=True, timeout=60
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and quiet.stderr == ""
    # the same run with the bar forced on does print it, so the check above can fail
    loud = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "b.db"), "on"], capture_output=True, text=True, timeout=60
    )
    assert loud.returncode == 0, loud.stderr
    assert "5/5" in loud.stderr and "best value=" in loud.stderr


BAD_OUTPUTS = {
    "missing folder": lambda tmp: tmp / "no" / "such" / "folder" / "out.{fmt}",
    "read-only": lambda tmp: "/sys/knoblab-export.{fmt}",  # sysfs refuses new files, even to root
    "impossible": lambda tmp: "/dev/null/out.{fmt}",
    "a folder": lambda tmp: tmp,
    "a name too long": lambda tmp: tmp / ("x" * 300 + ".{fmt}"),
}


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
@pytest.mark.parametrize("kind", sorted(BAD_OUTPUTS))
def test_export_to_a_bad_path_is_a_one_line_error(filled, tmp_path, fmt, kind):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    out = str(BAD_OUTPUTS[kind](tmp_path)).format(fmt=fmt)
    before = sorted(p.name for p in tmp_path.iterdir())
    one_line_error(invoke("export", "alpha", "--storage", filled, "--format", fmt, "-o", out), "cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing half-written left behind


def test_export_keeps_integer_knobs_integers_and_floats_exact(sqlite_url, tmp_path):
    """An Int inside a Branch is missing from the other branch's rows; it must still come out as an integer, and
    every float with all its digits."""
    space = {"lr": kl.Real(1e-5, 1e-1, log=True), "layers": kl.Branch({1: {}, 2: {"units": kl.Int(8, 512)}})}
    exp = kl.Experiment("types", space, storage=sqlite_url, strategy="random", seed=4)
    exp.optimize(lambda t: {"value": t.params["lr"] / 3, "epochs_run": t.number + 1}, n_trials=12)
    trials = {t.number: t for t in exp.trials}
    assert {t.params["layers"] for t in trials.values()} == {1, 2}  # both branches, so "units" has gaps
    out = tmp_path / "t.json"
    assert invoke("export", "types", "--storage", sqlite_url, "--format", "json", "-o", out).exit_code == 0
    for row in json.loads(out.read_text()):
        t = trials[row["number"]]
        assert row["lr"] == t.params["lr"] and row["value"] == t.value  # exact, not rounded to 10 digits
        assert row["units"] == t.params.get("units") and type(row["units"]) is type(t.params.get("units"))
        assert type(row["layers"]) is int and type(row["epochs_run"]) is int
    csv_out = tmp_path / "t.csv"
    assert invoke("export", "types", "--storage", sqlite_url, "-o", csv_out).exit_code == 0
    text = csv_out.read_text()
    assert ".0," not in text  # no integer written as 123.0
    df = pd.read_csv(csv_out)
    assert df["units"].dropna().map(float.is_integer).all()
    assert dict(zip(df["number"], df["lr"])) == {n: t.params["lr"] for n, t in trials.items()}
    pytest.importorskip("pyarrow")
    pq = tmp_path / "t.parquet"
    assert invoke("export", "types", "--storage", sqlite_url, "--format", "parquet", "-o", pq).exit_code == 0
    df = pd.read_parquet(pq)
    assert str(df["units"].dtype) == "Int64" and str(df["layers"].dtype) == "int64"
