"""Column-level lineage of one query: one qualify, one walk of its scopes.

``trace_query`` returns, for each output column of a SELECT / set operation,
the base-table columns it is computed from (direct lineage, with a transform
type) and the columns that influence it indirectly (joins, filters, grouping,
sorting, windows, conditions). Results of a scope's projections are memoized,
so a CTE used ten times is walked once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope, find_all_in_scope
from sqlglot.dialects.dialect import Dialect
from sqlglot.schema import MappingSchema

from ..model import (
    AGGREGATION,
    CONDITIONAL,
    FILTER,
    GROUP_BY,
    IDENTITY,
    JOIN,
    SORT,
    TRANSFORMATION,
    WINDOW,
    ColumnRef,
    IndirectRef,
)
from .aggregates import aggregate_names, is_unknown_aggregate
from .glot import dialect_of
from .stars import changed_names, star_of, through_changes
from . import match as row_pattern
from .table_functions import fed_column, names_table, runs_elsewhere
from .pseudo import is_pseudo, is_sequence_value, pseudo_columns
from .windows import named_window_columns
from .reasons import plain
from .catalog import NO_DB, NO_SCHEMA, Catalog, display_name, is_placeholder, table_parts

_RANK = {IDENTITY: 0, TRANSFORMATION: 1, AGGREGATION: 2}
# Dialects whose WHERE may name a select item's alias (SELECT a * 2 AS dbl .. WHERE dbl > 10).
_WHERE_READS_ALIASES = frozenset({"snowflake", "duckdb"})

TableNamer = Callable[[exp.Table], str]


@dataclass
class Trace:
    """Where one value comes from."""

    sources: set[ColumnRef] = field(default_factory=set)
    transform: str = IDENTITY
    indirect: set[IndirectRef] = field(default_factory=set)
    masked: set[ColumnRef] = field(default_factory=set)  # sources reached only through a masking function

    def absorb(self, other: Trace) -> None:
        clear = (self.sources - self.masked) | (other.sources - other.masked)
        self.masked = (self.masked | other.masked) - clear
        self.sources |= other.sources
        self.indirect |= other.indirect
        if other.sources and _RANK[other.transform] > _RANK[self.transform]:
            self.transform = other.transform

    def copy(self) -> Trace:
        return Trace(set(self.sources), self.transform, set(self.indirect), set(self.masked))

    def hidden(self) -> Trace:
        """This value once through a masking function: every source masked."""
        return Trace(set(self.sources), self.transform, set(self.indirect), set(self.sources))

    def add_value(self, other: Trace) -> None:
        """Another value written to the same column (a second MERGE branch, a repeated target):
        a value computed from no column ('open', now()) leaves the transform to the others."""
        if not self.sources and other.sources:
            self.transform = other.transform
        self.absorb(other)


def _bare(expression: exp.Expr) -> exp.Expr:
    """``expression`` without its alias and parentheses."""
    node = expression.unalias() if isinstance(expression, exp.Alias) else expression
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _passthrough(column: exp.Column, expression: exp.Expr) -> bool:
    """Whether ``expression`` is ``column`` itself, aliased or not."""
    return column is expression or (isinstance(expression, exp.Alias) and expression.this is column)


def per_target(values: list[tuple[Any, Trace]]) -> dict[Any, Trace]:
    """The values written to each target, merged; one written from no column is kept too."""
    merged: dict[Any, Trace] = {}
    for target, value in values:
        if target in merged:
            merged[target].add_value(value)
        else:
            merged[target] = value.copy()
    return merged


@dataclass
class QueryTrace:
    """Lineage of a whole query: its output columns and what it reads."""

    outputs: list[tuple[str, Trace]]
    tables: list[exp.Table]
    indirect: set[IndirectRef]
    warnings: list[str]


# Spark SQL reads files as tables: SELECT * FROM parquet.`s3://bucket/path/`.
FILE_FORMATS = frozenset({"parquet", "csv", "json", "orc", "avro", "delta", "text", "binaryfile", "iceberg", "hudi"})


def file_path(table: exp.Table) -> bool:
    """Whether the table is Spark's ``format.`path``` file source (its name is the path)."""
    catalog = table.catalog
    return (table.db.lower() in FILE_FORMATS and (not catalog or is_placeholder(catalog))
            and ("/" in table.name or ":" in table.name))


def is_location(table: exp.Table) -> bool:
    """A stage or path read as a table (Snowflake ``FROM @stage/path``): its name is the location."""
    return isinstance(table.this, exp.Var)


def session_local(table: exp.Table) -> bool:
    """A T-SQL #temp / ##global temp table or @table variable: it lives in no database or schema."""
    ident = table.this
    marked = isinstance(ident, exp.Identifier) and (ident.args.get("temporary") or ident.args.get("global_"))
    return bool(marked) or isinstance(ident, exp.Parameter) or table.name.startswith(("#", "@"))


def table_name(table: exp.Table) -> str:
    """The display name of a (qualified) table node; T-SQL temp tables keep their #, files are their path."""
    if file_path(table):
        return table.name
    names = _dotted(table.this) if isinstance(table.this, exp.Dot) else [table.name]  # T-SQL server.db.schema.table
    parts = [p for p in (table.catalog, table.db, *names) if p and not is_placeholder(p)]
    ident = table.this
    if isinstance(ident, exp.Parameter) and parts:  # T-SQL's table variable @t
        parts[-1] = "@" + parts[-1]
    if isinstance(ident, exp.Identifier) and parts:
        if ident.args.get("global_"):
            parts[-1] = "##" + parts[-1]
        elif ident.args.get("temporary"):
            parts[-1] = "#" + parts[-1]
    return ".".join(parts)


def _dotted(node: exp.Expr) -> list[str]:
    """The names of a dotted path, in order: a four-part name's last two parts (sqlglot keeps
    ``server.db.schema.table``'s ``schema.table`` as one Dot)."""
    if isinstance(node, exp.Dot):
        return _dotted(node.this) + _dotted(node.expression)
    return [node.name]


def _own_columns(node: exp.Expr | None) -> list[exp.Column]:
    if node is None:
        return []
    return [c for c in find_all_in_scope(node, exp.Column)]


# Functions sqlglot files under AggFunc that only look at neighbouring rows.
_ROW_FUNCTIONS = (exp.Lag, exp.Lead, exp.FirstValue, exp.LastValue, exp.NthValue)


def function_names(node: exp.Func) -> set[str]:
    """The names a function call goes by in sqlglot, lower case."""
    if isinstance(node, exp.Anonymous):
        return {node.name.lower()}
    return {n.lower() for n in type(node).sql_names()} | {node.key.lower()}


@lru_cache(maxsize=None)
def masking_kinds(dialect: str | None) -> tuple[type, ...]:
    """The sqlglot classes the dialect's masking functions parse into (BigQuery's SHA256(x) is a
    SHA2Digest, whatever name sqlglot gives it)."""
    import sqlglot

    kinds = set()
    from ..dialects import masking_functions  # here: dialects.py reads extract/ml.py's facts

    for name in masking_functions(dialect):
        try:
            found = sqlglot.parse_one(f"SELECT {name}(x)", read=dialect)
        except SqlglotError:
            continue
        item = found.selects[0] if isinstance(found, exp.Select) and found.selects else None
        if isinstance(item, exp.Func) and not isinstance(item, exp.Anonymous):
            kinds.add(type(item))
    return tuple(sorted(kinds, key=lambda k: k.__name__))


def masked_by(column: exp.Expr, top: exp.Expr, masking: frozenset[str], dialect: str | None = None) -> bool:
    """Whether ``column`` sits inside a call of a masking function within ``top``."""
    node = column.parent
    kinds = masking_kinds(dialect) if masking else ()
    while masking and node is not None:
        if isinstance(node, exp.Func) and (isinstance(node, kinds) or function_names(node) & masking):
            return True
        if node is top:
            return False
        node = node.parent
    return False


def classify(expression: exp.Expr, dialect: str | None = None) -> str:
    """IDENTITY for a bare column, AGGREGATION when aggregated, else TRANSFORMATION."""
    node = _bare(expression)
    if isinstance(node, (exp.Column, exp.Subquery)):
        return IDENTITY  # a scalar subquery is as strong as what it projects
    return AGGREGATION if aggregates(node, dialect) else TRANSFORMATION


def aggregates(node: exp.Expr, dialect: str | None) -> bool:
    """Whether ``node`` aggregates rows in its own scope: an aggregate sqlglot knows (not one of
    the window functions it files with them) or one of the dialect's it parses as a plain call."""
    names = aggregate_names(dialect)
    for found in find_all_in_scope(node, exp.AggFunc, exp.Anonymous):
        if isinstance(found, exp.Anonymous):
            if is_unknown_aggregate(found, names):
                return True
        elif not isinstance(found, _ROW_FUNCTIONS):
            return True
    return False


class _Walker:
    def __init__(self, root: Scope, catalog: Catalog, warnings: list[str],
                 masking: frozenset[str] = frozenset(), dialect: str | None = None) -> None:
        self.root = root
        self.masking, self.dialect = masking, dialect
        self.pseudo = pseudo_columns(dialect)
        self.catalog = catalog
        self.warnings = warnings
        self.memo: dict[tuple[int, str], Trace] = {}
        self.pivot_memo: dict[tuple[int, str], dict[str, tuple[str, exp.Pivot]]] = {}
        self.position_memo: dict[int, list[tuple[str, exp.Expr]]] = {}
        self.scopes = list(root.traverse())
        self.scope_of: dict[int, Scope] = {id(scope.expression): scope for scope in self.scopes}
        self.names: dict[int, str] = {}  # table_name of each table node (the tree is not changed)
        # _child_selects of every node, from one walk of the tree (the walker does not change it): a
        # subquery belongs to each node from its parent up to the first query above it, in walk order
        self.children: dict[int, list[exp.Expr]] = {}
        for sub in root.expression.find_all(exp.Select, exp.SetOperation):
            parent = sub.parent
            while parent is not None:
                self.children.setdefault(id(parent), []).append(sub)
                if isinstance(parent, (exp.Select, exp.SetOperation)):
                    break
                parent = parent.parent

    def child_selects(self, node: exp.Expr) -> list[exp.Expr]:
        """``_child_selects(node)``, looked up."""
        return self.children.get(id(node), [])

    # -- projections -------------------------------------------------------
    def output_names(self, scope: Scope) -> list[str]:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            return self.output_names(scope.set_operation_scopes[0])
        if isinstance(expression, exp.Select):
            names = [s.alias_or_name if not isinstance(s, exp.Star) else "*" for s in expression.selects]
            if "*" in names:  # * REPLACE (.. AS c), * RENAME (.. AS c) name c themselves
                names = [n for n, _ in self.positions(scope)]
                for star in [s for s in expression.selects if _is_star(s)]:
                    names += [n for n in changed_names(star) if n not in names]
                pattern = row_pattern.match_of(expression)
                if pattern is not None:  # * over MATCH_RECOGNIZE: its partition and measures
                    names = _match_star_names(names, pattern)
            return names
        inner = [s for s in scope.sources.values() if isinstance(s, Scope) and isinstance(s.expression, exp.Select)]
        if len(inner) == 1:
            return self.output_names(inner[0])
        alias = expression.args.get("alias")
        if isinstance(alias, exp.TableAlias) and alias.columns:
            return [c.name for c in alias.columns]
        return [alias.name] if isinstance(alias, exp.TableAlias) and alias.name else []

    def projection(self, scope: Scope, name: str) -> Trace:
        key = (id(scope), name)
        cached = self.memo.get(key)
        if cached is not None:
            return cached
        self.memo[key] = Trace()  # breaks cycles (recursive CTEs)
        trace = self._projection(scope, name)
        self.memo[key] = trace
        return trace

    def _projection(self, scope: Scope, name: str) -> Trace:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            names = self.output_names(scope)
            index = names.index(name) if name in names else -1
            return self.branches(scope, index, name)
        if not isinstance(expression, exp.Select):
            return self._udtf_column(scope, name)
        for select in expression.selects:
            if select.alias_or_name == name and not _is_star(select):
                return self.value(scope, select)
        # Not projected by name: pass through a star (each column of a subquery it stands for).
        stars = [s for s in expression.selects if _is_star(s)]
        for star in stars:
            inner = self.star_scope(scope, star)
            if inner is not None and name in self.output_names(inner):
                return self.projection(inner, name)
        if stars:
            return self.through_star(scope, stars[0], name)
        return Trace()

    def positions(self, scope: Scope) -> list[tuple[str, exp.Expr]]:
        """A SELECT's output columns in order, each with the item that makes it: a star over a
        subquery or CTE with columns of its own (``SELECT * FROM final``, final being ``SELECT *,
        amount * 2 AS dbl FROM src``) is each of the subquery's columns, its own ``*`` one of them."""
        found = self.position_memo.get(id(scope))
        if found is None:
            found = []
            for item in scope.expression.selects:
                inner = self.star_scope(scope, item) if _is_star(item) else None
                if inner is not None:
                    found += [(n, item) for n in self.output_names(inner)]
                else:
                    found.append(("*" if isinstance(item, exp.Star) else item.alias_or_name, item))
            self.position_memo[id(scope)] = found
        return found

    def star_scope(self, scope: Scope, star: exp.Expr) -> Scope | None:
        """The one subquery or CTE a plain ``*`` / ``s.*`` item is the columns of, when they are
        known in part at least; None for a star over tables, several sources, or one that changes
        columns (EXCEPT, REPLACE, ..: see ``through_star``)."""
        qualifier = star.table if isinstance(star, exp.Column) else ""
        names = [qualifier] if qualifier else list(scope.selected_sources)
        if len(names) != 1 or star_of(star) is not None or self.pivots(scope) or row_pattern.match_of(scope.expression):
            return None
        source = scope.sources.get(names[0])
        if not isinstance(source, Scope) or not isinstance(source.expression, (exp.Select, exp.SetOperation)):
            return None
        source = self.walked_scope(source)
        return source if source is not scope and any(n != "*" for n in self.output_names(source)) else None

    def by_position(self, scope: Scope, index: int, name: str) -> Trace:
        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            return self.branches(scope, index, name)
        positions = self.positions(scope) if isinstance(expression, exp.Select) else []
        if 0 <= index < len(positions):
            own, select = positions[index]
            if _is_star(select):
                inner = self.star_scope(scope, select)
                return self.projection(inner, own) if inner is not None else self.through_star(scope, select, name)
            key = (id(scope), f"#{index}")  # by position: two items may share a name
            if key not in self.memo:
                self.memo[key] = Trace()
                self.memo[key] = self.value(scope, select)
            return self.memo[key]
        return self.projection(scope, name)

    def branches(self, scope: Scope, index: int, name: str) -> Trace:
        """A set operation's column: each branch's at its place, or of its name under UNION [ALL]
        BY NAME / CORRESPONDING (Snowflake, Databricks, DuckDB), whatever the branch's order."""
        by_name = scope.expression.args.get("by_name")
        trace = Trace()
        for branch in scope.set_operation_scopes:
            trace.absorb(self.projection(branch, name) if by_name else self.by_position(branch, index, name))
        return trace

    def through_star(self, scope: Scope, star: exp.Expr, name: str) -> Trace:
        pattern = row_pattern.match_of(scope.expression)
        if pattern is not None and name in row_pattern.measures(pattern):
            return self.value(scope, row_pattern.measures(pattern)[name])
        changed = through_changes(star, name)
        if changed is not None:
            how, node = changed
            if how == "value":
                return self.value(scope, node)
            if how == "none" or not isinstance(node, exp.Column):
                return Trace()
            name = node.name  # RENAME (old AS name)
        qualifier = star.table if isinstance(star, exp.Column) else ""
        names = [qualifier] if qualifier else list(scope.selected_sources)
        trace = Trace()
        for source_name in names:
            trace.absorb(self.source_column(scope, source_name, name))
        if name == "*":
            self.warn_changed_wildcard(star, trace)
        return trace

    def _udtf_column(self, scope: Scope, name: str) -> Trace:
        # LATERAL (SELECT ...) / CROSS APPLY: the subquery inside answers.
        inner = [s for s in scope.sources.values() if isinstance(s, Scope) and isinstance(s.expression, exp.Select)]
        if len(inner) == 1:
            return self.projection(inner[0], name)
        # LATERAL VIEW explode(x), UNNEST(x), FLATTEN(input => x): every column it
        # yields is computed from the columns it is given.
        call = scope.expression.this if isinstance(scope.expression, exp.TableFromRows) else None
        if isinstance(call, exp.Anonymous) and call.name.lower() == "result_scan":
            self.warnings.append("RESULT_SCAN reads an earlier query's result: where its columns come from is not known")
        trace = Trace(transform=TRANSFORMATION)
        for column in _own_columns(scope.expression):
            trace.absorb(self.column(self.argument_scope(scope, column), column, through=True))
        trace.transform = TRANSFORMATION
        return trace

    @staticmethod
    def argument_scope(scope: Scope, column: exp.Column) -> Scope:
        """Where a column given to UNNEST / FLATTEN / explode is looked up: the query it is in,
        or, when the call is that query's one source and the column unqualified, the query around
        it (``(SELECT value FROM UNNEST(event_params) WHERE key = 'k')``: the outer row's array,
        not a column of the UNNEST itself)."""
        outer = scope.parent or scope
        if column.table or outer.parent is None:
            return outer
        if all(source is scope for _, source in outer.selected_sources.values()):
            return outer.parent
        return outer

    # -- expressions ------------------------------------------------------
    def value(self, scope: Scope, expression: exp.Expr) -> Trace:
        """Direct sources of one projected expression, plus its own conditions."""
        trace = Trace(transform=classify(expression, self.dialect))
        if _is_star(expression):
            return self.star_trace(scope, expression)
        for star, names in _row_references(expression, scope):  # HASH(*), TO_JSON_STRING(t): whole rows
            found = self.whole_row(scope, names)
            role = _role(star, expression)
            if role is None:
                trace.absorb(found)
            else:
                trace.indirect |= {IndirectRef(ref, role) for ref in found.sources}
        for column in _own_columns(expression):
            role = _role(column, expression)
            if role is None:
                found = self.column(scope, column)
                trace.absorb(found.hidden() if masked_by(column, expression, self.masking, self.dialect) else found)
                if not found.sources and found.transform == AGGREGATION and _passthrough(column, expression):
                    trace.transform = AGGREGATION  # dt.c of (SELECT COUNT(*) AS c ...) dt: still a count
            else:
                for ref in self.column(scope, column).sources:
                    trace.indirect.add(IndirectRef(ref, role))
        if isinstance(scope.expression, exp.Select) and scope.expression.args.get("windows"):
            for column in named_window_columns(scope.expression, expression):  # OVER w
                trace.indirect |= {IndirectRef(ref, WINDOW) for ref in self.column(scope, column).sources}
        for sub in self.child_selects(expression):
            child = self.scope_of.get(id(sub))
            if child is None:
                continue
            role = _role(sub, expression)
            for out in self.output_names(child)[:1]:
                found = self.projection(child, out)
                if role is None:
                    trace.absorb(found)
                    if not found.sources and found.transform == AGGREGATION and _bare(expression) is sub.parent:
                        trace.transform = AGGREGATION  # (SELECT COUNT(*) FROM ..): a count, of no column
                else:
                    trace.indirect |= {IndirectRef(ref, role) for ref in found.sources}
            trace.indirect |= self.scope_indirect(child)
        return trace

    def star_trace(self, scope: Scope, star: exp.Expr) -> Trace:
        qualifier = star.table if isinstance(star, exp.Column) else ""
        names = [qualifier] if qualifier else list(scope.selected_sources)
        trace = Trace()
        for source_name in names:
            trace.absorb(self.source_column(scope, source_name, "*"))
        self.warn_changed_wildcard(star, trace)
        return trace

    def warn_changed_wildcard(self, star: exp.Expr, trace: Trace) -> None:
        """A wildcard edge of ``* EXCEPT (..)`` claims the columns it leaves out: say so."""
        if star_of(star) is not None and any(ref.column == "*" for ref in trace.sources):
            self.warnings.append("* EXCEPT / EXCLUDE / REPLACE / RENAME over columns not known: its wildcard edge "
                                 "stands for every column, those it leaves out or changes too")

    def column(self, scope: Scope, column: exp.Column, through: bool = False) -> Trace:
        if isinstance(column.this, exp.Star):
            return self.star_trace(scope, column)
        if (self.pseudo or type(column.parent) is exp.NextValueFor) and is_pseudo(column, self.pseudo):
            return Trace()
        pattern = scope.expression.args.get("match")  # MATCH_RECOGNIZE
        if pattern is not None:
            found = self.match_column(scope, pattern, column)
            if found is not None:
                return found
        name = column.name
        qualifier = column.table
        if not qualifier and self.is_whole_row(scope, name):
            return self.whole_row(scope, [name])
        if not qualifier:
            qualifier = self.resolve(scope, name)
            if qualifier is None:
                return Trace()
        search: Scope | None = scope
        while search is not None:
            if qualifier in search.sources:
                return self.source_column(search, qualifier, name)
            pivoted = self.pivots(search).get(qualifier)
            if pivoted is not None:  # t PIVOT (...) AS p: p.col is a column of the pivot over t
                return self.source_column(search, pivoted[0], name)
            search = search.parent
        if is_sequence_value(column):
            return Trace()
        return self.field_path(scope, column)

    def match_column(self, scope: Scope, pattern: exp.MatchRecognize, column: exp.Column) -> Trace | None:
        """Over MATCH_RECOGNIZE: a measure's value, or the input column a pattern variable
        qualifies (``down.price``); None for a plain input column."""
        if column.table and column.table.lower() in row_pattern.pattern_variables(pattern):
            return self.column(scope, exp.column(column.name))
        measure = row_pattern.measures(pattern).get(column.name)
        if measure is not None and column.find_ancestor(exp.MatchRecognize) is None:
            return self.value(scope, measure)
        return None

    def is_whole_row(self, scope: Scope, name: str) -> bool:
        """``TO_JSON_STRING(t)``, ``SELECT t AS rec`` (BigQuery, Postgres): a bare name that is a
        table or subquery of the FROM clause, and no column of it the catalog knows, is its row."""
        source = scope.selected_sources.get(name)
        if source is None:
            return False
        node = source[1]
        if isinstance(node, exp.Table):
            if not node.name or isinstance(node.this, exp.Func):
                return False
            if name == node.name and not self.catalog.columns(_parts(node)):
                return False  # FROM t without an alias nor known columns: t may be a column of t
        elif not (isinstance(node, Scope) and isinstance(node.expression, (exp.Select, exp.SetOperation))):
            return False
        return not any(name in (self.known_columns(s) or ()) for _, s in scope.selected_sources.values())

    def whole_row(self, scope: Scope, names: list[str]) -> Trace:
        """A value made of whole rows of the named sources (``HASH(*)``, ``OBJECT_CONSTRUCT(*)``,
        ``TO_JSON_STRING(t)``): each one's known columns (catalog, subquery), else its ``*``."""
        trace = Trace(transform=TRANSFORMATION)
        for source_name in names:
            known = self.known_columns(scope.sources[source_name]) if source_name in scope.sources else None
            for name in known or ["*"]:
                trace.absorb(self.source_column(scope, source_name, name))
        trace.transform = TRANSFORMATION
        return trace

    def field_path(self, scope: Scope, column: exp.Column) -> Trace:
        """``widget.asset.id`` whose first part is no source: a path into a struct column, read as
        that column (``t.widget.asset.id``: column widget of t)."""
        parts = [p.name for p in column.parts]
        if len(parts) < 2:
            return Trace()
        if len(parts) >= 3 and parts[0] in scope.sources:
            trace = self.source_column(scope, parts[0], parts[1])
        else:
            owner = self.resolve(scope, parts[0]) if parts[0] not in scope.sources else None
            trace = self.source_column(scope, owner, parts[0]) if owner is not None else Trace()
        if trace.sources:  # a field of the column: computed from it
            trace = Trace(set(trace.sources), TRANSFORMATION, set(trace.indirect))
        return trace

    def resolve(self, scope: Scope, name: str) -> str | None:
        """Find which source of a scope an unqualified column belongs to."""
        sources = scope.selected_sources
        if len(sources) == 1:
            return next(iter(sources))
        owners = []
        for source_name, (_, source) in sources.items():
            if isinstance(source, Scope):
                if name in self.output_names(source):
                    owners.append(source_name)
            else:
                columns = self.catalog.columns(_parts(source)) if isinstance(source, exp.Table) else None
                if isinstance(source, exp.Table) and isinstance(source.this, exp.Func):
                    columns = _function_columns(source)
                if columns and name in columns:
                    owners.append(source_name)
        if len(owners) == 1:
            return owners[0]
        if not owners:
            # Only one source whose columns we do not know: the column must be its.
            unknown = [n for n, (_, s) in sources.items() if self._columns_unknown(s)]
            if len(unknown) == 1:
                return unknown[0]
        if scope.parent is not None and not sources:
            return self.resolve(scope.parent, name)
        wildcards = [n for n, (_, s) in sources.items() if isinstance(s, exp.Table) and s.name.endswith("*")]
        if name.lower() == "_table_suffix" and len(wildcards) == 1:  # the pseudo-column of a wildcard table
            return wildcards[0]
        self.warnings.append(f"could not tell which table column {name!r} comes from")
        return None

    def _columns_unknown(self, source: exp.Table | Scope) -> bool:
        if isinstance(source, Scope):  # a SELECT *, or a collection whose element type is unknown
            return source.expression.meta.get("open") or any(_is_star(s) for s in getattr(source.expression, "selects", []))
        if isinstance(source, exp.Table) and isinstance(source.this, exp.Func):
            return False  # a table function's columns are its alias's
        return isinstance(source, exp.Table) and not self.catalog.columns(_parts(source))

    def source_column(self, scope: Scope, source_name: str, name: str) -> Trace:
        pivoted = self.pivots(scope).get(source_name)
        if pivoted is not None:
            return self.pivot_column(scope, pivoted[0], pivoted[1], name)
        return self.unpivoted_column(scope, source_name, name)

    def pivots(self, scope: Scope) -> dict[str, tuple[str, exp.Pivot]]:
        """The scope's sources read through PIVOT / UNPIVOT, by source name and by the pivot's
        alias (qualify names the pivot's columns ``p.col``): (source name, pivot)."""
        key = (id(scope), "#pivots")
        found = self.pivot_memo.get(key)
        if found is None:
            found = self.pivot_memo[key] = {}
            for source_name, source in scope.sources.items():
                node = source.expression.parent if isinstance(source, Scope) else source
                pivots = node.args.get("pivots") if isinstance(node, (exp.Table, exp.Subquery)) else None
                if pivots:
                    pivot = pivots[0]
                    # FROM cte PIVOT (...): qualify files the pivot apart from the CTE it reads
                    under = node.alias_or_name if isinstance(node, exp.Table) else source_name
                    under = under if isinstance(scope.sources.get(under), Scope) else source_name
                    found[source_name] = (under, pivot)
                    if pivot.alias:
                        found[pivot.alias] = (under, pivot)
        return found

    def pivot_column(self, scope: Scope, source_name: str, pivot: exp.Pivot, name: str) -> Trace:
        """A column of ``source PIVOT (agg(v) FOR k IN (...))`` or ``UNPIVOT (v FOR k IN (a, b))``,
        traced to the columns of the source under it."""
        def base(column: str) -> Trace:
            return self.unpivoted_column(scope, source_name, column)

        if name == "*":
            kind = "UNPIVOT" if pivot.args.get("unpivot") else "PIVOT"
            self.warnings.append(f"{kind} whose columns are not known (its source's, or values not listed): left a '*'")
        if pivot.args.get("unpivot"):
            return _unpivot_column(pivot, name, base)
        if name == "*":  # the columns passed through (known, else a '*') and those the pivot makes
            used = _pivot_used(pivot)
            known = self.known_columns(scope.sources[source_name])
            trace = self.pivot_value(pivot, base)
            for passed in [c for c in known if c not in used] if known else ["*"]:
                trace.absorb(base(passed))
            return trace
        if self.pivot_makes(scope, source_name, pivot, name):
            return self.pivot_value(pivot, base)
        return base(name)  # a column the pivot groups by, passed through

    def pivot_value(self, pivot: exp.Pivot, base: Callable[[str], Trace]) -> Trace:
        """A column a PIVOT makes: its aggregations of the source's columns, the FOR key a
        CONDITIONAL (it picks the rows each column aggregates, as SUM(CASE WHEN k = ..) does)."""
        trace = Trace(transform=AGGREGATION)
        for aggregate in pivot.expressions:
            for column in aggregate.find_all(exp.Column):
                trace.absorb(base(column.name))
            trace.transform = max(trace.transform, classify(aggregate, self.dialect), key=_RANK.__getitem__)
        for key_column in _pivot_keys(pivot):
            trace.indirect |= {IndirectRef(ref, CONDITIONAL) for ref in _influences(base(key_column))}
        return trace

    def pivot_groups(self, scope: Scope) -> set[IndirectRef]:
        """A PIVOT groups by every column of its source it neither aggregates nor spreads: the
        source's known columns (catalog, or a subquery's select list), else those the query names."""
        found: set[IndirectRef] = set()
        pivots = {source_name: pivot for source_name, pivot in self.pivots(scope).values() if not pivot.args.get("unpivot")}
        for source_name, pivot in pivots.items():
            used = _pivot_used(pivot)
            names = set(self.known_columns(scope.sources[source_name]) or ())
            aliases = {alias for alias, (under, _) in self.pivots(scope).items() if under == source_name}
            names |= {c.name for c in find_all_in_scope(scope.expression, exp.Column)
                      if c.table in aliases and not isinstance(c.this, exp.Star)}
            for name in sorted(names - used):
                if self.pivot_makes(scope, source_name, pivot, name):
                    continue
                found |= {IndirectRef(ref, GROUP_BY) for ref in _influences(self.unpivoted_column(scope, source_name, name))}
        return found

    def pivot_makes(self, scope: Scope, source_name: str, pivot: exp.Pivot, name: str) -> bool:
        """Whether ``name`` is a column the PIVOT makes (not one of its source's, passed through).
        With its values not listed (``IN (ANY)``, ``IN (SELECT ..)``) only the source's known
        columns tell: a name not among them is made; none known, it is taken for the source's,
        with a warning."""
        if not _pivot_dynamic(pivot):
            return name in pivot_output_names(pivot)
        known = self.known_columns(scope.sources[source_name])
        if known is None:
            self.warnings.append(f"PIVOT over values not listed and columns not known: {name!r} taken for a column of its source")
            return False
        return name not in known

    def known_columns(self, source: exp.Table | Scope) -> list[str] | None:
        """A source's columns when known: the catalog's, or a subquery's select list without a star."""
        if isinstance(source, Scope):
            names = self.output_names(source)
            return None if "*" in names else names
        return list(self.catalog.columns(_parts(source)) or ()) or None

    def unpivoted_column(self, scope: Scope, source_name: str, name: str) -> Trace:
        """``source_column`` of the source itself (under any PIVOT / UNPIVOT on it)."""
        source = scope.sources.get(source_name)
        if isinstance(source, Scope):
            source = self.walked_scope(source)
            if name == "*":
                trace = Trace()
                for out in self.output_names(source):
                    trace.absorb(self.projection(source, out))
                return trace
            return self.projection(source, name)
        if isinstance(source, exp.Table):
            if isinstance(source.this, exp.Func):
                return self.function_column(source.this, name, scope, source_name)
            if not source.name:
                return Trace(transform=TRANSFORMATION)
            named = self.names.get(id(source))
            if named is None:
                named = self.names[id(source)] = table_name(source)
            return Trace({ColumnRef(named, name)})
        return Trace()

    def walked_scope(self, source: Scope) -> Scope:
        """The walker's scope for ``source``. In a recursive CTE, sqlglot's scope for the CTE's
        reference to itself is a bare one over the anchor, with no sources (every column of it
        would come from nothing): the scope of the whole CTE answers for it."""
        if source.sources:
            return source
        walked = self.scope_of.get(id(source.expression))
        if walked is source:
            return source
        parent = source.expression.parent
        whole = self.scope_of.get(id(parent)) if isinstance(parent, exp.SetOperation) else None
        return whole or walked or source

    def function_column(self, func: exp.Func, name: str, scope: Scope | None = None, own: str = "") -> Trace:
        """A column of a table function over a query (BigQuery ML.PREDICT(MODEL m, (SELECT ...))):
        a column the query also has passes through; any other is computed from all of it. Over
        columns (``FROM docs d, jsonb_array_elements(d.body) x``, a set-returning function):
        every column it yields is computed from the columns it is given."""
        if runs_elsewhere(func):
            self.warnings.append(f"{func.name} reads a query another server runs: where its columns come from is not known")
        named = _function_tables(func) if names_table(func) else []
        if named:  # table_changes('db.t', 2): the table's columns, but the change feed's own
            column = fed_column(func, name)
            return Trace({ColumnRef(table_name(named[0]), column)}) if column else Trace()
        inner = [self.scope_of[id(q)] for q in func.find_all(exp.Select) if id(q) in self.scope_of]
        if not inner:
            trace = Trace(transform=TRANSFORMATION)
            for column in _own_columns(func) if scope is not None else []:
                lookup = self.function_argument_scope(scope, own, column)
                if lookup is not None:
                    trace.absorb(self.column(lookup, column, through=True))
            trace.transform = TRANSFORMATION
            return trace
        scope = inner[0]
        if name in self.output_names(scope):
            return self.projection(scope, name)
        trace = Trace(transform=TRANSFORMATION)
        for out in self.output_names(scope):
            trace.absorb(self.projection(scope, out))
        trace.transform = TRANSFORMATION
        return trace

    @staticmethod
    def function_argument_scope(scope: Scope, own: str, column: exp.Column) -> Scope | None:
        """Where a column given to a table function of ``scope`` (named ``own`` there) is looked
        up: never among its own columns (a cycle); an unqualified one, when the function is the
        query's only source, in the query around it (``(SELECT sum(value) FROM
        jsonb_array_elements(items))``: the outer row's items); None when there is none."""
        if column.table:
            return None if column.table == own else scope
        if all(name == own for name in scope.selected_sources):
            return scope.parent
        return scope

    # -- indirect dependencies -------------------------------------------
    def scope_indirect(self, scope: Scope) -> set[IndirectRef]:
        select = scope.expression
        found: set[IndirectRef] = set()
        if not isinstance(select, exp.Select):
            return found
        found |= self.pivot_groups(scope)
        clauses: list[tuple[exp.Expr | None, str]] = [
            (select.args.get("where"), FILTER),
            (select.args.get("having"), FILTER),
            (select.args.get("qualify"), FILTER),
            (select.args.get("group"), GROUP_BY),
            (select.args.get("order"), SORT),
            *((item, GROUP_BY) for item in _grouped_by_all(select, self.dialect)),
        ]
        pattern = row_pattern.match_of(select)
        if pattern is not None:
            clauses += row_pattern.clauses(pattern, GROUP_BY, SORT, FILTER)
        connect = select.args.get("connect")
        if connect is not None:  # Oracle's START WITH picks the roots, CONNECT BY joins each row to its parent
            clauses += [(connect.args.get("start"), FILTER), (connect.args.get("connect"), JOIN)]
        for join in select.args.get("joins") or []:
            clauses += [(join.args.get("on"), JOIN), (join.args.get("match_condition"), JOIN)]  # ASOF JOIN
            for ident in join.args.get("using") or []:
                for source_name in scope.selected_sources:
                    for ref in _influences(self.source_column(scope, source_name, ident.name)):
                        found.add(IndirectRef(ref, JOIN))
        # ORDER BY n / GROUP BY n / HAVING total: a name of the select list, not of a table
        aliases: set[str] = set()
        for item in select.expressions:
            value = item.this if isinstance(item, exp.Alias) else item
            if isinstance(value, exp.Column):
                if value.table and not isinstance(value.this, exp.Star):
                    aliases.add(item.alias_or_name)  # GROUP BY user_id over a join: the item orders.user_id (Looker)
                elif value is not item and value.name != item.alias:
                    aliases.add(item.alias)
            elif value is not item:
                aliases.add(item.alias)
        where = None if self.dialect in _WHERE_READS_ALIASES else select.args.get("where")
        for clause, kind in clauses:
            for column in _own_columns(clause):
                if aliases and not column.table and column.name in aliases and kind != JOIN and clause is not where:
                    trace = self.projection(scope, column.name)
                else:
                    trace = self.column(scope, column)
                found |= {IndirectRef(ref, kind) for ref in _influences(trace)}
            for sub in self.child_selects(clause) if clause is not None else []:
                child = self.scope_of.get(id(sub))
                if child is not None:
                    for out in self.output_names(child):
                        found |= {IndirectRef(ref, kind) for ref in _influences(self.projection(child, out))}
        return found


def pivot_output_names(pivot: exp.Pivot) -> list[str]:
    """The columns a PIVOT makes (one per IN value and aggregation), as sqlglot names them."""
    named = [c.name for c in pivot.args.get("columns") or []]
    if named:
        return named
    return [v.alias_or_name for field in pivot.fields if isinstance(field, exp.In) for v in field.expressions]


def _pivot_used(pivot: exp.Pivot) -> set[str]:
    """The source columns a PIVOT consumes (aggregates or spreads): all others it groups by."""
    return {c.name for a in pivot.expressions for c in a.find_all(exp.Column)} | set(_pivot_keys(pivot))


def _pivot_dynamic(pivot: exp.Pivot) -> bool:
    """Whether the PIVOT's values are not listed (Snowflake ``IN (ANY ...)``, ``IN (SELECT ...)``)."""
    return any(isinstance(v, (exp.PivotAny, exp.Query)) for field in pivot.fields if isinstance(field, exp.In)
               for v in field.expressions)


def _pivot_keys(pivot: exp.Pivot) -> list[str]:
    """The columns a PIVOT's ``FOR k IN (...)`` / UNPIVOT's name column tests or makes."""
    keys: list[str] = []
    for field in pivot.fields:
        target = field.this if isinstance(field, exp.In) else field
        parts = target.expressions if isinstance(target, exp.Tuple) else [target]
        keys += [part.name for part in parts if isinstance(part, (exp.Column, exp.Identifier))]
    return keys


def _unpivot_column(pivot: exp.Pivot, name: str, base: Callable[[str], Trace]) -> Trace:
    """``UNPIVOT (v FOR k IN (a, b))``: v is computed from a and b (each row one of them), k holds
    their names (no column's value); ``(v1, v2) FOR k IN ((a1, a2), (b1, b2))`` by position."""
    values = [e.name for e in pivot.expressions for e in (e.expressions if isinstance(e, exp.Tuple) else [e])]
    if name in values:
        position = values.index(name)
        trace = Trace(transform=TRANSFORMATION)
        for field in pivot.fields:
            for entry in field.expressions if isinstance(field, exp.In) else []:
                entry = entry.this if isinstance(entry, exp.PivotAlias) else entry
                if isinstance(entry, exp.Tuple) and position < len(entry.expressions):
                    entry = entry.expressions[position]
                for column in entry.find_all(exp.Column):
                    trace.absorb(base(column.name))
        trace.transform = TRANSFORMATION
        return trace
    if name in _pivot_keys(pivot):
        return Trace()
    if name == "*":
        trace = base("*")
        for out in [*values, *_pivot_keys(pivot)]:
            trace.absorb(_unpivot_column(pivot, out, base))
        return trace
    return base(name)


def _function_columns(source: exp.Table) -> list[str]:
    """The columns a table function in FROM yields, by its alias: ``f(..) AS x(a, b)`` a and b;
    ``json_array_elements(..) AS elem`` one column named as the alias (Postgres)."""
    alias = source.args.get("alias")
    if not isinstance(alias, exp.TableAlias):
        return []
    return [c.name for c in alias.columns] or ([alias.name] if alias.name else [])


def _row_references(expression: exp.Expr, scope: Scope) -> list[tuple[exp.Expr, list[str]]]:
    """Whole rows ``expression`` reads, with the sources they are rows of: the bare ``*`` a
    function is given (``HASH(*)``, ``OBJECT_CONSTRUCT(*)``: every source; not ``COUNT(*)``, which
    counts rows and reads no column) and a source named as a value (``TO_JSON_STRING(t)``, which
    the qualifier makes a TableColumn)."""
    found: list[tuple[exp.Expr, list[str]]] = []
    for node in find_all_in_scope(expression, exp.Star, exp.TableColumn):
        if isinstance(node, exp.TableColumn):
            if node.name in scope.sources:
                found.append((node, [node.name]))
            continue
        parent = node.parent
        if node is expression or isinstance(parent, (exp.Column, exp.Count)) or not isinstance(parent, exp.Func):
            continue
        if isinstance(parent, exp.Anonymous) and parent.name.lower() in ("count", "count_if"):
            continue
        if isinstance(node.find_ancestor(exp.ModelAttribute, exp.Select), exp.ModelAttribute):
            continue  # m!PREDICT(INPUT_DATA => OBJECT_CONSTRUCT(*)): ml_calls picks the model's features
        found.append((node, list(scope.selected_sources)))
    return found


def _grouped_by_all(select: exp.Select, dialect: str | None) -> list[exp.Expr]:
    """``GROUP BY ALL`` (Snowflake, Databricks, DuckDB, BigQuery): it groups by every select item
    that aggregates nothing and is no window, as ``GROUP BY 1, 2`` names them one by one."""
    group = select.args.get("group")
    if not (isinstance(group, exp.Group) and group.args.get("all")):
        return []
    return [item for item in select.expressions if not _is_star(item)
            and not any(True for _ in find_all_in_scope(item, exp.Window)) and not aggregates(item, dialect)]


def _match_star_names(names: list[str], pattern: exp.MatchRecognize) -> list[str]:
    """The output names with ``*`` over MATCH_RECOGNIZE: ONE ROW PER MATCH gives the partition
    columns and the measures; ALL ROWS PER MATCH every input column (``*``) and the measures."""
    if row_pattern.one_row_per_match(pattern):
        made = row_pattern.output_names(pattern)
        return [m for n in names for m in (made if n == "*" else [n])]
    return names + [m for m in row_pattern.measures(pattern) if m not in names]


def _influences(trace: Trace) -> set[ColumnRef]:
    """Every column a (possibly derived) value depends on: a clause that tests a subquery's
    ``rn`` or ``CASE`` flag depends on its window's PARTITION BY / ORDER BY and the CASE's
    conditions too."""
    return trace.sources | {r.source for r in trace.indirect}


_parts = table_parts


@lru_cache(maxsize=None)
def _placeholders(dialect: str | None) -> tuple[str, str]:
    """The stand-ins as the dialect spells unquoted names (upper for Snowflake)."""
    ident = normalize_identifiers(exp.to_identifier(NO_DB), dialect=dialect).name
    return (NO_DB, NO_SCHEMA) if ident == NO_DB else (NO_DB.upper(), NO_SCHEMA.upper())


def _is_star(node: exp.Expr) -> bool:
    return isinstance(node, exp.Star) or (isinstance(node, exp.Column) and isinstance(node.this, exp.Star))


def _child_selects(node: exp.Expr) -> list[exp.Expr]:
    """Subqueries directly under ``node`` (not nested in another subquery)."""
    found = []
    for sub in node.find_all(exp.Select, exp.SetOperation):
        if sub is node:
            continue
        parent = sub.parent
        nested = False
        while parent is not None and parent is not node:
            if isinstance(parent, (exp.Select, exp.SetOperation)):
                nested = True
                break
            parent = parent.parent
        if not nested:
            found.append(sub)
    return found


def _role(node: exp.Expr, top: exp.Expr) -> str | None:
    """None when ``node`` feeds the value of ``top``; else how it influences it."""
    while node is not top and node.parent is not None:
        parent = node.parent
        if isinstance(parent, exp.If) and node.arg_key == "this":
            return CONDITIONAL  # CASE WHEN cond / IF(cond, ...)
        if isinstance(parent, (exp.Case, exp.Nvl2)) and node.arg_key == "this":
            return CONDITIONAL  # CASE operand WHEN ... / NVL2(tested, a, b): tested, as in CASE WHEN operand = ...
        if isinstance(parent, exp.DecodeCase) and _decode_tested(parent, node):
            return CONDITIONAL  # DECODE(operand, search, result, ...): operand and searches are tested
        if isinstance(parent, exp.Window) and node.arg_key in ("partition_by", "order"):
            return WINDOW
        if isinstance(parent, exp.Filter) and node.arg_key == "expression":
            return FILTER  # agg(x) FILTER (WHERE cond)
        if isinstance(parent, exp.Order) and node.arg_key == "expressions" and parent.this is not None:
            return SORT  # string_agg(x ORDER BY k), LISTAGG(x) WITHIN GROUP (ORDER BY k): k orders the list
        if isinstance(parent, exp.WithinGroup) and node.arg_key == "expression" and _lists(parent.this):
            return SORT  # Redshift's and Oracle's LISTAGG(x) WITHIN GROUP (ORDER BY k); not PERCENTILE_CONT's value
        node = parent
    return None


_LIST_AGGREGATES = (exp.GroupConcat, exp.ArrayAgg, exp.ArrayUniqueAgg, exp.ArrayConcatAgg, exp.JSONArrayAgg)
_LIST_NAMES = frozenset({"listagg", "string_agg", "array_agg", "group_concat", "json_arrayagg", "xmlagg", "collect"})


def _lists(aggregate: exp.Expr) -> bool:
    """Whether an aggregate given WITHIN GROUP (ORDER BY ..) builds a list in that order (the
    order is no value of it), unlike PERCENTILE_CONT / MODE, whose ordered column is the value."""
    if isinstance(aggregate, exp.Anonymous):
        return aggregate.name.lower() in _LIST_NAMES
    return isinstance(aggregate, _LIST_AGGREGATES)


def _decode_tested(decode: exp.DecodeCase, node: exp.Expr) -> bool:
    """Whether ``node`` is DECODE's operand or one of its search values (not a result or the
    default): ``DECODE(op, s1, r1, s2, r2, default)`` is ``CASE op WHEN s1 THEN r1 ...``."""
    if node.arg_key != "expressions":
        return False
    index = node.index or 0
    pairs = (len(decode.expressions) - 1) // 2
    return index == 0 or (index % 2 == 1 and index <= 2 * pairs - 1)


def infer_schema(tables: list[exp.Table], catalog: Catalog, dialect: str | None) -> dict[str, dict[str, dict[str, dict[str, str]]]]:
    """Schema for sqlglot's qualifier: the catalog's tables, nested three deep."""
    schema: dict[str, dict[str, dict[str, dict[str, str]]]] = {}
    if not catalog:
        return schema
    glot = dialect_of(dialect)
    for table in tables:
        if not table.name:
            continue
        parts = _normalized_parts(table, glot)
        columns = catalog.columns(parts)
        if columns:
            db, sch, name = parts
            no_db, no_schema = _placeholders(dialect)
            db = no_db if db == NO_DB else db
            sch = no_schema if sch == NO_SCHEMA else sch
            schema.setdefault(db, {}).setdefault(sch, {})[name] = columns
    return schema


def _normalized_parts(table: exp.Table, glot: Dialect) -> tuple[str, str, str]:
    """A table's parts as they will read once qualify has normalized the query."""
    names = []
    bare = exp.Table(**{k: table.args[k].copy() for k in ("catalog", "db", "this") if table.args.get(k) is not None})
    normalized = normalize_identifiers(bare, dialect=glot)  # as a table: BigQuery keeps table names' case
    for key in ("catalog", "db", "this"):
        ident = normalized.args.get(key)
        names.append(ident.name if isinstance(ident, exp.Identifier) else "")
    return (names[0] or NO_DB, names[1] or NO_SCHEMA, names[2])


def qualify_query(
    expression: exp.Expr,
    catalog: Catalog,
    dialect: str | None,
    warnings: list[str],
    database: str | None = None,
    schema_name: str | None = None,
    walked: list[exp.Expr] | None = None,
) -> exp.Expr:
    """Qualify tables (defaults, else placeholders, for missing parts) and, where possible, columns.
    ``walked``: the nodes of a walk of the unchanged query that picked out at least ``_Nodes.KINDS``."""
    glot = dialect_of(dialect)
    no_db, no_schema = _placeholders(dialect)
    nodes = _Nodes(expression, walked)
    _default_tables(nodes, database, schema_name, no_schema if database_only_qualifies(dialect) else None)
    schema = MappingSchema(infer_schema(nodes.tables, catalog, dialect), dialect=glot, normalize=False)
    options: dict[str, Any] = dict(
        dialect=glot,
        schema=schema,
        catalog=no_db,
        db=no_schema,
        validate_qualify_columns=False,
        allow_partial_qualification=True,  # an incomplete catalog is not an error
        quote_identifiers=False,
        identify=False,
    )
    _mark_recursive(nodes)
    _positional_columns(nodes)
    _expand_alias_refs(nodes, catalog)
    _pin_single_source_columns(nodes)
    try:
        return qualify(expression, **options)
    except (OptimizeError, KeyError, ValueError, TypeError) as e:
        warnings.append(f"columns qualified by fallback rules: {plain(str(e))}")
    try:
        return qualify(expression, qualify_columns=False, **options)
    except (SqlglotError, KeyError, ValueError, TypeError) as e:
        warnings.append(f"names left unqualified: {plain(str(e))}")
        return expression


class _Nodes:
    """The nodes the pre-passes look at, gathered in one walk of the query (or picked out of
    ``walked``, the nodes of another walk of it in walk order, which the caller made anyway)."""

    KINDS = (exp.Select, exp.Table, exp.With, exp.CTE)  # none has a subclass: type() tells them apart

    def __init__(self, expression: exp.Expr, walked: list[exp.Expr] | None = None) -> None:
        self.selects: list[exp.Select] = []
        self.tables: list[exp.Table] = []
        self.withs: list[exp.With] = []
        self.ctes: list[exp.CTE] = []
        kinds: dict[type, list[Any]] = dict(zip(self.KINDS, (self.selects, self.tables, self.withs, self.ctes)))
        for node in expression.find_all(*self.KINDS) if walked is None else walked:
            found = kinds.get(type(node))
            if found is not None:
                found.append(node)


# The node types ``qualify_query``'s pre-passes look at (a walk that finds them can be handed over).
PREPASS_KINDS = _Nodes.KINDS


def _pin_single_source_columns(nodes: _Nodes) -> None:
    """In a SELECT over one source, unqualified columns are that source's.

    SQL resolves a name in the innermost scope first; sqlglot's qualifier
    refuses to assume so in a subquery whose source it has no schema for, and
    then qualifies nothing at all. Pinning them first keeps the rest exact.
    """
    for select in nodes.selects:
        from_ = select.args.get("from_")
        if from_ is None or select.args.get("joins") or select.args.get("laterals"):
            continue
        source = from_.this
        if not isinstance(source, (exp.Table, exp.Subquery)) or (isinstance(source, exp.Table) and isinstance(source.this, exp.Func)):
            continue
        if source.args.get("pivots"):  # its columns are the pivot's, which the qualifier names
            continue
        name = source.alias_or_name
        if not name or isinstance(source, exp.Table) and source.args.get("alias") and source.args["alias"].columns:
            continue
        aliases = {e.alias for e in select.expressions if isinstance(e, exp.Alias)}
        if isinstance(source, exp.Subquery) or (source.alias and source.alias != source.name):
            aliases.add(name)  # TO_JSON_STRING(t), SELECT t: the row of the source aliased t
        # to_identifier quotes an unquoted name with other characters (Oracle's orders@remote_db),
        # which then no longer names its source: such a name stays unquoted
        owner = source.args["alias"].this if source.args.get("alias") else source.this
        plain = isinstance(owner, exp.Identifier) and not owner.quoted
        for part in [*select.expressions, select.args.get("where")]:
            if part is None:
                continue
            for column in find_all_in_scope(part, exp.Column):
                if not column.table and column.name not in aliases and not isinstance(column.this, exp.Star):
                    column.set("table", exp.Identifier(this=name, quoted=False) if plain else exp.to_identifier(name))


def _positional_columns(nodes: _Nodes) -> None:
    """``SELECT $1, s.$2:id FROM @stage/path s``: over staged files ``$n`` is the file's n-th column."""
    for select in nodes.selects:
        from_ = select.args.get("from_")
        if from_ is None or not isinstance(from_.this, exp.Table) or not is_location(from_.this):
            continue
        for parameter in list(find_all_in_scope(select, exp.Parameter)):
            if not (isinstance(parameter.this, exp.Literal) and parameter.this.is_int):
                continue
            name = exp.to_identifier(f"${parameter.this.name}", quoted=True)
            parameter.replace(name if isinstance(parameter.parent, exp.Column) else exp.column(name))


def _mark_recursive(nodes: _Nodes) -> None:
    """T-SQL and Snowflake allow recursive CTEs without the RECURSIVE keyword."""
    for with_ in nodes.withs:
        if with_.args.get("recursive"):
            continue
        for cte in with_.expressions:
            name = cte.alias_or_name
            if any(t.name == name and not t.db for t in cte.this.find_all(exp.Table)):
                with_.set("recursive", True)
                break


def _expand_alias_refs(nodes: _Nodes, catalog: Catalog) -> None:
    """``SELECT a * 2 AS dbl, dbl + 1 AS x``: a later item naming an earlier alias
    reads that alias's expression (Snowflake, BigQuery, Redshift, DuckDB...), unless
    the one source table is known to have a column of that name."""
    for select in nodes.selects:
        aliases: dict[str, exp.Expr] = {}
        tables = [t for t in select.args.get("from_").find_all(exp.Table)] if select.args.get("from_") else []
        known: set[str] = set()
        for table in tables:
            known |= set(catalog.columns(_parts(table)) or {})
        for item in select.expressions:
            if aliases:
                for column in list(find_all_in_scope(item, exp.Column)):
                    if not column.table and column.name in aliases and column.name not in known:
                        if column is item or (isinstance(item, exp.Alias) and item.this is column and item.alias == column.name):
                            continue
                        column.replace(exp.Paren(this=aliases[column.name].copy()))
            if isinstance(item, exp.Alias) and not (isinstance(item.this, exp.Column) and item.this.name == item.alias):
                aliases[item.alias] = item.this
        qualify_clause = select.args.get("qualify")  # QUALIFY rn = 1 filters on the alias's window
        if aliases and qualify_clause is not None:
            for column in list(find_all_in_scope(qualify_clause, exp.Column)):
                if not column.table and column.name in aliases and column.name not in known:
                    column.replace(exp.Paren(this=aliases[column.name].copy()))


def _function_tables(func: exp.Func) -> list[exp.Table]:
    """Tables named directly as arguments of a table function (not inside its subqueries)."""
    return [t for t in func.find_all(exp.Table) if t.name and not isinstance(t.this, exp.Func)
            and t.find_ancestor(exp.Select, exp.Func) is func]


def tables_only(query: exp.Expr) -> QueryTrace:
    """Table-level lineage: the base tables a query reads, without qualifying columns."""
    root = build_scope(query)
    tables: list[exp.Table] = []
    if root is not None:
        for scope in root.traverse():
            tables += _scope_tables(scope)
    return QueryTrace([], tables, set(), [])


def _scope_tables(scope: Scope) -> list[exp.Table]:
    """The base tables a scope reads: its table sources and those named in its table functions
    (ML.PREDICT(MODEL m, ...) reads the model); ``FROM cte PIVOT (...)`` reads the CTE, no table."""
    tables: list[exp.Table] = []
    for source in scope.sources.values():
        if isinstance(source, exp.Table) and isinstance(source.this, exp.Func):
            tables += _function_tables(source.this)
        elif isinstance(source, exp.Table) and source.name:
            if source.args.get("pivots") and not source.db and source.name in scope.cte_sources:
                continue
            tables.append(source)
    return tables


def database_only_qualifies(dialect: str | None) -> bool:
    """Whether a known database with no known schema still qualifies a bare name (``db.table``).
    Not in BigQuery: there a bare name in a script is a temp table, and project.table is no name."""
    return (dialect or "") != "bigquery"


def _default_tables(nodes: _Nodes, database: str | None, schema_name: str | None,
                    no_schema: str | None = NO_SCHEMA) -> None:
    """Give unqualified base tables the session's database / schema (not CTE names); with a
    database but no schema, a bare name is ``database.table`` (the schema left unknown)."""
    if not database and not schema_name:
        return
    ctes = {cte.alias_or_name for cte in nodes.ctes}
    for table in nodes.tables:
        if not table.name or isinstance(table.this, exp.Func) or (not table.db and table.name in ctes):
            continue
        default_table(table, database, schema_name, no_schema)


def default_table(table: exp.Table, database: str | None, schema_name: str | None, no_schema: str | None) -> None:
    """Fill a table's missing schema and database from the session's (names already normalized).
    With a database but no schema, ``no_schema`` (a placeholder) stands for the schema, so the
    name reads ``database.table``; None leaves such a name bare. Session-local tables stay bare."""
    if session_local(table) or is_location(table):
        return
    if not table.args.get("db") and (schema_name or (database and no_schema)):
        table.set("db", exp.to_identifier(schema_name or no_schema, quoted=True))
    if not table.args.get("catalog") and database and table.args.get("db"):
        table.set("catalog", exp.to_identifier(database, quoted=True))


def trace_query(query: exp.Expr, catalog: Catalog, dialect: str | None) -> QueryTrace:
    """Lineage of a SELECT / set operation (already qualified)."""
    warnings: list[str] = []
    root = build_scope(query)
    if root is None:
        return QueryTrace([], [], set(), ["not a query"])
    from ..dialects import masking_functions  # here: dialects.py reads extract/ml.py's facts

    walker = _Walker(root, catalog, warnings, masking_functions(dialect), dialect)
    outputs = []
    names = walker.output_names(root)
    for index, name in enumerate(names):
        trace = walker.by_position(root, index, name)
        outputs.append((name, trace))
    tables: list[exp.Table] = []
    indirect: set[IndirectRef] = set()
    for scope in walker.scopes:
        tables += _scope_tables(scope)
        indirect |= walker.scope_indirect(scope)
    return QueryTrace(outputs, tables, indirect, list(dict.fromkeys(warnings)))


__all__ = ["PREPASS_KINDS", "QueryTrace", "Trace", "classify", "display_name", "qualify_query", "table_name", "trace_query", "SqlglotError"]
