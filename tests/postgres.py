"""A real PostgreSQL server for the tests: Debian's package (`apt-get install postgresql`, which
.ci/run does), a cluster made with initdb in a temp dir and started with pg_ctl on loopback, one per
test session. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user the
package creates (runuser). Each test gets a database of its own, copied from a migrated template.

Without PostgreSQL installed the PostgreSQL half of the tests is skipped, except where it is required
(OSPO_TEST_POSTGRES=required, which .ci/run sets, or CI=true): there that is a failure."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

TEMPLATE = "ospo_template"
_n = itertools.count(1)


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def required() -> bool:
    """Must the PostgreSQL half run (.ci/run, CI), rather than be skipped when PostgreSQL is missing?"""
    return os.environ.get("OSPO_TEST_POSTGRES") == "required" or os.environ.get("CI", "").lower() in ("true", "1")


class Server:
    """initdb + pg_ctl in `folder`, listening on 127.0.0.1:port (trust on loopback: a test cluster)."""

    def __init__(self, folder: Path, port: int):
        self.bin = bindir()
        self.folder, self.port = folder, port
        self.data = folder / "data"
        self.user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL will not run as root
        self.log = folder / "server.log"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> Server:
        if self.user:
            shutil.chown(self.folder, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        settings = (
            f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.folder}'\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n"
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(settings)
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:test-password@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        """A fresh, migrated database of its own (a copy of the template); its URL."""
        name = f"test_{os.getpid()}_{next(_n)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        from bot.storage import postgres

        postgres.close(url)
        self.admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def start_server() -> Server:
    from bot.storage import postgres
    from tests.conftest import free_port

    if bindir() is None:
        if required():
            pytest.fail("PostgreSQL is not installed: .ci/run installs it (apt-get install -y postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql): its half of the tests is skipped")
    folder = Path(tempfile.mkdtemp(prefix="ospo-pg-"))  # not under pytest's root-only temp dir
    server = Server(folder, free_port()).init()
    server.start()
    server.admin(f"CREATE DATABASE {TEMPLATE}")
    template = server.url(TEMPLATE)
    postgres.open_db(template)  # migrated once; every test's database is a copy
    postgres.close(template)
    return server


def stop_server(server: Server) -> None:
    from bot.storage import postgres

    postgres.close_all()
    try:
        server.stop("immediate")
    finally:
        shutil.rmtree(server.folder, ignore_errors=True)
