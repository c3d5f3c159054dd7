"""The log's own lineage (Snowflake ACCESS_HISTORY, BigQuery JOBS' referenced / destination
tables): read from the exports, compared with our parse, and used where a statement does
not parse."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

from sqllineage_harvester import queries
from sqllineage_harvester.declared import compare, declared
from sqllineage_harvester.extract import extract
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.render_graph import stats_dict, stats_table
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
HEADER = ["QUERY_ID", "QUERY_TEXT", "DATABASE_NAME", "SCHEMA_NAME", "USER_NAME", "WAREHOUSE_NAME", "START_TIME",
          "END_TIME", "EXECUTION_STATUS", "DIRECT_OBJECTS_ACCESSED", "OBJECTS_MODIFIED"]


def table(name: str, columns: dict[str, list[tuple[str, str]]] | None = None, domain: str = "Table") -> dict:
    out: dict = {"objectName": name, "objectDomain": domain}
    if columns:
        out["columns"] = [{"columnName": c, "directSources": [{"objectName": t, "objectDomain": "Table",
                                                               "columnName": sc} for t, sc in src]}
                          for c, src in columns.items()]
    return out


def snowflake_log(path: Path, rows: list[tuple[str, list[dict], list[dict]]]) -> Path:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i, (sql, read, written) in enumerate(rows):
            out.writerow([f"q{i}", sql, "DB", "PUBLIC", "ETL", "WH", f"2024-05-01 10:00:{i:02d}.000 +0000",
                          f"2024-05-01 10:00:{i:02d}.500 +0000", "SUCCESS", json.dumps(read), json.dumps(written)])
    return path


def run(path: Path, dialect: str, db: Path):
    store = open_store(f"sqlite:///{db}")
    try:
        return harvest(open_source(path, dialect), store, Options(dialect=dialect, namespace=f"{dialect}://t"))
    finally:
        store.close()


def test_both_shapes_are_read_and_hidden_tables_left_out():
    bq = declared(json.dumps([{"project_id": "p", "dataset_id": "raw", "table_id": "orders"},
                              {"project_id": "p", "dataset_id": "_SESSIONab", "table_id": "tmp_x"}]),
                  json.dumps({"project_id": "p", "dataset_id": "marts", "table_id": "fct"}))
    assert bq is not None and bq.inputs == {"p.raw.orders"} and bq.outputs == {"p.marts.fct"}
    assert bq.hidden == {"tmp_x"} and not bq.edges
    stage = declared(json.dumps([table("DB.RAW.LANDING", domain="Stage")]), json.dumps([table("DB.RAW.T")]))
    assert stage is not None and stage.inputs == set() and stage.outputs == {"db.raw.t"}
    assert declared("", None) is None and declared("[]", "[]") is None
    assert declared("DB.A.X, DB.A.Y", None).inputs == {"db.a.x", "db.a.y"}  # plain text: a list of names


def test_a_parse_agrees_or_differs_with_the_log():
    sql = "INSERT INTO mart.t (id, total) SELECT o.id, o.amount + o.tax FROM raw.orders o JOIN raw.c c ON c.id = o.cid"
    ours = extract(sql, "snowflake", default_database="DB")
    sources = {"ID": [("DB.RAW.ORDERS", "ID")], "TOTAL": [("DB.RAW.ORDERS", "AMOUNT"), ("DB.RAW.ORDERS", "TAX")]}
    right = declared(json.dumps([table("DB.RAW.ORDERS"), table("DB.RAW.C")]), json.dumps([table("DB.MART.T", sources)]))
    verdict = compare(right, ours)
    assert verdict is not None and verdict.tables and verdict.columns
    missing_join = declared(json.dumps([table("DB.RAW.ORDERS")]), json.dumps([table("DB.MART.T", sources)]))
    assert not compare(missing_join, ours).tables
    other_source = declared(json.dumps([table("DB.RAW.ORDERS"), table("DB.RAW.C")]),
                            json.dumps([table("DB.MART.T", {**sources, "ID": [("DB.RAW.C", "ID")]})]))
    verdict = compare(other_source, ours)
    assert verdict.tables and verdict.columns is False
    assert compare(right, extract("INSERT INTO (", "snowflake")) is None  # no parse to compare


def test_the_fixture_exports_agree_with_our_parse(tmp_path):
    """ACCESS_HISTORY in the April Snowflake export (tables and column sources), and BigQuery's
    referenced / destination tables: every row that carries them agrees with what we parse."""
    snow = run(LOGS / "snowflake" / "query_history_2024_04.csv", "snowflake", tmp_path / "s.db")
    assert snow.crosscheck["tables_agree"] > 100 and snow.crosscheck["columns_agree"] > 20
    assert "tables_differ" not in snow.crosscheck and "columns_differ" not in snow.crosscheck
    assert "the log's own lineage: tables agree on" in snow.summary()
    bq = run(LOGS / "bigquery" / "jobs.jsonl", "bigquery", tmp_path / "b.db")
    assert bq.crosscheck["tables_agree"] > 100 and "tables_differ" not in bq.crosscheck
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        stats = queries.stats(store)
        assert stats_dict(stats)["crosscheck"] == snow.crosscheck
        assert "THE LOG'S OWN LINEAGE AGAINST OUR PARSE" in stats_table(stats)
    finally:
        store.close()


def test_a_disagreement_is_counted(tmp_path):
    log = snowflake_log(tmp_path / "h.csv", [
        ("INSERT INTO MART.T (ID) SELECT ID FROM RAW.A", [table("DB.RAW.A")],
         [table("DB.MART.T", {"ID": [("DB.RAW.A", "ID")]})]),
        ("INSERT INTO MART.T (ID) SELECT ID FROM RAW.A", [table("DB.RAW.B")],  # the log saw another table
         [table("DB.MART.T", {"ID": [("DB.RAW.B", "ID")]})]),
    ])
    report = run(log, "snowflake", tmp_path / "l.db")
    assert report.crosscheck == {"tables_agree": 1, "columns_agree": 1, "tables_differ": 1, "columns_differ": 1}


def test_the_log_lineage_stands_in_for_a_statement_that_does_not_parse(tmp_path):
    broken = "INSERT INTO MART.SCORES (ID, SCORE) SELECT ID, SCORE_MODEL!PREDICT(A, B) FROM RAW.FEATURES WHERE ((("
    log = snowflake_log(tmp_path / "h.csv", [
        (broken, [table("DB.RAW.FEATURES")],
         [table("DB.MART.SCORES", {"ID": [("DB.RAW.FEATURES", "ID")],
                                   "SCORE": [("DB.RAW.FEATURES", "A"), ("DB.RAW.FEATURES", "B")]})]),
    ])
    db = tmp_path / "l.db"
    report = run(log, "snowflake", db)
    assert report.failed == 1 and report.crosscheck == {"used_for_unparsed": 1}
    store = open_store(f"sqlite:///{db}")
    try:
        graph = queries.downstream(store, "DB.RAW.FEATURES.A")
        assert [(n.node.name, n.depth) for n in graph.nodes] == [("DB.RAW.FEATURES.A", 0), ("DB.MART.SCORES.SCORE", 1)]
        assert [n.node.name for n in queries.upstream(store, "DB.MART.SCORES").nodes] == [
            "DB.MART.SCORES", "DB.RAW.FEATURES"]
        assert dict(store.stats().counts)["parse_failures"] == 1  # the failure is still on record
    finally:
        store.close()
    con = sqlite3.connect(db)
    assert con.execute("SELECT type FROM operations").fetchall() == [("other",)]
