"""OpenLineage in: events read from files, a folder or an HTTP endpoint become operations, and
runtime lineage meets query-log lineage on the same datasets (the federation test)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store
from test_openlineage_out import cli, export, harvest as harvest_cli, write_log

ROOT = Path(__file__).resolve().parent.parent
SPARK = "https://github.com/OpenLineage/OpenLineage/tree/1.20.0/integration/spark"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
RUN = "0b7e2a4e-0000-4000-8000-00000000000"
PG = "postgres://app-db:5432"


def facet(**fields: object) -> dict:
    return {"_producer": SPARK, "_schemaURL": "https://example.com/facet.json", **fields}


def spark_event(kind: str, run: int, at: str, output: tuple[str, str] = ("s3://bucket", "orders"),
                columns: bool = True) -> dict:
    """Shaped like the Spark integration's events: extra facets it adds, nested field names."""
    out: dict = {"namespace": output[0], "name": output[1], "facets": {
        "schema": facet(fields=[{"name": "id", "type": "long"}, {"name": "amount", "type": "decimal(10,2)"}]),
        "symlinks": facet(identifiers=[{"namespace": "hive://metastore", "name": "raw.orders", "type": "TABLE"}]),
        "lifecycleStateChange": facet(lifecycleStateChange="OVERWRITE")}}
    if columns:
        out["facets"]["columnLineage"] = facet(fields={
            "id": {"inputFields": [{"namespace": PG, "name": "shop.public.orders", "field": "id",
                                    "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}]},
            "amount": {"inputFields": [
                {"namespace": PG, "name": "shop.public.orders", "field": "amount",
                 "transformations": [{"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": False}]},
                {"namespace": PG, "name": "shop.public.orders", "field": "status",
                 "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}]}]}},
            dataset=[{"namespace": PG, "name": "shop.public.orders", "field": "status",
                      "transformations": [{"type": "INDIRECT", "subtype": "FILTER"}]}])
    return {"eventType": kind, "eventTime": at, "producer": SPARK, "schemaURL": SCHEMA,
            "run": {"runId": f"{RUN}{run}", "facets": {
                "processing_engine": facet(name="spark", version="3.5.1", openlineageAdapterVersion="1.20.0"),
                "spark_properties": facet(properties={"spark.master": "yarn", "spark.app.name": "orders_etl"}),
                "parent": facet(run={"runId": f"{RUN}9"}, job={"namespace": "airflow", "name": "dag.task"})}},
            "job": {"namespace": "spark-prod", "name": "orders_etl.write_orders",
                    "facets": {"jobType": facet(processingType="BATCH", integration="SPARK", jobType="SQL_JOB")}},
            "inputs": [{"namespace": PG, "name": "shop.public.orders", "facets": {}}],
            "outputs": [out] if kind != "START" else []}


def write_events(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


FEDERATION_LOG = [
    ("loader", "COPY INTO raw.orders FROM 's3://bucket/orders/' FILE_FORMAT = (TYPE = 'PARQUET')"),
    ("etl", "INSERT INTO mart.daily SELECT id, sum(amount) AS total FROM raw.orders GROUP BY id"),
]


def harvest_into(url: str, source: str, dialect: str | None, namespace: str) -> None:
    store = open_store(url)
    try:
        harvest(open_source(source, dialect), store, Options(dialect=dialect, namespace=namespace))
    finally:
        store.close()


@pytest.mark.parametrize("store_url", ["sqlite", "neo4j"], indirect=True)
def test_a_spark_job_writing_s3_and_a_snowflake_copy_of_it_make_one_route_to_the_mart(tmp_path, store_url):
    events = write_events(tmp_path / "spark.jsonl", [spark_event("START", 1, "2024-04-01T01:00:00Z"),
                                                     spark_event("COMPLETE", 1, "2024-04-01T01:05:00Z")])
    log = tmp_path / "history.csv"
    from test_openlineage_out import HEADER
    import csv
    with log.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i, (user, sql) in enumerate(FEDERATION_LOG):
            at = f"2024-04-01 0{2 + i}:00:00.000 +0000"
            out.writerow([f"q{i}", sql, "SHOP", "PUBLIC", "X", user, "R", "WH", at, at, "SUCCESS", "", "1", "", ""])
    harvest_into(store_url, f"openlineage://{events}", None, "openlineage://default")
    harvest_into(store_url, str(log), "snowflake", "snowflake://acme")
    store = open_store(store_url, read_only=True)
    try:
        route = queries.path(store, f"{PG}/shop.public.orders", "SHOP.MART.DAILY")
        names = [(n.node.namespace, n.node.name) for n in sorted(route.nodes, key=lambda n: n.depth)]
        assert names == [(PG, "shop.public.orders"), ("s3://bucket", "orders"), ("snowflake://acme", "SHOP.RAW.ORDERS"),
                         ("snowflake://acme", "SHOP.MART.DAILY")]
        s3 = [n for n in store.resolve("orders") if n.namespace.startswith("s3://")]
        assert [(n.namespace, n.name, n.kind) for n in s3] == [("s3://bucket", "orders", "dataset")]
        upstream = queries.upstream(store, "s3://bucket/orders.amount")
        kinds = {(n.node.name, e.type) for e in upstream.edges for n in upstream.nodes if n.node.key == e.source}
        assert kinds == {("shop.public.orders.amount", "TRANSFORMATION"), ("shop.public.orders.status", "FILTER")}
    finally:
        store.close()


def test_object_store_paths_are_one_dataset_however_written(tmp_path):
    db = tmp_path / "l.db"
    events = [spark_event("COMPLETE", 1, "2024-04-01T01:05:00Z", ("s3://bucket", "orders")),
              spark_event("COMPLETE", 2, "2024-04-01T01:06:00Z", ("s3a://bucket", "/orders/"), columns=False)]
    harvest_into(f"sqlite:///{db}", f"openlineage://{write_events(tmp_path / 'e.jsonl', events)}", None, "x://y")
    log = tmp_path / "h.csv"
    statements = ["COPY INTO raw.orders FROM 's3://bucket/orders'", "COPY INTO raw.orders FROM 's3://bucket/orders/'",
                  "INSERT INTO raw.x SELECT * FROM 's3://bucket/orders/'"]  # the last one read as DB.SCHEMA.s3://...
    log.write_text(write_log(tmp_path / "base.csv").read_text().splitlines()[0] + "\n" + "\n".join(
        f'q{i},"{sql}",SHOP,PUBLIC,COPY,u,R,WH,2024-04-01 0{i}:00:00.000 +0000,'
        f'2024-04-01 0{i}:00:00.000 +0000,SUCCESS,,1,,' for i, sql in enumerate(statements)))
    harvest_cli(log, db)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT namespace, name FROM datasets WHERE name LIKE '%orders%' ORDER BY 1, 2").fetchall()
    assert rows == [(PG, "shop.public.orders"), ("s3://bucket", "orders"), ("snowflake://acme", "SHOP.RAW.ORDERS")]


def test_only_complete_events_become_operations_and_extra_facets_are_ignored(tmp_path):
    db = tmp_path / "l.db"
    events = [spark_event("START", 1, "2024-04-01T01:00:00Z"), spark_event("RUNNING", 1, "2024-04-01T01:01:00Z"),
              spark_event("COMPLETE", 1, "2024-04-01T01:05:00Z"),
              spark_event("FAIL", 2, "2024-04-01T02:05:00Z", ("s3://bucket", "failed")),
              spark_event("COMPLETE", 3, "2024-04-01T03:05:00Z", ("s3://bucket", "no_columns"), columns=False),
              {"eventType": "COMPLETE", "run": {"runId": "x"}}]
    path = write_events(tmp_path / "e.jsonl", events)
    done = cli("harvest", "--source", f"openlineage://{path}", "--store", f"sqlite:///{db}", "--format", "json")
    report = json.loads(done.stdout)
    assert report["rows_read"] == 2 and report["failed_executions"] == 1
    assert report["skipped"] == {"event_start": 1, "event_running": 1, "event_fail": 1, "malformed_json": 1}
    with sqlite3.connect(db) as conn:
        outputs = conn.execute("SELECT d.namespace, d.name, o.type FROM produces p JOIN datasets d ON d.id = p.dataset_id "
                               "JOIN operations o ON o.id = p.operation_id ORDER BY 2").fetchall()
        edges = conn.execute("SELECT count(*) FROM column_edges").fetchone()[0]
        systems = conn.execute("SELECT name FROM systems").fetchall()
    assert outputs == [("s3://bucket", "no_columns", "insert"), ("s3://bucket", "orders", "insert")]
    assert edges == 4  # id, amount, and status feeding both as a dataset-wide FILTER
    assert systems == [("spark 3.5.1",)]
    again = json.loads(cli("harvest", "--source", f"openlineage://{path}", "--store", f"sqlite:///{db}",
                           "--format", "json").stdout)
    assert again["rows_read"] == 0 and again["operations"] == 0
    with path.open("a") as f:
        f.write(json.dumps(spark_event("COMPLETE", 4, "2024-04-02T01:05:00Z", ("s3://bucket", "later"))) + "\n")
    later = json.loads(cli("harvest", "--source", f"openlineage://{path}", "--store", f"sqlite:///{db}",
                           "--format", "json").stdout)
    assert later["rows_read"] == 1 and later["operations"] == 1


def test_exported_events_read_back_give_the_same_column_lineage(tmp_path):
    first = tmp_path / "first.db"
    harvest_cli(write_log(tmp_path / "h.csv"), first)
    folder = tmp_path / "events"
    folder.mkdir()
    cli("export", "--format", "openlineage", "--store", f"sqlite:///{first}", "--output", str(folder / "a.jsonl"))
    second = tmp_path / "second.db"
    cli("harvest", "--source", f"openlineage://{folder}", "--store", f"sqlite:///{second}")

    def edges(db: Path) -> set[tuple[str, ...]]:
        with sqlite3.connect(db) as conn:
            return set(conn.execute(
                "SELECT sd.namespace, sd.name, s.name, td.namespace, td.name, t.name, e.type FROM column_edges e "
                "JOIN columns s ON s.id = e.src JOIN datasets sd ON sd.id = s.dataset_id "
                "JOIN columns t ON t.id = e.dst JOIN datasets td ON td.id = t.dataset_id").fetchall())

    assert len(edges(first)) > 10 and edges(second) == edges(first)
    assert {e["job"]["facets"]["sql"]["query"] for e in export(second)} == \
        {e["job"]["facets"]["sql"]["query"] for e in export(first)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_harvest_listens_for_events_sent_by_the_openlineage_client(tmp_path):
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
    from openlineage.client.transport.http import HttpConfig, HttpTransport

    port, db = _free_port(), tmp_path / "l.db"
    url = f"openlineage+http://127.0.0.1:{port}?spool={tmp_path / 'spool.jsonl'}"
    run = subprocess.Popen([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", url, "--store",
                            f"sqlite:///{db}", "--follow", "--interval", "0.2"], cwd=ROOT,
                           env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        client = OpenLineageClient(transport=HttpTransport(HttpConfig(url=f"http://127.0.0.1:{port}")))
        deadline = time.monotonic() + 30
        while True:
            try:
                client.emit(RunEvent(eventType=RunState.COMPLETE, eventTime="2024-04-01T01:05:00+00:00",
                                     run=Run(runId="0b7e2a4e-0000-4000-8000-000000000042"),
                                     job=Job(namespace="airflow", name="dag.load"),
                                     inputs=[InputDataset(PG, "shop.public.orders")],
                                     outputs=[OutputDataset("s3://bucket", "orders")], producer=SPARK))
                break
            except Exception:  # noqa: BLE001 - the listener is not up yet
                assert time.monotonic() < deadline, "the listener never came up"
                time.sleep(0.2)
        while time.monotonic() < deadline:
            if db.exists():
                with sqlite3.connect(db) as conn:
                    if conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'operations'").fetchone()[0] and \
                            conn.execute("SELECT count(*) FROM operations").fetchone()[0]:
                        break
            time.sleep(0.2)
    finally:
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=30)
    assert run.returncode == 143, err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT namespace, name FROM datasets ORDER BY 1").fetchall() == [
            (PG, "shop.public.orders"), ("s3://bucket", "orders")]


STAGE_LOG = [
    ("loader", "COPY INTO raw.orders FROM @landing/orders/ FILE_FORMAT = (TYPE = 'PARQUET')"),
    ("admin", "CREATE STAGE landing URL = 's3://bucket/' FILE_FORMAT = (TYPE = 'PARQUET')"),
    ("loader", "COPY INTO raw.orders FROM @landing/orders/ FILE_FORMAT = (TYPE = 'PARQUET')"),
    ("loader", "COPY INTO raw.items FROM @SHOP.RAW.LANDING/items FILE_FORMAT = (TYPE = 'PARQUET')"),
]


@pytest.mark.parametrize("runs", [1, 2])
def test_a_stage_the_log_defines_is_read_as_its_url(tmp_path, runs):
    import csv
    from test_openlineage_out import HEADER

    def write(path: Path, rows: list[tuple[str, str]], start: int) -> Path:
        with path.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(HEADER)
            for i, (user, sql) in enumerate(rows, start):
                at = f"2024-04-01 0{i}:00:00.000 +0000"
                out.writerow([f"q{i}", sql, "SHOP", "RAW", "X", user, "R", "WH", at, at, "SUCCESS", "", "1", "", ""])
        return path

    db = tmp_path / "l.db"
    if runs == 1:
        harvest_cli(write(tmp_path / "h.csv", STAGE_LOG, 0), db, "--batch-size", "1")
    else:  # the stage learned in one run, used in the next (kept in the store)
        harvest_cli(write(tmp_path / "a.csv", STAGE_LOG[:2], 0), db)
        harvest_cli(write(tmp_path / "b.csv", STAGE_LOG[2:], 2), db)
    with sqlite3.connect(db) as conn:
        reads = conn.execute("SELECT d.namespace, d.name, d.type FROM input_to i JOIN datasets d ON d.id = i.dataset_id "
                             "ORDER BY 1, 2").fetchall()
        stored = " ".join(v for (v,) in conn.execute("SELECT lineage FROM statement_cache"))
    resolved = [("s3://bucket", "items", "file"), ("s3://bucket", "orders", "file")]
    # the COPY before the CREATE STAGE reads the stage as it is; those after it read its URL
    assert reads == resolved + [("snowflake://acme", "@landing/orders/", "stage")]
    assert "s3://bucket/" in stored and "FILE_FORMAT" not in stored


def test_airflow_and_dbt_shaped_events_are_read_and_their_sql_is_redacted(tmp_path):
    airflow = {"eventType": "COMPLETE", "eventTime": "2024-04-01T12:00:00.123456789+02:00[Europe/Paris]",
               "producer": "https://github.com/apache/airflow/tree/providers-openlineage/1.8.0", "schemaURL": SCHEMA,
               "run": {"runId": "01908a1e-0000-7000-8000-000000000001",
                       "facets": {"nominalTime": facet(nominalStartTime="2024-04-01T00:00:00Z"),
                                  "airflow": facet(dag={"dag_id": "load"}, task={"task_id": "export"})}},
               "job": {"namespace": "airflow-prod", "name": "load.export",
                       "facets": {"ownership": facet(owners=[{"name": "data-eng"}])}},
               "inputs": [{"namespace": "file", "name": "/data/in/orders.csv"}],
               "outputs": [{"namespace": "gs://lake", "name": "/landing/orders/"}]}
    reads_only = {**airflow, "run": {"runId": "01908a1e-0000-7000-8000-000000000002"}, "outputs": []}
    dbt = {"eventType": "COMPLETE", "eventTime": "2024-04-01T13:00:00+00:00", "producer": "dbt", "schemaURL": SCHEMA,
           "run": {"runId": "01908a1e-0000-7000-8000-000000000003"},
           "job": {"namespace": "dbt", "name": "shop.model.daily", "facets": {"sql": facet(
               query="select day, sum(amount) as total from raw.orders where status = 'secret-status-4711' group by day")}},
           "inputs": [{"namespace": "snowflake://acme", "name": "SHOP.RAW.ORDERS"}],
           "outputs": [{"namespace": "snowflake://acme", "name": "SHOP.MART.DAILY", "facets": {}}]}
    path = write_events(tmp_path / "e.jsonl", [airflow, reads_only, dbt])
    db = tmp_path / "l.db"
    report = json.loads(cli("harvest", "--source", f"openlineage://{path}", "--store", f"sqlite:///{db}",
                            "--format", "json").stdout)
    assert report["rows_read"] == 3 and report["operations"] == 2
    with sqlite3.connect(db) as conn:
        ops = conn.execute("SELECT o.first_seen, u.name, o.sql FROM operations o LEFT JOIN performed p ON "
                           "p.operation_id = o.id LEFT JOIN users u ON u.id = p.user_id ORDER BY 1").fetchall()
        reads = conn.execute("SELECT d.namespace, d.name FROM usage JOIN datasets d ON d.id = usage.dataset_id").fetchall()
        everything = "\n".join(str(row) for table in ("operations", "datasets", "statement_cache", "parse_failures")
                               for row in conn.execute(f"SELECT * FROM {table}"))
    assert ops[0][:2] == ("2024-04-01T10:00:00.123456Z", "data-eng")
    assert "'?'" in ops[1][2] and "secret-status-4711" not in everything
    assert reads == [("file", "/data/in/orders.csv")]
    nodes = {n for n in export(db) for n in [(d["namespace"], d["name"]) for d in n["inputs"] + n["outputs"]]}
    assert {("file", "/data/in/orders.csv"), ("gs://lake", "landing/orders")} <= nodes


# -- events named the spec's way meet the query-log harvest of the same database ----------------------------
def lineage_event(run: int, source: tuple[str, str, str], target: tuple[str, str, str]) -> dict:
    """A COMPLETE event: one column of ``source`` (namespace, name, field) written to ``target``."""
    return {"eventType": "COMPLETE", "eventTime": f"2024-05-01T0{run}:00:00Z", "producer": SPARK, "schemaURL": SCHEMA,
            "run": {"runId": f"{RUN}{run}"}, "job": {"namespace": "spark-prod", "name": f"job{run}"},
            "inputs": [{"namespace": source[0], "name": source[1]}],
            "outputs": [{"namespace": target[0], "name": target[1], "facets": {"columnLineage": facet(fields={
                target[2]: {"inputFields": [{"namespace": source[0], "name": source[1], "field": source[2],
                                             "transformations": [{"type": "DIRECT", "subtype": "IDENTITY"}]}]}})}}]}


def dataset_names(db: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT namespace, name FROM datasets"))


def test_a_bigquery_event_meets_the_bigquery_historys_tables(tmp_path):
    db = tmp_path / "l.db"
    store = f"sqlite:///{db}"
    cli("harvest", "--source", str(ROOT / "fixtures" / "logs" / "bigquery" / "jobs.jsonl"), "--dialect", "bigquery",
        "--store", store, "--workers", "1")
    event = lineage_event(1, ("bigquery", "shop-prod.marts.fct_orders", "amount_usd"),
                          ("gs://exports", "fct_orders/amount", "amount_usd"))
    cli("harvest", "--source", f"openlineage://{write_events(tmp_path / 'e.jsonl', [event])}", "--store", store)
    names = dataset_names(db)
    assert ("bigquery", "shop-prod.marts.fct_orders") in names
    assert not [n for n in names if n[0].startswith("bigquery:")], names
    found = cli("upstream", "gs://exports/fct_orders/amount.amount_usd", "--store", store, "--format", "json")
    assert "shop-prod.raw.orders" in found.stdout  # the event's input is the history's table, with its lineage


def test_a_snowflake_event_meets_snowflakes_upper_case_names_whatever_its_case(tmp_path):
    db = tmp_path / "l.db"
    harvest_cli(write_log(tmp_path / "h.csv"), db)  # namespace snowflake://acme; SHOP.MART.DAILY
    events = [lineage_event(1, ("snowflake://acme", "shop.mart.daily", "total"), ("s3://out", "daily", "total")),
              lineage_event(2, ("snowflake://ACME.snowflakecomputing.com", "Shop.Raw.Orders", "amount"),
                            ("s3://out", "orders", "amount"))]
    store = f"sqlite:///{db}"
    cli("harvest", "--source", f"openlineage://{write_events(tmp_path / 'e.jsonl', events)}", "--store", store)
    names = dataset_names(db)
    assert {n for n in names if n[0].startswith("snowflake")} == {
        ("snowflake://acme", "SHOP.MART.DAILY"), ("snowflake://acme", "SHOP.MART.RANKED"),
        ("snowflake://acme", "SHOP.RAW.ORDERS"), ("snowflake://acme", "SHOP.RAW.CUSTOMERS")}
    found = cli("upstream", "s3://out/daily.total", "--store", store, "--format", "json")
    assert "SHOP.RAW.ORDERS.AMOUNT" in found.stdout
