"""A file source resumes at the byte offset after the last row it read: rows up to the cursor are
not parsed again while the file still has them (same header, same bytes before the offset); an
appended file yields only its new rows, a rewritten or truncated one is read from its start."""

from __future__ import annotations

import gzip
import json
from itertools import islice
from pathlib import Path

import pytest

from sqllineage_harvester.sources import files, open_source

from storedump import differences, dump
from test_exactly_once import harvest_folder

HEADER = "QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,USER_NAME,START_TIME,END_TIME,EXECUTION_STATUS"


def row(n: int, day: int = 1, sql: str = "", status: str = "SUCCESS") -> str:
    time = f"2024-03-{day:02} {n // 3600:02}:{n // 60 % 60:02}:{n % 60:02}.000 +0000"
    return f'q{day}-{n},"{sql or f"INSERT INTO m.t{n % 7} SELECT id FROM raw.s{n}"}",DB,PUBLIC,ETL,{time},{time},{status}'


def rows(start: int, stop: int, day: int = 1, end: str = "\n") -> str:
    return "".join(row(n, day) + end for n in range(start, stop))


def tricky(count: int, end: str = "\r\n") -> str:
    """CRLF rows, some with quoted line breaks (LF and CRLF), quotes, failed runs and blank lines."""
    out = []
    for n in range(count):
        if n % 5 == 1:
            out.append(row(n, sql=f"INSERT INTO m.x{n}\r\nSELECT a,\nb FROM raw.y{n} WHERE c = \"\"q\"\""))
        elif n % 7 == 3:
            out.append(row(n, status="FAIL"))
        elif n % 11 == 4:
            out.append(row(n) + end + "q-bad,too,few,fields")
        else:
            out.append(row(n))
        if n % 13 == 6:
            out.append("")
    return end.join([HEADER, *out]) + end


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many data rows the file source turns into fields (its costly step), as a one-item list."""
    count = [0]
    original = files._Plan.__init__

    def init(self, *args, **kwargs):  # noqa: ANN001, ANN202
        original(self, *args, **kwargs)
        made = self.fields  # the general method or the one compiled for the file's columns

        def fields(row):  # noqa: ANN001, ANN202
            count[0] += 1
            return made(row)

        self.fields = fields

    monkeypatch.setattr(files._Plan, "__init__", init)
    return count


def read_all(path: Path, cursor: str | None = None, dialect: str = "snowflake") -> tuple[list, str | None, object]:
    source = open_source(path, dialect)
    entries = list(source.read(cursor))
    return entries, source.position(), source.stats


def test_a_no_op_rerun_parses_nothing_and_keeps_its_cursor(tmp_path: Path, parsed: list[int]) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n" + rows(0, 300))
    first, cursor, _ = read_all(path)
    assert len(first) == 300 and parsed[0] == 300
    parsed[0] = 0
    again, cursor_again, stats = read_all(path, cursor)
    assert again == [] and parsed[0] == 0 and cursor_again == cursor
    assert stats.before_cursor == 300 and stats.rows_read == 0  # rows skipped by the seek count as before it


def test_rows_read_before_are_not_parsed_again_even_if_garbled(tmp_path: Path, parsed: list[int]) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n" + rows(0, 300))
    _, cursor, _ = read_all(path)
    data = path.read_bytes()
    head = len(HEADER) + 1
    garbled = data[:head] + bytes([0xFF]) * 20000 + data[head + 20000:]  # rows 0..~50, lines and all
    path.write_bytes(garbled + rows(300, 302).encode())
    parsed[0] = 0
    entries, _, stats = read_all(path, cursor)
    assert [e.query_id for e in entries] == ["q1-300", "q1-301"] and parsed[0] == 2
    assert not stats.skipped and not stats.file_errors and "bad_timestamp" not in stats.warnings


@pytest.mark.parametrize("dialect", ["snowflake", "postgres"])  # time cursors, row cursors
def test_an_appended_file_yields_only_its_new_rows(tmp_path: Path, parsed: list[int], dialect: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # rows with no time (postgres's export) carry the harvest's time: one clock for the reads compared
    monkeypatch.setattr("sqllineage_harvester.sources.files.harvest_time", lambda: "2026-01-01T00:00:00.000000Z")
    path = tmp_path / "h.csv"
    if dialect == "postgres":
        path.write_text("query,calls\n" + "".join(f'"SELECT {n}",{n}\n' for n in range(40)))
    else:
        path.write_text(HEADER + "\n" + rows(0, 40))
    whole_before, cursor, _ = read_all(path, dialect=dialect)
    with path.open("a") as out:
        out.write("".join(f'"SELECT {n}",{n}\n' for n in range(40, 45)) if dialect == "postgres" else rows(40, 45))
    whole, _, _ = read_all(path, dialect=dialect)
    parsed[0] = 0
    new, _, stats = read_all(path, cursor, dialect)
    assert new == whole[40:] and len(new) == 5 and parsed[0] == 5
    assert stats.before_cursor == 40 and stats.rows_read == 5


@pytest.mark.parametrize("how", ["truncated", "rewritten", "header"])
def test_a_rewritten_or_truncated_file_is_read_from_its_start(tmp_path: Path, parsed: list[int], how: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n" + rows(0, 100, day=1))
    _, cursor, _ = read_all(path)
    if how == "truncated":  # a new export of a later day, shorter than the file read
        path.write_text(HEADER + "\n" + rows(0, 30, day=2))
        expected, read = 30, 30
    elif how == "rewritten":  # as long, its bytes before the offset changed
        path.write_text(HEADER + "\n" + rows(0, 100, day=2))
        expected, read = 100, 100
    else:  # a column renamed: the bytes before the offset are the same, the header is not
        path.write_text(HEADER.replace("SCHEMA_NAME", "SCHEMA_NAMX") + "\n" + rows(0, 100, day=1) + rows(100, 103))
        expected, read = 3, 103
    parsed[0] = 0
    entries, _, stats = read_all(path, cursor)
    assert len(entries) == expected and parsed[0] == read
    assert stats.before_cursor + stats.rows_read == parsed[0]


def test_a_cursor_without_offsets_is_read_as_before_and_gains_them(tmp_path: Path, parsed: list[int]) -> None:
    path = tmp_path / "h.csv"
    path.write_text(HEADER + "\n" + rows(0, 50))
    source = open_source(path, "snowflake")
    list(islice(source.read(), 20))
    cursor = source.position()
    data = json.loads(cursor[len("files:"):])
    old = "files:" + json.dumps({"files": data["files"], "mark": data["mark"]}, sort_keys=True, separators=(",", ":"))
    assert "at" in data and "at" not in old
    whole, _, _ = read_all(path)
    parsed[0] = 0
    entries, upgraded, stats = read_all(path, old)
    assert entries == whole[20:] and parsed[0] == 50 and stats.before_cursor == 20
    parsed[0] = 0
    assert read_all(path, upgraded)[0] == [] and parsed[0] == 0


@pytest.mark.parametrize("size", [1, 2, 7])
def test_reading_in_batches_from_offsets_gives_every_row_once(tmp_path: Path, parsed: list[int], size: int) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(tricky(60).encode())
    whole, final, whole_stats = read_all(path)
    assert any("\n" in e.sql for e in whole) and whole_stats.skipped and whole_stats.failed
    parsed[0] = 0
    got, cursor = [], None
    while True:
        source = open_source(path, "snowflake")
        reading = source.read(cursor)
        chunk = list(islice(reading, size))
        if not chunk:
            list(reading)
        got += chunk
        cursor = source.position()
        if not chunk:
            break
    assert got == whole and cursor == final
    assert parsed[0] == whole_stats.rows_read - dict(whole_stats.skipped).get("field_count", 0)  # none twice


def test_a_gzip_file_resumes_in_its_decompressed_bytes(tmp_path: Path, parsed: list[int]) -> None:
    path = tmp_path / "h.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "\n" + rows(0, 40)).encode()))
    _, cursor, _ = read_all(path)
    parsed[0] = 0
    assert read_all(path, cursor)[0] == [] and parsed[0] == 0
    with path.open("ab") as out:  # a second gzip member: appended rows
        out.write(gzip.compress(rows(40, 43).encode()))
    assert [e.query_id for e in read_all(path, cursor)[0]] == ["q1-40", "q1-41", "q1-42"] and parsed[0] == 3


def test_jsonl_resumes_at_its_offset(tmp_path: Path, parsed: list[int]) -> None:
    def line(n: int) -> str:
        return json.dumps({"job_id": f"j{n}", "query": f"INSERT INTO m.a SELECT {n} FROM raw.b", "project_id": "p",
                           "state": "DONE", "end_time": f"2024-04-01 02:{n // 60:02}:{n % 60:02}.5 UTC"}) + "\r\n"
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(line(n) for n in range(30)) + "not json\r\n\r\n", newline="")
    _, cursor, stats = read_all(path, dialect="bigquery")
    assert stats.skipped == {"malformed_json": 1}
    with path.open("a", newline="") as out:
        out.write(line(30) + "{bad\r\n")
    parsed[0] = 0
    entries, _, stats = read_all(path, cursor, "bigquery")
    assert [e.query_id for e in entries] == ["j30"] and parsed[0] == 1
    assert stats.skipped == {"malformed_json": 1} and stats.examples["malformed_json"] == "jobs.jsonl:34"


def harvest(folder: Path, db: Path, batch_size: int, batches: int | None = None):  # noqa: ANN201
    return harvest_folder(folder, db, batch_size, batches)


@pytest.mark.parametrize("size", [1, 2, 7])
def test_harvests_cut_anywhere_and_appended_to_build_the_same_store(tmp_path: Path, parsed: list[int],
                                                                     size: int) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    a, b = folder / "a.csv", folder / "b.csv"
    a.write_bytes(tricky(30).encode())
    b.write_text(HEADER + "\n" + rows(100, 110, day=2))
    whole = tmp_path / "whole.db"
    harvest(folder, whole, 20_000)
    cut = tmp_path / "cut.db"
    a.write_bytes(tricky(12).encode())  # the first harvest sees less of a: it is appended to later
    runs = 0
    while True:
        runs += 1
        report = harvest(folder, cut, size, batches=1)
        if runs == 3:
            a.write_bytes(tricky(30).encode())
        if report.batches == 0 and runs > 3:
            break
    parsed[0] = 0
    assert harvest(folder, cut, size).entries == 0 and parsed[0] == 0
    assert dump(cut) == dump(whole), "\n".join(differences(dump(cut), dump(whole)))


def test_times_laid_out_alike_read_as_the_pattern_reads_them() -> None:
    """parse_time's shortcut for a text laid out as one read before gives what the pattern gives."""
    from datetime import timezone

    texts = {
        "2024-01-15 10:23:45.123 -0800": "2024-01-15T18:23:45.123000Z",
        "2024-01-15 10:23:59.999 -0800": "2024-01-15T18:23:59.999000Z",  # same layout: the shortcut
        "2024-01-15 10:23:07,5 -0800": "2024-01-15T18:23:07.500000Z",
        "2024-01-15 10:23:45.123456789 -0800": "2024-01-15T18:23:45.123456Z",
        "2024-01-15 10:23:45.123 -0800 ": "2024-01-15T18:23:45.123000Z",
        "2024-01-15 10:23:45.12x -0800": None,
        "2024-01-15 10:23:4\u0663.123 -0800": "2024-01-15T18:23:4\u0663.123000Z",  # \d is any decimal digit
        "2024-01-15 10:23:45.123 -08:00": "2024-01-15T18:23:45.123000Z",
        "2024-01-15 10:24:45.123 -0800": "2024-01-15T18:24:45.123000Z",
        "2024-01-15T10:23:45.123Z": "2024-01-15T10:23:45.123000Z",
        "2024-01-15T10:23:46.123Z": "2024-01-15T10:23:46.123000Z",
    }
    reader = files.TimeReader((), timezone.utc)  # a file's own reader: the same answers
    for _ in range(2):
        for text, expected in texts.items():
            assert files.parse_time(text, (), timezone.utc) == expected, text
            assert reader(text) == expected, text


def test_a_files_time_reader_reads_every_layout_as_parse_time_does() -> None:
    """Texts of several layouts mixed (fraction lengths, separators, zones, damage), read by one
    TimeReader after another layout was kept, give what parse_time's pattern gives."""
    import random
    from datetime import timedelta, timezone

    rng = random.Random(5)
    zones = [timezone.utc, timezone(timedelta(hours=-5))]
    tails = [" -0800", "Z", "+01:00", "", " ", " +0530 ", "x", "-08"]
    texts = []
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([0, 1, 3, 6, 9, 10])))
        seconds = rng.choice(["07", "59", "4\u0663", "6x", "60"])
        separator = rng.choice([".", ",", ".", ":"]) if digits else ""
        texts.append(f"2024-0{rng.choice('13')}-1{rng.choice('05')}{rng.choice(' T')}1{rng.choice('09')}:2{rng.choice('39')}:"
                     f"{seconds}{separator}{digits}{rng.choice(tails)}")
    for tz in zones:
        reader = files.TimeReader(("%Y-%m-%d %H:%M:%S.%f %z",), tz)
        for text in texts:
            files._LAID_OUT.clear()  # parse_time's own shortcut out of the way: the pattern's answer
            assert reader(text) == files.parse_time(text, ("%Y-%m-%d %H:%M:%S.%f %z",), tz), text


def test_a_gzip_file_cut_before_its_offset_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "h.csv.gz"
    data = gzip.compress((HEADER + "\n" + "".join(
        row(n, sql=f"INSERT INTO m.t SELECT {n} FROM raw.s{n * 7919 % 1000}") + "\n" for n in range(3000))).encode())
    path.write_bytes(data)
    _, cursor, _ = read_all(path)
    path.write_bytes(data[:len(data) // 2])
    entries, _, stats = read_all(path, cursor)
    assert entries == [] and stats.rows_read == 0 and 1000 < stats.before_cursor < 3000
    assert len(stats.file_errors) == 1 and f"after {stats.before_cursor} rows" in stats.file_errors[0]


@pytest.mark.parametrize("first", ["file", "folder"])
def test_a_file_harvested_on_its_own_and_in_its_folder_counts_once(tmp_path: Path, first: str) -> None:
    """A file harvested as its own source and then within its folder (or the other way round)
    is read on from where the first harvest stopped: its rows are never counted twice."""
    folder = tmp_path / "exports"
    folder.mkdir()
    a, b = folder / "a.csv", folder / "b.csv"
    a.write_text(HEADER + "\n" + rows(0, 40, day=2))
    b.write_text(HEADER + "\n" + rows(100, 110, day=1))  # older than a's rows: never taken for late ones
    whole = tmp_path / "whole.db"
    harvest_folder(folder, whole, 20_000)
    both = tmp_path / "both.db"
    if first == "file":
        assert harvest_folder(a, both, 7).entries == 40
        again = harvest_folder(folder, both, 7)
        assert again.entries == 10 and again.rows_already_harvested == 40
    else:
        assert harvest_folder(folder, both, 7).entries == 50
        again = harvest_folder(a, both, 7)
        assert again.entries == 0 and again.rows_already_harvested == 40
    assert any("a.csv" in n and "harvested before" in n for n in again.notes), again.notes
    assert _lineage(dump(both)) == _lineage(dump(whole)), differences(_lineage(dump(both)), _lineage(dump(whole)))
    a.write_text(HEADER + "\n" + rows(0, 45, day=2))  # appended to: the new rows are read once, by either source
    assert harvest_folder(folder if first == "file" else a, both, 7).entries == 5
    assert harvest_folder(folder if first == "folder" else a, both, 7).entries == 0


def _lineage(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """A store's dump less what differs by source: its cursors, and each source's row counter."""
    out = {t: rows for t, rows in tables.items() if t not in ("sources", "source_rows")}
    assert out["operations"] and out["counters"]
    return out
