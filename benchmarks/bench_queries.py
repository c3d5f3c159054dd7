"""Impact-query latency on a large store: 100,000 datasets, 2,000,000 column edges.

    python benchmarks/bench_queries.py [--store sqlite:////tmp/lineage-bench.db] [--rebuild]

The store is built through ``Store.write_batch`` (as a harvest would) once and
reused. The graph is a layered warehouse: 20 layers of 5,000 tables with 10
columns each; every table past the first layer is written by one INSERT that
reads two tables of the layer before (so a table has about two readers),
maps each column from one of them (IDENTITY / TRANSFORMATION), joins on the
second one's key (a JOIN edge into every written column) and, for one
statement in ten, filters on the first one's ``c1`` (FILTER edges).
Prints build time, store size and the latency of 10-level impact queries.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator

from sqllineage_harvester import queries
from sqllineage_harvester.model import (
    FILTER, IDENTITY, JOIN, TRANSFORMATION, ColumnLineage, ColumnRef, DatasetRef, IndirectRef, Operation,
)
from sqllineage_harvester.stores import Batch, Store, open_store, safe_url

LAYERS, WIDTH, COLUMNS = 20, 5_000, 10  # 100,000 datasets
FILTERED = 10_000  # statements that also filter: 95,000 * 20 + 10,000 * 10 = 2,000,000 column edges
NAMESPACE = "snowflake://bench"


def table(layer: int, i: int) -> str:
    return f"dw.l{layer:02d}.t{i:05d}"


def operation(layer: int, i: int, rng: random.Random, n: int) -> Operation:
    a = table(layer - 1, (i * 7919) % WIDTH)  # a permutation: every table is read at least once
    b = table(layer - 1, rng.randrange(WIDTH))
    out = table(layer, i)
    cols = tuple(
        ColumnLineage(ColumnRef(out, f"c{j}"), (ColumnRef(a if j % 2 == 0 else b, f"c{j}"),),
                      IDENTITY if j % 3 else TRANSFORMATION)
        for j in range(COLUMNS))
    indirect = (IndirectRef(ColumnRef(b, "c0"), JOIN),)
    if n < FILTERED:
        indirect += (IndirectRef(ColumnRef(a, "c1"), FILTER),)
    day = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}T02:00:00"
    return Operation(
        id=f"op-{out}", type="insert", fingerprint=f"fp-{out}", sql=f"INSERT INTO {out} SELECT ...",
        inputs=(DatasetRef(a), DatasetRef(b)), outputs=(DatasetRef(out),), columns=cols, indirect=indirect,
        namespace=NAMESPACE, user=f"etl_{n % 50}", system="wh_etl", first_seen=day, last_seen=day)


def operations(seed: int = 7) -> Iterator[Operation]:
    rng, n = random.Random(seed), 0
    for layer in range(1, LAYERS):
        for i in range(WIDTH):
            yield operation(layer, i, rng, n)
            n += 1


def build(store: Store, batch_size: int = 2_000) -> float:
    started, pending = time.perf_counter(), []
    for op in operations():
        pending.append(op)
        if len(pending) == batch_size:
            store.write_batch(Batch(operations=tuple(pending)))
            pending = []
            print(f"\r  written {op.outputs[0].name}", end="", file=sys.stderr)
    store.write_batch(Batch(operations=tuple(pending)))
    print(file=sys.stderr)
    return time.perf_counter() - started


def timed(run: Callable[[], queries.LineageGraph], repeat: int) -> tuple[list[float], queries.LineageGraph]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    assert result is not None
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="sqlite:////tmp/lineage-bench.db")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    path = args.store.removeprefix("sqlite:///")
    if args.rebuild and args.store.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    store = open_store(args.store)
    counts = dict(store.stats().counts)
    if counts["datasets"] == 0:
        print(f"building {safe_url(args.store)} ...", file=sys.stderr)
        print(f"build: {build(store):.1f} s")
        counts = dict(store.stats().counts)
    print(f"store: {counts['datasets']:,} datasets, {counts['columns']:,} columns, "
          f"{counts['operations']:,} operations, {counts['column_edges']:,} column edges")
    if args.store.startswith("sqlite:///"):
        print(f"file: {os.path.getsize(path) / 1e6:.0f} MB")
    cases = [
        ("table  impact depth 10", lambda: queries.impact(store, table(0, 42), depth=10)),
        ("table  impact depth 10 direct", lambda: queries.impact(store, table(0, 42), depth=10, direct_only=True)),
        ("column impact depth 10 (c2)", lambda: queries.impact(store, f"{table(0, 42)}.c2", depth=10)),
        ("column impact depth 10 (c4)", lambda: queries.impact(store, f"{table(0, 42)}.c4", depth=10)),
        ("column impact depth 10 (c0 join key) direct", lambda: queries.impact(
            store, f"{table(0, 42)}.c0", depth=10, direct_only=True)),
        ("column impact depth 10 (c0 join key) all", lambda: queries.impact(store, f"{table(0, 42)}.c0", depth=10)),
        ("column upstream depth 10", lambda: queries.upstream(store, f"{table(10, 42)}.c3", depth=10)),
    ]
    for label, run in cases:
        times, result = timed(run, args.repeat)
        print(f"{label:<45} nodes {len(result.nodes):>6,} edges {len(result.edges):>7,}  "
              f"first {times[0]:7.1f} ms  median {statistics.median(times):7.1f} ms  "
              f"p95 {sorted(times)[int(len(times) * 0.95) - 1]:7.1f} ms")
    store.close()


if __name__ == "__main__":
    main()
