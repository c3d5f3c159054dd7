"""Exported history files in real formats: what becomes a log entry, what is skipped and why."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from sqllineage_harvester.dialects import list_dialects, get_dialect, load_dialect
from sqllineage_harvester.errors import ConfigError
from sqllineage_harvester.sources import Source, open_source, parse_mapping

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
HEADER = ["QUERY_ID", "QUERY_TEXT", "DATABASE_NAME", "SCHEMA_NAME", "QUERY_TYPE", "USER_NAME", "ROLE_NAME",
          "WAREHOUSE_NAME", "START_TIME", "END_TIME", "EXECUTION_STATUS", "ROWS_PRODUCED", "SESSION_ID",
          "QUERY_PARAMETERIZED_HASH"]


def history_row(n: int, sql: str = "", status: str = "SUCCESS") -> list[str]:
    return [f"q{n}", sql or f"INSERT INTO mart.t SELECT a FROM raw.s WHERE id = {n}", "DB", "PUBLIC", "INSERT", "ANN",
            "R", "WH", f"2024-03-01 10:00:{n:02d}.000 -0800", f"2024-03-01 10:00:{n:02d}.500 -0800", status, "7",
            "S1", ""]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as out:  # type: ignore[operator]
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_bundled_dialects_load_and_validate() -> None:
    assert {"postgres", "snowflake"} <= set(list_dialects())
    snowflake = get_dialect("snowflake")
    assert snowflake.sqlglot == "snowflake" and snowflake.use_names_database
    assert snowflake.export.cursor == "end_time" and "FAIL" in snowflake.export.status.failure
    assert snowflake.history is not None and "QUERY_HISTORY" in snowflake.history.query
    postgres = get_dialect("postgres")
    assert postgres.export.columns["calls"] == "executions" and not postgres.use_names_database
    assert postgres.history is not None and postgres.history.toplevel_column == "toplevel"


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "x"\nsqlglot = "x"\n[export]\ncolumns.Q = "sql"\ncolumns.U = "usr"\n', "not one of"),
        ('name = "x"\nsqlglot = "x"\n[export]\ncolumns.U = "user"\n', "must map a column to 'sql'"),
        ('name = "x"\nsqlglot = "x"\nwhatever = 1\n[export]\ncolumns.Q = "sql"\n', "unknown key"),
        ('name = "x"\n[export]\ncolumns.Q = "sql"\n', "missing 'sqlglot'"),
        ('name = "x"\nsqlglot = [', "cannot read"),
        ('name = "x"\nsqlglot = "x"\n[export]\ncolumns.Q = "sql"\n[history]\nquery = "SELECT 1"\n'
         'cursor_column = "t"\ntoplevel_column = "top"\n', "cumulative history only"),
    ],
)
def test_a_wrong_dialect_file_is_a_configuration_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_dialect(path)


def test_an_unknown_dialect_or_reader_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown dialect"):
        get_dialect("oracle9")
    with pytest.raises(ConfigError, match="no reader"):
        open_source("kafka://broker/topic", "snowflake")
    with pytest.raises(ConfigError, match="no such file"):
        open_source(tmp_path / "missing.csv", "snowflake")
    with pytest.raises(ConfigError, match="field=COLUMN"):
        parse_mapping("sql")
    with pytest.raises(ConfigError, match="not one of"):
        parse_mapping("sqltext=Q")


def test_a_snowflake_export_becomes_log_entries(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [history_row(1), history_row(2, status="FAIL"), history_row(3, status="RUNNING")])
    source = open_source(path, "snowflake")
    assert isinstance(source, Source)
    (entry,) = list(source.read())
    assert entry.sql.startswith("INSERT INTO mart.t") and entry.dialect == "snowflake"
    assert (entry.query_id, entry.database, entry.schema, entry.user, entry.role, entry.system) == ("q1", "DB", "PUBLIC", "ANN", "R", "WH")
    assert (entry.start_time, entry.end_time) == ("2024-03-01T18:00:01.000000Z", "2024-03-01T18:00:01.500000Z")
    assert (entry.status, entry.rows, entry.executions, entry.session_id, entry.source_hash) == ("success", 7, 1, "S1", None)
    assert source.stats.failed == 1 and source.stats.skipped == {"unfinished": 1}
    assert source.stats.rows_read == 3 and source.stats.entries == 1


def test_gzip_and_json_lines_read_like_csv(tmp_path: Path) -> None:
    rows = [history_row(n) for n in range(1, 4)]
    plain = list(open_source(write_csv(tmp_path / "a.csv", rows), "snowflake").read())
    zipped = list(open_source(write_csv(tmp_path / "b.csv.gz", rows), "snowflake").read())
    lines = [json.dumps({k.lower(): (int(v) if k == "ROWS_PRODUCED" else v or None) for k, v in zip(HEADER, row)}) for row in rows]
    (tmp_path / "c.jsonl").write_text("\n".join(lines) + "\n")
    with gzip.open(tmp_path / "d.jsonl.gz", "wt") as out:
        out.write("\n".join(lines))
    as_json = list(open_source(tmp_path / "c.jsonl", "snowflake").read())
    as_json_gz = list(open_source(tmp_path / "d.jsonl.gz", "snowflake").read())

    def strip(entries):  # noqa: ANN001, ANN202 - the cursors name the file
        return [e.__class__(**{**e.__dict__, "cursor": None}) for e in entries]

    assert len(plain) == 3 and strip(plain) == strip(zipped) == strip(as_json) == strip(as_json_gz)


def test_a_folder_is_read_in_name_order_ignoring_other_files(tmp_path: Path) -> None:
    write_csv(tmp_path / "2024-03-02.csv", [history_row(3)])
    write_csv(tmp_path / "2024-03-01.csv.gz", [history_row(1), history_row(2)])
    (tmp_path / "README.txt").write_text("not a log")
    source = open_source(tmp_path, "snowflake")
    assert [e.query_id for e in source.read()] == ["q1", "q2", "q3"]
    assert source.stats.files == 2


def test_malformed_rows_are_counted_and_skipped(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [history_row(1), ["q2", "SELECT 1"], history_row(3), history_row(4, sql=" ")])
    with path.open("a", encoding="utf-8") as out:
        out.write('q5,"SELECT never closed, DB\n')
    source = open_source(path, "snowflake")
    assert [e.query_id for e in source.read()] == ["q1", "q3"]
    assert source.stats.skipped == {"field_count": 2, "empty_sql": 1}  # the unclosed quote ends the file short
    assert source.stats.examples["field_count"] == "h.csv:3"


def test_bad_json_lines_are_counted_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text('{"QUERY_TEXT": "SELECT 1", "QUERY_ID": 1}\n{not json\n[1, 2]\n\n{"QUERY_ID": 4}\n')
    source = open_source(path, "snowflake")
    assert [e.query_id for e in source.read()] == ["1"]
    assert source.stats.skipped == {"malformed_json": 1, "not_an_object": 1, "empty_sql": 1}


def test_rows_in_a_wrong_encoding_are_skipped_unless_the_encoding_is_given(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    write_csv(path, [history_row(1)])
    with path.open("ab") as out:
        out.write(",".join(history_row(2, sql="SELECT 'café' FROM t")).encode("latin-1") + b"\n")
        out.write(",".join(history_row(3)).encode("latin-1") + b"\n")
    source = open_source(path, "snowflake")
    assert [e.query_id for e in source.read()] == ["q1", "q3"]
    assert source.stats.skipped == {"encoding": 1}
    latin = open_source(path, "snowflake", encoding="latin-1")
    assert [e.sql for e in latin.read()][1] == "SELECT 'café' FROM t"


def test_a_file_without_the_sql_column_is_noted_and_others_still_read(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", [["q1", "x"]], header=["QUERY_ID", "SOMETHING"])
    write_csv(tmp_path / "b.csv", [history_row(2)])
    source = open_source(tmp_path, "snowflake")
    assert [e.query_id for e in source.read()] == ["q2"]
    assert len(source.stats.file_errors) == 1 and "QUERY_TEXT".lower() in source.stats.file_errors[0]


def test_missing_optional_columns_leave_fields_empty(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [["SELECT 1", "ann"]], header=["query_text", "user_name"])
    (entry,) = list(open_source(path, "snowflake").read())
    assert (entry.sql, entry.user, entry.status) == ("SELECT 1", "ann", None)
    assert entry.cursor == "o:h.csv|1"  # no times: the row's position
    # ... and the harvest's time, said so (as pg_stat_statements')
    assert entry.time_basis == "harvest" and entry.end_time == entry.start_time and entry.start_time


def test_a_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv.gz", [history_row(n) for n in range(1, 60)])
    path.write_bytes(path.read_bytes()[:-40])
    source = open_source(path, "snowflake")
    entries = list(source.read())
    assert 0 < len(entries) < 59 and len(source.stats.file_errors) == 1


def test_a_10_mb_statement_is_read_whole(tmp_path: Path) -> None:
    big = "INSERT INTO t VALUES " + ", ".join(f"({i}, 'x')" for i in range(1_100_000))
    assert len(big) > 10_000_000
    path = write_csv(tmp_path / "h.csv", [history_row(1, sql=big), history_row(2)])
    source = open_source(path, "snowflake")
    assert [len(e.sql) for e in source.read()] == [len(big), len(history_row(2)[1])]
    small = open_source(path, "snowflake", max_statement=1_000_000)
    assert [e.query_id for e in small.read()] == ["q2"] and small.stats.skipped == {"too_long": 1}


def test_a_user_mapping_reads_any_export(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "log.csv", [["SELECT 1", "bob", "3"]], header=["statement", "who", "n"])
    (entry,) = list(open_source(path, "postgres", "sql=statement, user=who, executions=n").read())
    assert (entry.sql, entry.user, entry.executions, entry.dialect) == ("SELECT 1", "bob", 3, "postgres")


def test_a_resumed_read_skips_exactly_what_was_committed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [history_row(n) for n in range(1, 11)])
    source = open_source(path, "snowflake")
    entries = list(source.read())
    resumed = open_source(path, "snowflake")
    assert [e.query_id for e in resumed.read(entries[3].cursor)] == [f"q{n}" for n in range(5, 11)]
    assert resumed.stats.before_cursor == 4
    assert list(open_source(path, "snowflake").read(entries[-1].cursor)) == []
    with pytest.raises(ConfigError, match="cursor"):
        list(open_source(path, "snowflake").read("o:h.csv|3"))


def test_row_cursors_resume_across_a_folder(tmp_path: Path) -> None:
    header = ["query", "calls"]
    write_csv(tmp_path / "a.csv", [["SELECT 1", "5"], ["SELECT 2", "1"]], header=header)
    write_csv(tmp_path / "b.csv", [["SELECT 3", "2"]], header=header)
    entries = list(open_source(tmp_path, "postgres").read())
    assert [e.cursor for e in entries] == ["o:a.csv|1", "o:a.csv|2", "o:b.csv|1"]
    assert [e.executions for e in entries] == [5, 1, 2]
    assert [e.sql for e in open_source(tmp_path, "postgres").read(entries[0].cursor)] == ["SELECT 2", "SELECT 3"]


def test_exported_rows_carry_execution_times(tmp_path: Path) -> None:
    entries = list(open_source(write_csv(tmp_path / "h.csv", [history_row(1)]), "snowflake").read())
    assert [e.time_basis for e in entries] == ["execution"] and entries[0].start_time


def test_the_fixture_logs_read_cleanly() -> None:
    snowflake = open_source(FIXTURES / "snowflake" / "query_history.csv", "snowflake")
    entries = list(snowflake.read())
    assert len(entries) > 2000 and snowflake.stats.failed > 10 and not snowflake.stats.skipped
    assert len({e.session_id for e in entries}) > 30 and all(e.end_time for e in entries)
    postgres = open_source(FIXTURES / "postgres" / "pg_stat_statements.csv", "postgres")
    pg = list(postgres.read())
    assert len(pg) >= 500 and sum(e.executions for e in pg) > len(pg) and all(e.source_hash for e in pg)


from datetime import timezone as _utc_zone  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TIMES = st.builds(
    lambda y, mo, d, h, mi, s, frac, sep, zone: f"{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{frac}{zone}",
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25), st.integers(0, 61),
    st.integers(0, 61), st.sampled_from(["", ".1", ".123", ",5", ".1234567891"]), st.sampled_from([" ", "T"]),
    st.one_of(st.sampled_from(["", "Z", " Z"]), st.builds(lambda sign, hh, mm, colon, space: f"{space}{sign}{hh:02}{colon}{mm:02}",
              st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 99), st.sampled_from(["", ":"]),
              st.sampled_from(["", " "]))))


@settings(max_examples=400, deadline=None)
@given(st.one_of(_TIMES, st.text(max_size=40)))
def test_a_time_that_cannot_be_read_is_none_never_an_error(text):
    """An impossible zone (+99:88), day or moment (0001-01-01 00:10 +01:00 has no UTC day) is a
    row with an unreadable time (counted as bad_timestamp), not a file that stops being read."""
    from sqllineage_harvester.sources.files import parse_time

    got = parse_time(text, (), _utc_zone.utc)
    assert got is None or (got.endswith("Z") and len(got) == 27)


def test_rows_without_times_carry_the_harvests_time(tmp_path: Path) -> None:
    """A pg_stat_statements export keeps no times: as the live view's entries, its rows carry the
    harvest's time and say so (README: ``time_basis: harvest``)."""
    entries = list(open_source(FIXTURES / "postgres" / "pg_stat_statements.csv", "postgres").read())
    assert {e.time_basis for e in entries} == {"harvest"}
    assert len({e.start_time for e in entries}) == 1 and all(e.start_time and e.end_time == e.start_time
                                                             and e.start_time.endswith("Z") for e in entries)
    header = ["query", "calls"]
    plain = list(open_source(write_csv(tmp_path / "a.csv", [["SELECT 1", "5"]], header=header), "postgres").read())
    assert [e.time_basis for e in plain] == ["harvest"] and plain[0].start_time


def test_a_harvest_of_an_export_without_times_says_its_times_are_the_harvests(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sqllineage_harvester.cli import main

    store = f"sqlite:///{tmp_path / 'pgq.db'}"
    runner = CliRunner()
    done = runner.invoke(main, ["harvest", "--source", str(FIXTURES / "postgres" / "pg_stat_statements.csv"),
                                "--dialect", "postgres", "--store", store])
    assert done.exit_code == 0, done.output
    out = runner.invoke(main, ["impact", "shop.raw.payments.amount", "--store", store, "--format", "json"])
    data = json.loads(out.output)
    assert data["operations"] and {o["time_basis"] for o in data["operations"]} == {"harvest"}
    assert all(o["first_seen"] and o["last_seen"] for o in data["operations"])
    assert all(n["last_seen"] for n in data["nodes"] if n["operations"])
    since = runner.invoke(main, ["impact", "shop.raw.payments.amount", "--store", store, "--since", "2020-01-01"])
    assert "nothing downstream" not in since.output and "(harvest time)" in since.output
