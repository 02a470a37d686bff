"""Every python block of the README runs exactly as printed, each as a script of its own in an empty folder, and a
second run of the quickstart runs nothing again (and says so)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import knoblab as kl

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[tuple[str, str]]:
    """(the section's heading, the code) of every ```python block, in order."""
    text = README.read_text()
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        headings = re.findall(r"^## (.+?)\s*$", text[: match.start()], flags=re.MULTILINE)
        blocks.append((headings[-1] if headings else "top", match.group(1)))
    return blocks


def run_block(code: str, folder: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    script = folder / "block.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(Path(kl.__file__).parents[1])}  # this checkout's knoblab
    return subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_readme_has_its_python_blocks():
    headings = [h for h, _ in python_blocks()]
    assert headings[0] == "Quickstart"
    assert "Keras, the Talos way" in headings and "Parallel trials: n_jobs" in headings


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(python_blocks())), ids=[h for h, _ in python_blocks()])
def test_every_python_block_runs_as_printed(index, tmp_path):
    heading, code = python_blocks()[index]
    if "import keras" in code:
        pytest.importorskip("keras")
    done = run_block(code, tmp_path)
    assert done.returncode == 0, f"the README's block under {heading!r} failed:\n{done.stderr[-4000:]}"


@pytest.mark.slow
def test_the_quickstart_runs_as_printed_and_a_rerun_runs_nothing_again(tmp_path):
    heading, code = python_blocks()[0]
    assert heading == "Quickstart"
    for _ in range(2):
        done = run_block(code, tmp_path, timeout=300)
        assert done.returncode == 0, f"the quickstart failed:\n{done.stderr}"
    assert "knoblab: experiment 'quickstart' has nothing left to run" in done.stderr  # the second run says so
    db = tmp_path / "knoblab.db"
    assert db.exists(), "the quickstart should store its trials in ./knoblab.db"
    n_trials = re.search(r"n_trials=(\d+)", code)
    assert n_trials
    with sqlite3.connect(db) as conn:  # what the README promises: the second run found the trials, ran none again
        count = conn.execute("SELECT count(*) FROM trials").fetchone()[0]
    assert count == int(n_trials.group(1))
