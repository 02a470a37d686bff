"""The same seed proposes the same points whatever is installed and however many BLAS threads the machine has:
each run is a fresh process, with the `strategies` extra or without it (its packages made unimportable)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import knoblab as kl

ROOT = Path(__file__).resolve().parents[2]

RUN = """
import json, math, sys, importlib.abc

blocked = set(sys.argv[2].split(",")) - {""}

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Absent())
import knoblab as kl

space = {"lr": kl.Real(1e-4, 1e-1, log=True), "units": kl.Int(8, 256, log=True), "dropout": (0.0, 0.5, 6),
         "optimizer": ["adam", "nadam", "rmsprop"], "x": kl.Real(-3, 3), "y": kl.Real(-3, 3)}

def objective(t):
    p = t.params
    return ((math.log10(p["lr"]) + 2) ** 2 + (p["dropout"] - 0.2) ** 2 + math.sin(3 * p["x"]) * p["y"]
            + math.log(p["units"]) / 10 + 0.1 * ["adam", "nadam", "rmsprop"].index(p["optimizer"]))

exp = kl.Experiment("seeded", space, storage="sqlite://", seed=0, strategy=sys.argv[1])
exp.optimize(objective, n_trials=int(sys.argv[3]))
print(json.dumps([t.params for t in exp.trials]))
"""


def extra_only_packages(extra: str) -> list[str]:
    """The import names of what an extra brings beyond the core dependencies (from pyproject.toml)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def name(requirement: str) -> str:
        return re.split(r"[\\[<>=!~ ;]", requirement, maxsplit=1)[0].lower().replace("-", "_")

    core = {name(r) for r in project["dependencies"]}
    return [n for n in map(name, project["optional-dependencies"][extra]) if n not in core]


def proposals(strategy: str, blas_threads: int, blocked: list[str], n_trials: int) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env.update(OPENBLAS_NUM_THREADS=str(blas_threads), OMP_NUM_THREADS=str(blas_threads))
    env["PYTHONPATH"] = str(Path(kl.__file__).parents[1])
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(RUN), strategy, ",".join(blocked), str(n_trials)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["gp", "auto"])
def test_a_seed_proposes_the_same_points_with_or_without_the_strategies_extra(strategy):
    without_extra = extra_only_packages("strategies")
    assert "cmaes" in without_extra
    reference = proposals(strategy, 1, [], 40)
    assert len(reference) == 40
    assert proposals(strategy, 2, [], 40) == reference  # BLAS threads make no difference
    assert proposals(strategy, 2, without_extra, 40) == reference  # nor does the extra
