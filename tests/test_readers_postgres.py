"""Live PostgreSQL readers on the throwaway test cluster: pg_stat_statements leaves out
statements run inside others (CREATE EXTENSION's script) and the database's own objects,
marks its times as harvest times (or takes a statement's first time from ``stats_since``
where the view has it); the csvlog and jsonlog give every statement its session, user and
database, so that a session's SET search_path can be followed."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

psycopg = pytest.importorskip("psycopg")


def connect(cluster: Any, database: str, user: str = "postgres") -> Any:
    return psycopg.connect(f"host=127.0.0.1 port={cluster.port} user={user} dbname={database}", autocommit=True)


def fresh_database(cluster: Any, name: str, *setup: str) -> None:
    with connect(cluster, "postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    with connect(cluster, name) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        for sql in setup:
            conn.execute(sql)


def options(cluster: Any, **kw: Any) -> Options:
    return Options(dialect="postgres", namespace=f"postgres://127.0.0.1:{cluster.port}", **kw)


def store_names(db: Path) -> tuple[set[str], set[str], set[str]]:
    con = sqlite3.connect(db)
    try:
        names = {n for (n,) in con.execute("SELECT name FROM datasets")}
        used = {n for (n,) in con.execute("SELECT d.name FROM usage u JOIN datasets d ON d.id = u.dataset_id")}
        ops = {t for (t,) in con.execute("SELECT sql FROM operations")}
    finally:
        con.close()
    return names, used, ops


# -- pg_stat_statements: statements run inside others, system objects -----------------------
@pytest.fixture
def track_all(pg_cluster: Any) -> Iterator[Any]:
    """pg_stat_statements.track = all: statements inside functions and CREATE EXTENSION are kept too."""
    pg_cluster.configure(**{"pg_stat_statements.track": "all"})
    time.sleep(0.3)
    yield pg_cluster
    pg_cluster.configure(**{"pg_stat_statements.track": "top"})


def test_create_extensions_inner_statements_are_skipped_as_nested(track_all: Any, tmp_path: Path) -> None:
    cluster = track_all
    fresh_database(cluster, "ext")
    with connect(cluster, "ext") as conn:
        conn.execute("CREATE TABLE ext_src (id int, code text)")
        conn.execute("CREATE EXTENSION isn")  # its script: CREATE TYPE / FUNCTION, UPDATE pg_catalog.pg_depend ...
        conn.execute("CREATE EXTENSION pg_buffercache")  # ... and CREATE VIEW pg_buffercache AS SELECT ...
        conn.execute("CREATE TABLE ext_dst AS SELECT id, code FROM ext_src")
        nested = conn.execute("SELECT count(*) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
                              " WHERE NOT s.toplevel AND d.datname = 'ext'").fetchone()[0]
    assert nested > 50

    source = open_source(cluster.url("ext"), "postgres")
    entries = [e for e in source.read() if e.database == "ext"]
    texts = [e.sql for e in entries]
    assert any(t.startswith("CREATE EXTENSION isn") for t in texts)  # the top-level statement stays
    assert any(t.startswith("CREATE TABLE ext_dst") for t in texts)
    assert not [t for t in texts if "pg_depend" in t or "CREATE VIEW pg_buffercache" in t or "CREATE FUNCTION" in t]
    assert source.stats.skipped["nested_statement"] >= nested

    db = tmp_path / "lineage.db"
    report = harvest(open_source(cluster.url("ext"), "postgres"), open_store(f"sqlite:///{db}"), options(cluster))
    assert report.skipped["nested_statement"] >= nested
    names, used, ops = store_names(db)
    assert "ext.public.ext_dst" in names
    assert not [n for n in names | used if "buffercache" in n or "pg_depend" in n or "pg_proc" in n]


def test_system_objects_read_live_never_reach_the_store(pg_cluster: Any, tmp_path: Path) -> None:
    fresh_database(pg_cluster, "sysq", "CREATE TABLE app_t (id int, relname text)")
    with connect(pg_cluster, "sysq") as conn:
        for sql in ("SELECT c.relname, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
                    "SELECT query, calls FROM pg_stat_statements ORDER BY calls DESC LIMIT 5",
                    "SELECT * FROM pg_catalog.pg_stat_activity",
                    "INSERT INTO app_t SELECT oid::int, relname FROM pg_catalog.pg_class LIMIT 3",
                    "CREATE TABLE app_copy AS SELECT t.id, t.relname FROM app_t t JOIN pg_roles r ON r.oid = t.id"):
            conn.execute(sql)
    db = tmp_path / "lineage.db"
    harvest(open_source(pg_cluster.url("sysq"), "postgres"), open_store(f"sqlite:///{db}"), options(pg_cluster))
    names, used, _ = store_names(db)
    mine = {n for n in names | used if n.startswith("sysq.")}
    assert mine == {"sysq.public.app_t", "sysq.public.app_copy"}, mine


# -- pg_stat_statements: harvest times, and stats_since where the view has it ---------------
def test_pg_stat_statements_times_are_marked_as_harvest_times(pg_cluster: Any) -> None:
    fresh_database(pg_cluster, "tb", "CREATE TABLE tb_src (id int)", "CREATE TABLE tb_dst AS SELECT id FROM tb_src")
    before = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    entries = [e for e in open_source(pg_cluster.url("tb"), "postgres").read() if e.database == "tb"]
    assert entries and {e.time_basis for e in entries} == {"harvest"}
    assert all(e.start_time and e.start_time >= before and e.end_time == e.start_time for e in entries)


def test_pglog_times_are_execution_times(pg_cluster: Any) -> None:
    entries = list(open_source(f"pglog://{pg_cluster.log_dir}", "postgres").read())
    assert entries and {e.time_basis for e in entries} == {"execution"}


SINCE = "2024-05-01 12:00:00+00"


def test_stats_since_is_the_first_time_of_a_statement_new_to_the_harvest(pg_cluster: Any, tmp_path: Path) -> None:
    """PostgreSQL 17's pg_stat_statements has stats_since; older servers get it here from a view
    in front of the real one, found first on the search_path."""
    fresh_database(pg_cluster, "since", "CREATE TABLE since_src (id int)", "CREATE SCHEMA shadow",
                   "CREATE VIEW shadow.pg_stat_statements AS SELECT s.*, "
                   f"timestamptz '{SINCE}' AS stats_since FROM public.pg_stat_statements s")
    with connect(pg_cluster, "since") as conn:
        conn.execute("CREATE TABLE since_dst AS SELECT id FROM since_src")
    url = pg_cluster.url("since") + "?options=" + quote("-c search_path=shadow,public")
    db = tmp_path / "lineage.db"
    store = open_store(f"sqlite:///{db}")
    source = open_source(url, "postgres")
    seen: list[Any] = []
    harvest(_Recorded(source, seen), store, options(pg_cluster))
    first = next(e for e in seen if e.sql.startswith("CREATE TABLE since_dst"))
    assert first.start_time == "2024-05-01T12:00:00.000000Z" and first.end_time > "2025"
    assert first.time_basis == "harvest"

    with connect(pg_cluster, "since") as conn:
        conn.execute("INSERT INTO since_src SELECT id FROM since_dst")
        conn.execute("INSERT INTO since_src SELECT id FROM since_dst")
    seen.clear()
    harvest(_Recorded(open_source(url, "postgres"), seen), store, options(pg_cluster))
    insert = next(e for e in seen if e.sql.startswith("INSERT INTO since_src"))
    assert insert.executions == 2 and insert.start_time == "2024-05-01T12:00:00.000000Z"
    with connect(pg_cluster, "since") as conn:
        conn.execute("INSERT INTO since_src SELECT id FROM since_dst")
    seen.clear()
    harvest(_Recorded(open_source(url, "postgres"), seen), store, options(pg_cluster))
    again = next(e for e in seen if e.sql.startswith("INSERT INTO since_src"))
    # one more run of a statement the harvest already knew: it ran after the last harvest, not at stats_since
    assert again.executions == 1 and again.start_time > "2025" and again.start_time == again.end_time


class _Recorded:
    """A source that keeps what it yields."""

    def __init__(self, inner: Any, seen: list[Any]) -> None:
        self.inner, self.seen, self.url, self.stats = inner, seen, inner.url, inner.stats

    def read(self, after_cursor: str | None = None) -> Iterator[Any]:
        for entry in self.inner.read(after_cursor):
            self.seen.append(entry)
            yield entry

    @property
    def batch_size(self) -> int:
        return int(self.inner.batch_size)

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self.inner.batch_size = value


# -- the server log: every record's session, user and database -------------------------------
def session_id(conn: Any) -> str:
    """The backend's %c: its start time (epoch seconds) and process id, in hex, with a dot between."""
    return conn.execute("SELECT to_hex(trunc(extract(epoch FROM backend_start))::bigint) || '.' || to_hex(pid)"
                        " FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()[0]


def wait_for(path_glob: Iterator[Path] | Any, text: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(text in p.read_text(errors="replace") for p in path_glob()):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never reached the log")


def interleaved_sessions(cluster: Any, marker: str) -> tuple[str, str]:
    """Two sessions of two users in database ``sess``; one sets its search_path between statements."""
    fresh_database(cluster, "sess", "CREATE SCHEMA app", "CREATE TABLE app.orders (id int)",
                   "CREATE TABLE public.orders (id int)", "CREATE TABLE app.copy (id int)",
                   "DROP ROLE IF EXISTS analyst", "CREATE ROLE analyst LOGIN",
                   "GRANT ALL ON ALL TABLES IN SCHEMA public TO analyst")
    with connect(cluster, "sess") as a, connect(cluster, "sess", "analyst") as b:
        a.execute("SET search_path TO app, public")
        b.execute("SELECT id FROM orders")
        a.execute("INSERT INTO copy SELECT id FROM orders")
        b.execute(f"SELECT '{marker}'")
        return session_id(a), session_id(b)


def sess_entries(url: str) -> list[Any]:
    return [e for e in open_source(url, "postgres").read() if e.database == "sess"]


def check_sessions(entries: list[Any], a: str, b: str) -> None:
    by_text = {e.sql: e for e in entries}
    set_path, insert = by_text["SET search_path TO app, public"], by_text["INSERT INTO copy SELECT id FROM orders"]
    read = by_text["SELECT id FROM orders"]
    assert set_path.session_id == insert.session_id == a and read.session_id == b and a != b
    assert (set_path.user, insert.user, read.user) == ("postgres", "postgres", "analyst")
    assert entries.index(set_path) < entries.index(read) < entries.index(insert)  # the other session between
    assert insert.time_basis == "execution" and insert.start_time.endswith("Z")


def test_csvlog_entries_carry_the_session_user_and_database_of_each_record(pg_cluster: Any) -> None:
    pg_cluster.configure(log_statement="all")
    try:
        a, b = interleaved_sessions(pg_cluster, "sessions-csv-3b9f")
        wait_for(lambda: pg_cluster.log_dir.glob("*.csv"), "sessions-csv-3b9f")
    finally:
        pg_cluster.configure(log_statement="none")
    check_sessions(sess_entries(f"pglog://{pg_cluster.log_dir}"), a, b)


def test_jsonlog_entries_carry_the_same_session_ids(pg_cluster: Any, tmp_path: Path) -> None:
    pg_cluster.configure(log_statement="all", log_destination="csvlog,jsonlog")
    try:
        a, b = interleaved_sessions(pg_cluster, "sessions-json-8c1d")
        wait_for(lambda: pg_cluster.log_dir.glob("*.json"), "sessions-json-8c1d")
    finally:
        pg_cluster.configure(log_statement="none", log_destination="csvlog")
    time.sleep(0.5)
    moved = tmp_path / "json"  # out of the cluster's log folder, which other tests read as csvlog only
    moved.mkdir()
    for path in pg_cluster.log_dir.glob("*.json"):
        path.rename(moved / path.name)
    check_sessions(sess_entries(f"pglog://{moved}"), a, b)
