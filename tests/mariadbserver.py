"""A throwaway MariaDB server for tests: mariadb-install-db into a temporary
directory, mariadbd on a free 127.0.0.1 port and a private unix socket, stopped
and deleted afterwards.

The server keeps statement history (performance_schema on, with the
events_statements_history_long consumer) and the general query log in the
mysql.general_log table and in a file, so every reader can be tested against it.
Times are UTC. Runs as root (``--user=root``) when the tests do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SETTINGS = [
    "--performance-schema=ON",
    "--performance-schema-consumer-events-statements-current=ON",  # history_long is fed through it
    "--performance-schema-consumer-events-statements-history-long=ON",
    "--performance-schema-events-statements-history-long-size=10000",
    "--general-log=ON",
    "--log-output=TABLE,FILE",  # the general log both as mysql.general_log and as a file
    "--default-time-zone=+00:00",
    "--skip-name-resolve",
    "--innodb-buffer-pool-size=32M",
    "--innodb-log-file-size=16M",
    "--skip-log-bin",
    "--character-set-server=utf8mb4",
]


def find_server() -> tuple[str, str] | None:
    """(mariadb-install-db, mariadbd) paths, or None when MariaDB is not installed."""
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    server = shutil.which("mariadbd") or (os.path.exists("/usr/sbin/mariadbd") and "/usr/sbin/mariadbd") or None
    return (install, server) if install and server else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MariaDB:
    root: Path
    server: str
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.root / "mysqld.sock"

    def url(self, user: str = "root", password: str = "", database: str = "") -> str:
        auth = f"{user}:{password}" if password else user
        return f"mariadb://{auth}@127.0.0.1:{self.port}/{database}"

    def connect(self, user: str = "root", password: str = "", database: str | None = None, autocommit: bool = True):
        import pymysql

        return pymysql.connect(host="127.0.0.1", port=self.port, user=user, password=password, database=database,
                               autocommit=autocommit, charset="utf8mb4")

    @property
    def general_log(self) -> Path:
        return self.root / "general.log"

    def start(self) -> None:
        user = ["--user=root"] if os.geteuid() == 0 else []
        for _ in range(3):  # another process may take the free port between our look and the start
            self.port = free_port()
            args = [self.server, "--no-defaults", f"--datadir={self.root / 'data'}", f"--socket={self.socket}",
                    f"--port={self.port}", "--bind-address=127.0.0.1", f"--pid-file={self.root / 'mysqld.pid'}",
                    f"--log-error={self.root / 'error.log'}", f"--general-log-file={self.general_log}",
                    *user, *SETTINGS]
            self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait():
                return
            self.stop()
        raise RuntimeError("MariaDB did not start: " + (self.root / "error.log").read_text(errors="replace")[-3000:])

    def _wait(self, seconds: float = 60) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            try:
                self.connect().close()
                return True
            except Exception:  # noqa: BLE001 - not accepting connections yet
                time.sleep(0.2)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


def start_server() -> MariaDB:
    """A running server in a fresh temporary directory (the caller stops it and removes ``root``)."""
    found = find_server()
    if found is None:
        raise FileNotFoundError("no MariaDB server binaries (mariadb-install-db, mariadbd) found")
    install, server = found
    root = Path(tempfile.mkdtemp(prefix="lineage-mariadb-"))
    try:
        user = ["--user=root"] if os.geteuid() == 0 else []
        done = subprocess.run([install, "--no-defaults", f"--datadir={root / 'data'}", "--auth-root-authentication-method=normal",
                               "--skip-test-db", *user], capture_output=True, text=True, check=False)
        if done.returncode:
            raise RuntimeError(f"mariadb-install-db failed: {done.stderr or done.stdout}")
        db = MariaDB(root, server)
        db.start()
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return db
