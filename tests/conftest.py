"""Fixtures: every store implementation, on real files and a real server.

``store`` is parametrized over the implementations (SQLite file, a throwaway
PostgreSQL cluster, a throwaway ArcadeDB Bolt server for Neo4j); ``op`` builds
Operation values from a compact description.
"""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pgcluster  # noqa: E402
from servers import server_missing  # noqa: E402
from boltserver import bolt_server  # noqa: E402,F401  (the session fixture)

from sqllineage_harvester.model import (  # noqa: E402
    IDENTITY, ColumnLineage, ColumnRef, DatasetRef, IndirectRef, Operation,
)
from sqllineage_harvester.stores import Store, open_store  # noqa: E402

NAMESPACE = "postgres://warehouse:5432"
STORES = ["sqlite", "postgresql", "neo4j"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pgcluster.PgCluster]:
    if pgcluster.find_bindir() is None:
        server_missing("PostgreSQL server binaries are", "no PostgreSQL server binaries (install postgresql)")
    cluster = pgcluster.start_cluster()
    yield cluster
    cluster.stop()
    shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/lineage.db"
    if request.param == "neo4j":
        return str(request.getfixturevalue("bolt_server").create_database())
    cluster = request.getfixturevalue("pg_cluster")
    return str(cluster.create_database(f"lineage_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def column(name: str) -> ColumnRef:
    table, col = name.rsplit(".", 1)
    return ColumnRef(table, col)


def make_op(
    id: str,
    writes: str,
    reads: tuple[str, ...] = (),
    cols: dict[str, str | list[str]] | None = None,
    transforms: dict[str, str] | None = None,
    indirect: dict[str, str] | None = None,
    user: str | None = "etl",
    seen: tuple[str | None, str | None] = ("2024-01-01T00:00:00", "2024-01-01T00:00:00"),
    executions: int = 1,
    system: str | None = "warehouse",
) -> Operation:
    """``cols`` maps a written column to its source column(s), ``indirect`` a column
    to its indirect kind (statement-wide, e.g. a WHERE)."""
    lineage = tuple(
        ColumnLineage(ColumnRef(writes, target), tuple(column(s) for s in ([src] if isinstance(src, str) else src)),
                      (transforms or {}).get(target, IDENTITY))
        for target, src in (cols or {}).items())
    return Operation(
        id=id, type="insert", fingerprint=f"fp-{id}", sql=f"INSERT INTO {writes} SELECT ...",
        inputs=tuple(DatasetRef(r) for r in reads), outputs=(DatasetRef(writes),), columns=lineage,
        indirect=tuple(IndirectRef(column(c), kind) for c, kind in (indirect or {}).items()),
        namespace=NAMESPACE, user=user, system=system, first_seen=seen[0], last_seen=seen[1],
        executions=executions)


@pytest.fixture
def op() -> Callable[..., Operation]:
    return make_op
