"""End-to-end harvest speed: a synthetic 200,000-row Snowflake history into SQLite.

    python benchmarks/bench_harvest.py [--rows 200000] [--workers 1 2]

Writes the log with make_history.py (3.3 % distinct statements after literal
normalization), then runs `sqllineage-harvester harvest` into a fresh SQLite
store once per worker count, and a second, incremental run that finds nothing
new. Prints rows/s and peak memory (a benchmark, not a test).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def harvest(log: Path, db: Path, workers: int) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(log), "--dialect", "snowflake",
         "--store", f"sqlite:///{db}", "--workers", str(workers), "--format", "json"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    report = json.loads(proc.stdout)
    report["wall_seconds"] = round(time.perf_counter() - started, 2)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "history.csv"
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_history.py"), str(log), "--rows",
                        str(args.rows)], check=True, capture_output=True)
        print(f"log: {args.rows:,} rows, {log.stat().st_size / 1e6:.0f} MB")
        for workers in args.workers:
            db = Path(tmp) / f"lineage-{workers}.db"
            first = harvest(log, db, workers)
            again = harvest(log, db, workers)
            print(f"workers={workers}: {first['rows_per_second']:>9,.0f} rows/s  ({first['distinct']} distinct parsed, "
                  f"{first['operations']} operations, {first['seconds']} s); incremental re-run with nothing new: "
                  f"{again['wall_seconds']} s wall")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory of a harvest process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
