"""Where lineage lasts: the ``Store`` seam and the registry of stores by URL scheme.

>>> safe_url("postgresql://harvester:s3cret@db.example:5432/lineage")
'postgresql://harvester:***@db.example:5432/lineage'
>>> sorted(STORES)
['bolt', 'bolt+s', 'neo4j', 'neo4j+s', 'postgres', 'postgresql', 'postgresql+psycopg', 'sqlite']
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..errors import ConfigError, HarvesterError, hide_secrets
from ..model import (
    DatasetLinks,
    LineageEdge,
    LineageNode,
    OperationLinks,
    Operation,
    OperationInfo,
    ParseFailure,
    StoreStats,
    Usage,
)

DEFAULT_URL = "sqlite:///lineage.db"
UPSTREAM, DOWNSTREAM = "upstream", "downstream"

# One line per implementation: URL scheme -> "module:Class" (imported on first use,
# so a store's driver is only needed when that store is used).
STORES: dict[str, str] = {
    "sqlite": "sqllineage_harvester.stores.sql:SQLStore",
    "postgresql": "sqllineage_harvester.stores.sql:SQLStore",
    "postgresql+psycopg": "sqllineage_harvester.stores.sql:SQLStore",
    "postgres": "sqllineage_harvester.stores.sql:SQLStore",
    "neo4j": "sqllineage_harvester.stores.neo4j:Neo4jStore",
    "neo4j+s": "sqllineage_harvester.stores.neo4j:Neo4jStore",
    "bolt": "sqllineage_harvester.stores.neo4j:Neo4jStore",
    "bolt+s": "sqllineage_harvester.stores.neo4j:Neo4jStore",
}


class StoreError(HarvesterError):
    """The store cannot be opened, read or written."""


class CursorMovedError(StoreError):
    """The source's cursor is no longer the one a batch started from: another harvest of the
    same source committed in between. Nothing of the batch was written; read again from the
    store's cursor."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock for longer than we wait."""


class StoreReadOnlyError(StoreError):
    """The store (file, directory or database role) does not allow writing."""


class StoreUnusableError(StoreError):
    """The store does not exist, is another application's, or has a schema version this harvester
    cannot use: a configuration to fix, not a failure to retry."""

    exit_code = 2


def check_version(url: str, found: int | None, known: int, oldest: int, read_only: bool,
                  reads_older: bool = False) -> None:
    """Refuse a store whose schema version ``found`` (None: no schema at all) this harvester cannot
    use: it knows up to ``known`` and upgrades from ``oldest``; a reader never upgrades, so an older
    store is refused unless the store ``reads_older``, and an empty one holds no lineage."""
    where = f"store {safe_url(url)}"
    if found is None:
        if read_only:
            raise StoreUnusableError(f"{where} holds no lineage: nothing has been harvested into it "
                                     f"(check --store or $SQLLINEAGE_STORE)")
        return
    if found > known:
        raise StoreUnusableError(f"{where} has schema version {found}, newer than this harvester, which "
                                 f"knows up to {known}: upgrade sqllineage-harvester")
    if found < oldest:
        raise StoreUnusableError(f"{where} has schema version {found}, older than any this harvester can "
                                 f"upgrade (it upgrades from version {oldest}): harvest into a new store")
    if found < known and read_only and not reads_older:
        raise StoreUnusableError(f"{where} has schema version {found}, older than this harvester's {known}: "
                                 f"harvest into it once to upgrade it, then query it")


@dataclass(frozen=True)
class Batch:
    """Everything one harvest step writes, in one transaction.

    ``operations[i].executions`` and ``usage[i].count`` are *new* executions and
    reads to add; ``counters`` are increments. ``source``/``cursor`` advance the
    source's watermark together with the rest. A ``key`` makes the write
    exactly-once: a batch whose key was already written is skipped whole.
    """

    operations: tuple[Operation, ...] = ()
    usage: tuple[Usage, ...] = ()
    failures: tuple[ParseFailure, ...] = ()
    cache: Mapping[str, str] = field(default_factory=dict)  # statement key -> lineage JSON
    counters: Mapping[str, int] = field(default_factory=dict)  # e.g. "rows:insert" -> 3
    source: str | None = None
    cursor: str | None = None
    key: str | None = None
    # Compare-and-set: with ``check``, the batch commits only if the source's stored cursor is
    # still ``previous`` (the one it was read after); else CursorMovedError and nothing is written.
    # Exactly-once is a property of the store, whoever else harvests the same source into it.
    check: bool = False
    previous: str | None = None
    # The source's open sessions this batch changed: session id -> state JSON, or None when the
    # session is closed (forgotten). Kept with the cursor, so a run cut anywhere resumes them.
    sessions: Mapping[str, str | None] = field(default_factory=dict)


class Store(Protocol):
    """What the harvest writes through and the queries read through."""

    url: str

    def write_batch(self, batch: Batch) -> None: ...

    def cursor(self, source: str) -> str | None: ...

    def cache_get(self, keys: Collection[str]) -> dict[str, str]: ...

    def sessions(self, source: str) -> dict[str, str]:
        """The open sessions a harvest of ``source`` left: session id -> state JSON."""
        ...

    def resolve(self, name: str) -> list[LineageNode]:
        """Nodes whose full name is ``name`` or ends with ``.name`` (case-insensitive), in every
        namespace. A name may hold ``://`` itself (a file or stage dataset); a namespace in front
        of a name (``NS/name``) is the queries' to read (``queries.find``), not the store's."""
        ...

    def neighbors(
        self,
        keys: Collection[str],
        direction: str,
        *,
        direct_only: bool = False,
        since: str | None = None,
        as_of: str | None = None,
    ) -> list[LineageEdge]:
        """Edges one step downstream (out of ``keys``) or upstream (into them), of lineage seen in
        [since, as_of]: last seen at or after ``since``, first seen by ``as_of``. Both come in the
        form the harvest writes times (``queries.moment``: UTC ISO-8601 with microseconds), so a
        store compares them with its stored times as text."""
        ...

    def describe(self, keys: Collection[str]) -> dict[str, LineageNode]: ...

    def operations(self, ids: Collection[str], since: str | None = None,
                   as_of: str | None = None) -> dict[str, OperationInfo]:
        """What the operations are; their users and systems, those that ran them in [since, as_of]."""
        ...

    def stats(self) -> StoreStats: ...

    # What ``validate`` reads besides the above (validate.py).
    def failures(self, limit: int | None = None) -> list[ParseFailure]:
        """The statements that did not parse, most executions first."""
        ...

    def column_sources(self) -> list[tuple[str, str, str, int, int]]:
        """Every column: (namespace, dataset, column, direct edges into it, edges out of it)."""
        ...

    def harvested_sources(self) -> list[tuple[str, str | None, str | None]]:
        """Every source harvested into the store: (name, cursor, when it last advanced)."""
        ...

    def operation_rows(self, since: str | None = None) -> list[Any]:
        """Every operation last seen at or after ``since``, whole (``rows.OperationRow``)."""
        ...

    # What aging reads and writes (retire.py).
    def setting(self, name: str) -> str | None: ...

    def set_setting(self, name: str, value: str) -> None: ...

    def newest_seen(self) -> str | None:
        """The newest time any operation was seen."""
        ...

    def aged(self, before: str) -> tuple[int, int, int]:
        """(operations, table edges, column edges) of operations last seen before ``before``."""
        ...

    def prune(self, before: str) -> tuple[int, int, int]:
        """Delete the operations last seen before ``before`` with their edges; what ``aged`` counted."""
        ...

    # What ``explore`` reads (show, search, suggestions): stores/sql_explore.py, stores/neo4j_explore.py.
    def search(self, parts: Sequence[str], limit: int = 50, namespace: str | None = None) -> list[LineageNode]:
        """Datasets and columns (up to ``limit`` of each) whose full name holds ``parts`` in
        order, case-insensitive; only those in ``namespace`` (any case) when given, the limit
        counted among them."""
        ...

    def search_count(self, parts: Sequence[str], namespace: str | None = None) -> dict[str, int]:
        """How many datasets and columns ``search`` finds without a limit: {"dataset": n, "column": m}."""
        ...

    def dataset_links(self, key: str) -> DatasetLinks:
        """The columns, writers, readers and plain reads of the dataset with node ``key``."""
        ...

    def operation_ids(self, prefix: str, limit: int = 20) -> list[str]: ...

    def operation_outputs(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The node keys of the datasets each of the operations ``ids`` writes."""
        ...

    def operation_links(self, op_id: str) -> OperationLinks | None:
        """SQL, inputs, outputs and runs of an operation; None when there is no such id."""
        ...

    # Columns' own tags (``tags.py``): stores/sql_tags.py, stores/neo4j_tags.py.
    def tag_columns(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Tag columns: (column key, tag, origin: hand | rules | catalog); a hand tag stays by hand."""
        ...

    def untag_column(self, key: str, tag: str) -> int: ...

    def column_tags(self) -> list[tuple[str, str, str]]:
        """Every column's own tags: (column key, tag, origin), sorted."""
        ...

    def close(self) -> None: ...


def scheme(url: str) -> str:
    """The URL's scheme, lower-cased.

    >>> scheme("SQLite:///lineage.db")
    'sqlite'
    """
    return url.split(":", 1)[0].lower() if ":" in url else ""


def safe_url(url: str) -> str:
    """A URL or DSN as it may be printed: every password form hidden (``errors.hide_secrets``)."""
    return hide_secrets(url)


def check_location(value: str, what: str) -> None:
    """Refuse, as a usage error, a ``what`` (store, source) that is neither a well-formed URL nor a
    path: a libpq DSN (``host=db password=...``), a scheme without ``//``, a bad host or port."""
    if "://" not in value:
        if re.match(r"\s*[A-Za-z_]\w*\s*=", value) or re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", value):
            raise ConfigError(f"{what} {value!r} is neither a URL nor a path: give a URL (sqlite:///path.db, "
                              f"postgresql://user@host:5432/db, ...) or a file path; a libpq DSN (host=... "
                              f"dbname=...) is not read")
        return
    try:
        urlsplit(value).port
    except ValueError as e:
        raise ConfigError(f"{what} URL {value!r} is malformed: {e}") from e


def open_store(url: str | None = None, *, read_only: bool = False) -> Store:
    """The store a URL names; a plain path means an SQLite file. ``read_only`` (the queries) never
    creates, upgrades or writes anything: a store that does not exist yet is a usage error."""
    url = url or DEFAULT_URL
    check_location(url, "store")
    if "://" not in url:
        url = f"sqlite:///{url}"
    target = STORES.get(scheme(url))
    if target is None:
        raise ConfigError(
            f"unknown store {safe_url(url)!r}; use one of: " + ", ".join(f"{s}://" for s in STORES)
        )
    module, cls = target.split(":")
    try:
        store_class = getattr(importlib.import_module(module), cls)
    except ImportError as e:
        raise ConfigError(f"store {scheme(url)}:// needs a driver that is not installed: {e}") from e
    store: Store = store_class(url, read_only=read_only)
    return store
