"""One source written to several tables: Hive / Spark ``FROM src INSERT .. SELECT .. INSERT ..
SELECT ..`` and Snowflake ``INSERT ALL / FIRST``.

Each branch is its own write: its items resolve over the whole shared FROM (joins included),
and what only that branch tests (its WHERE, a WHEN condition, its GROUP BY) influences that
branch's columns only. What every branch shares (the FROM's join conditions) stays with the
statement.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from ..model import DatasetRef, IndirectRef
from .base import Context, Partial, inputs_of, name_projections, target_table, traced
from .partitions import write_into


def handle_multi_insert(node: exp.Expr, ctx: Context) -> Partial:
    source = node.args.get("source")
    partial = Partial("insert")
    branches: list[Partial] = []
    selects = -1  # the branch's SELECT among the statement's outermost ones
    conditions = _branch_conditions(node)
    for item, condition in zip(node.expressions, conditions):
        insert = item.this if isinstance(item, exp.ConditionalInsert) else item
        table, names = target_table(insert.this)
        if source is None:
            continue
        selects += isinstance(insert.expression, exp.Select)
        query = _branch_query(insert.expression, source)
        kind = "insert_overwrite" if insert.args.get("overwrite") else "insert"
        partial.kind = kind if partial.kind == "insert" else partial.kind
        if isinstance(insert.this, exp.Directory):  # INSERT OVERWRITE [LOCAL] DIRECTORY '/path' SELECT ..
            branches.append(_to_directory(ctx, insert.this, query))
            continue
        if table is None:
            continue
        if condition is not None and isinstance(query, exp.Select):
            query.set("where", exp.Where(this=condition))
        if not names and isinstance(insert.expression, exp.Select):  # by its own SELECT's text
            name_projections(query, ctx, written=True, nth=selects)
        branches.append(write_into(ctx, kind, table, names, query))
    for one in branches:
        partial.outputs += [o for o in one.outputs if o not in partial.outputs]
        partial.inputs += [i for i in one.inputs if i not in partial.inputs]
        partial.warnings += one.warnings
    partial.columns, partial.indirect = _own_influences(branches)
    return partial


def _branch_conditions(node: exp.Expr) -> list[exp.Expr | None]:
    """The condition under which each INTO of a Snowflake ``INSERT ALL / FIRST`` writes a row.
    sqlglot gives the WHEN only to the first INTO under it: the INTOs after it (``WHEN c THEN
    INTO t1 INTO t2``) share it. ELSE writes the rows no WHEN took; under FIRST, a WHEN takes
    only the rows no earlier WHEN took, so both carry the earlier conditions (negated)."""
    first = str(node.args.get("kind") or "").upper() == "FIRST"
    earlier: list[exp.Expr] = []
    current: exp.Expr | None = None
    conditions: list[exp.Expr | None] = []
    for item in node.expressions:
        if isinstance(item, exp.ConditionalInsert) and item.expression is not None:
            when = item.expression.copy()
            current = exp.and_(when, *(exp.not_(e.copy()) for e in earlier), copy=False) if first and earlier else when
            earlier.append(item.expression)
        elif isinstance(item, exp.ConditionalInsert) and item.args.get("else_"):
            current = exp.and_(*(exp.not_(e.copy()) for e in earlier), copy=False) if earlier else None
        conditions.append(current.copy() if current is not None else None)
    return conditions


def _to_directory(ctx: Context, directory: exp.Directory, query: exp.Expr) -> Partial:
    """A branch written to files: what it reads, and the path as a dataset."""
    path = directory.this.name if isinstance(directory.this, exp.Expr) else ""
    return Partial("insert_overwrite", inputs=inputs_of(ctx, traced(ctx, query)),
                   outputs=[DatasetRef(path or "directory", "file")])


def _branch_query(query: exp.Expr | None, source: exp.Expr) -> exp.Expr:
    """The branch as a query of its own over the shared source."""
    if isinstance(query, exp.Values):  # Snowflake: INTO t VALUES (a, b) takes the source's row
        row = query.expressions[0].expressions if query.expressions else []
        alias = exp.TableAlias(this=exp.to_identifier("__src"))
        inner = source.copy() if not isinstance(source, exp.Table) else exp.select("*").from_(source.copy())
        return exp.Select(expressions=[v.copy() for v in row], from_=exp.From(this=exp.Subquery(this=inner, alias=alias)))
    if isinstance(query, exp.Select) and query.args.get("from_") is None:
        head = source.copy()
        query.set("from_", exp.From(this=head))
        # FROM a JOIN b ON .. / FROM t LATERAL VIEW explode(..): sqlglot hangs them on the first table
        for key in ("joins", "laterals"):
            hung = list(head.args.get(key) or []) if isinstance(head, exp.Table) else []
            if hung:
                head.set(key, None)
                query.set(key, hung + list(query.args.get(key) or []))
        return query
    return query if query is not None else source.copy()


def _own_influences(branches: list[Partial]) -> tuple[list, set[IndirectRef]]:
    """Each branch's columns with the influences only it has; the shared ones for the statement."""
    written = [b for b in branches if b.columns]
    shared = set.intersection(*(b.indirect for b in written)) if written else set()
    columns = []
    statement = set(shared)
    for branch in branches:
        own = branch.indirect - shared
        if not branch.columns:
            statement |= own  # nothing of the branch to attach them to
        columns += [replace(c, indirect=tuple(sorted(set(c.indirect) | own))) if own else c for c in branch.columns]
    return columns, statement
