"""MySQL / MariaDB general query log files (``general_log = ON``, ``log_output = 'FILE'``).

``mysqllog:///var/log/mysql/general.log`` (a file, or a folder of them, gzip'd or not), read
with ``--dialect mysql`` or ``mariadb``. Every statement the server received is there, in
arrival order: MariaDB writes ``241124 20:01:02\\t    31 Query\\tSELECT ...`` (the time only when
it changed), MySQL 8 ``2024-11-24T20:01:02.123456Z\\t   31 Query\\tSELECT ...``. A statement's
text runs on over the following lines until the next record. Each connection's ``Connect``
(user and database) and ``Init DB`` / ``USE`` (database) records give the statements after it
their user, database and session (the thread id). The log says nothing about failures: every
statement counts as run. Times without a zone are in the ``timezone`` option (the server's).

Cursor: ``g:<file>|<record>``, as for PostgreSQL logs: files in name order, records counted
from the top of each; a last line still being written is left for the next run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from ..dialects import Dialect
from ..errors import ConfigError
from ..model import LogEntry
from . import SourceStats
from .files import FilePlace, log_files, parse_time, read_logs, record_cursor, zone

_RECORD = re.compile(
    r"^(?P<time>\d{6}\s+\d{1,2}:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)?"
    r"\s+(?P<thread>\d+)\s(?P<command>[A-Z][A-Za-z]*(?: [A-Za-z]+)?)(?:\t(?P<argument>.*))?$")
_HEADER = re.compile(r"^(?:\S.*(?:Version: |started with:)|Tcp port: |Time\s+Id\s+Command)")
_CONNECT = re.compile(r"^\s*(?P<user>[^@\s]*)@(?P<host>\S*)\s+(?:as\s+\S+\s+)?on\s(?P<db>\S*)(?:\s+using\b|\s*$)")
_USE = re.compile(r"^\s*USE\s+`?([^`;\s]+)`?\s*;?\s*$", re.IGNORECASE)
STATEMENTS = frozenset({"Query", "Execute"})


class MySqlLogSource:
    """Statements of a MySQL / MariaDB general query log file or folder."""

    def __init__(self, path: str, dialect: Dialect, mapping: Mapping[str, str] | None = None, *,
                 timezone: str = "UTC") -> None:
        text = path.split("://", 1)[1] if "://" in path else path
        self.path = Path(text)
        if not self.path.exists():
            raise ConfigError(f"no such log file or folder: {self.path}")
        self.url = "mysqllog://" + self.path.resolve().as_posix()
        self.dialect, self.tz = dialect, zone(timezone)
        self.stats = SourceStats()

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        after = record_cursor(after_cursor, "g", "MySQL general log")
        files = log_files(self.path, lambda _: "log")
        self.place = FilePlace(files)  # bytes read of the files' total, for the progress bar
        return read_logs(files, after, self.stats, self._read_file, place=self.place)

    def _read_file(self, name: str, path: Path, lines: IO[str], skip_to: int) -> Iterator[LogEntry]:
        users: dict[str, str] = {}
        databases: dict[str, str] = {}
        moment = None
        for number, (when, thread, command, argument) in enumerate(_records(lines)):
            if when:
                moment = self._time(when)
            if command == "Connect":
                match = _CONNECT.match(argument)
                if match:
                    users[thread] = match.group("user")
                    databases[thread] = match.group("db") or databases.get(thread, "")
                continue
            if command == "Init DB":
                databases[thread] = argument.strip()
                continue
            if command not in STATEMENTS:
                continue
            database = databases.get(thread) or None
            use = _USE.match(argument)
            if use:  # the statements after it, in this connection
                databases[thread] = use.group(1)
            if number <= skip_to:
                continue
            self.stats.rows_read += 1
            if self.stats.own_query(argument, f"{name}:{number}"):
                continue
            if not argument.strip():
                self.stats.skip("empty_sql", f"{name}:{number}")
                continue
            self.stats.entries += 1
            # MySQL's database is the second name part (db.table): the entry's schema.
            yield LogEntry(sql=argument, dialect=self.dialect.sqlglot, schema=database,
                           user=users.get(thread) or None, start_time=moment, session_id=thread,
                           cursor=f"g:{name}|{number}")

    def _time(self, text: str) -> str | None:
        if "T" not in text:  # MariaDB: 241124 20:01:02 (YYMMDD, the server's time zone)
            day, _, clock = text.partition(" ")
            text = f"20{day[:2]}-{day[2:4]}-{day[4:6]} {clock.strip():0>8}"
        return parse_time(text, (), self.tz)


def _records(lines: IO[str]) -> Iterator[tuple[str | None, str, str, str]]:
    """(time or None, thread, command, argument) of each record; an argument runs on over the
    lines that start no record. A last line without its line end is still being written."""
    current: list[str] | None = None
    head: tuple[str | None, str, str] = (None, "", "")
    for line in lines:
        if not line.endswith("\n"):
            break
        line = line.rstrip("\r\n")
        match = _RECORD.match(line)
        if match is None:
            if _HEADER.match(line):  # the server (re)started: its banner ends the record in hand
                if current is not None:
                    yield (*head, "\n".join(current))
                current = None
            elif current is not None:
                current.append(line)
            continue
        if current is not None:
            yield (*head, "\n".join(current))
        head = (match.group("time"), match.group("thread"), match.group("command"))
        current = [match.group("argument") or ""]
    if current is not None:
        yield (*head, "\n".join(current))


__all__ = ["MySqlLogSource"]
