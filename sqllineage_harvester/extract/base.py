"""What every statement handler shares: the script context, the partial result,
naming of datasets and projections, and "a query whose columns land in a table".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import TokenType

from ..model import ColumnLineage, ColumnRef, DatasetRef, IndirectRef
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from .glot import dialect_of
from .nested import unnest_collections
from .generators import GENERATOR_TYPES, expand_generators, is_generator
from .table_functions import named_tables, names_table
from .variables import Variables
from .catalog import NO_DB, NO_SCHEMA, Catalog, table_parts
from .columns import (
    PREPASS_KINDS, QueryTrace, Trace, database_only_qualifies, default_table, file_path, is_location, qualify_query, table_name, tables_only,
    trace_query, per_target,
)

@dataclass
class Context:
    """What statements of one script share, in order."""

    dialect: str | None
    catalog: Catalog
    database: str | None = None
    schema: str | None = None
    search_path: tuple[str, ...] = ()  # schemas after ``schema`` where a bare name is looked for
    temp_tables: set[str] = field(default_factory=set)
    use_sets_database: bool = False
    tokens: list | None = None  # the current statement's tokens, for original text
    text: str = ""  # the text the tokens' offsets refer to
    max_bytes: int = 1_000_000
    columns: bool = True  # False: table-level only (no qualify, no column walk)
    select_columns: bool = True  # False: plain SELECTs at table level even when columns is True
    ml_functions: dict[str, str] = field(default_factory=dict)  # a prediction function -> its model (Redshift ML)
    variables: Variables = field(default_factory=Variables)  # script / routine variables in scope (variables.py)
    # whether the script may hold a /* sqlglot.meta case_sensitive */ comment (glot.normalize_names)
    meta_comments: bool = True
    # the nodes (PREPASS_WALK) of the walk that normalized a plain SELECT, which is not changed
    # until handle_select hands them to ``traced``: (the query, its nodes)
    walk: tuple[exp.Expr, list[exp.Expr]] | None = None

    def take_walk(self, node: exp.Expr) -> list[exp.Expr] | None:
        """The nodes of the ``walk`` of ``node``, once; None when the walk was of another node."""
        walk, self.walk = self.walk, None
        return walk[1] if walk is not None and walk[0] is node else None

    def qualify(self, table: exp.Table) -> str:
        """Display name of a target table, with the session's defaults."""
        default_table(table, self.database, self.schema,
                      NO_SCHEMA if database_only_qualifies(self.dialect) else None)
        return table_name(table)

    def parts(self, table: exp.Table) -> tuple[str, str, str]:
        self.qualify(table)
        return table_parts(table)

    @property
    def schemas(self) -> str | None:
        """The default schema with the rest of the search path, as a session's defaults keep it."""
        return ",".join((self.schema, *self.search_path)) if self.schema and self.search_path else self.schema

    def set_schemas(self, schemas: str | None) -> None:
        names = [s for s in (schemas or "").split(",") if s]
        self.schema, self.search_path = (names[0], tuple(names[1:])) if names else (None, ())

    def find_on_path(self, node: exp.Expr) -> None:
        """Bare table names the catalog knows only in a later schema of the search path
        (``SET search_path = stg, raw`` then ``FROM orders``, orders being raw's) take that schema."""
        if not self.search_path or not self.catalog:
            return
        ctes = {c.alias_or_name for c in node.find_all(exp.CTE)}
        database = self.database or NO_DB
        for table in node.find_all(exp.Table):
            if table.args.get("db") or not isinstance(table.this, exp.Identifier) or table.name in ctes:
                continue
            name = table.this.name if table.this.quoted else normalize_identifiers(
                exp.to_identifier(table.name), dialect=dialect_of(self.dialect)).name
            if self.catalog.columns((database, self.schema or NO_SCHEMA, name)) is not None:
                continue
            for schema in self.search_path:
                if self.catalog.columns((database, schema, name)) is not None:
                    table.set("db", exp.to_identifier(schema))
                    break


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
    settings: tuple[tuple[str, str], ...] = ()  # a trained model's hyperparameters (extract/ml.py)


# -- helpers ----------------------------------------------------------------
# Spark SQL reads files as tables: SELECT * FROM parquet.`s3://bucket/path/`.


# BigQuery ML functions whose first argument is a MODEL, not a table.
MODEL_FUNCTIONS = frozenset({"Predict", "GenerateEmbedding", "GenerateText", "Forecast", "MLForecast", "Evaluate", "Explain"})


def dataset(ctx: Context, table: exp.Table, type_: str = "table") -> DatasetRef:
    if file_path(table):
        return DatasetRef(table.name, "file")
    if is_location(table):
        return DatasetRef(table.name, "stage" if table.name.startswith("@") else "file")
    if type_ == "table" and table.arg_key == "this" and type(table.parent).__name__ in MODEL_FUNCTIONS:
        type_ = "model"
    name = ctx.qualify(table)
    if (name in ctx.temp_tables or isinstance(table.this, exp.Parameter)) and type_ in ("table", "view"):
        type_ = "temp_" + type_  # a temp table, or T-SQL's table variable @t
    return DatasetRef(name, type_)


def name_copy(table: exp.Table) -> exp.Table:
    """A new table node naming what ``table`` names (its parts, their quoting and temp marks) and
    holding nothing else: all that ``dataset`` and ``Context.parts`` read, for them to qualify without
    changing ``table``. ``copy()`` would copy its alias, joins and hints too, and each node's position."""
    parts = {}
    for key in ("this", "db", "catalog"):
        part = table.args.get(key)
        if part is None:
            continue
        if type(part) is not exp.Identifier:
            return table.copy()
        parts[key] = exp.Identifier(**part.args)
    return exp.Table(**parts)


def inputs_of(ctx: Context, trace: QueryTrace, exclude: exp.Table | None = None) -> list[DatasetRef]:
    seen = []
    for table in trace.tables:
        if table is exclude:
            continue
        ref = dataset(ctx, table)
        if ref not in seen:
            seen.append(ref)
    return seen


def target_table(node: exp.Expr | None) -> tuple[exp.Table | None, list[str]]:
    """The table a write lands in, and its explicit column list if any."""
    if isinstance(node, exp.Schema):
        names = [c.name for c in node.expressions if isinstance(c, (exp.Identifier, exp.Column, exp.ColumnDef))]
        table = node.this if isinstance(node.this, exp.Table) else None
        return table, names
    if isinstance(node, exp.Table):
        return node, []
    return None, []


def traced(ctx: Context, query: exp.Expr, walked: list[exp.Expr] | None = None) -> QueryTrace:
    """Lineage of a query. ``walked``: the ``PREPASS_WALK`` nodes of the unchanged ``query``, in
    walk order, from a walk made already (``Context.take_walk``)."""
    def columns_of(table: exp.Table) -> Mapping[str, str] | None:
        if not ctx.catalog.may_know(table.name):  # the lookup's answer, without a qualified copy to ask by
            return None
        return ctx.catalog.columns(ctx.parts(name_copy(table)))

    walked = _collections_and_generators(query, columns_of, ctx.catalog.may_know, walked, dialect_of(ctx.dialect))
    if not ctx.columns:
        return tables_only(query)
    warnings: list[str] = []
    qualified = qualify_query(query, ctx.catalog, ctx.dialect, warnings, ctx.database, ctx.schema, walked)
    trace = trace_query(qualified, ctx.catalog, ctx.dialect)
    trace.warnings[:0] = warnings
    return trace


# What the pre-passes of a query look at: one walk finds them all.
PREPASS_WALK = (*PREPASS_KINDS, *GENERATOR_TYPES)


def _collections_and_generators(query: exp.Expr, columns_of: Callable[[exp.Table], Mapping[str, str] | None],
                                may_know: Callable[[str], bool], walked: list[exp.Expr] | None = None,
                                glot: Dialect | None = None) -> list[exp.Expr] | None:
    """The pre-passes for Impala's ``FROM t, t.arr`` (t's column, not a table) and select-list
    generators (``explode(m) AS (k, v)``: two columns), from one walk of the query (``walked``:
    its ``PREPASS_WALK`` nodes, when a walk found them already). Most queries have no generator:
    the generator pass, two more walks, runs only when the walk met one. The walk's nodes when
    neither pass changed the query, for ``qualify_query`` not to walk it again; else None."""
    found = list(query.find_all(*PREPASS_WALK)) if walked is None else walked
    changed = unnest_collections(query, columns_of, [n for n in found if isinstance(n, exp.Select)], may_know)
    if any(names_table(n) for n in found):  # table_changes('db.t', 2): the table it names
        changed = named_tables(found, glot) or changed
    if any(is_generator(n) for n in found):  # a collection rewritten is no generator: the walk still tells
        expand_generators(query, columns_of)
        changed = True
    return None if changed else found


def write_query(
    ctx: Context,
    kind: str,
    target: exp.Table,
    names: list[str],
    query: exp.Expr,
    target_type: str = "table",
    reads_target: exp.Table | None = None,
    fill: Callable[[list[str]], list[str]] | None = None,
) -> Partial:
    """A query whose output columns land in ``target`` (by ``names`` or position).

    ``fill`` names the targets from the query's output names (``*`` for an unexpanded star)
    when there are no ``names``: a PARTITION clause without a catalog.

    ``reads_target`` is the node standing for the target inside a synthetic
    query (UPDATE, MERGE): the target counts as an input only where its own
    columns feed a written value.
    """
    out = dataset(ctx, target, target_type)
    partial = Partial(kind, outputs=[out])
    if isinstance(query, exp.Values) or query is None:
        return partial
    if not names:
        name_projections(query, ctx, written=True)
    trace = traced(ctx, query)
    partial.inputs = inputs_of(ctx, trace, exclude=reads_target)
    partial.indirect = trace.indirect
    partial.warnings = trace.warnings
    # A table the statement creates takes the query's names; an existing one (INSERT without a
    # column list) its own columns, by position, where the catalog knows them.
    creates = kind in ("create_table_as", "create_view", "select_into", "train")
    outputs = [n for n, _ in trace.outputs]
    target_names = (names or (fill(outputs) if fill else None)
                    or (None if creates else catalog_names(ctx, target, len(trace.outputs))) or outputs)
    placed, unplaced = by_position(target_names, trace.outputs)
    # a column written from no column (count(*), now(), 'x') is still written: FILTER inputs reach it
    merged = per_target(placed)
    partial.columns = [lineage(ColumnRef(out.name, name), source) for name, source in merged.items()]
    if unplaced:
        partial.warnings.append(f"{', '.join(unplaced)} come from a * whose columns are unknown without a catalog: "
                                "each is read from all of them")
    elif len(names) and len(names) != len(trace.outputs):
        partial.warnings.append(f"{len(names)} target columns but the query yields {len(trace.outputs)}")
    if creates:
        remember(ctx, target, target_names if "*" not in target_names else [])
    if reads_target is not None:
        partial.indirect = {r for r in partial.indirect if r.source.dataset != out.name}
        if any(s.dataset == out.name for c in partial.columns for s in c.sources) and out not in partial.inputs:
            partial.inputs.append(out)
    return partial


def by_position(names: list[str], outputs: list[tuple[str, Trace]]) -> tuple[list[tuple[str, Trace]], list[str]]:
    """Target names paired with a query's outputs by position, and the names only a ``*`` can fill.

    An unexpanded ``*`` stands for any number of columns: the names before it take the items
    before it, the names after it the items after it (counted from the end), and each name in
    between is read from everything the stars stand for.
    """
    stars = [i for i, (name, _) in enumerate(outputs) if name == "*"]
    values = [trace for _, trace in outputs]
    if not stars or len(names) == len(outputs) or len(names) < len(outputs) - (stars[-1] - stars[0] + 1):
        return list(zip(names, values)), []
    first, after = stars[0], len(outputs) - stars[-1] - 1
    middle = Trace()
    for trace in values[first : stars[-1] + 1]:
        middle.absorb(trace)
    inner = names[first : len(names) - after]
    placed = list(zip(names[:first], values[:first])) + [(name, middle) for name in inner]
    return placed + list(zip(names[len(names) - after :], values[len(values) - after :])), inner


def catalog_names(ctx: Context, target: exp.Table, count: int) -> list[str]:
    known = ctx.catalog.columns(ctx.parts(target))
    if known and len(known) == count:
        return list(known)
    return []


def remember(ctx: Context, target: exp.Table, names: list[str]) -> None:
    parts = ctx.parts(target)
    if names:
        ctx.catalog.drop(parts)
        ctx.catalog.add(parts, {n: "unknown" for n in names})


def lineage(target: ColumnRef, trace: Trace) -> ColumnLineage:
    return ColumnLineage(target, tuple(sorted(trace.sources)), trace.transform, tuple(sorted(trace.indirect)),
                         tuple(sorted(trace.masked)))


def is_temporary(node: exp.Expr) -> bool:
    props = node.args.get("properties")
    if props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions):
        return True
    table = node.find(exp.Table)
    return bool(table and table.this and (table.this.args.get("temporary") or table.this.args.get("global_")))


_STOP = {TokenType.FROM, TokenType.INTO, TokenType.WHERE, TokenType.GROUP_BY, TokenType.ORDER_BY, TokenType.LIMIT,
         TokenType.UNION, TokenType.EXCEPT, TokenType.INTERSECT, TokenType.HAVING, TokenType.WINDOW, TokenType.QUALIFY}
_OPEN = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE}
_CLOSE = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE}


def projection_texts(tokens: list | None, sql: str, nth: int = 0) -> list[str]:
    """The select list of the outermost SELECT (the ``nth`` of them: a multi-insert's branches),
    as written, one text per item."""
    if not tokens:
        return []
    depth, best, starts = 0, None, []
    for i, token in enumerate(tokens):
        if token.token_type in _OPEN:
            depth += 1
        elif token.token_type in _CLOSE:
            depth -= 1
        elif token.token_type == TokenType.SELECT and (best is None or depth <= best):
            starts = starts + [i] if depth == best else [i]
            best = depth
    if len(starts) <= nth:
        return []
    start = starts[nth]
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


# How a SQL language names a query's unnamed item (an expression with no alias) in the table or
# view a write creates: by the item's position. Elsewhere (Spark, Databricks, ...) by its text.
UNNAMED_COLUMN = {"hive": "_c{}", "trino": "_col{}", "presto": "_col{}", "athena": "_col{}"}


def name_projections(query: exp.Expr, ctx: Context, written: bool = False, nth: int = 0) -> None:
    """Name unaliased computed columns: by the text as written (``max(col1)``; ``nth``: which
    outermost SELECT of the statement the query is), or, for a ``written`` query in a language
    that numbers them, as its engine does (Hive ``_c1``)."""
    select = query
    while isinstance(select, exp.SetOperation):
        select = select.this
    if not isinstance(select, exp.Select):
        return
    numbered = UNNAMED_COLUMN.get(ctx.dialect or "") if written else None
    if numbered is not None:
        for position, item in enumerate(select.expressions):
            if not isinstance(item, (exp.Alias, exp.Column, exp.Star, exp.Dot, exp.Aliases)) and not is_generator(item):
                name = exp.to_identifier(numbered.format(position), quoted=True)
                item.replace(exp.alias_(item.copy(), name, copy=False))
        return
    texts = projection_texts(ctx.tokens, ctx.text, nth)
    if len(texts) != len(select.expressions):
        return
    for text, item in zip(texts, select.expressions):
        if isinstance(item, (exp.Alias, exp.Column, exp.Star, exp.Aliases)) or is_generator(item) or not text:
            continue
        lowered = text.lower()
        if item.output_name and not lowered.startswith(("cast", "try_cast", "safe_cast")) \
                and not _named_by_literal(item):
            continue
        name = text if ("'" in text or '"' in text) else lowered
        alias = exp.to_identifier(" ".join(name.split()), quoted=True)
        item.replace(exp.alias_(item.copy(), alias, copy=False))


def _named_by_literal(item: exp.Expr) -> bool:
    """Whether sqlglot names ``item`` after a literal's value ('secret', 'x'::text, (42)): such a
    name is data, not a column, so the item is named by its text, which redaction can see."""
    name = item.output_name
    return any(literal.name == name for literal in item.find_all(exp.Literal))


Handler = Callable[[exp.Expr, Context], Partial]
