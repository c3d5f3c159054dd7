"""Extraction speed on the distinct statements of a query history (a benchmark, not a test).

    python benchmarks/bench_distinct.py                      # builds /tmp/bench_distinct.csv (200,000 rows)
    python benchmarks/bench_distinct.py history.csv --runs 3 # an existing Snowflake QUERY_HISTORY CSV
    python benchmarks/bench_distinct.py --profile            # cProfile, top 30 functions by own time
    python benchmarks/bench_distinct.py --dump out.txt       # every result, to diff two versions by

A harvest parses each distinct statement once (one text per fingerprint, the first seen),
with columns="writes", the row's DATABASE_NAME / SCHEMA_NAME as defaults and the harvest's
catalog. This times ``extract`` that way over all of them and prints statements/s (the best
and the median of ``--runs``, by wall clock and by CPU time). ``--catalog written`` passes a catalog of every column the
history's writes name (a first pass over the statements learns it), else an empty one.

``--dump`` writes, one line each, the ``encode()``d and the full ``repr`` of the results of
every distinct statement, and of every golden corpus case (fixtures/lineage) parsed with
columns True, "writes" and False, its catalog given as a mapping and as a built Catalog
(which must come back unchanged): a change meant to be invisible leaves it byte-identical.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqllineage_harvester.extract import Catalog, extract  # noqa: E402
from sqllineage_harvester.graph import encode  # noqa: E402
from sqllineage_harvester.model import LogEntry  # noqa: E402
from sqllineage_harvester.normalize import Normalizer  # noqa: E402

DEFAULT_PATH = Path("/tmp/bench_distinct.csv")
csv.field_size_limit(sys.maxsize)


def distinct_statements(path: Path) -> list[tuple[str, str | None, str | None]]:
    """(sql, database, schema) of the first row of each fingerprint, in log order."""
    normalizer = Normalizer()
    seen: set[str] = set()
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            sql = row["QUERY_TEXT"]
            key = normalizer(LogEntry(sql=sql, dialect="snowflake")).fingerprint
            if key in seen:
                continue
            seen.add(key)
            out.append((sql, row.get("DATABASE_NAME") or None, row.get("SCHEMA_NAME") or None))
    return out


def written_catalog(statements: list[tuple[str, str | None, str | None]]) -> Catalog:
    """The columns every write of the history names, per table (as a harvest would learn them)."""
    tables: dict[str, dict[str, str]] = {}
    for sql, db, schema in statements:
        for r in extract(sql, "snowflake", default_database=db, default_schema=schema, columns="writes"):
            if r.kind == "select" or r.error:
                continue
            for c in r.columns:
                if c.target.column != "*":
                    tables.setdefault(c.target.dataset, {})[c.target.column] = "UNKNOWN"
    catalog = Catalog()
    for name, columns in tables.items():
        catalog.add(tuple(name.split(".")), columns)
    return catalog


def run_once(statements: list[tuple[str, str | None, str | None]], catalog: Catalog) -> tuple[float, float]:
    """Seconds taken: wall clock and this process's CPU time (steadier on a busy machine)."""
    started, cpu = time.perf_counter(), time.process_time()
    for sql, db, schema in statements:
        extract(sql, "snowflake", catalog=catalog, default_database=db, default_schema=schema, timeout=5.0,
                columns="writes")
    return time.perf_counter() - started, time.process_time() - cpu


def dump(path: Path, statements: list[tuple[str, str | None, str | None]], catalog: Catalog) -> None:
    from sqllineage_harvester.golden import load

    lines = []
    for sql, db, schema in statements:
        results = extract(sql, "snowflake", catalog=catalog, default_database=db, default_schema=schema, timeout=5.0,
                          columns="writes")
        lines += [encode(results), repr(results)]
    lines.append(f"catalog after the history: {catalog.dump()!r}")
    for case in load(ROOT / "fixtures" / "lineage"):
        for columns in (True, "writes", False):
            for built in (False, True):
                given = Catalog.from_mapping(case.catalog, case.dialect) if built and case.catalog else case.catalog
                before = given.dump() if isinstance(given, Catalog) else None
                results = extract(case.sql, case.dialect, catalog=given, default_database=case.default_database,
                                  default_schema=case.default_schema, collapse_temp=case.collapse_temp,
                                  columns=columns)
                lines += [f"{case.id} columns={columns} built={built}", encode(results), repr(results)]
                if before is not None and given.dump() != before:
                    lines.append("!! the given catalog was changed")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} lines to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, help=f"a history CSV (default: make {DEFAULT_PATH})")
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the history made when no path is given")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="only the first N distinct statements")
    parser.add_argument("--catalog", choices=("empty", "written"), default="empty")
    parser.add_argument("--profile", action="store_true", help="one run under cProfile, top 30 by own time")
    parser.add_argument("--dump", type=Path, help="write every result to this file (see above) and exit")
    args = parser.parse_args()

    path = args.path
    if path is None:
        path = DEFAULT_PATH
        if not path.exists():
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_history.py"), str(path),
                            "--rows", str(args.rows)], check=True)
    statements = distinct_statements(path)
    if args.limit:
        statements = statements[: args.limit]
    catalog = written_catalog(statements) if args.catalog == "written" else Catalog()
    print(f"{len(statements)} distinct statements from {path}, catalog: {args.catalog}")

    if args.dump:
        dump(args.dump, statements, catalog)
        return
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        seconds, _ = run_once(statements, catalog)
        profiler.disable()
        print(f"profiled run: {seconds:.2f} s, {len(statements) / seconds:,.0f} statements/s")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    run_once(statements[:200], catalog)  # warm-up: imports, dialect and regex caches
    times = [run_once(statements, catalog) for _ in range(args.runs)]
    for label, seconds in (("wall", [w for w, _ in times]), ("cpu", [c for _, c in times])):
        rates = [len(statements) / t for t in seconds]
        print(f"{label}: median {statistics.median(rates):,.0f} statements/s ({statistics.median(seconds) * 1000 / len(statements):.3f} "
              f"ms each), best {max(rates):,.0f}; runs: " + ", ".join(f"{r:,.0f}" for r in rates))


if __name__ == "__main__":
    main()
