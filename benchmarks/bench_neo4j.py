"""The Neo4j store against the SQLite store, in one run, on the same data.

    python benchmarks/bench_neo4j.py [--store bolt://user:pass@host:7687/db] [--tables 500] [--queries 20]

Without ``--store`` a throwaway ArcadeDB Bolt server is started as the tests do
(``tests/boltserver.py``, needs the ``arcadedb-embedded`` wheel). Measures:

* a harvest of the fixture backfill (fixtures/logs/snowflake/query_history.csv):
  operations/s and column edges/s (extraction included, the same work for both);
* writing a layered warehouse through ``Store.write_batch``: 20 layers of
  ``--tables`` tables of 10 columns (100,000 columns at 500), each table past the
  first written by one INSERT reading two tables of the layer before (a column from
  one of them, a JOIN edge from the other's key into every written column):
  operations/s and column edges/s;
* 10-level column impact queries from the first layer, from narrow and from wide
  roots: median and worst latency of ``queries.impact`` (on Neo4j through the
  store's variable-length Cypher walk), of the walk alone level by level
  (``queries.walk_levels``) and, on Neo4j, of the variable-length walk alone.

A benchmark, not a test: prints numbers.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from sqllineage_harvester import queries  # noqa: E402
from sqllineage_harvester.harvest import Options, harvest  # noqa: E402
from sqllineage_harvester.model import (  # noqa: E402
    IDENTITY, JOIN, TRANSFORMATION, ColumnLineage, ColumnRef, DatasetRef, IndirectRef, Operation,
)
from sqllineage_harvester.sources import open_source  # noqa: E402
from sqllineage_harvester.stores import Batch, Store, open_store, safe_url  # noqa: E402

LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
LAYERS, COLUMNS, NAMESPACE = 20, 10, "snowflake://bench"


def table(layer: int, i: int) -> str:
    return f"dw.l{layer:02d}.t{i:05d}"


def operation(layer: int, i: int, width: int, rng: random.Random) -> Operation:
    a, b, out = table(layer - 1, (i * 7919) % width), table(layer - 1, rng.randrange(width)), table(layer, i)
    cols = tuple(ColumnLineage(ColumnRef(out, f"c{j}"), (ColumnRef(a if j % 2 == 0 else b, f"c{j}"),),
                               IDENTITY if j % 3 else TRANSFORMATION) for j in range(COLUMNS))
    return Operation(
        id=f"op-{layer}-{i}", type="insert", fingerprint=f"fp-{layer}-{i}", sql=f"INSERT INTO {out} SELECT ...",
        inputs=(DatasetRef(a), DatasetRef(b)), outputs=(DatasetRef(out),), columns=cols,
        indirect=(IndirectRef(ColumnRef(b, "c0"), JOIN),), namespace=NAMESPACE, user="etl", system="wh",
        first_seen="2024-01-01T00:00:00", last_seen="2024-01-02T00:00:00")


def warehouse(width: int, batch: int) -> Iterator[tuple[Operation, ...]]:
    rng, ops = random.Random(7), []
    for layer in range(1, LAYERS):
        for i in range(width):
            ops.append(operation(layer, i, width, rng))
            if len(ops) == batch:
                yield tuple(ops)
                ops = []
    if ops:
        yield tuple(ops)


def edges_of(store: Store) -> int:
    return dict(store.stats().counts)["column_edges"]


def bench_harvest(url: str) -> str:
    store = open_store(url)
    began = time.perf_counter()
    report = harvest(open_source(LOG, "snowflake"), store,
                     Options(dialect="snowflake", namespace="snowflake://fixture", batch_size=500))
    seconds = time.perf_counter() - began
    edges = edges_of(store)
    store.close()
    return (f"fixture harvest  {report.rows_read:>6} rows  {report.operations:>5} operations  {edges:>6} column edges"
            f"  {seconds:6.2f} s  {report.operations / seconds:8.0f} ops/s  {edges / seconds:8.0f} edges/s")


def bench_build(url: str, width: int) -> tuple[Store, str]:
    store, ops, began = open_store(url), 0, time.perf_counter()
    for part in warehouse(width, 500):
        store.write_batch(Batch(operations=part))
        ops += len(part)
    seconds = time.perf_counter() - began
    counts = dict(store.stats().counts)
    return store, (f"warehouse write  {counts['columns']:>6} columns  {ops:>5} operations  "
                   f"{counts['column_edges']:>7} column edges  {seconds:6.1f} s  {ops / seconds:8.0f} ops/s  "
                   f"{counts['column_edges'] / seconds:8.0f} edges/s")


def latency(run: Callable[[str], int], roots: list[str]) -> str:
    times, sizes = [], []
    for root in roots:
        began = time.perf_counter()
        sizes.append(run(root))
        times.append(time.perf_counter() - began)
    return (f"median {statistics.median(times) * 1000:7.1f} ms  worst {max(times) * 1000:7.1f} ms  "
            f"nodes reached median {statistics.median(sizes):.0f}")


def bench_impact(store: Store, width: int, count: int) -> list[str]:
    """Narrow roots (c1..c4 feed about one column a level) and wide ones (c0 is also a
    JOIN key, so it reaches every column of the tables it joins into)."""
    rng, lines = random.Random(11), []
    for label, choices in (("narrow", (1, 2, 3, 4)), ("wide", (0,))):
        roots = [f"{table(0, rng.randrange(width))}.c{rng.choice(choices)}" for _ in range(count)]
        keys = {name: queries.find(store, name).key for name in roots}
        lines += [f"impact depth 10 ({label}), queries.impact   " + latency(
                      lambda name: len(queries.impact(store, name, depth=10).nodes), roots),
                  "  walk only, level by level (neighbors)  " + latency(
                      lambda name: len(queries.walk_levels(store, [keys[name]], "downstream", 10)[0]), roots)]
        if hasattr(store, "walk"):
            lines.append("  walk only, Cypher variable-length path " + latency(
                lambda name: len(store.walk([keys[name]], "downstream", 10)[0]), roots))  # type: ignore[attr-defined]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", help="a Neo4j URL; default: a throwaway ArcadeDB Bolt server")
    parser.add_argument("--tables", type=int, default=500, help="tables per layer (x 20 layers x 10 columns)")
    parser.add_argument("--queries", type=int, default=20)
    args = parser.parse_args()
    tmp, server = Path(tempfile.mkdtemp(prefix="bench-neo4j-")), None
    try:
        if args.store:
            neo4j_url: Callable[[], str] = lambda: args.store
        else:
            import boltserver
            server = boltserver.start_server()
            neo4j_url = server.create_database
        for name, url in (("sqlite", lambda: f"sqlite:///{tmp}/{time.monotonic_ns()}.db"), ("neo4j", neo4j_url)):
            target = url()
            print(f"== {name}: {safe_url(target)}")
            print(bench_harvest(target))
            store, line = bench_build(url(), args.tables)
            print(line)
            for line in bench_impact(store, args.tables, args.queries):
                print(line)
            store.close()
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
