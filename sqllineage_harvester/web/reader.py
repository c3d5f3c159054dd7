"""What the web view reads of a store beyond the ``Store`` protocol: search by partial name,
namespaces, the columns of tables, the table of columns, every dataset, in batches of keys.

One reader class a store class (``READERS``), each in the store's own query language. An
operation's details are the library's (``operation``: ``explore.operation``, as ``show`` reads
them); the search stays the view's own, for it asks another question than ``explore.search``:
a column by its own name (``amount``) or as ``table.column``, never every column of a table
whose name matches, as the page's search of its own data does.
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
    def search(self, pattern: str, namespace: str | None, limit: int) -> list[LineageNode]: ...

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

    def search(self, pattern: str, namespace: str | None, limit: int = LIMIT) -> list[LineageNode]:
        from sqlalchemy import func, select

        d, c, like = self.t.datasets, self.t.columns, like_pattern(pattern)
        last = pattern.strip().rsplit(".", 1)
        with self.store._read() as conn:
            query = select(d.c.id).where(func.lower(d.c.name).like(like, escape="\\"))
            if namespace:
                query = query.where(d.c.namespace == namespace)
            keys = [f"d{i}" for (i,) in conn.execute(query.order_by(d.c.name).limit(limit))]
            # a column by its own name, or by table.column when the pattern has a dot
            cq = select(c.c.id).join(d, d.c.id == c.c.dataset_id).where(
                func.lower(c.c.name).like(like_pattern(last[-1]), escape="\\"))
            if len(last) > 1:
                cq = cq.where(func.lower(d.c.name).like(like_pattern(last[0]), escape="\\"))
            if namespace:
                cq = cq.where(d.c.namespace == namespace)
            keys += [f"c{i}" for (i,) in conn.execute(cq.order_by(d.c.name, c.c.name).limit(limit))]
        return ordered(self.store.describe(keys).values(), pattern)

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

    def search(self, pattern: str, namespace: str | None, limit: int = LIMIT) -> list[LineageNode]:
        words, last = pieces(pattern), pattern.strip().rsplit(".", 1)
        where = "all(p IN $words WHERE toLower(d.name) CONTAINS p) AND ($ns IS NULL OR d.namespace = $ns)"
        found = [f"d{i}" for i, name in self.store._read(
            f"MATCH (d:Dataset) WHERE {where} RETURN d.id, d.name ORDER BY d.name LIMIT $limit",
            words=words, ns=namespace, limit=limit * 4) if matches(pattern).search(name)][:limit]
        rows = self.store._read(
            "MATCH (c:Column) WHERE all(p IN $words WHERE toLower(c.name) CONTAINS p) "
            "MATCH (d:Dataset {id: c.dataset}) WHERE ($ns IS NULL OR d.namespace = $ns) "
            "AND all(p IN $table WHERE toLower(d.name) CONTAINS p) "
            "RETURN c.id, d.name, c.name ORDER BY d.name, c.name LIMIT $limit",
            words=pieces(last[-1]), table=pieces(last[0]) if len(last) > 1 else [], ns=namespace, limit=limit * 4)
        column = matches(last[-1])
        found += [f"c{i}" for i, _, name in rows if column.search(name)][:limit]
        return ordered(self.store.describe(found).values(), pattern)

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
