"""upstream / downstream / impact / path answers as a person reads them in a terminal.

One row a node: DEPTH, EDGE (how it was reached: IDENTITY, AGGREGATION, DIRECT, JOIN, ...),
NAME (short: the part every name shares is said once, above), VIA (the operations, as a person
recognizes them: ``MERGE INTO STG_PAYMENTS · ETL_SVC ×29``), LAST SEEN. Nodes reached through
values come first; those reached only through a JOIN / FILTER / ... (or from such a node) follow,
under their own heading. A column that would be empty in every row is left out. Given a ``width``
(a terminal's), long names and VIAs are cut to fit; ``wide`` keeps everything, full names and
times, users and operation ids. ``path`` is one line per route, then the operations on the way
in the order the data goes through them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .explore import operation_label
from .model import DIRECT_TYPES, GraphNode, Hidden, LineageEdge, LineageGraph, LineageNode, OperationInfo
from .render_explore import when
from .stores import UPSTREAM
from .stores.common import DIRECT

VALUE_TYPES = (*DIRECT_TYPES, DIRECT)
MOST_ROUTES = 50
CUT = "…"


def reaching(graph: LineageGraph) -> dict[str, list[LineageEdge]]:
    """Each node's edges from the level before it (how the walk reached it)."""
    depth = {n.node.key: n.depth for n in graph.nodes}
    out: dict[str, list[LineageEdge]] = defaultdict(list)
    for e in graph.edges:
        near, far = (e.target, e.source) if graph.direction == UPSTREAM else (e.source, e.target)
        if far in depth and depth.get(near, -2) == depth[far] - 1:
            out[far].append(e)
    return out


def direct_keys(graph: LineageGraph, edges: dict[str, list[LineageEdge]]) -> set[str]:
    """Nodes reached through values all the way: a value edge from a node so reached."""
    direct = {graph.root.key}
    for n in sorted(graph.nodes, key=lambda n: n.depth):
        near = (lambda e: e.target) if graph.direction == UPSTREAM else (lambda e: e.source)
        if any(e.type in VALUE_TYPES and near(e) in direct for e in edges.get(n.node.key, ())):
            direct.add(n.node.key)
    return direct


def shared_prefix(nodes: list[LineageNode]) -> str:
    """The leading name parts every name shares, leaving each at least a schema.table.

    >>> shared_prefix([LineageNode("a", "db.s.t", "dataset"), LineageNode("b", "db.x.u.c", "column")])
    'db.'
    """
    split = [n.name.split(".") for n in nodes]
    keep = [2 if n.kind == "dataset" else 3 for n in nodes]
    common = 0
    while all(len(p) - common > k for p, k in zip(split, keep)) and len({p[common] for p in split}) == 1:
        common += 1
    return ".".join(split[0][:common]) + "." if common else ""


def labels(graph: LineageGraph) -> dict[str, str]:
    """Each operation of the answer named as a person knows it: kind, table written, users, runs."""
    names = {n.node.key: n.node for n in graph.nodes}
    writes: dict[str, set[str]] = defaultdict(set)
    for e in graph.edges:
        target = names.get(e.target)
        if target is not None:
            writes[e.operation].add(target.name if target.kind == "dataset" else target.name.rsplit(".", 1)[0])
    infos: dict[str, OperationInfo] = {o.id: o for o in graph.operations}
    out = {}
    for op, tables in writes.items():
        info = infos.get(op)
        shown = sorted(t.rsplit(".", 1)[-1] for t in tables)
        out[op] = (operation_label(info.type, sorted(tables), info.users, info.executions)
                   + (" all-time" if graph.windowed and info.executions else "") if info
                   else "writes " + ", ".join(shown))  # the answer was asked without its operations
    return out


def cut(text: str, width: int, left: bool = False) -> str:
    """``text`` in ``width`` characters, the cut marked; ``left`` keeps the end (names end in what matters).

    >>> cut("ANALYTICS.STAGING.STG_PAYMENTS", 16, left=True), cut("abc", 5)
    ('…NG.STG_PAYMENTS', 'abc')
    """
    if len(text) <= width:
        return text
    return CUT + text[len(text) - width + 1:] if left else text[:width - 1] + CUT


INDIRECT_NOTE = "reached only through JOIN / FILTER / GROUP_BY / ... (indirect; leave out with --direct-only):"


@dataclass(frozen=True)
class _Rows:
    """What every row of one answer is made with."""

    edges: dict[str, list[LineageEdge]]  # how each node was reached
    ops: dict[str, str]  # operation id -> label
    basis: dict[str, str]  # operation id -> time basis
    prefix: str  # the name parts every name shares, said once above
    wide: bool
    spaces: int  # namespaces in the answer

    def titles(self) -> list[str]:
        more = ["USERS", "NAMESPACE"] if self.wide else ["NAMESPACE"] if self.spaces > 1 else []
        return ["DEPTH", "EDGE", "NAME", "VIA", "LAST SEEN", *more]

    def row(self, n: GraphNode) -> list[str]:
        mine = self.edges.get(n.node.key, [])
        kinds = sorted({e.type for e in mine}, key=lambda t: (t not in VALUE_TYPES, t))
        vias = sorted({self.ops[e.operation] + (f" [{e.operation}]" if self.wide else "") for e in mine})
        via = "; ".join(vias) if self.wide or len(vias) < 2 else f"{vias[0]} (+{len(vias) - 1} more)"
        guessed = any(self.basis.get(e.operation, "execution") != "execution" for e in mine)
        seen = (n.last_seen or "-") if self.wide else when(n.last_seen)
        if n.last_seen_before:  # seen after --as-of: by then, but when last by then the store does not keep
            seen = "by " + (n.last_seen_before if self.wide else when(n.last_seen_before))
        cells = [str(n.depth), ",".join(kinds) or "-", n.node.name[len(self.prefix):], via or "-",
                 seen + (" (harvest time)" if guessed and n.last_seen else "")]
        if self.wide:
            return cells + [",".join(n.users) or "-", n.node.namespace]
        return cells + [n.node.namespace] if self.spaces > 1 else cells


def lineage_table(graph: LineageGraph, width: int | None = None, wide: bool = False, title: str = "") -> str:
    """The answer as rows (see the module's docstring); ``title`` names the question (impact)."""
    if graph.direction == "path":
        return routes_text(graph, wide)
    others = [n for n in graph.nodes if n.node.key != graph.root.key]
    prefix = "" if wide or not others else shared_prefix([graph.root] + [n.node for n in others])
    spaces = sorted({n.node.namespace for n in others} | {graph.root.namespace})
    head = [f"{title or graph.direction} of {graph.root.name} ({graph.root.kind}) in {', '.join(spaces)}"
            + (f"; names below are in {prefix[:-1]}" if prefix else "")]
    if not others:
        return "\n".join(head + [f"nothing {graph.direction} of it"] + left_out(graph.hidden))
    edges = reaching(graph)
    rows = _Rows(edges, labels(graph), {o.id: o.time_basis for o in graph.operations}, prefix, wide, len(spaces))
    direct = direct_keys(graph, edges)
    firsts = [rows.row(n) for n in others if n.node.key in direct]
    rest = [rows.row(n) for n in others if n.node.key not in direct]
    lines = layout(rows.titles(), firsts + rest, width)
    if rest:
        lines.insert(1 + len(firsts), INDIRECT_NOTE)
    return "\n".join(head + lines + left_out(graph.hidden))


def left_out(hidden: Hidden | None) -> list[str]:
    """The lines saying which edges an answer left out and how to see them: hidden lineage is not none.

    >>> left_out(Hidden(3, 0, "10d"))
    ['3 edges retired (not run within --retire-after 10d) are left out; --include-retired shows them']
    >>> left_out(Hidden(0, 1))
    ['1 edge outside --since/--as-of left out']
    """
    if hidden is None:
        return []
    out = []
    if hidden.retired:
        one = hidden.retired == 1
        out.append(f"{hidden.retired} edge{'' if one else 's'} retired (not run within --retire-after "
                   f"{hidden.retire_after or '?'}) {'is' if one else 'are'} left out; --include-retired shows "
                   + ("it" if one else "them"))
    if hidden.outside_window:
        out.append(f"{hidden.outside_window} edge{'' if hidden.outside_window == 1 else 's'} outside "
                   "--since/--as-of left out")
    return out


GIVE_WAY = (("VIA", 20), ("NAME", 20))  # the columns cut to fit a terminal, first to last, and their least width
CUT_LEFT = ("NAME",)  # the columns of names, cut at the left (a name ends in what matters)


def layout(titles: list[str], rows: list[list[str]], width: int | None,
           give_way: tuple[tuple[str, int], ...] = GIVE_WAY, left: tuple[str, ...] = CUT_LEFT) -> list[str]:
    """The title line and the rows, aligned; a column empty ("-") in every row left out."""
    keep = [i for i in range(len(titles)) if any(r[i] != "-" for r in rows)]
    table = [[r[i] for i in keep] for r in [titles] + rows]
    kept = [titles[i] for i in keep]
    widths = fit([max(len(r[i]) for r in table) for i in range(len(keep))], kept, width, give_way)
    return [render_row(r, widths, kept, left) for r in table]


def fit(widths: list[int], titles: list[str], width: int | None,
        give_way: tuple[tuple[str, int], ...] = GIVE_WAY) -> list[int]:
    """Column widths within ``width`` characters: the columns of ``give_way`` are narrowed in turn
    (VIA first, then NAME), none below its least width or its title.

    >>> fit([5, 30, 40], ["DEPTH", "NAME", "VIA"], 60)
    [5, 30, 21]
    >>> fit([5, 30, 40], ["DEPTH", "NAME", "VIA"], 40)
    [5, 20, 20]
    """
    if width is None:
        return widths
    out = list(widths)
    for title, least in give_way:
        if title in titles:
            i = titles.index(title)
            over = sum(out) + 2 * (len(out) - 1) - width
            if over > 0:
                out[i] = max(min(least, out[i]), out[i] - over, len(title))
    return out


def render_row(cells: list[str], widths: list[int], titles: list[str], left: tuple[str, ...] = CUT_LEFT) -> str:
    shown = [cut(c, w, left=t in left).ljust(w) for c, w, t in zip(cells, widths, titles)]
    return "  ".join(shown).rstrip()


def routes(graph: LineageGraph) -> list[list[str]]:
    """Every route from the root to the target, as node keys (at most ``MOST_ROUTES``)."""
    out: list[list[str]] = []
    nxt: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        if e.target not in nxt[e.source]:
            nxt[e.source].append(e.target)
    goal = graph.target.key if graph.target else ""
    todo = [[graph.root.key]]
    while todo and len(out) < MOST_ROUTES:
        route = todo.pop()
        if route[-1] == goal:
            out.append(route)
            continue
        todo += [route + [k] for k in reversed(nxt.get(route[-1], [])) if k not in route]
    return out


def routes_text(graph: LineageGraph, wide: bool = False) -> str:
    if graph.target is None or not graph.nodes:
        target = graph.target.name if graph.target else "?"
        return f"no lineage from {graph.root.name} to {target}: no route"
    names = {n.node.key: n.node for n in graph.nodes}
    prefix = "" if wide else shared_prefix(list(names.values()))
    hops: dict[tuple[str, str], list[LineageEdge]] = defaultdict(list)
    for e in graph.edges:
        hops[(e.source, e.target)].append(e)
    ops = labels(graph)
    found = routes(graph)
    lines = [f"{len(found)} route{'s' * (len(found) != 1)} from {graph.root.name} to {graph.target.name}"
             + (f"; names below are in {prefix[:-1]}" if prefix else "")]
    for route in found:
        text = names[route[0]].name[len(prefix):]
        for a, b in zip(route, route[1:]):
            kinds = "|".join(sorted({e.type for e in hops[(a, b)]}, key=lambda t: (t not in VALUE_TYPES, t)))
            text += f" ─{kinds}→ {names[b].name[len(prefix):]}"
        lines.append(text)
    return "\n".join(lines + ["via: " + "; ".join(in_flow_order(graph, ops, wide))])


def in_flow_order(graph: LineageGraph, ops: dict[str, str], wide: bool = False) -> list[str]:
    """The operations of a path's routes as named, in the order the data goes through them: by the
    level of the first hop each carries (from the start), then by name."""
    depth = {n.node.key: n.depth for n in graph.nodes}
    first: dict[str, int] = {}
    for e in graph.edges:
        shown = ops[e.operation] + (f" [{e.operation}]" if wide else "")
        first[shown] = min(first.get(shown, depth.get(e.source, 0)), depth.get(e.source, 0))
    return sorted(first, key=lambda shown: (first[shown], shown))
