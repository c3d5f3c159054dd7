"""Results -> text for machines (JSON) and for people (tables)."""

from __future__ import annotations

import json
from typing import Any, Iterable

from .model import StatementLineage


def statement_dict(result: StatementLineage, **extra: Any) -> dict[str, Any]:
    """The JSON shape of one statement's lineage (a stable contract)."""
    out: dict[str, Any] = dict(extra)
    out.update(
        index=result.index,
        kind=result.kind,
        inputs=[d.name for d in result.inputs],
        outputs=[d.name for d in result.outputs],
        columns=[
            {
                "target": str(c.target),
                "sources": [str(s) for s in c.sources],
                "transform": c.transform,
                "indirect": [{"source": str(i.source), "type": i.type} for i in c.indirect],
                **({"masked": [str(m) for m in c.masked]} if c.masked else {}),
            }
            for c in result.columns
        ],
        indirect=[{"source": str(i.source), "type": i.type} for i in result.indirect],
        objects=[d.name for d in result.objects],
        warnings=list(result.warnings),
        error=result.error,
    )
    return out


def statement_json(result: StatementLineage, **extra: Any) -> str:
    return json.dumps(statement_dict(result, **extra), ensure_ascii=False)


def statements_table(results: Iterable[StatementLineage], label: str | None = None) -> str:
    """A readable block per statement."""
    lines: list[str] = []
    for r in results:
        head = f"#{r.index} {r.kind}" + (f"  [{label}]" if label else "")
        lines.append(head)
        if r.error:
            lines.append(f"  error:   {r.error}")
            continue
        if r.inputs:
            lines.append("  reads:   " + ", ".join(d.name for d in r.inputs))
        if r.outputs:
            lines.append("  writes:  " + ", ".join(d.name for d in r.outputs))
        if r.objects and not r.outputs:
            lines.append("  touches: " + ", ".join(d.name for d in r.objects))
        width = max((len(str(c.target)) for c in r.columns), default=0)
        for c in r.columns:
            sources = ", ".join(str(s) for s in c.sources) or "(no source column)"
            lines.append(f"  {str(c.target):<{width}}  <-  {sources}  [{c.transform}]")
            for i in c.indirect:
                lines.append(f"  {'':<{width}}   ~  {i.source}  [{i.type}]")
        if r.indirect:
            lines.append("  indirect: " + ", ".join(f"{i.source} [{i.type}]" for i in r.indirect))
        for w in r.warnings:
            lines.append(f"  warning: {w}")
    return "\n".join(lines)
