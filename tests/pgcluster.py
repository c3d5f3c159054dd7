"""A throwaway PostgreSQL cluster for tests: initdb into a temporary directory,
start on a free 127.0.0.1 port, stop and delete afterwards.

The cluster loads pg_stat_statements and writes a CSV server log (``csvlog``
under ``<data>/log``), with every statement logged, so tests of the log and
statistics sources can use the same server. PostgreSQL refuses to run as root;
when the tests do, the server runs as ``nobody`` through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_preload_libraries": "'pg_stat_statements'",
    "logging_collector": "on",
    "log_destination": "'csvlog'",
    "log_directory": "'log'",
    "log_filename": "'postgresql-%Y%m%d.log'",
    "log_min_duration_statement": "0",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
}
RUN_AS = "nobody"


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl live: ``pg_config --bindir`` or the newest Debian install."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]),
                         reverse=True)
    return next((Path(c) for c in candidates if c and (Path(c) / "initdb").exists()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *args] if os.geteuid() == 0 else args


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int = 0

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_dir(self) -> Path:
        """Where the server writes its csvlog files."""
        return self.data / "log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> None:
        done = subprocess.run(as_server_user([str(self.bindir / args[0]), *args[1:]]),
                              capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(RUN_AS)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C", "--no-sync")
        settings = {**SETTINGS, "unix_socket_directories": f"'{self.root}'"}
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def start(self) -> None:
        for _ in range(3):  # another process may take the free port between our look and the start
            self.port = free_port()
            try:
                self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                         "-t", "60", "-o", f"-p {self.port}", "start")
                return
            except RuntimeError:
                continue
        raise RuntimeError("PostgreSQL did not start: " + (self.root / "server.log").read_text(errors="replace"))

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def require_password(self, user: str, password: str) -> None:
        """A login role that must give ``password`` over TCP (every other role stays trusted)."""
        import psycopg

        hba = self.data / "pg_hba.conf"
        hba.write_text(f"host all {user} 127.0.0.1/32 scram-sha-256\n" + hba.read_text(encoding="utf-8"),
                       encoding="utf-8")
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {user}")
            conn.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
            conn.execute("SELECT pg_reload_conf()")

    def configure(self, **settings: str) -> None:
        """Change server settings at run time (ALTER SYSTEM + reload), e.g. log_statement="all"."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            for name, value in settings.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_cluster() -> PgCluster:
    """A running cluster in a fresh temporary directory (the caller stops it and removes ``root``)."""
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb) found")
    cluster = PgCluster(bindir, Path(tempfile.mkdtemp(prefix="lineage-pg-")))
    try:
        cluster.init()
        cluster.start()
    except Exception:
        shutil.rmtree(cluster.root, ignore_errors=True)
        raise
    return cluster
