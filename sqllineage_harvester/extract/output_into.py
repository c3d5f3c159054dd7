"""T-SQL's ``OUTPUT .. INTO target [(columns)]`` on an INSERT, UPDATE, DELETE or MERGE.

sqlglot cannot read the clause (but in a plain UPDATE into a bare name), so the whole statement
failed. The clause is taken out, the statement analysed without it, and the rows it writes into
its target added: ``inserted.c`` is the value the statement wrote into c (its sources),
``deleted.c`` the target's c as it was, ``$action`` and other expressions what they read
(nothing of the statement's tables: they are not in scope there).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from ..model import IDENTITY, TRANSFORMATION, ColumnLineage, ColumnRef, StatementLineage
from .base import Context, dataset
from .glot import parser_of, tokenize_with

_NAME = r"(?:\[[^\]]+\]|[\w#@$]+)"
# T-SQL string literals, matched whole first and passed over: a clause is only read outside them.
_LITERAL = r"N?'(?:[^']|'')*'"
# The clause's items start with inserted. / deleted. / $action: each OUTPUT word of a long text is
# tried only there (scanning on from every "output" in a text is quadratic), and a column called
# output is never taken for the clause.
_ITEMS = rf"(?P<items>(?:inserted\s*\.|deleted\s*\.|\$action)(?:[^']|{_LITERAL})*?)"  # a literal in them whole
_OUTPUT_INTO = re.compile(
    rf"{_LITERAL}|(?P<clause>\bOUTPUT\s+{_ITEMS}\s+INTO\s+(?P<target>{_NAME}(?:\s*\.\s*{_NAME}){{0,2}})"
    r"\s*(?P<columns>\((?:[^()]|\([^()]*\))*\))?)", re.IGNORECASE | re.DOTALL)
# OUTPUT without INTO: the rows go back to the client; the items end where the statement goes on.
_OUTPUT = re.compile(
    rf"{_LITERAL}|(?P<clause>\bOUTPUT\s+{_ITEMS}"
    r"(?=\s+(?:FROM|WHERE|VALUES|SELECT|DEFAULT\s+VALUES|EXEC|EXECUTE|OPTION|WHEN)\b|\s*;?\s*$))",
    re.IGNORECASE | re.DOTALL)


def _clause(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern``'s clause outside string literals (there only where the text
    names inserted. / deleted. / $action at all)."""
    upper = text.upper()
    if "OUTPUT" not in upper or not ("INSERTED" in upper or "DELETED" in upper or "$ACTION" in upper):
        return None
    return next((m for m in pattern.finditer(text) if m.group("clause")), None)


def split_output(text: str) -> tuple[str, re.Match[str]] | None:
    """The statement without its OUTPUT .. INTO clause, and the clause; None when it has none."""
    match = _clause(_OUTPUT_INTO, text)
    if match is None:
        return None
    return text[: match.start()] + " " + text[match.end():], match


def without_output(text: str) -> str | None:
    """An INSERT, UPDATE, DELETE or MERGE without its ``OUTPUT ..`` clause that has no INTO (the
    rows go to the client: no lineage); None when it has none."""
    match = _clause(_OUTPUT, text)
    if match is None:
        return None
    return text[: match.start()] + " " + text[match.end():]


def _parse(sql: str, glot: Dialect) -> exp.Expr:
    parsed = parser_of(glot).parse(tokenize_with(glot, sql), sql)
    if not parsed or parsed[0] is None:
        raise SqlglotError("nothing parsed")
    return normalize_identifiers(parsed[0], dialect=glot)


def add_output(result: StatementLineage, clause: re.Match[str], ctx: Context, glot: Dialect) -> StatementLineage:
    """``result`` (the statement without the clause) with the clause's target and columns."""
    if not result.ok:
        return result
    try:
        head = _parse(f"INSERT INTO {clause.group('target')} {clause.group('columns') or ''} SELECT 1", glot).this
        items = _parse(f"SELECT {clause.group('items')}", glot).expressions
    except SqlglotError:
        head, items = None, []
    target = head.this if isinstance(head, exp.Schema) else head
    if not isinstance(target, exp.Table):
        return replace(result, warnings=result.warnings + ("OUTPUT .. INTO: its target could not be read",))
    out = dataset(ctx, target)
    listed = [c.name for c in head.expressions] if isinstance(head, exp.Schema) else []
    names = listed or [i.alias_or_name for i in items]
    written = {c.target.column.lower(): c for c in result.columns}
    main = result.outputs[0].name if result.outputs else ""
    columns = [_column(ColumnRef(out.name, name), item, written, main) for name, item in zip(names, items)]
    inputs = result.inputs
    if main and any(s.dataset == main for c in columns for s in c.sources) and main not in {d.name for d in inputs}:
        inputs += (result.outputs[0],)  # deleted.c, or a column the statement did not write: its rows are read
    return replace(result, inputs=inputs, outputs=tuple(dict.fromkeys((*result.outputs, out))),
                   columns=result.columns + tuple(columns))


def _column(target: ColumnRef, item: exp.Expr, written: dict[str, ColumnLineage], main: str) -> ColumnLineage:
    """One OUTPUT item into its column: ``inserted.c`` / ``deleted.c`` of the statement's table."""
    node = item.unalias() if isinstance(item, exp.Alias) else item
    sources: set[ColumnRef] = set()
    bare = isinstance(node, exp.Column)
    for column in node.find_all(exp.Column):
        row = column.table.lower()
        if row == "inserted" and column.name.lower() in written:
            sources |= set(written[column.name.lower()].sources)
            bare = bare and written[column.name.lower()].transform == IDENTITY
        elif row in ("inserted", "deleted") and main:
            sources.add(ColumnRef(main, column.name))
    return ColumnLineage(target, tuple(sorted(sources)), IDENTITY if bare else TRANSFORMATION)
