"""A missing optional dependency is one line naming the extra that installs it, not a raw ModuleNotFoundError."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def last_error_line(code: str, missing: str) -> str:
    """Runs `code` in a fresh interpreter where `missing` cannot be imported (as if not installed); returns the
    last line of its traceback."""
    script = absent(missing) + code
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env()
    )
    assert done.returncode != 0, done.stdout
    return done.stderr.strip().splitlines()[-1]


def absent(module: str) -> str:
    """Code that makes `import module` (and its submodules) fail as it does when the package is not installed."""
    return textwrap.dedent(
        f"""
        import importlib.abc, sys

        class Absent(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == {module!r} or name.startswith({module!r} + "."):
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

        sys.meta_path.insert(0, Absent())
        """
    )


def _env():
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


@pytest.mark.parametrize(
    ("missing", "code", "extra"),
    [
        (
            "cmaes",
            """
            import knoblab as kl
            kl.Experiment("c", {"x": kl.Real(0, 1)}, storage="sqlite://", strategy="cmaes")
            """,
            "strategies",
        ),
        ("keras", "import knoblab as kl\nkl.Scan", "keras"),
        ("keras", "import knoblab as kl\nkl.keras.Patience", "keras"),
        ("keras", "import knoblab.keras", "keras"),
        ("torch", "import knoblab.keras", "keras"),  # Keras is there, its backend is not
        ("matplotlib", "import knoblab.plots.analysis", "analysis"),
        ("matplotlib", "from knoblab.plots.contour import loss_contour", "analysis"),
    ],
)
def test_a_missing_extra_names_it(missing, code, extra):
    line = last_error_line(textwrap.dedent(code), missing)
    assert line.startswith("ModuleNotFoundError: "), line
    assert f"pip install 'knoblab[{extra}]'" in line and missing in line, line


def test_knoblab_itself_needs_no_extra():
    code = (
        "import knoblab as kl\n"
        "kl.Experiment('e', {'x': kl.Real(0, 1)}, storage='sqlite://').optimize(lambda t: 1.0, n_trials=2)\n"
    )
    for missing in ("keras", "cmaes", "matplotlib", "sklearn", "threadpoolctl"):
        script = absent(missing) + code
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=_env())
        assert done.returncode == 0, (missing, done.stderr[-2000:])
