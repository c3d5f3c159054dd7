"""Warehouse history sources: each warehouse's export harvested end to end, the
history queries in the dialect files, the rows a reader skips, and MariaDB and
a Redshift stand-in (PostgreSQL, for the chunked text) read live."""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from fnmatch import fnmatchcase as fnmatch
from pathlib import Path

import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

sys.path.insert(0, str(Path(__file__).parent))
import mariadbserver  # noqa: E402
from servers import server_missing  # noqa: E402

from sqllineage_harvester.dialects import get_dialect, list_dialects  # noqa: E402
from sqllineage_harvester.harvest import Options, harvest  # noqa: E402
from sqllineage_harvester.sources import open_source  # noqa: E402
from sqllineage_harvester.sources.files import HARVESTER_TAG  # noqa: E402
from sqllineage_harvester.errors import ConfigError  # noqa: E402
from sqllineage_harvester.sources.history import HistorySource, SourceError, fill  # noqa: E402
from sqllineage_harvester.stores import open_store  # noqa: E402

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
WAREHOUSES = ["snowflake", "bigquery", "redshift", "databricks", "mysql", "mariadb"]
EXPORTS = {
    "snowflake": "snowflake/query_history_2024_04.csv",
    "bigquery": "bigquery/jobs.jsonl",
    "redshift": "redshift/sys_query_history.csv",
    "databricks": "databricks/query_history.csv",
    "mysql": "mysql/events_statements_history_long.csv",
    "mariadb": "mariadb/general_log.csv",
}
TABLE_EDGES = "SELECT DISTINCT si.name, so.name FROM input_to i JOIN datasets si ON si.id = i.dataset_id " \
              "JOIN produces p ON p.operation_id = i.operation_id JOIN datasets so ON so.id = p.dataset_id " \
              "WHERE i.type = 'DIRECT'"
COLUMN_EDGES = "SELECT DISTINCT sd.name || '.' || sc.name, dd.name || '.' || dc.name FROM column_edges e " \
               "JOIN columns sc ON sc.id = e.src JOIN datasets sd ON sd.id = sc.dataset_id " \
               "JOIN columns dc ON dc.id = e.dst JOIN datasets dd ON dd.id = dc.dataset_id " \
               "WHERE e.type IN ('IDENTITY', 'TRANSFORMATION', 'AGGREGATION')"


def harvested(source, db: Path, dialect: str):
    report = harvest(source, open_store(f"sqlite:///{db}"),
                     Options(dialect=get_dialect(dialect).sqlglot, namespace=f"{dialect}://test", batch_size=100))
    con = sqlite3.connect(db)
    try:
        return report, set(con.execute(TABLE_EDGES)), set(con.execute(COLUMN_EDGES))
    finally:
        con.close()


def harvest_export(dialect: str, tmp_path: Path):
    return harvested(open_source(LOGS / EXPORTS[dialect], dialect), tmp_path / "lineage.db", dialect)


# (dialect, table edges, column edges) each export must yield, among others.
EXPECTED = [
    ("snowflake",
     {("@ANALYTICS.RAW.LANDING/customers/*/", "ANALYTICS.RAW.CUSTOMERS"),  # COPY INTO from a stage
      ("ANALYTICS.MARTS.FCT_ORDERS", "ANALYTICS.MARTS.FCT_ORDERS_BACKUP"),  # CLONE
      ("ANALYTICS.STAGING.STG_ORDERS", "ANALYTICS.MARTS.LARGE_ORDERS"),  # INSERT ALL
      ("ANALYTICS.STAGING.STG_ORDERS", "ANALYTICS.MARTS.REFUNDS"),  # INSERT FIRST
      ("ANALYTICS.RAW.PRODUCTS", "ANALYTICS.MARTS.DIM_PRODUCTS"),  # MERGE
      ("ANALYTICS.MARTS.DAILY_REVENUE_NEW", "ANALYTICS.MARTS.DAILY_REVENUE")},  # SWAP WITH
     {("ANALYTICS.STAGING.STG_ORDERS.AMOUNT_USD", "ANALYTICS.MARTS.SMALL_ORDERS.AMOUNT_USD"),
      ("ANALYTICS.STAGING.STG_ORDERS.AMOUNT_USD", "ANALYTICS.MARTS.CANCELLATIONS.LOST_USD"),
      ("ANALYTICS.RAW.PRODUCTS.PRICE", "ANALYTICS.MARTS.DIM_PRODUCTS.PRICE"),
      ("ANALYTICS.MARTS.FCT_ORDERS.AMOUNT_USD", "ANALYTICS.MARTS.DAILY_REVENUE_NEW.REVENUE")}),
    ("bigquery",
     {("shop-prod.raw.orders", "shop-prod.marts.fct_orders"),  # a script read through its temp table
      ("shop-prod.marts.customer_features", "shop-prod.ml.churn_model"),  # CREATE MODEL
      ("shop-prod.marts.customer_features", "shop-prod.marts.churn_scores"),  # ML.PREDICT
      ("shop-prod.marts.customer_features", "shop-prod.marts.vip_customers")},  # through a session's temp table
     {("shop-prod.raw.orders.amount", "shop-prod.marts.fct_orders.amount_usd"),
      ("shop-prod.marts.customer_features.lifetime_value", "shop-prod.ml.churn_model.lifetime_value"),
      ("shop-prod.marts.fct_orders.amount_usd", "shop-prod.marts.customer_features.lifetime_value")}),
    ("redshift",
     {("orders/*", "dev.raw.orders"),  # COPY from s3://shop-landing/orders/*/ (namespace s3://shop-landing)
      ("dev.marts.fct_orders", "fct_orders"),  # UNLOAD to s3://shop-exports/fct_orders/
      ("dev.raw.orders", "dev.staging.stg_orders_new")},
     {("dev.raw.orders.amount", "dev.staging.stg_orders_new.amount_usd"),
      ("dev.raw.fx_rates.rate", "dev.staging.stg_orders_new.amount_usd"),
      ("dev.staging.stg_orders_new.amount_usd", "dev.staging.stg_orders.amount_usd"),  # the rename carries columns
      ("dev.staging.stg_orders.order_id", "dev.marts.fct_orders.order_id")}),
    ("databricks",
     {("main.raw.orders", "main.staging.stg_orders"),  # CREATE OR REPLACE TABLE .. USING DELTA AS
      ("main.staging.stg_orders", "main.marts.daily_revenue"),  # INSERT OVERWRITE
      ("main.raw.customers", "main.marts.dim_customers")},
     {("main.raw.orders.amount", "main.staging.stg_orders.amount_usd"),
      ("main.staging.stg_orders.amount_usd", "main.marts.daily_revenue.revenue"),
      ("main.raw.customers.country", "main.marts.dim_customers.country")}),
    ("mysql",
     {("shop.orders", "reports.customer_totals"),  # ON DUPLICATE KEY UPDATE
      ("shop.orders", "reports.latest_order"),  # REPLACE INTO
      ("shop.orders", "reports.orders_20240401")},  # CREATE TABLE .. SELECT
     {("shop.orders.amount", "reports.customer_totals.total_spent"),
      ("shop.orders.amount", "reports.latest_order.amount"),
      ("shop.orders.id", "reports.orders_20240401.order_id")}),
    ("mariadb",  # the general log
     {("shop.orders", "reports.customer_totals"), ("shop.orders", "reports.latest_order"),
      ("shop.orders", "reports.orders_20240410")},
     {("shop.orders.customer_id", "reports.latest_order.customer_id")}),
]


@pytest.mark.parametrize("dialect, tables, columns", EXPECTED, ids=[e[0] for e in EXPECTED])
def test_each_warehouse_export_is_harvested_to_table_and_column_lineage(tmp_path, dialect, tables, columns):
    report, table_edges, column_edges = harvest_export(dialect, tmp_path)
    assert report.rows_read > 200 and report.parsed >= 4
    missing = {(a, b) for a, b in tables if not any(fnmatch(s, a) and d == b for s, d in table_edges)}
    assert not missing, sorted(missing)
    assert columns <= column_edges, sorted(columns - column_edges)


# (dialect, reasons rows are skipped for, whether the export records failed runs)
SKIPS = [
    ("snowflake", {"empty_sql", "encoding", "truncated", "harvester_query", "system_user"}, True),
    ("bigquery", {"empty_sql", "encoding", "harvester_query", "unfinished"}, True),
    ("redshift", {"empty_sql", "encoding", "truncated", "harvester_query", "system_user"}, True),
    ("databricks", {"empty_sql", "encoding", "harvester_query"}, True),
    ("mysql", {"empty_sql", "encoding", "truncated", "harvester_query"}, True),
    ("mariadb", {"empty_sql", "encoding", "harvester_query", "not_a_statement"}, False),
]


@pytest.mark.parametrize("dialect, reasons, has_failures", SKIPS, ids=[s[0] for s in SKIPS])
def test_bad_rows_are_skipped_and_counted_never_fatal(tmp_path, dialect, reasons, has_failures):
    report, _, _ = harvest_export(dialect, tmp_path)
    assert reasons <= set(report.skipped), report.skipped
    assert report.skipped["harvester_query"] == 10  # one a day in every fixture
    assert (report.failed_executions > 0) == has_failures
    assert report.entries + report.failed_executions + sum(report.skipped.values()) == report.rows_read


@pytest.mark.parametrize("dialect", [d for d in list_dialects() if get_dialect(d).history])
def test_the_history_query_is_valid_sql_for_its_dialect(dialect):
    spec = get_dialect(dialect)
    assert spec.history is not None
    variants = [v.query for v in spec.history.variants.values()]
    for query in filter(None, (spec.history.query, spec.history.catalog_query, spec.history.fallback_query,
                               *variants)):
        tree = sqlglot.parse_one(fill(query, spec.history.settings), read=spec.sqlglot, error_level=ErrorLevel.RAISE)
        assert isinstance(tree, sqlglot.exp.Select)
    if spec.history.kind == "append":
        assert ":cursor" in spec.history.query and spec.history.grant


@pytest.mark.parametrize("dialect", WAREHOUSES)
def test_every_warehouse_names_its_live_url_scheme_and_grant(dialect):
    from sqllineage_harvester.sources import READERS

    assert READERS[dialect] == "history:open_history"
    spec = get_dialect(dialect)
    assert spec.history is not None and spec.history.grant and spec.history.catalog_query


# -- MariaDB, live -----------------------------------------------------------
@pytest.fixture(scope="session")
def mariadb() -> Iterator[mariadbserver.MariaDB]:
    pytest.importorskip("pymysql")
    if mariadbserver.find_server() is None:
        server_missing("MariaDB server binaries (apt-get install mariadb-server) are",
                       "no MariaDB server binaries (install mariadb-server)")
    server = mariadbserver.start_server()
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


WORKLOAD = [
    "CREATE DATABASE shop",
    "CREATE DATABASE reports",
    "CREATE TABLE shop.customers (id INT PRIMARY KEY, email VARCHAR(200), country CHAR(2), tier VARCHAR(10))",
    "CREATE TABLE shop.orders (id INT PRIMARY KEY, customer_id INT, amount DECIMAL(10, 2), created_at DATETIME)",
    "CREATE TABLE reports.customer_totals (customer_id INT PRIMARY KEY, total_spent DECIMAL(12, 2))",
    "CREATE TABLE reports.latest_order (customer_id INT PRIMARY KEY, order_id INT, amount DECIMAL(10, 2))",
    "INSERT INTO shop.customers VALUES (1, 'jane.doe@example.com', 'DE', NULL), (2, 'li.wei@example.net', 'FR', NULL)",
    "INSERT INTO shop.orders VALUES (10, 1, 120.50, '2024-04-01 10:00:00'), (11, 1, 80.00, '2024-04-02 11:00:00'), "
    "(12, 2, 15.25, '2024-04-02 12:00:00')",
    "INSERT INTO reports.customer_totals (customer_id, total_spent) SELECT customer_id, SUM(amount) FROM shop.orders "
    "GROUP BY customer_id ON DUPLICATE KEY UPDATE total_spent = VALUES(total_spent)",
    "REPLACE INTO reports.latest_order (customer_id, order_id, amount) SELECT customer_id, MAX(id), MAX(amount) "
    "FROM shop.orders GROUP BY customer_id",
    "CREATE TABLE reports.big_orders SELECT id AS order_id, customer_id, amount FROM shop.orders WHERE amount > 50",
    "UPDATE shop.customers c JOIN reports.customer_totals t ON t.customer_id = c.id SET c.tier = 'gold' "
    "WHERE t.total_spent > 100",
]


def run_workload(server: mariadbserver.MariaDB, statements: list[str]) -> None:
    conn = server.connect()
    try:
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def mariadb_workload(mariadb) -> mariadbserver.MariaDB:
    run_workload(mariadb, WORKLOAD)
    conn = mariadb.connect()
    with conn.cursor() as cur:
        try:
            cur.execute("INSERT INTO reports.latest_order SELECT * FROM shop.no_such_table")  # a failed run
        except Exception:  # noqa: BLE001 - meant to fail
            pass
        cur.execute("USE shop")
        cur.execute("CREATE TEMPORARY TABLE recent AS SELECT id, customer_id, amount FROM orders")
        cur.execute("INSERT INTO reports.big_orders (order_id, customer_id, amount) SELECT id, customer_id, amount FROM recent")
        cur.execute("SELECT " + ", ".join(f"{i} AS c{i}" for i in range(300)))  # longer than the 1024 kept
    conn.close()
    return mariadb


def test_mariadb_history_is_harvested_live(tmp_path, mariadb_workload):
    source = open_source(mariadb_workload.url(), "mariadb")
    report, tables, columns = harvested(source, tmp_path / "lineage.db", "mariadb")
    assert {("shop.orders", "reports.customer_totals"), ("shop.orders", "reports.latest_order"),
            ("shop.orders", "reports.big_orders")} <= tables
    assert {("shop.orders.amount", "reports.customer_totals.total_spent"),
            ("shop.orders.id", "reports.latest_order.order_id"),
            ("shop.orders.amount", "reports.big_orders.amount")} <= columns
    assert report.failed_executions >= 1 and report.skipped.get("truncated", 0) >= 1
    assert "Sup3r" not in source.url
    # The harvester's own query is in the history now: the next run skips it and writes nothing new
    # (what it reads is the driver's connection chatter: SET NAMES, SELECT VERSION(), ...).
    again, _, _ = harvested(open_source(mariadb_workload.url(), "mariadb"), tmp_path / "lineage.db", "mariadb")
    assert again.operations == 0 and again.skipped.get("harvester_query", 0) >= 1
    assert 0 < again.rows_read < report.rows_read


def test_mariadb_general_log_table_is_harvested_live(tmp_path, mariadb_workload):
    """?log=general_log reads mysql.general_log instead: every statement, with a cursor of its own."""
    url = mariadb_workload.url() + "?log=general_log"
    source = open_source(url, "mariadb")
    assert source.url.endswith("?log=general_log") and "general_log" in source.query()
    report, tables, columns = harvested(source, tmp_path / "lineage.db", "mariadb")
    assert {("shop.orders", "reports.customer_totals"), ("shop.orders", "reports.latest_order")} <= tables
    assert ("shop.orders.amount", "reports.customer_totals.total_spent") in columns
    assert report.skipped.get("not_a_statement", 0) >= 1  # Connect / Quit rows
    again, _, _ = harvested(open_source(url, "mariadb"), tmp_path / "lineage.db", "mariadb")
    assert again.operations == 0 and again.rows_read < report.rows_read
    with pytest.raises(ConfigError, match="no history 'slow_log'"):
        open_source(mariadb_workload.url() + "?log=slow_log", "mariadb")


def test_mariadb_resumes_after_the_stored_cursor(tmp_path, mariadb_workload):
    db = tmp_path / "lineage.db"
    harvested(open_source(mariadb_workload.url(), "mariadb"), db, "mariadb")
    run_workload(mariadb_workload, ["INSERT INTO reports.customer_totals (customer_id, total_spent) "
                                    "SELECT customer_id, amount FROM reports.latest_order WHERE customer_id = 2 "
                                    "ON DUPLICATE KEY UPDATE total_spent = total_spent + 1"])
    report, tables, _ = harvested(open_source(mariadb_workload.url(), "mariadb"), db, "mariadb")
    assert report.operations == 1 and ("reports.latest_order", "reports.customer_totals") in tables


def test_mariadb_catalog_comes_from_information_schema(mariadb_workload):
    catalog = HistorySource(mariadb_workload.url(), get_dialect("mariadb")).catalog()
    assert list(catalog["shop.orders"]) == ["id", "customer_id", "amount", "created_at"]


def test_a_missing_grant_is_one_clear_line_naming_it(mariadb):
    run_workload(mariadb, ["CREATE USER IF NOT EXISTS 'nogrant'@'%' IDENTIFIED BY 'Sup3rSecret'"])
    source = open_source(mariadb.url("nogrant", "Sup3rSecret"), "mariadb")
    with pytest.raises(SourceError) as info:
        list(source.read())
    message = str(info.value)
    assert "GRANT SELECT ON performance_schema.*" in message and "\n" not in message
    assert "Sup3rSecret" not in message


# -- Redshift's chunked text, on PostgreSQL ----------------------------------
REDSHIFT_TABLES = """
CREATE TABLE sys_query_history (user_id int, query_id bigint, session_id int, database_name text, query_type text,
                                status text, start_time timestamp, end_time timestamp, returned_rows bigint);
CREATE TABLE sys_querytext (user_id int, query_id bigint, sequence int, text varchar(4000));
"""


def test_redshift_text_chunks_are_joined_in_order(tmp_path, pg_cluster):
    import psycopg

    url = pg_cluster.create_database("redshift_standin")
    long_sql = ("INSERT INTO marts.fct_orders (order_id, amount_usd) SELECT o.id, o.amount * r.rate FROM raw.orders o "
                "JOIN raw.fx_rates r ON r.currency = o.currency WHERE o.id NOT IN (" +
                ", ".join(str(i) for i in range(1500)) + ")")
    statements = [(1, long_sql, "success"), (2, "UNLOAD ('SELECT * FROM marts.fct_orders') TO 's3://b/x/' "
                   "IAM_ROLE 'arn:aws:iam::1:role/r'", "success"), (3, "INSERT INTO x SELECT * FROM nope", "failed"),
                  (4, f"{HARVESTER_TAG}\nSELECT 1 FROM sys_query_history", "success")]
    with psycopg.connect(url.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(REDSHIFT_TABLES)
        for qid, sql, status in statements:
            conn.execute("INSERT INTO sys_query_history VALUES (%s, %s, 7, 'dev', 'INSERT', %s, "
                         "'2024-04-01 10:00:00'::timestamp + %s * interval '1 second', "
                         "'2024-04-01 10:00:01'::timestamp + %s * interval '1 second', 5)",
                         (10 if qid != 4 else 1, qid, status, qid, qid))
            chunks = [sql[i:i + 4000] for i in range(0, len(sql), 4000)]
            for seq in reversed(range(len(chunks))):  # stored out of order
                conn.execute("INSERT INTO sys_querytext VALUES (10, %s, %s, %s)", (qid, seq, chunks[seq]))
    assert len(long_sql) > 8000
    source = open_source(url.replace("postgresql://", "redshift://", 1), "redshift")
    entries = list(source.read())
    assert [e.sql for e in entries] == [long_sql, statements[1][1]]
    assert source.stats.failed == 1 and source.stats.skipped["harvester_query"] == 1
    report, tables, columns = harvested(open_source(url.replace("postgresql://", "redshift://", 1), "redshift"),
                                        tmp_path / "lineage.db", "redshift")
    assert ("dev.raw.fx_rates", "dev.marts.fct_orders") in tables
    assert ("dev.marts.fct_orders", "x") in tables  # s3://b/x/: name x in namespace s3://b
    assert ("dev.raw.orders.amount", "dev.marts.fct_orders.amount_usd") in columns


def test_a_lineage_view_joined_live_or_left_out_with_a_note(tmp_path, pg_cluster):
    """A history query that joins the database's own lineage view (as Snowflake's joins
    ACCESS_HISTORY): where the view is missing the fallback query runs and the run says so;
    where it is there, its lineage reaches the harvest's cross-check. Redshift's tables on
    PostgreSQL stand in for the warehouse."""
    import psycopg
    from dataclasses import replace

    url = pg_cluster.create_database("lineage_view_standin")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(REDSHIFT_TABLES)
        conn.execute("INSERT INTO sys_query_history VALUES (10, 1, 7, 'dev', 'INSERT', 'success', "
                     "'2024-04-01 10:00:00', '2024-04-01 10:00:01', 5)")
        conn.execute("INSERT INTO sys_querytext VALUES (10, 1, 0, 'INSERT INTO marts.t (id) SELECT id FROM raw.s')")
    plain = get_dialect("redshift")
    joined = plain.history.query.replace(
        "SELECT h.query_id,", "SELECT l.objects_read, l.objects_written, h.query_id,").replace(
        "LEFT JOIN pg_user", "LEFT JOIN lineage_view AS l ON l.query_id = h.query_id\nLEFT JOIN pg_user")
    spec = replace(plain, export=replace(plain.export, columns={**plain.export.columns,
                                                                "objects_read": "declared_inputs",
                                                                "objects_written": "declared_outputs"}),
                   history=replace(plain.history, query=joined, fallback_query=plain.history.query))
    standin = url.replace("postgresql://", "redshift://", 1)
    source = HistorySource(standin, spec)
    entries = list(source.read())
    assert [e.declared_inputs for e in entries] == [None]
    assert len(source.stats.notes) == 1 and "lineage_view" in source.stats.notes[0]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE lineage_view (query_id bigint, objects_read text, objects_written text)")
        conn.execute("INSERT INTO lineage_view VALUES (1, 'dev.raw.s', 'dev.marts.t')")
    source = HistorySource(standin, spec)
    report = harvest(source, open_store(f"sqlite:///{tmp_path / 'l.db'}"),
                     Options(dialect="redshift", namespace="redshift://test"))
    assert report.notes == [] and report.crosscheck == {"tables_agree": 1}


def test_a_setting_given_several_values_reads_each_history_with_its_own_cursor(tmp_path, pg_cluster):
    """``?region=us,eu`` for BigQuery: one query cannot read two regions, so each is read in turn,
    each with its own cursor inside the run's. Two schemas on PostgreSQL stand in for regions."""
    import psycopg
    from dataclasses import replace

    url = pg_cluster.create_database("regions_standin")
    with psycopg.connect(url, autocommit=True) as conn:
        for region, target in (("us", "marts.us_orders"), ("eu", "marts.eu_orders")):
            conn.execute(f"CREATE SCHEMA {region}")
            conn.execute(REDSHIFT_TABLES.replace("sys_query", f"{region}.sys_query"))
            conn.execute(f"INSERT INTO {region}.sys_query_history VALUES (10, 1, 7, 'dev', 'INSERT', 'success', "
                         "'2024-04-01 10:00:00', '2024-04-01 10:00:01', 5)")
            conn.execute(f"INSERT INTO {region}.sys_querytext VALUES (10, 1, 0, "
                         f"'INSERT INTO {target} (id) SELECT id FROM raw.orders')")
    plain = get_dialect("redshift")
    spec = replace(plain, history=replace(
        plain.history, settings={"region": "us"},
        query=plain.history.query.replace("sys_query_history AS", "{region}.sys_query_history AS")
        .replace("sys_querytext AS", "{region}.sys_querytext AS")))
    standin = url.replace("postgresql://", "redshift://", 1) + "?region=us,eu"
    db = tmp_path / "lineage.db"

    def run():
        return harvest(open_source(standin, spec), open_store(f"sqlite:///{db}"),
                       Options(dialect="redshift", namespace="redshift://test"))

    first = run()
    assert first.operations == 2 and first.rows_read == 2
    assert "region=us" in open_source(standin, spec).url and "region=eu" in open_source(standin, spec).url
    assert run().rows_read == 0  # both cursors hold
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO eu.sys_query_history VALUES (10, 2, 7, 'dev', 'INSERT', 'success', "
                     "'2024-04-01 11:00:00', '2024-04-01 11:00:01', 5)")
        conn.execute("INSERT INTO eu.sys_querytext VALUES (10, 2, 0, 'INSERT INTO marts.eu_more (id) SELECT id FROM raw.x')")
    again = run()
    assert again.rows_read == 1 and again.operations == 1


def test_mariadb_general_log_file_is_harvested(tmp_path, mariadb_workload):
    """mysqllog:// reads the general query log file the server writes (log_output = FILE)."""
    url = f"mysqllog://{mariadb_workload.general_log}"
    source = open_source(url, "mariadb")
    entries = list(source.read())
    assert any(e.sql.startswith("INSERT INTO reports.customer_totals") for e in entries)
    assert all(e.session_id and e.start_time and e.start_time.endswith("Z") for e in entries)
    assert any(e.user == "root" for e in entries)
    report, tables, columns = harvested(open_source(url, "mariadb"), tmp_path / "lineage.db", "mariadb")
    assert {("shop.orders", "reports.customer_totals"), ("shop.orders", "reports.latest_order")} <= tables
    assert ("shop.orders.amount", "reports.customer_totals.total_spent") in columns
    again, _, _ = harvested(open_source(url, "mariadb"), tmp_path / "lineage.db", "mariadb")
    assert again.operations == 0 and again.rows_read < report.rows_read  # only what came after the cursor


MYSQL8_LOG = """/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:
Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock
Time                 Id Command    Argument
2024-11-24T20:01:02.123456Z\t   31 Connect\tetl@10.0.0.7 on shop using TCP/IP
2024-11-24T20:01:02.200000Z\t   31 Query\tINSERT INTO reports.daily (day, total)
SELECT DATE(created_at), SUM(amount)
FROM orders
GROUP BY DATE(created_at)
2024-11-24T20:01:03.000000Z\t   32 Connect\tann@10.0.0.9 on  using TCP/IP
2024-11-24T20:01:03.100000Z\t   32 Init DB\tcrm
2024-11-24T20:01:03.200000Z\t   32 Query\tINSERT INTO contacts_copy SELECT id, email FROM contacts
2024-11-24T20:01:04.000000Z\t   31 Quit\t
/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:
Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock
Time                 Id Command    Argument
2024-11-24T20:05:00.000000Z\t    8 Connect\tetl@10.0.0.7 on shop using TCP/IP
2024-11-24T20:05:00.100000Z\t    8 Query\tUSE reports
2024-11-24T20:05:00.200000Z\t    8 Query\tDELETE FROM daily WHERE day < '2024-01-01'
2024-11-24T20:05:00.300000Z\t    8 Query\tSELECT 1 FROM dual WHERE 'still being writ"""


def test_mysql8_general_log_file_format(tmp_path):
    """MySQL 8's log format, a statement over several lines, Init DB and USE, a server restart
    banner mid-file, and a last line still being written."""
    log = tmp_path / "general.log"
    log.write_text(MYSQL8_LOG)
    entries = list(open_source(f"mysqllog://{log}", "mysql").read())
    assert [(e.session_id, e.user, e.schema) for e in entries] == [
        ("31", "etl", "shop"), ("32", "ann", "crm"), ("8", "etl", "shop"), ("8", "etl", "reports")]
    assert entries[0].sql.endswith("GROUP BY DATE(created_at)") and entries[0].sql.count("\n") == 3
    assert entries[0].start_time == "2024-11-24T20:01:02.200000Z"
    report, tables, columns = harvested(open_source(f"mysqllog://{log}", "mysql"), tmp_path / "l.db", "mysql")
    assert ("shop.orders", "reports.daily") in tables and ("crm.contacts", "crm.contacts_copy") in tables
    assert ("shop.orders.amount", "reports.daily.total") in columns
    log.write_text(MYSQL8_LOG + "ten'\n2024-11-24T20:06:00.000000Z\t    8 Query\tINSERT INTO reports.t SELECT a FROM shop.s\n")
    again, tables, _ = harvested(open_source(f"mysqllog://{log}", "mysql"), tmp_path / "l.db", "mysql")
    assert again.rows_read == 2 and ("shop.s", "reports.t") in tables  # the finished line, then the new one


def test_a_bigquery_scripts_child_jobs_are_left_out_for_the_script_job(tmp_path):
    script = ("CREATE TEMP TABLE tmp AS SELECT id, email FROM raw.users;\n"
              "INSERT INTO m.a (id, em) SELECT id, email FROM tmp")
    common = {"project_id": "p", "user_email": "etl@p.iam", "job_type": "QUERY", "state": "DONE",
              "error_result": None, "start_time": "2024-04-01 02:00:10.000000 UTC"}
    jobs = [
        {**common, "job_id": "script_1", "statement_type": "SCRIPT", "query": script, "parent_job_id": None,
         "creation_time": "2024-04-01 02:00:09.000000 UTC", "end_time": "2024-04-01 02:00:30.000000 UTC"},
        {**common, "job_id": "script_1_0", "statement_type": "CREATE_TABLE_AS_SELECT", "parent_job_id": "script_1",
         "query": script.split(";")[0], "creation_time": "2024-04-01 02:00:10.000000 UTC",
         "end_time": "2024-04-01 02:00:20.000000 UTC"},
        {**common, "job_id": "script_1_1", "statement_type": "INSERT", "parent_job_id": "script_1",
         "query": script.split(";\n")[1], "creation_time": "2024-04-01 02:00:20.000000 UTC",
         "end_time": "2024-04-01 02:00:29.000000 UTC"},
    ]
    log = tmp_path / "jobs.jsonl"
    log.write_text("".join(json.dumps(j) + "\n" for j in jobs))
    db = tmp_path / "l.db"
    source = open_source(log, "bigquery")
    report = harvest(source, open_store(f"sqlite:///{db}"), Options(dialect="bigquery", namespace="bigquery://p"))
    assert report.skipped.get("child_statement") == 2
    con = sqlite3.connect(db)
    names = {n for (n,) in con.execute("SELECT name FROM datasets")}
    con.close()
    assert names == {"p.raw.users", "p.m.a"}  # no dangling tmp from the children


def test_the_generator_writes_the_committed_exports_byte_for_byte(tmp_path):
    """The exports are the generator's output: a change to one without the other is caught (the
    BigQuery jobs export once drifted when the ML jobs' table entries started alike)."""
    import subprocess

    subprocess.run([sys.executable, str(LOGS / "generate_warehouses.py"), str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(written) == 11
    assert [str(p) for p in written if (tmp_path / p).read_bytes() != (LOGS / p).read_bytes()] == []
