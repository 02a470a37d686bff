"""Shared fixtures. Keep this file small; add fixtures with targeted edits (others add PostgreSQL, Ray, Chromium)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite URL in the test's own folder (the file is created on first open)."""
    return f"sqlite:///{tmp_path / 'knoblab.db'}"
