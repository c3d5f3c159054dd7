"""Store write speed: the time a harvest spends in ``store.write_batch``.

    python benchmarks/bench_writes.py [--rows 200000] [--runs 3] [--server sqlite|postgresql|neo4j]
                                      [--batches N] [--dump out.json]

Once, it writes the synthetic Snowflake history with make_history.py and harvests it into
SQLite in this process, timing each ``write_batch`` and keeping the batches it was given
(pickled next to the log: the record does not depend on the store code). Then, ``--runs``
times, it replays those batches in order into a fresh store and prints the seconds spent in
``write_batch`` (each run, and the median). ``--dump`` writes the last replayed store's contents
by natural keys (tests/storedump.py; a PostgreSQL store is copied into an SQLite file for it),
so two versions of the store code can be compared for an identical store. ``--server postgresql``
/ ``neo4j`` replay into a throwaway server started as the tests start theirs (tests/pgcluster.py,
tests/boltserver.py), a new database a run; ``--batches`` replays only the first N batches. A
benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def record(log: Path, rows: int, work: Path) -> list:
    """Harvest ``log`` into a new SQLite store in this process; the batches written, in order."""
    from sqllineage_harvester.cli import main
    from sqllineage_harvester.stores.sql import SQLStore

    if not log.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_history.py"), str(log), "--rows",
                        str(rows)], check=True, capture_output=True)
    kept, spent = [], []
    original = SQLStore.write_batch

    def write_batch(self, batch):  # type: ignore[no-untyped-def]
        kept.append(batch)
        started = time.perf_counter()
        try:
            return original(self, batch)
        finally:
            spent.append(time.perf_counter() - started)

    db = work / "recorded.db"
    db.unlink(missing_ok=True)
    SQLStore.write_batch = write_batch  # type: ignore[method-assign]
    started = time.perf_counter()
    try:
        main(["harvest", "--source", str(log), "--dialect", "snowflake", "--store", f"sqlite:///{db}",
              "--workers", "1", "--format", "json"], standalone_mode=False)
    finally:
        SQLStore.write_batch = original  # type: ignore[method-assign]
    print(f"recorded {len(kept)} batches from {rows:,} rows: harvest {time.perf_counter() - started:.1f} s, "
          f"of which write_batch {sum(spent):.2f} s", file=sys.stderr)
    return kept


def replay(batches: list, url: str) -> tuple[float, float]:
    """Seconds spent in write_batch writing ``batches`` into the (new) store at ``url``: wall clock,
    and this process's CPU (steadier on a busy machine)."""
    from sqllineage_harvester.stores import open_store

    store = open_store(url)
    try:
        wall = cpu = 0.0
        for batch in batches:
            started, used = time.perf_counter(), time.process_time()
            store.write_batch(batch)
            wall += time.perf_counter() - started
            cpu += time.process_time() - used
        return wall, cpu
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench_writes",
                        help="where the log, the recorded batches and the stores are kept")
    parser.add_argument("--dump", type=Path, default=None, help="write the last replayed store's dump here")
    parser.add_argument("--server", choices=("sqlite", "postgresql", "neo4j"), default="sqlite")
    parser.add_argument("--batches", type=int, default=None, help="replay only the first N batches")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    log, recorded = args.work / f"history-{args.rows}.csv", args.work / f"batches-{args.rows}.pickle"
    if recorded.exists():
        batches = pickle.loads(recorded.read_bytes())
    else:
        batches = record(log, args.rows, args.work)
        recorded.write_bytes(pickle.dumps(batches, protocol=pickle.HIGHEST_PROTOCOL))
    batches = batches[:args.batches]
    slots = sum(len(b.operations) for b in batches)
    print(f"{len(batches)} batches, {slots:,} operation slots, "
          f"{len({op.id for b in batches for op in b.operations}):,} distinct operations")
    seconds, cpu = [], []
    server, stop = start(args.server, args.work)
    try:
        for run in range(args.runs):
            url = server(run)
            wall, used = replay(batches, url)
            seconds.append(wall)
            cpu.append(used)
            print(f"run {run + 1}: write_batch {wall:.2f} s ({used:.2f} s CPU)")
        if args.dump and args.server != "neo4j":
            write_dump(url, args.work, args.dump)
            print(f"dump written to {args.dump}")
    finally:
        stop()
    print(f"median write_batch seconds: {statistics.median(seconds):.2f} ({statistics.median(cpu):.2f} s CPU)")


def write_dump(url: str, work: Path, out: Path) -> None:
    """The store at ``url`` by natural keys (tests/storedump.py) into ``out``. storedump reads SQLite:
    a PostgreSQL store is first copied, table by table, into a new SQLite file of the same schema."""
    sys.path.insert(0, str(ROOT / "tests"))
    from storedump import dump

    from sqllineage_harvester.stores.sql import sqlite_file

    db = sqlite_file(url)
    if db is None:
        db = work / "copied.db"
        db.unlink(missing_ok=True)
        copy_sql_store(url, f"sqlite:///{db}")
    out.write_text(json.dumps(dump(db), sort_keys=True, default=str))


def copy_sql_store(source: str, target: str) -> None:
    """Every row of every table of the store at ``source`` into a new store of the same schema."""
    from sqlalchemy import create_engine, inspect, select

    from sqllineage_harvester.stores.schema import metadata
    from sqllineage_harvester.stores.sql import engine_url

    read, write = create_engine(engine_url(source)), create_engine(target)
    try:
        metadata.create_all(write)
        present = set(inspect(read).get_table_names())
        with read.connect() as src, write.begin() as dst:
            for table in metadata.sorted_tables:
                rows = [r._asdict() for r in src.execute(select(table))] if table.name in present else []
                if rows:
                    dst.execute(table.insert(), rows)
    finally:
        read.dispose()
        write.dispose()


def start(kind: str, work: Path) -> tuple[Callable[[int], str], Callable[[], Any]]:
    """(a new store URL for run n, how to stop the server) for ``kind``."""
    sys.path.insert(0, str(ROOT / "tests"))
    if kind == "postgresql":
        import pgcluster

        cluster = pgcluster.start_cluster()
        return (lambda n: cluster.create_database(f"bench_{n}")), lambda: (
            cluster.stop(), shutil.rmtree(cluster.root, ignore_errors=True))
    if kind == "neo4j":
        import boltserver

        bolt = boltserver.start_server()
        return (lambda n: bolt.create_database()), lambda: (
            bolt.stop(), shutil.rmtree(bolt.root, ignore_errors=True))

    def sqlite(n: int) -> str:
        db = work / "replayed.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{db}"

    return sqlite, lambda: None


if __name__ == "__main__":
    main()
