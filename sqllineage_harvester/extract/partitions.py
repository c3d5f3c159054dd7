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
from .base import Context, Partial, name_copy, name_projections, write_query
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


def filled_names(ctx: Context, table: exp.Table, listed: list[str], query: exp.Expr, spec: Spec) -> list[str]:
    """The target column each item of ``query`` fills, in order."""
    if listed:
        names = [n for n in listed if n not in spec.static]
        return names + [d for d in spec.dynamic if d not in names]
    partitions = set(spec.static) | set(spec.dynamic)
    known = ctx.catalog.columns(ctx.parts(name_copy(table)))
    if known:
        return [c for c in known if c not in partitions] + list(spec.dynamic)
    name_projections(query, ctx, written=True)  # an unaliased item named as the query's own would be
    first = query
    while isinstance(first, exp.SetOperation):
        first = first.this
    items = first.expressions if isinstance(first, exp.Select) else []
    head = [("*" if isinstance(i, exp.Star) or isinstance(i.this, exp.Star) else i.alias_or_name)
            for i in items[: max(len(items) - len(spec.dynamic), 0)]]
    return head + list(spec.dynamic)


def write_partitioned(ctx: Context, kind: str, table: exp.Table, listed: list[str], query: exp.Expr,
                      spec: Spec) -> Partial:
    """A query written into a PARTITION clause: its items by the engine's order, each static
    partition column written a constant."""
    if not isinstance(query, (exp.Select, exp.SetOperation)):
        return write_query(ctx, kind, table, listed, query)
    partial = write_query(ctx, kind, table, filled_names(ctx, table, listed, query, spec), query)
    out = partial.outputs[0].name
    written = {c.target.column for c in partial.columns}
    partial.columns += [ColumnLineage(ColumnRef(out, name), (), TRANSFORMATION)
                        for name in spec.static if name not in written]
    return partial


def write_into(ctx: Context, kind: str, table: exp.Table, listed: list[str], query: exp.Expr) -> Partial:
    """An INSERT's query written into ``table``, through its PARTITION clause when it has one."""
    spec = spec_of(table)
    if spec is None:
        return write_query(ctx, kind, table, listed, query)
    return write_partitioned(ctx, kind, table, listed, query, spec)


def list_after_partition(text: str, dialect: Dialect) -> str | None:
    """Impala writes ``INSERT INTO t (a, b) PARTITION (ds) SELECT ..``, the column list before the
    PARTITION clause; Hive and Spark (and sqlglot) read it after. The same statement with the two
    swapped, or None when ``text`` is no such INSERT."""
    tokens = tokenize(dialect, text)
    if len(tokens) < 4 or tokens[0].token_type != TokenType.INSERT:
        return None
    opening = next((i for i, t in enumerate(tokens) if t.token_type == TokenType.L_PAREN), None)
    head = {TokenType.INTO, TokenType.OVERWRITE, TokenType.TABLE, TokenType.DOT, TokenType.VAR}
    if opening is None or any(t.token_type not in head and t.token_type != TokenType.IDENTIFIER
                              for t in tokens[1:opening]):
        return None
    columns_end = _closing(tokens, opening)
    if columns_end is None or columns_end + 2 >= len(tokens):
        return None
    if tokens[columns_end + 1].token_type != TokenType.PARTITION or tokens[columns_end + 2].token_type != TokenType.L_PAREN:
        return None
    partition_end = _closing(tokens, columns_end + 2)
    if partition_end is None:
        return None
    columns = text[tokens[opening].start : tokens[columns_end].end + 1]
    partition = text[tokens[columns_end + 1].start : tokens[partition_end].end + 1]
    return (text[: tokens[opening].start] + partition + " " + columns + text[tokens[partition_end].end + 1 :])


def _closing(tokens: list, opening: int) -> int | None:
    depth = 0
    for i in range(opening, len(tokens)):
        kind = tokens[i].token_type
        depth += kind == TokenType.L_PAREN
        depth -= kind == TokenType.R_PAREN
        if depth == 0:
            return i
    return None
