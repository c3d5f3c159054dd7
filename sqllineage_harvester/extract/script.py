"""Script-level rules: procedure bodies, and folding temp tables away."""

from __future__ import annotations

import re
from dataclasses import replace

from ..model import ColumnLineage, ColumnRef, DatasetRef, StatementLineage

# CREATE PROCEDURE / FUNCTION headers and bare BEGIN blocks: the body is analysed
# statement by statement; the wrapper itself is never reported as a table.
_DOLLAR_BODY = re.compile(r"\$(\w*)\$(.*)\$\1\$", re.DOTALL)
_ROUTINE = re.compile(
    r"^\s*(?:CREATE\s+(?:OR\s+(?:REPLACE|ALTER)\s+)?(?:PROCEDURE|PROC|FUNCTION)\b.*?\b(?:AS|IS)?\s*BEGIN\b"
    r"|BEGIN\s+(?!TRANSACTION\b|TRAN\b|WORK\b|ISOLATION\b|DEFERRED\b|IMMEDIATE\b|EXCLUSIVE\b)"
    r"|(?:DECLARE\b[^;]*?\bBEGIN\b))",
    re.IGNORECASE | re.DOTALL,
)
_END = re.compile(r"^\s*END(?:\s+(?:IF|LOOP|WHILE|PROCEDURE|FUNCTION))?\s*\w*\s*$", re.IGNORECASE)
_ROUTINE_HEAD = re.compile(r"^\s*CREATE\s+(?:OR\s+(?:REPLACE|ALTER)\s+)?(?:PROCEDURE|PROC|FUNCTION)\b", re.IGNORECASE)


def body_statements(text: str) -> list[str] | None:
    """The statements inside a routine or block, or None for an ordinary one."""
    if _END.match(text):
        return []
    if _ROUTINE_HEAD.match(text):
        dollar = _DOLLAR_BODY.search(text)
        if dollar:
            return [dollar.group(2)]
    match = _ROUTINE.match(text)
    if match:
        rest = text[match.end() :].strip()
        return [rest] if rest else []
    return None


def collapse_temp_tables(results: list[StatementLineage]) -> list[StatementLineage]:
    """Fold temp tables away, so that ``a -> tmp -> b`` reads ``a -> b``.

    Statements whose only outputs are temp tables disappear; later statements
    that read a temp table read what it was made from instead.
    """
    tables: dict[str, tuple[tuple[DatasetRef, ...], dict[str, ColumnLineage]]] = {}
    collapsed: list[StatementLineage] = []
    for result in results:
        inputs = _expand_inputs(result.inputs, tables)
        columns = tuple(_expand_column(c, tables) for c in result.columns)
        result = replace(result, inputs=inputs, columns=columns)
        temps = [o for o in result.outputs if o.type == "temp_table"]
        for temp in temps:
            previous = tables.get(temp.name, ((), {}))
            by_column = dict(previous[1])
            by_column.update({c.target.column: c for c in columns if c.target.dataset == temp.name})
            tables[temp.name] = (tuple(dict.fromkeys(previous[0] + inputs)), by_column)
        if temps and len(temps) == len(result.outputs):
            continue
        collapsed.append(replace(result, index=len(collapsed)))
    return collapsed


def _expand_inputs(inputs: tuple[DatasetRef, ...], tables: dict) -> tuple[DatasetRef, ...]:
    out: list[DatasetRef] = []
    for ref in inputs:
        out += list(tables[ref.name][0]) if ref.name in tables else [ref]
    return tuple(dict.fromkeys(out))


def _expand_column(column: ColumnLineage, tables: dict) -> ColumnLineage:
    sources: list[ColumnRef] = []
    transform = column.transform
    order = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")
    for source in column.sources:
        known = tables.get(source.dataset)
        if known is None:
            sources.append(source)
            continue
        upstream = known[1].get(source.column)
        if upstream is not None:
            sources += upstream.sources
            transform = max(transform, upstream.transform, key=order.index)
    return replace(column, sources=tuple(sorted(set(sources))), transform=transform)
