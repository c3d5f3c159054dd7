"""PostgreSQL server logs: csvlog and jsonlog files, one or a folder, gzip'd or not.

``pglog:///var/lib/postgresql/data/log`` (or a file). Statements come from the
messages ``log_statement`` writes (``statement: ...``, ``execute <name>: ...``)
and ``log_min_duration_statement`` writes (``duration: 1.2 ms  statement: ...``);
the parse and bind steps of the extended protocol, and duration lines without a
text, are left out, so each execution is counted once. A csvlog record keeps a
multi-line statement in one quoted field. Each entry has the record's time
(an execution time), user, database and session id (so a session's temp tables
and settings chain); the ``query_id`` (PostgreSQL 14+, ``compute_query_id``)
becomes ``source_hash``. The session id is the log's own (``%c``: the backend's
start time and process id in hex, ``65a4f1c2.1a2b``), the same in csvlog and
jsonlog and across rotated files.

A statement followed in its session by an ERROR about it failed: it is counted
as failed and not harvested. To know, an entry waits until its session logs
again (at most ``WINDOW`` records, or the end of the log).

The literals in these logs are real values: the harvest redacts them before
anything is stored; bind parameters (``DETAIL: parameters: $1 = ...``) are never read.

Cursor: ``l:<file>|<record>``, the file's path relative to the folder read and
the record's number in it. Files are read in name order (PostgreSQL's
``postgresql-%Y-%m-%d_%H%M%S`` names sort by time); a final record still being
written (no line end yet) is left for the next run.
"""

from __future__ import annotations

import csv
import json
import re
from collections import deque
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, NamedTuple

from ..dialects import Dialect
from ..errors import ConfigError
from ..model import LogEntry
from . import SourceStats
from .files import FilePlace, log_files, parse_time, read_logs, record_cursor, zone

WINDOW = 1000  # records an entry waits for its session's next record
_STATEMENT = re.compile(r"(?:duration: [0-9.]+ ms  )?(?:statement|execute [^:\n]*): ")
_FAILED = frozenset({"ERROR", "FATAL", "PANIC"})
# csvlog fields (PostgreSQL 13+) by position, and the jsonlog keys they correspond to.
CSV_FIELDS = {"time": 0, "user": 1, "database": 2, "pid": 3, "session": 5, "severity": 11, "message": 13,
              "query": 19, "application": 22, "query_id": 25}
JSON_KEYS = {"time": "timestamp", "user": "user", "database": "dbname", "pid": "pid", "session": "session_id",
             "severity": "error_severity", "message": "message", "query": "statement",
             "application": "application_name", "query_id": "query_id"}
Record = dict[str, str]


class _Held:
    """A statement waiting for the next record of its session."""

    __slots__ = ("number", "session", "entry", "done", "failed")

    def __init__(self, number: int, session: str, entry: LogEntry) -> None:
        self.number, self.session, self.entry = number, session, entry
        self.done = self.failed = False


class PgLogSource:
    """Statements of a PostgreSQL csvlog / jsonlog file or folder."""

    def __init__(self, path: str, dialect: Dialect, mapping: Mapping[str, str] | None = None, *,
                 schema: str | None = "public", timezone: str = "UTC", window: int = WINDOW) -> None:
        text = path.split("://", 1)[1] if "://" in path else path
        self.path = Path(text)
        if not self.path.exists():
            raise ConfigError(f"no such log file or folder: {self.path}")
        self.url = "pglog://" + self.path.resolve().as_posix()
        self.dialect, self.schema, self.window = dialect, schema, window
        self.tz = zone(timezone)
        self.stats = SourceStats()
        csv.field_size_limit(1 << 30)

    def files(self) -> list[tuple[str, Path]]:
        """(name used in cursors, path) of every log file, in reading order."""
        return log_files(self.path, _format)

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        after = record_cursor(after_cursor, "l", "PostgreSQL log")
        files = self.files()
        self.place = FilePlace(files)  # bytes read of the files' total, for the progress bar
        return read_logs(files, after, self.stats, self._read_file, (csv.Error,), self.place)

    def _read_file(self, name: str, path: Path, text: IO[str], skip_to: int) -> Iterator[LogEntry]:
        waiting: deque[_Held] = deque()  # statements in log order, each until its session logs again
        by_session: dict[str, _Held] = {}
        for number, record in enumerate(_records(text, _format(path) or "csv")):
            if isinstance(record, Broken):
                if number > skip_to:
                    self._broken(name, number, record)
                continue
            session = record["session"] or record["pid"]
            held = by_session.pop(session, None)
            if held is not None:  # the record after a statement in its session says whether it failed
                held.done = True
                held.failed = record["severity"] in _FAILED and record["query"] in ("", held.entry.sql)
            if number > skip_to and record["severity"] not in _FAILED:
                entry = self._entry(record, f"l:{name}|{number}")
                if entry is not None:
                    waiting.append(held := _Held(number, session, entry))
                    by_session[session] = held
            yield from self._release(waiting, by_session, number - self.window)
        yield from self._release(waiting, by_session, None)

    def _release(self, waiting: deque[_Held], by_session: dict[str, _Held], before: int | None) -> Iterator[LogEntry]:
        while waiting and (before is None or waiting[0].done or waiting[0].number <= before):
            held = waiting.popleft()
            if by_session.get(held.session) is held:
                del by_session[held.session]
            self.stats.rows_read += 1
            if self.stats.own_query(held.entry.sql, held.entry.cursor or ""):
                continue
            if held.failed:
                self.stats.failed += 1
                continue
            self.stats.entries += 1
            yield held.entry

    def _broken(self, name: str, number: int, broken: Broken) -> None:
        """A record that is no JSON object: counted as skipped; the run's first is told in a note."""
        self.stats.rows_read += 1
        if not any(reason in self.stats.skipped for reason in ("malformed_json", "not_an_object")):
            self.stats.notes.append(f"{name} record {number} is not a JSON log record ({broken.detail}): skipped; "
                                    f"each such record is counted as skipped")
        self.stats.skip(broken.reason, f"l:{name}|{number}")

    def _entry(self, record: Record, cursor: str) -> LogEntry | None:
        message = record["message"]
        match = _STATEMENT.match(message)
        if match is None:
            return None
        sql = message[match.end():]
        if not sql.strip():
            self.stats.skip("empty_sql", cursor)
            return None
        query_id = record["query_id"]
        return LogEntry(
            sql=sql, dialect=self.dialect.sqlglot, database=record["database"] or None, schema=self.schema,
            user=record["user"] or None, start_time=self._time(record["time"]), session_id=record["session"] or None,
            source_hash=query_id if query_id not in ("", "0") else None, cursor=cursor,
        )

    def _time(self, text: str) -> str | None:
        """``2024-01-15 10:23:45.123 UTC`` -> ``2024-01-15T10:23:45.123000Z``."""
        if text.endswith((" UTC", " GMT")) and len(text) == 27:
            return f"{text[:10]}T{text[11:23]}000Z"
        stamp, _, zone_name = text.rpartition(" ")
        if zone_name[:1] in "+-" and zone_name[1:].replace(":", "").isdigit():
            return parse_time(stamp + zone_name + ("" if len(zone_name) > 3 else ":00"), (), self.tz)
        self.stats.warnings["zone_assumed"] += 1  # an abbreviation such as CET: the timezone option decides
        return parse_time(stamp or text, (), self.tz)


class Broken(NamedTuple):
    """A jsonlog line that is no JSON object: why (a skip reason) and the parser's words."""

    reason: str
    detail: str


def _records(lines: IO[str], fmt: str) -> Iterator[Record | Broken]:
    if fmt == "json":
        for line in lines:
            if line.strip() and line.endswith("\n"):
                yield _json_record(line)
        return
    for row in csv.reader(_complete_lines(lines)):
        if len(row) >= 23:
            yield {k: row[i] if i < len(row) else "" for k, i in CSV_FIELDS.items()}


def _json_record(line: str) -> Record | Broken:
    try:
        obj = json.loads(line)
    except ValueError as e:
        return Broken("malformed_json", str(e))
    if not isinstance(obj, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(obj), "a number")
        return Broken("not_an_object", f"{kind}, not an object")
    return {k: _str(obj.get(key)) for k, key in JSON_KEYS.items()}


def _complete_lines(lines: IO[str]) -> Iterator[str]:
    """The lines of a file, without a last one still being written (no line end)."""
    for line in lines:
        if line.endswith("\n"):
            yield line


def _str(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    return {".csv": "csv", ".json": "json", ".jsonl": "json"}.get(suffix)


__all__ = ["PgLogSource"]
