"""A throwaway Bolt server for tests: ArcadeDB from the ``arcadedb-embedded`` wheel,
run as a child process with the wheel's own Java runtime, on free 127.0.0.1 ports
and a temporary root directory, stopped and deleted afterwards.

ArcadeDB speaks Bolt through its Neo4j plugin and answers the official ``neo4j``
driver as a Neo4j 5 server would. The Bolt port opens a moment before the
default database exists, so ``start`` waits until ``RETURN 1`` answers on it.
Each test gets a database of its own (``create_database``), made through the
server's HTTP API in about 50 ms.
"""

from __future__ import annotations

import base64
import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from servers import server_missing

PASSWORD = "bolt-test-secret"
DATABASE = "lineage"
JAVA_OPTIONS = [
    "-Xmx1g", "-Xss4m", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/java.nio.channels.spi=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "-Dpolyglot.engine.WarnInterpreterOnly=false", "-Dfile.encoding=UTF8",
]


def find_home() -> Path | None:
    """The installed wheel's folder (holding ``jre/`` and ``jars/``), or None."""
    try:
        import arcadedb_embedded
    except ImportError:
        return None
    home = Path(arcadedb_embedded.__file__).parent
    return home if (home / "jre" / "bin" / "java").exists() and (home / "jars").is_dir() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BoltServer:
    home: Path
    root: Path
    bolt_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = DATABASE, scheme: str = "bolt", password: str = PASSWORD) -> str:
        return f"{scheme}://root:{password}@127.0.0.1:{self.bolt_port}/{database}"

    def command(self) -> list[str]:
        settings = {
            "server.rootPath": self.root, "server.rootPassword": PASSWORD, "server.mode": "development",
            "server.httpIncomingHost": "127.0.0.1", "server.httpIncomingPort": self.http_port,
            "server.httpsIncomingPort": free_port(), "server.defaultDatabases": f"{DATABASE}[root]",
            "server.plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "bolt.host": "127.0.0.1", "bolt.port": self.bolt_port,
        }
        return [str(self.home / "jre" / "bin" / "java"), *JAVA_OPTIONS,
                *(f"-Darcadedb.{k}={v}" for k, v in settings.items()),
                "-cp", str(self.home / "jars" / "*"), "com.arcadedb.server.ArcadeDBServer"]

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, cwd=self.root)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        import neo4j

        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"ArcadeDB exited ({self.process.returncode}):\n{self.tail()}")
            try:
                with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{self.bolt_port}",
                                                auth=("root", PASSWORD), connection_timeout=2) as driver:
                    with driver.session(database=DATABASE) as session:
                        session.run("RETURN 1 AS one").consume()
                return
            except Exception as e:  # the port, then the database, come up in turn
                if time.monotonic() > deadline:
                    raise RuntimeError(f"ArcadeDB did not answer in {timeout:g}s ({e}):\n{self.tail()}") from e
                time.sleep(0.25)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), the way a restarted production server goes down."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.wait_port_free()

    def wait_port_free(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    s.bind(("127.0.0.1", self.bolt_port))
                    return
                except OSError:
                    time.sleep(0.1)

    def create_database(self, name: str | None = None) -> str:
        name = name or f"lineage_{uuid.uuid4().hex[:12]}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/api/v1/server", method="POST",
            data=json.dumps({"command": f"create database {name}"}).encode(),
            headers={"Authorization": "Basic " + base64.b64encode(f"root:{PASSWORD}".encode()).decode(),
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        return self.url(name)


def start_server() -> BoltServer:
    """A running server in a fresh temporary directory (the caller stops it and removes ``root``)."""
    home = find_home()
    if home is None:
        raise FileNotFoundError("the arcadedb-embedded wheel (with its jre/ and jars/) is not installed")
    server = BoltServer(home, Path(tempfile.mkdtemp(prefix="lineage-bolt-")))
    try:
        server.start()
    except Exception:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        raise
    return server


@pytest.fixture(scope="session")
def bolt_server() -> Iterator[BoltServer]:
    """One ArcadeDB Bolt server for the whole session; skipped (or failed, when
    SQLLINEAGE_REQUIRE_SERVERS is set) without the wheel."""
    if find_home() is None:
        server_missing("the arcadedb-embedded wheel is", "no Bolt test server (pip install arcadedb-embedded)")
    server = start_server()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
