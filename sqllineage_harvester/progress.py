"""Where a harvest is, for the person waiting on it: a bar on stderr when stderr is a terminal,
a plain timestamped line every ``every`` seconds when it is not (cron, CI, ``kubectl logs``).

The harvest loop knows nothing of either: after each batch it calls its ``progress`` callback
with a ``Tick`` (``tick`` builds one from the report, the source and the batch). A source that
can say how far through its bytes it is, and which file it reads, has a ``place()`` method
(``FileSource``); the others give rows alone. The bar is tqdm's: one small, long-maintained
library with no dependencies of its own that writes to the stream it is given (click's bar
writes to stdout, which is for data).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, TextIO


@dataclass(frozen=True)
class Place:
    """How far a source has read: bytes of the total (None where not known) and the file."""

    done: int | None = None
    total: int | None = None
    current: str | None = None


@dataclass(frozen=True)
class Tick:
    """The harvest after a batch: rows read so far (and before the cursor), statements so far."""

    rows: int
    batch_rows: int
    already: int
    distinct: int
    parsed: int
    failed: int
    cached: int
    place: Place


def tick(report: Any, source: Any, batch_rows: int, stats: Any) -> Tick:
    """A ``Tick`` from a ``HarvestReport``, a source and the ``SourceStats`` of the batch."""
    where = getattr(source, "place", None)
    return Tick(stats.rows_read, batch_rows, stats.before_cursor, report.distinct, report.parsed, report.failed,
                report.cached, where() if where is not None else Place())


def short_cursor(cursor: str | None) -> str:
    """A cursor as the closing summary shows it: a files cursor by its latest time and its files,
    any other whole up to 80 characters.

    >>> short_cursor(None)
    'none (nothing harvested yet)'
    >>> short_cursor('files:{"files": {"a.csv": ["2024-03-30T10:18:49Z", 9]}, "mark": "2024-03-30T10:18:49Z"}')
    '2024-03-30T10:18:49Z (1 file)'
    >>> short_cursor('files:{"files": {"a.csv": ["", 9]}, "mark": ""}')  # rows without times
    'row positions (1 file)'
    """
    if not cursor:
        return "none (nothing harvested yet)"
    if cursor.startswith("files:"):
        try:
            data = json.loads(cursor[len("files:"):])
            n = len(data.get("files", {}))
            return f"{data.get('mark') or 'row positions'} ({n:,} file{'s' * (n != 1)})"
        except (ValueError, AttributeError):
            pass
    return cursor if len(cursor) <= 80 else cursor[:79] + "…"


def size(n: float) -> str:
    """Bytes for people.

    >>> size(73_400_320), size(512)
    ('70.0 MB', '512 B')
    """
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"


def counts(t: Tick) -> str:
    """What the statements came to so far.

    >>> counts(Tick(0, 0, 0, 3300, 3200, 95, 5, Place()))
    '3,300 distinct: 3,200 parsed, 95 failed'
    """
    return f"{t.distinct:,} distinct: {t.parsed:,} parsed, {t.failed:,} failed"


def line(t: Tick, seconds: float) -> str:
    """One plain line: rows, bytes of the total, rate, ETA, statements, file.

    >>> line(Tick(40_000, 20_000, 0, 10, 9, 1, 0, Place(50, 100, "h.csv")), 4.0)
    'harvest: 40,000 rows, 50 B of 100 B (50%), 10,000 rows/s, about 4s left; 10 distinct: 9 parsed, 1 failed; h.csv'
    """
    rate = t.rows / seconds if seconds > 0 else 0.0
    parts = [f"{t.rows:,} rows"]
    p = t.place
    if p.done is not None and p.total:
        parts.append(f"{size(p.done)} of {size(p.total)} ({p.done / p.total:.0%})")
    parts.append(f"{rate:,.0f} rows/s")
    if p.done is not None and p.total and p.done:
        left = seconds * (p.total - p.done) / p.done
        parts[-1] += f", about {_duration(left)} left"
    text = "harvest: " + ", ".join(parts) + "; " + counts(t)
    return text + (f"; {p.current}" if p.current else "")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Lines:
    """A timestamped line every ``every`` seconds (and never more often), for a log file."""

    def __init__(self, stream: TextIO, every: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.every, self.clock = stream, every, clock
        self.started = self.last = clock()

    def __call__(self, t: Tick) -> None:
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.stream.write(f"{stamp} {line(t, now - self.started)}\n")
        self.stream.flush()

    def close(self) -> None:
        pass


class Bar:
    """tqdm's bar on a terminal: bytes of the total when the source knows them, else rows; rows,
    their rate, statements and the file after it."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic, redraw: float = 0.5) -> None:
        self.stream, self.clock, self.redraw = stream, clock, redraw  # redraw: at most every so many seconds
        self.started = clock()
        self.bar: Any = None
        self.bytes = False

    def _open(self, t: Tick) -> None:
        from tqdm import tqdm

        self.bytes = t.place.total is not None
        self.bar = tqdm(total=t.place.total, file=self.stream, unit="B" if self.bytes else " rows",
                        unit_scale=self.bytes, unit_divisor=1024, desc="harvest", leave=False,
                        dynamic_ncols=True, mininterval=self.redraw, miniters=1)

    def __call__(self, t: Tick) -> None:
        if self.bar is None:
            self._open(t)
        done = t.place.done if self.bytes and t.place.done is not None else t.rows
        rate = t.rows / max(self.clock() - self.started, 1e-9)
        where = f"; {t.place.current}" if t.place.current else ""
        self.bar.set_postfix_str(f"{t.rows:,} rows, {rate:,.0f} rows/s; {counts(t)}{where}", refresh=False)
        self.bar.update(max(done - self.bar.n, 0))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def reporter(stream: TextIO, every: float = 30.0) -> Bar | Lines:
    """A bar for a terminal, timestamped lines every ``every`` seconds for anything else."""
    return Bar(stream) if stream.isatty() else Lines(stream, every)
