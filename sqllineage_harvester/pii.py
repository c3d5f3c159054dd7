"""Where tagged (personal) data flows: every column that holds a tag, from where, along which
route, through which operations run by whom (``sqllineage-harvester pii``), and ``impact --tag``.

The store keeps columns' own tags; this module reads the direct edges downstream of them and
lets ``tags.propagate`` say what each column holds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .model import LineageEdge, LineageGraph
from .stores import DOWNSTREAM, Store
from .tags import MASKED, Holding, matches, propagate


@dataclass(frozen=True)
class TaggedColumn:
    """One column that holds tagged data, and the shortest way its first tag got there."""

    name: str
    namespace: str
    tags: tuple[str, ...]
    masked: bool  # every tag it holds is masked
    origin: str
    route: tuple[str, ...]  # column names, origin first
    operations: tuple[str, ...]  # the operations of every route that brought it a tag
    users: tuple[str, ...]
    last_seen: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "tags": list(self.tags), "masked": self.masked, "origin": self.origin,
                "route": list(self.route), "operations": list(self.operations), "users": list(self.users),
                "last_seen": self.last_seen}


def downstream_edges(store: Store, roots: set[str], since: str | None = None) -> list[LineageEdge]:
    """Every direct column edge reachable downstream of ``roots`` (level by level)."""
    seen, frontier, edges = set(roots), set(roots), []
    while frontier:
        step = store.neighbors(sorted(frontier), DOWNSTREAM, direct_only=True, since=since)
        edges += step
        frontier = {e.target for e in step} - seen
        seen |= frontier
    return edges


def holdings(store: Store, aggregation: bool = False, since: str | None = None) -> dict[str, dict[str, Holding]]:
    """Column key -> label -> how it got there, for the tags the store holds."""
    seeds: dict[str, set[str]] = {}
    for key, tag, _ in store.column_tags():
        seeds.setdefault(key, set()).add(tag)
    return propagate(seeds, downstream_edges(store, set(seeds), since), aggregation)


def tagged_columns(store: Store, tag: str | None = None, aggregation: bool = False,
                   since: str | None = None) -> list[TaggedColumn]:
    """Every column holding a label that ``tag`` (a prefix) matches, by name."""
    held = holdings(store, aggregation, since)
    wanted = {key: [h for label, h in found.items() if matches(label, tag)] for key, found in held.items()}
    wanted = {key: found for key, found in wanted.items() if found}
    keys = set(wanted) | {k for found in wanted.values() for h in found for k in h.route}
    names = store.describe(sorted(keys))
    ops = store.operations(sorted({e.operation for found in wanted.values() for h in found for e in h.edges}))
    out = []
    for key, found in wanted.items():
        first = min(found, key=lambda h: (len(h.route), h.label))
        carried = sorted({e.operation for h in found for e in h.edges})
        users = sorted({u for o in carried if o in ops for u in ops[o].users})
        arrived = [h.edges[-1].last_seen for h in found if h.edges and h.edges[-1].last_seen]
        out.append(TaggedColumn(names[key].name, names[key].namespace, tuple(sorted(h.label for h in found)),
                                all(h.label.startswith(MASKED) for h in found), names[first.origin].name,
                                tuple(names[k].name for k in first.route), tuple(carried), tuple(users),
                                max(arrived) if arrived else None))
    return sorted(out, key=lambda c: (c.name, c.namespace))


def only_tagged(store: Store, graph: LineageGraph, tag: str, aggregation: bool = False) -> LineageGraph:
    """A query's answer cut to the columns that hold data tagged ``tag`` (a prefix), and the root."""
    held = holdings(store, aggregation)
    keep = {key for key, found in held.items() if any(matches(label, tag) for label in found)}
    keep.add(graph.root.key)
    nodes = tuple(n for n in graph.nodes if n.node.key in keep)
    edges = tuple(e for e in graph.edges if e.source in keep and e.target in keep)
    used = {e.operation for e in edges}
    return replace(graph, nodes=nodes, edges=edges, operations=tuple(o for o in graph.operations if o.id in used))


def table(columns: list[TaggedColumn]) -> str:
    """The answer as aligned text: one row a column."""
    head = ("COLUMN", "TAGS", "ORIGIN", "VIA", "OPERATIONS", "USERS", "LAST SEEN")
    rows = [head] + [(c.name, ", ".join(c.tags), c.origin, " -> ".join(c.route[1:-1]) or "-",
                      ", ".join(c.operations) or "-", ", ".join(c.users) or "-", c.last_seen or "-")
                     for c in columns]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)
