"""What the graph component draws, as JSON-ready dicts: tables (boxes) with their columns, edges
between columns (and between tables where no column edge says more), operations.

The served app asks for pieces (``open_graph`` for a name, ``expand`` one table a step further,
``impact`` of a column, ``operation``); a file made by ``--format html`` or ``export`` embeds one
whole (``answer`` for a query's result, ``everything`` for a store or namespace). Keys are the
store's node keys; every name is data, and the page puts it in as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from ..errors import ConfigError
from ..model import DIRECT_TYPES, Hidden, LineageEdge, LineageGraph, LineageNode
from ..queries import bounds, left_out, shard_family, walk
from ..retire import live_since
from ..stores import DOWNSTREAM, UPSTREAM, Store
from .reader import LIMIT, Reader, reader_for
from .reader import operation as operation_details

MAX_TABLES = 400  # a graph larger than this shows its nearest tables and says how many were left out
MAX_IMPACT = 5_000  # columns listed by an impact
DIRECTIONS = {"both": (UPSTREAM, DOWNSTREAM), UPSTREAM: (UPSTREAM,), DOWNSTREAM: (DOWNSTREAM,)}


class NotFoundError(ConfigError):
    """No node or operation with that key."""


def node_dict(node: LineageNode) -> dict[str, Any]:
    return {"key": node.key, "name": node.name, "kind": node.kind, "namespace": node.namespace, "type": node.type}


def indirect(edge: LineageEdge) -> bool:
    """A column edge is direct with a direct kind; a table edge is direct when read as DIRECT."""
    return edge.type not in DIRECT_TYPES and edge.type != "DIRECT"


def edge_dict(edge: LineageEdge, level: str, kinds: dict[str, str]) -> dict[str, Any]:
    return {"source": edge.source, "target": edge.target, "operation": edge.operation, "type": edge.type,
            "kind": kinds.get(edge.operation), "indirect": indirect(edge), "level": level,
            "first_seen": edge.first_seen, "last_seen": edge.last_seen}


def reading(store: Store, since: str | None, as_of: str | None,
            include_retired: bool) -> tuple[str | None, str | None, str | None]:
    """(asked since, walked since, as_of): the window the view reads edges in, as the commands read
    theirs: the asked one in the store's time form, and the since a walk takes, which under a
    harvest's ``--retire-after`` leaves retired lineage out unless asked for."""
    since, as_of = bounds(since, as_of)
    return since, live_since(store, since, as_of, include_retired), as_of


def hidden_dict(hidden: Hidden | None) -> dict[str, int]:
    """An answer's count of the edges it left out (``queries.left_out``), zeros when none were."""
    return {"retired": hidden.retired if hidden else 0, "outside_window": hidden.outside_window if hidden else 0}


def add_hidden(total: dict[str, int], more: Hidden | None) -> dict[str, int]:
    """Two counts of left-out edges as one (a graph's upstream and downstream walks)."""
    counted = hidden_dict(more)
    return {k: v + counted[k] for k, v in total.items()}


def describe(store: Store, key: str) -> LineageNode:
    node = store.describe([key]).get(key) if key[:1] in ("d", "c") else None
    if node is None:
        raise NotFoundError(f"no dataset or column with key {key!r} in the store")
    return node


def edges_among(store: Store, columns: Collection[str], direct_only: bool, since: str | None,
                as_of: str | None, operations: Collection[str] | None = None) -> list[LineageEdge]:
    """The column edges between ``columns`` (of ``operations`` only, when given)."""
    shown = set(columns)
    step = store.neighbors(shown, DOWNSTREAM, direct_only=direct_only, since=since, as_of=as_of)
    return [e for e in step if e.target in shown and (operations is None or e.operation in operations)]


def assemble(store: Store, reader: Reader, root: LineageNode, depths: dict[str, int | None],
             table_edges: Iterable[LineageEdge], column_edges: Iterable[LineageEdge]) -> dict[str, Any]:
    """The component's data for these tables (key -> signed distance from the root, upstream
    negative) and edges; edges whose ends are not shown are left out."""
    names = store.describe(depths)
    columns = reader.columns(list(names))
    shown = {c for cols in columns.values() for c, _ in cols}
    table_edges = [e for e in table_edges if e.source in names and e.target in names]
    column_edges = [e for e in column_edges if e.source in shown and e.target in shown]
    ops = {e.operation for e in table_edges} | {e.operation for e in column_edges}
    kinds = {k: o.type for k, o in store.operations(ops).items()}
    tables = [{**node_dict(names[k]), "depth": depths[k],
               "columns": [{"key": c, "name": n} for c, n in columns.get(k, [])]} for k in names]
    tables.sort(key=lambda t: (abs(t["depth"]) if t["depth"] is not None else 0, t["name"], t["namespace"]))
    edges = [edge_dict(e, "table", kinds) for e in sorted(set(table_edges), key=order)]
    edges += [edge_dict(e, "column", kinds) for e in sorted(set(column_edges), key=order)]
    return {"root": node_dict(root), "tables": tables, "edges": edges,
            "operations": {k: {"id": k, "type": v} for k, v in sorted(kinds.items())}}


def order(edge: LineageEdge) -> tuple[str, str, str, str]:
    return (edge.source, edge.target, edge.operation, edge.type)


def nearest(depths: dict[str, int], limit: int = MAX_TABLES) -> tuple[dict[str, int], int]:
    """The ``limit`` tables nearest the root, and how many were left out."""
    if len(depths) <= limit:
        return depths, 0
    kept = sorted(depths, key=lambda k: (abs(depths[k]), k))[:limit]
    return {k: depths[k] for k in kept}, len(depths) - limit


def open_graph(store: Store, key: str, direction: str = "both", depth: int | None = 2, direct_only: bool = False,
               since: str | None = None, as_of: str | None = None, include_retired: bool = False) -> dict[str, Any]:
    """A dataset's or column's lineage to ``depth`` levels each way asked, as the component draws it."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction must be one of {', '.join(DIRECTIONS)}")
    root, reader = describe(store, key), reader_for(store)
    asked, since, as_of = reading(store, since, as_of, include_retired)
    reached: dict[str, int] = {key: 0}
    walked: list[LineageEdge] = []
    hidden = hidden_dict(None)
    for way in DIRECTIONS[direction]:
        depths, edges = walk(store, [key], way, depth, direct_only, since, as_of)
        hidden = add_hidden(hidden, left_out(store, depths, edges, way, depth, direct_only, asked, as_of, since))
        sign = -1 if way == UPSTREAM else 1
        reached.update({k: sign * d for k, d in depths.items() if d and k not in reached})
        walked += edges
    if root.kind == "dataset":
        tables, cut = nearest(reached)
        columns = [c for cols in reader.columns(tables).values() for c, _ in cols]
        data = assemble(store, reader, root, dict(tables), walked,
                        edges_among(store, columns, direct_only, since, as_of))
    else:
        owner = reader.tables(reached)
        table_depths: dict[str, int] = {}
        for col, d in sorted(reached.items(), key=lambda kv: abs(kv[1])):
            table_depths.setdefault(owner[col], d)
        tables, cut = nearest(table_depths)
        data = assemble(store, reader, root, dict(tables), (), walked)
        data["reached"] = {c: d for c, d in reached.items() if owner.get(c) in tables}
    data["truncated"] = cut
    data["hidden"] = hidden  # edges retirement or the window left out: hidden lineage is not none
    return data


def expand(store: Store, key: str, direction: str, direct_only: bool = False, since: str | None = None,
           as_of: str | None = None, include_retired: bool = False) -> dict[str, Any]:
    """One step further from table ``key``: the tables it reads from or feeds, and the column edges."""
    if direction not in (UPSTREAM, DOWNSTREAM):
        raise ConfigError("direction must be upstream or downstream")
    root, reader = describe(store, key), reader_for(store)
    if root.kind != "dataset":
        raise ConfigError(f"{root.name} is a column: expand takes a table")
    _, since, as_of = reading(store, since, as_of, include_retired)
    own = [c for c, _ in reader.columns([key])[key]]
    table_step = store.neighbors([key], direction, direct_only=direct_only, since=since, as_of=as_of)
    column_step = store.neighbors(own, direction, direct_only=direct_only, since=since, as_of=as_of)
    far = {e.target if direction == DOWNSTREAM else e.source for e in table_step}
    far |= set(reader.tables({e.target if direction == DOWNSTREAM else e.source for e in column_step}).values())
    tables, cut = nearest({k: 1 for k in far - {key}})
    data = assemble(store, reader, root, {key: None, **{k: None for k in tables}}, table_step, column_step)
    data["truncated"] = cut
    return data


def impact(store: Store, key: str, depth: int | None = None, direct_only: bool = False, since: str | None = None,
           as_of: str | None = None, include_retired: bool = False) -> dict[str, Any]:
    """Every column (or table) downstream of ``key`` with its distance, nearest first."""
    root, reader = describe(store, key), reader_for(store)
    asked, since, as_of = reading(store, since, as_of, include_retired)
    depths, edges = walk(store, [key], DOWNSTREAM, depth, direct_only, since, as_of)
    names = store.describe(depths)
    owner = reader.tables(depths) if root.kind == "column" else {k: k for k in depths}
    nodes = sorted((n for k, n in names.items() if k != key), key=lambda n: (depths[n.key], n.name, n.namespace))
    hidden = left_out(store, depths, edges, DOWNSTREAM, depth, direct_only, asked, as_of, since)
    return {"root": node_dict(root), "total": len(nodes),
            "nodes": [{**node_dict(n), "table": owner.get(n.key), "distance": depths[n.key]}
                      for n in nodes[:MAX_IMPACT]], "hidden": hidden_dict(hidden)}


def search(store: Store, pattern: str, namespace: str | None = None, limit: int = LIMIT) -> dict[str, Any]:
    """Datasets and columns whose name holds ``pattern``, up to ``limit`` of each, with how many
    match ("counts") and how many of those are left out ("truncated"); a shard's name
    (``events_20260101``) of a date-sharded family the harvest keeps as one dataset finds the family
    first, with a note saying so, as the queries find it (``queries.shard_family``)."""
    found, counts = reader_for(store).search(pattern, namespace, limit)
    out: dict[str, Any] = {"results": [node_dict(n) for n in found], "counts": counts,
                           "truncated": sum(counts.values()) - len(found)}
    if "*" in pattern or not pattern.strip():
        return out
    try:
        family = shard_family(store, pattern.strip(), namespace)
    except ConfigError:  # several families of that name: the search lists them
        family = None
    if family is not None:
        node, note = family
        out["results"] = [node_dict(node)] + [r for r in out["results"] if r["key"] != node.key]
        out["note"] = note
    return out


def operation(store: Store, op_id: str) -> dict[str, Any]:
    """An operation's details by its id or, as `show` takes it, the id's first characters (unique:
    several is ``explore.AmbiguousOperationError``, a bad request that says how many)."""
    from ..explore import UnknownNameError, operation_id

    try:
        found = operation_details(store, operation_id(store, op_id))
    except UnknownNameError:
        found = None
    if found is None:
        raise NotFoundError(f"no operation {op_id!r} in the store")
    return found


def with_operations(store: Store, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with every operation's details (SQL, users, ...) in it: for a file that asks no server."""
    data["operations"] = {k: operation_details(store, k) or v for k, v in data["operations"].items()}
    return data


def answer(store: Store, graph: LineageGraph, since: str | None = None, as_of: str | None = None) -> dict[str, Any]:
    """A query's answer (upstream, downstream, impact, path) as the component draws it, whole."""
    since, as_of = bounds(since, as_of)
    reader, sign = reader_for(store), -1 if graph.direction == UPSTREAM else 1
    reached = {n.node.key: sign * n.depth for n in graph.nodes}
    if graph.root.kind == "dataset":
        ops = {e.operation for e in graph.edges}
        columns = [c for cols in reader.columns(reached).values() for c, _ in cols]
        data = assemble(store, reader, graph.root, dict(reached), graph.edges,
                        edges_among(store, columns, False, since, as_of, ops))
    else:
        owner = reader.tables(reached)
        tables: dict[str, int | None] = {}
        for col, d in sorted(reached.items(), key=lambda kv: abs(kv[1])):
            tables.setdefault(owner[col], d)
        data = assemble(store, reader, graph.root, tables, (), graph.edges)
        data["reached"] = reached
    data["answer"] = {"direction": graph.direction, "target": node_dict(graph.target) if graph.target else None,
                      "nodes": len(graph.nodes)}
    data["hidden"] = hidden_dict(graph.hidden)
    return with_operations(store, data)


def graph_data(graph: LineageGraph, owner: Callable[[LineageNode], LineageNode],
               operations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A graph made without a store (``parse``'s script graph) as the component draws it, whole:
    its dataset nodes and the tables ``owner`` gives its column nodes are the boxes; every
    table is shown, as an export shows them."""
    tables: dict[str, dict[str, Any]] = {}
    for n in sorted(graph.nodes, key=lambda g: g.node.kind != "dataset"):
        table = n.node if n.node.kind == "dataset" else owner(n.node)
        box = tables.setdefault(table.key, {**node_dict(table), "depth": None, "columns": []})
        if n.node.kind == "column":
            box["columns"].append({"key": n.node.key, "name": n.node.name[len(table.name) + 1:]})
    kinds = {k: str(v.get("type")) for k, v in operations.items()}
    columns = {n.node.key for n in graph.nodes if n.node.kind == "column"}
    edges = [edge_dict(e, "column" if e.source in columns else "table", kinds) for e in sorted(graph.edges, key=order)]
    root = {**node_dict(graph.root), "key": None}
    return {"root": root, "tables": sorted(tables.values(), key=lambda t: (t["name"], t["namespace"])),
            "edges": edges, "operations": {k: operations[k] for k in sorted({e.operation for e in graph.edges})},
            "answer": {"direction": "export", "target": None, "nodes": len(tables)}}


def everything(store: Store, namespace: str | None = None) -> dict[str, Any]:
    """Every table of the store (or of ``namespace``) with its columns and edges."""
    reader = reader_for(store)
    keys = reader.datasets(namespace)
    if not keys:
        raise NotFoundError(f"no datasets in namespace {namespace!r}" if namespace else "the store holds no datasets")
    columns = [c for cols in reader.columns(keys).values() for c, _ in cols]
    root = LineageNode("", namespace or "every dataset", "dataset", namespace or "")
    data = assemble(store, reader, root, {k: None for k in keys}, store.neighbors(keys, DOWNSTREAM),
                    edges_among(store, columns, False, None, None))
    data["root"]["key"] = None
    data["answer"] = {"direction": "export", "target": None, "nodes": len(keys)}
    return with_operations(store, data)
