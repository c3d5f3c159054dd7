"""End-to-end harvest speed: a synthetic 200,000-row Snowflake history into SQLite.

    python benchmarks/bench_harvest.py [--rows 200000] [--workers 1 2] [--distinct 0.033] [--runs 3] [--with-hash]
    python benchmarks/bench_harvest.py --profile      # where one worker's time goes, by stage

Writes the log with make_history.py (3.3 % distinct statements after literal
normalization), then runs `sqllineage-harvester harvest` into a fresh SQLite
store once per worker count, and a second, incremental run that finds nothing
new; ``--runs`` rounds, each running every worker count once. Prints rows/s (each
run's and the median), each worker count's speed against the first's within a round
(the median of those ratios), the machine's load while it ran, and peak
memory (a benchmark, not a test). ``--profile`` runs one harvest in this process under a
sampling profiler (profile_buckets.py) and prints the share of each stage.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
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


def profile(log: Path, db: Path) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from profile_buckets import Sampler

    from sqllineage_harvester.cli import main as cli

    argv = ["harvest", "--source", str(log), "--dialect", "snowflake", "--store", f"sqlite:///{db}",
            "--workers", "1", "--format", "json"]
    with Sampler() as sampler:
        try:
            cli.main(argv, standalone_mode=False)
        except SystemExit:
            pass
    print(sampler.report())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--distinct", type=float, default=None, help="share of distinct statements (make_history.py)")
    parser.add_argument("--workers", nargs="+", default=["1", "2"], help="worker counts to run (numbers or auto)")
    parser.add_argument("--runs", type=int, default=3, help="runs per worker count; the median is reported")
    parser.add_argument("--profile", action="store_true", help="one in-process run, time by stage")
    parser.add_argument("--with-hash", action="store_true",
                        help="fill QUERY_PARAMETERIZED_HASH, as recent Snowflake accounts do (make_history.py)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "history.csv"
        extra = (["--distinct", str(args.distinct)] if args.distinct else []) + (["--with-hash"] if args.with_hash else [])
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_history.py"), str(log), "--rows",
                        str(args.rows), *extra], check=True, capture_output=True)
        print(f"log: {args.rows:,} rows, {log.stat().st_size / 1e6:.0f} MB; {os.cpu_count()} cores, "
              f"load before: {os.getloadavg()[0]:.2f}")
        if args.profile:
            profile(log, Path(tmp) / "profile.db")
            return
        # Rounds, each running every worker count once: this machine's speed drifts from minute to
        # minute, so worker counts are compared within a round (the ratio's median), not across them.
        speeds: dict[str, list[float]] = {w: [] for w in args.workers}
        again: dict[str, list[float]] = {w: [] for w in args.workers}
        for run in range(args.runs):
            for workers in args.workers:
                db = Path(tmp) / f"lineage-{workers}-{run}.db"
                first = harvest(log, db, workers)
                speeds[workers].append(first["rows_per_second"])
                again[workers].append(harvest(log, db, workers)["wall_seconds"])
                print(f"  workers={workers} run {run + 1}: {first['rows_per_second']:>9,.0f} rows/s "
                      f"({first['distinct']} distinct parsed, {first['operations']} operations, {first['seconds']} s); "
                      f"re-run with nothing new {again[workers][-1]} s; load {os.getloadavg()[0]:.2f}", flush=True)
        base = args.workers[0]
        for workers in args.workers:
            ratios = [s / b for s, b in zip(speeds[workers], speeds[base])]
            against = (f"; {statistics.median(ratios):.2f}x workers={base} in the same round "
                       f"({', '.join(f'{r:.2f}' for r in ratios)})" if workers != base else "")
            print(f"workers={workers}: median {statistics.median(speeds[workers]):,.0f} rows/s, re-run with nothing new "
                  f"median {statistics.median(again[workers])} s{against}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory of a harvest process: {peak:.0f} MB; load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
