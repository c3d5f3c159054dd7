"""Statements sqlglot keeps as opaque text: session settings, UNLOAD, REPLACE,
RENAME TABLE, and words we know carry no lineage. Anything else is reported as
not understood rather than silently passed over.
"""

from __future__ import annotations

import re
from typing import Callable

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import TokenType

from ..model import DatasetRef
from .glot import dialect_of, tokenize_with
from .parameters import parse_one
from .base import Context, Partial, dataset, inputs_of, traced
from .columns import tables_only
from . import ml
from .tables import copy_table, create_stream, exchange_rows, move_rows, rename_table

_SEARCH_PATH = re.compile(r"search_path\s*(?:TO|=)\s*(.+)$", re.IGNORECASE | re.DOTALL)
_SET_SCHEMA = re.compile(r"^\s*SCHEMA\s+(.+)$", re.IGNORECASE | re.DOTALL)
_UNLOAD = re.compile(r"^\s*\(\s*'((?:[^']|'')*)'\s*\)\s*TO\s*'([^']*)'", re.IGNORECASE | re.DOTALL)


def _set_schema(ctx: Context, text: str) -> None:
    """``SET search_path = a, b``: a is where new tables go and bare names are looked for first;
    b and later schemas are looked in for names the catalog knows only there."""
    names = [_normalize_name(n, ctx.dialect) for item in text.split(",")
             if (n := item.strip().strip("'\"")) and n != "$user"]
    if names:
        ctx.schema, ctx.search_path = names[0], tuple(names[1:])


def _normalize_name(name: str, dialect: str | None) -> str:
    return str(normalize_identifiers(exp.to_identifier(name), dialect=dialect_of(dialect)).name)


_PART = r'(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|[\w$]+)'
_NAME = rf"{_PART}(?:\.{_PART})*"
_STREAM = re.compile(
    rf"^\s*(?:OR\s+REPLACE\s+)?STREAM\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})\s+(?:COPY\s+GRANTS\s+)?"
    rf"ON\s+(?P<kind>(?:(?:EXTERNAL|DYNAMIC|EVENT)\s+)?TABLE|VIEW|STAGE)\s+(?P<source>{_NAME})", re.IGNORECASE)


def _create_stream(ctx: Context, match: re.Match[str]) -> Partial:
    """Snowflake CREATE STREAM s ON TABLE t / ON STAGE st (a directory table: files, no columns)."""
    stream = _table_named(match.group("name"), ctx)
    if match.group("kind").upper() == "STAGE":
        return Partial("create_view", inputs=[DatasetRef("@" + match.group("source"), "stage")],
                       outputs=[dataset(ctx, stream, "view")])
    return create_stream(ctx, stream, _table_named(match.group("source"), ctx))


# Databricks CREATE [OR REPLACE] TABLE t [SHALLOW|DEEP] CLONE s [VERSION|TIMESTAMP AS OF ..] [LOCATION ..]:
# the forms sqlglot cannot read (it reads a bare SHALLOW CLONE).
_CLONE = re.compile(rf"^\s*(?:OR\s+REPLACE\s+)?(?:(?:TRANSIENT|TEMP|TEMPORARY|SNAPSHOT)\s+)*TABLE\s+"
                    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})\s+(?:(?:SHALLOW|DEEP)\s+)?CLONE\s+(?P<source>{_NAME})",
                    re.IGNORECASE)
# Rows moved from one table into another by ALTER TABLE: Redshift APPEND FROM (the source is left
# empty), Hive / Spark EXCHANGE PARTITION (spec) WITH TABLE (the partition leaves the source).
_APPEND = re.compile(rf"^\s*TABLE\s+(?P<name>{_NAME})\s+APPEND\s+FROM\s+(?P<source>{_NAME})", re.IGNORECASE)
_SPEC = r"\((?:[^()']|'(?:[^']|'')*')*\)"
_EXCHANGE = re.compile(rf"^\s*TABLE\s+(?P<name>{_NAME})\s+EXCHANGE\s+PARTITION\s*(?P<spec>{_SPEC}|{_NAME})\s*"
                       rf"WITH\s+TABLE\s+(?P<source>{_NAME})", re.IGNORECASE)
# A materialized view or dynamic table recomputed from the definition it was created with.
_REFRESH = re.compile(rf"^\s*(?P<kind>MATERIALIZED\s+VIEW|STREAMING\s+TABLE)\s+(?:CONCURRENTLY\s+)?(?P<name>{_NAME})",
                      re.IGNORECASE)
_ALTER_REFRESH = re.compile(rf"^\s*(?P<kind>DYNAMIC\s+TABLE|MATERIALIZED\s+VIEW)\s+(?P<name>{_NAME})\s+REFRESH\b",
                            re.IGNORECASE)


def _moved(ctx: Context, text: str) -> Partial | None:
    """ALTER TABLE t APPEND FROM s / EXCHANGE PARTITION (..) WITH TABLE s: s's rows land in t,
    column for column. MySQL's and Oracle's EXCHANGE PARTITION p (a name, no spec) swaps: each
    table then holds what the other held."""
    append = _APPEND.match(text)
    if append:
        return move_rows(ctx, _table_named(append.group("source"), ctx), _table_named(append.group("name"), ctx))
    exchange = _EXCHANGE.match(text)
    if not exchange:
        return None
    target, source = _table_named(exchange.group("name"), ctx), _table_named(exchange.group("source"), ctx)
    if exchange.group("spec").startswith("("):
        return move_rows(ctx, source, target)
    return exchange_rows(ctx, target, source)


def _refreshed(ctx: Context, match: re.Match[str] | None) -> Partial | None:
    """REFRESH MATERIALIZED VIEW v / ALTER DYNAMIC TABLE t REFRESH: v is recomputed by the query
    it was created with, whose lineage its CREATE gave; the statement itself moves no other data.
    It touches v (a ``ddl``), and is never an ``other`` that says nothing about it."""
    if match is None:
        return None
    table = _table_named(match.group("name"), ctx)
    kind = "view" if match.group("kind").upper().startswith("MATERIALIZED") else "table"
    return Partial("ddl", objects=[dataset(ctx, table, kind)])


def executed_sql(text: str, glot: Dialect) -> str | None:
    """The SQL a statement runs from a string literal, to be analysed as the statements it holds:
    ``EXECUTE IMMEDIATE '<sql>' [INTO ..] [USING ..]`` (any string style of the dialect: ``'..'``,
    ``".."``, ``$$..$$``), T-SQL ``EXEC sp_executesql N'<sql>' [, N'@p int', ..]`` and
    ``EXEC ('<sql>')``. None for any other text, and for SQL built at run time (a variable, a
    concatenation), which cannot be known."""
    head = _EXECUTED.match(text)
    if head is None:
        return None
    try:
        tokens = tokenize_with(glot, text[head.end() :])
    except SqlglotError:
        return None
    if not head.group("how"):  # EXEC ('<sql>')
        kinds = [t.token_type for t in tokens[:3]]
        tokens = [tokens[1], *tokens[3:]] if kinds[::2] == [TokenType.L_PAREN, TokenType.R_PAREN] else []
    if not tokens or tokens[0].token_type not in _STRINGS:
        return None
    if len(tokens) > 1 and tokens[1].token_type not in _AFTER_SQL:
        return None
    return tokens[0].text


_EXECUTED = re.compile(r"^\s*EXEC(?:UTE)?\b\s*(?P<how>IMMEDIATE\b|"
                       r"(?:\[?sys\]?\.)?\[?sp_executesql\]?(?:\s+@stmt\s*=)?(?=\s|N?')|(?=\())", re.IGNORECASE)
_STRINGS = frozenset({TokenType.STRING, TokenType.RAW_STRING, TokenType.NATIONAL_STRING})
_AFTER_SQL = frozenset({TokenType.INTO, TokenType.USING, TokenType.SEMICOLON, TokenType.COMMA})
DYNAMIC_SQL = "SQL built at run time (a variable or an expression): what it reads and writes cannot be known"


def dynamic_reason(text: str) -> str | None:
    """Why ``text``, which runs SQL from a string (EXECUTE IMMEDIATE, sp_executesql, EXEC (..)) but
    not from a literal (that one was read upstream), has no lineage; None for any other text. Such
    a statement is a counted failure, never a procedural line without lineage."""
    head = _EXECUTED.match(text)
    if head is None:
        return None
    how = head.group("how").upper()
    name = "EXECUTE IMMEDIATE" if how.startswith("IMMEDIATE") else "EXEC SP_EXECUTESQL" if how else "EXEC (..)"
    return f"{name} of {DYNAMIC_SQL}"


# A table or view made from a query, in a form sqlglot could not read: a write, never "other".
_QUERY_WRITE = re.compile(
    r"^\s*(?:OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL|TEMP|TEMPORARY|EXTERNAL|TRANSIENT|VOLATILE|SECURE|RECURSIVE|"
    r"MATERIALIZED|UNLOGGED|MULTISET|SET|DYNAMIC|ICEBERG|HYBRID|EVENT|STREAMING|LIVE)\s+)*(?:TABLE|VIEW)\b"
    r".*?\bAS\s*\(?\s*(?:SELECT|WITH|FROM|VALUES)\b", re.IGNORECASE | re.DOTALL)
_ON_COMMIT = re.compile(r"\bON\s+COMMIT\s+(?:DROP|DELETE\s+ROWS|PRESERVE\s+ROWS)\b", re.IGNORECASE)
_CHECK_OPTION = re.compile(r"\bWITH\s+(?:CASCADED\s+|LOCAL\s+)?CHECK\s+OPTION\s*;?\s*$", re.IGNORECASE)
# Oracle's storage clauses before a CTAS's AS that sqlglot cannot read: PARALLEL 8, COMPRESS FOR QUERY HIGH
_ORACLE_STORAGE = re.compile(r"\b(?:NO)?PARALLEL(?:\s+\d+)?\b|\bCOMPRESS\s+FOR\s+(?:QUERY|ARCHIVE|OLTP|ALL\s+OPERATIONS|"
                             r"DIRECT_LOAD\s+OPERATIONS)(?:\s+(?:HIGH|LOW))?\b", re.IGNORECASE)
_AS_QUERY = re.compile(r"\bAS\s*\(?\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_RENAME_TABLE = re.compile(r"^\s*TABLE\s+(.+)$", re.IGNORECASE | re.DOTALL)


def _rename_tables(ctx: Context, text: str) -> Partial:
    """MySQL RENAME TABLE a TO b [, c TO d]."""
    match = _RENAME_TABLE.match(text)
    partial = Partial("rename")
    for pair in (match.group(1).split(",") if match else []):
        old, _, new = pair.partition(" TO ") if " TO " in pair else pair.partition(" to ")
        if old.strip() and new.strip():
            one = rename_table(exp.to_table(old.strip(), dialect=ctx.dialect), exp.to_table(new.strip(), dialect=ctx.dialect), ctx)
            partial.inputs += one.inputs
            partial.outputs += one.outputs
            partial.columns += one.columns
    return partial


def _reparsed(text: str, ctx: Context) -> exp.Expr:
    """A command's text rewritten into a statement sqlglot reads, its names normalized by the
    dialect's rules as every parsed statement's are (Oracle upper-cases unquoted names)."""
    return normalize_identifiers(parse_one(text, ctx.dialect), dialect=dialect_of(ctx.dialect))


def _without_storage(text: str) -> str | None:
    """An Oracle CTAS without the storage clauses before its AS (they say nothing of lineage);
    None when there are none."""
    query = _AS_QUERY.search(text)
    head = text[: query.start()] if query else ""
    if not query or not _ORACLE_STORAGE.search(head):
        return None
    return _ORACLE_STORAGE.sub(" ", head) + text[query.start():]


def handle_command(
    node: exp.Expr,
    ctx: Context,
    dispatch: Callable[[exp.Expr, Context], Partial],
) -> Partial:
    """``dispatch`` analyses a statement rebuilt from the command's text."""
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
            query = parse_one(match.group(1).replace("''", "'"), ctx.dialect)
            trace = traced(ctx, query)
            return Partial("copy", inputs=inputs_of(ctx, trace), outputs=[DatasetRef(match.group(2), "file")])
    if word == "REPLACE" and text.upper().lstrip().startswith("INTO"):
        return dispatch(parse_one("INSERT " + text, ctx.dialect), ctx)
    stream = _STREAM.match(text) if word == "CREATE" else None
    if stream:
        return _create_stream(ctx, stream)
    clone = _CLONE.match(text) if word == "CREATE" else None
    if clone:
        return copy_table(ctx, "create_table_as", _table_named(clone.group("source"), ctx),
                          _table_named(clone.group("name"), ctx))
    moved = _moved(ctx, text) if word == "ALTER" else None
    if moved is not None:
        return moved
    refreshed = _refreshed(ctx, _REFRESH.match(text) if word == "REFRESH" else
                           _ALTER_REFRESH.match(text) if word == "ALTER" else None)
    if refreshed is not None:
        return refreshed
    if word in ("EXECUTE", "EXEC") and text.upper().lstrip().startswith("IMMEDIATE"):  # a literal is read upstream
        raise NotUnderstood(dynamic_reason("EXECUTE " + text) or DYNAMIC_SQL)
    if word == "CREATE" and _ON_COMMIT.search(text):  # CREATE TEMP TABLE t ON COMMIT DROP AS ...
        return dispatch(_reparsed("CREATE " + _ON_COMMIT.sub(" ", text), ctx), ctx)
    storage = _without_storage(text) if word == "CREATE" and ctx.dialect == "oracle" else None
    if storage is not None:
        return dispatch(_reparsed("CREATE " + storage, ctx), ctx)
    if word in ("CREATE", "ALTER") and _CHECK_OPTION.search(text):  # a view's WITH CHECK OPTION: no lineage
        return dispatch(_reparsed(f"{word} " + _CHECK_OPTION.sub("", text), ctx), ctx)
    if word == "RENAME":
        partial = _rename_tables(ctx, text)
        if partial.outputs:
            return partial
    learned = ml.command(ctx, word, text)
    if learned is not None:
        return learned
    first = word.split()[0] if word else ""  # sqlglot names some commands by two words: ADD JAR
    if first == "CREATE" and ml.creates_model(text):  # counted as failed, never as "other" at full coverage
        # no apostrophe: the reason is redacted as SQL text is, and a quote would start a literal
        raise NotUnderstood(f"CREATE MODEL is not a form the ML facts of {ctx.dialect or 'this dialect'} know: "
                            "the model and its training data were not read (is --dialect the database of the log?)")
    if first in ("CREATE", "ALTER") and _QUERY_WRITE.match(text):
        raise NotUnderstood(f"unsupported syntax in {word} TABLE / VIEW ... AS SELECT: its lineage was not read")
    if word in SESSION_WORDS or first in SESSION_WORDS:
        return Partial("session")
    if word in OTHER_WORDS or first in OTHER_WORDS:
        return Partial("other")
    raise NotUnderstood(f"unsupported statement starting with {word!r}")


_RENAME_ARGUMENTS = ("objname", "newname", "objtype")


def handle_execute(node: exp.Expr, ctx: Context) -> Partial:
    """T-SQL ``EXEC sp_rename 'schema.old', 'new' [, 'OBJECT']``: a table renamed within its schema.
    A column, index or statistics renamed (``'COLUMN'``, ...) changes its table, not its lineage."""
    procedure = node.this
    if isinstance(node, exp.ExecuteSql) or isinstance(procedure, exp.Subquery):  # a literal is read upstream
        raise NotUnderstood(dynamic_reason(node.sql("tsql")) or DYNAMIC_SQL)
    if not isinstance(procedure, exp.Table) or procedure.name.lower() != "sp_rename":
        return Partial("other")
    arguments = _procedure_arguments(node.expressions, _RENAME_ARGUMENTS)
    old, new, kind = (arguments.get(k) for k in _RENAME_ARGUMENTS)
    if not old or not new:
        return Partial("other")
    named = _table_named(old, ctx)
    if (kind or "OBJECT").upper() != "OBJECT":
        owner = exp.Table(this=named.args.get("db"), db=named.args.get("catalog")) if named.args.get("db") else None
        out = dataset(ctx, owner) if owner is not None and kind.upper() in ("COLUMN", "INDEX", "STATISTICS") else None
        return Partial("ddl", outputs=[out] if out else [], objects=[out] if out else [])
    return rename_table(named, _table_named(new, ctx), ctx)


def _procedure_arguments(items: list[exp.Expr], names: tuple[str, ...]) -> dict[str, str]:
    """A procedure call's string arguments by name: ``@name = 'v'`` or by position."""
    found: dict[str, str] = {}
    for position, item in enumerate(items):
        name = names[position] if position < len(names) else ""
        if isinstance(item, exp.EQ):
            name, item = item.this.name.lstrip("@").lower(), item.expression
        if isinstance(item, (exp.Literal, exp.National)) and name:
            found[name] = item.name
    return found


def _table_named(text: str, ctx: Context) -> exp.Table:
    return normalize_identifiers(exp.to_table(text, dialect=ctx.dialect), dialect=dialect_of(ctx.dialect))


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
                         "RENAME", "CHECK", "CHECKSUM", "REPAIR", "SIGNAL", "RESIGNAL", "GET DIAGNOSTICS", "SETUSER",
                         "UPDATE STATISTICS", "DBCC", "BULK"})


# Impala's statistics and metadata commands (COMPUTE [INCREMENTAL] STATS t, INVALIDATE METADATA t),
# which sqlglot cannot read: they move no data.
METADATA_WORDS = frozenset({"COMPUTE", "INVALIDATE"})

# Procedural statements inside routine bodies: no lineage, and no parse error either.
PROCEDURAL_WORDS = frozenset({"RETURN", "LET", "DECLARE", "GET", "PERFORM", "RAISE", "IF", "ELSIF", "ELSEIF", "ELSE",
                              "WHILE", "LOOP", "FOR", "FOREACH", "EXIT", "CONTINUE", "BREAK", "LEAVE", "ITERATE",
                              "REPEAT", "OPEN", "FETCH", "CLOSE", "SIGNAL", "RESIGNAL", "PRINT", "THROW", "EXCEPTION",
                              "CALL", "EXEC", "EXECUTE", "SET", "ASSERT", "GOTO", "WAITFOR", "END", "NULL"})


def handle_fragment(node: exp.Expr, ctx: Context) -> Partial:
    """A bare expression at statement level: a few real commands look like one."""
    word = (node.sql(ctx.dialect).split(" ", 1)[0] if node else "").upper()
    if word in SESSION_WORDS or word in OTHER_WORDS:
        return Partial("session" if word in SESSION_WORDS else "other")
    raise NotUnderstood(f"not a SQL statement (starts with {word!r})")


def query_reads(ctx: Context, value: exp.Expr | None) -> list[DatasetRef]:
    """The tables the queries in a variable's value read (``SET v = (SELECT max(d) FROM t)``)."""
    read: list[DatasetRef] = []
    for query in value.find_all(exp.Select) if value is not None else ():
        if query.parent_select is None:  # an outermost query: tables_only reads its subqueries
            read += inputs_of(ctx, tables_only(query))
    return list(dict.fromkeys(read))


def handle_declare(node: exp.Expr, ctx: Context) -> Partial:
    """``DECLARE v DATE DEFAULT (SELECT max(d) FROM t)`` reads t, as a query would; so does an
    assignment ``v := (SELECT ..)`` of PL/pgSQL or Snowflake Scripting."""
    read = query_reads(ctx, node)
    return Partial("select", inputs=read) if read else Partial("other")


def handle_set(node: exp.Expr, ctx: Context) -> Partial:
    """A session setting; a script variable set from a query (BigQuery ``SET v = (SELECT ..)``,
    ``SET (a, b) = (SELECT AS STRUCT ..)``) is a read of its tables, counted as a query's."""
    read: list[DatasetRef] = []
    for item in node.expressions:
        inner = item.this if isinstance(item, exp.SetItem) else item
        if not isinstance(inner, exp.EQ):
            continue
        read += query_reads(ctx, inner.expression)
        setting = inner.this.sql().lstrip("@").lower()
        if setting in ("search_path", "dataset_id", "schema", "current_schema"):  # BigQuery: SET @@dataset_id
            value = inner.expression
            names = [v.name for v in (value.expressions if isinstance(value, exp.Tuple) else [value])]
            _set_schema(ctx, ",".join(names))
    return Partial("select", inputs=list(dict.fromkeys(read))) if read else Partial("session")


