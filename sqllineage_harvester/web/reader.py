"""What the web view reads of a store beyond the ``Store`` protocol: search by partial name,
namespaces, the columns of tables, the table of columns, one operation's details, every dataset.

One reader class a store class (``READERS``), each in the store's own query language. These
reads are the web view's until the library has its own (dataset and operation details, search):
then ``reader_for`` is the one place to point at them.
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

    def operation(self, op_id: str) -> dict[str, Any] | None: ...


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


def operation_dict(row: dict[str, Any], users: list[dict[str, Any]], systems: list[dict[str, Any]],
                   inputs: list[dict[str, str]], outputs: list[str]) -> dict[str, Any]:
    return {**row, "users": sorted(users, key=lambda u: (-(u["executions"] or 0), u["name"])),
            "systems": sorted(systems, key=lambda s: (-(s["executions"] or 0), s["name"])),
            "inputs": sorted(inputs, key=lambda i: (i["name"], i["type"])), "outputs": sorted(outputs)}


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

    def operation(self, op_id: str) -> dict[str, Any] | None:
        from sqlalchemy import select

        t = self.t
        o, d = t.operations, t.datasets
        with self.store._read() as conn:
            row = conn.execute(select(o.c.id, o.c.key, o.c.type, o.c.sql, o.c.namespace, o.c.first_seen,
                                      o.c.last_seen, o.c.executions, o.c.time_basis).where(o.c.key == op_id)).first()
            if row is None:
                return None
            oid = row[0]
            people = [{"name": n, "executions": x, "first_seen": f, "last_seen": la} for n, x, f, la in conn.execute(
                select(t.users.c.name, t.performed.c.executions, t.performed.c.first_seen, t.performed.c.last_seen)
                .join(t.users, t.users.c.id == t.performed.c.user_id).where(t.performed.c.operation_id == oid))]
            hosts = [{"name": n, "executions": x} for n, x in conn.execute(
                select(t.systems.c.name, t.hosted.c.executions).join(t.systems, t.systems.c.id == t.hosted.c.system_id)
                .where(t.hosted.c.operation_id == oid))]
            inputs = [{"name": n, "type": k} for n, k in conn.execute(
                select(d.c.name, t.input_to.c.type).join(d, d.c.id == t.input_to.c.dataset_id)
                .where(t.input_to.c.operation_id == oid))]
            outputs = [n for (n,) in conn.execute(select(d.c.name).join(t.produces, t.produces.c.dataset_id == d.c.id)
                                                  .where(t.produces.c.operation_id == oid))]
        info = dict(zip(("id", "type", "sql", "namespace", "first_seen", "last_seen", "executions", "time_basis"),
                        row[1:]))
        return operation_dict(info, people, hosts, inputs, outputs)


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

    def operation(self, op_id: str) -> dict[str, Any] | None:
        read = self.store._read
        rows = read("MATCH (o:Operation {id: $id}) RETURN o.id, o.type, o.sql, o.namespace, o.first_seen, "
                    "o.last_seen, o.executions, o.time_basis", id=op_id)
        if not rows:
            return None
        info = dict(zip(("id", "type", "sql", "namespace", "first_seen", "last_seen", "executions", "time_basis"),
                        rows[0]))
        info["time_basis"] = info["time_basis"] or "execution"
        people = [{"name": n, "executions": x, "first_seen": f, "last_seen": la} for n, x, f, la in read(
            "MATCH (o:Operation {id: $id})<-[p:PERFORMED]-(u:User) "
            "RETURN u.name, p.executions, p.first_seen, p.last_seen", id=op_id)]
        hosts = [{"name": n, "executions": x} for n, x in read(
            "MATCH (o:Operation {id: $id})<-[h:HOSTED]-(s:System) RETURN s.name, h.executions", id=op_id)]
        inputs = [{"name": n, "type": k} for n, k in read(
            "MATCH (o:Operation {id: $id})<-[e:INPUT_TO]-(d:Dataset) RETURN d.name, e.type", id=op_id)]
        outputs = [n for (n,) in read("MATCH (o:Operation {id: $id})-[:PRODUCES]->(d:Dataset) RETURN d.name", id=op_id)]
        return operation_dict(info, people, hosts, inputs, outputs)


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
