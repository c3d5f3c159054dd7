"""Lakehouse engines' own logs: Trino's QueryCompletedEvent lines, Hive's LineageLogger records
in the HiveServer2 log, Impala's lineage event log. Each is harvested into every store with
the engine's own lineage checked against our parse, and stands in where the parse fails."""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlglot
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from storedump import differences, dump  # noqa: E402
from test_harvest_state import harvest_in_runs  # noqa: E402

from sqllineage_harvester import queries  # noqa: E402
from sqllineage_harvester.cli import main  # noqa: E402
from sqllineage_harvester.cli.harvest import _namespace  # noqa: E402
from sqllineage_harvester.declared import compare, declared  # noqa: E402
from sqllineage_harvester.dialects import get_dialect, load_dialect  # noqa: E402
from sqllineage_harvester.errors import ConfigError  # noqa: E402
from sqllineage_harvester.extract import extract  # noqa: E402
from sqllineage_harvester.harvest import Options, harvest  # noqa: E402
from sqllineage_harvester.render_graph import stats_dict, stats_table  # noqa: E402
from sqllineage_harvester.sources import HARVESTER_TAG, open_source  # noqa: E402
from sqllineage_harvester.sources.history import SourceError  # noqa: E402
from sqllineage_harvester.sources.records import _NoState, event_rows  # noqa: E402
from sqllineage_harvester.stores import open_store  # noqa: E402

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
FILES = {"trino": LOGS / "trino" / "query_completed_events.jsonl",
         "hive": LOGS / "hive" / "hiveserver2.log",
         "impala": LOGS / "impala" / "impala_lineage_log_1.0-1714543200000"}
# A column of each log and sources the engine's own lineage gives it (through the fixture's
# pipeline, so a query answers them only if the harvest kept the lineage).
LINEAGE = {
    "trino": ("iceberg.mart.daily_revenue_eur.revenue_eur",
              {"hive.raw.fx_rates.rate", "iceberg.mart.daily_revenue.revenue", "hive.raw.orders.amount"}),
    "hive": ("marketing.sessions.session_url", {"marketing.clicks.url", "marketing.clicks.user_id"}),  # did not parse
    "impala": ("sales.big_orders.amount", {"sales.orders.amount"}),  # did not parse: Kudu's CTAS
}


def records(dialect: str, path: Path | None = None) -> list[dict]:
    """The events of a fixture log that carry lineage and ran, read here with plain json (not
    with the harvester's reader): what the cross-check must have looked at."""
    out = []
    for line in (path or FILES[dialect]).read_text().splitlines():
        start = line.find("{")
        if start < 0 or (start > 0 and "LineageLogger" not in line[:start]):
            continue
        try:
            event = json.loads(line[start:])
        except ValueError:
            continue
        event = event.get("eventPayload", event)
        if dialect == "trino":
            meta = event.get("metadata") or {}
            io = event.get("ioMetadata") or {}
            if ("endTime" in event and meta.get("query") and meta.get("queryState") == "FINISHED"
                    and (io.get("inputs") or io.get("output"))):
                out.append(event)
        elif event.get("queryText") and event.get("vertices"):
            out.append(event)
    return out


def run(dialect: str, store_url: str, path: Path | None = None, batch_size: int = 100):
    """The report of a harvest, the store's stats, and the upstream of the dialect's LINEAGE column (None
    for a log that does not reach it)."""
    store = open_store(store_url)
    try:
        report = harvest(open_source(path or FILES[dialect], dialect), store,
                         Options(dialect=get_dialect(dialect).sqlglot, namespace=f"{dialect}://test",
                                 batch_size=batch_size))
        try:
            upstream = queries.upstream(store, LINEAGE[dialect][0])
        except queries.UnknownNameError:
            upstream = None
        return report, queries.stats(store), upstream
    finally:
        store.close()


@pytest.mark.parametrize("dialect", ["trino", "hive", "impala"])
def test_each_engine_log_is_harvested_into_every_store_with_its_own_lineage_checked(store_url, dialect):
    report, stats, upstream = run(dialect, store_url)
    checked = report.crosscheck
    assert checked.get("tables_agree", 0) + checked.get("tables_differ", 0) + checked.get("used_for_unparsed", 0) \
        == len(records(dialect))
    assert checked["tables_agree"] > 0 and checked["columns_agree"] > 0
    assert "the log's own lineage: tables agree on" in report.summary()
    assert stats_dict(stats)["crosscheck"] == checked  # stats says what the harvest said, from the store
    assert "THE LOG'S OWN LINEAGE AGAINST OUR PARSE" in stats_table(stats)
    column, sources = LINEAGE[dialect]
    assert upstream is not None and sources <= {n.node.name for n in upstream.nodes}, column


@pytest.mark.parametrize("dialect", ["hive", "impala"])
def test_predicate_edges_are_indirect_lineage_compared_and_kept(tmp_path, dialect):
    db = tmp_path / "l.db"
    report, _, _ = run(dialect, f"sqlite:///{db}")
    assert report.crosscheck["indirect_agree"] > 0 and "indirect sources on" in report.summary()
    assert report.crosscheck["used_for_unparsed"] == 3  # one statement a day our parser cannot read
    # the statement that did not parse keeps the engine's PREDICATE sources as FILTER edges (Impala's
    # Kudu CTAS filters on orders.amount); Hive's parsed joins keep ours (JOIN)
    con = sqlite3.connect(db)
    kinds = {(d, c, t) for d, c, t in con.execute(
        "SELECT d.name, c.name, e.type FROM column_edges e JOIN columns c ON c.id = e.src "
        "JOIN datasets d ON d.id = c.dataset_id WHERE e.type NOT IN ('IDENTITY', 'TRANSFORMATION', 'AGGREGATION')")}
    failures = con.execute("SELECT COUNT(*) FROM parse_failures").fetchone()[0]
    con.close()
    assert failures == 1  # the failure is still on record
    if dialect == "impala":
        assert ("sales.orders", "amount", "FILTER") in kinds
    else:
        assert ("sales.stores", "store_id", "JOIN") in kinds


def test_a_name_the_engine_qualifies_and_the_sql_does_not_is_a_difference(tmp_path):
    # Impala's lineage log names no current database: INSERT INTO daily_totals_copy stays
    # unqualified in our parse, and the engine's sales.daily_totals_copy differs from it
    report, _, _ = run("impala", f"sqlite:///{tmp_path / 'l.db'}")
    assert report.crosscheck["tables_differ"] == 3 and report.crosscheck["columns_differ"] == 3


def test_lines_a_log_cannot_use_are_counted_and_noted_once_each_and_the_rest_harvested(tmp_path):
    report, _, _ = run("trino", f"sqlite:///{tmp_path / 'l.db'}")
    created = sum(1 for line in FILES["trino"].read_text().splitlines() if '"QUEUED"' in line)
    assert report.skipped["other_event"] == created + 3  # QueryCreatedEvents, and a SplitCompletedEvent a day
    assert report.skipped["no_query_text"] == 1 and report.skipped["malformed_json"] == 1
    assert report.failed_executions == 3  # a FAILED query a day: skipped as failed runs are everywhere
    assert report.entries == len(records("trino")) and report.complete
    assert report.entries + report.failed_executions + sum(report.skipped.values()) == report.rows_read
    notes = "\n".join(report.notes)
    assert "1 row skipped as no_query_text: an event without query text (first at query_completed_events.jsonl:9)" \
        in notes
    assert "1 row skipped as malformed_json (first at query_completed_events.jsonl:13)" in notes
    assert f"{sum(report.skipped.values())} rows in all could not be used" in notes


def test_the_cli_says_how_many_lines_it_could_not_use_and_exits_as_for_any_read_file(tmp_path):
    result = CliRunner().invoke(main, ["harvest", "--source", str(FILES["hive"]), "--dialect", "hive",
                                       "--store", f"sqlite:///{tmp_path / 'l.db'}"])
    assert result.exit_code == 0, result.output
    assert "skipped as not_a_record: a line that is no record of this log (first at hiveserver2.log:1)" \
        in result.output
    assert "1 row skipped as malformed_json (first at hiveserver2.log:6)" in result.output
    # a file none of whose lines is a record of the log was not read: exit 3, as for any export
    other = tmp_path / "hiveserver2.log.1"
    other.write_text("2024-05-01T06:00:00,101  INFO [main] server.HiveServer2: Starting HiveServer2\n" * 3)
    result = CliRunner().invoke(main, ["harvest", "--source", str(other), "--dialect", "hive",
                                       "--store", f"sqlite:///{tmp_path / 'l2.db'}"])
    assert result.exit_code == 3 and "hiveserver2.log.1: not read" in result.output


def test_both_trino_listener_shapes_read_alike(tmp_path):
    events = records("trino")
    bare, wrapped = tmp_path / "http.jsonl", tmp_path / "kafka.jsonl"
    bare.write_text("".join(json.dumps(e) + "\n" for e in events))
    wrapped.write_text("".join(json.dumps({"eventPayload": e, "eventMetadata": {"k": "v"}}) + "\n" for e in events))

    def entries(path: Path) -> list[tuple]:
        return [(e.sql, e.query_id, e.user, e.database, e.schema, e.start_time, e.end_time, e.declared_outputs)
                for e in open_source(path, "trino").read()]

    read = entries(bare)
    assert len(read) == len(events) and read == entries(wrapped)
    assert read[0][3:7] == ("hive", "raw", "2024-05-01T06:00:00.000000Z", "2024-05-01T06:00:03.250000Z")


def test_hive_records_are_read_with_and_without_the_log4j_prefix(tmp_path):
    bare = LOGS / "hive" / "lineage.log"
    report, _, _ = run("hive", f"sqlite:///{tmp_path / 'l.db'}", bare)
    assert report.entries == len(records("hive", bare)) == 6 and not report.skipped
    prefixed = {json.loads(line[line.index("{"):])["queryText"] for line in FILES["hive"].read_text().splitlines()
                if "hooks.LineageLogger" in line and line.rstrip().endswith("}")}
    assert {e.sql for e in open_source(FILES["hive"], "hive").read()} == prefixed


def test_an_event_with_extra_members_and_without_optional_ones_is_read(tmp_path):
    event = {"metadata": {"queryId": "q1", "query": "INSERT INTO c.s.t SELECT a FROM c.s.u", "queryState": "FINISHED",
                          "newerField": {"x": 1}},
             "context": {"user": "ann"}, "endTime": "2024-05-01T10:00:00Z", "somethingNew": [1, 2]}
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event) + "\n")
    [entry] = open_source(path, "trino").read()
    assert (entry.sql, entry.user, entry.database, entry.declared_outputs) == (event["metadata"]["query"], "ann",
                                                                               None, None)
    assert entry.end_time == "2024-05-01T10:00:00.000000Z"


@pytest.mark.parametrize("dialect", ["trino", "hive", "impala"])
def test_a_run_cut_anywhere_resumes_with_nothing_lost_or_doubled(tmp_path, dialect):
    log = tmp_path / FILES[dialect].name
    log.write_bytes(FILES[dialect].read_bytes())
    whole, cut = tmp_path / "whole.db", tmp_path / "cut.db"
    harvest_in_runs(log, whole, 100, dialect=dialect)
    runs = harvest_in_runs(log, cut, 2, 1, dialect=dialect)
    assert runs > 3
    assert dump(cut) == dump(whole), "\n".join(differences(dump(cut), dump(whole)))


def test_lines_appended_later_are_read_by_the_next_run_alone(tmp_path):
    log = tmp_path / "events.jsonl"
    lines = FILES["trino"].read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:20]))
    store_url = f"sqlite:///{tmp_path / 'l.db'}"
    first, _, _ = run("trino", store_url, log)
    log.write_text("".join(lines))
    second, _, _ = run("trino", store_url, log)
    assert first.rows_read == 20 and second.rows_read == len(lines) - 20
    again, _, _ = run("trino", store_url, log)
    assert again.rows_read == 0


def test_literals_in_the_logs_never_reach_the_store(tmp_path):
    for dialect in FILES:
        db = tmp_path / f"{dialect}.db"
        run(dialect, f"sqlite:///{db}")
        text = repr(dump(db))
        for literal in ("paid", "'EUR'", "sessionize", "DATE '2024", "ds = '2024", "> 1000", "> 500", "does not exist"):
            assert literal not in text, (dialect, literal)


def test_trino_lineage_shapes_compare_edge_by_edge():
    sql = "INSERT INTO iceberg.mart.t SELECT o.id, o.amount * f.rate AS eur FROM hive.raw.o o JOIN hive.raw.f f ON f.d = o.d"
    ours = extract(sql, "trino")
    inputs = json.dumps([{"catalogName": "hive", "schema": "raw", "table": "o", "columns": ["id", "amount", "d"]},
                         {"catalogName": "hive", "schema": "raw", "table": "f", "columns": ["rate", "d"]}])

    def output(eur: list[tuple[str, str]]) -> str:
        detail = [{"catalog": "hive", "schema": "raw", "table": t, "columnName": c} for t, c in eur]
        return json.dumps({"catalogName": "iceberg", "schema": "mart", "table": "t", "columns": [
            {"columnName": "id", "sourceColumns": [{"catalog": "hive", "schema": "raw", "table": "o", "columnName": "id"}]},
            {"columnName": "eur", "sourceColumns": detail}]})

    right = compare(declared(inputs, output([("o", "amount"), ("f", "rate")])), ours)
    wrong = compare(declared(inputs, output([("o", "amount")])), ours)
    assert right is not None and right.tables and right.columns and right.indirect is None  # Trino names no predicates
    assert wrong is not None and wrong.tables and wrong.columns is False


def test_a_graph_compares_its_predicates_with_our_join_and_filter_sources():
    vertices = json.dumps([{"id": 0, "vertexType": "COLUMN", "vertexId": "m.t.a"},
                           {"id": 1, "vertexType": "COLUMN", "vertexId": "r.s.a"},
                           {"id": 2, "vertexType": "COLUMN", "vertexId": "r.s.ok"},
                           {"id": 3, "vertexType": "TABLE", "vertexId": "r.s"}])
    edges = [{"sources": [1], "targets": [0], "edgeType": "PROJECTION"},
             {"sources": [2], "targets": [0], "expression": "(s.ok = 'y')", "edgeType": "PREDICATE"}]
    ours = extract("INSERT INTO m.t SELECT a FROM r.s WHERE ok = 'y'", "hive")
    verdict = compare(declared(vertices, json.dumps(edges)), ours)
    assert verdict is not None and verdict.tables and verdict.columns and verdict.indirect
    without = compare(declared(vertices, json.dumps(edges[:1])), ours)
    assert without is not None and without.indirect is False
    select = declared(json.dumps([{"id": 0, "vertexType": "COLUMN", "vertexId": "a"},
                                  {"id": 1, "vertexType": "COLUMN", "vertexId": "r.s.a"}]),
                      json.dumps(edges[:1]))
    assert select is not None and select.inputs == {"r.s"} and not select.outputs and not select.edges


def test_a_wrong_records_section_is_a_configuration_error(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('name = "x"\nsqlglot = "hive"\n[export]\ncolumns.q = "sql"\n[export.records]\nprefix = "(("\n')
    with pytest.raises(ConfigError, match="not a regular expression"):
        load_dialect(path)
    path.write_text('name = "x"\nsqlglot = "hive"\n[export]\ncolumns.q = "sql"\n[export.records]\nwrap = ["x"]\n')
    with pytest.raises(ConfigError, match="export.records.wrap"):
        load_dialect(path)


def test_dialects_lists_the_engines_with_the_members_they_read():
    result = CliRunner().invoke(main, ["dialects", "--format", "json"])
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert {"metadata.query", "ioMetadata.output", "context.catalog"} <= set(rows["trino"]["export_columns"])
    assert {"queryText", "vertices", "edges", "database"} <= set(rows["hive"]["export_columns"])
    assert {"queryText", "queryId", "endTime"} <= set(rows["impala"]["export_columns"])
    assert rows["trino"]["history"] and not rows["hive"]["history"]


# -- Trino live: system.runtime.queries (no server here: the query as sent, and rows as the client returns them)
RUNTIME_COLUMNS = ["query_id", "state", "user", "source", "query", "created", "started", "end", "error_type",
                   "error_code"]


def recorded(n: int, state: str, query: str, error: str | None = None) -> list:
    """A row of system.runtime.queries as the trino client returns it: times as aware datetimes."""
    created = datetime(2024, 5, 1, 6, n, 0, 125000, tzinfo=timezone.utc)
    return [f"20240501_06{n:02d}00_{n:05d}_x7k2p", state, "etl", "airflow", query, created,
            created + timedelta(milliseconds=40), created + timedelta(seconds=2), error and "USER_ERROR", error]


def test_trino_live_history_query_is_tagged_valid_and_bound_to_the_cursor():
    source = open_source("trino://harvester:s3cret@coordinator:8080/system", "trino")
    sql = source.query()
    assert sql.startswith(HARVESTER_TAG) and ":cursor" in sql
    tree = sqlglot.parse_one(sql, read="trino")
    assert [t.name for t in tree.find_all(sqlglot.exp.Table)] == ["queries"]
    assert {c.alias_or_name for c in tree.expressions} == set(RUNTIME_COLUMNS)
    assert "s3cret" not in source.url and _namespace(source.url, "trino") == "trino://coordinator:8080"
    with pytest.raises(SourceError) as e:  # no trino client here (or no server): one line, no password
        list(source.read())
    assert "s3cret" not in str(e.value) and str(e.value).startswith("trino://harvester:***@coordinator:8080")


def test_trino_live_rows_are_mapped_as_the_log_entries_of_the_event_log():
    source = open_source("trino://harvester@coordinator:8080/system", "trino")
    plan = source._plan(RUNTIME_COLUMNS)
    rows = [recorded(1, "FINISHED", "INSERT INTO iceberg.mart.t SELECT id FROM hive.raw.o WHERE s = 'paid'"),
            recorded(2, "FAILED", "INSERT INTO iceberg.mart.t SELECT id FROM hive.raw.nope", "TABLE_NOT_FOUND"),
            recorded(3, "FINISHED", f"{HARVESTER_TAG}\nSELECT query_id FROM system.runtime.queries"),
            recorded(4, "FINISHED", "SELECT 1")]
    entries = [source._entry(plan, RUNTIME_COLUMNS, row, None) for row in rows]
    first = entries[0]
    assert first is not None and (first.sql, first.user, first.query_id) == (rows[0][4], "etl", rows[0][0])
    assert (first.start_time, first.end_time) == ("2024-05-01T06:01:00.125000Z", "2024-05-01T06:01:02.125000Z")
    assert json.loads(first.cursor) == ["2024-05-01 06:01:02.125000+00:00", rows[0][0]]
    assert entries[1] is None and entries[2] is None and entries[3] is not None
    assert source.stats.failed == 1 and source.stats.skipped["harvester_query"] == 1
    assert source._entry(plan, RUNTIME_COLUMNS, rows[0], json.loads(first.cursor)) is None  # committed before
    assert source.stats.before_cursor == 1


def test_an_event_still_being_written_is_read_whole_by_the_next_run(tmp_path):
    log = tmp_path / "events.jsonl"
    lines = FILES["trino"].read_text().splitlines(keepends=True)[:8]
    last = lines[7]  # a QueryCompletedEvent, its end not yet written
    log.write_text("".join(lines[:7]) + last[:100])
    store_url = f"sqlite:///{tmp_path / 'l.db'}"
    first, _, _ = run("trino", store_url, log)
    assert first.rows_read == 7 and not first.skipped.get("malformed_json")
    assert any("events.jsonl:8: the last line has no line end yet" in n for n in first.notes)
    log.write_text("".join(lines[:7]) + last)
    second, _, _ = run("trino", store_url, log)
    assert second.rows_read == 1 and second.entries == 1 and not second.skipped


def test_a_hive_line_is_a_record_only_where_the_json_follows_the_loggers_prefix():
    spec = get_dialect("hive").export.records
    lines = ['2024-05-01T06:00:00,300  INFO [Pool: Thread-4] hooks.LineageLogger: {"queryText": "SELECT 1", '
             '"edges": [], "vertices": []}\n',
             "2024-05-01T06:00:00,301  WARN [Pool: Thread-4] hooks.LineageLogger: Failed to log lineage graph\n",
             '2024-05-01T06:00:00,302  INFO [Pool: Thread-4] ql.Driver: {"queryText": "SELECT 2"}\n',
             '{"queryText": "SELECT 3", "edges": [], "vertices": []}\n',
             '2024-05-01T06:00:00,303  INFO [Pool: Thread-4] hooks.LineageLogger: {"queryText": "SELECT 4", \n']
    rows = list(event_rows(iter(lines), {"querytext": "sql"}, _NoState(), spec))
    assert [(n, values, reason) for n, values, reason in rows[1:]] == [
        (1, ["SELECT 1"], None), (2, [], "not_a_record"), (3, [], "not_a_record"), (4, ["SELECT 3"], None),
        (5, [], "malformed_json")]


def test_trinos_own_lineage_stands_in_for_a_query_we_cannot_parse(tmp_path):
    event = records("trino")[0]  # INSERT INTO iceberg.mart.daily_revenue .. FROM hive.raw.orders
    event["metadata"]["query"] = "INSERT INTO iceberg.mart.daily_revenue SELECT order_date, sum(amount) FROM ((("
    log = tmp_path / "events.jsonl"
    log.write_text(json.dumps({"eventPayload": event, "eventMetadata": {}}) + "\n")
    db = tmp_path / "l.db"
    report, _, _ = run("trino", f"sqlite:///{db}", log)
    assert report.failed == 1 and report.crosscheck == {"used_for_unparsed": 1}
    store = open_store(f"sqlite:///{db}")
    try:
        down = {n.node.name for n in queries.downstream(store, "hive.raw.orders.amount").nodes}
    finally:
        store.close()
    assert down == {"hive.raw.orders.amount", "iceberg.mart.daily_revenue.revenue"}
    con = sqlite3.connect(db)
    kinds = dict(con.execute("SELECT c.name, e.type FROM column_edges e JOIN columns c ON c.id = e.dst"))
    con.close()
    assert kinds == {"revenue": "AGGREGATION", "order_date": "IDENTITY"}  # as its transformationType says


def test_records_without_their_optional_members_are_harvested_with_their_lineage(tmp_path):
    # Hive before 2.x writes no database or duration (and no user or timestamp in test mode); an old
    # Impala no endTime. Numbers as Jackson writes instants when told to (epoch seconds) are times.
    vertices = [{"id": 0, "vertexType": "COLUMN", "vertexId": "mart.t.id"},
                {"id": 1, "vertexType": "COLUMN", "vertexId": "raw.s.id"}]
    edges = [{"sources": [1], "targets": [0], "edgeType": "PROJECTION"}]
    hive = tmp_path / "lineage.log"
    hive.write_text(json.dumps({"version": "1.0", "engine": "mr", "hash": "x", "edges": edges, "vertices": vertices,
                                "queryText": "INSERT OVERWRITE TABLE mart.t SELECT id FROM raw.s"}) + "\n")
    impala = tmp_path / "impala_lineage_log_1.0-1"
    impala.write_text(json.dumps({"queryText": "INSERT INTO mart.t SELECT id FROM raw.s", "queryId": "a:b",
                                  "user": "u", "timestamp": 1714543200, "edges": edges, "vertices": vertices}) + "\n")
    trino = tmp_path / "events.jsonl"
    event = records("trino")[0]
    event["createTime"], event["endTime"] = 1714543200.125, 1714543203.5
    trino.write_text(json.dumps(event) + "\n")
    for dialect, path in (("hive", hive), ("impala", impala), ("trino", trino)):
        report, _, _ = run(dialect, f"sqlite:///{tmp_path / dialect}.db", path)
        assert report.entries == 1 and report.crosscheck["tables_agree"] == 1, dialect
        assert report.crosscheck["columns_agree"] == 1, dialect
    [entry] = open_source(trino, "trino").read()
    assert (entry.start_time, entry.end_time) == ("2024-05-01T06:00:00.125000Z", "2024-05-01T06:00:03.500000Z")
