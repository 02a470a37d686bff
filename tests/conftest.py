"""Shared fixtures. Keep this file small; add fixtures with targeted edits (others add PostgreSQL, Ray, Chromium)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite URL in the test's own folder (the file is created on first open)."""
    return f"sqlite:///{tmp_path / 'knoblab.db'}"


# ---- PostgreSQL: a real server on loopback for the session (issue 7) ----
def _pg_bin() -> str | None:
    import glob
    import shutil

    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(dirs[-1]) if dirs else None


@pytest.fixture(scope="session")
def postgres_server():
    """Starts PostgreSQL (initdb + pg_ctl, as the non-root `postgres` user when run as root) on a free loopback
    port in a temporary folder; yields the base URL `postgresql+psycopg://knoblab:...@127.0.0.1:PORT`."""
    import shutil
    import socket
    import subprocess
    import tempfile

    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed; `make test` installs them")
    pytest.importorskip("psycopg", reason="psycopg is not installed; pip install 'knoblab[postgres]'")
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="knoblab-pg-")
    if os.geteuid() == 0:  # initdb refuses to run as root
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as")
        os.chmod(root, 0o755)
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, timeout=120)

    run(f"{bin_dir}/initdb", "-D", data, "-U", "knoblab", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run(f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-l", os.path.join(root, "log"), "-w", "-t", "60", "start")
    try:
        yield f"postgresql+psycopg://knoblab:s3cret-pw@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh, empty database on the session's server, for one test."""
    import re

    import psycopg

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + f"_{os.getpid()}_{id(request) % 10**6}"
    plain = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"


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
        runtime_env={"env_vars": {"PYTHONPATH": root, "KERAS_BACKEND": os.environ["KERAS_BACKEND"]}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()
