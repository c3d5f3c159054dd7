"""Live PostgreSQL: what ``pg_stat_statements`` gained since the last run.

The dialect's ``[history]`` section drives the read: its ``query`` gives one row
per key (``key_columns``) with a counter (``cursor_column``) that grows in place,
and the ``[export]`` columns map the row onto a log entry. The view has no
times, so a run compares the counters with those the previous run committed:

* a new key, or a higher count, yields one entry with ``executions`` = the growth;
* a lower count means the entry was evicted and came back (or was reset on its
  own): everything it shows now is new;
* ``pg_stat_statements_info.stats_reset`` changing means every counter restarted
  at zero: everything the view shows is new;
* keys gone from the view are forgotten, so one that returns counts from zero.

The counters live in the cursor the harvest stores with each batch:
``pgss1;<stats_reset>;<state>`` where ``<state>`` is the zlib'd, base64'd list
of (8-byte key digest, calls) pairs, sorted. Every entry that ends one of the
harvest's batches (every ``batch_size``-th entry, and the last) carries the
state as it is once that batch is written; the others carry a short position
``pgss1;<stats_reset>;@<run>.<n>``, which only names the batch. So
``batch_size`` must be the harvest's; a run resumed from a position cursor
stops with an error instead of guessing. Executions that happen between a read
and an eviction or reset cannot be seen by anyone and are not counted.

The text is as the view keeps it: constants as ``$1``, ``$2`` (utility
statements such as CREATE TABLE AS keep theirs, and the harvest redacts them).
The harvester's own queries carry a marker comment and are skipped
(``harvester_query``), as are statements run inside others (the dialect's
``toplevel_column`` false: CREATE EXTENSION's script, function bodies;
``nested_statement``). An entry's times are the harvest's (``time_basis`` is
``"harvest"``); one whose every run is new starts at the view's
``first_seen_column`` (PostgreSQL 17's ``stats_since``) where it has one.
"""

from __future__ import annotations

import base64
import re
import struct
import time
import zlib
from datetime import datetime, timezone
from hashlib import blake2b
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

from ..dialects import Dialect, HistoryTable
from ..errors import ConfigError, HarvesterError, hide_secrets
from ..harvest import DEFAULT_BATCH
from ..model import LogEntry
from ..stores import safe_url
from . import HARVESTER_TAG, SourceStats, harvest_time
from .files import export_columns

MARK = HARVESTER_TAG + " "
RESET_QUERY = MARK + "SELECT stats_reset::text FROM pg_stat_statements_info"
SCHEMA_QUERY = MARK + "SELECT (current_schemas(false))[1]"
HIDDEN_TEXT = "<insufficient privilege>"
PRELOAD_HINT = ("add pg_stat_statements to shared_preload_libraries in postgresql.conf, restart the server, "
                "then run CREATE EXTENSION pg_stat_statements")
T = TypeVar("T")


class SourceError(HarvesterError):
    """The server cannot be reached or read (exit code 1)."""


# -- connecting ------------------------------------------------------------------
_PERMANENT = (  # libpq / server messages no retry will change, and what to say about them
    (re.compile(r"password authentication failed|no password supplied"), "wrong or missing password"),
    (re.compile(r'database "[^"]*" does not exist'), "no such database"),
    (re.compile(r'role "[^"]*" does not exist'), "no such role"),
    (re.compile(r"no pg_hba\.conf entry"), "the server does not accept this user from this host (pg_hba.conf)"),
    (re.compile(r"permission denied"), "no permission"),
)


def describe(error: Exception, url: str) -> str:
    """The first line of a driver error, with every secret of ``url`` hidden in it."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = next((line for line in lines if "FATAL" in line or "ERROR" in line), lines[0] if lines else repr(error))
    return hide_secrets(text, url)


def permanent(error: Exception) -> str | None:
    """What is wrong when retrying cannot help; None for a dropped or refused connection."""
    import psycopg

    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return "no permission"
    if not isinstance(error, psycopg.OperationalError):
        return ""  # an SQL error: the same next time
    text = str(error)
    return next((why for pattern, why in _PERMANENT if pattern.search(text)), None)


def with_retries(url: str, work: Callable[[Any], T], retries: int = 4, backoff: float = 0.5) -> T:
    """``work(connection)`` on a fresh autocommit connection, retried with back-off while the
    connection drops or the server is starting; other failures raise SourceError at once."""
    import psycopg

    for attempt in range(retries + 1):
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                return work(conn)
        except psycopg.Error as e:
            why = permanent(e)
            if why is not None or attempt == retries:
                where = safe_url(url)
                reason = f"{why}: " if why else ""
                raise SourceError(f"{where}: {reason}{describe(e, url)}") from e
            time.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")


# -- the counter state kept in the cursor ----------------------------------------------------
State = dict[int, int]  # key digest -> calls


def digest(key: Sequence[Any]) -> int:
    return int.from_bytes(blake2b(repr(tuple(key)).encode(), digest_size=8).digest(), "little")


def encode_state(reset: str, state: State) -> str:
    packed = struct.pack(f"<{2 * len(state)}Q", *(v for item in sorted(state.items()) for v in item))
    return f"pgss1;{reset};{base64.urlsafe_b64encode(zlib.compress(packed, 6)).decode()}"


def decode_state(cursor: str | None) -> tuple[str | None, State]:
    """(stats_reset, state) of a checkpoint cursor; (None, {}) before the first run."""
    if not cursor:
        return None, {}
    kind, _, rest = cursor.partition(";")
    reset, _, body = rest.rpartition(";")
    if kind != "pgss1":
        raise ConfigError(f"not a pg_stat_statements cursor: {cursor[:40]!r}")
    if body.startswith("@"):
        raise SourceError("the stored cursor is a batch position, not a checkpoint: the source was opened with a "
                          "batch_size other than the harvest's; nothing was read (re-run with the same batch size)")
    values = struct.unpack(f"<{len(raw := zlib.decompress(base64.urlsafe_b64decode(body))) // 8}Q", raw)
    return reset, dict(zip(values[::2], values[1::2]))


# -- the reader ------------------------------------------------------------------------
class PostgresSource:
    """``postgresql://user@host:port/db``: the growth of the dialect's cumulative history view."""

    def __init__(self, url: str, dialect: Dialect, mapping: Mapping[str, str] | None = None, *,
                 batch_size: int = DEFAULT_BATCH, schema: str | None = None, retries: int = 4,
                 backoff: float = 0.5) -> None:
        if dialect.history is None or dialect.history.kind != "cumulative":
            raise ConfigError(f"dialect {dialect.name!r} has no cumulative [history] table to read live")
        if batch_size < 1:
            raise ConfigError("batch_size must be 1 or more")
        self.dsn, self.url = url, safe_url(url)
        self.dialect, self.history = dialect, dialect.history
        self.columns = export_columns(dialect.export.columns, mapping or {})
        self.batch_size, self.schema = batch_size, schema
        self.retries, self.backoff = retries, backoff
        self.stats = SourceStats()
        host = url.split("://", 1)[-1].split("@")[-1].split("/")[0]
        self.system = host or None

    def snapshot(self) -> tuple[str, str | None, list[str], list[tuple[Any, ...]]]:
        """(stats_reset, default schema, column names, rows) read in one go, retried on a dropped link."""
        return with_retries(self.dsn, self._snapshot, self.retries, self.backoff)

    def _snapshot(self, conn: Any) -> tuple[str, str | None, list[str], list[tuple[Any, ...]]]:
        import psycopg

        for _ in range(5):  # a reset between the reads would mix counters of two eras: read again
            before = _reset_stamp(conn)
            try:
                cur = conn.execute(MARK + self.history.query)
            except psycopg.errors.UndefinedTable as e:
                raise SourceError(f"{self.url}: pg_stat_statements is not installed in this database: "
                                  f"{PRELOAD_HINT}") from e
            except psycopg.errors.ObjectNotInPrerequisiteState as e:
                raise SourceError(f"{self.url}: pg_stat_statements is installed but not loaded: {PRELOAD_HINT}") from e
            except psycopg.errors.InsufficientPrivilege as e:
                raise SourceError(f"{self.url}: no permission to read pg_stat_statements "
                                  f"(GRANT pg_read_all_stats TO the harvesting role)") from e
            names = [d.name.lower() for d in cur.description or ()]
            rows = cur.fetchall()
            if _reset_stamp(conn) == before:
                schema = self.schema or conn.execute(SCHEMA_QUERY).fetchone()[0]
                return before, schema, names, rows
        raise SourceError(f"{self.url}: pg_stat_statements kept being reset while it was read")

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        old_reset, old_state = decode_state(after_cursor)
        reset, schema, names, rows = self.snapshot()
        plan = _Plan(names, self.columns, self.history)
        base = old_state if old_reset == reset else {}
        state: State = {}
        changes: list[tuple[int, int, int, tuple[Any, ...]]] = []
        for row in rows:
            self.stats.rows_read += 1
            key, calls = digest([row[i] for i in plan.key]), int(row[plan.counter] or 0)
            before = base.get(key, 0)
            new = calls - before if calls >= before else calls
            if new > 0 and self._harvested(row, plan):
                state[key] = before if key in base else 0  # moves to calls as its entry is yielded
                changes.append((key, calls, new, row))
                continue
            if new <= 0:
                self.stats.before_cursor += 1
            state[key] = calls
        yield from self._entries(sorted(changes, key=lambda c: c[0]), state, reset, schema, plan)

    def _harvested(self, row: tuple[Any, ...], plan: _Plan) -> bool:
        """Whether a row with new executions becomes an entry; if not, it is counted as skipped."""
        sql, where = row[plan.sql], "|".join(str(row[i]) for i in plan.key)
        if self.stats.own_query(sql, where):
            return False
        reason = ("insufficient_privilege" if sql == HIDDEN_TEXT else
                  "empty_sql" if not isinstance(sql, str) or not sql.strip() else
                  "nested_statement" if plan.nested(row) else None)
        if reason is not None:
            self.stats.skip(reason, where)
        return reason is None

    def _entries(self, changes: list[tuple[int, int, int, tuple[Any, ...]]], state: State, reset: str,
                 schema: str | None, plan: _Plan) -> Iterator[LogEntry]:
        now = harvest_time()
        run = blake2b(f"{now}{len(changes)}".encode(), digest_size=4).hexdigest()
        last = len(changes) - 1
        for n, (key, calls, new, row) in enumerate(changes):
            state[key] = calls
            ends_batch = n == last or (n + 1) % self.batch_size == 0
            cursor = encode_state(reset, state) if ends_batch else f"pgss1;{reset};@{run}.{n}"
            # Every run counted since the row's statistics began: the first of them was then.
            since = plan.first_seen(row) if new == calls else None
            self.stats.entries += 1
            yield LogEntry(dialect=self.dialect.sqlglot, cursor=cursor, executions=new, start_time=since or now,
                           end_time=now, time_basis="harvest", schema=schema, system=self.system,
                           **plan.fields(row, new, calls))


def _reset_stamp(conn: Any) -> str:
    import psycopg

    try:
        value = conn.execute(RESET_QUERY).fetchone()[0]
    except psycopg.errors.UndefinedTable:  # PostgreSQL 13, or the extension is missing (said later)
        return ""
    except psycopg.errors.ObjectNotInPrerequisiteState:
        return ""
    return str(value or "")


class _Plan:
    """Where a history row's fields are: key, counter, and the mapped log entry fields."""

    def __init__(self, names: list[str], columns: Mapping[str, str], history: HistoryTable) -> None:
        index = {name: i for i, name in enumerate(names)}
        missing = [c for c in (*history.key_columns, history.cursor_column) if c.lower() not in index]
        if missing:
            raise ConfigError(f"the [history] query returns no column {', '.join(missing)}")
        self.key = [index[c.lower()] for c in history.key_columns]
        self.counter = index[history.cursor_column.lower()]
        self.toplevel = index.get(history.toplevel_column.lower()) if history.toplevel_column else None
        self.since = index.get(history.first_seen_column.lower()) if history.first_seen_column else None
        by_field: dict[str, list[int]] = {}
        for column, name in columns.items():
            if column in index and name != "executions":
                by_field.setdefault(name, []).append(index[column])
        if "sql" not in by_field:
            raise ConfigError("the [history] query returns no column mapped to sql")
        self.sql = by_field["sql"][0]
        self.by_field = by_field

    def nested(self, row: tuple[Any, ...]) -> bool:
        """Whether the row is a statement run inside another (its toplevel column is false)."""
        return self.toplevel is not None and row[self.toplevel] in (False, 0, "f", "false", "False", "0")

    def first_seen(self, row: tuple[Any, ...]) -> str | None:
        """When the row's statistics began (UTC ISO-8601), where the view says."""
        value = row[self.since] if self.since is not None else None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            return None
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def fields(self, row: tuple[Any, ...], new: int, calls: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, places in self.by_field.items():
            value = next((row[i] for i in places if row[i] is not None), None)
            out[name] = value if value is None or name == "rows" else str(value)
        if out.get("rows") is not None:  # a running total: this run's share of it
            out["rows"] = round(int(out["rows"]) * new / calls) if calls else None
        return out


__all__ = ["PostgresSource", "SourceError", "decode_state", "encode_state", "with_retries", "describe"]
