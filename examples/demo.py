"""`make demo`: the main job on the embedded SQLite default (./knoblab.db).

Runs the breast-cancer Keras scan when Keras is installed (examples/breast_cancer.py), and otherwise a
search of a synthetic function through the core alone.
"""

from __future__ import annotations

import importlib.util
import runpy
from pathlib import Path

here = Path(__file__).parent

if importlib.util.find_spec("keras") and (here / "breast_cancer.py").exists():
    runpy.run_path(str(here / "breast_cancer.py"), run_name="__main__")
else:
    runpy.run_path(str(here / "quickstart.py"), run_name="__main__")
