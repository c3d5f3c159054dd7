"""A table's life: CREATE TABLE (columns) / LIKE, CLONE, RENAME, SWAP, DROP, TRUNCATE.

What a table holds moves with it: a rename or clone carries every column the catalog
knows (a wildcard edge when it knows none), and the script's catalog follows, so the
statements after it see the table's columns under its new name.
"""

from __future__ import annotations

from sqlglot import exp

from ..model import IDENTITY, ColumnLineage, ColumnRef
from .base import Context, Partial, dataset, target_table, write_query
from .catalog import partition_columns


def create_table(ctx: Context, table: exp.Table, schema: exp.Expr, template: exp.Table | None,
                 create: exp.Expr | None = None) -> Partial:
    """CREATE TABLE t (columns) / t LIKE s: a table the script now knows the columns of. A LIKE
    reads its template: ``inputs`` names it, and t takes its columns (then any of its own)."""
    columns = dict(ctx.catalog.columns(ctx.parts(template)) or {}) if template is not None else {}
    if isinstance(schema, exp.Schema):
        columns.update({c.name: (c.args["kind"].sql(ctx.dialect) if c.args.get("kind") else "")
                        for c in schema.expressions if isinstance(c, exp.ColumnDef)})
    for c in partition_columns(create) if create is not None else []:  # Hive: PARTITIONED BY (ds STRING)
        columns.setdefault(c.name, c.args["kind"].sql(ctx.dialect) if c.args.get("kind") else "")
    out = dataset(ctx, table)
    if columns:
        ctx.catalog.drop(ctx.parts(table))
        ctx.catalog.add(ctx.parts(table), columns)
    inputs = [dataset(ctx, template)] if template is not None else []
    return Partial("ddl", inputs=inputs, outputs=[out], objects=[out])


def copy_table(ctx: Context, kind: str, source: exp.Table, target: exp.Table, target_type: str = "table") -> Partial:
    """``target`` holds what ``source`` holds, column for column (a wildcard when unknown)."""
    known = ctx.catalog.columns(ctx.parts(source))
    partial = _same_columns(ctx, kind, source, target, known, target_type)
    if known:
        ctx.catalog.add(ctx.parts(target), known)
    return partial


def _same_columns(ctx: Context, kind: str, source: exp.Table, target: exp.Table, known: dict[str, str] | None,
                  target_type: str = "table") -> Partial:
    src, out = dataset(ctx, source), dataset(ctx, target, target_type)
    names = list(known) if known else ["*"]
    columns = [ColumnLineage(ColumnRef(out.name, n), (ColumnRef(src.name, n),), IDENTITY) for n in names]
    return Partial(kind, inputs=[src], outputs=[out], columns=columns)


def move_rows(ctx: Context, source: exp.Table, target: exp.Table) -> Partial:
    """Rows of ``source`` added to ``target`` as they are (Redshift ALTER TABLE t APPEND FROM s, Hive
    EXCHANGE PARTITION): an ``insert`` of each column into its namesake. Both tables keep their
    columns; those both have when the catalog knows both (APPEND's IGNOREEXTRA / FILLTARGET leave
    the others out), else the known side's, else a wildcard."""
    had, has = ctx.catalog.columns(ctx.parts(source)), ctx.catalog.columns(ctx.parts(target))
    shared = {n: t for n, t in has.items() if n in had} if had and has else None
    return _same_columns(ctx, "insert", source, target, shared or had or has)


def exchange_rows(ctx: Context, one: exp.Table, other: exp.Table) -> Partial:
    """MySQL / Oracle ALTER TABLE a EXCHANGE PARTITION p WITH TABLE b: a's partition and b's rows
    change places, so each table is written from the other."""
    there, back = move_rows(ctx, other.copy(), one.copy()), move_rows(ctx, one.copy(), other.copy())
    return Partial("insert", inputs=there.inputs + back.inputs, outputs=there.outputs + back.outputs,
                   columns=there.columns + back.columns)


def swap_tables(one: exp.Table, other: exp.Table, ctx: Context) -> Partial:
    """Snowflake ALTER TABLE a SWAP WITH b: each holds what the other held, columns included."""
    known = [ctx.catalog.columns(ctx.parts(t)) for t in (one, other)]  # both read before either changes
    there = _same_columns(ctx, "rename", one.copy(), other.copy(), known[0])
    back = _same_columns(ctx, "rename", other.copy(), one.copy(), known[1])
    for table, columns in ((other, known[0]), (one, known[1])):
        ctx.catalog.drop(ctx.parts(table))
        if columns:
            ctx.catalog.add(ctx.parts(table), columns)
    return Partial("rename", inputs=there.inputs + back.inputs, outputs=there.outputs + back.outputs,
                   columns=there.columns + back.columns)


def handle_alter(node: exp.Expr, ctx: Context) -> Partial:
    table = node.this
    actions = node.args.get("actions") or []
    query = next((a for a in actions if isinstance(a, (exp.Select, exp.SetOperation))), None)
    if query is not None and (node.args.get("kind") or "").upper() == "VIEW":  # ALTER VIEW v [(a, b)] AS SELECT
        view, names = target_table(table)
        if view is not None:
            return write_query(ctx, "create_view", view, names, query, "view")
    if not isinstance(table, exp.Table):
        return Partial("ddl")
    for action in actions:
        if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            return rename_table(table, action.this, ctx)
        if isinstance(action, exp.SwapTable) and isinstance(action.this, exp.Table):
            return swap_tables(table, action.this, ctx)
    out = dataset(ctx, table)
    return Partial("ddl", outputs=[out], objects=[out])


# Where a rename's unqualified new name lives: in the session's current schema (Snowflake,
# MySQL: ALTER TABLE stg.z RENAME TO zz makes <current>.zz), elsewhere beside the old table.
RENAME_TO_CURRENT_SCHEMA = frozenset({"snowflake", "mysql"})


def rename_table(old: exp.Table, new: exp.Table, ctx: Context) -> Partial:
    """ALTER TABLE a RENAME TO b / RENAME TABLE a TO b: b is a, column for column."""
    if (ctx.dialect or "") not in RENAME_TO_CURRENT_SCHEMA:
        for part in ("db", "catalog"):
            if not new.args.get(part) and old.args.get(part):
                new.set(part, old.args[part].copy())
    partial = copy_table(ctx, "rename", old.copy(), new)
    ctx.catalog.drop(ctx.parts(old))
    return partial


def handle_drop(node: exp.Expr, ctx: Context) -> Partial:
    objects = []
    for table in [node.this] if isinstance(node.this, exp.Table) else node.args.get("tables") or []:
        if isinstance(table, exp.Table):
            objects.append(dataset(ctx, table))
            ctx.catalog.drop(ctx.parts(table))
    kind_word = (node.args.get("kind") or "").upper()
    return Partial("drop" if kind_word in ("TABLE", "VIEW", "") else "ddl", objects=objects)


def handle_truncate(node: exp.Expr, ctx: Context) -> Partial:
    return Partial("truncate", objects=[dataset(ctx, t) for t in node.expressions if isinstance(t, exp.Table)])




def create_stream(ctx: Context, stream: exp.Table, source: exp.Table) -> Partial:
    """Snowflake CREATE STREAM s ON TABLE|VIEW t: s yields t's rows (their changes), column for
    column; queried like a view, it is one."""
    return copy_table(ctx, "create_view", source, stream, "view")
