"""One parsed statement -> its lineage, by statement type.

Every write is reduced to "a query whose output columns land in a target":
UPDATE, MERGE and multi-table INSERT become a synthetic SELECT, so one walker
(``columns.trace_query``) answers them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import TokenType

from ..model import (
    FILTER,
    IDENTITY,
    ColumnLineage,
    ColumnRef,
    DatasetRef,
    IndirectRef,
    StatementLineage,
)
from .catalog import Catalog, table_parts
from .columns import QueryTrace, qualify_query, table_name, tables_only, trace_query


@dataclass
class Context:
    """What statements of one script share, in order."""

    dialect: str | None
    catalog: Catalog
    database: str | None = None
    schema: str | None = None
    temp_tables: set[str] = field(default_factory=set)
    use_sets_database: bool = False
    tokens: list | None = None  # the current statement's tokens, for original text
    text: str = ""  # the text the tokens' offsets refer to
    max_bytes: int = 1_000_000
    columns: bool = True  # False: table-level only (no qualify, no column walk)

    def qualify(self, table: exp.Table) -> str:
        """Display name of a target table, with the session's defaults."""
        if not table.args.get("db") and self.schema:
            table.set("db", exp.to_identifier(self.schema))
        if not table.args.get("catalog") and self.database and table.args.get("db"):
            table.set("catalog", exp.to_identifier(self.database))
        return table_name(table)

    def parts(self, table: exp.Table) -> tuple[str, str, str]:
        self.qualify(table)
        return table_parts(table)


@dataclass
class Partial:
    """What a handler found; ``extract`` turns it into a StatementLineage."""

    kind: str
    inputs: list[DatasetRef] = field(default_factory=list)
    outputs: list[DatasetRef] = field(default_factory=list)
    columns: list[ColumnLineage] = field(default_factory=list)
    indirect: set[IndirectRef] = field(default_factory=set)
    objects: list[DatasetRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


Handler = Callable[[exp.Expr, Context], Partial]


# -- helpers ----------------------------------------------------------------
def _dataset(ctx: Context, table: exp.Table, type_: str = "table") -> DatasetRef:
    name = ctx.qualify(table)
    if name in ctx.temp_tables and type_ == "table":
        type_ = "temp_table"
    return DatasetRef(name, type_)


def _inputs(ctx: Context, trace: QueryTrace) -> list[DatasetRef]:
    seen = []
    for table in trace.tables:
        ref = _dataset(ctx, table)
        if ref not in seen:
            seen.append(ref)
    return seen


def _target_table(node: exp.Expr | None) -> tuple[exp.Table | None, list[str]]:
    """The table a write lands in, and its explicit column list if any."""
    if isinstance(node, exp.Schema):
        names = [c.name for c in node.expressions if isinstance(c, (exp.Identifier, exp.Column, exp.ColumnDef))]
        table = node.this if isinstance(node.this, exp.Table) else None
        return table, names
    if isinstance(node, exp.Table):
        return node, []
    return None, []


def _traced(ctx: Context, query: exp.Expr) -> QueryTrace:
    if not ctx.columns:
        return tables_only(query)
    warnings: list[str] = []
    qualified = qualify_query(query, ctx.catalog, ctx.dialect, warnings)
    trace = trace_query(qualified, ctx.catalog, ctx.dialect)
    trace.warnings[:0] = warnings
    return trace


def _write_query(
    ctx: Context,
    kind: str,
    target: exp.Table,
    names: list[str],
    query: exp.Expr,
    target_type: str = "table",
) -> Partial:
    """A query whose output columns land in ``target`` (by ``names`` or position)."""
    out = _dataset(ctx, target, target_type)
    partial = Partial(kind, outputs=[out])
    if isinstance(query, exp.Values) or query is None:
        return partial
    if not names:
        name_projections(query, ctx)
    trace = _traced(ctx, query)
    partial.inputs = _inputs(ctx, trace)
    partial.indirect = trace.indirect
    partial.warnings = trace.warnings
    target_names = names or _catalog_names(ctx, target, len(trace.outputs)) or [n for n, _ in trace.outputs]
    merged: dict[str, object] = {}
    for name, (_, source) in zip(target_names, trace.outputs):
        if name in merged:
            merged[name].absorb(source)  # type: ignore[attr-defined]
        elif source.sources or source.indirect:
            merged[name] = source
    partial.columns = [_lineage(ColumnRef(out.name, name), source) for name, source in merged.items()]
    if len(names) and len(names) != len(trace.outputs):
        partial.warnings.append(f"{len(names)} target columns but the query yields {len(trace.outputs)}")
    _remember(ctx, target, target_names if "*" not in target_names else [])
    return partial


def _catalog_names(ctx: Context, target: exp.Table, count: int) -> list[str]:
    known = ctx.catalog.columns(ctx.parts(target))
    if known and len(known) == count:
        return list(known)
    return []


def _remember(ctx: Context, target: exp.Table, names: list[str]) -> None:
    parts = ctx.parts(target)
    if names and not ctx.catalog.columns(parts):
        ctx.catalog.add(parts, {n: "" for n in names})


def _lineage(target: ColumnRef, trace: object) -> ColumnLineage:
    sources = tuple(sorted(trace.sources))  # type: ignore[attr-defined]
    indirect = tuple(sorted(trace.indirect))  # type: ignore[attr-defined]
    return ColumnLineage(target, sources, trace.transform, indirect)  # type: ignore[attr-defined]


def _is_temporary(node: exp.Expr) -> bool:
    props = node.args.get("properties")
    if props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions):
        return True
    table = node.find(exp.Table)
    return bool(table and table.this and table.this.args.get("temporary"))


_STOP = {TokenType.FROM, TokenType.INTO, TokenType.WHERE, TokenType.GROUP_BY, TokenType.ORDER_BY, TokenType.LIMIT,
         TokenType.UNION, TokenType.EXCEPT, TokenType.INTERSECT, TokenType.HAVING, TokenType.WINDOW, TokenType.QUALIFY}
_OPEN = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}


def projection_texts(tokens: list | None, sql: str) -> list[str]:
    """The select list of the outermost SELECT, as written, one text per item."""
    if not tokens:
        return []
    depth, best, start = 0, None, None
    for i, token in enumerate(tokens):
        if token.token_type in _OPEN:
            depth += 1
        elif token.token_type in _CLOSE:
            depth -= 1
        elif token.token_type == TokenType.SELECT and (best is None or depth < best):
            best, start = depth, i
    if start is None:
        return []
    items: list[list] = [[]]
    depth = 0
    for token in tokens[start + 1 :]:
        kind = token.token_type
        if depth == 0 and (kind in _STOP or kind in _CLOSE):
            break
        if kind in _OPEN:
            depth += 1
        elif kind in _CLOSE:
            depth -= 1
        if depth == 0 and kind == TokenType.COMMA:
            items.append([])
            continue
        if not items[0] and len(items) == 1 and kind in (TokenType.DISTINCT, TokenType.ALL):
            continue
        items[-1].append(token)
    return [sql[item[0].start : item[-1].end + 1].strip() if item else "" for item in items]


def name_projections(query: exp.Expr, ctx: Context) -> None:
    """Name unaliased computed columns by their text, as written: ``max(col1)``."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    texts = projection_texts(ctx.tokens, ctx.text)
    if len(texts) != len(select.expressions):
        return
    for text, item in zip(texts, select.expressions):
        if isinstance(item, (exp.Alias, exp.Column, exp.Star)) or not text:
            continue
        lowered = text.lower()
        if item.output_name and not lowered.startswith(("cast", "try_cast", "safe_cast")):
            continue
        name = text if ("'" in text or '"' in text) else lowered
        alias = exp.to_identifier(" ".join(name.split()), quoted=True)
        item.replace(exp.alias_(item.copy(), alias, copy=False))


# -- handlers ----------------------------------------------------------------
def handle_select(node: exp.Expr, ctx: Context) -> Partial:
    into = node.args.get("into")
    if isinstance(into, exp.Into) and isinstance(into.this, exp.Table):
        target = into.this
        node.set("into", None)
        if into.args.get("temporary") or (target.this and target.this.args.get("temporary")):
            ctx.temp_tables.add(ctx.qualify(target))
        return _write_query(ctx, "select_into", target, [], node)
    trace = _traced(ctx, node)
    partial = Partial("select", inputs=_inputs(ctx, trace), indirect=trace.indirect, warnings=trace.warnings)
    for name, source in trace.outputs:
        partial.columns.append(_lineage(ColumnRef("", name), source))
    return partial


def handle_insert(node: exp.Expr, ctx: Context) -> Partial:
    table, names = _target_table(node.this)
    if table is None:  # INSERT OVERWRITE DIRECTORY '...' and friends
        directory = node.this
        partial = handle_select(node.expression, ctx) if node.expression else Partial("insert")
        path = directory.this.name if isinstance(directory, exp.Expr) and directory.this else ""
        return Partial("insert_overwrite", partial.inputs, [DatasetRef(path or "directory", "file")])
    kind = "insert_overwrite" if node.args.get("overwrite") else "insert"
    query = node.expression
    with_ = node.args.get("with_")
    if with_ is not None and isinstance(query, (exp.Select, exp.SetOperation)) and query.args.get("with_") is None:
        query.set("with_", with_.copy())
    partition = table.args.get("partition")
    if partition is not None and not names:
        dynamic = [e.name for e in partition.expressions if isinstance(e, exp.Column)]
        if dynamic:
            known = ctx.catalog.columns(ctx.parts(table))
            if known:
                names = [c for c in known if c not in dynamic] + dynamic
    return _write_query(ctx, kind, table, names, query)


def handle_create(node: exp.Expr, ctx: Context) -> Partial:
    table, names = _target_table(node.this)
    kind_word = (node.args.get("kind") or "").upper()
    if table is None:
        return Partial("ddl")
    if _is_temporary(node):
        ctx.temp_tables.add(ctx.qualify(table))
    query = node.expression
    clone = node.args.get("clone")
    if clone is not None and isinstance(clone.this, exp.Table):
        return _copy_table(ctx, "create_table_as", clone.this, table)
    if isinstance(query, (exp.Select, exp.SetOperation, exp.Subquery)):
        if isinstance(query, exp.Subquery):
            query = query.this
        if kind_word == "VIEW":
            ctx.temp_tables.discard(ctx.qualify(table))
            return _write_query(ctx, "create_view", table, names, query, "view")
        target_type = "model" if kind_word == "MODEL" else "table"
        return _write_query(ctx, "create_table_as", table, names, query, target_type)
    if kind_word in ("TABLE", "") and isinstance(node.this, exp.Schema):
        like = next((e for e in node.this.expressions if isinstance(e, exp.LikeProperty)), None)
        columns = {c.name: (c.args["kind"].sql(ctx.dialect) if c.args.get("kind") else "")
                   for c in node.this.expressions if isinstance(c, exp.ColumnDef)}
        out = _dataset(ctx, table)
        if like is not None and isinstance(like.this, exp.Table):
            source = _dataset(ctx, like.this)
            known = ctx.catalog.columns(ctx.parts(like.this))
            if known:
                ctx.catalog.add(ctx.parts(table), known)
            return Partial("ddl", inputs=[source], outputs=[out], objects=[out])
        if columns:
            ctx.catalog.drop(ctx.parts(table))
            ctx.catalog.add(ctx.parts(table), columns)
        return Partial("ddl", outputs=[out], objects=[out])
    like = node.find(exp.LikeProperty)
    if like is not None and isinstance(like.this, exp.Table):
        out = _dataset(ctx, table)
        return Partial("ddl", inputs=[_dataset(ctx, like.this)], outputs=[out], objects=[out])
    return Partial("ddl", objects=[_dataset(ctx, table)])


def _copy_table(ctx: Context, kind: str, source: exp.Table, target: exp.Table) -> Partial:
    src, out = _dataset(ctx, source), _dataset(ctx, target)
    known = ctx.catalog.columns(ctx.parts(source))
    names = list(known) if known else ["*"]
    columns = [ColumnLineage(ColumnRef(out.name, n), (ColumnRef(src.name, n),), IDENTITY) for n in names]
    if known:
        ctx.catalog.add(ctx.parts(target), known)
    return Partial(kind, inputs=[src], outputs=[out], columns=columns)


def handle_cache(node: exp.Expr, ctx: Context) -> Partial:
    if isinstance(node.this, exp.Table) and node.expression is not None:
        return _write_query(ctx, "create_table_as", node.this, [], node.expression)
    return Partial("other")


def handle_update(node: exp.Expr, ctx: Context) -> Partial:
    target = node.this
    if not isinstance(target, exp.Table):
        return Partial("update")
    assignments = [e for e in node.expressions if isinstance(e, exp.EQ)]
    names = [a.this.name for a in assignments]
    select = exp.Select(expressions=[exp.alias_(a.expression, f"__c{i}", copy=False) for i, a in enumerate(assignments)])
    source = target.copy()
    joins = source.args.pop("joins", None) or []
    select.set("from_", exp.From(this=source))
    from_ = node.args.get("from_")
    extra = [exp.Join(this=from_.this)] if from_ is not None else []
    extra += [exp.Join(this=j.this) for j in (from_.args.get("joins") or [])] if from_ is not None else []
    select.set("joins", list(joins) + extra)
    if node.args.get("where") is not None:
        select.set("where", node.args["where"])
    partial = _write_query(ctx, "update", target, names, select)
    return _drop_target_unless_read(partial)


def _drop_target_unless_read(partial: Partial) -> Partial:
    """A write's target is an input only where its own columns feed values."""
    out = {o.name for o in partial.outputs}
    read = {s.dataset for c in partial.columns for s in c.sources}
    partial.inputs = [i for i in partial.inputs if i.name not in out or i.name in read]
    partial.indirect = {r for r in partial.indirect if r.source.dataset not in out}
    return partial


def handle_delete(node: exp.Expr, ctx: Context) -> Partial:
    target = node.this
    if not isinstance(target, exp.Table):
        return Partial("delete")
    select = exp.Select(expressions=[exp.Star()], from_=exp.From(this=target.copy()))
    select.set("joins", [exp.Join(this=t) for t in node.args.get("using") or []])
    if node.args.get("where") is not None:
        select.set("where", node.args["where"])
    trace = _traced(ctx, select)
    out = _dataset(ctx, target)
    partial = Partial("delete", inputs=_inputs(ctx, trace), outputs=[out], indirect=trace.indirect)
    return _drop_target_unless_read(partial)


def handle_merge(node: exp.Expr, ctx: Context) -> Partial:
    target, using = node.this, node.args.get("using")
    if not isinstance(target, exp.Table) or using is None:
        return Partial("merge")
    names: list[str] = []
    values: list[exp.Expr] = []
    conditions: list[exp.Expr] = []
    for when in node.args["whens"].expressions:
        then = when.args.get("then")
        if when.args.get("condition") is not None:
            conditions.append(when.args["condition"])
        if isinstance(then, exp.Update):
            for eq in then.expressions:
                names.append(eq.this.name)
                values.append(eq.expression)
        elif isinstance(then, exp.Insert) and isinstance(then.expression, exp.Tuple):
            columns = then.this.expressions if isinstance(then.this, exp.Tuple) else []
            if not columns:
                known = ctx.catalog.columns(ctx.parts(target.copy())) or {}
                columns = [exp.column(n) for n in known]
            for column, value in zip(columns, then.expression.expressions):
                names.append(column.name)
                values.append(value)
    select = exp.Select(expressions=[exp.alias_(v, f"__c{i}", copy=False) for i, v in enumerate(values)] or [exp.Star()])
    select.set("from_", exp.From(this=target.copy()))
    select.set("joins", [exp.Join(this=using, on=node.args["on"])])
    if conditions:
        select.set("where", exp.Where(this=exp.or_(*conditions, copy=False)))
    partial = _write_query(ctx, "merge", target, names, select)
    merged: dict[ColumnRef, ColumnLineage] = {}
    for col in partial.columns:
        prev = merged.get(col.target)
        if prev is None:
            merged[col.target] = col
        else:
            merged[col.target] = ColumnLineage(
                col.target,
                tuple(sorted(set(prev.sources) | set(col.sources))),
                max(prev.transform, col.transform, key=("IDENTITY", "TRANSFORMATION", "AGGREGATION").index),
                tuple(sorted(set(prev.indirect) | set(col.indirect))),
            )
    partial.columns = list(merged.values())
    return _drop_target_unless_read(partial)


def handle_multi_insert(node: exp.Expr, ctx: Context) -> Partial:
    source = node.args.get("source") or node.expression
    partial = Partial("insert")
    for conditional in node.expressions:
        insert = conditional.this
        table, names = _target_table(insert.this)
        if table is None:
            continue
        values = insert.expression
        row = values.expressions[0].expressions if isinstance(values, exp.Values) and values.expressions else []
        if row and source is not None:
            select = exp.Select(expressions=[v.copy() for v in row]).from_(
                exp.Subquery(this=source.copy(), alias=exp.TableAlias(this=exp.to_identifier("__src")))
            )
        elif source is not None:
            select = source.copy()
        else:
            continue
        one = _write_query(ctx, "insert", table, names, select)
        partial.outputs += [o for o in one.outputs if o not in partial.outputs]
        partial.inputs += [i for i in one.inputs if i not in partial.inputs]
        partial.columns += one.columns
        partial.indirect |= one.indirect
        partial.warnings += one.warnings
    return partial


def _location(node: exp.Expr, ctx: Context) -> DatasetRef | None:
    if isinstance(node, exp.Literal):
        return DatasetRef(node.name, "file")
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Var):
        name = node.this.name
        return DatasetRef(name, "stage" if name.startswith("@") else "file")
    if isinstance(node, exp.Table):
        return _dataset(ctx, node)
    return None


def handle_copy(node: exp.Expr, ctx: Context) -> Partial:
    this = node.this
    files = [f for f in (_location(f, ctx) if not isinstance(f, exp.Subquery) else None for f in node.args.get("files") or []) if f]
    queries = [f.this for f in node.args.get("files") or [] if isinstance(f, exp.Subquery)]
    partial = Partial("copy")
    if isinstance(this, exp.Subquery):
        queries.append(this.this)
        target = None
    else:
        target = _location(this, ctx)
    for query in queries:
        trace = _traced(ctx, query)
        partial.inputs += _inputs(ctx, trace)
    if node.args.get("kind"):  # COPY target FROM files
        partial.inputs = files + partial.inputs
        partial.outputs = [target] if target else []
    else:  # COPY table|query TO files
        partial.inputs = ([target] if target else []) + partial.inputs
        partial.outputs = files
    return partial


def handle_alter(node: exp.Expr, ctx: Context) -> Partial:
    table = node.this
    actions = node.args.get("actions") or []
    if not isinstance(table, exp.Table):
        return Partial("ddl")
    for action in actions:
        if isinstance(action, exp.AlterRename) and isinstance(action.this, exp.Table):
            new = action.this
            if not new.args.get("db") and table.args.get("db"):
                new.set("db", table.args["db"].copy())
            partial = _copy_table(ctx, "rename", table.copy(), new)
            ctx.catalog.drop(ctx.parts(table))
            return partial
        if isinstance(action, exp.SwapTable) and isinstance(action.this, exp.Table):
            there = _copy_table(ctx, "rename", table.copy(), action.this.copy())
            back = _copy_table(ctx, "rename", action.this.copy(), table.copy())
            return Partial("rename", inputs=there.inputs + back.inputs, outputs=there.outputs + back.outputs,
                           columns=there.columns + back.columns)
    return Partial("ddl", objects=[_dataset(ctx, table)])


def handle_drop(node: exp.Expr, ctx: Context) -> Partial:
    objects = []
    for table in [node.this] if isinstance(node.this, exp.Table) else node.args.get("tables") or []:
        if isinstance(table, exp.Table):
            objects.append(_dataset(ctx, table))
            ctx.catalog.drop(ctx.parts(table))
    kind_word = (node.args.get("kind") or "").upper()
    return Partial("drop" if kind_word in ("TABLE", "VIEW", "") else "ddl", objects=objects)


def handle_truncate(node: exp.Expr, ctx: Context) -> Partial:
    return Partial("truncate", objects=[_dataset(ctx, t) for t in node.expressions if isinstance(t, exp.Table)])


def handle_use(node: exp.Expr, ctx: Context) -> Partial:
    target = node.this
    kind = (node.args.get("kind").name if node.args.get("kind") else "").upper()
    if isinstance(target, exp.Table):
        if kind == "SCHEMA" or (not kind and not ctx.use_sets_database):
            ctx.schema = target.name
            if target.db:
                ctx.database = target.db
        elif kind in ("DATABASE", "CATALOG", ""):
            ctx.database = target.name
            ctx.schema = None if kind != "" or not ctx.use_sets_database else ctx.schema
    return Partial("session")


_SEARCH_PATH = re.compile(r"search_path\s*(?:TO|=)\s*(.+)$", re.IGNORECASE | re.DOTALL)
_SET_SCHEMA = re.compile(r"^\s*SCHEMA\s+(.+)$", re.IGNORECASE | re.DOTALL)
_UNLOAD = re.compile(r"^\s*\(\s*'((?:[^']|'')*)'\s*\)\s*TO\s*'([^']*)'", re.IGNORECASE | re.DOTALL)


def _set_schema(ctx: Context, text: str) -> None:
    for item in text.split(","):
        name = item.strip().strip("'\"")
        if name and name != "$user":
            ctx.schema = _normalize_name(name, ctx.dialect)
            return


def _normalize_name(name: str, dialect: str | None) -> str:
    return normalize_identifiers(exp.to_identifier(name), dialect=dialect).name


def handle_command(node: exp.Expr, ctx: Context) -> Partial:
    word = (node.name or "").upper()
    text = node.expression.name if isinstance(node.expression, exp.Literal) else (
        node.expression.sql() if isinstance(node.expression, exp.Expr) else str(node.expression or ""))
    if word == "SET":
        match = _SEARCH_PATH.search(text) or _SET_SCHEMA.search(text)
        if match:
            _set_schema(ctx, match.group(1))
        return Partial("session")
    if word == "UNLOAD":
        match = _UNLOAD.search(text)
        if match:
            query = sqlglot.parse_one(match.group(1).replace("''", "'"), read=ctx.dialect)
            trace = _traced(ctx, query)
            return Partial("copy", inputs=_inputs(ctx, trace), outputs=[DatasetRef(match.group(2), "file")])
    if word == "REPLACE" and text.upper().lstrip().startswith("INTO"):
        insert = sqlglot.parse_one("INSERT " + text, read=ctx.dialect)
        return handle_insert(insert, ctx)
    if word in SESSION_WORDS:
        return Partial("session")
    if word in OTHER_WORDS:
        return Partial("other")
    raise NotUnderstood(f"unsupported statement starting with {word!r}")


class NotUnderstood(SqlglotError):
    """Raised for text that parses but is no statement we know."""


# Statements sqlglot keeps as opaque commands, known to carry no lineage.
SESSION_WORDS = frozenset({"SET", "RESET", "DISCARD", "DEALLOCATE", "LISTEN", "UNLISTEN", "NOTIFY", "SAVEPOINT",
                           "RELEASE", "DECLARE", "ALTER SESSION", "START", "END", "ABORT", "PREPARE"})
OTHER_WORDS = frozenset({"VACUUM", "CALL", "SHOW", "EXPLAIN", "REFRESH", "EXECUTE", "EXEC", "LOCK", "UNLOCK",
                         "GRANT", "REVOKE", "CHECKPOINT", "CLUSTER", "REINDEX", "FETCH", "CLOSE", "MOVE", "DESCRIBE",
                         "DESC", "LIST", "LS", "PUT", "GET", "REMOVE", "RM", "UNDROP", "MSCK", "OPTIMIZE", "ZORDER",
                         "RAISE", "RETURN", "IF", "WHILE", "LOOP", "FOR", "PRINT", "ASSERT", "LET", "DO", "PERFORM",
                         "EXCEPTION", "GO", "OPEN", "BREAK", "CONTINUE", "LEAVE", "ITERATE", "REPEAT", "CASE",
                         "CREATE", "ALTER", "DROP", "COMMENT", "ANALYZE", "LOAD", "EXPORT", "IMPORT", "BACKUP", "RESTORE",
                         "USE", "KILL", "WAITFOR", "TRUNCATE", "BEGIN", "COMMIT", "ROLLBACK", "REFRESH", "INVALIDATE",
                         "COMPUTE", "ADD", "UNCACHE", "CLEAR", "UNSET", "ATTACH", "DETACH", "INSTALL", "PRAGMA",
                         "SUMMARIZE", "PIVOT", "UNPIVOT", "COPY", "UNLOAD", "REPLACE", "HANDLER", "FLUSH", "PURGE",
                         "RENAME", "CHECK", "CHECKSUM", "REPAIR", "SIGNAL", "RESIGNAL", "GET DIAGNOSTICS", "SETUSER"})


def handle_fragment(node: exp.Expr, ctx: Context) -> Partial:
    """A bare expression at statement level: a few real commands look like one."""
    word = (node.sql(ctx.dialect).split(" ", 1)[0] if node else "").upper()
    if word in SESSION_WORDS or word in OTHER_WORDS:
        return Partial("session" if word in SESSION_WORDS else "other")
    raise NotUnderstood(f"not a SQL statement (starts with {word!r})")


def handle_set(node: exp.Expr, ctx: Context) -> Partial:
    for item in node.expressions:
        inner = item.this if isinstance(item, exp.SetItem) else item
        if isinstance(inner, exp.EQ) and inner.this.name.lower() == "search_path":
            value = inner.expression
            names = [v.name for v in (value.expressions if isinstance(value, exp.Tuple) else [value])]
            _set_schema(ctx, ",".join(names))
    return Partial("session")


HANDLERS: dict[type, Handler] = {
    exp.Select: handle_select,
    exp.Union: handle_select,
    exp.Intersect: handle_select,
    exp.Except: handle_select,
    exp.Insert: handle_insert,
    exp.Create: handle_create,
    exp.Cache: handle_cache,
    exp.Update: handle_update,
    exp.Delete: handle_delete,
    exp.Merge: handle_merge,
    exp.MultitableInserts: handle_multi_insert,
    exp.Copy: handle_copy,
    exp.Alter: handle_alter,
    exp.Drop: handle_drop,
    exp.TruncateTable: handle_truncate,
    exp.Use: handle_use,
    exp.Set: handle_set,
    exp.Command: handle_command,
    exp.Alias: handle_fragment,
    exp.Column: handle_fragment,
    exp.Identifier: handle_fragment,
    exp.Literal: handle_fragment,
    exp.Transaction: lambda node, ctx: Partial("session"),
    exp.Commit: lambda node, ctx: Partial("session"),
    exp.Rollback: lambda node, ctx: Partial("session"),
}


def analyse(
    node: exp.Expr, ctx: Context, index: int, sql: str, tokens: list | None = None, base: str | None = None
) -> StatementLineage:
    """Lineage of one parsed statement; updates ``ctx`` for the ones after it."""
    ctx.tokens, ctx.text = tokens, base if base is not None else sql
    node = normalize_identifiers(node, dialect=ctx.dialect)
    if isinstance(node, exp.Subquery):
        node = node.unnest()
    handler = HANDLERS.get(type(node))
    partial = handler(node, ctx) if handler else Partial("other")
    if partial.kind == "select" and isinstance(node, exp.Select) and node.args.get("with_") is None and not partial.inputs:
        pass
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
    )
