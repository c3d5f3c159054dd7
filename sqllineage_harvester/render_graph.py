"""Query results -> table (people), json (machines), dot (Graphviz), mermaid (Markdown).

The JSON shape is a contract::

    {"root": "db.schema.table[.column]", "direction": "downstream",
     "nodes": [{"name": ..., "kind": "dataset|column", "depth": n, "namespace": ..., "type": ...,
                "operations": [...], "users": [...], "last_seen": ...}],
     "edges": [{"source": name, "target": name, "operation": id, "type": ...,
                "first_seen": ..., "last_seen": ...}],
     "operations": [{"id": ..., "type": ..., "users": [...], ...}],
     "hidden": {"retired": n, "outside_window": n}}  # only when edges were left out

``hidden`` counts the edges from the nodes reached that the answer left out: retired under
``harvest --retire-after`` (``--include-retired`` shows them), or outside the asked --since / --as-of.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from .declared import crosscheck_counts
from .errors import ConfigError
from .model import INDIRECT_TYPES, LineageGraph, LineageStats

FORMATS = ("table", "json", "dot", "mermaid")


def graph_dict(graph: LineageGraph) -> dict[str, Any]:
    names = {n.node.key: n.node.name for n in graph.nodes}
    out: dict[str, Any] = {"root": graph.root.name, "direction": graph.direction}
    if graph.target is not None:
        out["target"] = graph.target.name
    out["nodes"] = [
        {"name": n.node.name, "kind": n.node.kind, "depth": n.depth, "namespace": n.node.namespace,
         "type": n.node.type,  # the dataset's (table, view, model, ...): a model on the way is typed model
         "operations": list(n.operations), "users": list(n.users), "last_seen": n.last_seen,
         **({"last_seen_before": n.last_seen_before} if n.last_seen_before else {})}
        for n in graph.nodes]
    out["edges"] = [
        {"source": names.get(e.source, e.source), "target": names.get(e.target, e.target),
         "operation": e.operation, "type": e.type, "first_seen": e.first_seen, **seen(e.last_seen, graph.as_of)}
        for e in graph.edges]
    out["operations"] = [
        {"id": o.id, "type": o.type, "users": list(o.users), "systems": list(o.systems),
         "first_seen": o.first_seen, **seen(o.last_seen, graph.as_of), "executions": o.executions,
         "time_basis": o.time_basis}
        for o in graph.operations]
    if graph.windowed:  # the store keeps a count per operation, not one per run
        out["executions_counted"] = "all time"
    if graph.hidden is not None:  # edges from the nodes reached that retirement or the window left out
        out["hidden"] = {"retired": graph.hidden.retired, "outside_window": graph.hidden.outside_window}
    return out


def seen(last: str | None, as_of: str | None) -> dict[str, str | None]:
    """``last_seen``, or, asked --as-of a time it was seen after, ``last_seen_before`` that time (the
    store keeps first and last seen only: the last run by then is not known, and no later one is shown)."""
    if last and as_of and last > as_of:
        return {"last_seen": None, "last_seen_before": as_of}
    return {"last_seen": last}


def graph_json(graph: LineageGraph) -> str:
    return json.dumps(graph_dict(graph), ensure_ascii=False, indent=2)


def graph_table(graph: LineageGraph, width: int | None = None, wide: bool = False, title: str = "") -> str:
    """For people: ``render_table.lineage_table`` (cut to ``width``; ``wide`` keeps everything)."""
    from .render_table import lineage_table

    return lineage_table(graph, width, wide, title)


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def graph_dot(graph: LineageGraph) -> str:
    """Graphviz: tables as boxes; columns grouped inside their table (``subgraph cluster_N``);
    edges labelled by kind, indirect ones dashed; a legend saying so."""
    lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];",
             "  edge [fontname=Helvetica, fontsize=10];"]
    tables: dict[tuple[str, str], list[Any]] = {}
    for n in graph.nodes:
        if n.node.kind == "dataset":
            style = ", style=bold" if n.node.key == graph.root.key else ""
            lines.append(f"  {quote(n.node.key)} [label={quote(n.node.name)}{style}];")
        else:
            tables.setdefault((n.node.namespace, n.node.name.rsplit(".", 1)[0]), []).append(n)
    for i, ((_, table), members) in enumerate(sorted(tables.items())):
        lines += [f"  subgraph cluster_{i} {{", f"    label={quote(table)};", "    style=rounded;"]
        for n in members:
            style = ", style=bold" if n.node.key == graph.root.key else ""
            lines.append(f"    {quote(n.node.key)} [label={quote(n.node.name.rsplit('.', 1)[-1])}, "
                         f"shape=ellipse{style}];")
        lines.append("  }")
    for e in graph.edges:
        dashed = ", style=dashed" if e.type in INDIRECT_TYPES else ""
        lines.append(f"  {quote(e.source)} -> {quote(e.target)} [label={quote(e.type)}{dashed}];")
    lines += ["  subgraph cluster_legend {", '    label="legend"; style=dotted; fontsize=10;',
              '    node [shape=plaintext, fontsize=10, label=""];', "    legend_a; legend_b; legend_c; legend_d;",
              '    legend_a -> legend_b [label="IDENTITY / TRANSFORMATION / AGGREGATION: values flow"];',
              '    legend_c -> legend_d [label="JOIN / FILTER / GROUP_BY / ...: indirect", style=dashed];',
              "  }"]
    return "\n".join(lines + ["}"])


def graph_mermaid(graph: LineageGraph) -> str:
    ids = {n.node.key: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for n in graph.nodes:
        label = n.node.name.replace('"', "#quot;")
        lines.append(f'  {ids[n.node.key]}["{label}"]' if n.node.kind == "dataset"
                     else f'  {ids[n.node.key]}("{label}")')
    for e in graph.edges:
        if e.source in ids and e.target in ids:
            arrow = "-.->" if e.type in INDIRECT_TYPES else "-->"
            lines.append(f"  {ids[e.source]} {arrow}|{e.type}| {ids[e.target]}")
    return "\n".join(lines)


RENDERERS: dict[str, Callable[[LineageGraph], str]] = {
    "table": graph_table, "json": graph_json, "dot": graph_dot, "mermaid": graph_mermaid,
}


def render_graph(graph: LineageGraph, fmt: str = "table") -> str:
    try:
        return RENDERERS[fmt](graph)
    except KeyError:
        raise ConfigError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}") from None


def stats_dict(stats: LineageStats) -> dict[str, Any]:
    return {
        "counts": dict(stats.counts),
        "coverage": [{"kind": c.kind, "rows": c.rows, "extracted": c.extracted, "share": round(c.share, 4),
                      "full": c.full, "full_share": round(c.full_share, 4)} for c in stats.coverage],
        "failures": [{"reason": r, "executions": n} for r, n in stats.failures],
        "failing": [{"reason": f.reason, "executions": f.executions, "sql": f.sql} for f in stats.failing],
        "counters": dict(stats.counters),
        "crosscheck": crosscheck(stats),
        "retired": None if stats.retired is None else dict(zip(("operations", "table_edges", "column_edges"),
                                                                stats.retired)),
    }


def crosscheck(stats: LineageStats) -> dict[str, int]:
    """How the log's own lineage (Snowflake ACCESS_HISTORY, BigQuery JOBS) stood against our parse."""
    return crosscheck_counts(stats.counters)


def stats_table(stats: LineageStats) -> str:
    lines = [f"{name:<16} {n:>12,}" for name, n in stats.counts]
    if stats.coverage:
        lines += ["", f"{'KIND':<16} {'ROWS':>12} {'EXTRACTED':>12} {'FULL':>12} {'COVERAGE':>9}"]
        lines += [f"{c.kind:<16} {c.rows:>12,} {c.extracted:>12,} {c.full:>12,} {c.full_share:>9.1%}"
                  for c in stats.coverage]
        lines.append("(FULL: parsed with column lineage for every written column, no warning, no * left)")
    if stats.failures:
        lines += ["", "TOP FAILURE REASONS"] + [f"{n:>8,}  {r}" for r, n in stats.failures]
    if stats.failing:
        lines += ["", "FAILING STATEMENTS (redacted; validate --failures lists all)"]
        lines += [f"{f.executions:>8,}  {f.sql or '(SQL not stored)'}\n          {f.reason}" for f in stats.failing]
    if stats.retired is not None:
        ops, tables, cols = stats.retired
        lines += ["", f"RETIRED (not run within harvest --retire-after): {ops:,} operations, {tables:,} table edges, "
                      f"{cols:,} column edges"]
    checked = crosscheck(stats)
    if checked:
        lines += ["", "THE LOG'S OWN LINEAGE AGAINST OUR PARSE (rows)"]
        lines += [f"{name.replace('_', ' '):<20} {n:>8,}" for name, n in sorted(checked.items())]
    return "\n".join(lines)
