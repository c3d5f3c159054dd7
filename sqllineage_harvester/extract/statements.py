"""One parsed statement -> its lineage, by statement type.

Every write is reduced to "a query whose output columns land in a target"
(``base.write_query``); UPDATE, MERGE and friends build a synthetic SELECT for
it in ``dml``, a table's life (LIKE, CLONE, RENAME, SWAP, DROP) is in ``tables``, COPY in
``loads``, opaque commands are read in ``commands``. ``HANDLERS`` maps each
sqlglot statement type to its handler, one line each.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Mapping

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from ..model import ColumnLineage, ColumnRef, DatasetRef, IndirectRef, StatementLineage
from . import commands, dml, loads, ml, ml_calls, multi_insert, partitions, tables
from .streams import may_read_streams, unwrap_streams
from .base import (
    Context,
    Handler,
    PREPASS_WALK,
    Partial,
    dataset,
    name_copy,
    lineage,
    inputs_of,
    name_projections,
    is_temporary,
    target_table,
    traced,
    write_query,
)
from .commands import NotUnderstood
from .glot import dialect_of, normalize_names
from .variables import known_columns, unbind

__all__ = ["Context", "NotUnderstood", "analyse"]

# -- handlers ----------------------------------------------------------------
def handle_select(node: exp.Expr, ctx: Context) -> Partial:
    first = node
    while isinstance(first, exp.SetOperation):
        first = first.this
    into = first.args.get("into") if isinstance(first, exp.Select) else None
    if isinstance(into, exp.Into) and isinstance(into.this, exp.Table):
        target = into.this
        first.set("into", None)
        if into.args.get("temporary") or is_temporary(into):
            ctx.temp_tables.add(ctx.qualify(target))
        return write_query(ctx, "select_into", target, [], node)
    if ctx.select_columns:
        name_projections(node, ctx)  # an unaliased expression is named by its text: max(col1)
    if not ctx.select_columns and ctx.columns:
        ctx.columns = False  # reads only count as usage: their tables are all that is kept
        try:
            trace = traced(ctx, node, ctx.take_walk(node))
        finally:
            ctx.columns = True
    else:
        trace = traced(ctx, node, ctx.take_walk(node))
    partial = Partial("select", inputs=inputs_of(ctx, trace), indirect=trace.indirect, warnings=trace.warnings)
    for name, source in trace.outputs:
        partial.columns.append(lineage(ColumnRef("", name), source))
    return partial


def handle_insert(node: exp.Expr, ctx: Context) -> Partial:
    table, names = target_table(node.this)
    if table is None:  # INSERT OVERWRITE DIRECTORY '...' and friends
        directory = node.this
        partial = handle_select(node.expression, ctx) if node.expression else Partial("insert")
        path = directory.this.name if isinstance(directory, exp.Expr) and directory.this else ""
        return Partial("insert_overwrite", partial.inputs, [DatasetRef(path or "directory", "file")])
    kind = "insert_overwrite" if node.args.get("overwrite") else "insert"
    query = node.expression
    source = node.args.get("source")
    if query is None and isinstance(source, exp.Table):  # Spark: INSERT INTO t TABLE s, every row of s
        query = exp.select("*").from_(source)
    with_ = node.args.get("with_")
    if with_ is not None and isinstance(query, (exp.Select, exp.SetOperation)) and query.args.get("with_") is None:
        query.set("with_", with_)
    if isinstance(query, exp.Subquery):  # INSERT INTO t (a, b) (SELECT ...)
        query = query.unnest()
    if isinstance(query, exp.Values) and query.find(exp.Subquery):  # VALUES (1, (SELECT max(id) FROM s)), (...)
        rows = [exp.Select(expressions=list(r.expressions)) for r in query.expressions if isinstance(r, exp.Tuple)]
        if rows:
            query = rows[0]
            for row in rows[1:]:
                query = exp.union(query, row, distinct=False, copy=False)
    partial = partitions.write_into(ctx, kind, table, names, query, bool(node.args.get("by_name")))
    if query is None and not node.args.get("default"):  # T-SQL INSERT INTO t EXEC proc: a procedure's rows
        partial.warnings.append("the rows it inserts are not in the statement (INSERT .. EXEC of a procedure?): "
                                "what they are made from is not known")
    return dml.add_upsert(node, ctx, partial) if node.args.get("conflict") is not None else partial


def handle_create(node: exp.Expr, ctx: Context) -> Partial:
    table, names = target_table(node.this)
    kind_word = (node.args.get("kind") or "").upper()
    if table is None:
        return Partial("ddl")
    if is_temporary(node):
        _global_temp(node, table, ctx)
        ctx.temp_tables.add(ctx.qualify(table))
    query = node.expression
    clone = node.args.get("clone")
    if clone is not None and isinstance(clone.this, exp.Table) and kind_word in ("TABLE", ""):  # not a SCHEMA's
        return tables.copy_table(ctx, "create_table_as", clone.this, table)
    if isinstance(query, (exp.Select, exp.SetOperation, exp.Subquery)):
        if isinstance(query, exp.Subquery):
            query = query.this
        to_table = node.find(exp.ToTableProperty)  # ClickHouse: CREATE MATERIALIZED VIEW mv TO t AS SELECT
        if kind_word == "VIEW" and to_table is not None and isinstance(to_table.this, exp.Table):
            return write_query(ctx, "create_view", to_table.this, [], query, "table")  # it feeds t on every insert
        if kind_word == "VIEW":
            return write_query(ctx, "create_view", table, names, query, "view")
        if kind_word == "MODEL":  # BigQuery ML: CREATE MODEL m OPTIONS (..) AS SELECT ..
            return ml.train(ctx, table, query, ml.bigquery_options(node))
        return write_query(ctx, "create_table_as", table, names, query, "table")
    if kind_word == "MODEL":  # BigQuery ML: an imported or remote model, trained elsewhere
        return ml.imported_model(ctx, node, table)
    like = node.find(exp.LikeProperty)  # (LIKE t, ...) in PostgreSQL / Redshift, LIKE t elsewhere
    template = like.this if like is not None and isinstance(like.this, exp.Table) else None
    if template is not None or (kind_word in ("TABLE", "") and isinstance(node.this, exp.Schema)):
        return tables.create_table(ctx, table, node.this, template, node)
    return Partial("ddl", objects=[dataset(ctx, table)])


# Where a language keeps a GLOBAL TEMPORARY VIEW: Spark's global_temp database (queried as global_temp.v).
GLOBAL_TEMP_SCHEMA = {"spark": "global_temp", "spark2": "global_temp", "databricks": "global_temp"}


def _global_temp(node: exp.Expr, table: exp.Table, ctx: Context) -> None:
    schema = GLOBAL_TEMP_SCHEMA.get(ctx.dialect or "")
    props = node.args.get("properties")
    if schema and not table.db and props and any(isinstance(p, exp.GlobalProperty) for p in props.expressions):
        table.set("db", exp.to_identifier(schema))


def handle_cache(node: exp.Expr, ctx: Context) -> Partial:
    if isinstance(node.this, exp.Table) and node.expression is not None:
        return write_query(ctx, "create_table_as", node.this, [], node.expression)
    return Partial("other")


def handle_use(node: exp.Expr, ctx: Context) -> Partial:
    target = node.this
    kind = (node.args.get("kind").name if node.args.get("kind") else "").upper()
    if not isinstance(target, exp.Table):
        return Partial("session")
    # Where names have three parts (Snowflake, T-SQL) USE [DATABASE] x names a database;
    # elsewhere (MySQL, Hive, Spark) a "database" is what the others call a schema.
    names_database = kind == "CATALOG" or (ctx.use_sets_database and kind in ("DATABASE", ""))
    if names_database:
        ctx.database, ctx.schema, ctx.search_path = target.name, None, ()
    elif kind in ("SCHEMA", "DATABASE", "NAMESPACE", ""):
        ctx.schema, ctx.search_path = target.name, ()
        if target.db:
            ctx.database = target.db
    return Partial("session")


# MySQL compares column names without case (table names with it, on most systems): one column
# written COL2 here and col2 there is one column.
CASELESS_COLUMNS = frozenset({"mysql"})


def _lower_columns(partial: Partial) -> None:
    def ref(c: ColumnRef) -> ColumnRef:
        return ColumnRef(c.dataset, c.column.lower())

    def ind(r: IndirectRef) -> IndirectRef:
        return IndirectRef(ref(r.source), r.type)

    partial.columns = [ColumnLineage(ref(c.target), tuple(sorted({ref(s) for s in c.sources})), c.transform,
                                     tuple(sorted({ind(r) for r in c.indirect})), tuple(sorted({ref(m) for m in c.masked})))
                       for c in partial.columns]
    partial.indirect = {ind(r) for r in partial.indirect}


UNNAMED = "__unnamed_table__"
_NAMED_BY_FUNCTION = re.compile(r"(?:identifier|semantic_view)\s*\(", re.IGNORECASE)


def _named_by_function(sql: str) -> bool:
    """Whether ``sql`` may name a table by IDENTIFIER(..) / SEMANTIC_VIEW(..). An ASCII text without
    either word is passed over without the (caseless, so slow) regex."""
    if sql.isascii():
        lowered = sql.lower()
        if "identifier" not in lowered and "semantic_view" not in lowered:
            return False
    return _NAMED_BY_FUNCTION.search(sql) is not None


def _dynamic_names(node: exp.Expr, dialect: str | None) -> bool:
    """Table references written as functions become the table they name: Snowflake / Databricks
    ``IDENTIFIER('db.t')`` and ``IDENTIFIER(t)``, Snowflake ``SEMANTIC_VIEW(sv ...)``; BigQuery
    partition decorators are dropped. A table named by a variable, a bind parameter or an
    expression is marked unnamed. Whether one was."""
    unnamed = False
    for schema in list(node.find_all(exp.Schema)):  # Databricks: INSERT INTO identifier('db.t') parses so
        table, args = schema.this, schema.expressions
        if (isinstance(table, exp.Table) and not table.db and table.name.upper() == "IDENTIFIER" and len(args) == 1
                and isinstance(args[0], exp.Literal)):
            schema.replace(exp.Table(this=exp.DynamicIdentifier(this=args[0].copy())))
    for table in list(node.find_all(exp.Table)):
        inner = table.this
        if dialect == "bigquery" and isinstance(inner, exp.Identifier) and "$" in inner.name[1:]:
            # a partition decorator (events$20240101, t$__UNPARTITIONED__) names a part of the table
            table.set("this", exp.to_identifier(inner.name.split("$")[0], quoted=inner.quoted))
            continue
        if isinstance(inner, exp.SemanticView) and isinstance(inner.this, exp.Table):
            # Snowflake SEMANTIC_VIEW(sv METRICS .. DIMENSIONS ..): a query of the semantic view sv
            for key in ("this", "db", "catalog"):
                table.set(key, inner.this.args.get(key))
            continue
        if isinstance(inner, exp.DynamicIdentifier):
            arg = inner.this
        elif isinstance(inner, exp.Anonymous) and str(inner.this).upper() == "IDENTIFIER" and inner.expressions:
            arg = inner.expressions[0]
        else:
            continue
        if isinstance(arg, exp.Literal) and arg.is_string:
            named = exp.to_table(arg.this, dialect=dialect)
        elif isinstance(arg, (exp.Column, exp.Identifier)) and not isinstance(arg.this, exp.Star):
            named = exp.to_table(arg.sql(dialect=dialect), dialect=dialect)
        else:
            named, unnamed = exp.Table(this=exp.to_identifier(UNNAMED, quoted=True)), True
        for key in ("this", "db", "catalog"):
            table.set(key, named.args.get(key))
    return unnamed


def _normalize(node: exp.Expr, ctx: Context) -> exp.Expr:
    """Normalize identifiers by the dialect's rules, once.

    sqlglot's qualifier normalizes the query it is given anyway, so a query that
    will be qualified is left to it and only the rest of the statement (the
    target, its column list) is normalized here.
    """
    dialect = dialect_of(ctx.dialect)

    def normalize(part: exp.Expr) -> exp.Expr:
        normalize_names(part, dialect, ctx.meta_comments)
        return part

    if isinstance(node, (exp.Select, exp.SetOperation)) and not ctx.select_columns:
        # a query read at table level: the walk that normalizes it finds what its pre-passes look at
        ctx.walk = (node, normalize_names(node, dialect, ctx.meta_comments, PREPASS_WALK))
        return node
    if not ctx.columns:
        return normalize(node)
    if isinstance(node, (exp.Select, exp.SetOperation)):
        first = node
        while isinstance(first, exp.SetOperation):
            first = first.this
        into = first.args.get("into") if isinstance(first, exp.Select) else None
        if into is not None:
            normalize(into)
        return node
    query = node.args.get("expression") if isinstance(node, (exp.Insert, exp.Create)) else None
    if isinstance(query, (exp.Select, exp.SetOperation)):
        node.set("expression", None)
        normalize(node)
        node.set("expression", query)
        return node
    return normalize(node)


def _command(node: exp.Expr, ctx: Context) -> Partial:
    return commands.handle_command(node, ctx, dispatch=_dispatch)


def _dispatch(node: exp.Expr, ctx: Context) -> Partial:
    handler = HANDLERS.get(type(node))
    return handler(node, ctx) if handler else Partial("other")


def _session(node: exp.Expr, ctx: Context) -> Partial:
    return Partial("session")


HANDLERS: dict[type, Handler] = {
    exp.Select: handle_select,
    exp.Union: handle_select,
    exp.Intersect: handle_select,
    exp.Except: handle_select,
    exp.Insert: handle_insert,
    exp.Create: handle_create,
    exp.Cache: handle_cache,
    exp.Update: dml.handle_update,
    exp.Delete: dml.handle_delete,
    exp.Merge: dml.handle_merge,
    exp.MultitableInserts: multi_insert.handle_multi_insert,
    exp.Export: dml.export_data,
    exp.Copy: loads.handle_copy,
    exp.LoadData: loads.handle_load,
    exp.Alter: tables.handle_alter,
    exp.Drop: tables.handle_drop,
    exp.TruncateTable: tables.handle_truncate,
    exp.Use: handle_use,
    exp.Set: commands.handle_set,
    exp.Declare: commands.handle_declare,
    exp.PropertyEQ: commands.handle_declare,  # v := (SELECT ..)
    exp.Command: _command,
    exp.Execute: commands.handle_execute,
    exp.ExecuteSql: commands.handle_execute,
    exp.Alias: commands.handle_fragment,
    exp.Column: commands.handle_fragment,
    exp.Identifier: commands.handle_fragment,
    exp.Literal: commands.handle_fragment,
    exp.Transaction: _session,
    exp.Commit: _session,
    exp.Rollback: _session,
}


def _unbind_variables(node: exp.Expr, ctx: Context) -> None:
    """Bare names that are script or routine variables in scope are values, not columns
    (``variables.unbind``), unless the catalog gives a table read a column of that name."""
    def columns_of(table: exp.Table) -> Mapping[str, str] | None:
        return ctx.catalog.columns(ctx.parts(normalize_identifiers(name_copy(table), dialect=dialect_of(ctx.dialect))))

    if unbind(node, ctx.variables, known_columns(node, columns_of), ctx.dialect):
        ctx.walk = None  # the walk _normalize kept is of the tree before the change


def analyse(
    node: exp.Expr, ctx: Context, index: int, sql: str, tokens: list | None = None, base: str | None = None
) -> StatementLineage:
    """Lineage of one parsed statement; updates ``ctx`` for the ones after it."""
    ctx.tokens, ctx.text = tokens, base if base is not None else sql
    before = (ctx.database, ctx.schemas)
    unnamed = _dynamic_names(node, ctx.dialect) if _named_by_function(sql) or (
        ctx.dialect == "bigquery" and "$" in sql) else False
    unread = unwrap_streams(node, ctx.dialect) if may_read_streams(sql, ctx.dialect) else []
    node = _normalize(node, ctx)
    ctx.find_on_path(node)
    if isinstance(node, exp.Subquery):
        node = node.unnest()
    if ctx.variables:
        _unbind_variables(node, ctx)
    partial = ml_calls.calls(node, ctx, dml.with_modifying_ctes(node, ctx, _dispatch))
    ctx.walk = None  # a walk handle_select did not take is of this statement only
    if ctx.dialect in CASELESS_COLUMNS:
        _lower_columns(partial)
    if unnamed:  # tables named by a variable: not a dataset we can name
        partial.inputs = [d for d in partial.inputs if d.name != UNNAMED]
        partial.outputs = [d for d in partial.outputs if d.name != UNNAMED]
        partial.columns = [replace(c, sources=tuple(r for r in c.sources if r.dataset != UNNAMED),
                                   indirect=tuple(r for r in c.indirect if r.source.dataset != UNNAMED))
                           for c in partial.columns if c.target.dataset != UNNAMED]
        partial.indirect = {r for r in partial.indirect if r.source.dataset != UNNAMED}
        partial.warnings.append("a table named by a variable (IDENTIFIER($v)) is left out")
    partial.warnings += unread  # files read at a path built at run time
    return StatementLineage(
        index=index,
        kind=partial.kind,
        inputs=tuple(dict.fromkeys(partial.inputs)),
        outputs=tuple(dict.fromkeys(partial.outputs)),
        columns=tuple(partial.columns),
        indirect=tuple(sorted(partial.indirect)),
        objects=tuple(dict.fromkeys(partial.objects)),
        warnings=tuple(dict.fromkeys(partial.warnings)),
        sql=sql,
        defaults=(ctx.database, ctx.schemas) if (ctx.database, ctx.schemas) != before else None,
        settings=partial.settings,
        ml=ml.model_facts(partial.kind, partial.inputs, partial.outputs, partial.settings),
    )
