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


# cut to fit a terminal, first to last, each to no less than this: a 100-column terminal holds the table
PII_GIVE_WAY = (("VIA", 8), ("USERS", 6), ("OPERATIONS", 10), ("ORIGIN", 14), ("COLUMN", 18), ("TAGS", 9))
PII_NAMES = ("COLUMN", "ORIGIN", "VIA")  # names: cut at the left, where they say least
SHORT_ID = 8  # as `show` takes a prefix of an id


def short_ids(ids: set[str]) -> dict[str, str]:
    """Each id by its first ``SHORT_ID`` characters, all by more when two would read the same.

    >>> short_ids({"42b5dc662f1e37", "0c61d98207a71a"})["0c61d98207a71a"]
    '0c61d982'
    >>> short_ids({"42b5dc662f1e37", "42b5dc66aa0000"})["42b5dc662f1e37"]
    '42b5dc662'
    """
    size = SHORT_ID
    while len({i[:size] for i in ids}) < len(ids):
        size += 1
    return {i: i[:size] for i in ids}


def table(columns: list[TaggedColumn], width: int | None = None, wide: bool = False, tag: str | None = None) -> str:
    """The answer as aligned text, as the lineage tables are (``render_table``): a line that says what
    it is and the name parts every name shares, then one row a column; operation ids by their first
    characters, times to the minute. Given a ``width`` (a terminal's), long cells are cut to fit;
    ``wide`` keeps everything whole (full names, ids and times, the namespace)."""
    from .model import LineageNode
    from .render_explore import when
    from .render_table import layout, shared_prefix

    spaces = sorted({c.namespace for c in columns})
    names = {n for c in columns for n in (c.name, c.origin, *c.route)}
    prefix = "" if wide or not names else shared_prefix([LineageNode("", n, "column") for n in sorted(names)])
    count = f"{len(columns)} column{'s' * (len(columns) != 1)} hold{'s' * (len(columns) == 1)}"
    head = (f"{count} data tagged {tag}" if tag else f"{count} tagged data") + (f" in {', '.join(spaces)}" if spaces
                                                                              else "")
    head += f"; names below are in {prefix[:-1]}" if prefix else ""
    ids = short_ids({o for c in columns for o in c.operations}) if not wide else {}

    def name(text: str) -> str:
        return text[len(prefix):]

    titles = ["COLUMN", "TAGS", "ORIGIN", "VIA", "OPERATIONS", "USERS", "LAST SEEN"]
    more = wide or len(spaces) > 1
    rows = [[name(c.name), ", ".join(c.tags), name(c.origin), " -> ".join(map(name, c.route[1:-1])) or "-",
             ", ".join(ids.get(o, o) for o in c.operations) or "-", ", ".join(c.users) or "-",
             (c.last_seen or "-") if wide else when(c.last_seen)] + ([c.namespace] if more else [])
            for c in columns]
    if not rows:
        return head
    return "\n".join([head] + layout(titles + (["NAMESPACE"] if more else []), rows, None if wide else width,
                                     PII_GIVE_WAY, PII_NAMES))
