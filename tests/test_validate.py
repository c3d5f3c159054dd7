"""``validate`` on the fixture logs, over every store: the failing mart write, the unresolved
columns, the wildcard left, and exit codes a scheduler can act on."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from snowflakelog import write_history

from sqllineage_harvester.cli import load_catalog
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store
from sqllineage_harvester.validate import failed, thresholds, validate

ROOT = Path(__file__).resolve().parent.parent
SNOWFLAKE_LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
UNRESOLVED = [  # a join whose columns no catalog places, and a * no catalog expands
    "INSERT INTO ANALYTICS.MARTS.SCORES (ID, SCORE) SELECT ID, SCORE FROM ANALYTICS.RAW.LEADS L "
    "JOIN ANALYTICS.RAW.RATINGS R ON L.ID = R.LEAD_ID",
    "INSERT INTO ANALYTICS.MARTS.CUSTOMER_EXPORT SELECT * FROM ANALYTICS.RAW.CRM_DUMP",
]


def harvest_fixtures(url: str, tmp_path: Path) -> dict[str, int]:
    """Harvests the two logs; the log entries each gave, by source."""
    options = Options(dialect="snowflake", namespace="snowflake://test", batch_size=500)
    entries = {}
    for log in (SNOWFLAKE_LOG, write_history(tmp_path / "extra.csv", UNRESOLVED)):
        store = open_store(url)
        try:
            entries[f"file://{log}"] = harvest(open_source(log, "snowflake"), store, options).entries
        finally:
            store.close()
    return entries


def test_validate_finds_the_failing_mart_write_and_the_unresolved_columns(store_url, tmp_path):
    entries = harvest_fixtures(store_url, tmp_path)
    store = open_store(store_url, read_only=True)
    try:
        v = validate(store)
    finally:
        store.close()
    assert [(w.table, w.kind, w.executions) for w in v.failed_writes] == [("analytics.marts.fct_orders", "insert", 2)]
    assert {"ANALYTICS.MARTS.SCORES.ID", "ANALYTICS.MARTS.SCORES.SCORE"} <= set(v.unsourced)
    assert v.wildcard_edges == 2  # CUSTOMER_EXPORT.* <- CRM_DUMP.*, one edge seen from both ends
    insert = next(k for k in v.kinds if k.kind == "insert")
    assert (insert.full, insert.warned, insert.failed) == (60, 2, 2)  # the failed mart write is an insert
    assert not any(k.kind == "other" and k.failed for k in v.kinds)
    assert dict(v.statements) == {"full": 12, "warned": 2, "failed": 2}  # the DELETE moves no values: full
    assert v.written_columns - v.sourced_columns == len(v.unsourced) == 3
    assert [s.name for s in v.sources] == sorted(f"file://{p}" for p in (SNOWFLAKE_LOG, tmp_path / "extra.csv"))
    assert all(s.lag_seconds is not None and s.lag_seconds < 600 for s in v.sources)
    assert {s.name: s.rows for s in v.sources} == entries  # the log rows each source gave, in batches of 500
    scores = dict(v.scores)
    assert 98 < scores["coverage"] < 99 and 92 < scores["columns"] < 93
    assert failed(v, thresholds("coverage=99")) == ["coverage 98.5 % is under 99 %"]
    assert failed(v, thresholds("coverage=95,columns=90")) == []


def run_validate(db: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "validate", "--store",
                           f"sqlite:///{db}", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def harvested(tmp_path):
    db = tmp_path / "lineage.db"
    harvest_fixtures(f"sqlite:///{db}", tmp_path)
    return db


def test_validate_exits_1_under_a_threshold_and_0_above(harvested):
    under = run_validate(harvested, "--fail-under", "coverage=99,columns=90")
    above = run_validate(harvested, "--fail-under", "coverage=95,columns=90")
    assert under.returncode == 1 and "coverage 98.5 % is under 99 %" in under.stderr
    assert above.returncode == 0 and "OK: every threshold holds" in above.stdout
    assert "analytics.marts.fct_orders" in above.stdout and "ANALYTICS.MARTS.SCORES.ID" in above.stdout


def test_validate_json_names_the_failed_write_and_lists_failing_sql_redacted(harvested):
    out = run_validate(harvested, "--format", "json", "--failures", "--fail-under", "columns=95")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["ok"] is False and data["failed_thresholds"] == ["columns 92.7 % is under 95 %"]
    assert data["failed_writes"][0]["table"] == "analytics.marts.fct_orders"
    failing = [f["sql"] for f in data["failures"]]
    assert any(sql.startswith("INSERT INTO ANALYTICS.MARTS.FCT_ORDERS") for sql in failing)
    assert all("'" not in sql or "?" in sql for sql in failing)  # literals are never shown
    assert data["columns"]["wildcard_edges"] == 2 and data["scores"]["columns"] == 92.68


def test_an_unknown_threshold_is_a_usage_error(harvested):
    out = run_validate(harvested, "--fail-under", "speed=3")
    assert out.returncode == 2 and "unknown measure 'speed'" in out.stderr


@pytest.mark.parametrize("given", ["99", "coverage=150", "coverage=-1", "coverage=x"])
def test_a_threshold_not_written_as_name_and_percent_is_a_usage_error_that_shows_the_form(harvested, given):
    out = run_validate(harvested, "--fail-under", given)
    assert out.returncode == 2, out.stderr
    assert "coverage=95" in out.stderr or "between 0 and 100" in out.stderr


def test_agreement_with_the_databases_own_lineage_is_a_measure(tmp_path):
    from test_declared import run, snowflake_log, table

    log = snowflake_log(tmp_path / "h.csv", [
        ("INSERT INTO MART.T (ID) SELECT ID FROM RAW.A", [table("DB.RAW.A")],
         [table("DB.MART.T", {"ID": [("DB.RAW.A", "ID")]})]),
        ("INSERT INTO MART.T (ID) SELECT ID FROM RAW.A", [table("DB.RAW.B")],  # the log saw another table
         [table("DB.MART.T", {"ID": [("DB.RAW.B", "ID")]})]),
    ])
    db = tmp_path / "l.db"
    run(log, "snowflake", db)
    out = run_validate(db, "--format", "json", "--fail-under", "agreement=60")
    data = json.loads(out.stdout)
    assert data["agreement"] == {"tables_agree": 1, "columns_agree": 1, "tables_differ": 1, "columns_differ": 1}
    assert out.returncode == 1 and data["failed_thresholds"] == ["agreement 50.0 % is under 60 %"]


def test_graph_checks_find_a_cycle_but_not_a_self_update(tmp_path):
    log = write_history(tmp_path / "cycle.csv", [
        "INSERT INTO ANALYTICS.MARTS.X (ID) SELECT ID FROM ANALYTICS.MARTS.Y",
        "INSERT INTO ANALYTICS.MARTS.Y (ID) SELECT ID FROM ANALYTICS.MARTS.X",
        "UPDATE ANALYTICS.MARTS.Z SET TOTAL = TOTAL + 1",
        "INSERT INTO ANALYTICS.MARTS.W (ID) SELECT ID FROM ANALYTICS.RAW.TYPO_TABLE",
        "INSERT INTO ANALYTICS.MARTS.V (ID) SELECT ID FROM ANALYTICS.RAW.ORDERS",  # raw.orders is in the catalog
    ])
    db = tmp_path / "l.db"
    store = open_store(f"sqlite:///{db}")
    harvest(open_source(log, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://t"))
    catalog = load_catalog(str(ROOT / "fixtures" / "catalogs" / "warehouse.json"), None)
    v = validate(store, catalog=catalog)
    assert v.cycles == (("ANALYTICS.MARTS.X", "ANALYTICS.MARTS.Y"),)
    assert v.dangling_reads == ("ANALYTICS.RAW.TYPO_TABLE",)  # read, never written, not in the catalog
    assert "ANALYTICS.MARTS.W" in v.not_in_catalog


def test_a_statement_the_databases_lineage_stood_in_for_still_counts_as_failed(tmp_path):
    from test_declared import run, snowflake_log, table

    broken = "INSERT INTO MART.SCORES (ID) SELECT ID, SCORE_MODEL!PREDICT(A, B) FROM RAW.FEATURES WHERE ((("
    log = snowflake_log(tmp_path / "h.csv", [
        (broken, [table("DB.RAW.FEATURES")], [table("DB.MART.SCORES", {"ID": [("DB.RAW.FEATURES", "ID")]})]),
    ])
    db = tmp_path / "l.db"
    assert run(log, "snowflake", db).crosscheck == {"used_for_unparsed": 1}
    v = validate(open_store(f"sqlite:///{db}", read_only=True))
    assert dict(v.statements) == {"full": 0, "warned": 0, "failed": 1}
    assert [(k.kind, k.full, k.failed) for k in v.kinds] == [("insert", 0, 1)]
    assert [w.table for w in v.failed_writes] == ["mart.scores"]
