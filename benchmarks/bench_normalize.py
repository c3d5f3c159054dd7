"""Rows per second of reading an export and fingerprinting it (source + normalize).

    python benchmarks/make_history.py /tmp/history.csv
    python benchmarks/bench_normalize.py /tmp/history.csv [--dialect snowflake] [--repeat 3]

Prints, for the best of ``--repeat`` runs: the rate of reading alone, of reading
and normalizing, the cost per row of each, the distinct raw texts and distinct
fingerprints, and the normalizer's cache counters. Each run is timed in CPU time
(the machine may be shared) and reads as a harvest does: batches of ``--batch``
entries, each fingerprinted, the source's position taken, then freed, with the
harvest's garbage-collector settings. Not a test: a measurement.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqllineage_harvester.dialects import get_dialect  # noqa: E402
from sqllineage_harvester.harvest import DEFAULT_BATCH, _fewer_collections  # noqa: E402
from sqllineage_harvester.normalize import Normalizer  # noqa: E402
from sqllineage_harvester.sources import open_source  # noqa: E402


def read_only(path: str, dialect: str, batch: int) -> tuple[float, int, set[str]]:
    """CPU seconds to read the file in batches (each freed before the next), rows, distinct texts."""
    source = open_source(path, dialect)
    texts = set()
    with _fewer_collections():
        began = time.process_time()
        entries = iter(source.read())
        while chunk := list(islice(entries, batch)):
            texts.update(entry.sql for entry in chunk)
            source.position()
            del chunk
        spent = time.process_time() - began
    return spent, source.stats.rows_read, texts


def read_and_normalize(path: str, dialect: str, batch: int) -> tuple[float, int, set[str], Normalizer]:
    """CPU seconds to read and fingerprint the file in batches, rows, fingerprints, the normalizer."""
    source = open_source(path, dialect)
    normalizer = Normalizer(get_dialect(dialect).backslash_escapes)
    fingerprints = set()
    with _fewer_collections():
        began = time.process_time()
        entries = iter(source.read())
        while chunk := list(islice(entries, batch)):
            items = [normalizer(entry) for entry in chunk]
            fingerprints.update(item.fingerprint for item in items)
            source.position()
            del chunk, items
        spent = time.process_time() - began
    return spent, source.stats.rows_read, fingerprints, normalizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--dialect", default="snowflake")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="entries a batch, as the harvest's")
    args = parser.parse_args()
    read_s, rows, texts = min((read_only(args.path, args.dialect, args.batch) for _ in range(args.repeat)),
                              key=lambda r: r[0])
    gc.collect()
    best = min((read_and_normalize(args.path, args.dialect, args.batch) for _ in range(args.repeat)),
               key=lambda r: r[0])
    total_s, _, fingerprints, normalizer = best
    print(f"rows read:              {rows:,}")
    print(f"distinct raw texts:     {len(texts):,} ({len(texts) / rows:.1%})")
    print(f"distinct fingerprints:  {len(fingerprints):,} ({len(fingerprints) / rows:.1%})")
    print(f"read only:              {rows / read_s:,.0f} rows/s ({read_s / rows * 1e6:.1f} µs/row of CPU)")
    print(f"read + normalize:       {rows / total_s:,.0f} rows/s ({total_s / rows * 1e6:.1f} µs/row of CPU)")
    print(f"normalize alone:        {(total_s - read_s) / rows * 1e6:.1f} µs/row on average")
    print(f"normalizer:             {normalizer.stats}")


if __name__ == "__main__":
    main()
