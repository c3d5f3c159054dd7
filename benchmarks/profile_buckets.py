"""Where a harvest's time goes, by stage: a sampling profiler with no dependency.

Used by ``bench_harvest.py --profile``. Every few milliseconds of CPU time (``SIGPROF``, which
the harvest's own statement time limit, ``SIGALRM``, leaves alone) the main thread's stack is
filed under the first bucket whose rule matches, innermost frame first; garbage collection is
timed apart through ``gc.callbacks``. (A sampling thread would see the main thread mostly
where it lets go of the GIL, in the store's I/O.) Work done in parse worker processes is not
seen: profile with ``--workers 1``.
"""

from __future__ import annotations

import gc
import signal
import time
from collections import Counter
from types import FrameType

# (bucket, path parts, function names): a frame matches when its file path contains one of the
# parts and, where names are given, its function is one of them. Innermost match wins. sqlglot's
# compiled extension has no Python frames: its time shows under our function that called it.
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("sqlglot tokenize + parse", ("sqllineage_harvester/extract/",), ("_parse", "tokenize")),
    ("qualify", ("sqllineage_harvester/extract/columns.py",), ("qualify_query",)),
    ("timestamps", ("sources/files.py",), ("parse_time", "_utc_minute", "_parse_time_slowly", "_minute",
                                           "_parse_time_otherwise", "__call__")),  # TimeReader (FilePlace: once a batch)
    ("JSON encode / decode", ("json/",), ()),
    ("sqlglot tokenize + parse", ("sqlglot/tokens.py", "sqlglot/parser.py", "sqlglot/tokenizer"), ()),
    ("sqlglot tokenize + parse", ("sqlglot/dialects/",), ("tokenize", "parse", "parse_into")),
    ("qualify", ("sqlglot/optimizer/",), ()),
    ("lineage walk", ("extract/columns.py",), ("trace_query", "by_position", "_trace", "walk")),
    ("results: sanitize, (de)serialize", ("sqllineage_harvester/graph.py",),
     ("sanitize", "encode", "decode", "_statement", "_column_ref", "statement_dict")),
    ("extraction glue", ("sqllineage_harvester/extract/",), ()),
    ("extraction glue", ("sqlglot/",), ()),
    ("normalize / fingerprint", ("sqllineage_harvester/normalize.py", "sqllineage_harvester/redact.py"), ()),
    ("CSV -> LogEntry", ("sqllineage_harvester/sources/",), ()),
    ("store writes", ("sqllineage_harvester/stores/", "sqlalchemy/", "sqlite3/", "psycopg/", "neo4j/"), ()),
    ("graph building", ("sqllineage_harvester/graph.py", "sqllineage_harvester/system_objects.py"), ()),
    ("learning + sessions", ("sqllineage_harvester/learn.py", "sqllineage_harvester/sessions.py"), ()),
    ("harvest loop", ("sqllineage_harvester/harvest.py",), ()),
]


def bucket(frame: FrameType | None) -> str:
    while frame is not None:
        code = frame.f_code
        path = code.co_filename.replace("\\", "/")
        for name, parts, functions in RULES:
            if any(p in path for p in parts) and (not functions or code.co_name in functions):
                return name
        frame = frame.f_back
    return "other"


class Sampler:
    """``with Sampler() as s: work()``, then ``s.report()``."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.samples: Counter[str] = Counter()
        self.gc_seconds = 0.0
        self.gc_collections = 0
        self._gc_started = 0.0
        self.wall = 0.0

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_seconds += time.perf_counter() - self._gc_started
            self.gc_collections += 1

    def _sample(self, signum: int, frame: FrameType | None) -> None:
        self.samples[bucket(frame)] += 1

    def __enter__(self) -> Sampler:
        gc.callbacks.append(self._gc)
        self._previous = signal.signal(signal.SIGPROF, self._sample)
        self._began = time.perf_counter()
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, self._previous)
        self.wall = time.perf_counter() - self._began
        gc.callbacks.remove(self._gc)

    def report(self) -> str:
        total = sum(self.samples.values()) or 1
        lines = [f"{'stage':28s} {'share':>6s} {'seconds':>8s}"]
        for name, n in self.samples.most_common():
            lines.append(f"{name:28s} {100 * n / total:5.1f}% {self.wall * n / total:8.2f}")
        lines.append(f"{'(of which garbage collection':28s} {100 * self.gc_seconds / max(self.wall, 1e-9):5.1f}% "
                     f"{self.gc_seconds:8.2f}  in {self.gc_collections} collections)")
        lines.append(f"{'wall':28s} {'':6s} {self.wall:8.2f}")
        return "\n".join(lines)
