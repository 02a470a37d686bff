"""The source distribution: built from the tracked files by setuptools, it carries the license, the changelog, the
docs and the examples, and its metadata names the license, the URLs and the classifiers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sdist(tmp_path_factory) -> tarfile.TarFile:
    """An sdist built, with no download (`setuptools.build_meta` as installed), from a copy of the tracked files."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know the tracked files")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    tree = tmp_path_factory.mktemp("tree")
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    out = tmp_path_factory.mktemp("dist")
    code = f"from setuptools import build_meta; print(build_meta.build_sdist({str(out)!r}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return tarfile.open(out / done.stdout.strip().splitlines()[-1])


def test_the_sdist_carries_license_changelog_docs_and_examples(sdist):
    names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for needed in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "src/knoblab/py.typed"):
        assert needed in names, needed
    for folder in ("docs", "examples"):
        tracked = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True).stdout.split()
        assert tracked and set(tracked) <= names, set(tracked) - names
    assert "src/knoblab/dashboard/static/app.js" in names
    assert not [n for n in names if n.endswith((".db", ".pyc"))]


def test_the_sdist_metadata_names_license_urls_and_classifiers(sdist):
    (info,) = [m for m in sdist.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
    text = sdist.extractfile(info).read().decode()
    assert "License-Expression: MIT" in text and "License-File: LICENSE" in text
    assert "Project-URL: Homepage, https://" in text and "Project-URL: Changelog, https://" in text
    assert "Classifier: Programming Language :: Python :: 3.11" in text and "Classifier: Typing :: Typed" in text
