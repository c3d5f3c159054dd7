"""A database's own query history, read live through SQLAlchemy.

Everything about the database comes from its dialect file: ``[history]`` holds
the query (``:cursor`` bound to where the last committed run ended, ``{name}``
placeholders filled from ``settings``), how the cursor is typed and ordered,
the driver a bare URL scheme stands for, the grant to ask for when the table
cannot be read, and, for databases that keep a statement's text in several
rows (Redshift), which rows belong together; ``[export]`` maps the result's
columns onto log entries exactly as it maps an exported file's.

Cursor: JSON ``[<cursor value>, <row id>]``. The query selects rows with
``cursor_column >= :cursor`` in (cursor, id) order, and rows at or before the
stored pair are skipped, so rows sharing a time are neither lost nor read twice.

Every query the reader sends starts with ``HARVESTER_TAG``; rows carrying it
are skipped (``harvester_query``, ``SourceStats.own_query``) when the history is read back.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterator, Mapping
from urllib.parse import parse_qsl, urlencode

from ..dialects import Dialect, HistoryTable
from ..errors import ConfigError, HarvesterError, hide_secrets
from ..model import LogEntry
from . import HARVESTER_TAG, SourceStats
from .files import DEFAULT_MAX_STATEMENT, export_columns, _Plan, _Skip, skip_reasons, zone

START = {"timestamp": "1970-01-01 00:00:00+00:00", "integer": 0}
DENIED = ("denied", "not authorized", "insufficient privilege", "permission", "unauthorized", "403")


class SourceError(HarvesterError):
    """The history table could not be read (unreachable, refused, missing driver)."""


class HistorySource:
    """Rows of a database's query history after a cursor, as log entries."""

    def __init__(self, url: str, dialect: Dialect, mapping: Mapping[str, str] | None = None, *,
                 settings: Mapping[str, str] | None = None, fetch_size: int = 1000,
                 max_statement: int = DEFAULT_MAX_STATEMENT) -> None:
        if dialect.history is None or dialect.history.kind != "append":
            raise ConfigError(f"dialect {dialect.name!r} has no append-only [history] table to read live")
        self.dialect, self.history = dialect, dialect.history
        url, chosen = split_settings(url, {**self.history.settings, "log": ""})
        if "log" in chosen:  # another history table of this database (?log=general_log)
            log = chosen["log"]
            if log not in self.history.variants:
                known = ", ".join(sorted(self.history.variants)) or "none"
                raise ConfigError(f"dialect {dialect.name!r} has no history {log!r} (known: {known})")
            self.history = self.history.variants[log]
        # Text joined from its chunks is whole: the export's truncation limit does not apply.
        self.export = replace(dialect.export, text_limit=0) if self.history.text_chunks else dialect.export
        self.engine_url = engine_url(url, self.history.driver)
        # Settings chosen in the URL (?region=eu) name a history of their own: its own cursor.
        shown = hide_secrets(_hide_password(self.engine_url))
        self.url = shown + (f"?{urlencode(sorted(chosen.items()))}" if chosen else "")
        self.columns = export_columns(dialect.export.columns, mapping or {})
        self.settings = {**self.history.settings, **{k: v for k, v in chosen.items() if k != "log"},
                         **(settings or {})}
        self.fetch_size, self.max_statement = fetch_size, max_statement
        self._skip_reason = skip_reasons(max_statement, self.export)
        self.stats = SourceStats()

    def query(self, fallback: bool = False) -> str:
        """The history query as sent: tagged, placeholders filled."""
        text = self.history.fallback_query if fallback else self.history.query
        return f"{HARVESTER_TAG}\n{fill(text, self.settings)}"

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        after = json.loads(after_cursor) if after_cursor else None
        bound = after[0] if after else START[self.history.cursor_type]
        with self._connect() as conn:
            try:
                result = self._execute(conn, self.query(), {"cursor": bound})
            except SourceError as e:
                if not self.history.fallback_query:
                    raise
                conn.rollback()  # a failed statement aborts PostgreSQL-like transactions
                result = self._execute(conn, self.query(fallback=True), {"cursor": bound})
                self.stats.notes.append(f"read the history without its lineage view ({e})")
            names = list(result.keys())
            plan = self._plan(names)
            for row in _statements(_rows(result, self.fetch_size), names, self.history):
                entry = self._entry(plan, names, row, after)
                if entry is not None:
                    yield entry

    def catalog(self) -> dict[str, dict[str, str]]:
        """``{"db.schema.table": {column: type}}`` from the dialect's ``catalog_query``."""
        if not self.history.catalog_query:
            return {}
        tables: dict[str, dict[str, str]] = {}
        with self._connect() as conn:
            result = self._execute(conn, f"{HARVESTER_TAG}\n{fill(self.history.catalog_query, self.settings)}", {})
            for database, schema, table, column, kind in result:
                name = ".".join(str(p) for p in (database, schema, table) if p)
                tables.setdefault(name, {})[str(column)] = str(kind)
        return tables

    def column_tags(self) -> list[tuple[str, str, str]]:
        """(db.schema.table, column, tag) of the database's own column tags, from the dialect's ``tags_query``."""
        from ..tags import catalog_tags

        if not self.history.tags_query:
            return []
        with self._connect() as conn:
            result = self._execute(conn, f"{HARVESTER_TAG}\n{fill(self.history.tags_query, self.settings)}", {})
            return catalog_tags(tuple(row) for row in result)

    def _connect(self) -> Any:
        try:
            import sqlalchemy

            return sqlalchemy.create_engine(self.engine_url).connect()
        except ImportError as e:
            raise SourceError(f"{self.url}: the driver is not installed ({e.name}); see the README's "
                              f"{self.dialect.name} section for the extra to install") from e
        except Exception as e:  # sqlalchemy.exc.DBAPIError and the drivers' own
            if type(e).__name__ == "NoSuchModuleError":  # SQLAlchemy knows no dialect for the scheme
                raise SourceError(f"{self.url}: the driver is not installed (no SQLAlchemy dialect for "
                                  f"{self.engine_url.partition('://')[0]}://); see the README's {self.dialect.name} "
                                  "section for the extra to install") from e
            raise self._failure(e) from e

    def _execute(self, conn: Any, sql: str, params: dict[str, Any]) -> Any:
        from sqlalchemy import text

        try:
            return conn.execution_options(stream_results=True).execute(text(sql), params)
        except Exception as e:
            raise self._failure(e) from e

    def _failure(self, e: Exception) -> SourceError:
        message = hide_secrets(" ".join(str(getattr(e, "orig", None) or e).split()), self.engine_url)
        if any(word in message.lower() for word in DENIED) and self.history.grant:
            grant = " ".join(self.history.grant.split())
            return SourceError(f"{self.url}: cannot read the {self.dialect.name} history; grant it with: {grant}")
        return SourceError(f"{self.url}: {message}")

    def _plan(self, names: list[str]) -> _Plan:
        try:
            return _Plan(names, self.columns, self.dialect.export, zone(self.dialect.export.timezone))
        except _Skip as e:
            raise ConfigError(f"the {self.dialect.name} history query returns {e}") from e

    def _entry(self, plan: _Plan, names: list[str], row: list[Any], after: list[Any] | None) -> LogEntry | None:
        position = self._position(names, row)
        if after is not None and _before(position, after, self.history.cursor_type):
            self.stats.before_cursor += 1
            return None
        self.stats.rows_read += 1
        texts, bad_bytes = _texts(row)
        kw = plan.fields(texts)
        if self.stats.own_query(kw["sql"], json.dumps(position, default=str)):
            return None
        reason = "encoding" if bad_bytes else self._skip_reason(kw)
        if reason == "failed":
            self.stats.failed += 1
            return None
        if reason is not None:
            self.stats.skip(reason, json.dumps(position, default=str))
            return None
        self.stats.entries += 1
        return LogEntry(dialect=self.dialect.sqlglot, cursor=json.dumps(position), **kw)

    def _position(self, names: list[str], row: list[Any]) -> list[Any]:
        value = _value(row, names, self.history.cursor_column)
        if self.history.cursor_type == "integer":
            value = int(value)
        else:
            value = _utc(value)
        ident = _value(row, names, self.history.id_column) if self.history.id_column else None
        return [value, None if ident is None else str(ident)]


def _before(position: list[Any], after: list[Any], kind: str) -> bool:
    """Whether a row at ``position`` was committed by the run that ended at ``after``."""
    if position[0] != after[0]:
        return position[0] < after[0] if kind == "integer" else str(position[0]) < str(after[0])
    return _natural(position[1] or "") <= _natural(after[1] or "")


def _natural(ident: str) -> tuple[Any, ...]:
    """Ids ordered as the database orders them: ``12:9`` before ``12:10``, 99 before 100."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", ident) if p)


def _value(row: list[Any], names: list[str], column: str) -> Any:
    lowered = [n.lower() for n in names]
    if column.lower() not in lowered:
        raise ConfigError(f"the history query returns no column {column!r}")
    return row[lowered.index(column.lower())]


def _utc(value: Any) -> str:
    """A cursor time as ``YYYY-MM-DD HH:MM:SS.ffffff+00:00``, which every warehouse casts to a timestamp."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        raise ConfigError(f"the history cursor column holds {type(value).__name__}, not a time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(sep=" ", timespec="microseconds")


def _texts(row: list[Any]) -> tuple[list[str], bool]:
    """The row as the text an export would hold; whether some bytes were not UTF-8."""
    out, bad = [], False
    for value in row:
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                value = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                bad, value = True, bytes(value).decode("utf-8", "replace")
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.isoformat()  # taken in the dialect's time zone, as an export's would be
        elif isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, (dict, list, tuple)):  # BigQuery's nested columns: as an export writes them
            value = json.dumps(value, default=str)
        elif isinstance(value, Decimal):
            value = str(int(value)) if value == value.to_integral_value() else str(value)
        out.append("" if value is None else str(value))
    return out, bad


def _rows(result: Any, size: int) -> Iterator[list[Any]]:
    while batch := result.fetchmany(size):
        yield from (list(r) for r in batch)


def _statements(rows: Iterator[list[Any]], names: list[str], history: HistoryTable) -> Iterator[list[Any]]:
    """Rows as they come, or, where the text is kept in pieces, one row per statement with its text joined."""
    chunks = history.text_chunks
    if chunks is None:
        yield from rows
        return
    lowered = [n.lower() for n in names]
    try:
        key = [lowered.index(c.lower()) for c in chunks.key]
        order, text = lowered.index(chunks.order.lower()), lowered.index(chunks.text.lower())
    except ValueError as e:
        raise ConfigError(f"history.text_chunks names a column the history query does not return: {e}") from e
    group: list[list[Any]] = []
    for row in rows:
        if group and [row[i] for i in key] != [group[0][i] for i in key]:
            yield _joined(group, order, text)
            group = []
        group.append(row)
    if group:
        yield _joined(group, order, text)


def _joined(group: list[list[Any]], order: int, text: int) -> list[Any]:
    first = list(group[0])
    pieces = [r[text] for r in sorted(group, key=lambda r: r[order])]
    if any(isinstance(p, (bytes, bytearray, memoryview)) for p in pieces):
        first[text] = b"".join(bytes(p or b"") for p in pieces)
    else:
        first[text] = "".join(p or "" for p in pieces) if any(p is not None for p in pieces) else None
    return first


def fill(query: str, settings: Mapping[str, str]) -> str:
    """``query`` with its ``{name}`` placeholders filled; ConfigError naming a missing one."""
    try:
        return query.format_map(dict(settings))
    except KeyError as e:
        raise ConfigError(f"the history query needs a setting {e.args[0]!r}") from e


def split_settings(url: str, names: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The URL without the query parameters that name the dialect's settings, and those settings.

    >>> split_settings("bigquery://shop-prod?region=eu&credentials_path=/k.json", {"region": "us"})
    ('bigquery://shop-prod?credentials_path=%2Fk.json', {'region': 'eu'})
    """
    base, sep, query = url.partition("?")
    if not sep:
        return url, {}
    kept, chosen = [], {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in names:
            chosen[key] = value
        else:
            kept.append((key, value))
    return (f"{base}?{urlencode(kept)}" if kept else base), chosen


def open_history(url: str, dialect: Dialect, mapping: Mapping[str, str] | None = None, **options: Any) -> Any:
    """A history source; a setting given several values (``?region=us,eu``: BigQuery keeps each
    region's jobs apart and one query cannot read two) reads one history per value, in turn."""
    if dialect.history is None:
        raise ConfigError(f"dialect {dialect.name!r} has no [history] table to read live")
    base, chosen = split_settings(url, {**dialect.history.settings, "log": ""})
    several = {k: [v.strip() for v in value.split(",") if v.strip()] for k, value in chosen.items() if "," in value}
    if not several:
        return HistorySource(url, dialect, mapping, **options)
    from . import Sequential

    combos: list[dict[str, str]] = [dict(chosen)]
    for key, values in several.items():
        combos = [{**c, key: v} for c in combos for v in values]
    joiner = "&" if "?" in base else "?"
    return Sequential([HistorySource(f"{base}{joiner}{urlencode(sorted(c.items()))}", dialect, mapping, **options)
                       for c in combos])


def engine_url(url: str, driver: str) -> str:
    """The SQLAlchemy URL: a bare scheme (``mysql://``) gets the dialect file's driver."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"not a database URL: {url!r}")
    return f"{driver}://{rest}" if driver and "+" not in scheme else url


def _hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot read is shown without its user part
        scheme, _, rest = url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"


__all__ = ["HistorySource", "SourceError", "engine_url", "fill", "open_history", "split_settings"]
