"""Live PostgreSQL harvesting speed: pg_stat_statements and a large csvlog.

    python benchmarks/bench_postgres.py [--statements 5000] [--log-mb 200] [--keep DIR]

Starts a throwaway cluster (as the tests do, ``tests/pgcluster.py``) with
``pg_stat_statements.max`` above ``--statements``, runs that many distinct
INSERT .. SELECT statements (100 tables of 10 columns: each statement writes one
column of one table from one column of another), then measures, each in a fresh
process so peak memory (max RSS) is that measurement's own:

* reading the view alone (the floor of any run);
* a first harvest of the view into a new SQLite store;
* an incremental harvest when nothing changed (what a ``--follow`` loop pays each tick);
* a harvest of a synthetic csvlog of ``--log-mb`` MB (realistic records: 26 fields, a
  few hundred statement shapes with real-looking literals, multi-line ones, sessions).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def measure(kind: str, target: str, db: str) -> dict:
    """One measurement in this process: seconds, rows, entries."""
    from sqllineage_harvester.harvest import Options, harvest
    from sqllineage_harvester.sources import open_source
    from sqllineage_harvester.stores import open_store

    options = Options(dialect="postgres", namespace="postgres://bench:5432")
    started = time.perf_counter()
    if kind == "view":
        source = open_source(target, "postgres")
        rows = len(source.snapshot()[3])  # type: ignore[attr-defined]
        return {"seconds": time.perf_counter() - started, "rows": rows, "entries": 0}
    source = open_source(target, "postgres")
    report = harvest(source, open_store(f"sqlite:///{db}"), options)
    return {"seconds": time.perf_counter() - started, "rows": report.rows_read, "entries": report.entries,
            "distinct": report.distinct, "operations": report.operations}


def in_child(kind: str, target: str, db: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", kind, target, db], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def workload(cluster, statements: int) -> None:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("CREATE SCHEMA bench")
        for t in range(100):
            conn.execute(f"CREATE TABLE bench.t{t} ({', '.join(f'c{c} int' for c in range(10))})")
        conn.execute("SELECT pg_stat_statements_reset()")
        for n in range(statements):  # (target table, source table) pairs: a distinct query id each
            target, source, col = n % 100, (n // 100) % 100, n % 10
            if source == target:
                source = (source + 1) % 100
            conn.execute(f"INSERT INTO bench.t{target} (c{col}) SELECT c{(col + n // 1000) % 10} FROM bench.t{source}"
                         f" WHERE c0 > {n % 97}")


SHAPES = [
    "INSERT INTO staging.orders_{i} (id, email, amount) SELECT id, email, amount * {n} FROM raw.orders_{i}"
    " WHERE email = '{email}' AND card = '{card}'",
    "UPDATE marts.customers_{i} c SET total = s.total + {n} FROM staging.sums_{i} s WHERE s.id = c.id",
    "SELECT id, email, amount FROM raw.orders_{i} WHERE id = {n} AND email = '{email}'",
    "DELETE FROM staging.orders_{i} o USING raw.refunds_{i} r WHERE r.order_id = o.id AND r.amount > {n}",
    "INSERT INTO marts.daily_{i} (day, revenue)\n  SELECT ordered_at::date,\n         sum(amount)\n"
    "  FROM staging.orders_{i}\n  WHERE amount > {n}\n  GROUP BY 1",
]


def write_csvlog(path: Path, megabytes: int) -> int:
    """A csvlog of about ``megabytes`` MB; returns its record count."""
    rng = random.Random(7)
    records, limit = 0, megabytes * 1024 * 1024
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        while out.tell() < limit:
            for _ in range(1000):
                session = f"65f1a{rng.randrange(4096):03x}.{rng.randrange(1 << 16):x}"
                sql = rng.choice(SHAPES).format(i=rng.randrange(60), n=rng.randrange(10**6),
                                                email=f"user{rng.randrange(10**6)}@example.com",
                                                card=f"4111 {rng.randrange(10**4):04d} 0000 1111")
                second = records % 60
                stamp = f"2024-03-01 10:{records // 60 % 60:02d}:{second:02d}.{records % 1000:03d} UTC"
                writer.writerow([stamp, "etl", "warehouse", "4242", "10.0.0.5:51000", session, records % 500,
                                 "INSERT", "2024-03-01 09:00:00 UTC", "3/1", "0", "LOG", "00000",
                                 f"duration: {rng.random():.3f} ms  statement: {sql}", "", "", "", "", "", "", "",
                                 "", "airflow", "client backend", "", "0"])
                records += 1
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=5000)
    parser.add_argument("--log-mb", type=int, default=200)
    parser.add_argument("--keep", help="work in this folder and keep it")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        result = measure(*args.measure)
        result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    import pgcluster

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-pg-"))
    work.mkdir(parents=True, exist_ok=True)
    bindir = pgcluster.find_bindir()
    if bindir is None:
        sys.exit("no PostgreSQL server binaries (initdb) found")
    cluster = pgcluster.PgCluster(bindir, Path(tempfile.mkdtemp(prefix="bench-pg-cluster-")))
    try:
        cluster.init()
        with open(cluster.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"pg_stat_statements.max = {max(5000, args.statements * 2)}\nlog_min_duration_statement = -1\n")
        cluster.start()
        started = time.perf_counter()
        workload(cluster, args.statements)
        print(f"workload: {args.statements} distinct statements in {time.perf_counter() - started:.1f} s")
        url, db = cluster.url("postgres"), str(work / "pgss.db")
        report("read the view only", in_child("view", url, db))
        report("first harvest", in_child("harvest", url, db))
        report("incremental, nothing new", in_child("harvest", url, db))
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
    log = work / "postgresql-bench.csv"
    started = time.perf_counter()
    records = write_csvlog(log, args.log_mb)
    size = log.stat().st_size / 1024 / 1024
    print(f"csvlog: {size:.0f} MB, {records:,} records, written in {time.perf_counter() - started:.1f} s")
    report(f"csvlog harvest ({size:.0f} MB)", in_child("harvest", f"pglog://{log}", str(work / "log.db")))
    report("csvlog incremental, nothing new", in_child("harvest", f"pglog://{log}", str(work / "log.db")))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def report(title: str, r: dict) -> None:
    rate = r["rows"] / r["seconds"] if r["seconds"] else 0.0
    extra = f", {r['entries']:,} entries, {r.get('distinct', 0):,} distinct, {r.get('operations', 0):,} operations"
    print(f"{title:34s} {r['seconds']:8.2f} s  {r['rows']:>10,} rows  {rate:>10,.0f} rows/s  "
          f"peak RSS {r['max_rss_mb']:6.0f} MB{extra if 'distinct' in r else ''}")


if __name__ == "__main__":
    main()
