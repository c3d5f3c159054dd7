"""The lineage graph in SQL tables (SQLAlchemy Core): an SQLite file by default,
PostgreSQL with the same code.

Nodes get integer ids; a node's key for the queries is ``d<id>`` (dataset) or
``c<id>`` (column). Writes are upserts on unique keys, one transaction a batch:
SQLite takes the write lock up front (``BEGIN IMMEDIATE``, waiting ``timeout``
seconds for another writer); PostgreSQL relies on ``INSERT .. ON CONFLICT``.
"""

from __future__ import annotations

import sqlite3
from hashlib import blake2b
from operator import itemgetter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, case, create_engine, delete, event, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY, insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..model import (
    DIRECT_TYPES, LineageEdge, LineageNode, Operation, OperationInfo, ParseFailure,
    StoreStats, Usage,
)
from ..errors import ConfigError, hide_secrets
from . import (
    DOWNSTREAM, Batch, CursorMovedError, StoreError, StoreLockedError, StoreReadOnlyError, StoreUnusableError,
    check_version, safe_url,
)
from .common import (
    DIRECT, PLAIN, EdgeRef, Known, by_name, chunks, column_edge_refs, dataset_types, earlier, input_types, later,
    masked_edges, merge_runs, merged_operation, now, placed, run_rows, short_name, spellings, suffix_match,
)
from .sql_explore import SQLExplore
from .sql_ml import SQLModels, v3_to_v4
from .sql_tags import SQLTags
from .schema import (
    ML_TABLES, SCHEMA_VERSION, batches, column_edges, columns, counters, datasets, hosted, input_to, metadata,
    model_versions, operations, parse_failures, performed, produces, schema_version, sessions, settings, sources,
    statement_cache, systems, usage, users,
)

def _v1_to_v2(conn: Connection) -> None:
    """Version 2: each PERFORMED / HOSTED edge has its own window and count (0: not known)."""
    for statement in ("ALTER TABLE operations ADD COLUMN time_basis TEXT NOT NULL DEFAULT 'execution'",
                      "ALTER TABLE performed ADD COLUMN executions BIGINT NOT NULL DEFAULT 0",
                      "ALTER TABLE hosted ADD COLUMN first_seen TEXT",
                      "ALTER TABLE hosted ADD COLUMN last_seen TEXT",
                      "ALTER TABLE hosted ADD COLUMN executions BIGINT NOT NULL DEFAULT 0",
                      # what is known of them: their operation's window
                      "UPDATE hosted SET first_seen = (SELECT o.first_seen FROM operations o WHERE o.id = "
                      "hosted.operation_id), last_seen = (SELECT o.last_seen FROM operations o WHERE o.id = "
                      "hosted.operation_id)"):
        conn.exec_driver_sql(statement)


def _v2_to_v3(conn: Connection) -> None:
    """Version 3: column edges say whether their value was masked; columns' tags (column_tags, made by
    ``create_all``). Edges harvested before are unmasked until harvested again."""
    conn.exec_driver_sql("ALTER TABLE column_edges ADD COLUMN masked INTEGER NOT NULL DEFAULT 0")


UPGRADES: dict[int, Callable[[Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: v3_to_v4}


OPERATION_COLUMNS = ("key", "type", "fingerprint", "sql", "namespace", "first_seen", "last_seen", "executions",
                     "time_basis")
EDGE_COLUMNS = ("src", "dst", "operation_id", "type", "first_seen", "last_seen", "masked")


def split_keys(keys: Iterable[str]) -> tuple[list[int], list[int]]:
    """``d``/``c`` node keys -> (dataset ids, column ids)."""
    ds: list[int] = []
    cs: list[int] = []
    for key in keys:
        (ds if key[0] == "d" else cs).append(int(key[1:]))
    return ds, cs


def engine_url(url: str) -> str:
    """PostgreSQL URLs go through psycopg 3 whatever driver they name."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# The tables every version of the schema has: a file with tables but not these is another application's.
LINEAGE_TABLES = frozenset({"schema_version", "datasets", "operations", "sources"})


def sqlite_file(url: str) -> Path | None:
    """The file an ``sqlite:///path`` URL names; None for other stores, memory and ``file:`` URIs."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def read_only_sqlite(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that cannot write to ``path``. A WAL file in a folder the reader may not write
    cannot have its shared-memory index made: it is then read as immutable (nobody can be writing it)."""
    uri = path.resolve().as_uri()
    con = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, check_same_thread=False)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError:
        con.close()
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=timeout, check_same_thread=False)


def translate(e: Exception, url: str, timeout: float) -> StoreError:
    """A driver error -> the harvester's own, with a message a person can act on."""
    cause = getattr(e, "orig", e)
    orig = hide_secrets(" ".join(str(cause).split()), url)  # one line, no secret
    text = orig.lower()
    state = getattr(cause, "sqlstate", None) or ""
    where = f"store {safe_url(url)}"
    if "locked" in text or "busy" in text or state == "55P03":
        return StoreLockedError(f"{where} is locked by another writer (waited {timeout:g}s); retry later")
    if "readonly" in text or "read-only" in text or state in ("25006", "42501"):
        return StoreReadOnlyError(f"{where} is read-only: {orig}")
    if "disk is full" in text or state == "53100":
        return StoreError(f"{where}: disk full; nothing of this batch was written")
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return StoreUnusableError(f"{where}: the database does not exist")
    if "unable to open" in text:
        return StoreError(f"{where} cannot be opened (does its directory exist?): {orig}")
    return StoreError(f"{where}: {orig}")


NUL = "\ufffd"  # what a NUL byte in a name or a text becomes: PostgreSQL text cannot hold it
LONGEST_KEY = 512  # characters of a name kept whole; past it, a prefix and a digest (index rows are bounded)


def fit(name: str) -> str:
    """A name as the store keys it: NUL bytes replaced, and a name too long to index (a quoted
    identifier of thousands of characters) cut to a prefix and a digest of the whole, so distinct
    names stay distinct.

    >>> fit("orders")
    'orders'
    >>> long = fit("x" * 3000); len(long), long[:3], long == fit("x" * 3000) != fit("x" * 2999)
    (529, 'xxx', True)
    """
    name = name.replace("\x00", NUL)
    if len(name) <= LONGEST_KEY:
        return name
    return f"{name[:LONGEST_KEY]}…{blake2b(name.encode('utf-8', 'surrogatepass'), digest_size=8).hexdigest()}"


def transient(e: BaseException | None) -> bool:
    """PostgreSQL deadlock / serialization failure: the batch can simply be retried."""
    return getattr(getattr(e, "orig", None), "sqlstate", None) in ("40P01", "40001")


class SQLStore(SQLExplore, SQLTags, SQLModels):
    """The ``Store`` on an SQL database through SQLAlchemy Core. ``read_only`` (the queries):
    nothing is created, upgraded or written; an SQLite file is opened read-only."""

    def __init__(self, url: str, timeout: float = 30.0, read_only: bool = False) -> None:
        self.url, self.timeout, self.read_only = url, timeout, read_only
        path = sqlite_file(url)
        if path is not None:
            self._check_file(path)
        try:
            self.engine = self._engine(engine_url(url), path)
        except (SQLAlchemyError, ValueError) as e:  # a malformed URL
            raise ConfigError(f"store URL {url!r} is malformed: {e}") from e
        self.sqlite = self.engine.dialect.name == "sqlite"
        self._insert = sqlite_insert if self.sqlite else pg_insert
        self._least = func.min if self.sqlite else func.least
        self._greatest = func.max if self.sqlite else func.greatest
        # Ids of rows, and operations' (id, first_seen, last_seen), this process committed: see ``Known``.
        self.known = Known("datasets", "columns", "users", "systems", "operations")
        self._statements: dict[tuple[Any, ...], Any] = {}  # shape -> statement (SQLite: its driver text)
        with self._errors():
            self._prepare()

    def _check_file(self, path: Path) -> None:
        """Before anything touches an SQLite file: a reader needs it to exist, and a file with
        tables is ours only when it has our tables (another application's is left as it is)."""
        where = f"store {safe_url(self.url)}"
        if not path.exists():
            if self.read_only:
                raise StoreUnusableError(f"{where} does not exist: nothing has been harvested into it "
                                         f"(check --store or $SQLLINEAGE_STORE)")
            return
        if path.is_dir():
            raise StoreUnusableError(f"{where} is a directory, not an SQLite file")
        try:
            with closing(read_only_sqlite(path, self.timeout)) as con:
                tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as e:
            if "not a database" in str(e):
                raise StoreUnusableError(f"{where} is not an SQLite database; give a new file or a lineage "
                                         f"store") from e
            raise translate(e, self.url, self.timeout) from e
        if tables and not LINEAGE_TABLES <= tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise StoreUnusableError(f"{where} is not a lineage store: it holds another application's tables "
                                     f"({shown}); give a new file or a lineage store")

    def _engine(self, url: str, path: Path | None = None) -> Engine:
        if not url.startswith("sqlite"):
            return create_engine(url, pool_pre_ping=True)
        if self.read_only and path is not None:
            engine = create_engine(url, creator=lambda: read_only_sqlite(path, self.timeout))
        else:
            engine = create_engine(url, connect_args={"timeout": self.timeout, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi: sqlite3.Connection, _: Any) -> None:
            dbapi.isolation_level = None  # transactions are begun below, not by the driver
            if self.read_only:
                return
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
                try:
                    dbapi.execute(f"PRAGMA {pragma}")
                except sqlite3.Error:  # a read-only file keeps its journal mode
                    pass

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.pop("write", False) else "BEGIN")

        return engine

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"SQLStore({safe_url(self.url)!r})"

    # -- transactions and errors ------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (DBAPIError, sqlite3.Error) as e:
            raise translate(e, self.url, self.timeout) from e

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors(), self.engine.connect() as conn:
            yield conn

    def _prepare(self) -> None:
        """Create the schema, or upgrade it, once; refuse one this harvester cannot use. A reader
        only checks."""
        version = self._version()
        check_version(self.url, version, SCHEMA_VERSION, min(UPGRADES), self.read_only)
        if version == SCHEMA_VERSION or self.read_only:
            return
        with self._write() as conn:
            if not self.sqlite:  # two harvesters creating one schema take turns
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7219471)")
            metadata.create_all(conn)
            current = conn.scalar(select(func.max(schema_version.c.version)))
            if current is None:
                conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
                return
            check_version(self.url, current, SCHEMA_VERSION, min(UPGRADES), False)
            for v in range(current, SCHEMA_VERSION):
                UPGRADES[v](conn)
            conn.execute(update(schema_version).values(version=SCHEMA_VERSION))

    def _version(self) -> int | None:
        with self.engine.connect() as conn:
            if not self.engine.dialect.has_table(conn, "schema_version"):
                return None
            return conn.scalar(select(func.max(schema_version.c.version)))

    # -- writing ----------------------------------------------------------------
    def write_batch(self, batch: Batch) -> None:
        for attempt in range(3):
            self.known.begin()
            try:
                with self._errors(), self._write() as conn:
                    self._write_all(conn, batch)
            except BaseException as e:
                self.known.rollback()
                if attempt == 2 or not isinstance(e, StoreError) or not transient(e.__cause__):
                    raise
            else:
                self.known.commit()
                return

    def _write_all(self, conn: Connection, batch: Batch) -> None:
        if batch.check and batch.source is not None:
            self._claim(conn, batch.source, batch.previous)
        # A batch written before (its key is known) adds nothing again; the cursor still moves to it.
        seen = batch.key is not None and conn.scalar(select(batches.c.key).where(batches.c.key == batch.key))
        if not seen:
            if batch.key is not None:
                conn.execute(batches.insert().values(key=batch.key, written_at=now()))
            self._write_operations(conn, batch.operations)
            self._write_usage(conn, batch.usage)
            self._write_failures(conn, batch.failures)
            self._upsert(conn, statement_cache, ["key"], [{"key": k, "lineage": v} for k, v in sorted(
                batch.cache.items())], lambda ex: {"lineage": ex.lineage})
            self._upsert(conn, counters, ["name"], [{"name": k, "value": v} for k, v in sorted(
                batch.counters.items())], lambda ex: {"value": counters.c.value + ex.value})
        if batch.source is not None:
            self._upsert(conn, sources, ["name"], [{"name": batch.source, "cursor": batch.cursor,
                         "updated_at": now()}], lambda ex: {"cursor": ex.cursor, "updated_at": ex.updated_at})
            self._write_sessions(conn, batch.source, batch.sessions)

    def _claim(self, conn: Connection, source: str, previous: str | None) -> None:
        """Lock the source's row for this transaction and check its cursor is ``previous``."""
        self._upsert(conn, sources, ["name"], [{"name": source, "cursor": None, "updated_at": now()}])
        query = select(sources.c.cursor).where(sources.c.name == source)
        stored = conn.scalar(query if self.sqlite else query.with_for_update())  # SQLite: BEGIN IMMEDIATE
        if stored != previous:
            raise CursorMovedError(f"the cursor of {safe_url(source)} moved from {previous!r} to {stored!r}: "
                                   "another harvest of it committed")

    def _write_sessions(self, conn: Connection, source: str, changed: Mapping[str, str | None]) -> None:
        closed = sorted(k for k, v in changed.items() if v is None)
        for part in chunks(closed):
            conn.execute(delete(sessions).where(sessions.c.source == source, sessions.c.session_id.in_(part)))
        self._upsert(conn, sessions, ["source", "session_id"], [
            {"source": source, "session_id": k, "state": v} for k, v in sorted(changed.items()) if v is not None],
            lambda ex: {"state": ex.state})

    def _upsert(self, conn: Connection, table: Table, keys: list[str], rows: Sequence[dict[str, Any]],
                changes: Callable[[Any], dict[str, Any]] | None = None) -> None:
        """INSERT .. ON CONFLICT (keys) DO UPDATE SET changes(excluded) (or DO NOTHING)."""
        if rows:
            names = tuple(rows[0])
            pick = itemgetter(*names)
            self._upsert_rows(conn, table, keys, names, [pick(row) for row in rows] if len(names) > 1 else
                              [(row[names[0]],) for row in rows], changes)

    def _upsert_rows(self, conn: Connection, table: Table, keys: list[str], names: tuple[str, ...],
                     rows: Sequence[tuple[Any, ...]], changes: Callable[[Any], dict[str, Any]] | None = None) -> None:
        """:meth:`_upsert` of rows given as tuples of the columns ``names``."""
        if not rows:
            return

        def on_conflict(stmt: Any) -> Any:
            return (stmt.on_conflict_do_update(index_elements=keys, set_=changes(stmt.excluded))
                    if changes else stmt.on_conflict_do_nothing(index_elements=keys))

        def bulk(cols: Mapping[str, Any]) -> Any:
            return on_conflict(self._insert(table).from_select(list(names), select(*(cols[n] for n in names))))

        # ``changes`` is made only of the table's columns and the excluded row, so its code says what it does
        self._many(conn, (table.name, tuple(keys), changes.__code__ if changes else None),
                   lambda: on_conflict(self._insert(table)), names, rows,
                   Bulk(bulk, tuple(table.c[n].type for n in names), tuple(names.index(k) for k in keys)))

    def _many(self, conn: Connection, shape: tuple[Any, ...], build: Callable[[], Any], names: tuple[str, ...],
              rows: Sequence[tuple[Any, ...]], bulk: Bulk | None = None) -> None:
        """Execute a statement once for each row (tuples of the parameters ``names``), in one executemany
        a chunk. The statement is built and compiled once per store for its ``shape`` and ``names``: for
        SQLite its text goes straight to the driver, with no compiling or parameter processing a call.
        PostgreSQL runs ``bulk`` instead, one statement for thousands of rows, when no two rows share a key."""
        if not rows:
            return
        if not self.sqlite:
            self._many_pg(conn, shape, build, names, rows, bulk)
            return
        made = self._statements.get((*shape, names))
        if made is None:
            made = self._statements[(*shape, names)] = self._driver_sql(build(), names)
        sql, order = made  # the statement's text, the rows reordered to its parameters if need be
        for part in chunks(rows, 5000):
            conn.exec_driver_sql(sql, part if order is None else [order(row) for row in part])

    def _many_pg(self, conn: Connection, shape: tuple[Any, ...], build: Callable[[], Any], names: tuple[str, ...],
                 rows: Sequence[tuple[Any, ...]], bulk: Bulk | None) -> None:
        """:meth:`_many` on PostgreSQL: the rows as arrays unnested into one ``bulk`` statement a chunk (a
        statement the server parses, plans and logs once, not once a row). Rows that share a key (two
        names the store keys alike) cannot be in one INSERT .. ON CONFLICT DO UPDATE: they go one by one."""
        # PostgreSQL text holds no NUL: one stray byte must not stop a harvest
        rows = [tuple(v.replace("\x00", NUL) if isinstance(v, str) and "\x00" in v else v for v in row)
                if any(isinstance(v, str) and "\x00" in v for v in row) else row for row in rows]
        if bulk is not None and len({tuple(row[i] for i in bulk.key) for row in rows}) == len(rows):
            stmt = self._statements.get((*shape, names, "bulk"))
            if stmt is None:
                params = [bindparam(f"c{i}", type_=ARRAY(t)) for i, t in enumerate(bulk.types)]
                source = func.unnest(*params).table_valued(*(p.key for p in params)).render_derived()
                stmt = self._statements[(*shape, names, "bulk")] = bulk.build(
                    {n: source.c[p.key] for n, p in zip(names, params)})
            for part in chunks(rows, 10000):
                conn.execute(stmt, {f"c{i}": list(column) for i, column in enumerate(zip(*part))})
            return
        stmt = self._statements.get((*shape, names))
        if stmt is None:
            stmt = self._statements[(*shape, names)] = build()
        for part in chunks(rows, 5000):
            conn.execute(stmt, [dict(zip(names, row)) for row in part])

    def _widen(self, conn: Connection, table: Table, rows: Sequence[tuple[int, str | None, str | None]]) -> None:
        """The rows of ``table`` of each operation (id, first seen, last seen) see their window widen to it:
        one statement, compiled once, many parameter sets (PostgreSQL: one for all)."""
        def bulk(cols: Mapping[str, Any]) -> Any:
            seen = _Seen.__new__(_Seen)
            seen.first_seen, seen.last_seen = cols["first"], cols["last"]
            return update(table).where(table.c.operation_id == cols["oid"]).values(self._window(table)(seen))

        names = ("oid", "first", "last")
        self._many(conn, ("widen", table.name), lambda: bulk({n: bindparam(n) for n in names}), names, rows,
                   Bulk(bulk, (table.c.operation_id.type, table.c.first_seen.type, table.c.last_seen.type), (0,)))

    def _driver_sql(self, stmt: Any, names: Sequence[str]) -> tuple[str, Callable[[tuple], tuple] | None]:
        """A statement compiled once for the SQLite driver: its text, and how a row (a tuple of
        ``names``) becomes its positional parameters (None: as it is)."""
        compiled = stmt.compile(dialect=self.engine.dialect, column_keys=list(names))
        order = list(compiled.positiontup or ())
        if order == list(names):
            return str(compiled), None
        if not set(order) <= set(names):  # a parameter that is not a column: say it as a literal
            raise ValueError(f"statement parameters {order} are not all columns {names}")
        pick = itemgetter(*(names.index(n) for n in order))
        return str(compiled), (pick if len(order) > 1 else lambda row: (pick(row),))

    def _window(self, table: Table) -> Callable[[Any], dict[str, Any]]:
        """first_seen = the earliest, last_seen = the latest (NULL means unknown)."""
        def changes(ex: Any) -> dict[str, Any]:
            first, last = table.c.first_seen, table.c.last_seen
            return {"first_seen": self._least(func.coalesce(first, ex.first_seen), func.coalesce(ex.first_seen, first)),
                    "last_seen": self._greatest(func.coalesce(last, ex.last_seen), func.coalesce(ex.last_seen, last))}
        return changes

    def _ids(self, conn: Connection, table: Table, key: str, values: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for part in chunks(sorted(set(values))):
            out.update(conn.execute(select(table.c[key], table.c.id).where(table.c[key].in_(part))).all())
        return out

    def _seen(self, conn: Connection, keys: list[str]) -> dict[str, tuple[int, str | None, str | None]]:
        """The stored operations among ``keys``: key -> (id, first_seen, last_seen)."""
        o, out = operations, {}
        for part in chunks(keys):
            for key, oid, first, last in conn.execute(select(o.c.key, o.c.id, o.c.first_seen, o.c.last_seen)
                                                      .where(o.c.key.in_(part))):
                out[key] = (oid, first, last)
        return out

    def _named(self, conn: Connection, table: Table, names: set[str]) -> dict[str, int]:
        out = {n: i for n in names if (i := self.known.get(table.name, n)) is not None}
        missing = names - out.keys()
        if missing:
            fitted = {n: fit(n) for n in missing}
            self._upsert(conn, table, ["name"], [{"name": n} for n in sorted(set(fitted.values()))])
            ids = self._ids(conn, table, "name", fitted.values())
            for n, f in fitted.items():
                out[n] = ids[f]
                self.known.put(table.name, n, ids[f])
        return out

    def _dataset_ids(self, conn: Connection, refs: dict[tuple[str, str], str]) -> dict[tuple[str, str], int]:
        """(namespace, name) -> id, creating the datasets; refs maps them to their type."""
        out: dict[tuple[str, str], int] = {}
        missing: dict[tuple[str, str], str] = {}
        typed = []  # known datasets a batch says more of: a plain table that is a view
        for ref, kind in refs.items():
            i = self.known.get("datasets", ref)
            if i is None:
                missing[ref] = kind
            else:
                out[ref] = i
                if kind != PLAIN:
                    typed.append({"i": i, "t": kind})
        if typed:
            conn.execute(update(datasets).where(datasets.c.id == bindparam("i"), datasets.c.type == PLAIN)
                         .values(type=bindparam("t")), typed)
        if not missing:
            return out
        keys = {(ns, name): fit(f"{ns}/{name}") for ns, name in missing}
        rows = sorted(({"key": keys[(ns, name)], "namespace": fit(ns), "name": fit(name),
                        "short": fit(short_name(name)), "type": kind} for (ns, name), kind in missing.items()),
                      key=lambda r: r["key"])
        self._upsert(conn, datasets, ["key"], rows, lambda ex: {
            "type": case((datasets.c.type == literal_column("'table'"), ex.type), else_=datasets.c.type)})
        ids = self._ids(conn, datasets, "key", (r["key"] for r in rows))
        for ref, key in keys.items():
            out[ref] = ids[key]
            self.known.put("datasets", ref, ids[key])
        return out

    def _column_ids(self, conn: Connection, wanted: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
        out: dict[tuple[int, str], int] = {}
        missing = set()
        for ref in wanted:
            i = self.known.get("columns", ref)
            if i is None:
                missing.add(ref)
            else:
                out[ref] = i
        if not missing:
            return out
        fitted = {(d, fit(n)): (d, n) for d, n in missing}
        self._upsert(conn, columns, ["dataset_id", "name"],
                     [{"dataset_id": d, "name": n} for d, n in sorted(fitted)])
        for part in chunks(sorted({d for d, _ in missing})):
            for cid, did, name in conn.execute(select(columns.c.id, columns.c.dataset_id, columns.c.name)
                                               .where(columns.c.dataset_id.in_(part))):
                if (did, name) in fitted:
                    out[fitted[(did, name)]] = cid
                    self.known.put("columns", fitted[(did, name)], cid)
        return out

    def _write_operations(self, conn: Connection, ran: Sequence[Operation]) -> None:
        if not ran:
            return
        merged = merge_runs(ran)
        # The operations stored already, with their ids and windows: those this process committed
        # are known without asking. A stored operation has all its lineage (its id says what it is).
        before, unknown = self.known.split("operations", (m.op.id for m in merged))
        before.update(self._seen(conn, unknown))
        new = [merged_operation(m) for m in merged if m.op.id not in before]
        edge_refs = {op.id: column_edge_refs(op) for op in new}  # each new operation's edges, made once
        refs = dataset_types(new, lambda op: edge_refs[op.id])  # a stored operation's datasets are stored with it
        dataset_ids = self._dataset_ids(conn, refs)
        self._upsert_rows(conn, operations, ["key"], OPERATION_COLUMNS, [
            (m.op.id, m.op.type, m.op.fingerprint, m.op.sql, m.op.namespace, m.first_seen, m.last_seen,
             m.executions, m.time_basis) for m in merged],
            lambda ex: {**self._window(operations)(ex), "executions": operations.c.executions + ex.executions,
                        "sql": func.coalesce(ex.sql, operations.c.sql),
                        "time_basis": case((operations.c.time_basis == ex.time_basis, ex.time_basis),
                                           else_=literal_column("'mixed'"))})
        op_ids = {key: seen[0] for key, seen in before.items()}
        op_ids.update(self._ids(conn, operations, "key", (op.id for op in new)))
        self._link_new(conn, new, op_ids, dataset_ids, edge_refs)
        self._write_ml(conn, new, op_ids, dataset_ids, ran)
        # A known operation's edges only see their window widen: one statement, many parameter sets.
        # Its edges were seen exactly when it was, so they hold at least the window known for it.
        widened = []
        for m in merged:
            oid = op_ids[m.op.id]
            old = before.get(m.op.id)
            if old is None:
                self.known.put("operations", m.op.id, (oid, m.first_seen, m.last_seen))
                continue
            first, last = earlier(old[1], m.first_seen), later(old[2], m.last_seen)
            if (first, last) != (old[1], old[2]):
                widened.append((oid, m.first_seen, m.last_seen))
                self.known.put("operations", m.op.id, (oid, first, last))
        for table in (column_edges, model_versions):
            self._widen(conn, table, widened)
        self._link_people(conn, ran, op_ids)

    def _link_new(self, conn: Connection, ops: list[Operation], op_ids: dict[str, int],
                  dataset_ids: dict[tuple[str, str], int], edge_refs: Mapping[str, Sequence[EdgeRef]]) -> None:
        """INPUT_TO, PRODUCES and column edges of operations the store has not seen (``edge_refs``: each
        one's :func:`column_edge_refs`, by id)."""
        inputs, outputs, wanted, edges = [], [], set(), []
        for op in ops:
            oid, refs = op_ids[op.id], edge_refs[op.id]
            # Each dataset the operation names, by its id: looked up once, not once an edge end.
            names = {r.name for r in (*op.inputs, *op.outputs)} | {c.target.dataset for c in op.columns}
            names.update(ref.dataset for src, dst, _ in refs for ref in (src, dst))
            names.discard(None)
            ds = {name: dataset_ids[placed(op.namespace, name)] for name in names}
            inputs += [(ds[r.name], oid, t) for r, t in input_types(op)]
            outputs += [(oid, ds[r.name]) for r in op.outputs]
            wanted |= {(ds[c.target.dataset], c.target.column) for c in op.columns if c.target.dataset}  # every written column
            masked = masked_edges(op)
            for src, dst, kind in refs:
                s, d = (ds[src.dataset], src.column), (ds[dst.dataset], dst.column)
                wanted.add(s)
                wanted.add(d)
                hidden = int(kind in DIRECT_TYPES and (src, dst) in masked)
                edges.append((s, d, oid, kind, op.first_seen, op.last_seen, hidden))
        self._upsert_rows(conn, input_to, ["dataset_id", "operation_id"], ("dataset_id", "operation_id", "type"),
                          inputs)
        self._upsert_rows(conn, produces, ["operation_id", "dataset_id"], ("operation_id", "dataset_id"), outputs)
        column_ids = self._column_ids(conn, wanted)
        # Widened in the upsert itself: another harvest may have written the same operation's
        # edges since this batch looked (READ COMMITTED), and its window must not hide ours.
        rows = [(column_ids[s], column_ids[d], o, k, f, la, m) for s, d, o, k, f, la, m in edges]
        rows.sort(key=itemgetter(0, 1, 2, 3))
        self._upsert_rows(conn, column_edges, ["src", "dst", "operation_id", "type"], EDGE_COLUMNS, rows,
                          self._window(column_edges))

    def _link_people(self, conn: Connection, ran: Sequence[Operation], op_ids: dict[str, int]) -> None:
        """PERFORMED and HOSTED: every user and system that ran an operation, each with its own runs."""
        for table, who, names in ((performed, "user", users), (hosted, "system", systems)):
            found = run_rows(ran, who)
            ids = self._named(conn, names, {r[1] for r in found})
            self._upsert_rows(conn, table, [f"{who}_id", "operation_id"],
                              (f"{who}_id", "operation_id", "first_seen", "last_seen", "executions"),
                              [(ids[name], op_ids[op], first, last, n) for op, name, first, last, n in found],
                              lambda ex, t=table: {**self._window(t)(ex), "executions": t.c.executions + ex.executions})

    def _write_usage(self, conn: Connection, rows: Sequence[Usage]) -> None:
        if not rows:
            return
        ids = self._dataset_ids(conn, {placed(u.namespace, u.dataset): "table" for u in rows})
        merged: dict[tuple[int, str, str], int] = {}
        for u in rows:
            k = (ids[placed(u.namespace, u.dataset)], u.user or "", u.day)
            merged[k] = merged.get(k, 0) + u.count
        self._upsert(conn, usage, ["dataset_id", "user", "day"], [
            {"dataset_id": d, "user": u, "day": day, "count": n} for (d, u, day), n in sorted(merged.items())],
            lambda ex: {"count": usage.c.count + ex.count})

    def _write_failures(self, conn: Connection, rows: Sequence[ParseFailure]) -> None:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for f in rows:
            row = {"fingerprint": f.fingerprint, "dialect": f.dialect or "", "reason": f.reason, "sql": f.sql,
                   "executions": f.executions, "first_seen": f.first_seen, "last_seen": f.last_seen}
            old = merged.get((f.fingerprint, f.dialect or ""))
            if old:
                row["executions"] += old["executions"]
                row["first_seen"] = min(filter(None, (old["first_seen"], f.first_seen)), default=None)
                row["last_seen"] = max(filter(None, (old["last_seen"], f.last_seen)), default=None)
            merged[(f.fingerprint, f.dialect or "")] = row
        self._upsert(conn, parse_failures, ["fingerprint", "dialect"], [merged[k] for k in sorted(merged)],
                     lambda ex: {**self._window(parse_failures)(ex), "reason": ex.reason, "sql": ex.sql,
                                 "executions": parse_failures.c.executions + ex.executions})

    # -- reading ----------------------------------------------------------------
    def operation_rows(self, since: str | None = None) -> list[Any]:
        """Every operation last seen at or after ``since``, whole (``rows.OperationRow``: an export)."""
        from .rows import sql_operation_rows
        with self._read() as conn:
            return sql_operation_rows(conn, since)

    def cursor(self, source: str) -> str | None:
        with self._read() as conn:
            return conn.scalar(select(sources.c.cursor).where(sources.c.name == source))

    def harvested_sources(self) -> list[tuple[str, str | None, str | None]]:
        """Every source harvested into the store: (name, cursor, when it last advanced)."""
        with self._read() as conn:
            return [tuple(r) for r in conn.execute(select(sources.c.name, sources.c.cursor, sources.c.updated_at)
                                                   .order_by(sources.c.name))]  # type: ignore[misc]

    def sessions(self, source: str) -> dict[str, str]:
        with self._read() as conn:
            return dict(conn.execute(select(sessions.c.session_id, sessions.c.state)
                                     .where(sessions.c.source == source)).all())

    def cache_get(self, keys: Collection[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with self._read() as conn:
            for part in chunks(sorted(set(keys))):
                out.update(conn.execute(select(statement_cache.c.key, statement_cache.c.lineage)
                                        .where(statement_cache.c.key.in_(part))).all())
        return out

    def resolve(self, name: str) -> list[LineageNode]:
        want = name.strip().lower()
        parts = want.split(".")
        with self._read() as conn:
            found = [f"d{i}" for i, full in conn.execute(
                select(datasets.c.id, datasets.c.name).where(datasets.c.short == parts[-1]))
                if suffix_match(full, want)]
            query = select(columns.c.id, datasets.c.name, columns.c.name).join(
                datasets, datasets.c.id == columns.c.dataset_id)
            query = (query.where(datasets.c.short == parts[-2], func.lower(columns.c.name) == parts[-1])
                     if len(parts) > 1 else query.where(columns.c.name.in_(spellings(name))))
            found += [f"c{i}" for i, ds, col in conn.execute(query) if suffix_match(f"{ds}.{col}", want)]
        return by_name(self.describe(found).values())

    def neighbors(self, keys: Collection[str], direction: str, *, direct_only: bool = False,
                  since: str | None = None, as_of: str | None = None) -> list[LineageEdge]:
        dataset_ids, column_ids = split_keys(keys)
        edges: list[LineageEdge] = []
        with self._read() as conn:
            for part in chunks(dataset_ids):
                query = self._dataset_step(part, direction, direct_only, since, as_of)
                edges += [LineageEdge(f"d{s}", f"d{t}", o, k, f, la) for s, t, o, k, f, la in conn.execute(query)]
            for part in chunks(column_ids):
                query = self._column_step(part, direction, direct_only, since, as_of)
                edges += [LineageEdge(f"c{s}", f"c{t}", o, k, f, la, bool(m))
                          for s, t, o, k, f, la, m in conn.execute(query)]
        return edges

    def _dataset_step(self, ids: list[int], direction: str, direct_only: bool,
                      since: str | None, as_of: str | None) -> Any:
        i, p, o = input_to, produces, operations
        query = select(i.c.dataset_id, p.c.dataset_id, o.c.key, i.c.type, o.c.first_seen, o.c.last_seen)
        if direction == DOWNSTREAM:
            query = query.select_from(i).join(o, o.c.id == i.c.operation_id).join(
                p, p.c.operation_id == i.c.operation_id).where(i.c.dataset_id.in_(ids))
        else:
            query = query.select_from(p).join(o, o.c.id == p.c.operation_id).join(
                i, i.c.operation_id == p.c.operation_id).where(p.c.dataset_id.in_(ids))
        query = query.where(i.c.type == DIRECT) if direct_only else query
        return window(query, o, since, as_of)

    def _column_step(self, ids: list[int], direction: str, direct_only: bool,
                     since: str | None, as_of: str | None) -> Any:
        e, o = column_edges, operations
        query = select(e.c.src, e.c.dst, o.c.key, e.c.type, e.c.first_seen, e.c.last_seen, e.c.masked).join(
            o, o.c.id == e.c.operation_id).where((e.c.src if direction == DOWNSTREAM else e.c.dst).in_(ids))
        query = query.where(e.c.type.in_(DIRECT_TYPES)) if direct_only else query
        return window(query, e, since, as_of)

    def describe(self, keys: Collection[str]) -> dict[str, LineageNode]:
        dataset_ids, column_ids = split_keys(keys)
        d, c, out = datasets, columns, {}
        with self._read() as conn:
            for part in chunks(dataset_ids):
                for i, ns, name, kind in conn.execute(select(d.c.id, d.c.namespace, d.c.name, d.c.type)
                                                      .where(d.c.id.in_(part))):
                    out[f"d{i}"] = LineageNode(f"d{i}", name, "dataset", ns, kind)
            for part in chunks(column_ids):
                for i, ns, name, col, kind in conn.execute(
                        select(c.c.id, d.c.namespace, d.c.name, c.c.name, d.c.type)
                        .join(d, d.c.id == c.c.dataset_id).where(c.c.id.in_(part))):
                    out[f"c{i}"] = LineageNode(f"c{i}", f"{name}.{col}", "column", ns, kind)
        return out

    def operations(self, ids: Collection[str], since: str | None = None,
                   as_of: str | None = None) -> dict[str, OperationInfo]:
        o, out = operations, {}
        with self._read() as conn:
            for part in chunks(sorted(set(ids))):
                rows = conn.execute(select(o.c.id, o.c.key, o.c.type, o.c.first_seen, o.c.last_seen,
                                           o.c.executions, o.c.time_basis).where(o.c.key.in_(part))).all()
                people = self._people(conn, [r[0] for r in rows], since, as_of)
                for oid, key, kind, first, last, count, basis in rows:
                    who, where = people.get(oid, ((), ()))
                    out[key] = OperationInfo(key, kind, who, where, first, last, count, basis)
        return out

    def _people(self, conn: Connection, op_ids: list[int], since: str | None,
                as_of: str | None) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Who ran each operation and where, those whose own runs fall in [since, as_of] only."""
        found: dict[int, tuple[list[str], list[str]]] = {i: ([], []) for i in op_ids}
        p, h = performed, hosted
        for oid, name in conn.execute(window(select(p.c.operation_id, users.c.name).join(
                users, users.c.id == p.c.user_id).where(p.c.operation_id.in_(op_ids)), p, since, as_of)):
            found[oid][0].append(name)
        for oid, name in conn.execute(window(select(h.c.operation_id, systems.c.name).join(
                systems, systems.c.id == h.c.system_id).where(h.c.operation_id.in_(op_ids)), h, since, as_of)):
            found[oid][1].append(name)
        return {i: (tuple(sorted(u)), tuple(sorted(s))) for i, (u, s) in found.items()}

    def failures(self, limit: int | None = None) -> list[ParseFailure]:
        """The statements that did not parse, most executions first (``limit``: only the first)."""
        f = parse_failures
        query = select(f.c.fingerprint, f.c.dialect, f.c.reason, f.c.sql, f.c.executions, f.c.first_seen,
                       f.c.last_seen).order_by(f.c.executions.desc(), f.c.fingerprint).limit(limit)
        with self._read() as conn:
            return [ParseFailure(fp, d or None, r, q, int(n), a, b) for fp, d, r, q, n, a, b in conn.execute(query)]

    def column_sources(self) -> list[tuple[str, str, str, int, int]]:
        """Every column: (namespace, dataset, column, direct edges into it, edges out of it)."""
        c, d, e = columns, datasets, column_edges
        into = (select(e.c.dst.label("id"), func.count().label("n")).where(e.c.type.in_(DIRECT_TYPES))
                .group_by(e.c.dst).subquery())
        out = select(e.c.src.label("id"), func.count().label("n")).group_by(e.c.src).subquery()
        query = (select(d.c.namespace, d.c.name, c.c.name, func.coalesce(into.c.n, 0), func.coalesce(out.c.n, 0))
                 .select_from(c).join(d, d.c.id == c.c.dataset_id).outerjoin(into, into.c.id == c.c.id)
                 .outerjoin(out, out.c.id == c.c.id).order_by(d.c.name, c.c.name))
        with self._read() as conn:
            return [(ns, ds, col, int(i), int(o)) for ns, ds, col, i, o in conn.execute(query)]

    # -- aging (retire.py) --------------------------------------------------------
    def setting(self, name: str) -> str | None:
        with self._read() as conn:
            if not self.engine.dialect.has_table(conn, settings.name):
                return None
            return conn.scalar(select(settings.c.value).where(settings.c.name == name))

    def set_setting(self, name: str, value: str) -> None:
        with self._write() as conn:
            settings.create(conn, checkfirst=True)
            self._upsert(conn, settings, ["name"], [{"name": name, "value": value}],
                         lambda ex: {"value": ex.value})

    def newest_seen(self) -> str | None:
        """The newest time any operation was seen: where retirement is measured back from."""
        with self._read() as conn:
            return conn.scalar(select(func.max(operations.c.last_seen)))

    def aged(self, before: str) -> tuple[int, int, int]:
        """(operations, dataset edges, column edges) of operations last seen before ``before``."""
        old = select(operations.c.id).where(operations.c.last_seen < before)
        with self._read() as conn:
            return (conn.scalar(select(func.count()).select_from(old.subquery())) or 0,
                    sum(conn.scalar(select(func.count()).select_from(t).where(t.c.operation_id.in_(old))) or 0
                        for t in (input_to, produces)),
                    conn.scalar(select(func.count()).select_from(column_edges)
                                .where(column_edges.c.operation_id.in_(old))) or 0)

    def prune(self, before: str) -> tuple[int, int, int]:
        """Delete the operations last seen before ``before`` with their edges, users' and systems'
        runs; datasets and columns stay. Returns what was removed, as ``aged`` counts it."""
        removed = self.aged(before)
        old = select(operations.c.id).where(operations.c.last_seen < before)
        with self._write() as conn:
            for t in (column_edges, input_to, produces, performed, hosted, *ML_TABLES):
                conn.execute(delete(t).where(t.c.operation_id.in_(old)))
            conn.execute(delete(operations).where(operations.c.last_seen < before))
        return removed

    def stats(self) -> StoreStats:
        tables = (datasets, columns, operations, users, systems, input_to, produces, column_edges,
                  usage, parse_failures, statement_cache)
        with self._read() as conn:
            counts = tuple((t.name, conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables)
            counts += self.model_counts(conn)
            kept = tuple((name, int(n)) for name, n in conn.execute(
                select(counters.c.name, counters.c.value).order_by(counters.c.name)))
            total = func.sum(parse_failures.c.executions)
            reasons = tuple(conn.execute(select(parse_failures.c.reason, total).group_by(parse_failures.c.reason)
                                         .order_by(total.desc(), parse_failures.c.reason).limit(10)))
        return StoreStats(counts, kept, tuple((r, int(n)) for r, n in reasons))


@dataclass(frozen=True)
class Bulk:
    """How PostgreSQL writes many rows in one statement: ``build`` makes it from the rows' columns (name
    -> column of an unnested array of the type in ``types``); ``key``: the positions of a row's key."""

    build: Callable[[Mapping[str, Any]], Any]
    types: tuple[Any, ...]
    key: tuple[int, ...]


class _Seen:
    """An operation's window dressed as the ``excluded`` row of an upsert."""

    def __init__(self, op: Operation) -> None:
        self.first_seen, self.last_seen = op.first_seen, op.last_seen


def window(query: Any, table: Table, since: str | None, as_of: str | None) -> Any:
    """Only lineage seen in [since, as_of]: last seen at or after since, first seen by as_of."""
    if since:
        query = query.where(table.c.last_seen >= since)
    if as_of:
        query = query.where(table.c.first_seen <= as_of)
    return query

