"""Results -> text for machines (JSON) and for people (tables)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable

from .model import ModelFacts, StatementLineage

if TYPE_CHECKING:
    from .script_graph import ScriptSummary


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
    if result.settings:  # a trained model's settings (hyperparameters), no credential among them
        out["settings"] = dict(result.settings)
    if result.ml is not None:  # a training / evaluation run's model facts
        out["ml"] = model_facts_dict(result.ml)
    return out


def model_facts_dict(facts: ModelFacts) -> dict[str, Any]:
    """The JSON shape of a run's model facts (graph.encode keeps it; ``parse --format json`` prints it)."""
    out: dict[str, Any] = {"model": facts.model}
    for name in ("version", "architecture", "status", "run"):
        if getattr(facts, name) is not None:
            out[name] = getattr(facts, name)
    if facts.splits:
        out["splits"] = [[dataset, split] for dataset, split in facts.splits]
    if facts.metrics:
        out["metrics"] = dict(facts.metrics)
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


def summary_dict(summary: ScriptSummary) -> dict[str, Any]:
    """The JSON shape of a script's summary (``parse --summary``)."""
    return {"files": list(summary.files), "statements": summary.statements, "errors": summary.errors,
            "sources": list(summary.sources), "targets": list(summary.targets),
            "intermediates": list(summary.intermediates),
            "chains": [{"columns": list(c.columns), "transforms": list(c.transforms)} for c in summary.chains],
            "chains_cut": summary.chains_cut}


def summary_table(summary: ScriptSummary) -> str:
    """A script's summary for people: its tables by role, then one line per column chain."""
    lines = [f"script: {len(summary.files)} file{'s' if len(summary.files) != 1 else ''}, "
             f"{summary.statements} statement{'s' if summary.statements != 1 else ''}"
             + (f", {summary.errors} with an error" if summary.errors else "")]
    for label, names in (("sources", summary.sources), ("intermediates", summary.intermediates),
                         ("targets", summary.targets)):
        lines.append(f"  {label + ':':<15}" + (", ".join(names) or "(none)"))
    if summary.chains:
        lines.append("  column chains:")
        for chain in summary.chains:
            hops = "".join(f" ─{kind}→ {col}" for kind, col in zip(chain.transforms, chain.columns[1:]))
            lines.append(f"    {chain.columns[0]}{hops}")
    if summary.chains_cut:
        lines.append(f"    ... (only the first {len(summary.chains)} chains are listed)")
    return "\n".join(lines)
