"""``show`` and ``search`` answers -> text for people and JSON for machines.

JSON shapes (contracts: fields are added, never renamed or removed)::

    show, a dataset:   {"kind": "dataset", "name", "namespace", "type", "columns": [...],
                        "writers": [OP], "readers": [OP], "reads": [{"user", "count", "last_day"}], "last_seen"}
    show, a column:    {"kind": "column", "name", "namespace", "dataset",
                        "sources": [{"name", "type", "operation": OP, "first_seen", "last_seen", "retired"}],
                        "targets": [...], "last_seen"}
    show, an operation: {"kind": "operation", "id", "type", "label", "sql", "fingerprint", "namespace",
                        "inputs": [{"name", "type"}], "outputs": [...], "users": [RUN], "systems": [RUN],
                        "executions", "first_seen", "last_seen", "retired"}
    search:            {"pattern", "results": [{"name", "kind", "namespace", "type"}]}

    OP = {"id", "type", "label", "edge", "users", "executions", "last_seen"}
    RUN = {"name", "executions", "first_seen", "last_seen"}
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Mapping

from .explore import ColumnDetail, ColumnLink, DatasetDetail, Detail, OperationDetail, OperationSummary
from .model import LineageNode, RunCount


def _op(s: OperationSummary) -> dict[str, Any]:
    return {"id": s.id, "type": s.type, "label": s.label, "edge": s.edge, "users": list(s.users),
            "executions": s.executions, "last_seen": s.last_seen}


def detail_dict(detail: Detail) -> dict[str, Any]:
    if isinstance(detail, OperationDetail):
        i = detail.info
        return {"kind": "operation", "id": i.id, "type": i.type, "label": detail.label, "sql": detail.sql,
                "fingerprint": detail.fingerprint, "namespace": detail.namespace,
                "inputs": [{"name": n.name, "type": t} for n, t in detail.inputs],
                "outputs": [n.name for n in detail.outputs],
                "users": [asdict(r) for r in detail.users], "systems": [asdict(r) for r in detail.systems],
                "executions": i.executions, "first_seen": i.first_seen, "last_seen": i.last_seen,
                "retired": detail.retired_before is not None}
    node = detail.node
    out: dict[str, Any] = {"kind": node.kind, "name": node.name, "namespace": node.namespace, "type": node.type}
    if isinstance(detail, DatasetDetail):
        out.update(columns=list(detail.columns), writers=[_op(s) for s in detail.writers],
                   readers=[_op(s) for s in detail.readers], reads=[asdict(r) for r in detail.reads])
    else:
        out.update(dataset=detail.dataset.name if detail.dataset else None,
                   sources=[_link(c) for c in detail.sources], targets=[_link(c) for c in detail.targets])
    out["last_seen"] = detail.last_seen
    return out


def _link(c: ColumnLink) -> dict[str, Any]:
    return {"name": c.node.name, "type": c.type, "operation": _op(c.operation), "first_seen": c.first_seen,
            "last_seen": c.last_seen, "retired": c.retired}


def detail_json(detail: Detail) -> str:
    return json.dumps(detail_dict(detail), ensure_ascii=False, indent=2)


def when(moment: str | None) -> str:
    """A stored time as a person reads it: to the minute, UTC.

    >>> when("2024-03-29T10:10:05.430000Z"), when(None), when("2024-03-30")
    ('2024-03-29 10:10', '-', '2024-03-30')
    """
    if not moment:
        return "-"
    return moment[:16].replace("T", " ")


def _ops(title: str, ops: tuple[OperationSummary, ...], edges: bool) -> list[str]:
    if not ops:
        return [f"{title}: none"]
    lines = [f"{title}:"]
    for s in ops:
        how = f"{s.edge:<11} " if edges else ""
        lines.append(f"  {how}{s.label}   last {when(s.last_seen)}   {s.id}")
    return lines


def _runs(title: str, runs: tuple[RunCount, ...]) -> list[str]:
    if not runs:
        return [f"{title}: -"]
    return [f"{title}:"] + [f"  {r.name:<20} ×{r.executions:,}  {when(r.first_seen)} .. {when(r.last_seen)}"
                            for r in runs]


def detail_table(detail: Detail) -> str:
    if isinstance(detail, OperationDetail):
        i = detail.info
        lines = [f"operation {i.id}  {detail.label}", f"namespace: {detail.namespace}",
                 f"executions: {i.executions:,}   first seen {when(i.first_seen)}   last seen {when(i.last_seen)}"
                 + ("   (harvest time)" if i.time_basis != "execution" else "")]
        if detail.retired_before:
            lines.append(f"retired: not run since {when(detail.retired_before)} (harvest --retire-after); "
                         f"queries show it with --include-retired")
        lines += ["reads:"] + [f"  {n.name}" + ("" if t == "DIRECT" else f"  ({t})") for n, t in detail.inputs]
        lines += ["writes:"] + [f"  {n.name}" for n in detail.outputs]
        lines += _runs("users", detail.users) + _runs("systems", detail.systems)
        lines += ["sql (literals redacted):"] + [f"  {line}" for line in (detail.sql or "(not kept)").splitlines()]
        return "\n".join(lines)
    node = detail.node
    lines = [f"{node.kind} {node.name}  ({node.type or '-'}, in {node.namespace})",
             f"last seen: {when(detail.last_seen)}"]
    if isinstance(detail, DatasetDetail):
        lines.append(f"columns ({len(detail.columns)}): " + (", ".join(detail.columns) or "none known"))
        lines += _ops("written by", detail.writers, False) + _ops("read by (operations)", detail.readers, True)
        if detail.reads:
            lines.append("read by (queries): " + ", ".join(f"{r.user or '?'} ×{r.count:,}" for r in detail.reads))
        return "\n".join(lines)
    assert isinstance(detail, ColumnDetail)
    wide = max((len(c.node.name) for c in detail.sources + detail.targets), default=0)
    for title, links in (("made from", detail.sources), ("feeds", detail.targets)):
        lines.append(f"{title}:" if links else f"{title}: none")
        lines += [f"  {c.node.name:<{wide}}  {c.type:<14} {c.operation.label}   {when(c.first_seen)} .. "
                  f"{when(c.last_seen)}" + ("   retired" if c.retired else "") for c in links]
    return "\n".join(lines)


def search_dict(pattern: str, found: list[LineageNode], totals: Mapping[str, int] | None = None,
                truncated: bool = False) -> dict[str, Any]:
    """``totals``: how many datasets and columns match in all; ``truncated``: whether ``results``
    were cut at the limit."""
    out: dict[str, Any] = {"pattern": pattern, "results": [{"name": n.name, "kind": n.kind, "namespace": n.namespace,
                                                            "type": n.type} for n in found]}
    if totals is not None:
        out["totals"] = dict(totals)
        out["truncated"] = truncated
    return out


def search_table(pattern: str, found: list[LineageNode]) -> str:
    if not found:
        return f"nothing matches {pattern!r}"
    rows = [("KIND", "NAME", "TYPE", "NAMESPACE")] + [(n.kind, n.name, n.type or "-", n.namespace) for n in found]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)
