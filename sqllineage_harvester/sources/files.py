"""Exported history files: CSV / TSV and JSON lines, gzip'd or not, one file or a folder.

Rows become log entries through the dialect's ``[export]`` section: which
column fills which field, how times are written, which status values mean a
failed or unfinished run. A user mapping overrides it field by field. The file
is streamed line by line; a bad row (malformed, wrong field count, bytes that
are not in the file's encoding, a statement over the size limit) is skipped and
counted by reason, a bad file (unreadable, broken gzip, no SQL column, no row with
SQL text) is noted in ``stats.file_errors`` with how far it was read; neither stops
the read. A file without a column its dialect keeps failed runs or times in is read,
with a warning (``files_missing_fields``).

Cursor: ``t:<ISO time>|<file>|<row>`` where the dialect's cursor is a time the
file has, else ``o:<file>|<row>``; ``<file>`` is the path relative to the folder
read (the file name for a single file) and ``<row>`` the data row's number in it.
Rows at or before ``after_cursor`` are skipped, so a resumed run continues where
the last committed one ended, provided the export is in time order (as history
exports are) or, for row cursors, the files have not been rewritten.

``position()`` gives one cursor for all files read (``files:{json}``, see ``Progress``):
each file's row and latest time, and where its last row read ends (``at``: byte offset,
lines, the header's length, and a hash of the header row and of the bytes just before the
offset). A file whose header and bytes before the offset are unchanged is read on from the
offset without parsing what came before (an appended file reads only its new rows); any
other file is read from its start and its rows up to its cursor skipped.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import zlib
import re
from datetime import datetime, timedelta, timezone, tzinfo
from hashlib import blake2b
from itertools import chain
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import unquote, urlparse

from ..dialects import Dialect, ExportFormat, fitting_exports
from ..errors import ConfigError
from ..model import LogEntry
from ..progress import Place as ProgressPlace
from . import HARVESTER_TAG, SourceStats, harvest_time
from .records import event_rows, member as _member, text as _text

CSV_SUFFIXES = (".csv", ".tsv")
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
DEFAULT_MAX_STATEMENT = 64 * 1024 * 1024  # characters
# Fields whose column a file may lack and still be read, at a cost worth a warning (with a note naming
# the file and the columns looked for). Every other column of the dialect's mapping is optional: a
# file without it (a history exported without ACCESS_HISTORY's columns) leaves its field empty, quietly.
TELLING_FIELDS = {"status": "failed runs cannot be told from good ones", "start_time": "rows have no time: they carry the harvest's"}
WINDOW = 4096  # bytes before a file's offset whose hash says the rows read up to it are still there


def _entry_fields() -> dict[str, Any] | None:
    """LogEntry's fields with their defaults, in order, where an entry can be made by filling its
    ``__dict__`` (what its generated ``__init__`` does, without a frozen-attribute call per field):
    a plain dataclass without ``__post_init__``, slots or default factories. Else None."""
    if not dataclasses.is_dataclass(LogEntry) or hasattr(LogEntry, "__post_init__") or hasattr(LogEntry, "__slots__"):
        return None
    defaults: dict[str, Any] = {}
    for f in dataclasses.fields(LogEntry):
        if f.default_factory is not dataclasses.MISSING or not f.init:
            return None
        defaults[f.name] = None if f.default is dataclasses.MISSING else f.default
    return defaults


ENTRY_FIELDS = _entry_fields()


class _Skip(Exception):
    """A row that cannot become a log entry; the message is the reason."""


class _LineState:
    """Flags for the record being read, and the bytes read so far: ``pos`` ends the last line
    read, ``prev`` and ``last`` are the last two lines (the bytes just before ``pos``)."""

    __slots__ = ("bad_encoding", "too_long", "pos", "prev", "last")

    def __init__(self, pos: int = 0, prev: bytes = b"", last: bytes = b"") -> None:
        self.bad_encoding = self.too_long = False
        self.pos, self.prev, self.last = pos, prev, last

    def take(self) -> str | None:
        """The reason to skip the record just read, if any, clearing it."""
        reason = "encoding" if self.bad_encoding else "too_long" if self.too_long else None
        self.bad_encoding = self.too_long = False
        return reason


def _lines(stream: IO[bytes], encoding: str, limit: int, state: _LineState) -> Iterator[str]:
    """Decoded lines (endings kept), flagging undecodable and over-long ones in ``state``."""
    readline = stream.readline
    while True:
        raw = readline(limit)
        if not raw:
            return
        state.pos += len(raw)
        state.prev, state.last = state.last, raw
        if len(raw) == limit and not raw.endswith(b"\n"):
            state.too_long = True
            while raw and not raw.endswith(b"\n"):
                raw = readline(limit)
                state.pos += len(raw)
                state.prev, state.last = state.last, raw
            yield "\n"
            continue
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError:
            state.bad_encoding = True
            yield raw.decode(encoding, "replace")


class _Plan:
    """How one file's rows, as lists of strings, become log entry fields."""

    def __init__(self, names: list[str], columns: Mapping[str, str], export: ExportFormat, tz: tzinfo,
                 template: Mapping[str, Any] | None = None):
        """``template``: an entry's fields with their defaults, in order, where entries are made by
        filling their ``__dict__``; ``whole`` says whether ``fields`` gives all of them."""
        index: dict[str, int] = {}
        for i, name in enumerate(names):
            index.setdefault(name.strip().lstrip("\ufeff").lower(), i)
        by_field: dict[str, list[int]] = {}
        for column, name in columns.items():
            if column in index:
                by_field.setdefault(name, []).append(index[column])
        if "sql" not in by_field:
            wanted = [c for c, f in columns.items() if f == "sql"]
            raise _Skip(f"no SQL column (looked for {', '.join(wanted)})")
        self.names, self.width = names, len(names)
        self.missing_fields = sorted(f for f in TELLING_FIELDS if f in columns.values() and f not in by_field)
        self.fields_set = set(by_field)
        self.single = [(f, ix[0]) for f, ix in by_field.items() if len(ix) == 1]
        # {field: row[i] or None, ...} as one dict display: a third of the time of a comprehension
        display = ", ".join(f"{f!r}: row[{int(i)}] or None" for f, i in self.single)
        self._single: Callable[[list[str]], dict[str, Any]] = eval(f"lambda row: {{{display}}}", {"__builtins__": {}})
        self.multi = [(f, tuple(ix)) for f, ix in by_field.items() if len(ix) > 1]
        self.times = [f for f in ("start_time", "end_time") if f in by_field]
        self.ints = [f for f in ("rows", "executions") if f in by_field]
        self.status = export.status if "status" in by_field else None
        self.formats, self.tz = export.timestamp_formats, tz
        self._time = TimeReader(self.formats, tz).__call__  # a bound method: cheaper to call than the reader
        self.cursor_field = export.cursor if export.cursor in by_field else None
        self.nulls = export.null_values
        # upper() never shortens a string: a value longer than every null value is not one
        self.null_length = max((len(n) for n in self.nulls), default=0)
        self.bad_times = 0
        self._statuses: dict[str, str] = {}  # status as written -> as read
        self.whole = False
        if not self.multi and not self.nulls:  # one column a field, no null words: one function does it all
            self.whole = template is not None and self.fields_set <= template.keys()
            self.fields = self._compiled(template if self.whole else None)  # type: ignore[method-assign]

    def _compiled(self, template: Mapping[str, Any] | None) -> Callable[[list[str]], dict[str, Any]]:
        """``fields`` for this file's columns as one function: each field's value taken and converted
        in a line of its own and the entry's fields made as one dict display (with ``template``, all
        of an entry's fields in its order, the others at their defaults: the entry's ``__dict__``
        is filled in one update)."""
        body, display = [], []
        for n, (f, i) in enumerate(self.single):
            i = int(i)
            if f in self.times:
                body += [f"    v{n} = row[{i}]", f"    if v{n}:", f"        v{n} = time(v{n})",
                         f"        if v{n} is None:", "            plan.bad_times += 1", "    else:",
                         f"        v{n} = None"]
            elif f in self.ints:  # (what int() reads, read alike by _integer)
                body.append(f"    v{n} = row[{i}]")
                body.append(f"    v{n} = int(v{n}) if v{n}.isdecimal() else integer(v{n}) if v{n} else None")
            elif f == "status" and self.status is not None:
                body.append(f"    v{n} = (statuses.get(row[{i}]) or status(row[{i}])) if row[{i}] else None")
            else:
                display.append(f"{f!r}: row[{i}] or None")
                continue
            display.append(f"{f!r}: v{n}")
        scope: dict[str, Any] = {"__builtins__": {}, "time": self._time, "plan": self, "integer": _integer,
                                 "statuses": self._statuses, "status": self._status, "int": int}
        if template is not None:
            given = dict(item.split(": ", 1) for item in display)
            display = []
            for n, (f, default) in enumerate(template.items()):
                scope[f"d{n}"] = default
                value = given.get(repr(f), f"d{n}")
                if f == "executions" and "executions" in self.fields_set:  # no count: the default (one run)
                    value = f"{value} if {value} is not None else d{n}"
                display.append(f"{f!r}: {value}")
        body.append(f"    kw = {{{', '.join(display)}}}")
        if "executions" in self.fields_set and template is None:  # no count: the entry's default (one run)
            body.append("    if kw['executions'] is None:\n        del kw['executions']")
        body.append("    return kw")
        exec("def fields(row):\n" + "\n".join(body), scope)
        return scope["fields"]

    def fields(self, row: list[str]) -> dict[str, Any]:
        """The entry's fields from one row, converted; status is success, failed, unfinished or as given."""
        kw = self._single(row)
        for f, ix in self.multi:
            kw[f] = next((row[i] for i in ix if row[i] and row[i].upper() not in self.nulls), None)
        if self.nulls:
            nulls, longest = self.nulls, self.null_length
            kw.update({f: None for f, v in kw.items() if v is not None and len(v) <= longest and v.upper() in nulls})
        for f in self.times:
            text = kw[f]
            if text is not None:
                kw[f] = value = self._time(text)
                if value is None:
                    self.bad_times += 1
        for f in self.ints:
            kw[f] = _integer(kw[f])
        if kw.get("executions", 1) is None:
            del kw["executions"]
        if self.status is not None:
            value = kw["status"]
            if value is not None:
                kw["status"] = self._statuses.get(value) or self._status(value)
        return kw

    def _status(self, value: str) -> str:
        found = self._read_status(value)
        if len(self._statuses) < 1000:
            self._statuses[value] = found
        return found

    def _read_status(self, value: str) -> str:
        upper, status = value.strip().upper(), self.status
        assert status is not None
        if upper in status.success:
            return "success"
        if upper in status.failure:
            return "failed"
        if upper in status.ignored:
            return "ignored"
        return "unfinished" if upper in status.unfinished else value.strip().lower()


def _integer(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            return None


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class FilePlace:
    """How far through its files a reader is, for the progress bar: bytes read of their total
    (compressed bytes, for a .gz) and the file open."""

    def __init__(self, files: list[tuple[str, Path]]) -> None:
        self.sizes = {name: _file_size(path) for name, path in files}
        self.done = 0
        self.open: tuple[str, IO[bytes]] | None = None

    def skip(self, name: str) -> None:
        self.done += self.sizes.get(name, 0)

    def reading(self, name: str, raw: IO[bytes]) -> None:
        self.open = (name, raw)

    def finished(self) -> None:
        if self.open is not None:
            self.skip(self.open[0])
            self.open = None

    def __call__(self) -> ProgressPlace:
        inside, name = 0, None
        if self.open is not None:
            name = self.open[0]
            try:
                inside = self.open[1].tell()
            except (OSError, ValueError):  # closed: read to its end
                inside = self.sizes.get(name, 0)
        return ProgressPlace(self.done + inside, sum(self.sizes.values()), name)


class FileSource:
    """History exported to files: one file, or a folder read in name order."""

    def __init__(
        self,
        path: str,
        dialect: Dialect,
        mapping: Mapping[str, str] | None = None,
        *,
        encoding: str = "utf-8",
        max_statement: int = DEFAULT_MAX_STATEMENT,
    ):
        self.path = Path(path[len("file://"):] if path.startswith("file://") else path)
        if not self.path.exists():
            raise ConfigError(f"no such file or folder: {self.path}")
        self.url = self.path.resolve().as_uri()
        self.dialect = dialect
        self.encoding = encoding
        self.max_statement = max_statement
        self.columns = export_columns(dialect.export.columns, mapping or {})
        self.tz = zone(dialect.export.timezone)
        self.stats = SourceStats()
        csv.field_size_limit(max(csv.field_size_limit(), max_statement + 1))

    def files(self) -> list[tuple[str, Path]]:
        """(name used in cursors, path) of every file read, in reading order."""
        records = self.dialect.export.records is not None  # an event log's files have any name
        return log_files(self.path, (lambda _: "json") if records else None)

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        """Entries after the cursor: each file from the row after the last one read from it (a
        folder's files need not be in time order); a file new since the cursor from its rows later
        than any read before (older ones are named in a note: they may be in files read already)."""
        listing = self.files()
        progress, after = Progress.resume(after_cursor, [name for name, _ in listing])
        self.now = harvest_time()  # the time of rows that have none (see _untimed)
        self.progress = progress
        self._place = FilePlace(listing)
        for name, path in listing:
            self._place.finished()
            if after and after[0] == "o" and name < after[1]:
                self._place.skip(name)
                continue
            self.stats.files += 1
            seen = self.stats.rows_read + self.stats.before_cursor
            fmt = "json" if self.dialect.export.records is not None else _format(path)
            try:
                with path.open("rb") as raw:
                    self._place.reading(name, raw)
                    stream = _open(raw)
                    start = None
                    if name in progress.at:  # read on from the offset if the file still has what was read
                        start = self._resume_at(stream, fmt, progress.at.pop(name))
                        if start is None:  # from the start, anew: a broken gzip stream cannot be rewound
                            raw.seek(0)
                            stream = _open(raw)
                    yield from self._read_file(name, stream, fmt, after, start)
            except (OSError, EOFError, zlib.error, _Skip) as e:
                rows = 0 if isinstance(e, _Skip) else self.stats.rows_read + self.stats.before_cursor - seen
                self.stats.file_errors.append(not_read(name, e, rows))
            late = progress.late.pop(name, 0)
            if late:
                self.stats.notes.append(
                    f"{name}: new since the last harvest, its {late} rows from before {progress.start} (the latest "
                    "time read then) were not read, as they may be in files read before; if they are not, harvest "
                    f"the file on its own: --source {path}")

    def adopt(self, cursor: str | None, others: Iterable[tuple[str, str | None]]) -> str | None:
        """``cursor`` with the positions other sources of the store reached in this source's files
        (a file harvested on its own, then within its folder, or the other way round): each such
        file is read on from the furthest row any of them reached, so its rows count once.
        ``others`` are (source identity, cursor)."""
        if cursor and not cursor.startswith(PROGRESS):
            return cursor  # an older harvester's single position: left as it was
        own = json.loads(cursor[len(PROGRESS):]) if cursor else {"files": {}, "mark": ""}
        mine = {path.resolve(): name for name, path in self.files()}
        taken: dict[str, str] = {}
        for url, theirs in others:
            if url == self.url or "#" in url or not url.startswith("file://") or not theirs \
                    or not theirs.startswith(PROGRESS):
                continue  # a window reads part of a file only: its position is no file's
            base = Path(unquote(urlparse(url).path))
            data = json.loads(theirs[len(PROGRESS):])
            for name, position in data.get("files", {}).items():
                path = (base if base.is_file() else base / name).resolve()
                ours = mine.get(path)
                known = own["files"].get(ours) if ours is not None else None
                if ours is None or (known and int(known[1]) >= int(position[1])) or int(position[1]) < 0:
                    continue  # not a file of this source, or read as far here already
                own["files"][ours] = position
                own.setdefault("at", {}).pop(ours, None)
                if name in data.get("at", {}):
                    own["at"][ours] = data["at"][name]
                taken[ours] = url
        for name, url in taken.items():
            self.stats.notes.append(f"{name}: harvested before as part of {url}; read on from where that harvest "
                                    "stopped, so its rows count once")
        return PROGRESS + json.dumps(own, sort_keys=True, separators=(",", ":")) if taken else cursor

    def place(self) -> ProgressPlace:
        """Bytes read of all the files' (compressed, for a .gz) and the file being read."""
        return self._place() if hasattr(self, "_place") else ProgressPlace()

    def position(self) -> str | None:
        """The cursor for everything read so far: each file's last row, and the latest time."""
        return self.progress.dump() if getattr(self, "progress", None) is not None else None

    def _resume_at(self, stream: IO[bytes], fmt: str | None, at: list[Any]) -> _Start | None:
        """Where to read a file on from, if its header and the bytes before the offset in ``at`` are
        the ones read then (the stream is left there); else None."""
        try:
            offset, line, head_len, size, tail, digest = at
            if not 0 <= head_len <= offset or not 0 < size <= offset or not 0 <= tail <= size:
                return None
            head = stream.read(head_len)
            if len(head) != head_len:
                return None
            if fmt == "json":
                header, key = None, b""
            else:
                state = _LineState()
                lines = _lines(io.BytesIO(head), self.encoding, self.max_statement + 1024 * 1024, state)
                header = next(_csv_rows(lines, fmt, state), None)
                if header is None or state.pos != head_len:
                    return None
                first = next(_lines(io.BytesIO(head), self.encoding, self.max_statement + 1024 * 1024, _LineState()), "")
                header = (_delimiter(first, fmt), header[0], header[1])
                key = _head_key(header[2])
            stream.seek(offset - size)
            window = stream.read(size)
            if len(window) != size or _digest(key, window) != digest:
                return None
        except (OSError, EOFError, zlib.error, ValueError, TypeError, csv.Error):
            return None
        return _Start(offset, line, head_len, window[:size - tail], window[size - tail:], header)

    def _read_file(self, name: str, stream: IO[bytes], fmt: str | None, after: tuple[Any, ...] | None,
                   start: _Start | None = None) -> Iterator[LogEntry]:
        state = _LineState(start.offset, start.prev, start.last) if start else _LineState()
        lines = _lines(stream, self.encoding, self.max_statement + 1024 * 1024, state)
        if fmt == "json":
            records = self.dialect.export.records
            rows = (_json_rows(lines, self.columns, state, start.line if start else 0) if records is None
                    else event_rows(lines, self.columns, state, records, start.line if start else 0,
                                    lambda n: self.stats.notes.append(
                                        f"{name}:{n}: the last line has no line end yet (still being written?); "
                                        "it is left for the next run")))
        else:
            rows = _csv_rows(lines, fmt, state, start.header if start else None, start.line if start else 0)
        plan: _Plan | None = None
        last_time, stats, sqlglot = "", self.stats, self.dialect.sqlglot
        skip = skip_reasons(self.max_statement, self.dialect.export)
        template: dict[str, Any] | None = None  # an entry's fields before the row's, where entries are made fast
        new_entry = object.__new__
        rows_before = stats.rows_read
        texts = 0  # rows after the cursor with SQL text: a file with rows and none is no export of this dialect
        progress = self.progress
        done = tuple(progress.files.get(name, ("", -1)))  # (running latest time, row) read up to, in this file
        new = name in progress.late
        live, read_up_to = progress.live, progress.files
        cursor_field, width, fields = None, 0, None
        untimed: dict[str, str] | None = None
        first, behind = 1, True
        if start is not None:  # the rows up to the cursor are not read again: they count as before it
            last_time, first = done[0], done[1] + 1
            stats.before_cursor += done[1]
        for offset, (line, row, problem) in enumerate(rows, first - 1):
            if plan is None:  # the first row names the columns
                plan = self._plan(row, None if ENTRY_FIELDS is None else {**ENTRY_FIELDS, "dialect": sqlglot})
                _check_cursor_kind(after, plan, name)
                progress.heads[name] = (start.head_len if start else state.pos, _head_key(row) if fmt != "json" else b"")
                if start is not None:
                    live[name] = (start.offset, start.line, start.prev, start.last)
                if ENTRY_FIELDS is not None and plan.fields_set <= ENTRY_FIELDS.keys():
                    template = {} if plan.whole else {**ENTRY_FIELDS, "dialect": sqlglot}  # (fields gives it all)
                cursor_field, width, fields = plan.cursor_field, plan.width, plan.fields
                untimed = self._untimed(plan)
                continue
            if problem is None and len(row) != width:
                problem = "field_count"
            kw = fields(row) if problem is None else None  # type: ignore[misc]
            time = kw[cursor_field] or "" if cursor_field is not None and kw is not None else ""
            if time > last_time:
                # The running maximum: rows out of time order stay after the cursor they follow.
                last_time = time
            # A file read before is read on after its row (and, for a file rewritten with later rows in
            # place, after its time): rows out of time order stay after the cursor they follow.
            if behind:  # (last_time, offset) only grows: once a row is past the cursor, every later one is
                if (last_time, offset) <= done or (after and (
                        ((last_time, name, offset) if cursor_field else (name, offset)) <= after[1:])):
                    stats.before_cursor += 1
                    if (last_time, offset) == done:  # where the cursor's row ends: the next run reads on from there
                        live[name] = (state.pos, line, state.prev, state.last)
                    continue
                behind = False
            read_up_to[name] = (last_time, offset)
            live[name] = (state.pos, line, state.prev, state.last)
            if new and time and time <= progress.start:
                progress.late[name] += 1
                stats.before_cursor += 1
                continue
            if time > progress.mark:
                progress.mark = time
            stats.rows_read += 1
            if kw is not None:
                sql = kw["sql"]
                if sql:
                    texts += 1
                    if HARVESTER_TAG in sql and stats.own_query(sql, f"{name}:{line}"):
                        continue
            reason = problem or skip(kw)  # type: ignore[arg-type]
            if reason is not None:
                if reason == "failed":
                    stats.failed += 1
                else:
                    stats.skip(reason, f"{name}:{line}")
                continue
            stats.entries += 1
            cursor = f"t:{last_time}|{name}|{offset}" if cursor_field else f"o:{name}|{offset}"
            if untimed is not None:
                kw.update(untimed)  # type: ignore[union-attr]
            if template is None:
                yield LogEntry(dialect=sqlglot, cursor=cursor, **kw)  # type: ignore[arg-type]
                continue
            entry = new_entry(LogEntry)
            values = entry.__dict__
            if template:
                values.update(template)
            kw["cursor"] = cursor
            values.update(kw)
            yield entry
        if plan is not None:
            if plan.bad_times:
                stats.warnings["bad_timestamp"] += plan.bad_times
            if plan.missing_fields:
                stats.warnings["files_missing_fields"] += 1
                stats.examples.setdefault("files_missing_fields",
                                         self._missing_fields(name, plan.missing_fields, plan.names))
            if (read_here := stats.rows_read - rows_before) and not texts:
                raise _Skip(f"none of its {read_here} rows has SQL text (looked for {self._sql_columns()})"
                            f"{self._hint(plan.names)}")

    def _plan(self, names: list[str], template: Mapping[str, Any] | None = None) -> _Plan:
        try:
            return _Plan(names, self.columns, self.dialect.export, self.tz, template)
        except _Skip as e:
            plain = [n.strip().lstrip("\ufeff") for n in names]  # a header's byte order mark is no name's
            if plain and all(n and n.isprintable() and "\ufffd" not in n and len(n) <= 128 for n in plain):
                more = f", ... ({len(names)} in all)" if len(names) > 12 else ""
                shown = ", ".join(plain[:12]) + more
                found = f"its columns are {shown}"
            else:
                found = "its first line is not a row of column names"
            raise _Skip(f"{e}; {found}{self._hint(names)}") from None

    def _untimed(self, plan: _Plan) -> dict[str, str] | None:
        """The times of a file whose rows have none (no time column: a pg_stat_statements export):
        the harvest's, said so (``time_basis``), as the live pg_stat_statements reader gives them;
        None for a file with times. Its cursor stays the row position."""
        if plan.times:
            return None
        return {"start_time": self.now, "end_time": self.now, "time_basis": "harvest"}

    def _sql_columns(self) -> str:
        return ", ".join(c for c, f in self.columns.items() if f == "sql")

    def _hint(self, names: list[str] | None = None) -> str:
        """The question a file that cannot be read ends with: its dialect, or the dialect its columns say."""
        return self._other_export(names) or f"; is --dialect {self.dialect.name} right, or does it need --mapping sql=COLUMN?"

    def _missing_fields(self, name: str, fields: list[str], names: list[str]) -> str:
        wanted = "; ".join(f"no {f} column (looked for {', '.join(c for c, g in self.columns.items() if g == f)}): "
                           f"{TELLING_FIELDS[f]}" for f in fields)
        return f"{name}: {wanted}{self._other_export(names) or f'; is --dialect {self.dialect.name} right?'}"

    def _other_export(self, names: list[str] | None) -> str:
        """Where a CSV file's columns are more another database's export than this dialect's: which
        ('' where none is)."""
        if not names or self.dialect.export.records is not None:  # (a JSON file's names are this dialect's own)
            return ""
        fits, count = fitting_exports(names, self.dialect.name, self.columns)
        if not fits:
            return ""
        return (f"; {count} of its columns are {' or '.join(('an ' if d[0] in 'aeiou' else 'a ') + d for d in fits)}"
                f" export's: is it "
                f"{' or '.join(f'--dialect {d}' for d in fits)}, not --dialect {self.dialect.name}?")


class _Start:
    """Where a file is read on from: the byte offset after its last row read, the lines up to it,
    the header's length, the bytes just before the offset (the end of the line before the last
    one, and the last one), and (CSV) the delimiter, header line number and header row."""

    __slots__ = ("offset", "line", "head_len", "prev", "last", "header")

    def __init__(self, offset: int, line: int, head_len: int, prev: bytes, last: bytes,
                 header: tuple[str, int, list[str]] | None) -> None:
        self.offset, self.line, self.head_len, self.prev, self.last = offset, line, head_len, prev, last
        self.header = header


def _head_key(row: list[str]) -> bytes:
    return "\x1f".join(row).encode("utf-8", "surrogatepass")


def _digest(key: bytes, window: bytes) -> str:
    return blake2b(key + b"\x1e" + window, digest_size=12).hexdigest()


class Progress:
    """How far a harvest of exported files has read: each file's last row (with the latest time up to it), and the latest time
    of any row read (``mark``). A file the cursor does not name is new since; its rows from
    before the mark it started from (``start``) are counted in ``late`` and not read.

    The cursor, ``files:{"at":{...},"files":{...},"mark":"..."}``: ``files`` maps each file to
    ``[latest time, row]``; ``at`` (absent from cursors of versions before it, which read every
    file from its start) maps a file to where that row ends, ``[byte offset, lines, header bytes,
    window bytes, last line's bytes in it, hash]``: the window is the last two lines read before
    the offset, at most ``WINDOW`` bytes, and the hash is of the header row and the window."""

    def __init__(self, files: dict[str, tuple[str, int]], mark: str, new: list[str],
                 at: dict[str, list[Any]] | None = None) -> None:
        self.files, self.mark, self.start = files, mark, mark
        self.late = dict.fromkeys(new, 0)
        self.new = set(new)
        self.at = at or {}  # from the cursor: files not read yet in this run
        self.live: dict[str, tuple[int, int, bytes, bytes]] = {}  # read in this run: (offset, lines, bytes before)
        self.heads: dict[str, tuple[int, bytes]] = {}  # (header length, header key) of the files read in this run

    @classmethod
    def resume(cls, cursor: str | None, names: list[str]) -> tuple[Progress, tuple[Any, ...] | None]:
        """The progress a cursor stands for, and the cursor of an older harvester (one position
        for all files) where it is one."""
        if cursor and cursor.startswith(PROGRESS):
            data = json.loads(cursor[len(PROGRESS):])
            files = {n: (t, int(o)) for n, (t, o) in data["files"].items()}
            new = [n for n in names if n not in files]
            at = {n: a for n, a in data.get("at", {}).items() if n in files}
            return cls({**files, **{n: files.get(n, ("", -1)) for n in names}}, data["mark"], new, at), None
        legacy = _parse_cursor(cursor)
        return cls(dict.fromkeys(names, ("", -1)), legacy[1] if legacy and legacy[0] == "t" else "", []), legacy

    def dump(self) -> str:
        # a file new at this run that it has not reached yet is still new to the next one
        files = {n: p for n, p in self.files.items() if not (n in self.new and p[1] < 0)}
        at = dict(self.at)
        for name, (offset, line, prev, last) in self.live.items():
            head_len, key = self.heads[name]
            window = (prev + last)[-WINDOW:]
            at[name] = [offset, line, head_len, len(window), min(len(last), len(window)), _digest(key, window)]
        cursor = {"files": files, "mark": self.mark}
        if at:
            cursor["at"] = at
        return PROGRESS + json.dumps(cursor, sort_keys=True, separators=(",", ":"))


PROGRESS = "files:"  # a cursor that is a Progress


def not_read(name: str, error: BaseException, rows: int) -> str:
    """One line for ``stats.file_errors``: which file, why, and how many of its rows came before.

    >>> not_read("h.csv.gz", EOFError("Compressed file ended"), 868)
    'h.csv.gz: not read to the end: Compressed file ended (after 868 rows; those are kept)'
    >>> not_read("h.csv", PermissionError(13, "Permission denied", "/x/h.csv"), 0)
    'h.csv: not read: Permission denied'
    """
    reason = (error.strerror if isinstance(error, OSError) and error.strerror else str(error)) or type(error).__name__
    if rows <= 0:
        return f"{name}: not read: {reason}"
    return f"{name}: not read to the end: {reason} (after {rows} rows; those are kept)"


def skip_reason(kw: dict[str, Any], limit: int, export: ExportFormat) -> str | None:
    """Why a row with these fields is not harvested, or None (a reader of many rows makes its
    function once: ``skip_reasons``)."""
    return skip_reasons(limit, export)(kw)


def skip_reasons(limit: int, export: ExportFormat) -> Callable[[dict[str, Any]], str | None]:
    """``skip_reason`` for one file's rows, as one function with the export's settings taken once:
    the text limit's check and the system users' only where the export has them, each user's
    answer remembered (a log has few users), since it is asked of every row."""
    cut, system, users = export.text_limit, export.system_users, {}

    def reason(kw: dict[str, Any]) -> str | None:
        sql = kw["sql"]
        if not sql or sql.isspace():
            return "empty_sql"
        if len(sql) > limit:
            return "too_long"
        status = kw.get("status")
        if status is not None:
            if status in ("failed", "unfinished"):
                return status
            if status == "ignored":
                return "not_a_statement"
        if kw.get("parent_id"):
            return "child_statement"  # its script's own entry has the whole text (temp tables, variables)
        if cut:  # cut at the limit (in characters, or bytes as MySQL counts); longer is whole. A
            # character is 1 to 4 bytes in UTF-8: the bytes are counted only where they could be the limit.
            length = len(sql)
            if cut == length or (length < cut <= 4 * length and len(sql.encode("utf-8")) == cut):
                return "truncated"
        if system:
            user = kw.get("user")
            if user:
                found = users.get(user)
                if found is None:
                    found = user.upper() in system
                    if len(users) < 1000:
                        users[user] = found
                if found:
                    return "system_user"
        return None

    return reason


def _check_cursor_kind(after: tuple[Any, ...] | None, plan: _Plan, name: str) -> None:
    kind = "o" if plan.cursor_field is None else "t"
    if after and after[0] != kind:
        raise ConfigError(f"{name}: the cursor given is a {'row' if after[0] == 'o' else 'time'} cursor, but this file's"
                          f" rows have {'no ' if kind == 'o' else ''}times; was the mapping changed?")


Row = tuple[int, list[str], "str | None"]


def _delimiter(first: str, fmt: str | None) -> str:
    return "\t" if fmt == "tsv" else max(",\t;|", key=first.count)


def _csv_rows(lines: Iterator[str], fmt: str | None, state: _LineState,
              header: tuple[str, int, list[str]] | None = None, base: int = 0) -> Iterator[Row]:
    """(line number, fields, reason to skip or None) for each CSV record; blank lines dropped.
    Read on from the middle of a file, ``header`` is its (delimiter, line number, row), yielded
    first, and ``base`` the number of lines before."""
    if header is None:
        first = next(lines, "")
        delimiter = _delimiter(first, fmt)
        if first:
            lines = chain((first,), lines)
    else:
        delimiter = header[0]
        yield header[1], header[2], None
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            state.take()
            yield base + reader.line_num, [], "too_long" if "field larger" in str(e) else "malformed"
            continue
        problem = state.take() if state.bad_encoding or state.too_long else None
        if row or problem:
            yield base + reader.line_num, row, problem


def _json_rows(lines: Iterator[str], columns: Mapping[str, str], state: _LineState, base: int = 0) -> Iterator[Row]:
    """JSON lines as rows over the mapped columns, after a header row of their names; ``base``
    lines come before the first one read."""
    names = list(columns)
    yield 0, names, None
    for number, line in enumerate(lines, base + 1):
        problem = state.take()
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            yield number, [], problem or "malformed_json"
            continue
        if not isinstance(obj, dict):
            yield number, [], problem or "not_an_object"
            continue
        lowered = {str(k).lower(): v for k, v in obj.items()}
        yield number, [_text(_member(lowered, c)) for c in names], problem




def _open(raw: IO[bytes]) -> IO[bytes]:
    """The byte stream of a file, decompressed when it starts like gzip."""
    head = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    return io.BufferedReader(gzip.GzipFile(fileobj=raw)) if head == b"\x1f\x8b" else raw  # type: ignore[arg-type]


def _format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in CSV_SUFFIXES:
        return suffix[1:]
    return "json" if suffix in JSON_SUFFIXES else None


def log_files(path: Path, readable: Callable[[Path], str | None] | None = None) -> list[tuple[str, Path]]:
    """(name used in cursors, path) of a file, or of every readable file under a folder, in order."""
    if path.is_file():
        return [(path.name, path)]
    readable = readable or _format
    found = [p for p in path.rglob("*") if (p.is_file() or p.is_symlink()) and readable(p)]  # a dangling link: not read
    return sorted((p.relative_to(path).as_posix(), p) for p in found)


def open_text(raw: IO[bytes]) -> IO[str]:
    """A server log file as UTF-8 text (bad bytes replaced), decompressed when it is gzip'd."""
    return io.TextIOWrapper(_open(raw), encoding="utf-8", errors="replace", newline="")


def read_logs(files: list[tuple[str, Path]], after: tuple[str, int] | None, stats: SourceStats,
              read: Callable[[str, Path, IO[str], int], Iterator[LogEntry]],
              errors: tuple[type[Exception], ...] = (), place: FilePlace | None = None) -> Iterator[LogEntry]:
    """The entries of a server log reader's files after its cursor ``(file, record)``: files
    before the cursor's are skipped, ``read(name, path, text, skip_to)`` reads one file and skips
    its records up to ``skip_to``; a file that cannot be read is recorded and the rest go on."""
    place = place or FilePlace([])
    for name, path in files:
        place.finished()
        if after and name < after[0]:
            place.skip(name)
            continue
        stats.files += 1
        skip_to = after[1] if after and name == after[0] else -1
        seen = stats.rows_read + stats.before_cursor
        try:
            with path.open("rb") as raw:
                place.reading(name, raw)
                yield from read(name, path, open_text(raw), skip_to)
        except (OSError, EOFError, zlib.error, *errors) as e:
            stats.file_errors.append(not_read(name, e, stats.rows_read + stats.before_cursor - seen))


def record_cursor(cursor: str | None, kind: str, log: str) -> tuple[str, int] | None:
    """``<kind>:<file>|<record>`` -> (file, record), the cursor of a server log reader.

    >>> record_cursor("g:general.log|12", "g", "MySQL general log")
    ('general.log', 12)
    """
    if not cursor:
        return None
    found, _, body = cursor.partition(":")
    name, _, number = body.rpartition("|")
    if found != kind or not number.isdigit():
        raise ConfigError(f"not a {log} cursor: {cursor!r}")
    return name, int(number)


def export_columns(dialect_columns: Mapping[str, str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased column -> field, the user's mapping first, then the dialect's other fields."""
    columns = {column.lower(): name for name, column in mapping.items()}
    for column, name in dialect_columns.items():
        if name not in mapping:
            columns.setdefault(column.lower(), name)
    return columns


def _parse_cursor(cursor: str | None) -> tuple[Any, ...] | None:
    """``t:<time>|<file>|<row>`` -> ("t", time, file, row); ``o:<file>|<row>`` -> ("o", file, row)."""
    if not cursor:
        return None
    try:
        kind, _, body = cursor.partition(":")
        rest, _, row = body.rpartition("|")
        if kind == "o":
            return ("o", rest, int(row))
        if kind == "t":
            time, _, name = rest.partition("|")
            return ("t", time, name, int(row))
    except ValueError:
        pass
    raise ConfigError(f"not a file source cursor: {cursor!r}")


_ZONED = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:[.,](\d{1,9}))?\s*(Z|[+-]\d\d:?\d\d)?\s*$")


# (day, hh:mm, zone, default zone) -> that minute in UTC ("2024-01-15T18:23"): a log's rows
# share minutes, so a row's time costs a match and a lookup. Offsets and DST changes fall on
# whole minutes, so seconds carry over unchanged.
_MINUTES: dict[tuple[str, str, str | None, tzinfo], str] = {}
# The same minute for a text laid out as one matched before ("YYYY-MM-DD HH:MM:SS.fff<tail>"),
# without the pattern: (text[:16], the tail after the fraction, zone) -> that minute in UTC. A
# text with that start and tail, and decimal seconds and fraction of the same length where the
# other had them, matches ``_ZONED`` the very same way (only digits differ); ``_TAIL`` is where
# the fraction ended in the last one kept (one export writes all its times alike).
_LAID_OUT: dict[tuple[str, str, tzinfo], str] = {}
_TAIL = [23]


def parse_time(text: str, formats: tuple[str, ...], tz: tzinfo) -> str | None:
    """``text`` as ISO-8601 UTC with microseconds (``2024-01-15T18:23:45.123000Z``), or None.

    >>> parse_time("2024-01-15 10:23:45.123 -0800", (), timezone.utc)
    '2024-01-15T18:23:45.123000Z'
    >>> parse_time("2024-01-15T23:59:07,5Z", (), timezone(timedelta(hours=1)))
    '2024-01-15T23:59:07.500000Z'
    >>> parse_time("2024-03-31 02:30:00", (), timezone(timedelta(hours=-5)))
    '2024-03-31T07:30:00.000000Z'
    """
    tail = _TAIL[0]
    if len(text) >= tail and text[19:20] in (".", ","):
        minute = _LAID_OUT.get((text[:16], text[tail:], tz))
        if minute is not None and text[16] == ":" and text[17:19].isdecimal() and text[20:tail].isdecimal():
            return f"{minute}:{text[17:19]}.{text[20:min(tail, 26)]:0<6}Z"
    match = _ZONED.match(text)
    if match:
        day, clock, fraction, offset = match.groups()
        minute = _minute(day, clock, offset, tz)
        if minute is not None:
            if match.span(2) == (11, 19) and match.start(3) == 20:
                end = match.end(3)
                if len(_LAID_OUT) > 100_000:
                    _LAID_OUT.clear()
                _LAID_OUT[(text[:16], text[end:], tz)] = minute
                _TAIL[0] = end
            return f"{minute}:{clock[6:8] or '00'}.{(fraction or '')[:6]:0<6}Z"
    return _parse_time_otherwise(text, formats, tz)


def _minute(day: str, clock: str, offset: str | None, tz: tzinfo) -> str | None:
    """That minute in UTC (``_MINUTES``), or None where it has none."""
    key = (day, clock[:5], offset, tz)
    minute = _MINUTES.get(key)
    if minute is None:
        minute = _utc_minute(day, clock[:5], offset, tz)
        if minute is not None:
            if len(_MINUTES) > 100_000:
                _MINUTES.clear()
            _MINUTES[key] = minute
    return minute


def _parse_time_otherwise(text: str, formats: tuple[str, ...], tz: tzinfo) -> str | None:
    """``parse_time`` for a text ``_ZONED`` does not read (or whose minute has no UTC day)."""
    if text[-6:-5] == " " and text[-5:-4] in ("+", "-"):  # Snowsight's "... 10:23:45.123 -0800"
        text = text[:-6] + text[-5:]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _parse_time_slowly(text.strip(), formats)
        if moment is None:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"
    except (OverflowError, ValueError):  # a moment with no UTC day (0001-01-01 00:10 +01:00)
        return None


class TimeReader:
    """``parse_time`` for the times of one file (one zone, one list of formats), at about a
    microsecond a time: a text laid out as one read before (``YYYY-MM-DD HH:MM:SS.fff<tail>``)
    is looked up by its start and tail, one string, in this reader's own table of minutes
    (see ``_LAID_OUT`` for why that reads it as the pattern would)."""

    __slots__ = ("formats", "tz", "_minutes", "_tail", "_end", "_pad")

    def __init__(self, formats: tuple[str, ...], tz: tzinfo) -> None:
        self.formats, self.tz = formats, tz
        self._minutes: dict[str, str] = {}  # text[:16] + text[tail:] -> that minute in UTC
        self._tail = 0  # where the fraction ended in the last text kept (0: none yet)
        self._end, self._pad = 0, ""  # the fraction's end as kept (six digits at most), zeros after it

    def __call__(self, text: str) -> str | None:
        tail = self._tail
        if tail and len(text) >= tail and text[19] in ".,":
            minute = self._minutes.get(text[:16] + text[tail:])
            if minute is not None and text[16] == ":" and text[17:19].isdecimal() and text[20:tail].isdecimal():
                return f"{minute}{text[16:19]}.{text[20:self._end]}{self._pad}Z"
        match = _ZONED.match(text)
        if match is None:
            return _parse_time_otherwise(text, self.formats, self.tz)
        day, clock, fraction, offset = match.groups()
        minute = _minute(day, clock, offset, self.tz)
        if minute is None:
            return _parse_time_otherwise(text, self.formats, self.tz)
        if match.span(2) == (11, 19) and match.start(3) == 20:
            end = match.end(3)
            if len(self._minutes) >= 100_000:
                self._minutes.clear()
            self._minutes[text[:16] + text[end:]] = minute
            if end != tail:
                self._tail, self._end = end, min(end, 26)
                self._pad = "0" * (26 - self._end)
        return f"{minute}:{clock[6:8] or '00'}.{(fraction or '')[:6]:0<6}Z"


def _utc_minute(day: str, clock: str, offset: str | None, tz: tzinfo) -> str | None:
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return None
    if offset in (None, ""):
        moment = moment.replace(tzinfo=tz)
    elif offset == "Z":
        moment = moment.replace(tzinfo=timezone.utc)
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        try:
            moment = moment.replace(tzinfo=timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))))
        except ValueError:  # no such zone (+99:88): a time that cannot be read, not a file that cannot
            return None
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01 00:00 +01:00 is before the first UTC day
        return None
    return f"{utc.year:04}-{utc.month:02}-{utc.day:02}T{utc.hour:02}:{utc.minute:02}"  # strftime: year 1 is "1"


def _parse_time_slowly(text: str, formats: tuple[str, ...]) -> datetime | None:
    match = _ZONED.match(text)
    if match:  # what Python 3.10's fromisoformat refuses: "Z", "-0800", " -08:00", nanoseconds
        day, clock, fraction, offset = match.groups()
        offset = "+00:00" if offset in (None, "Z") else offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
        try:
            moment = datetime.fromisoformat(f"{day}T{clock}.{(fraction or '0')[:6]:0<6}{offset}")
            return moment if match.group(4) else moment.replace(tzinfo=None)
        except ValueError:
            pass
    for fmt in formats:
        if fmt == "epoch":  # seconds since 1970 (milliseconds where that would be past the year 5000)
            moment = _epoch(text)
            if moment is not None:
                return moment
            continue
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _epoch(text: str) -> datetime | None:
    """``1714557600``, ``1714557600.125`` or ``1714557600125`` as a UTC time, else None.

    >>> _epoch("1714557600.5"), _epoch("1714557600500") == _epoch("1714557600.5"), _epoch("x")
    (datetime.datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=datetime.timezone.utc), True, None)
    """
    try:
        seconds = float(text)
    except ValueError:
        return None
    if seconds >= 1e11:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def zone(name: str) -> tzinfo:
    """The time zone of times written without one: "UTC", "+02:00" or an IANA name."""
    if name.upper() in ("UTC", "Z", "GMT"):
        return timezone.utc
    try:
        return datetime.fromisoformat(f"2000-01-01T00:00:00{name}").tzinfo or timezone.utc
    except ValueError:
        pass
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception as e:  # ZoneInfoNotFoundError, ValueError, missing tzdata
        raise ConfigError(f"unknown time zone {name!r}") from e


__all__ = ["HARVESTER_TAG", "FileSource", "parse_time", "skip_reason"]
