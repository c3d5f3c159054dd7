"""The catalog a harvest parses with: kept in the store, refreshed each run, and changed by
the tables the log creates and drops, so ``SELECT *`` expands to real columns."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from sqllineage_harvester import queries
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["QUERY_ID", "QUERY_TEXT", "DATABASE_NAME", "SCHEMA_NAME", "USER_NAME", "START_TIME", "END_TIME",
          "EXECUTION_STATUS"]


def log(path: Path, statements: list[str], day: int = 1) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i, sql in enumerate(statements):
            out.writerow([f"q{day}-{i}", sql, "DB", "PUBLIC", "ETL", f"2024-05-{day:02d} 10:00:{i:02d}.000 +0000",
                          f"2024-05-{day:02d} 10:00:{i:02d}.500 +0000", "SUCCESS"])
    return path


def sources_of(store, column: str) -> list[str]:
    return sorted(n.node.name for n in queries.upstream(store, column, depth=1).nodes if n.depth == 1)


def test_tables_the_log_creates_expand_star_in_later_batches_and_runs(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    first = log(tmp_path / "day1.csv", [
        "CREATE TABLE RAW.EVENTS (ID INT, KIND TEXT, SEEN_AT TIMESTAMP)",
        "CREATE TABLE MART.KINDS AS SELECT ID, upper(KIND) AS KIND FROM RAW.EVENTS",
        "INSERT INTO MART.EVENTS_COPY SELECT * FROM RAW.EVENTS",
        "CREATE TABLE RAW.GONE (A INT)",
        "DROP TABLE RAW.GONE",
        "INSERT INTO MART.GONE_COPY SELECT * FROM RAW.GONE",
    ])
    options = Options(dialect="snowflake", namespace="snowflake://t", batch_size=1)
    store = open_store(url)
    harvest(open_source(first, "snowflake"), store, options)
    assert sources_of(store, "DB.MART.EVENTS_COPY.SEEN_AT") == ["DB.RAW.EVENTS.SEEN_AT"]
    assert sources_of(store, "DB.MART.GONE_COPY.*") == ["DB.RAW.GONE.*"]  # dropped: a wildcard again
    store.close()
    second = log(tmp_path / "day2.csv", ["INSERT INTO MART.KINDS_COPY SELECT * FROM MART.KINDS"], day=2)
    store = open_store(url)  # a new run, a new source: the catalog the store keeps
    harvest(open_source(second, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://t"))
    assert sources_of(store, "DB.MART.KINDS_COPY.KIND") == ["DB.MART.KINDS.KIND"]
    store.close()


def test_a_catalog_that_cannot_be_read_is_a_note_and_the_kept_copy_serves(tmp_path):
    db, env = tmp_path / "l.db", {**os.environ, "PYTHONPATH": str(ROOT)}
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"DB.RAW.ORDERS": {"ID": "INT", "AMOUNT": "NUMBER"}}))
    history = log(tmp_path / "h.csv", ["INSERT INTO MART.O SELECT * FROM RAW.ORDERS"])

    def run(catalog_arg: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(history),
                               "--dialect", "snowflake", "--store", f"sqlite:///{db}", "--catalog", catalog_arg],
                              capture_output=True, text=True, env=env, timeout=120)

    assert run(str(catalog)).returncode == 0
    history.write_text(history.read_text().replace("q1-0", "q1-0b").replace("MART.O", "MART.P")
                       .replace("10:00:00.500", "10:00:09.500"))
    done = run("postgresql://ann:s3cret@127.0.0.1:1/nowhere")  # nothing listens on port 1
    assert done.returncode == 0, done.stderr
    assert "the catalog was not read" in done.stderr and "s3cret" not in done.stderr
    store = open_store(f"sqlite:///{db}")
    try:
        assert sources_of(store, "DB.MART.P.AMOUNT") == ["DB.RAW.ORDERS.AMOUNT"]
    finally:
        store.close()
