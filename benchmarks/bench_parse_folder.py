"""``parse`` on a repository-sized folder of BigQuery SQL (a benchmark, not a test).

Builds a folder of FILES ``query.sql`` / ``view.sql`` files the way ETL repositories lay them out
(``<dataset>/<table>_v1/query.sql``): long dbt-style models (CTEs, joins, window functions),
views, daily INSERTs into date shards and reads through wildcards with ``_TABLE_SUFFIX``,
scripts with DECLARE / temp tables / temp functions, MERGEs, and the golden corpus's BigQuery
cases; then runs ``sqllineage-harvester parse FOLDER`` as a user would, with each --workers
given, and prints files, statements, errors, and time a file (wall clock, start-up included).

    python benchmarks/bench_parse_folder.py --files 1500 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqllineage_harvester.golden import load  # noqa: E402

DATASETS = ["analytics", "marts", "staging", "telemetry", "finance"]
COLS = ["user_id", "session_id", "event_name", "amount", "currency", "country", "device", "created_at", "status"]


def model(rng: random.Random, project: str) -> str:
    steps, previous = [], f"`{project}.staging.{rng.choice(['orders', 'events', 'payments'])}_v1`"
    for i in range(rng.randint(3, 7)):
        cols = rng.sample(COLS, 4)
        other = f"`{project}.{rng.choice(DATASETS)}.{rng.choice(['users', 'fx_rates', 'devices'])}_v{rng.randint(1, 3)}`"
        steps.append(
            f"step{i} AS (\n  SELECT s.{cols[0]}, s.{cols[1]}, o.{cols[2]} AS {cols[2]}_{i},\n"
            f"    SUM(s.amount) OVER (PARTITION BY s.{cols[0]} ORDER BY s.created_at) AS running_{i},\n"
            f"    CASE WHEN s.status = 'done' THEN s.amount ELSE 0 END AS done_{i}\n"
            f"  FROM {previous} s LEFT JOIN {other} o ON o.{cols[0]} = s.{cols[0]}\n"
            f"  WHERE DATE(s.created_at) >= DATE_SUB(@submission_date, INTERVAL {rng.randint(1, 30)} DAY)\n)")
        previous = f"step{i}"
    return ("WITH " + ",\n".join(steps) + f"\nSELECT {previous}.*, CURRENT_TIMESTAMP() AS loaded_at FROM {previous}\n")


def view(rng: random.Random, project: str, name: str) -> str:
    return (f"CREATE OR REPLACE VIEW `{project}.{rng.choice(DATASETS)}.{name}` AS\n"
            f"SELECT * EXCEPT (currency), amount * 1.2 AS gross FROM `{project}.{rng.choice(DATASETS)}.{name}_v1`\n")


def sharded(rng: random.Random, project: str) -> str:
    day = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return (f"INSERT INTO `{project}.telemetry.events_{day}` (user_id, event_name, amount)\n"
            f"SELECT user_id, event_name, amount FROM `{project}.raw.events` WHERE DATE(ts) = PARSE_DATE('%Y%m%d', '{day}');\n"
            f"SELECT event_name, COUNT(*) AS n FROM `{project}.telemetry.events_*`\n"
            f"WHERE _TABLE_SUFFIX BETWEEN '{day[:6]}01' AND '{day}' GROUP BY event_name;\n")


def script(rng: random.Random, project: str) -> str:
    return ("DECLARE run_day DATE DEFAULT CURRENT_DATE();\n"
            "CREATE TEMP FUNCTION clean(x STRING) AS (LOWER(TRIM(x)));\n"
            f"CREATE TEMP TABLE recent AS SELECT user_id, clean(country) AS country, amount "
            f"FROM `{project}.staging.orders_v1` WHERE DATE(created_at) = run_day;\n"
            f"MERGE `{project}.marts.customer_totals` t USING (SELECT user_id, SUM(amount) AS total FROM recent "
            "GROUP BY user_id) s ON t.user_id = s.user_id\n"
            "WHEN MATCHED THEN UPDATE SET total = t.total + s.total\n"
            "WHEN NOT MATCHED THEN INSERT (user_id, total) VALUES (s.user_id, s.total);\n")


def build(folder: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    golden = [c.sql for c in load(ROOT / "fixtures" / "lineage") if c.dialect == "bigquery"]
    makers = [lambda p, n: model(rng, p), lambda p, n: view(rng, p, f"table_{n}"), lambda p, n: sharded(rng, p),
              lambda p, n: script(rng, p), lambda p, n: golden[n % len(golden)]]
    for n in range(files):
        project = rng.choice(["moz-fx-data-shared-prod", "shop-prod"])
        kind = rng.choices(range(len(makers)), weights=[5, 2, 1, 1, 1])[0]
        where = folder / project / rng.choice(DATASETS) / f"table_{n}_v1"
        where.mkdir(parents=True, exist_ok=True)
        (where / ("view.sql" if kind == 1 else "query.sql")).write_text(makers[kind](project, n))


def measure(folder: Path, workers: str) -> dict:
    """One ``parse`` of the folder: wall clock and the CPU time of the process and its workers."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "parse", str(folder), "-d", "bigquery",
                           "--format", "json", "--workers", workers], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    files = len({r["file"] for r in rows})
    return {"workers": workers, "exit": done.returncode, "files": files, "statements": len(rows),
            "errors": sum(1 for r in rows if r["error"]),
            "files_with_errors": len({r["file"] for r in rows if r["error"]}),
            "seconds": round(seconds, 2), "ms_per_file": round(1000 * seconds / max(files, 1), 1),
            "cpu_seconds": round(cpu_seconds, 2), "load": round(os.getloadavg()[0], 1),
            "summary": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""}


def one_process_a_file(folder: Path, sample: int) -> dict:
    """What a process per file costs (the way to parse a repository before ``parse`` took folders)."""
    files = sorted(folder.rglob("*.sql"))[:sample]
    started = time.perf_counter()
    for f in files:
        subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "parse", str(f), "-d", "bigquery",
                        "--format", "json"], capture_output=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    return {"one_process_a_file": len(files), "ms_per_file": round(1000 * seconds / max(len(files), 1), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1500)
    parser.add_argument("--workers", nargs="+", default=["1", "2"])
    parser.add_argument("--keep", help="build the folder here and keep it")
    parser.add_argument("--per-file", type=int, default=0, metavar="N",
                        help="also time N files parsed with a process each (the old way)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="sql-repo-"))
    try:
        build(folder, args.files)
        for workers in args.workers:
            print(json.dumps(measure(folder, workers)))
        if args.per_file:
            print(json.dumps(one_process_a_file(folder, args.per_file)))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
