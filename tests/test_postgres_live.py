"""Live PostgreSQL: an ETL workload on a throwaway cluster, harvested from pg_stat_statements
and from the server's csvlog, answers column impact questions; incremental runs neither lose
nor double executions, through a statistics reset and an evicted entry; connection failures
are one clear line with no secret; literals in the log never reach the store.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.errors import HarvesterError
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.pgcatalog import read_catalog
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store
from sqllineage_harvester.render_graph import render_graph

psycopg = pytest.importorskip("psycopg")

EMAIL, CARD = "jane.doe@example.com", "4111 1111 1111 1111"
DONE = "workload-finished-5c1e"
SETUP = [
    "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
    "CREATE SCHEMA raw", "CREATE SCHEMA staging", "CREATE SCHEMA marts",
    "CREATE TABLE raw.customers (id int PRIMARY KEY, email text, card_number text, country text)",
    "CREATE TABLE raw.orders (id int PRIMARY KEY, customer_id int, amount numeric, status text,"
    " ordered_at timestamptz)",
    "CREATE TABLE raw.refunds (order_id int, refunded_at timestamptz)",
    "GRANT ALL ON SCHEMA raw, staging, marts TO etl",
    "GRANT ALL ON ALL TABLES IN SCHEMA raw TO etl",
]
TRANSFORM = [
    "CREATE TABLE staging.orders_clean AS SELECT o.id AS order_id, o.customer_id, o.amount,"
    " o.ordered_at::date AS order_day FROM raw.orders o WHERE o.status <> 'cancelled'",
    "CREATE TABLE staging.customer_orders (customer_id int, email text, total numeric)",
    """INSERT INTO staging.customer_orders (customer_id, email, total)
       WITH totals AS (
           SELECT customer_id, sum(amount) AS total
           FROM staging.orders_clean GROUP BY customer_id
       )
       SELECT c.id, c.email, t.total
       FROM raw.customers c JOIN totals t ON t.customer_id = c.id""",
    "UPDATE staging.customer_orders co SET email = lower(c.email) FROM raw.customers c WHERE c.id = co.customer_id",
    "DELETE FROM staging.orders_clean oc USING raw.refunds r WHERE r.order_id = oc.order_id",
    "CREATE TABLE marts.customer_value (customer_id int PRIMARY KEY, lifetime_value numeric)",
    """MERGE INTO marts.customer_value m USING staging.customer_orders s ON m.customer_id = s.customer_id
       WHEN MATCHED THEN UPDATE SET lifetime_value = s.total
       WHEN NOT MATCHED THEN INSERT (customer_id, lifetime_value) VALUES (s.customer_id, s.total)""",
    "CREATE VIEW marts.high_value AS SELECT customer_id, lifetime_value FROM marts.customer_value"
    " WHERE lifetime_value > 100",
    "CREATE MATERIALIZED VIEW marts.daily_revenue AS SELECT order_day, sum(amount) AS revenue"
    " FROM staging.orders_clean GROUP BY order_day",
    "CREATE TEMP TABLE tmp_top AS SELECT customer_id, total FROM staging.customer_orders WHERE total > 50",
    "CREATE TABLE marts.top_customers (customer_id int, total numeric)",
    "INSERT INTO marts.top_customers (customer_id, total) SELECT customer_id, total FROM tmp_top",
    "CREATE TABLE marts.customer_value_snapshot (LIKE marts.customer_value)",
    "INSERT INTO marts.customer_value_snapshot SELECT * FROM marts.customer_value",
    "REFRESH MATERIALIZED VIEW marts.daily_revenue",
    "SELECT customer_id, lifetime_value FROM marts.high_value ORDER BY 2 DESC",
]
UPDATE_SQL = TRANSFORM[3]
SEARCH_PATH_CTAS = ("CREATE TABLE marts.order_days AS SELECT o.id, oc.order_day FROM orders o"
                    " JOIN orders_clean oc ON oc.order_id = o.id")


def dsn(cluster: Any, database: str, user: str = "postgres") -> str:
    return f"host=127.0.0.1 port={cluster.port} user={user} dbname={database}"


def load_raw(conn: Any) -> None:
    with conn.cursor() as cur:
        with cur.copy("COPY raw.orders (id, customer_id, amount, status, ordered_at) FROM STDIN") as copy:
            for n in range(1, 41):
                copy.write_row((n, n % 7 + 1, 10 * n, "cancelled" if n % 9 == 0 else "paid", "2024-03-01"))
        for n in range(1, 8):  # parameters: logged as $1.. with the values in DETAIL, which is never read
            cur.execute("INSERT INTO raw.customers VALUES (%s, %s, %s, %s)",
                        (n, f"c{n}@example.org", f"5500 0000 0000 000{n}", "NL"))
    conn.execute(f"INSERT INTO raw.customers VALUES (100, '{EMAIL}', '{CARD}', 'US')")  # literals in the log
    conn.execute(f"UPDATE raw.customers SET country = 'DE' WHERE email = '{EMAIL}' AND card_number = '{CARD}'")
    conn.execute("INSERT INTO raw.refunds VALUES (3, now()), (5, now())")


def wait_for_log(log_dir: Path, text: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(text in p.read_text(errors="replace") for p in log_dir.glob("*.csv")):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never reached the csvlog in {log_dir}")


@pytest.fixture(scope="module")
def etl(pg_cluster: Any) -> Any:
    """The workload, run once as role ``etl`` in database ``etl``; the cluster logs every statement."""
    pg_cluster.configure(log_statement="all")
    with psycopg.connect(dsn(pg_cluster, "postgres"), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS etl")
        conn.execute("DROP ROLE IF EXISTS etl")
        conn.execute("CREATE ROLE etl LOGIN")
        conn.execute("CREATE DATABASE etl OWNER etl")
    with psycopg.connect(dsn(pg_cluster, "etl"), autocommit=True) as conn:
        for sql in SETUP:
            conn.execute(sql)
    with psycopg.connect(dsn(pg_cluster, "etl", "etl"), autocommit=True) as conn:
        load_raw(conn)
        for sql in TRANSFORM:
            conn.execute(sql)
        conn.execute("SET search_path = staging, raw")  # bare names: orders is raw's, orders_clean staging's
        conn.execute(SEARCH_PATH_CTAS)
        conn.execute("RESET search_path")
        with pytest.raises(psycopg.errors.UndefinedTable):  # a failed write: logged, then an ERROR
            conn.execute("INSERT INTO marts.nowhere SELECT email FROM raw.customers")
        conn.execute(f"SELECT '{DONE}'")
    wait_for_log(pg_cluster.log_dir, DONE)
    yield pg_cluster
    pg_cluster.configure(log_statement="none")


def options(cluster: Any, **kw: Any) -> Options:
    catalog = read_catalog(cluster.url("etl"))
    return Options(dialect="postgres", namespace=f"postgres://127.0.0.1:{cluster.port}", catalog=catalog.tables, **kw)


@pytest.fixture(scope="module")
def pgss_db(etl: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("pgss") / "lineage.db"
    report = harvest(open_source(etl.url("etl"), "postgres"), open_store(f"sqlite:///{db}"), options(etl))
    assert report.entries > 20 and report.operations > 10
    return db


@pytest.fixture(scope="module")
def log_db(etl: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("pglog") / "lineage.db"
    source = open_source(f"pglog://{etl.log_dir}", "postgres")
    report = harvest(source, open_store(f"sqlite:///{db}"), options(etl, batch_size=50))
    assert report.entries > 20 and report.operations > 10 and source.stats.failed >= 1
    return db


def downstream_of(db: Path, name: str) -> set[str]:
    store = open_store(f"sqlite:///{db}")
    try:
        return {n.node.name for n in queries.impact(store, name).nodes}
    finally:
        store.close()


def upstream_of(db: Path, name: str) -> set[str]:
    store = open_store(f"sqlite:///{db}")
    try:
        return {n.node.name for n in queries.upstream(store, name).nodes}
    finally:
        store.close()


def executions(db: Path, kind: str, sql_part: str) -> int:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT sql, executions FROM operations WHERE type = ?", (kind,)).fetchall()
    finally:
        con.close()
    return sum(n for sql, n in rows if sql_part in sql)


IMPACT = {
    "etl.raw.orders.amount": {
        "etl.staging.orders_clean.amount", "etl.staging.customer_orders.total",
        "etl.marts.customer_value.lifetime_value", "etl.marts.high_value.lifetime_value",
        "etl.marts.daily_revenue.revenue", "etl.marts.top_customers.total",
        "etl.marts.customer_value_snapshot.lifetime_value",
    },
    "etl.raw.customers.email": {"etl.staging.customer_orders.email"},
}
UPSTREAM = {
    "etl.marts.top_customers.total": {"etl.raw.orders.amount", "etl.staging.orders_clean.amount",
                                      "etl.staging.customer_orders.total"},
    "etl.marts.customer_value.customer_id": {"etl.staging.customer_orders.customer_id", "etl.raw.customers.id"},
}


@pytest.mark.parametrize("which", ["pgss_db", "log_db"])
def test_column_impact_and_upstream_from_each_source(which: str, request: pytest.FixtureRequest) -> None:
    db = request.getfixturevalue(which)
    # Without sessions (pg_stat_statements) nothing says which writer of tmp_top a reader read:
    # the temp table is kept apart per statement, so top_customers is reached only from the log.
    through_temp = {"etl.marts.top_customers.total"} if which == "pgss_db" else set()
    for column, expected in IMPACT.items():
        found = downstream_of(db, column)
        assert expected - through_temp <= found, f"{which}: impact of {column} lacks {sorted(expected - found)}"
    for column, expected in UPSTREAM.items():
        if column in through_temp:
            continue
        found = upstream_of(db, column)
        assert expected <= found, f"{which}: upstream of {column} lacks {sorted(expected - found)}"
    assert "etl.raw.customers.card_number" not in upstream_of(db, "etl.marts.customer_value.lifetime_value")


def test_the_log_reads_a_sessions_temp_table_through_and_the_view_keeps_it(pgss_db: Path, log_db: Path) -> None:
    # pg_stat_statements has no sessions (and no order): the reader's temp table is a node that
    # no writer reaches, so it joins nothing else
    upstream = upstream_of(pgss_db, "etl.marts.top_customers.total")
    assert any(n.startswith("etl.public.tmp_top") and n.endswith(".total") for n in upstream), upstream
    assert not any(n.startswith("etl.raw.") or n.startswith("etl.staging.") for n in upstream)
    assert upstream_of(log_db, "etl.marts.top_customers.total") >= UPSTREAM["etl.marts.top_customers.total"]
    assert not any("tmp_top" in n for n in upstream_of(log_db, "etl.marts.top_customers.total"))


def test_the_server_log_applies_a_sessions_search_path_to_its_later_statements(log_db: Path) -> None:
    assert "etl.raw.orders.id" in upstream_of(log_db, "etl.marts.order_days.id")
    assert "etl.staging.orders_clean.order_day" in upstream_of(log_db, "etl.marts.order_days.order_day")
    con = sqlite3.connect(log_db)
    phantoms = con.execute("SELECT name FROM datasets WHERE name LIKE 'etl.public.%' OR name LIKE 'etl.staging.orders'")
    assert phantoms.fetchall() == []
    con.close()


def test_the_failed_write_in_the_log_leaves_no_lineage(log_db: Path) -> None:
    con = sqlite3.connect(log_db)
    try:
        assert not con.execute("SELECT 1 FROM datasets WHERE name LIKE '%nowhere%'").fetchall()
    finally:
        con.close()


def test_log_entries_carry_time_user_database_and_session(etl: Any) -> None:
    source = open_source(f"pglog://{etl.log_dir}", "postgres")
    entries = [e for e in source.read() if e.database == "etl" and e.user == "etl"]
    temp = [e for e in entries if "tmp_top" in e.sql]
    assert len(temp) == 2 and temp[0].session_id and temp[0].session_id == temp[1].session_id
    assert all(e.start_time and e.start_time.endswith("Z") and e.start_time[:4] >= "2024" for e in entries)
    merge = next(e for e in entries if e.sql.lstrip().startswith("MERGE"))
    assert "WHEN NOT MATCHED" in merge.sql and "\n" in merge.sql  # multi-line statement in one record
    assert not any(e.sql.startswith(("parse", "bind")) for e in entries)


@pytest.mark.parametrize("which", ["pgss_db", "log_db"])
def test_literals_never_reach_the_store(which: str, request: pytest.FixtureRequest) -> None:
    db = request.getfixturevalue(which)
    data = db.read_bytes()
    for secret in (EMAIL, CARD, "4111 1111", "5500 0000"):
        assert secret.encode() not in data, f"{secret!r} is in the {which} store"


def run_update(cluster: Any, times: int) -> None:
    with psycopg.connect(dsn(cluster, "etl", "etl"), autocommit=True) as conn:
        for _ in range(times):
            conn.execute(UPDATE_SQL)


def harvest_pgss(cluster: Any, db: Path, **kw: Any) -> Any:
    source = open_source(cluster.url("etl"), "postgres", **kw)
    return harvest(source, open_store(f"sqlite:///{db}"), options(cluster, **kw))


def test_incremental_runs_add_exactly_the_new_executions(etl: Any, pgss_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "lineage.db"
    harvest_pgss(etl, db, batch_size=4)  # several batches, each with its checkpoint
    updates = executions(db, "update", "lower(c.email)")
    assert updates == 1

    again = harvest_pgss(etl, db, batch_size=4)
    assert again.entries == 0 and again.operations == 0 and executions(db, "update", "lower(c.email)") == 1

    run_update(etl, 3)
    more = harvest_pgss(etl, db, batch_size=4)
    assert more.entries == 1 and executions(db, "update", "lower(c.email)") == 4


def test_a_statistics_reset_or_an_evicted_entry_loses_and_doubles_nothing(etl: Any, pgss_db: Path,
                                                                          tmp_path: Path) -> None:
    db = tmp_path / "lineage.db"
    harvest_pgss(etl, db)
    updates = executions(db, "update", "lower(c.email)")
    before = {kind: executions(db, kind, "") for kind in ("insert", "merge", "create_table_as")}
    with psycopg.connect(dsn(etl, "etl"), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    run_update(etl, 2)
    harvest_pgss(etl, db)
    assert executions(db, "update", "lower(c.email)") == updates + 2
    assert {kind: executions(db, kind, "") for kind in before} == before
    assert harvest_pgss(etl, db).entries == 0

    run_update(etl, 4)
    harvest_pgss(etl, db)
    assert executions(db, "update", "lower(c.email)") == updates + 6
    with psycopg.connect(dsn(etl, "etl"), autocommit=True) as conn:  # evict the entry: it comes back at 1
        conn.execute("SELECT pg_stat_statements_reset(0, 0, queryid) FROM pg_stat_statements"
                     " WHERE query LIKE 'UPDATE staging.customer_orders%'")
    run_update(etl, 1)
    harvest_pgss(etl, db)
    assert executions(db, "update", "lower(c.email)") == updates + 7
    assert harvest_pgss(etl, db).entries == 0


VARIANTS = ["abs(total)", "round(total)", "ceil(total)", "floor(total)", "trunc(total)", "sign(total)", "-total",
            "total * total", "total + total", "total - customer_id", "greatest(total, customer_id)",
            "least(total, customer_id)"]


def test_a_resumed_run_continues_from_its_last_checkpoint(etl: Any, pgss_db: Path, tmp_path: Path) -> None:
    whole, parts = tmp_path / "whole.db", tmp_path / "parts.db"
    with psycopg.connect(dsn(etl, "etl", "etl"), autocommit=True) as conn:  # a dozen distinct statements
        for expression in VARIANTS:
            conn.execute(f"INSERT INTO marts.top_customers (customer_id, total) SELECT customer_id, {expression}"
                         f" FROM staging.customer_orders")
    harvest_pgss(etl, whole)
    source = open_source(etl.url("etl"), "postgres", batch_size=5)
    store = open_store(f"sqlite:///{parts}")

    class Killed(Exception):
        pass

    def die_after_two_batches(n: int, seen: list[int] = []) -> None:  # noqa: B006
        seen.append(n)
        if len(seen) == 2:
            raise Killed

    with pytest.raises(Killed):
        harvest(source, store, options(etl, batch_size=5), progress=die_after_two_batches)
    assert 0 < executions(parts, "insert", "") < executions(whole, "insert", "")
    harvest_pgss(etl, parts, batch_size=5)
    for kind in ("insert", "update", "merge", "create_table_as", "delete"):
        assert executions(parts, kind, "") == executions(whole, kind, ""), kind


def test_wrong_password_is_one_line_without_the_password(etl: Any) -> None:
    etl.require_password("guarded", "right-horse-battery")
    time.sleep(0.5)
    url = f"postgresql://guarded:wrong-staple-7@127.0.0.1:{etl.port}/etl"
    with pytest.raises(HarvesterError) as caught:
        list(open_source(url, "postgres").read())
    message = str(caught.value)
    assert "\n" not in message and "wrong-staple-7" not in message and "right-horse" not in message
    assert "password" in message and "guarded:***@" in message and caught.value.exit_code == 1


@pytest.mark.parametrize("database, says", [("no_such_db", "no such database"),
                                            ("postgres", "pg_stat_statements is not installed")])
def test_a_source_that_cannot_be_read_says_why_in_one_line(etl: Any, database: str, says: str) -> None:
    with pytest.raises(HarvesterError) as caught:
        list(open_source(etl.url(database), "postgres", retries=0).read())
    message = str(caught.value)
    assert says in message and "\n" not in message
    if "installed" in says:
        assert "shared_preload_libraries" in message


def test_times_from_pg_stat_statements_are_marked_as_harvest_times(pgss_db: Path, log_db: Path) -> None:
    def bases(db: Path) -> set[str]:
        con = sqlite3.connect(db)
        try:
            return {b for (b,) in con.execute("SELECT DISTINCT time_basis FROM operations")}
        finally:
            con.close()

    assert bases(pgss_db) == {"harvest"} and bases(log_db) == {"execution"}
    store = open_store(f"sqlite:///{pgss_db}")
    try:
        table = render_graph(queries.impact(store, "etl.raw.orders.amount"), "table")
    finally:
        store.close()
    assert "(harvest time)" in table


def test_a_source_with_a_password_keeps_its_cursor_under_a_name_without_it(etl: Any, tmp_path: Path) -> None:
    from sqllineage_harvester.stores import Batch

    db = tmp_path / "l.db"
    url = etl.url("etl").replace("postgres@", "postgres:not-the-password@")  # trust auth: any password works
    first = harvest(open_source(url, "postgres"), open_store(f"sqlite:///{db}"), options(etl))
    assert first.entries > 10
    con = sqlite3.connect(db)
    names = [n for (n,) in con.execute("SELECT name FROM sources")]
    con.close()
    assert names == [f"postgresql://postgres@127.0.0.1:{etl.port}/etl"] and "not-the-password" not in db.read_text(
        errors="replace")
    # a store harvested before the name lost its password: the masked name's cursor is taken up
    old = tmp_path / "old.db"
    store = open_store(f"sqlite:///{old}")
    kept = open_store(f"sqlite:///{db}").cursor(names[0])
    store.write_batch(Batch(source=f"postgresql://postgres:***@127.0.0.1:{etl.port}/etl", cursor=kept))
    again = harvest(open_source(url, "postgres"), store, options(etl))
    assert again.entries == 0
