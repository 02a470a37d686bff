"""Knob importances for the dashboard, from knoblab.analysis, computed in a child process.

A random forest and its functional ANOVA take seconds and hold the interpreter; in a separate process they never
slow the pages. The child is `python -m knoblab.dashboard.importance` (not multiprocessing, which would re-import
the user's main script), given the storage URL on standard input and answering JSON on standard output.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

MAX_TRIALS = 2000  # the most recent complete trials of the round: enough for the forest, and quick


def compute(url: str, name: str, max_trials: int = MAX_TRIALS) -> dict[str, Any]:
    """Runs in the worker: first-order fANOVA importances of the experiment's current round."""
    from ..analysis.frame import trial_table
    from ..analysis.stats import importances
    from ..experiment import Experiment
    from ..trial import TrialState

    exp = Experiment.load(name, url)
    done = [
        t
        for t in exp.storage.get_trials(exp.id, states=(TrialState.COMPLETE,))
        if t.round == exp.round and t.value is not None and math.isfinite(t.value)
    ]
    used = done[-max_trials:]
    table = trial_table(used, exp.space, exp.metric, exp.direction, [exp.round])
    df = importances(table, seed=0, n_estimators=100)
    r2 = df.attrs.get("r2")
    rows = [
        {"knob": str(k), "importance": None if not math.isfinite(v) else float(v)}
        for k, v in zip(df["knob"], df["importance"])
    ]
    return {
        "round": exp.round,
        "n": len(used),
        "of": len(done),
        "r2": None if r2 is None or not math.isfinite(r2) else float(r2),
        "rows": rows,
    }


def analysis_missing() -> str | None:
    """Why importances cannot be computed here, or None when they can."""
    try:
        from ..analysis.stats import importances  # noqa: F401
    except ImportError as e:
        return f"knob importances need knoblab's analysis module ({e})"
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return "knob importances need scikit-learn: pip install 'knoblab[analysis]'"
    return None


def run_child(url: str, name: str, timeout: float = 600.0, on_start=None) -> dict[str, Any]:
    """Runs `compute` in a fresh interpreter and returns its result."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "knoblab.dashboard.importance"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if on_start:
        on_start(proc)
    out, err = proc.communicate(json.dumps({"url": url, "name": name}), timeout=timeout)
    if proc.returncode != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        raise RuntimeError(lines[-1] if lines else f"the importance process exited with {proc.returncode}")
    return json.loads(out)


class Importances:
    """Importance jobs, one child process at a time: at most one per experiment, and at most one every `every`
    seconds while a search keeps adding trials."""

    def __init__(self, every: float = 30.0) -> None:
        self.every = every
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="knoblab-importances")
        self._jobs: dict[int, tuple[tuple, Future, float]] = {}
        self._last: dict[int, dict[str, Any]] = {}
        self._children: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def get(self, url: str, experiment_id: int, name: str, key: tuple) -> dict[str, Any]:
        """The latest result, marked `computing` while a newer one (for `key`) is on its way."""
        with self._lock:
            self._children = [p for p in self._children if p.poll() is None]
            entry = self._jobs.get(experiment_id)
            if entry is not None and entry[1].done():
                self._harvest(experiment_id, entry)
            busy = entry is not None and not entry[1].done()
            fresh = entry is not None and entry[0] == key
            recent = entry is not None and time.monotonic() - entry[2] < self.every
            if not (busy or fresh or recent):
                job = self._pool.submit(run_child, url, name, on_start=self._children.append)
                self._jobs[experiment_id] = (key, job, time.monotonic())
                busy = True
            return {**self._last.get(experiment_id, {}), "computing": busy}

    def _harvest(self, experiment_id: int, entry) -> None:
        try:
            self._last[experiment_id] = entry[1].result()
        except Exception as e:  # a failed fit is a message on the page, not a broken page
            self._last[experiment_id] = {"error": f"{type(e).__name__}: {e}"}

    def close(self) -> None:
        for proc in self._children:
            if proc.poll() is None:
                proc.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _main() -> None:
    job = json.loads(sys.stdin.read())
    json.dump(compute(job["url"], job["name"]), sys.stdout)


if __name__ == "__main__":
    _main()
