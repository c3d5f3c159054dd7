"""What the web view reads of a store beyond the ``Store`` protocol: search by partial name,
namespaces, the columns of tables, the table of columns, every dataset, in batches of keys.

One reader class a store class (``READERS``), each in the store's own query language. An
operation's details are the library's (``operation``: ``explore.operation``, as ``show`` reads
them); the search stays the view's own, for it asks another question than ``explore.search``:
a column by its own name (``amount``) or as ``table.column`` / ``table*column``, never every
column of a table whose name matches, as the page's search of its own data does: a column is
found when its full name matches as the CLI reads it and the match ends in the column's own name
(``column_rule``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any, Protocol

from ..model import LineageNode
from ..stores import Store
from ..stores.common import chunks

LIMIT = 50  # search results of each kind


class Reader(Protocol):
    def search(self, pattern: str, namespace: str | None, limit: int) -> tuple[list[LineageNode], dict[str, int]]:
        """Up to ``limit`` datasets and as many columns, and how many of each match in all."""
        ...

    def namespaces(self) -> list[str]: ...

    def columns(self, dataset_keys: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        """Dataset key -> [(column key, column name)], by name."""
        ...

    def tables(self, column_keys: Collection[str]) -> dict[str, str]:
        """Column key -> its dataset's key."""
        ...

    def datasets(self, namespace: str | None) -> list[str]:
        """Every dataset key (in ``namespace``)."""
        ...


def like_pattern(pattern: str) -> str:
    r"""A search pattern as SQL LIKE reads it (``\`` escapes): contains, ``*`` any run of characters.

    >>> like_pattern("raw.pay*_id")
    '%raw.pay%\\_id%'
    """
    text = pattern.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + text.replace("*", "%") + "%"


def matches(pattern: str) -> re.Pattern[str]:
    """A search pattern as a regular expression: case-insensitive, contains, ``*`` a wildcard.

    >>> bool(matches("pay*amount").search("raw.PAYMENTS.amount"))
    True
    """
    return re.compile(".*".join(re.escape(p) for p in pattern.strip().split("*")), re.I)


def pieces(pattern: str) -> list[str]:
    return [p for p in pattern.strip().lower().split("*") if p]


def column_rule(pattern: str) -> tuple[list[str], list[tuple[list[str], str]]]:
    """When a column matches: its full name ``table.column`` holds the pattern's parts in order
    (as the CLI's search) with the last part inside the column's own name, or the last part
    runs across the table's end: each (table ends with ``parts + head``, column starts with
    tail) of a dot in the last part. The parts, and those splits.

    >>> column_rule("pay*payments.amo")
    (['pay', 'payments.amo'], [(['pay', 'payments'], 'amo')])
    """
    parts = pieces(pattern)
    if not parts:
        return parts, []
    *head, last = parts
    return parts, [(head + [last[:k]], last[k + 1:]) for k in range(len(last) - 1) if last[k] == "."]


def java_in_order(parts: list[str]) -> str:
    """A Java regular expression (Cypher's ``=~``, a full match) of text ending with ``parts`` in order."""
    return "(?s).*" + ".*".join(re.escape(p) for p in parts)


def operation(store: Store, op_id: str) -> dict[str, Any] | None:
    """One operation as the statement panel shows it (SQL, kind, times, users and systems with
    their runs, what it reads and writes): ``explore.operation``, the answer of ``show OP``."""
    from ..explore import UnknownNameError, operation as details

    try:
        found = details(store, op_id)
    except UnknownNameError:
        return None
    info = found.info
    return {"id": info.id, "type": info.type, "sql": found.sql, "namespace": found.namespace,
            "first_seen": info.first_seen, "last_seen": info.last_seen, "executions": info.executions,
            "time_basis": info.time_basis or "execution",
            "users": sorted(({"name": u.name, "executions": u.executions, "first_seen": u.first_seen,
                              "last_seen": u.last_seen} for u in found.users),
                            key=lambda u: (-(u["executions"] or 0), u["name"])),
            "systems": sorted(({"name": h.name, "executions": h.executions} for h in found.systems),
                              key=lambda h: (-(h["executions"] or 0), h["name"])),
            "inputs": sorted(({"name": n.name, "type": t} for n, t in found.inputs),
                             key=lambda i: (i["name"], i["type"])),
            "outputs": sorted(n.name for n in found.outputs)}


class SQLReader:
    """SQLite and PostgreSQL stores (``stores.sql``): keys are ``d<id>`` and ``c<id>``."""

    def __init__(self, store: Any) -> None:
        from ..stores import schema

        self.store, self.t = store, schema

    def search(self, pattern: str, namespace: str | None,
               limit: int = LIMIT) -> tuple[list[LineageNode], dict[str, int]]:
        from sqlalchemy import func

        keys: list[str] = []
        counts: dict[str, int] = {}
        with self.store._read() as conn:
            for kind, query, order in (("dataset", *self._datasets(pattern, namespace)),
                                       ("column", *self._columns(pattern, namespace))):
                ids = [i for (i,) in conn.execute(query.add_columns(order[-1].table.c.id).order_by(*order)
                                                  .limit(limit + 1))]
                keys += [f"{kind[0]}{i}" for i in ids[:limit]]
                counts[kind] = len(ids) if len(ids) <= limit else int(
                    conn.execute(query.add_columns(func.count())).scalar_one())
        return ordered(self.store.describe(keys).values(), pattern), counts

    def _datasets(self, pattern: str, namespace: str | None) -> tuple[Any, tuple[Any, ...]]:
        """The datasets whose name holds the pattern, a query yet to say what it selects, and its order."""
        from sqlalchemy import func, select

        d = self.t.datasets
        query = select().select_from(d).where(func.lower(d.c.name).like(like_pattern(pattern), escape="\\"))
        return (query.where(d.c.namespace == namespace) if namespace else query), (d.c.name,)

    def _columns(self, pattern: str, namespace: str | None) -> tuple[Any, tuple[Any, ...]]:
        """The columns ``column_rule`` finds, a query yet to say what it selects, and its order."""
        from sqlalchemy import and_, func, or_, select, true

        from ..stores.sql_explore import like_pattern as in_order

        d, c = self.t.datasets, self.t.columns
        table, column = func.lower(d.c.name), func.lower(c.c.name)
        parts, splits = column_rule(pattern)
        rule: Any = true()
        if parts:
            rule = column.like(in_order(parts[-1:]), escape="\\")
            if len(parts) > 1:
                rule = and_(rule, func.lower(d.c.name + "." + c.c.name).like(in_order(parts), escape="\\"))
            rule = or_(rule, *(and_(table.like(in_order(ends)[:-1], escape="\\"),
                                    column.like(in_order([tail])[1:], escape="\\")) for ends, tail in splits))
        query = select().select_from(c).join(d, d.c.id == c.c.dataset_id).where(rule)
        return (query.where(d.c.namespace == namespace) if namespace else query), (d.c.name, c.c.name)

    def namespaces(self) -> list[str]:
        from sqlalchemy import select

        with self.store._read() as conn:
            return [n for (n,) in conn.execute(select(self.t.datasets.c.namespace).distinct()
                                               .order_by(self.t.datasets.c.namespace))]

    def columns(self, dataset_keys: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        from sqlalchemy import select

        c = self.t.columns
        out: dict[str, list[tuple[str, str]]] = {k: [] for k in dataset_keys}
        ids = sorted({int(k[1:]) for k in dataset_keys})
        with self.store._read() as conn:
            for part in chunks(ids):
                for i, ds, name in conn.execute(select(c.c.id, c.c.dataset_id, c.c.name)
                                                .where(c.c.dataset_id.in_(part)).order_by(c.c.name)):
                    out[f"d{ds}"].append((f"c{i}", name))
        return out

    def tables(self, column_keys: Collection[str]) -> dict[str, str]:
        from sqlalchemy import select

        c, out = self.t.columns, {}
        ids = sorted({int(k[1:]) for k in column_keys if k.startswith("c")})
        with self.store._read() as conn:
            for part in chunks(ids):
                out.update({f"c{i}": f"d{ds}" for i, ds in conn.execute(
                    select(c.c.id, c.c.dataset_id).where(c.c.id.in_(part)))})
        return out

    def datasets(self, namespace: str | None) -> list[str]:
        from sqlalchemy import select

        d = self.t.datasets
        query = select(d.c.id).order_by(d.c.name)
        with self.store._read() as conn:
            return [f"d{i}" for (i,) in conn.execute(query.where(d.c.namespace == namespace) if namespace else query)]


class Neo4jReader:
    """Neo4j stores (``stores.neo4j``): keys are ``d`` / ``c`` and the node's ``id``."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def search(self, pattern: str, namespace: str | None,
               limit: int = LIMIT) -> tuple[list[LineageNode], dict[str, int]]:
        parts, splits = column_rule(pattern)
        asked = {"full": java_in_order(parts) + ".*", "last": parts[-1] if parts else "", "ns": namespace,
                 "splits": [[java_in_order(ends), tail] for ends, tail in splits]}
        found: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        for kind, match in (("dataset", "MATCH (d:Dataset) WHERE toLower(d.name) =~ $full AND "
                                        "($ns IS NULL OR d.namespace = $ns)"),
                            ("column", "MATCH (c:Column) MATCH (d:Dataset {id: c.dataset}) WHERE "
                                       "($ns IS NULL OR d.namespace = $ns) AND "
                                       "((toLower(c.name) CONTAINS $last AND toLower(d.name + '.' + c.name) =~ $full)"
                                       " OR any(s IN $splits WHERE toLower(d.name) =~ s[0] "
                                       "AND toLower(c.name) STARTS WITH s[1]))")):
            order = "d.name" if kind == "dataset" else "d.name, c.name"
            ids = [i for (i,) in self.store._read(f"{match} RETURN {kind[0]}.id ORDER BY {order} LIMIT $limit",
                                                  limit=limit + 1, **asked)]
            found[kind] = [f"{kind[0]}{i}" for i in ids[:limit]]
            counts[kind] = len(ids) if len(ids) <= limit else int(
                self.store._read(f"{match} RETURN count(*)", **asked)[0][0])
        return ordered(self.store.describe(found["dataset"] + found["column"]).values(), pattern), counts

    def namespaces(self) -> list[str]:
        return [n for (n,) in self.store._read("MATCH (d:Dataset) RETURN DISTINCT d.namespace AS n ORDER BY n")]

    def columns(self, dataset_keys: Collection[str]) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {k: [] for k in dataset_keys}
        for ds, i, name in self.store._read_chunked(
                "UNWIND $ids AS i MATCH (c:Column {dataset: i}) RETURN c.dataset, c.id, c.name ORDER BY c.name",
                [k[1:] for k in dataset_keys]):
            out[f"d{ds}"].append((f"c{i}", name))
        for cols in out.values():
            cols.sort(key=lambda c: c[1])
        return out

    def tables(self, column_keys: Collection[str]) -> dict[str, str]:
        return {f"c{i}": f"d{ds}" for i, ds in self.store._read_chunked(
            "UNWIND $ids AS i MATCH (c:Column {id: i}) RETURN c.id, c.dataset",
            [k[1:] for k in column_keys if k.startswith("c")])}

    def datasets(self, namespace: str | None) -> list[str]:
        return [f"d{i}" for (i,) in self.store._read(
            "MATCH (d:Dataset) WHERE $ns IS NULL OR d.namespace = $ns RETURN d.id ORDER BY d.name", ns=namespace)]


def ordered(nodes: Collection[LineageNode], pattern: str) -> list[LineageNode]:
    """Datasets before columns; names that start with the pattern's end first, then by name."""
    want = pattern.strip().lower().rsplit(".", 1)[-1].replace("*", "")
    return sorted(nodes, key=lambda n: (n.kind != "dataset", not n.name.lower().rsplit(".", 1)[-1].startswith(want),
                                        n.name, n.namespace))


# One line per store class.
READERS: dict[str, type] = {"SQLStore": SQLReader, "Neo4jStore": Neo4jReader}


def reader_for(store: Store) -> Reader:
    reader: Reader = READERS[type(store).__name__](store)
    return reader
