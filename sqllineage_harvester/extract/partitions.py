"""INSERT .. PARTITION (..) of Hive, Spark, Databricks and Impala: which column each item fills.

The engines map the query's items to the explicit column list, or else to the table's
non-partition columns in table order, and then to the dynamic partition columns (named without
a value) in the order of the PARTITION clause. A static partition column (``ds = '2024-01-01'``)
is written a constant: it takes no item and comes from no column. Without a catalog the
PARTITION clause still tells which columns are partitions; the others are named after the items.

>>> from sqllineage_harvester.extract import extract
>>> r = extract("INSERT INTO dw.t PARTITION (ds = '2024-01-01', hr) SELECT id, h FROM s", "hive")[0]
>>> [(str(c.target), [str(s) for s in c.sources]) for c in r.columns]
[('dw.t.id', ['s.id']), ('dw.t.hr', ['s.h']), ('dw.t.ds', [])]
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from ..model import TRANSFORMATION, ColumnLineage, ColumnRef
from .base import Context, Partial, name_copy, write_query
from .parameters import tokenize


@dataclass(frozen=True)
class Spec:
    """A PARTITION clause: the columns given a value, and the dynamic ones in clause order."""

    static: tuple[str, ...]
    dynamic: tuple[str, ...]


def spec_of(table: exp.Table) -> Spec | None:
    """The table's PARTITION clause, or None when it has none."""
    partition = table.args.get("partition")
    if not isinstance(partition, exp.Partition):
        return None
    static: list[str] = []
    dynamic: list[str] = []
    for item in partition.expressions:
        if isinstance(item, (exp.EQ, exp.PropertyEQ)) and isinstance(item.this, (exp.Column, exp.Identifier)):
            static.append(item.this.name)
        elif isinstance(item, (exp.Column, exp.Identifier)):
            dynamic.append(item.name)
    return Spec(tuple(static), tuple(dynamic))


def filled_names(ctx: Context, table: exp.Table, listed: list[str], spec: Spec) -> list[str]:
    """The target column each item fills, in order, by the column list or the catalog; empty
    when neither tells (``after_items`` then names them from the query's items)."""
    if listed:
        names = [n for n in listed if n not in spec.static]
        return names + [d for d in spec.dynamic if d not in names]
    partitions = set(spec.static) | set(spec.dynamic)
    known = ctx.catalog.columns(ctx.parts(name_copy(table)))
    if known:
        return [c for c in known if c not in partitions] + list(spec.dynamic)
    return []


def after_items(outputs: list[str], spec: Spec) -> list[str]:
    """Without a catalog: the items name the table's columns, and the dynamic partition columns
    take the last items; those an unexpanded ``*`` stands for stay with it (``by_position``)."""
    after_star = len(outputs) - 1 - max((i for i, n in enumerate(outputs) if n == "*"), default=-1)
    taken = min(len(spec.dynamic), after_star)
    return outputs[: len(outputs) - taken] + list(spec.dynamic)


def write_partitioned(ctx: Context, kind: str, table: exp.Table, listed: list[str], query: exp.Expr,
                      spec: Spec, by_name: bool = False) -> Partial:
    """A query written into a PARTITION clause: its items by the engine's order (by their names
    with ``BY NAME``), each static partition column written a constant."""
    if not isinstance(query, (exp.Select, exp.SetOperation)):
        return write_query(ctx, kind, table, listed, query)
    names = [] if by_name else filled_names(ctx, table, listed, spec)
    fill = _own_names if by_name else (lambda outputs: after_items(outputs, spec))
    partial = write_query(ctx, kind, table, names, query, fill=fill)
    out = partial.outputs[0].name
    written = {c.target.column for c in partial.columns}
    partial.columns += [ColumnLineage(ColumnRef(out, name), (), TRANSFORMATION)
                        for name in spec.static if name not in written]
    return partial


def _own_names(outputs: list[str]) -> list[str]:
    return outputs


def write_into(ctx: Context, kind: str, table: exp.Table, listed: list[str], query: exp.Expr,
               by_name: bool = False) -> Partial:
    """An INSERT's query written into ``table``, through its PARTITION clause when it has one;
    ``by_name`` (Spark's INSERT .. BY NAME): each item fills the column of its own name."""
    spec = spec_of(table)
    if spec is None:
        return write_query(ctx, kind, table, listed, query, fill=_own_names if by_name and not listed else None)
    return write_partitioned(ctx, kind, table, listed, query, spec, by_name and not listed)


_NAME = {TokenType.VAR, TokenType.IDENTIFIER, TokenType.DOT}


def lake_insert(text: str, dialect: Dialect) -> str | None:
    """INSERT heads as the lake engines write them and sqlglot does not read them, put in the
    order it reads: Impala's column list before the PARTITION clause (``INSERT INTO t (a, b)
    PARTITION (ds) SELECT ..``) moved after it; Hive's ``IF NOT EXISTS`` after the clause and
    Impala's ``[SHUFFLE]`` hint left out (neither changes lineage); Impala's ``UPSERT INTO`` read as
    INSERT. Every INSERT of the text is looked at (a Hive multi-insert has several). None when
    ``text`` has no such head."""
    tokens = tokenize(dialect, text)
    edits = [edit for i, t in enumerate(tokens) if t.token_type == TokenType.INSERT
             for edit in [_head(tokens, i, text)] if edit is not None]
    if tokens and tokens[0].text.upper() == "UPSERT" and tokens[1:2] and tokens[1].token_type == TokenType.INTO:
        # Impala's UPSERT INTO a Kudu table writes as INSERT does (rows it finds are updated)
        head = _head(tokens, 0, text)
        edits[:0] = [(tokens[0].start, tokens[0].end + 1, "INSERT")] + ([head] if head is not None else [])
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text if edits else None


def _head(tokens: list, i: int, text: str) -> tuple[int, int, str] | None:
    """(start, end, new text) of one INSERT head that needs reordering, from the token at ``i``."""
    first = i
    i += 1
    while i < len(tokens) and tokens[i].token_type in (TokenType.INTO, TokenType.OVERWRITE, TokenType.TABLE):
        i += 1
    if i == first + 1:
        return None
    while i < len(tokens) and tokens[i].token_type in _NAME:
        i += 1
    name_end, columns, partition, odd, columns_first = i - 1, "", "", False, False
    while i < len(tokens):
        kind = tokens[i].token_type
        if kind == TokenType.L_PAREN and not columns and tokens[i + 1 : i + 2] and tokens[i + 1].token_type in _NAME:
            end = _closing(tokens, i, TokenType.L_PAREN, TokenType.R_PAREN)
            columns, columns_first = text[tokens[i].start : tokens[end].end + 1] if end else "", not partition
        elif kind == TokenType.PARTITION and not partition and tokens[i + 1 : i + 2] and tokens[i + 1].token_type == TokenType.L_PAREN:
            end = _closing(tokens, i + 1, TokenType.L_PAREN, TokenType.R_PAREN)
            partition = text[tokens[i].start : tokens[end].end + 1] if end else ""
        elif kind == TokenType.L_BRACKET:  # Impala [SHUFFLE] / [NOSHUFFLE] / [CLUSTERED]
            end, odd = _closing(tokens, i, TokenType.L_BRACKET, TokenType.R_BRACKET), True
        elif [t.text.upper() for t in tokens[i : i + 3]] == ["IF", "NOT", "EXISTS"]:
            end, odd = i + 2, True
        else:
            break
        if end is None:
            return None
        i = end + 1
    if not (odd or (columns_first and partition)) or i >= len(tokens):
        return None
    start, stop = tokens[name_end].end + 1, tokens[i].start
    return start, stop, " " + " ".join(p for p in (partition, columns) if p) + " "


def _closing(tokens: list, opening: int, left: TokenType, right: TokenType) -> int | None:
    depth = 0
    for i in range(opening, len(tokens)):
        kind = tokens[i].token_type
        depth += kind == left
        depth -= kind == right
        if depth == 0:
            return i
    return None
