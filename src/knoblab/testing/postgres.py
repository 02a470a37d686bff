"""A throwaway PostgreSQL server on loopback: initdb + pg_ctl in a temporary folder (as the `postgres` user when run
as root, since initdb refuses root), stopped and removed on exit. For tests and benchmarks of the SQL storage."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator

__all__ = ["PostgresUnavailable", "postgres_bin_dir", "local_postgres", "create_database"]


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries (or a user to run them as) are not on this machine."""


def postgres_bin_dir() -> str | None:
    """The folder holding initdb and pg_ctl (on PATH, or Debian's /usr/lib/postgresql/<version>/bin), or None."""
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(dirs[-1]) if dirs else None


@contextlib.contextmanager
def local_postgres(*, durable: bool = False, max_connections: int = 200, password: str | None = None) -> Iterator[str]:
    """Starts a server on a free loopback port; yields its base URL `postgresql+psycopg://knoblab@127.0.0.1:PORT`
    (append `/dbname`; see `create_database`). durable=False turns fsync off (fast tests); True keeps PostgreSQL's
    durable defaults, for benchmarks whose numbers should be what a real server gives. The server trusts every
    loopback connection; `password` only goes into the URL (to check that code which prints URLs hides it)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable(
            "PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install -y postgresql (or `make postgres`)"
        )
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="knoblab-pg-")
    try:
        if os.geteuid() == 0:
            import pwd

            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no `postgres` user to run the server as"
                ) from None
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
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
        if not durable:
            options += " -c fsync=off"
        run(f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-l", os.path.join(root, "log"), "-w", "-t", "60", "start")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        user_part = f"knoblab:{password}" if password else "knoblab"
        yield f"postgresql+psycopg://{user_part}@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def create_database(base_url: str, name: str, *, replace: bool = False) -> str:
    """Creates database `name` on the server at `base_url` (dropping one of that name first when replace=True);
    returns its URL."""
    import psycopg

    if not re.fullmatch(r"[A-Za-z0-9_]{1,63}", name):
        raise ValueError(f"name: got {name!r}; use letters, digits and _ (at most 63)")
    plain = base_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain + "/postgres", autocommit=True) as conn:
        if replace:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"
