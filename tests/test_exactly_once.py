"""Exactly once is a property of the store: however many harvests of one source run at once,
into one store, with whatever batch sizes, every log row is counted once (compare-and-set of the
source's cursor in each batch's transaction)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import Batch, CursorMovedError, open_store

from storedump import differences, dump

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
RACER = textwrap.dedent('''
    import sys
    from sqllineage_harvester.harvest import Options, harvest
    from sqllineage_harvester.sources import open_source
    from sqllineage_harvester.stores import open_store
    log, store, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    report = harvest(open_source(log, "snowflake"), open_store(store),
                     Options(dialect="snowflake", namespace="snowflake://test", batch_size=size))
    print(report.batches, len(report.notes))
''')


def test_a_batch_whose_cursor_moved_is_refused_whole(store):
    store.write_batch(Batch(source="log", cursor="5", check=True, previous=None))
    with pytest.raises(CursorMovedError):
        store.write_batch(Batch(source="log", cursor="7", counters={"rows:insert": 3}, check=True, previous=None))
    assert store.cursor("log") == "5" and dict(store.stats().counters) == {}
    store.write_batch(Batch(source="log", cursor="9", counters={"rows:insert": 3}, check=True, previous="5"))
    assert store.cursor("log") == "9" and dict(store.stats().counters) == {"rows:insert": 3}


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_harvests_racing_on_one_source_count_every_row_once(tmp_path, request, kind):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path}/shared.db"
    else:
        url = str(request.getfixturevalue("pg_cluster").create_database("race_once"))
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    # a relative and an absolute spelling of the same file: one source
    spellings = [str(LOG), os.path.relpath(LOG, tmp_path), str(LOG)]
    racers = [subprocess.Popen([sys.executable, str(script), path, url, str(size)], cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
              for path, size in zip(spellings, (300, 700, 1100))]
    outputs = [r.communicate(timeout=300)[0] for r in racers]
    assert all(r.returncode == 0 for r in racers), outputs
    clean = tmp_path / "clean.db"
    harvest(open_source(LOG, "snowflake"), open_store(f"sqlite:///{clean}"),
            Options(dialect="snowflake", namespace="snowflake://test"))
    counted = open_store(url).stats()
    expected = open_store(f"sqlite:///{clean}").stats()
    assert dict(counted.counters) == dict(expected.counters)  # rows per kind: none doubled, none lost
    assert dict(counted.counts) == dict(expected.counts)
    if kind == "sqlite":
        shared, whole = dump(tmp_path / "shared.db"), dump(clean)
        assert shared == whole, "\n".join(differences(shared, whole))


def test_two_writers_of_one_new_operation_on_postgresql_keep_the_widest_window(pg_cluster, op, monkeypatch):
    """The second writer looked before the first committed, then waited for its lock: the edges it
    writes after the first's must widen theirs, not be dropped."""
    import threading
    from sqllineage_harvester.stores.sql import SQLStore

    url = str(pg_cluster.create_database("two_writers"))
    first, second = open_store(url), open_store(url)
    holding, release = threading.Event(), threading.Event()
    original = SQLStore._link_people

    def hold(self, conn, ran, op_ids):  # the first writer pauses inside its transaction
        original(self, conn, ran, op_ids)
        if self is first:
            holding.set()
            release.wait(30)

    # the datasets and columns exist already: neither writer waits on those rows
    first.write_batch(Batch(operations=(op("o0", "m.t", ("raw.s",), {"a": "raw.s.a"}),)))
    monkeypatch.setattr(SQLStore, "_link_people", hold)
    early = op("o1", "m.t", ("raw.s",), {"a": "raw.s.a"}, seen=("2024-01-05T00:00:00", "2024-01-06T00:00:00"))
    late = op("o1", "m.t", ("raw.s",), {"a": "raw.s.a"}, seen=("2024-01-01T00:00:00", "2024-01-09T00:00:00"))
    one = threading.Thread(target=first.write_batch, args=(Batch(operations=(early,)),))
    one.start()
    assert holding.wait(30)
    two = threading.Thread(target=second.write_batch, args=(Batch(operations=(late,)),))
    two.start()
    two.join(2)  # it has looked and now waits for the first's row lock
    release.set()
    one.join(30)
    two.join(30)
    from peek import peek
    assert ("2024-01-01T00:00:00", "2024-01-09T00:00:00", 2) in peek(first, "operation_windows")
    assert sorted(peek(first, "edge_windows")) == [("2024-01-01T00:00:00", "2024-01-01T00:00:00"),
                                                   ("2024-01-01T00:00:00", "2024-01-09T00:00:00")]


def test_no_single_row_stops_a_harvest_into_postgresql(tmp_path, pg_cluster):
    """A NUL byte, and a quoted name too long for an index, once failed every rerun at the same batch."""
    import json

    long_name = "c" * 3000
    queries = [
        "INSERT INTO m.a (id) SELECT id FROM raw.b WHERE note = 'x\x00y' /* \x00 */",
        f'INSERT INTO m."{long_name}" (id, "{long_name}") SELECT id, "{long_name}" FROM raw.d',
        "INSERT INTO m.after (id) SELECT id FROM raw.e",
    ]
    log = tmp_path / "jobs.jsonl"
    log.write_text("".join(json.dumps({
        "job_id": f"j{i}", "query": q, "project_id": "p", "user_email": f"etl\x00{i}@p", "state": "DONE",
        "statement_type": "INSERT", "creation_time": f"2024-04-01 02:00:0{i}.000000 UTC",
        "start_time": f"2024-04-01 02:00:0{i}.000000 UTC", "end_time": f"2024-04-01 02:00:0{i}.500000 UTC"}) + "\n"
        for i, q in enumerate(queries)))
    for size in (1, 20_000):
        url = str(pg_cluster.create_database(f"poison_{size}"))
        report = harvest(open_source(log, "bigquery"), open_store(url),
                         Options(dialect="bigquery", namespace="bigquery://p", batch_size=size))
        assert report.operations == 3
        names = {n.name for n in open_store(url).resolve("after")}
        assert names == {"p.m.after"}


HEADER = "QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,USER_NAME,START_TIME,END_TIME,EXECUTION_STATUS\n"


def export(path: Path, day: int, rows: int, start: int = 0) -> Path:
    """An export of one account: ``rows`` loads on 2024-03-<day>, each its own statement."""
    path.write_text(HEADER + "".join(
        f'q{day}-{n},"INSERT INTO m.t{n % 7} SELECT id FROM raw.s{n}",DB,PUBLIC,ETL,'
        f"2024-03-{day:02} 10:{n // 60:02}:{n % 60:02}.000 +0000,2024-03-{day:02} 10:{n // 60:02}:{n % 60:02}.500 +0000,"
        "SUCCESS\n" for n in range(start, start + rows)))
    return path


def harvest_folder(folder: Path, db: Path, batch_size: int = 100, batches: int | None = None):
    from sqllineage_harvester.harvest import Harvester
    done = [0]

    def stop() -> bool:
        done[0] += 1
        return batches is not None and done[0] >= batches

    store = open_store(f"sqlite:///{db}")
    try:
        return Harvester(open_source(folder, "snowflake"), store,
                         Options(dialect="snowflake", namespace="snowflake://test", batch_size=batch_size)).run(stop=stop)
    finally:
        store.close()


def test_a_folder_whose_name_order_is_not_time_order_loses_nothing_when_cut(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    export(folder / "account_a.csv", 20, 1000)  # later days, earlier name
    export(folder / "account_b.csv", 10, 1000)
    whole = tmp_path / "whole.db"
    harvest_folder(folder, whole, 20_000)
    for batches in (3, 10, 11, 13):  # cut inside a, at its end, just into b, inside b
        cut = tmp_path / f"cut{batches}.db"
        first = harvest_folder(folder, cut, 100, batches)
        rest = harvest_folder(folder, cut, 100)
        assert first.entries + rest.entries == 2000
        assert dump(cut) == dump(whole), "\n".join(differences(dump(cut), dump(whole)))


def test_a_file_that_arrives_later_with_older_rows_is_named_in_a_note(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    export(folder / "account_a.csv", 20, 50)
    harvest_folder(folder, tmp_path / "l.db")
    export(folder / "account_b.csv", 10, 30)  # an older day, exported late
    export(folder / "account_c.csv", 21, 40)  # a newer day
    report = harvest_folder(folder, tmp_path / "l.db")
    assert report.entries == 40  # account_c's rows; account_b's are older than anything read before
    assert any(n.startswith("account_b.csv: new since the last harvest, its 30 rows") and "--source" in n
               for n in report.notes), report.notes
    again = harvest_folder(folder, tmp_path / "l.db")
    assert again.entries == 0 and not any("account_b" in n for n in again.notes)
