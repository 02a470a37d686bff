"""Where experiments live: one storage contract, one SQL implementation (SQLite, PostgreSQL)."""

from __future__ import annotations

from .base import SCHEMA_VERSION, DuplicatePoint, ExperimentRecord, Storage, StorageError
from .sql import SQLStorage, safe_url

DEFAULT_URL = "sqlite:///knoblab.db"


def open_storage(storage: str | Storage | None = None) -> Storage:
    """A storage from a URL (or the one given); the default is the embedded SQLite file ./knoblab.db."""
    if storage is None:
        storage = DEFAULT_URL
    if isinstance(storage, str):
        return SQLStorage(storage)
    return storage


__all__ = [
    "SCHEMA_VERSION",
    "DEFAULT_URL",
    "ExperimentRecord",
    "Storage",
    "StorageError",
    "DuplicatePoint",
    "SQLStorage",
    "open_storage",
    "safe_url",
]
