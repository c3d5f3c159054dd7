"""OpenLineage out: `export --format openlineage` and `harvest --emit URL`, checked against the
spec's JSON schemas and a real HTTP receiver."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from olhelp import Receiver, validate

ROOT = Path(__file__).resolve().parent.parent
SNOWFLAKE_LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
HEADER = ["QUERY_ID", "QUERY_TEXT", "DATABASE_NAME", "SCHEMA_NAME", "QUERY_TYPE", "USER_NAME", "ROLE_NAME",
          "WAREHOUSE_NAME", "START_TIME", "END_TIME", "EXECUTION_STATUS", "ERROR_MESSAGE", "ROWS_PRODUCED",
          "SESSION_ID", "QUERY_PARAMETERIZED_HASH"]
STATEMENTS = [
    ("ann", "INSERT INTO mart.daily SELECT o.day, sum(o.amount) AS total, max(CASE WHEN c.tier = 'gold-424242' "
            "THEN o.amount END) AS gold FROM raw.orders o JOIN raw.customers c ON o.cid = c.id "
            "WHERE o.status = 'paid-secret-77' GROUP BY o.day ORDER BY o.day"),
    ("bob", "CREATE TABLE mart.ranked AS SELECT id, row_number() OVER (PARTITION BY cid ORDER BY amount) AS rn "
            "FROM raw.orders WHERE amount > 919191"),
    ("ann", "COPY INTO raw.orders FROM 's3://bucket/orders/' FILE_FORMAT = (TYPE = 'CSV')"),
]
LITERALS = ("gold-424242", "paid-secret-77", "919191")


def write_log(path: Path, repeats: int = 1) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i in range(repeats):
            for j, (user, sql) in enumerate(STATEMENTS):
                at = f"2024-03-{1 + i % 28:02d} 0{j}:00:00.000 +0000"
                out.writerow([f"q{i}-{j}", sql, "SHOP", "PUBLIC", "INSERT", user, "R", "WH", at, at, "SUCCESS", "",
                              "1", "", ""])
    return path


def cli(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})})
    if check:
        assert done.returncode == 0, done.stderr
    return done


def harvest(log: Path, db: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return cli("harvest", "--source", str(log), "--dialect", "snowflake", "--namespace", "snowflake://acme",
               "--store", f"sqlite:///{db}", "--workers", "1", *extra, env=env)


def export(db: Path, *extra: str) -> list[dict]:
    done = cli("export", "--format", "openlineage", "--store", f"sqlite:///{db}", *extra)
    return [json.loads(line) for line in done.stdout.splitlines()]


def by_job(events: list[dict]) -> dict[str, dict]:
    return {e["job"]["name"].split(".")[-2]: e for e in events}  # the kind


def test_exported_events_are_valid_openlineage_with_column_lineage_and_no_literals(tmp_path):
    db = tmp_path / "lineage.db"
    harvest(write_log(tmp_path / "h.csv"), db)
    events = export(db)
    assert len(events) == 3
    for event in events:
        validate(event)
        assert event["eventType"] == "COMPLETE"
        assert uuid.UUID(event["run"]["runId"]).version == 5
        assert event["eventTime"].endswith("+00:00")
        for literal in LITERALS:
            assert literal not in json.dumps(event)
    jobs = by_job(events)
    insert = jobs["insert"]
    assert insert["job"]["namespace"] == "snowflake://acme"
    assert insert["job"]["name"].startswith("SHOP.MART.DAILY.insert.")
    assert "'?'" in insert["job"]["facets"]["sql"]["query"]
    assert insert["job"]["facets"]["sql"]["dialect"] == "snowflake"  # the 1-1-0 sql facet's dialect, as --emit says it
    assert insert["run"]["facets"]["sqllineage_user"]["users"] == ["ann"]
    assert {(d["namespace"], d["name"]) for d in insert["inputs"]} == {
        ("snowflake://acme", "SHOP.RAW.ORDERS"), ("snowflake://acme", "SHOP.RAW.CUSTOMERS")}
    [out] = insert["outputs"]
    assert {f["name"] for f in out["facets"]["schema"]["fields"]} == {"DAY", "TOTAL", "GOLD"}
    fields = out["facets"]["columnLineage"]["fields"]

    def kinds(column: str) -> set[tuple[str, str, str]]:
        return {(f["name"].rsplit(".", 1)[-1] + "." + f["field"], t["type"], t["subtype"])
                for f in fields[column]["inputFields"] for t in f["transformations"]}

    assert ("ORDERS.DAY", "DIRECT", "IDENTITY") in kinds("DAY")
    assert ("ORDERS.AMOUNT", "DIRECT", "AGGREGATION") in kinds("TOTAL")
    assert {("CUSTOMERS.TIER", "INDIRECT", "CONDITIONAL"), ("ORDERS.CID", "INDIRECT", "JOIN"),
            ("CUSTOMERS.ID", "INDIRECT", "JOIN"), ("ORDERS.STATUS", "INDIRECT", "FILTER"),
            ("ORDERS.DAY", "INDIRECT", "GROUP_BY")} <= kinds("GOLD")
    wide = {(f["field"], f["transformations"][0]["subtype"]) for f in out["facets"]["columnLineage"]["dataset"]}
    assert ("STATUS", "FILTER") in wide and ("TIER", "CONDITIONAL") not in wide
    ranked = jobs["create_table_as"]["outputs"][0]["facets"]["columnLineage"]["fields"]["RN"]["inputFields"]
    assert {(f["field"], t["type"], t["subtype"]) for f in ranked for t in f["transformations"]} == {
        ("CID", "INDIRECT", "WINDOW"), ("AMOUNT", "INDIRECT", "WINDOW"), ("AMOUNT", "INDIRECT", "FILTER")}
    copy = jobs["copy"]
    assert [(d["namespace"], d["name"]) for d in copy["inputs"]] == [("s3://bucket", "orders")]


def test_export_gives_the_same_run_ids_each_time_and_keeps_to_since_and_namespace(tmp_path):
    db = tmp_path / "lineage.db"
    harvest(write_log(tmp_path / "h.csv", repeats=3), db)
    first, again = export(db), export(db)
    assert [e["run"]["runId"] for e in first] == [e["run"]["runId"] for e in again]
    assert len({e["run"]["runId"] for e in first}) == 3
    later = export(db, "--since", "2024-03-03")
    assert len(later) == 3 and {e["run"]["runId"] for e in later}.isdisjoint(e["run"]["runId"] for e in first)
    assert export(db, "--since", "2024-03-04") == []
    assert export(db, "--namespace", "snowflake://acme") == first
    for fmt in ("openlineage", "html"):  # a namespace the store does not hold: refused alike by every format
        done = cli("export", "--format", fmt, "--store", f"sqlite:///{db}", "--namespace", "postgres://elsewhere:5432",
                   check=False)
        assert (done.returncode, done.stdout) == (2, "") and "no datasets in namespace 'postgres://elsewhere:5432'" in done.stderr
    out = tmp_path / "events.jsonl"
    cli("export", "--format", "openlineage", "--store", f"sqlite:///{db}", "--output", str(out))
    assert [json.loads(line) for line in out.read_text().splitlines()] == first


def test_the_bundled_snowflake_history_exports_valid_events(tmp_path):
    db = tmp_path / "lineage.db"
    harvest(SNOWFLAKE_LOG, db)
    events = export(db)
    assert len(events) >= 12
    for event in events:
        validate(event)
    kinds = {t["subtype"] for e in events for o in e["outputs"] for f in o["facets"].get("columnLineage", {})
             .get("fields", {}).values() for i in f["inputFields"] for t in i["transformations"]}
    assert {"IDENTITY", "TRANSFORMATION", "AGGREGATION", "JOIN", "FILTER"} <= kinds
    # the spec's schema leaves type and subtype free strings; its docs name these, each under its type
    documented = {"DIRECT": {"IDENTITY", "TRANSFORMATION", "AGGREGATION"},
                  "INDIRECT": {"JOIN", "GROUP_BY", "FILTER", "SORT", "WINDOW", "CONDITIONAL"}}
    for e in events:
        for o in e["outputs"]:
            facet = o["facets"].get("columnLineage", {})
            fields = [i for f in facet.get("fields", {}).values() for i in f["inputFields"]] + facet.get("dataset", [])
            for step in (t for i in fields for t in i["transformations"]):
                assert step["subtype"] in documented[step["type"]], step


def test_emit_sends_every_operation_over_http_with_the_api_key_never_shown(tmp_path):
    db = tmp_path / "lineage.db"
    key = "olk-" + uuid.uuid4().hex
    with Receiver() as receiver:
        done = harvest(write_log(tmp_path / "h.csv", repeats=4), db, "--emit", receiver.url, "--batch-size", "3",
                       env={"OPENLINEAGE_API_KEY": key})
    assert {r for r in receiver.requests} == {("/api/v1/lineage", f"Bearer {key}")}
    assert len(receiver.events) == 12  # three operations in each of four batches
    assert len({e["run"]["runId"] for e in receiver.events}) == 12
    for event in receiver.events:
        validate(event)
        assert not any(literal in json.dumps(event) for literal in LITERALS)
    assert key not in done.stdout + done.stderr
    assert key.encode() not in db.read_bytes()
    stored = {e["job"]["name"] for e in export(db)}
    assert {e["job"]["name"] for e in receiver.events} == stored


def _cursor(db: Path) -> str | None:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT cursor FROM sources").fetchone()
    return row[0] if row else None


def test_emit_sends_each_operation_and_batch_once_across_a_kill_and_a_rerun(tmp_path):
    log = write_log(tmp_path / "h.csv", repeats=12)
    args = ("--emit", None, "--batch-size", "3")
    with Receiver() as clean:  # the same harvest, never cut
        harvest(log, tmp_path / "clean.db", args[0], clean.url, *args[2:])
    expected = sorted(e["run"]["runId"] for e in clean.events)
    assert len(expected) == len(set(expected)) == 36

    db = tmp_path / "cut.db"
    with Receiver(hang_after=10) as receiver:  # waited for long enough that the client never resends
        cmd = [sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(log), "--dialect",
               "snowflake", "--namespace", "snowflake://acme", "--store", f"sqlite:///{db}", "--workers", "1",
               "--emit", receiver.url + "?timeout=120", "--batch-size", "3"]
        run = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert receiver.hanging.wait(60), "the receiver never got an 11th event"
        # The target has stopped answering, and the harvest still commits every batch.
        deadline = time.monotonic() + 60
        while _cursor(db) != _cursor(tmp_path / "clean.db") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _cursor(db) == _cursor(tmp_path / "clean.db")
        assert run.poll() is None  # still waiting for the stuck event
        run.send_signal(signal.SIGKILL)
        run.wait()
        assert len(receiver.events) == 11
        receiver._release.set()
    with Receiver(port=receiver.port) as second:  # the same target, answering again
        harvest(log, db, "--emit", second.url + "?timeout=120", "--batch-size", "3")
    got = sorted(e["run"]["runId"] for e in [*receiver.events, *second.events])
    assert got == expected  # nothing twice, nothing lost
    assert len(second.events) == 25


@pytest.mark.parametrize("url", ["ftp://host/x", "kafka://broker:9092", "http://h:1?timeout=soon",
                                 *(["kafka://broker:9092/topic"] if importlib.util.find_spec("confluent_kafka") is None
                                   else [])])
def test_emit_refuses_a_target_it_cannot_send_to(tmp_path, url):
    done = cli("harvest", "--source", str(write_log(tmp_path / "h.csv")), "--dialect", "snowflake",
               "--store", f"sqlite:///{tmp_path}/l.db", "--emit", url, check=False)
    assert done.returncode == 2 and "--emit" in done.stderr and "Traceback" not in done.stderr


def test_emit_to_a_file_writes_the_events(tmp_path):
    out = tmp_path / "events.jsonl"
    harvest(write_log(tmp_path / "h.csv"), tmp_path / "l.db", "--emit", f"file://{out}")
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(events) == 3
    for event in events:
        validate(event)


@pytest.mark.parametrize("store_url", ["neo4j", "postgresql"], indirect=True)
def test_neo4j_and_postgresql_stores_export_and_emit_the_events_of_an_sqlite_store(tmp_path, store_url):
    from sqllineage_harvester.harvest import Options, harvest as run
    from sqllineage_harvester.openlineage.events import as_json
    from sqllineage_harvester.openlineage.export import export_events
    from sqllineage_harvester.sources import open_source
    from sqllineage_harvester.stores import open_store

    log = write_log(tmp_path / "h.csv", repeats=2)
    from sqllineage_harvester.openlineage.emit import Emitter

    exported, emitted = [], []
    for n, url in enumerate((f"sqlite:///{tmp_path}/l.db", store_url)):
        store = open_store(url)
        target = tmp_path / f"emitted{n}.jsonl"
        try:
            source = open_source(str(log), "snowflake")
            hook = Emitter(f"file://{target}", store, source.url, journal=tmp_path / f"journal{n}")
            run(source, store, Options(dialect="snowflake", namespace="snowflake://acme", batch_size=3), hook=hook)
            assert hook.finish() == []
            exported.append([json.loads(as_json(e)) for e in export_events(store)])
            emitted.append(sorted(json.loads(line)["run"]["runId"] for line in target.read_text().splitlines()))
        finally:
            store.close()
    sqlite, other = exported
    assert len(sqlite) == 3
    for event in other:
        validate(event)
    assert other == sqlite
    assert len(emitted[0]) == 6 and emitted[1] == emitted[0]  # three operations in each of two batches


def test_events_for_a_target_that_is_down_wait_for_the_next_run(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    log, db = write_log(tmp_path / "h.csv", repeats=2), tmp_path / "l.db"
    done = harvest(log, db, "--emit", f"http://127.0.0.1:{port}", "--batch-size", "3")
    assert "could not be reached; 6 event(s) kept, the next harvest sends them" in done.stderr
    with Receiver(port=port) as receiver:
        again = harvest(log, db, "--emit", receiver.url, "--batch-size", "3")
    assert "--emit" not in again.stderr
    assert len(receiver.events) == 6 and len({e["run"]["runId"] for e in receiver.events}) == 6


def test_emit_messages_mask_a_password_in_the_url_as_everything_else_does(tmp_path):
    """u:***@host, as the store's URL and every error print it (errors.hide_secrets): never the
    password, and not u@host either (the name the target's cursor is kept under)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    done = harvest(write_log(tmp_path / "h.csv"), tmp_path / "l.db", "--emit", f"http://ann:S3cretPw@127.0.0.1:{port}")
    assert "S3cretPw" not in done.stdout + done.stderr
    assert f"--emit http://ann:***@127.0.0.1:{port}: could not be reached" in done.stderr
    no_topic = cli("harvest", "--source", str(write_log(tmp_path / "k.csv")), "--dialect", "snowflake",
                   "--store", f"sqlite:///{tmp_path}/k.db", "--emit", "kafka://ann:S3cretPw@broker:9092", check=False)
    assert no_topic.returncode == 2 and "S3cretPw" not in no_topic.stderr
    assert "--emit kafka://ann:***@broker:9092: name the topic" in no_topic.stderr


# -- dataset naming: the spec's conventions (OpenLineage spec/Naming.md) for every database we read ----------
REDSHIFT_HOST = "examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com"
SPEC_NAMES = [
    # (the harvest's namespace, its name) -> (namespace, name) in an event
    (("postgres://db:5432", "app.public.orders"), ("postgres://db:5432", "app.public.orders")),
    (("mysql://db:3306", "shop.orders"), ("mysql://db:3306", "shop.orders")),
    (("mariadb://db:3306", "shop.orders"), ("mariadb://db:3306", "shop.orders")),  # no spec entry: ours
    ((f"redshift://{REDSHIFT_HOST}", "dev.public.orders"),
     ("redshift://examplecluster.us-west-2:5439", "dev.public.orders")),
    ((f"redshift://{REDSHIFT_HOST}:5440", "dev.public.orders"),
     ("redshift://examplecluster.us-west-2:5440", "dev.public.orders")),
    (("redshift://examplecluster.us-west-2:5439", "dev.public.orders"),
     ("redshift://examplecluster.us-west-2:5439", "dev.public.orders")),
    (("snowflake://acme-prod", "SHOP.RAW.ORDERS"), ("snowflake://acme-prod", "SHOP.RAW.ORDERS")),
    (("snowflake://ACME-Prod.snowflakecomputing.com", "SHOP.RAW.ORDERS"), ("snowflake://acme-prod", "SHOP.RAW.ORDERS")),
    (("bigquery://shop-prod", "shop-prod.raw.orders"), ("bigquery", "shop-prod.raw.orders")),
    (("bigquery://shop-prod", "raw.orders"), ("bigquery", "shop-prod.raw.orders")),
    (("bigquery", "other-proj.raw.orders"), ("bigquery", "other-proj.raw.orders")),
    (("databricks://dbc-1.cloud.databricks.com", "main.raw.orders"),  # no spec entry: ours
     ("databricks://dbc-1.cloud.databricks.com", "main.raw.orders")),
    (("trino://trino:8080", "hive.raw.orders"), ("trino://trino:8080", "hive.raw.orders")),
    (("hive://metastore:9083", "raw.orders"), ("hive://metastore:9083", "raw.orders")),
    (("impala://impalad:21050", "raw.orders"), ("impala://impalad:21050", "raw.orders")),  # no spec entry: ours
    (("snowflake://acme", "s3a://bucket/orders/"), ("s3://bucket", "orders")),
    (("redshift://x:5439", "gcs://bucket/a/b.parquet"), ("gs://bucket", "a/b.parquet")),
    (("databricks://w", "abfss://raw@lake.dfs.core.windows.net/orders/"),
     ("abfss://raw@lake.dfs.core.windows.net", "orders")),
    (("duckdb://default", "file:///data/in.csv"), ("file", "/data/in.csv")),
]


@pytest.mark.parametrize("harvested,spec", SPEC_NAMES, ids=[h[0].split(":")[0] + "-" + str(i)
                                                             for i, (h, _) in enumerate(SPEC_NAMES)])
def test_events_name_every_dataset_by_the_specs_naming_conventions(harvested, spec):
    from sqllineage_harvester.openlineage.events import Edge, Flow, as_json, run_event

    ns = harvested[0]
    target = (ns, "OUT.T" if ns.startswith("snowflake") else "out.t")
    flow = Flow("0123456789abcdef", "insert", ns, "w", None, "2024-04-01T00:00:00Z", "2024-04-01T00:00:00Z",
                (harvested,), (target,), (Edge(harvested, "c", target, "c", "IDENTITY"),))
    event = json.loads(as_json(run_event(flow)))
    validate(event)
    given = event["inputs"][0]
    assert (given["namespace"], given["name"]) == spec
    source = event["outputs"][0]["facets"]["columnLineage"]["fields"]["c"]["inputFields"][0]
    assert (source["namespace"], source["name"]) == spec
    assert event["job"]["namespace"] == event["outputs"][0]["namespace"]  # the database's, named as the spec does


def test_each_event_is_validated_against_the_definition_its_schema_url_names():
    """The 2-0-2 spec defines RunEvent, JobEvent and DatasetEvent (the client makes all three): an
    event is checked against the one its ``schemaURL`` names, and a broken one is refused."""
    from jsonschema import ValidationError
    from openlineage.client.event_v2 import DatasetEvent, Job, JobEvent, StaticDataset
    from openlineage.client.serde import Serde

    at = "2024-04-01T00:00:00+00:00"
    job = json.loads(Serde.to_json(JobEvent(eventTime=at, producer="https://example.com/p",
                                            job=Job(namespace="postgres://db:5432", name="j"))))
    dataset = json.loads(Serde.to_json(DatasetEvent(eventTime=at, producer="https://example.com/p",
                                                    dataset=StaticDataset(namespace="bigquery", name="p.d.t"))))
    assert job["schemaURL"].endswith("#/$defs/JobEvent") and dataset["schemaURL"].endswith("#/$defs/DatasetEvent")
    validate(job)
    validate(dataset)
    with pytest.raises(ValidationError):
        validate({**dataset, "dataset": {"namespace": "bigquery"}})  # a dataset needs its name
    with pytest.raises(ValidationError):
        validate({**job, "schemaURL": job["schemaURL"].replace("JobEvent", "RunEvent")})  # a run event needs its run
