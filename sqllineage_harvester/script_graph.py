"""A script's parse results -> the lineage graph the renderers draw, and the script's summary.

A script is one file's statements, or every file's with ``--shared-session``, in order. Its
graph has the shape of a query's answer (``LineageGraph``), so ``render_graph`` draws it as dot
or mermaid and ``web.view.graph_data`` as the lineage view's page: columns (grouped by their
table) joined by the statements' column edges, and tables without a column edge as boxes of
their own, joined by what each statement reads and writes. Operation ids are ``FILE#INDEX``.

The summary says what the script does with tables: its **sources** (read, never written in it),
**targets** (written, never read after) and **intermediates** (written, then read by a later
statement: temp tables, staging tables of a CTAS chain, views), and the **column chains** from
a column the script starts from to a target column, through the intermediates.

Only what ``parse`` prints already reaches these (names of tables and columns, statement kinds):
never a statement's text. Results sanitized by ``--redact`` stay sanitized.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .model import (
    DIRECT_TYPES, ColumnRef, DatasetRef, GraphNode, IndirectRef, LineageEdge, LineageGraph, LineageNode, OperationInfo, StatementLineage,
)
from .stores.common import column_edge_refs, input_types

MAX_CHAINS = 1_000  # chains listed; a script with more says how many were left out


@dataclass(frozen=True)
class Step:
    """One statement of a script and the file it came from."""

    file: str
    result: StatementLineage

    @property
    def id(self) -> str:
        return f"{self.file}#{self.result.index}"


@dataclass(frozen=True)
class ColumnChain:
    """Data flowing from ``columns[0]`` to ``columns[-1]``; ``transforms[i]`` is the hop
    from ``columns[i]`` to ``columns[i + 1]``."""

    columns: tuple[str, ...]
    transforms: tuple[str, ...]


@dataclass(frozen=True)
class ScriptSummary:
    """What a script reads, writes and passes through, table by table and column by column."""

    files: tuple[str, ...]
    statements: int
    errors: int
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    intermediates: tuple[str, ...]
    chains: tuple[ColumnChain, ...]
    chains_cut: bool = False  # more than MAX_CHAINS: the first ones are listed


def steps(file: str, results: Iterable[StatementLineage]) -> list[Step]:
    return [Step(file, r) for r in results]


def _column_edges(step: Step) -> list[tuple[ColumnRef, ColumnRef, str]]:
    return column_edge_refs(step.result) if step.result.ok else []  # type: ignore[arg-type]


def roles(script: Sequence[Step]) -> tuple[list[str], list[str], list[str]]:
    """(sources, targets, intermediates), each sorted: a table read and never written is a source;
    a table written is an intermediate when a later statement that writes reads it (data goes on
    through it), else a target (a plain SELECT that looks at it afterwards leaves it a target)."""
    read: set[str] = set()
    written: set[str] = set()
    read_after: set[str] = set()
    for step in script:
        if not step.result.ok:
            continue
        for ref in step.result.inputs:
            read.add(ref.name)
            if ref.name in written and step.result.outputs:
                read_after.add(ref.name)
        written |= {ref.name for ref in step.result.outputs}
    return sorted(read - written), sorted(written - read_after), sorted(written & read_after)


def chains(script: Sequence[Step], targets: Iterable[str], most: int = MAX_CHAINS) -> tuple[list[ColumnChain], bool]:
    """Every route of direct column edges that ends at a column of a target table, from where it
    starts (a column nothing earlier in the script feeds); at most ``most``, and whether more
    were left out."""
    feeds: dict[ColumnRef, set[tuple[ColumnRef, str]]] = defaultdict(set)
    for step in script:
        for source, target, kind in _column_edges(step):
            if kind in DIRECT_TYPES and source != target:
                feeds[target].add((source, kind))
    wanted = set(targets)
    found: list[ColumnChain] = []
    for end in sorted(c for c in feeds if c.dataset in wanted):
        for cols, kinds in _routes_to(end, feeds):
            if len(found) == most:
                return found, True
            found.append(ColumnChain(tuple(str(c) for c in cols), tuple(kinds)))
    return found, False


def _routes_to(end: ColumnRef, feeds: dict[ColumnRef, set[tuple[ColumnRef, str]]]
               ) -> Iterable[tuple[list[ColumnRef], list[str]]]:
    """The routes back from ``end``, start first, with the kind of each hop; a column is never
    twice on one route (an UPDATE that reads what it writes ends the route there)."""
    stack: list[tuple[list[ColumnRef], list[str]]] = [([end], [])]
    while stack:
        cols, kinds = stack.pop()
        earlier = sorted((s, k) for s, k in feeds.get(cols[0], ()) if s not in cols)
        if not earlier and len(cols) > 1:
            yield cols, kinds
        for source, kind in reversed(earlier):
            stack.append(([source, *cols], [kind, *kinds]))


def summarize(script: Sequence[Step]) -> ScriptSummary:
    sources, targets, intermediates = roles(script)
    found, cut = chains(script, targets)
    return ScriptSummary(tuple(dict.fromkeys(s.file for s in script)), len(script),
                         sum(1 for s in script if not s.result.ok), tuple(sources), tuple(targets),
                         tuple(intermediates), tuple(found), cut)


def separate_temps(script: Sequence[Step]) -> list[Step]:
    """Separate scripts drawn together: each one's temp tables (its session's own) named apart,
    ``tmp (a.sql)`` and ``tmp (b.sql)``, so that two files' ``tmp`` are not one table."""
    temps: dict[str, set[str]] = defaultdict(set)
    for step in script:
        temps[step.file] |= {r.name for r in (*step.result.inputs, *step.result.outputs) if r.type.startswith("temp_")}
    return [Step(s.file, _renamed(s.result, {n: f"{n} ({s.file})" for n in temps[s.file]})) if temps[s.file] else s
            for s in script]


def _renamed(result: StatementLineage, names: dict[str, str]) -> StatementLineage:
    def table(ref: DatasetRef) -> DatasetRef:
        return replace(ref, name=names.get(ref.name, ref.name))

    def column(ref: ColumnRef) -> ColumnRef:
        return ColumnRef(names.get(ref.dataset, ref.dataset), ref.column)

    def influence(ref: IndirectRef) -> IndirectRef:
        return IndirectRef(column(ref.source), ref.type)

    return replace(result, inputs=tuple(map(table, result.inputs)), outputs=tuple(map(table, result.outputs)),
                   objects=tuple(map(table, result.objects)), indirect=tuple(map(influence, result.indirect)),
                   columns=tuple(replace(c, target=column(c.target), sources=tuple(map(column, c.sources)),
                                         indirect=tuple(map(influence, c.indirect))) for c in result.columns))


def dataset_key(name: str) -> str:
    return "d:" + name


def column_key(ref: ColumnRef) -> str:
    return "c:" + json.dumps([ref.dataset, ref.column], ensure_ascii=False)


def owner(node: LineageNode) -> LineageNode:
    """The table a column node of a script graph belongs to."""
    dataset = json.loads(node.key[2:])[0]
    return LineageNode(dataset_key(dataset), dataset, "dataset")


def script_graph(script: Sequence[Step], title: str) -> LineageGraph:
    """The script as a graph: column edges between columns; a table no column edge reaches is a
    node of its own, joined to the others such by what each statement reads (DIRECT or the
    indirect kind it is read through) and writes. A node's depth is its distance from where
    the script starts (a node no edge enters)."""
    nodes: dict[str, LineageNode] = {}
    edges: set[LineageEdge] = set()
    for step in script:
        for source, target, kind in _column_edges(step):
            for ref in (source, target):
                nodes.setdefault(column_key(ref), LineageNode(column_key(ref), str(ref), "column"))
            edges.add(LineageEdge(column_key(source), column_key(target), step.id, kind))
    drawn = {json.loads(k[2:])[0] for k in nodes}
    for step in script:
        if not step.result.ok:
            continue
        for ref in (*step.result.inputs, *step.result.outputs):
            if ref.name not in drawn:
                nodes.setdefault(dataset_key(ref.name), LineageNode(dataset_key(ref.name), ref.name, "dataset",
                                                                   type=ref.type))
        for ref, kind in input_types(step.result):  # type: ignore[arg-type]
            for out in step.result.outputs:
                if ref.name not in drawn and out.name not in drawn and ref.name != out.name:
                    edges.add(LineageEdge(dataset_key(ref.name), dataset_key(out.name), step.id, kind))
    ordered = sorted(edges, key=lambda e: (e.source, e.target, e.operation, e.type))
    depths = _depths(nodes, ordered)
    graph_nodes = sorted((GraphNode(n, depths[k]) for k, n in nodes.items()),
                         key=lambda g: (g.depth, g.node.name, g.node.kind))
    kinds = {s.id: s.result.kind for s in script}
    used = sorted({e.operation for e in ordered})
    return LineageGraph(LineageNode("", title, "dataset"), "script", tuple(graph_nodes), tuple(ordered),
                        tuple(OperationInfo(op, kinds[op], executions=1) for op in used))


def _depths(nodes: dict[str, LineageNode], edges: Sequence[LineageEdge]) -> dict[str, int]:
    entered = {e.target for e in edges if e.source != e.target}
    depths = {k: 0 for k in nodes if k not in entered}
    frontier, level = set(depths), 0
    while frontier:
        level += 1
        frontier = {e.target for e in edges if e.source in frontier and e.target not in depths}
        depths.update({k: level for k in frontier})
    return {k: depths.get(k, 0) for k in nodes}


def operation_details(script: Sequence[Step]) -> dict[str, dict[str, Any]]:
    """Each statement as the lineage view's statement panel shows an operation. Its text is not
    there: ``parse`` never copies a statement's SQL into its output."""
    out: dict[str, dict[str, Any]] = {}
    for step in script:
        r = step.result
        inputs = input_types(r) if r.ok else []  # type: ignore[arg-type]
        out[step.id] = {
            "id": step.id, "type": r.kind, "executions": 1, "first_seen": None, "last_seen": None,
            "namespace": "", "users": [], "systems": [],
            "inputs": [{"name": ref.name, "type": kind} for ref, kind in inputs],
            "outputs": [ref.name for ref in r.outputs],
            "sql": f"(statement #{r.index} of {step.file}; parse output never includes the statement's text)"}
    return out
