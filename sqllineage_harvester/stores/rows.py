"""Stored operations read back whole, for an export: each with its datasets, column edges and users.

Each store's ``operation_rows(since)`` calls the reader of its kind here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .schema import column_edges, columns, datasets, input_to, operations, performed, produces, users

Node = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class OperationRow:
    """An operation as a store keeps it."""

    id: str
    type: str
    namespace: str
    sql: str | None
    first_seen: str | None
    last_seen: str | None
    executions: int
    inputs: tuple[Node, ...]
    outputs: tuple[Node, ...]
    edges: tuple[tuple[Node, str, Node, str, str], ...]  # (source, column, target, column, type)
    users: tuple[str, ...]


def sql_operation_rows(conn: Connection, since: str | None) -> list[OperationRow]:
    """Operations last seen at or after ``since`` (all of them for None), from the SQL store."""
    query = select(operations.c.id, operations.c.key, operations.c.type, operations.c.namespace, operations.c.sql,
                   operations.c.first_seen, operations.c.last_seen, operations.c.executions)
    if since:
        query = query.where(operations.c.last_seen >= since)
    ops = conn.execute(query.order_by(operations.c.key)).all()
    ds = {i: (ns, name) for i, ns, name in conn.execute(select(datasets.c.id, datasets.c.namespace, datasets.c.name))}
    ins: dict[int, list[Node]] = {}
    outs: dict[int, list[Node]] = {}
    for d, o in conn.execute(select(input_to.c.dataset_id, input_to.c.operation_id)):
        ins.setdefault(o, []).append(ds[d])
    for o, d in conn.execute(select(produces.c.operation_id, produces.c.dataset_id)):
        outs.setdefault(o, []).append(ds[d])
    cols = {i: (ds[d], name) for i, d, name in conn.execute(select(columns.c.id, columns.c.dataset_id, columns.c.name))}
    edges: dict[int, list[tuple[Node, str, Node, str, str]]] = {}
    for s, t, o, kind in conn.execute(select(column_edges.c.src, column_edges.c.dst, column_edges.c.operation_id,
                                             column_edges.c.type)):
        edges.setdefault(o, []).append((*cols[s], *cols[t], kind))
    who: dict[int, list[str]] = {}
    for o, name in conn.execute(select(performed.c.operation_id, users.c.name)
                                .join(users, users.c.id == performed.c.user_id)):
        who.setdefault(o, []).append(name)
    return [OperationRow(key, kind, ns, sql, first, last, n, tuple(sorted(ins.get(i, ()))),
                         tuple(sorted(outs.get(i, ()))), tuple(sorted(edges.get(i, ()))),
                         tuple(sorted(who.get(i, ()))))
            for i, key, kind, ns, sql, first, last, n in ops]


def graph_operation_rows(read: Callable[..., list[list[Any]]], since: str | None) -> list[OperationRow]:
    """The same from the Neo4j store (``read(query, **params)`` gives rows)."""
    where = "WHERE o.last_seen >= $since " if since else ""
    rows = read(
        f"MATCH (o:Operation) {where}"
        "OPTIONAL MATCH (i:Dataset)-[:INPUT_TO]->(o) WITH o, collect(DISTINCT [i.namespace, i.name]) AS ins "
        "OPTIONAL MATCH (o)-[:PRODUCES]->(d:Dataset) WITH o, ins, collect(DISTINCT [d.namespace, d.name]) AS outs "
        "OPTIONAL MATCH (u:User)-[:PERFORMED]->(o) WITH o, ins, outs, collect(DISTINCT u.name) AS who "
        "RETURN o.id, o.type, o.namespace, o.sql, o.first_seen, o.last_seen, o.executions, ins, outs, who "
        "ORDER BY o.id", since=since)
    edges: dict[str, list[tuple[Node, str, Node, str, str]]] = {}
    for sd, sc, td, tc, op, kind in read(
            "MATCH (sd:Dataset)-[:HAS_COLUMN]->(s:Column)-[e:FEEDS]->(t:Column)<-[:HAS_COLUMN]-(td:Dataset) "
            "RETURN [sd.namespace, sd.name], s.name, [td.namespace, td.name], t.name, e.operation, e.type"):
        edges.setdefault(op, []).append(((sd[0], sd[1]), sc, (td[0], td[1]), tc, kind))

    def nodes(items: list[list[str]]) -> tuple[Node, ...]:
        return tuple(sorted((ns, name) for ns, name in items if name is not None))

    return [OperationRow(i, kind, ns, sql, first, last, n or 0, nodes(ins), nodes(outs),
                         tuple(sorted(edges.get(i, ()))), tuple(sorted(who)))
            for i, kind, ns, sql, first, last, n, ins, outs, who in rows]
