"""The harvester's own queries (tagged ``/* sqllineage-harvester */``) never come back as lineage:
every reader leaves them out and counts them as skipped (``harvester_query``), whether it reads
pg_stat_statements, a PostgreSQL csvlog, a MySQL / MariaDB general log file or table, or an export.
The live cases harvest a real server first, so that its logs hold the harvester's real queries.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import mariadbserver  # noqa: E402
from servers import server_missing  # noqa: E402

from sqllineage_harvester.dialects import get_dialect  # noqa: E402
from sqllineage_harvester.harvest import Options, harvest  # noqa: E402
from sqllineage_harvester.pgcatalog import read_catalog  # noqa: E402
from sqllineage_harvester.sources import HARVESTER_TAG, open_source  # noqa: E402
from sqllineage_harvester.stores import open_store  # noqa: E402

psycopg = pytest.importorskip("psycopg")

DONE = "own-queries-done-7d2a"


def stored(db: Path) -> tuple[set[str], set[str], set[str]]:
    """(dataset names, dataset names with usage, operation texts) of a SQLite store."""
    con = sqlite3.connect(db)
    try:
        names = {n for (n,) in con.execute("SELECT name FROM datasets")}
        used = {n for (n,) in con.execute("SELECT d.name FROM usage u JOIN datasets d ON d.id = u.dataset_id")}
        texts = {s or "" for (s,) in con.execute("SELECT sql FROM operations")}
    finally:
        con.close()
    return names, used, texts


def wait_for(log_dir: Path, text: str, pattern: str = "*.csv", seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(text in p.read_text(errors="replace") for p in log_dir.glob(pattern)):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never reached {log_dir}")


# -- PostgreSQL: pg_stat_statements and the csvlog -------------------------------------------
@pytest.fixture(scope="module")
def pg(pg_cluster: Any) -> Iterator[Any]:
    """Database ``own`` with a table, every statement logged, then one harvest of it from
    pg_stat_statements (catalog read too): the harvester's queries are in the view and the log."""
    pg_cluster.configure(log_statement="all")
    dsn = f"host=127.0.0.1 port={pg_cluster.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS own")
        conn.execute("CREATE DATABASE own")
    with psycopg.connect(dsn.replace("dbname=postgres", "dbname=own"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("CREATE TABLE own_src (id int, v text)")
        conn.execute("CREATE TABLE own_dst AS SELECT id, v FROM own_src")
    url = pg_cluster.url("own")
    first = harvest(open_source(url, "postgres"), open_store("sqlite://"), pg_options(pg_cluster))
    assert first.entries > 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SELECT '{DONE}'")
    wait_for(pg_cluster.log_dir, DONE)
    yield pg_cluster
    pg_cluster.configure(log_statement="none")


def pg_options(cluster: Any, **kw: Any) -> Options:
    catalog = read_catalog(cluster.url("own"))
    return Options(dialect="postgres", namespace=f"postgres://127.0.0.1:{cluster.port}", catalog=catalog.tables, **kw)


def test_the_csvlog_holds_the_harvesters_queries_and_pglog_skips_them(pg: Any, tmp_path: Path) -> None:
    logged = "".join(p.read_text(errors="replace") for p in pg.log_dir.glob("*.csv"))
    assert logged.count(HARVESTER_TAG) >= 3  # the view, the catalog, the schema: each logged

    source = open_source(f"pglog://{pg.log_dir}", "postgres")
    entries = list(source.read())
    assert entries and not [e.sql for e in entries if HARVESTER_TAG in e.sql]
    assert source.stats.skipped["harvester_query"] >= 3

    db = tmp_path / "lineage.db"
    report = harvest(open_source(f"pglog://{pg.log_dir}", "postgres"), open_store(f"sqlite:///{db}"),
                     pg_options(pg, batch_size=50))
    assert report.skipped["harvester_query"] >= 3
    names, used, texts = stored(db)
    assert "own.public.own_dst" in names  # the workload is there
    assert not [t for t in texts if "sqllineage-harvester" in t]
    own_reads = ("pg_stat_statements", "pg_roles", "pg_database", "columns", "pg_attribute", "pg_views",
                 "pg_matviews", "pg_namespace")
    assert not [n for n in names | used if n.startswith("own.") and n.rpartition(".")[2] in own_reads]


def test_pg_stat_statements_counts_the_harvesters_own_rows_as_skipped(pg: Any) -> None:
    source = open_source(pg.url("own"), "postgres")
    entries = list(source.read())
    assert not [e.sql for e in entries if HARVESTER_TAG in e.sql]
    assert source.stats.skipped["harvester_query"] >= 2  # the previous run's reads of the view


# -- MariaDB: the general log file (mysqllog://) and the mysql.general_log table -------------
@pytest.fixture(scope="module")
def maria() -> Iterator[mariadbserver.MariaDB]:
    pytest.importorskip("pymysql")
    if mariadbserver.find_server() is None:
        server_missing("MariaDB server binaries (apt-get install mariadb-server) are",
                       "no MariaDB server binaries (install mariadb-server)")
    server = mariadbserver.start_server()
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            for sql in ("CREATE DATABASE app", "CREATE TABLE app.src (id INT, v VARCHAR(20))",
                        "CREATE TABLE app.dst (id INT, v VARCHAR(20))", "INSERT INTO app.dst SELECT id, v FROM app.src"):
                cur.execute(sql)
    finally:
        conn.close()
    # One harvest of the server's history: its tagged query and catalog query reach both logs.
    spec = get_dialect("mariadb")
    source = open_source(server.url(), spec)
    harvest(source, open_store("sqlite://"), Options(dialect=spec.sqlglot, namespace="mariadb://test",
                                                     catalog=source.catalog()))
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT '{DONE}'")
    finally:
        conn.close()
    wait_for(server.general_log.parent, DONE, server.general_log.name)
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


def test_the_general_log_file_skips_the_harvesters_queries(maria: mariadbserver.MariaDB) -> None:
    assert maria.general_log.read_text(errors="replace").count(HARVESTER_TAG) >= 2
    source = open_source(f"mysqllog://{maria.general_log}", "mariadb")
    entries = list(source.read())
    assert any("INSERT INTO app.dst" in e.sql for e in entries)
    assert not [e.sql for e in entries if HARVESTER_TAG in e.sql]
    assert source.stats.skipped["harvester_query"] >= 2


def test_the_general_log_table_skips_the_harvesters_queries(maria: mariadbserver.MariaDB) -> None:
    source = open_source(maria.url() + "?log=general_log", "mariadb")
    entries = list(source.read())
    assert any("INSERT INTO app.dst" in e.sql for e in entries)
    assert not [e.sql for e in entries if HARVESTER_TAG in e.sql]
    assert source.stats.skipped["harvester_query"] >= 2


# -- exports -------------------------------------------------------------------------------
def test_an_export_skips_the_harvesters_queries_wherever_the_tag_sits(tmp_path: Path) -> None:
    export = tmp_path / "history.csv"
    export.write_text("query,calls\n"
                      f"\"{HARVESTER_TAG} SELECT * FROM pg_stat_statements\",3\n"
                      f"\"\n  {HARVESTER_TAG}\nSELECT 1\",1\n"
                      "\"INSERT INTO a SELECT * FROM b\",2\n")
    source = open_source(export, "postgres")
    assert [e.sql for e in source.read()] == ["INSERT INTO a SELECT * FROM b"]
    assert source.stats.skipped["harvester_query"] == 2 and source.stats.entries == 1
