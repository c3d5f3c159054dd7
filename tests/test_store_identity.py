"""One log, one graph: the store a log gives does not depend on how the harvest was cut into
batches or runs. Compared table by table, by natural keys (tests/storedump.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from sqllineage_harvester.harvest import Harvester, HarvestReport, Options
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

from storedump import differences, dump

ROOT = Path(__file__).resolve().parent.parent
LOGS = {
    "snowflake": ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv",
    "bigquery": ROOT / "fixtures" / "logs" / "bigquery" / "jobs.jsonl",
    "redshift": ROOT / "fixtures" / "logs" / "redshift" / "sys_query_history.csv",
    "databricks": ROOT / "fixtures" / "logs" / "databricks" / "query_history.csv",
    "mysql": ROOT / "fixtures" / "logs" / "mysql" / "events_statements_history_long.csv",
    "mariadb": ROOT / "fixtures" / "logs" / "mariadb" / "general_log.csv",
    "postgres": ROOT / "fixtures" / "logs" / "postgres" / "pg_stat_statements.csv",
}


def run(db: Path, dialect: str, stop: Callable[[], bool] | None = None, **options: Any) -> HarvestReport:
    """One harvest of the dialect's fixture log into the SQLite store ``db`` (``options``: Options')."""
    store = open_store(f"sqlite:///{db}")
    try:
        return Harvester(open_source(LOGS[dialect], dialect), store,
                         Options(dialect=dialect, namespace=f"{dialect}://test", **options)).run(stop=stop)
    finally:
        store.close()


def build(db: Path, dialect: str, batch_size: int) -> dict:
    run(db, dialect, batch_size=batch_size)
    return dump(db)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    """Rows with no time of their own (pg_stat_statements) carry the harvest's time: one clock for
    every run compared, so that only the batching differs."""
    monkeypatch.setattr("sqllineage_harvester.sources.files.harvest_time", lambda: "2026-01-01T00:00:00.000000Z")


@pytest.mark.parametrize("dialect", sorted(LOGS))
def test_the_store_is_the_same_whatever_the_batch_size(tmp_path, dialect):
    whole = build(tmp_path / "whole.db", dialect, 20_000)
    assert whole["operations"] and whole["column_edges"]
    for size in (1, 7):
        cut = build(tmp_path / f"cut{size}.db", dialect, size)
        assert cut == whole, "\n".join([f"batch size {size}:"] + differences(cut, whole))


@pytest.mark.parametrize("dialect", sorted(LOGS))
def test_a_batch_read_in_several_chunks_is_the_batch_read_at_once(tmp_path, dialect, monkeypatch):
    """A batch (a transaction) is read, fingerprinted and sent to be parsed a chunk at a time; it
    commits once, where a batch of the same size read at once would, and stopping between chunks
    commits the chunks worked through: the rest is read on from there, nothing lost or doubled."""
    from sqllineage_harvester import harvest as harvesting

    whole = build(tmp_path / "whole.db", dialect, 20_000)
    monkeypatch.setattr(harvesting, "READ_CHUNK", 3)
    report = run(tmp_path / "chunked.db", dialect, batch_size=10)
    assert report.batches == -(-report.entries // 10), (report.batches, report.entries)
    assert dump(tmp_path / "chunked.db") == whole, "\n".join(differences(dump(tmp_path / "chunked.db"), whole))
    chunks = [0]

    def stop() -> bool:
        chunks[0] += 1
        return chunks[0] == 5  # 3 + 3 + 3 + 1 rows, then 3 of the second batch

    cut = tmp_path / "cut.db"
    first = run(cut, dialect, stop, batch_size=10)
    rest = run(cut, dialect, batch_size=10)
    assert report.entries > 13  # the log is long enough to be cut inside its second batch
    assert first.batches == 2 and first.entries == 13, (first.batches, first.entries)
    assert first.entries + rest.entries == report.entries
    assert dump(cut) == whole, "\n".join(differences(dump(cut), whole))


def test_a_batch_whose_new_lineage_outgrows_its_share_of_memory_commits_early(tmp_path, monkeypatch):
    """The lineage of a batch's new statements waits in memory until the batch commits: past an
    eighth of --memory (or what is known of statements past half of it) the batch commits where it
    stands; the store and the counts are the same."""
    from sqllineage_harvester import harvest as harvesting

    plain = run(tmp_path / "whole.db", "snowflake", batch_size=20_000)
    whole = dump(tmp_path / "whole.db")
    monkeypatch.setattr(harvesting, "READ_CHUNK", 5)
    report = run(tmp_path / "early.db", "snowflake", batch_size=20_000, memory=8 * 4000)
    assert report.batches > 2, report.batches
    assert (report.distinct, report.parsed, report.cached) == (plain.distinct, plain.parsed, plain.cached)
    assert dump(tmp_path / "early.db") == whole, "\n".join(differences(dump(tmp_path / "early.db"), whole))


class _Late:
    """A parse that is done (its result is there) but says so only after ``polls`` asks: a worker
    that has not finished yet, as the harvest sees it."""

    def __init__(self, value: str, polls: int) -> None:
        self.value, self.polls = value, polls

    def done(self) -> bool:
        self.polls -= 1
        return self.polls < 0

    def result(self) -> str:
        return self.value


@pytest.mark.parametrize("dialect", sorted(LOGS))
def test_a_chunk_is_worked_through_as_far_as_its_parses_are_done(tmp_path, dialect, monkeypatch):
    """The oldest chunk is worked through up to the first entry whose parse is not done, and taken up
    there again after the next chunk is read: nothing lost, doubled or taken out of order."""
    from sqllineage_harvester import executors, harvest as harvesting

    plain = run(tmp_path / "whole.db", dialect, batch_size=10)
    whole = dump(tmp_path / "whole.db")
    polls = iter([0, 1, 3, 0, 2, 5, 1] * 1000)

    class Slow(executors.Inline):
        def submit(self, job):
            return _Late(executors.extract_job(job), next(polls))

    left = []
    harvest_chunk = harvesting.Harvester._harvest

    def noting(self, read, wait=True):
        done = harvest_chunk(self, read, wait)
        if not done:
            left.append(read.at)
        return done

    monkeypatch.setattr(harvesting, "Inline", Slow)
    monkeypatch.setattr(harvesting.Harvester, "_harvest", noting)
    monkeypatch.setattr(harvesting, "READ_CHUNK", 3)
    report = run(tmp_path / "late.db", dialect, batch_size=10)
    assert any(at > 0 for at in left), left  # chunks were left part-way, not only before their first entry
    assert (report.entries, report.distinct, report.parsed, report.cached, report.batches) == \
        (plain.entries, plain.distinct, plain.parsed, plain.cached, plain.batches)
    assert dump(tmp_path / "late.db") == whole, "\n".join(differences(dump(tmp_path / "late.db"), whole))
