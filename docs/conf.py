"""Sphinx configuration of knoblab's reference manual: the API from the docstrings (autodoc + napoleon), the guides
from docs/*.md (MyST). Built by `make docs` with warnings as errors."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's knoblab, installed or not
os.environ.setdefault("KERAS_BACKEND", "torch")

project = "knoblab"
author = "the knoblab authors"
copyright = "the knoblab authors"  # noqa: A001
release = version = __import__("knoblab").__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode", "myst_parser"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "build"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]
suppress_warnings = ["myst.xref_missing"]  # links to files outside docs/ (bench/README.md, examples/) stay as text

autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_inherit_docstrings = True
autodoc_class_signature = "separated"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

html_theme = "alabaster"
html_title = f"knoblab {release}"
html_static_path: list[str] = []
default_role = "py:obj"  # `name` in a docstring links to it where it is documented, else shows as code
