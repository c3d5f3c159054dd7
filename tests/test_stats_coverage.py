"""``stats`` tells the truth about coverage: an INSERT without column lineage is not covered,
a failed INSERT is a failed insert, and the failing statements are shown (redacted)."""

import json
import subprocess
import sys
from pathlib import Path

from snowflakelog import write_history

from sqllineage_harvester import queries
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

STATEMENTS = [
    "INSERT INTO ANALYTICS.MARTS.SCORES (ID, SCORE) SELECT ID, SCORE FROM ANALYTICS.RAW.LEADS L "
    "JOIN ANALYTICS.RAW.RATINGS R ON L.ID = R.LEAD_ID",  # parses; no column has a source
    "INSERT INTO ANALYTICS.MARTS.FCT_REVENUE SELECT FROM WHERE amount > 'secret-figure'",  # does not parse
]


def stats_of(tmp_path: Path) -> tuple:
    db = tmp_path / "lineage.db"
    log = write_history(tmp_path / "history.csv", STATEMENTS)
    harvest(open_source(log, "snowflake"), open_store(f"sqlite:///{db}"), Options(dialect="snowflake", namespace="snowflake://test"))
    out = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "stats", "--store", f"sqlite:///{db}"],
                         capture_output=True, text=True, timeout=120)
    return queries.stats(open_store(f"sqlite:///{db}", read_only=True)), out.stdout


def test_an_insert_without_column_lineage_is_not_full_coverage(tmp_path):
    stats, table = stats_of(tmp_path)
    insert = next(c for c in stats.coverage if c.kind == "insert")
    assert insert.full == 0 and insert.full_share == 0.0
    line = next(l for l in table.splitlines() if l.startswith("insert "))
    assert line.split()[-2:] == ["0", "0.0%"]  # FULL and COVERAGE: no column lineage, no coverage


def test_a_failed_insert_into_a_mart_counts_as_a_failed_insert(tmp_path):
    stats, _ = stats_of(tmp_path)
    kinds = {c.kind: (c.rows, c.extracted) for c in stats.coverage}
    assert kinds == {"insert": (2, 1)}  # not an "other"


def test_stats_shows_the_failing_statements_redacted(tmp_path):
    stats, table = stats_of(tmp_path)
    assert [f.sql for f in stats.failing] == ["INSERT INTO ANALYTICS.MARTS.FCT_REVENUE SELECT FROM WHERE amount > '?'"]
    assert "INSERT INTO ANALYTICS.MARTS.FCT_REVENUE SELECT FROM WHERE amount > '?'" in table
    assert "secret-figure" not in table
