"""Shared fixtures. Keep this file small; add fixtures with targeted edits (others add PostgreSQL, Ray, Chromium)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
# subprocesses the tests start (scripts, workers) import this checkout's src/, whatever PYTHONPATH said (a relative
# PYTHONPATH=src would point elsewhere from their working folder)
_SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_SRC, *[p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]]
)

import pytest  # noqa: E402


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite URL in the test's own folder (the file is created on first open)."""
    return f"sqlite:///{tmp_path / 'knoblab.db'}"


# ---- PostgreSQL: a real server on loopback for the session (issue 7) ----
@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server on a free loopback port (knoblab.testing.postgres); yields its base URL."""
    from knoblab.testing.postgres import PostgresUnavailable, local_postgres

    pytest.importorskip("psycopg", reason="psycopg is not installed; pip install 'knoblab[postgres]'")
    try:
        server = local_postgres(password="s3cret-pw")  # tests check that it is never printed
        url = server.__enter__()
    except PostgresUnavailable as e:
        pytest.skip(f"{e}; `make test` installs them")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh, empty database on the session's server, for one test."""
    import re

    from knoblab.testing.postgres import create_database

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + f"_{os.getpid()}_{id(request) % 10**6}"
    return create_database(postgres_server, name)


# ---- Ray: a real local cluster for the session (issue 7) ----
@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray instance with 2 CPUs; trials run as Ray tasks in worker processes."""
    ray = pytest.importorskip("ray", reason="Ray is not installed; pip install 'knoblab[ray]'")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        # the checkout's src/ too, so Ray workers import this checkout's knoblab even where another is installed
        runtime_env={
            "env_vars": {
                "PYTHONPATH": os.pathsep.join([root, os.path.join(root, "src")]),
                "KERAS_BACKEND": os.environ["KERAS_BACKEND"],
            }
        },
    )
    try:
        yield ray
    finally:
        ray.shutdown()
