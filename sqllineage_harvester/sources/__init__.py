"""Where log entries come from: each source yields ``LogEntry`` values after a cursor.

A source is chosen by URL scheme or file suffix from ``READERS``, one line per
reader; readers are imported when first used, so one that needs a database
driver costs nothing until it is asked for.

>>> parse_mapping("sql=QUERY_TEXT, user=USER_NAME")
{'sql': 'QUERY_TEXT', 'user': 'USER_NAME'}
"""

from __future__ import annotations

import importlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping, Protocol, runtime_checkable

from ..dialects import MAPPABLE_FIELDS, Dialect, get_dialect
from ..errors import ConfigError, secret_name, split_userinfo
from ..model import LogEntry
from .records import REASONS  # what an event log's skip reasons mean

# Every statement the harvester sends to a database carries this comment (the readers that
# query a live history or catalog put it first), so that reading a history back leaves the
# harvester's own queries out.
HARVESTER_TAG = "/* sqllineage-harvester */"


WINDOW = "#window="  # a bounded window's cursor name: the source's, then WINDOW, then SINCE..UNTIL


def harvest_time() -> str:
    """Now, as the sources write times (UTC ISO-8601, microseconds, ``Z``): the time an entry
    carries, with ``time_basis = "harvest"``, when its log keeps none (pg_stat_statements, an
    export without a time column), so that its operations still have a first and last seen."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


def harvester_query(sql: object) -> bool:
    """Whether a statement is one of the harvester's own: its text carries ``HARVESTER_TAG``.

    >>> harvester_query("/* sqllineage-harvester */ SELECT 1"), harvester_query("SELECT 1")
    (True, False)
    """
    return isinstance(sql, str) and HARVESTER_TAG in sql


# Skip reasons that mean a damaged file, and warnings worth a line (a file's own example, when it has one).
DAMAGED_ROWS = ("malformed", "malformed_json", "not_an_object", "field_count", "encoding",
                "not_a_record", "other_event", "no_query_text")  # the last three: event logs (records.py)
WARNING_TEXT = {"bad_timestamp": "times that could not be read (left empty)",
                "zone_assumed": "times in a zone abbreviation, read in the configured time zone",
                "files_missing_fields": "files without a status or time column"}


@dataclass
class SourceStats:
    """What a source met while reading; skipped rows are counted by reason."""

    rows_read: int = 0  # data rows met after the cursor, good or not
    entries: int = 0  # log entries yielded
    failed: int = 0  # failed executions, skipped
    before_cursor: int = 0  # rows already committed by an earlier run
    skipped: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)  # kept rows with a flaw (bad_timestamp, ...)
    examples: dict[str, str] = field(default_factory=dict)  # reason -> first place it happened
    files: int = 0
    file_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # one line each for the user (a fallback taken, ...)

    def skip(self, reason: str, where: str) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, where)

    def warning_notes(self) -> list[str]:
        """One line for the user per kind of damage met: rows skipped as unreadable, rows kept with a flaw."""
        lines = [f"{n} row{'s' * (n > 1)} skipped as {reason}{': ' + REASONS[reason] if reason in REASONS else ''} "
                 f"(first at {self.examples.get(reason, '?')})" for reason, n in self.skipped.items()
                 if reason in DAMAGED_ROWS]
        if len(lines) > 1:
            lines.append(f"{sum(n for r, n in self.skipped.items() if r in DAMAGED_ROWS)} rows in all could not be used")
        for kind, n in self.warnings.items():
            if kind in WARNING_TEXT:
                lines.append(self.examples.get(kind) or f"{n} {WARNING_TEXT[kind]}")
        return lines

    def own_query(self, sql: object, where: str) -> bool:
        """Whether a row is the harvester's own query, counted as skipped (``harvester_query``).
        Every reader asks this of each row it has read before it makes the row an entry."""
        if not harvester_query(sql):
            return False
        self.skip("harvester_query", where)
        return True


@runtime_checkable
class Source(Protocol):
    """A log to harvest. ``url`` names it for the store's cursor table."""

    url: str
    stats: SourceStats

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        """Entries whose cursor comes after ``after_cursor`` (all of them for None), in order."""
        ...


# URL scheme or file suffix -> "module:Class" under this package.
READERS: dict[str, str] = {
    "file": "files:FileSource",
    ".csv": "files:FileSource",
    ".tsv": "files:FileSource",
    ".jsonl": "files:FileSource",
    ".ndjson": "files:FileSource",
    ".json": "files:FileSource",
    "": "files:FileSource",  # a folder of exports
    "postgresql": "postgres:PostgresSource",  # live pg_stat_statements
    "postgres": "postgres:PostgresSource",
    "mysqllog": "mysqllog:MySqlLogSource",  # MySQL / MariaDB general query log files: mysqllog:///var/log/mysql
    "pglog": "pglog:PgLogSource",  # PostgreSQL csvlog / jsonlog files or folders: pglog:///var/log/postgresql
    "openlineage": "openlineage:OpenLineageSource",  # OpenLineage events: files, a folder, or
    "openlineage+http": "openlineage:OpenLineageSource",  # ... an endpoint that receives them
    "mlflow": "mlflow:MlflowSource",  # MLflow tracking: a server (mlflow://host:5000, mlflow+https://...)
    "mlflow+http": "mlflow:MlflowSource",
    "mlflow+https": "mlflow:MlflowSource",
    "mlflow+sqlite": "mlflow:MlflowSource",  # ... or its database (the mlflow+ prefix: not a live database)
    "mlflow+postgresql": "mlflow:MlflowSource",
    "mlflow+postgres": "mlflow:MlflowSource",
    "mlflow+mysql": "mlflow:MlflowSource",
    "snowflake": "history:open_history",
    "bigquery": "history:open_history",
    "redshift": "history:open_history",
    "databricks": "history:open_history",
    "trino": "history:open_history",  # system.runtime.queries (recent queries), with the trino client's SQLAlchemy dialect
    "mysql": "history:open_history",
    "mysql+pymysql": "history:open_history",
    "mariadb": "history:open_history",
    "mariadb+pymysql": "history:open_history",
}


def open_source(
    url_or_path: str | Path,
    dialect: str | Dialect | None,
    mapping: str | Mapping[str, str] | None = None,
    **options: Any,
) -> Source:
    """The source for a URL (``scheme://...``) or a file / folder path.

    ``mapping`` (``"sql=QUERY_TEXT,user=USER_NAME"`` or a dict of field -> column)
    overrides the dialect's export columns field by field; ``options`` go to the
    reader (files: ``encoding``, ``max_statement``).
    """
    from ..stores import check_location
    dialect = get_dialect(dialect) if isinstance(dialect, str) else dialect
    columns = parse_mapping(mapping) if isinstance(mapping, str) else dict(mapping or {})
    text = str(url_or_path)
    check_location(text, "source")
    key = text.split("://", 1)[0].lower() if "://" in text else _suffix(Path(text))
    target = READERS.get(key)
    if target is None and "://" not in text and dialect.export.records is not None:
        target = READERS[""]  # an engine's event log, whatever its files are named (impala_lineage_log_1.0-...)
    if target is None:
        raise ConfigError(f"no reader for {text!r}; known: {', '.join(sorted(k for k in READERS if k))}")
    module_name, class_name = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    source: Source = getattr(module, class_name)(text, dialect, columns, **options)
    return source


def source_identity(url: str) -> str:
    """The name a source's cursor is kept under: its URL with every secret removed, not masked
    (the user's password, query parameters and DSN keywords that name a secret), so the name is
    the same whatever the password, and whether it was given already masked (``user:***@``).

    >>> source_identity("postgresql://ann:pw@db/app?sslmode=require&password=pw")
    'postgresql://ann@db/app?sslmode=require'
    >>> source_identity("host=db password=pw dbname=app")
    'host=db dbname=app'
    """
    head, sep, rest = url.partition("://")
    if not sep:
        kept = [m for m in re.finditer(r"(\S+?)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)", url) if not secret_name(m[1])]
        return " ".join(m[0] for m in kept) if "=" in url else url
    userinfo = split_userinfo(rest)
    if userinfo is not None:
        rest = f"{userinfo[0]}@{userinfo[2]}" if userinfo[0] else userinfo[2]
    base, question, query = rest.partition("?")
    query, hash_, fragment = query.partition("#")
    params = [p for p in query.split("&") if p and not secret_name(p.partition("=")[0])]
    return f"{head}://{base}" + (f"?{'&'.join(params)}" if params else "") + hash_ + fragment


def parse_mapping(text: str) -> dict[str, str]:
    """``"sql=QUERY_TEXT,user=USER_NAME"`` -> ``{"sql": "QUERY_TEXT", "user": "USER_NAME"}``."""
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, column = (s.strip() for s in item.partition("="))
        if not sep or not column:
            raise ConfigError(f"mapping item {item!r} must look like field=COLUMN")
        if name not in MAPPABLE_FIELDS:
            raise ConfigError(f"mapping field {name!r} is not one of {', '.join(MAPPABLE_FIELDS)}")
        mapping[name] = column
    return mapping


def _suffix(path: Path) -> str:
    if path.is_dir():
        return ""
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    return suffixes[-1] if suffixes else path.suffix.lower()


__all__ = ["HARVESTER_TAG", "READERS", "Source", "SourceStats", "harvester_query", "open_source", "parse_mapping",
           "source_identity"]


class Sequential:
    """Several sources read one after another as one: each keeps its own cursor inside the
    combined one (JSON ``{"parts": {source url: cursor}}``), so a resumed run picks each up
    where it stopped."""

    def __init__(self, sources: list[Source]) -> None:
        self.sources = sources
        self.url = " + ".join(s.url for s in sources)
        self.stats = SourceStats()
        for source in sources:
            source.stats = self.stats

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        state: dict[str, str | None] = dict(json.loads(after_cursor)["parts"]) if after_cursor else {}
        for source in self.sources:
            for entry in source.read(state.get(source.url)):
                state[source.url] = entry.cursor
                yield replace(entry, cursor=json.dumps({"parts": state}, sort_keys=True))

    def catalog(self) -> dict[str, dict[str, str]]:
        merged: dict[str, dict[str, str]] = {}
        for source in self.sources:
            merged.update(getattr(source, "catalog", dict)())
        return merged


class _Window:
    """A source limited to entries that started within [since, until) (ISO-8601 text): windows
    that share a bound tile a log with no row in two of them.

    A bounded window (``until`` given) is a slice of a backfill and keeps its own cursor: its
    URL names the window, so slices harvested apart (on several machines, into one store)
    each resume on their own. A window with only ``since`` keeps the source's cursor (skip
    the old rows on a first run, then go on incrementally)."""

    def __init__(self, inner: Source, since: str | None, until: str | None) -> None:
        self.inner, self.since, self.until = inner, _iso(since), _iso(until)
        if self.since and self.until and self.since >= self.until:
            raise ConfigError(f"--since {since} is after --until {until}: that window holds nothing")
        self.url = f"{inner.url}{WINDOW}{self.since or ''}..{self.until}" if self.until else inner.url
        self.stats = inner.stats

    # No ``position()``: rows the window leaves out must not count as read, so its cursor is the
    # last entry it let through.

    @property
    def batch_size(self) -> int | None:
        return getattr(self.inner, "batch_size", None)

    @batch_size.setter
    def batch_size(self, size: int) -> None:
        if hasattr(self.inner, "batch_size"):
            self.inner.batch_size = size

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        for entry in self.inner.read(after_cursor):
            start = entry.start_time or ""
            if self.since and start and start < self.since:
                self.stats.skip("before_since", start)
                continue
            if self.until and start and start >= self.until:
                self.stats.skip("after_until", start)
                continue
            yield entry


def _iso(text: str | None) -> str | None:
    """A date or time as the sources write times: UTC ISO-8601 text, comparable as strings."""
    if not text:
        return None
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise ConfigError(f"not a date or time: {text!r} (use YYYY-MM-DD or ISO-8601)") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def window(source: Source, since: str | None, until: str | None) -> Source:
    """``source`` with only the entries that started between ``since`` and ``until``."""
    return _Window(source, since, until)
