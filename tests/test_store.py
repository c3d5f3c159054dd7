"""The Store contract, run against every store (SQLite file, PostgreSQL server, Bolt server)."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sqllineage_harvester.errors import ConfigError, HarvesterError
from sqllineage_harvester.model import ParseFailure, Usage
from sqllineage_harvester.stores import (
    Batch, StoreError, StoreLockedError, StoreReadOnlyError, open_store, safe_url,
)
from sqllineage_harvester.stores.sql import SQLStore

from conftest import NAMESPACE  # noqa: E402  (tests/ is on sys.path)
from peek import peek  # noqa: E402

ORDERS = ("raw.orders",)


def count(store, table: str) -> int:
    return dict(store.stats().counts)[table]


def failure(reason: str | None = "unsupported syntax", fp: str = "fp-bad") -> ParseFailure:
    return ParseFailure(fingerprint=fp, dialect="postgres", reason=reason, sql="SELEC ?", executions=2,
                        first_seen="2024-01-01T00:00:00", last_seen="2024-01-02T00:00:00")


def test_new_store_has_the_current_schema_version(store):
    assert peek(store, "schema_version") == [(4,)]


def test_every_user_and_system_that_ran_an_operation_is_kept_with_its_own_runs(store, op):
    day = "2024-01-0{}T00:00:00".format
    store.write_batch(Batch(operations=(
        op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}, user="ALICE", system="WH_A", seen=(day(1), day(2)),
           executions=3),
        op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}, user="BOB", system="WH_B", seen=(day(4), day(4))),
        op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}, user="ALICE", system="WH_B", seen=(day(5), day(6))),
    )))
    store.write_batch(Batch(operations=(
        op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}, user="BOB", system="WH_B", seen=(day(3), day(3)),
           executions=2),)))
    assert sorted(peek(store, "runs")) == [
        ("system", "WH_A", day(1), day(2), 3),
        ("system", "WH_B", day(3), day(6), 4),
        ("user", "ALICE", day(1), day(6), 4),
        ("user", "BOB", day(3), day(4), 3),
    ]
    assert peek(store, "operation_windows") == [(day(1), day(6), 7)]


def test_a_written_column_with_no_source_is_a_node_that_the_filter_reaches(store, op):
    store.write_batch(Batch(operations=(
        op("o1", "marts.counts", ORDERS, {"day": "raw.orders.day", "n": [], "loaded_at": []},
           indirect={"raw.orders.status": "FILTER"}),
        op("o2", "marts.tags", ORDERS, {"source_system": []}),)))  # 'x' AS source_system: no input at all
    counts = dict(store.stats().counts)
    assert counts["columns"] == 6  # marts.counts.{day,n,loaded_at}, marts.tags.source_system, raw.orders.{day,status}
    assert [n.name for n in store.resolve("marts.tags.source_system")] == ["marts.tags.source_system"]
    assert counts["column_edges"] == 1 + 3  # day's source, the FILTER into every written column
    from sqllineage_harvester import queries
    reached = {n.node.name for n in queries.impact(store, "raw.orders.status").nodes}
    assert {"marts.counts.n", "marts.counts.loaded_at", "marts.counts.day"} <= reached


def test_an_operation_says_whether_its_times_are_the_logs_or_the_harvests(store, op):
    from dataclasses import replace
    store.write_batch(Batch(operations=(replace(op("o1", "a.t", ORDERS), time_basis="harvest"),
                                        replace(op("o2", "a.u", ORDERS), time_basis="harvest"))))
    store.write_batch(Batch(operations=(op("o1", "a.t", ORDERS), replace(op("o2", "a.u", ORDERS), time_basis="harvest"))))
    infos = store.operations(["o1", "o2"])
    assert (infos["o1"].time_basis, infos["o2"].time_basis) == ("mixed", "harvest")


def test_open_sessions_are_kept_with_the_batch_and_forgotten_when_closed(store):
    store.write_batch(Batch(source="log-a", cursor="1", sessions={"s1": '{"schema":"stg"}', "s2": '{"x":1}'}))
    store.write_batch(Batch(source="log-b", cursor="1", sessions={"s1": '{"other":true}'}))
    store.write_batch(Batch(source="log-a", cursor="2", sessions={"s1": None, "s2": '{"x":2}'}))
    assert store.sessions("log-a") == {"s2": '{"x":2}'}
    assert store.sessions("log-b") == {"s1": '{"other":true}'}
    assert store.sessions("log-c") == {}


def test_reopening_keeps_the_data(store_url, op):
    first = open_store(store_url)
    first.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}),)))
    first.close()
    again = open_store(store_url)
    assert count(again, "operations") == 1 and count(again, "column_edges") == 1
    again.close()


def test_graph_tables_hold_the_operation(store, op):
    store.write_batch(Batch(operations=(
        op("o1", "stg.orders", ("raw.orders", "raw.customers"),
           {"id": "raw.orders.id", "total": ["raw.orders.amount", "raw.orders.tax"]},
           indirect={"raw.customers.id": "JOIN"}),)))
    counts = dict(store.stats().counts)
    assert counts["datasets"] == 3 and counts["operations"] == 1
    assert counts["columns"] == 6  # stg.orders.{id,total}, raw.orders.{id,amount,tax}, raw.customers.id
    assert counts["column_edges"] == 3 + 2  # three direct sources, the JOIN into both written columns
    assert counts["input_to"] == 2 and counts["produces"] == 1
    assert sorted(peek(store, "input_types")) == [
        ("raw.customers", "JOIN"), ("raw.orders", "DIRECT")]
    assert peek(store, "performers") == [("etl",)]
    assert peek(store, "hosts") == [("warehouse",)]
    assert peek(store, "dataset", name="raw.orders") == [
        (f"{NAMESPACE}/raw.orders", NAMESPACE)]


def test_same_operation_again_widens_its_window_and_adds_executions(store, op):
    cols = {"id": "raw.orders.id"}
    store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS, cols, seen=("2024-02-01", "2024-02-03")),)))
    store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS, cols, seen=("2024-01-15", "2024-02-02"),
                                           executions=3),)))
    store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS, cols, seen=("2024-02-01", "2024-03-01"),
                                           executions=0),)))
    assert peek(store, "operation_windows") == [
        ("2024-01-15", "2024-03-01", 4)]
    assert peek(store, "edge_windows") == [("2024-01-15", "2024-03-01")]
    assert count(store, "column_edges") == 1 and count(store, "datasets") == 2


def test_a_batch_with_a_key_is_written_once(store, op):
    batch = Batch(operations=(op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}, executions=5),),
                  usage=(Usage("raw.orders", NAMESPACE, "ann", "2024-01-01", 7),), failures=(failure(),),
                  counters={"rows:insert": 10}, source="history.csv", cursor="100", key="history.csv:0-100")
    store.write_batch(batch)
    before = store.stats()
    store.write_batch(batch)
    assert store.stats() == before
    assert [row[2] for row in peek(store, "operation_windows")] == [5]
    assert peek(store, "usage_counts") == [(7,)]


def test_the_same_operation_twice_in_one_batch_is_merged(store, op):
    cols = {"id": "raw.orders.id"}
    store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS, cols, seen=("2024-01-02", "2024-01-02")),
                                        op("o1", "stg.orders", ORDERS, cols, seen=("2024-01-01", "2024-01-05")))))
    assert peek(store, "operation_windows") == [
        ("2024-01-01", "2024-01-05", 2)]


def test_usage_failures_counters_add_up(store):
    reads = (Usage("raw.orders", NAMESPACE, "ann", "2024-01-01", 3), Usage("raw.orders", NAMESPACE, None, "2024-01-01", 1))
    store.write_batch(Batch(usage=reads, failures=(failure(),), counters={"rows:select": 4}))
    store.write_batch(Batch(usage=reads[:1], failures=(failure(), failure("timeout", "fp-slow")),
                            counters={"rows:select": 1, "rows:insert": 2}))
    assert sorted(peek(store, "usage")) == [("", 1), ("ann", 6)]
    stats = store.stats()
    assert dict(stats.counters) == {"rows:select": 5, "rows:insert": 2}
    assert stats.failures == (("unsupported syntax", 4), ("timeout", 2))


def test_statement_cache_survives_and_replaces(store):
    store.write_batch(Batch(cache={"k1": '{"inputs": ["a"]}', "k2": "{}"}))
    store.write_batch(Batch(cache={"k1": '{"inputs": ["b"]}'}))
    assert store.cache_get(["k1", "k2", "k3"]) == {"k1": '{"inputs": ["b"]}', "k2": "{}"}
    assert store.cache_get([]) == {}
    assert len(store.cache_get([f"k{i}" for i in range(3000)])) == 2  # more keys than one IN list


def test_cursor_is_none_until_written_then_the_latest(store):
    assert store.cursor("history.csv") is None
    store.write_batch(Batch(source="history.csv", cursor="2024-01-01T00:00:00"))
    store.write_batch(Batch(source="history.csv", cursor="2024-01-02T00:00:00"))
    store.write_batch(Batch(source="other", cursor="7"))
    assert store.cursor("history.csv") == "2024-01-02T00:00:00"
    assert store.cursor("other") == "7"


def test_a_failed_batch_leaves_nothing_and_keeps_the_cursor(store, op):
    store.write_batch(Batch(source="history.csv", cursor="10"))
    broken = Batch(operations=(op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}),),
                   cache={"k": "{}"}, failures=(failure(reason=None),),  # NOT NULL: fails late in the write
                   source="history.csv", cursor="20")
    with pytest.raises(StoreError):
        store.write_batch(broken)
    assert store.cursor("history.csv") == "10"
    assert count(store, "operations") == 0 and count(store, "datasets") == 0
    assert store.cache_get(["k"]) == {}


def test_concurrent_writers_do_not_duplicate(store_url, op):
    ops = tuple(op(f"o{i}", f"stg.t{i}", ("raw.orders",), {"id": "raw.orders.id"}) for i in range(20))
    stores = [open_store(store_url) for _ in range(4)]
    errors: list[Exception] = []

    def harvest(s):
        try:
            for _ in range(5):
                s.write_batch(Batch(operations=ops, counters={"rows:insert": 1}))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=harvest, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    check = stores[0]
    assert count(check, "operations") == 20 and count(check, "datasets") == 21
    assert count(check, "column_edges") == 20 and count(check, "columns") == 21
    assert peek(check, "executions") == [(20,)]
    assert dict(check.stats().counters) == {"rows:insert": 20}
    for s in stores:
        s.close()


def test_a_version_1_sqlite_store_is_upgraded_in_place(tmp_path, op):
    path = tmp_path / "old.db"
    open_store(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)  # what version 1 had: PERFORMED with a window, HOSTED bare
    for column in ("operations.time_basis", "performed.executions", "hosted.first_seen", "hosted.last_seen",
                   "hosted.executions", "column_edges.masked"):
        table, name = column.split(".")
        con.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
    con.execute("DROP TABLE sessions")
    con.execute("DROP TABLE column_tags")
    con.execute("UPDATE schema_version SET version = 1")
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{path}")
    store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS, {"id": "raw.orders.id"}, executions=2),)))
    assert peek(store, "schema_version") == [(4,)]
    assert sorted(peek(store, "runs")) == [("system", "warehouse", "2024-01-01T00:00:00", "2024-01-01T00:00:00", 2),
                                           ("user", "etl", "2024-01-01T00:00:00", "2024-01-01T00:00:00", 2)]
    store.close()


def test_a_store_written_by_a_newer_harvester_is_refused(store_url, store):
    peek(store, "set_schema_version", version=99)
    with pytest.raises(StoreError, match="schema version 99"):
        open_store(store_url)


# -- opening, URLs, and SQLite file faults ---------------------------------------
def test_open_store_picks_the_store_by_scheme(tmp_path):
    s = open_store(str(tmp_path / "plain-path.db"))
    assert isinstance(s, SQLStore) and (tmp_path / "plain-path.db").exists()
    s.close()
    with pytest.raises(ConfigError, match="unknown store"):
        open_store("mongodb://u:secret@host/db")


def test_urls_are_printed_without_passwords():
    assert safe_url("postgresql://ann:s3cret@db:5432/lineage") == "postgresql://ann:***@db:5432/lineage"
    assert safe_url("postgresql://ann@db/lineage") == "postgresql://ann@db/lineage"
    assert safe_url("sqlite:///lineage.db") == "sqlite:///lineage.db"


def test_unreachable_server_error_hides_the_password():
    with pytest.raises(StoreError) as caught:
        SQLStore("postgresql://ann:s3cret@127.0.0.1:1/lineage", timeout=1)
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
    assert isinstance(caught.value, HarvesterError)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="cannot be opened"):
        open_store(f"sqlite:///{tmp_path}/no/such/dir/lineage.db")


def test_locked_sqlite_file_is_a_clear_error(tmp_path, op):
    path = tmp_path / "lineage.db"
    open_store(f"sqlite:///{path}").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another harvester in the middle of a batch
    store = SQLStore(f"sqlite:///{path}", timeout=0.2)
    try:
        with pytest.raises(StoreLockedError, match="locked by another writer"):
            store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS),), source="f", cursor="1"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS),), source="f", cursor="1"))
    assert store.cursor("f") == "1"
    store.close()


def test_read_only_sqlite_file_reads_but_refuses_writes(tmp_path, op):
    path = tmp_path / "lineage.db"
    writable = open_store(f"sqlite:///{path}")
    writable.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS),), source="f", cursor="1"))
    writable.close()
    read_only = open_store(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert read_only.cursor("f") == "1"
    with pytest.raises(StoreReadOnlyError, match="read-only"):
        read_only.write_batch(Batch(source="f", cursor="2"))
    read_only.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_sqlite_file_without_write_permission_is_refused(tmp_path, op):
    path = tmp_path / "lineage.db"
    open_store(f"sqlite:///{path}").close()
    for p in (path, *tmp_path.glob("lineage.db-*")):
        p.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        store = open_store(f"sqlite:///{path}")
        with pytest.raises(StoreError):
            store.write_batch(Batch(source="f", cursor="2"))
        store.close()
    finally:
        tmp_path.chmod(0o755)


def test_sqlite_store_survives_a_dead_writer(tmp_path, op):
    """A writer killed mid-transaction leaves a hot journal; the next open rolls it back."""
    path = tmp_path / "lineage.db"
    store = open_store(f"sqlite:///{path}")
    store.write_batch(Batch(operations=(op("o1", "stg.orders", ORDERS),), source="f", cursor="1"))
    store.close()
    code = (
        "import os, sqlite3; c = sqlite3.connect(%r, isolation_level=None); c.execute('BEGIN IMMEDIATE');"
        "c.execute(\"UPDATE sources SET cursor = '99'\"); c.execute('DELETE FROM operations'); os._exit(9)"
    ) % str(path)
    assert os.spawnv(os.P_WAIT, "/proc/self/exe", ["python", "-c", code]) == 9
    store = open_store(f"sqlite:///{path}")
    assert store.cursor("f") == "1" and count(store, "operations") == 1
    store.close()


def test_postgres_urls_use_psycopg3(pg_cluster):
    url = pg_cluster.create_database("driver_check").replace("postgresql://", "postgres://")
    store = open_store(url)
    assert store.engine.dialect.driver == "psycopg"
    store.close()


def test_engine_sees_the_same_rows_sqlalchemy_does(tmp_path):
    """The file is an ordinary SQLite database other tools can read."""
    path = tmp_path / "lineage.db"
    open_store(f"sqlite:///{path}").close()
    with create_engine(f"sqlite:///{path}").connect() as conn:
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert {"datasets", "columns", "operations", "users", "systems", "input_to", "produces", "performed",
            "hosted", "column_edges", "usage", "parse_failures", "statement_cache", "counters", "sources",
            "batches", "schema_version"} <= tables
    assert Path(path).stat().st_size > 0
