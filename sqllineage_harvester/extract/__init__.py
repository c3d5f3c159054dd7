"""SQL text -> per-statement lineage.

>>> [r.kind for r in extract("INSERT INTO t SELECT a FROM s; SELECT 1")]
['insert', 'select']
>>> r = extract("INSERT INTO mart.t (x) SELECT a + 1 FROM raw.s", "postgres")[0]
>>> [str(d) for d in r.inputs], [str(d) for d in r.outputs]
(['raw.s'], ['mart.t'])
>>> [(str(c.target), [str(s) for s in c.sources], c.transform) for c in r.columns]
[('mart.t.x', ['raw.s.a'], 'TRANSFORMATION')]
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from collections import deque
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import Iterator, Mapping

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.tokens import Token, TokenType

from ..errors import ConfigError
from ..model import DatasetRef, StatementLineage
from ..redact import redact_message
from .catalog import Catalog
from .glot import dialect_of, has_meta_comment, parser_of
from .parameters import tokenize
from .partitions import lake_insert
from .reasons import describe
from .heads import head_kind
from .script import body_statements, collapse_temp_tables, separate_batches
from . import ml
from .outfiles import split_outfile, to_file
from .output_into import add_output, split_output, without_output
from .table_functions import argument_tables, table_argument
from .commands import METADATA_WORDS, PROCEDURAL_WORDS, dynamic_reason, executed_sql, query_reads
from .loads import unparsed_load
from .base import dataset
from .statements import Context, analyse
from .unterminated import split_unterminated
from .variables import Declare, Mark, Marks, Variables, let_value

logging.getLogger("sqlglot").setLevel(logging.ERROR)

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_BYTES = 1_000_000  # larger statements are only read for bulk INSERT..VALUES targets
# Dialects whose bare ``USE x`` names a database (three-part names) rather than a schema.
USE_NAMES_DATABASE = frozenset({"snowflake", "tsql", "fabric"})

__all__ = ["extract", "new_session", "Catalog", "collapse_temp_tables", "dialect_names", "resolve_dialect"]


class StatementTimeout(Exception):
    pass


def dialect_names() -> list[str]:
    from sqlglot.dialects import DIALECTS

    return sorted(d.lower() for d in DIALECTS)


def resolve_dialect(name: str | None) -> str | None:
    """The sqlglot dialect ``name`` is read with: a sqlglot dialect's own name, or one of our dialect
    files' (``harvest --dialect``: mariadb, impala, ...) through its ``sqlglot``; ConfigError listing
    our dialects for any other."""
    if not name:
        return None
    try:
        dialect_of(name)
    except (ValueError, SqlglotError) as e:
        from ..dialects import get_dialect, list_dialects

        try:
            return get_dialect(name).sqlglot
        except ConfigError:
            raise ConfigError(f"unknown dialect {name!r}; known: {', '.join(list_dialects())}") from e
    return name.lower()


# signal.signal without its translation of handlers to enums and back (an exception raised and
# caught on each call): a tenth of the cost, and extract() sets a handler and puts it back per call.
try:
    import _signal as _raw_signal
except ImportError:  # pragma: no cover - not CPython
    _raw_signal = signal  # type: ignore[assignment]


def _expire(signum: int, frame: object) -> None:
    raise StatementTimeout


@contextmanager
def _time_limits(seconds: float | None) -> Iterator[_Limit | None]:
    """The alarm's handler for a whole script (the previous one back after it); each statement
    is timed by arming it with ``_Limit``. None where there is no timing (no limit, not the main
    thread, no SIGALRM)."""
    usable = seconds and seconds > 0 and threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if not usable:
        yield None
        return
    previous = _raw_signal.signal(signal.SIGALRM, _expire)
    try:
        yield _Limit(seconds)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _raw_signal.signal(signal.SIGALRM, previous)


class _Limit:
    """``with limit:`` gives the statement inside ``seconds`` before StatementTimeout."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)


_NO_LIMIT = nullcontext()


Chunk = tuple[str, "list[Token] | None", str]  # text, tokens, the text token offsets refer to


def _split(sql: str, dialect: Dialect, max_bytes: int) -> list[Chunk]:
    """Statements of a script: their text and tokens (None when not tokenized)."""
    try:
        if len(sql) > max_bytes:
            raise ValueError("too large to tokenize whole")
        tokens = tokenize(dialect, sql)
    except (SqlglotError, RecursionError, ValueError):
        pieces = [p for p in re.split(r";\s*(?:\n|$)", sql) if p.strip()]
        return [(p.strip(), None, p.strip()) for p in pieces] or [(sql, None, sql)]
    if ";" not in sql:  # one statement: no token can be a semicolon
        return [(sql[tokens[0].start : tokens[-1].end + 1], tokens, sql)] if tokens else []
    chunks: list[Chunk] = []
    current: list[Token] = []
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if current:
                chunks.append((sql[current[0].start : current[-1].end + 1], current, sql))
            current = []
        else:
            current.append(token)
    if current:
        chunks.append((sql[current[0].start : current[-1].end + 1], current, sql))
    return chunks


_BULK_VALUES = re.compile(
    r"^\s*(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+([^\s(]+)\s*(\([^)]*\))?\s*VALUES\b", re.IGNORECASE
)


def _oversized(text: str, index: int, ctx: Context, glot: Dialect) -> StatementLineage:
    """A statement above the size limit: bulk INSERT..VALUES by its head, else a clear error."""
    head = _BULK_VALUES.match(text[:65536])
    if head:
        stub = f"INSERT INTO {head.group(1)} {head.group(2) or ''} VALUES (1)"
        node = _parse(stub, None, glot)
        result = analyse(node, ctx, index, stub)
        return StatementLineage(index=index, kind=result.kind, outputs=result.outputs, sql=text[:200])
    size = len(text.encode("utf-8", "replace")) / 1e6
    return _failure(index, text[:200], f"too large: {size:.1f} MB is above the {ctx.max_bytes / 1e6:.1f} MB limit for one statement")


def _parse(text: str, tokens: list[Token] | None, dialect: Dialect) -> exp.Expr:
    if tokens is None:
        tokens = tokenize(dialect, text)
    parsed = [e for e in parser_of(dialect).parse(tokens, text) if e is not None]
    if not parsed:
        raise SqlglotError("no statement")
    return parsed[0]


_DIRECTORY_USING = re.compile(
    r"^\s*(INSERT\s+OVERWRITE\s+(?:LOCAL\s+)?DIRECTORY\s+'[^']*')\s+USING\s+\w+(?:\s+OPTIONS\s*\([^)]*\))?", re.IGNORECASE
)
_BULK_INSERT = re.compile(r"^\s*BULK\s+INSERT\s+(\S+)\s+FROM\s+'([^']*)'", re.IGNORECASE)
_UPDATE_TOP = re.compile(r"^\s*UPDATE\s+TOP\s*\([^)]*\)\s*(?:PERCENT\b)?", re.IGNORECASE)
_CALL_WITHOUT_EXEC = re.compile(r"^\s*(?:\[?\w+\]?\.){0,2}\[?\w+\]?\s+(?:N?'|@\w+\s*=)", re.IGNORECASE)
_LAKE_INSERT = re.compile(r"\)\s*PARTITION\s*\(|\)\s*IF\s+NOT\s+EXISTS|\[\s*\w+\s*\]|\A\s*UPSERT\s", re.IGNORECASE)
_USE = re.compile(r"^\s*USE\s+(?:(DATABASE|SCHEMA|CATALOG)\s+)?([\w.$]+)\s*$", re.IGNORECASE)


def _lake(text: str, index: int, ctx: Context, glot: Dialect) -> StatementLineage | None:
    """INSERT heads of Impala and Hive that sqlglot cannot read (``INSERT INTO t (a, b) PARTITION
    (ds) [SHUFFLE]``, ``PARTITION (..) IF NOT EXISTS``), reordered; tried before a failed text is
    cut into pieces, as a Hive multi-insert would be."""
    lake = lake_insert(text, glot) if _LAKE_INSERT.search(text) else None
    if lake is None:
        return None
    try:
        node = _parse(lake, None, glot)
    except SqlglotError:
        return None
    return analyse(node, ctx, index, text)


_REPLACE_TABLE = re.compile(r"^\s*REPLACE\s+TABLE\s", re.IGNORECASE)


def _output_into(text: str, index: int, ctx: Context, glot: Dialect) -> StatementLineage | None:
    """T-SQL's ``OUTPUT .. INTO target``, which sqlglot cannot read: the statement without it,
    and the rows the clause writes (``output_into``). None for any other text, or several
    statements (cut into pieces next, each tried again)."""
    output = split_output(text)
    if output is not None:
        try:
            return add_output(analyse(_parse(output[0], None, glot), ctx, index, text), output[1], ctx, glot)
        except SqlglotError:
            pass
    bare = without_output(text)  # OUTPUT with no INTO: its rows go to the client
    try:
        return analyse(_parse(bare, None, glot), ctx, index, text) if bare is not None else None
    except SqlglotError:
        return None


def _rewritten(text: str, index: int, ctx: Context, glot: Dialect) -> StatementLineage | None:
    """Statements sqlglot cannot read, as the ones it reads that they are: Delta's ``REPLACE TABLE
    t .. AS SELECT`` / ``.. CLONE s`` (``CREATE OR REPLACE TABLE``), MySQL's ``LOAD DATA INFILE``
    and BigQuery's LOAD DATA with a column list or options (``loads.unparsed_load``), MySQL's
    ``SELECT .. INTO OUTFILE`` (``outfiles``), BigQuery's ``APPENDS(TABLE t, ..)``
    (``table_functions``). Tried before a failed text is cut into pieces (a REPLACE's query would
    become a SELECT of its own)."""
    head = text.lstrip()[:7].upper()
    try:
        if head.startswith("LOAD"):
            load = unparsed_load(text, ctx.dialect)
            node = normalize_identifiers(load, dialect=dialect_of(ctx.dialect)) if load is not None else None
        elif _REPLACE_TABLE.match(text):
            node = _parse("CREATE OR " + text.lstrip(), None, glot)
        elif (outfile := split_outfile(text)) is not None:  # SELECT .. INTO OUTFILE 'path'
            return to_file(analyse(_parse(outfile[0], None, glot), ctx, index, text), outfile[1])
        elif ctx.dialect == "bigquery" and (named := table_argument(text)) is not None:  # APPENDS(TABLE t, ..)
            node = argument_tables(_parse(named[0], None, glot), named[1], glot)
        else:
            node = None
        return analyse(node, ctx, index, text) if node is not None else None
    except SqlglotError:  # not understood in its other form either: failed as written
        return None


def _fallback(text: str, index: int, ctx: Context, glot: Dialect) -> StatementLineage | None:
    """Statements sqlglot cannot parse whose meaning is still plain: ``USE warehouse``
    (a keyword as a name), and procedural lines known to carry no lineage."""
    match = _USE.match(text)
    if match:
        kind = exp.Var(this=match.group(1).upper()) if match.group(1) else None
        node = exp.Use(this=exp.to_table(match.group(2)), kind=kind)
        return analyse(normalize_identifiers(node, dialect=dialect_of(ctx.dialect)), ctx, index, text)
    bulk = _BULK_INSERT.match(text)
    if bulk:  # T-SQL BULK INSERT t FROM 'file' [WITH (..)]: a load, like COPY
        target = dataset(ctx, normalize_identifiers(exp.to_table(bulk.group(1), dialect=ctx.dialect), dialect=ctx.dialect))
        return StatementLineage(index=index, kind="copy", inputs=(DatasetRef(bulk.group(2), "file"),),
                                outputs=(target,), sql=text)
    top = _UPDATE_TOP.match(text)
    if top:  # T-SQL UPDATE TOP (n) t SET ..: which n rows changes no lineage
        return analyse(_parse("UPDATE " + text[top.end() :], None, glot), ctx, index, text)
    if _CALL_WITHOUT_EXEC.match(text):  # T-SQL: a batch may begin with a procedure call without EXEC
        try:
            node = _parse("EXEC " + text, None, glot)
        except SqlglotError:
            node = None
        if isinstance(node, exp.Execute):
            return analyse(normalize_identifiers(node, dialect=dialect_of(ctx.dialect)), ctx, index, text)
    directory = _DIRECTORY_USING.match(text)
    if directory:  # Spark: INSERT OVERWRITE DIRECTORY '...' USING parquet [OPTIONS (...)] SELECT ...
        node = _parse(directory.group(1) + " " + text[directory.end() :], None, glot)
        return analyse(node, ctx, index, text)
    evaluated = ml.unparsed(ctx, text)  # BigQuery ML.EVALUATE(MODEL m, ..), which sqlglot cannot read
    if evaluated is not None:
        read = tuple(dict.fromkeys(evaluated.inputs))
        return StatementLineage(index=index, kind=evaluated.kind, inputs=read, sql=text,
                                ml=ml.model_facts(evaluated.kind, read, ()))
    read = _let_reads(text, ctx, glot)
    if read:
        return StatementLineage(index=index, kind="select", inputs=read, sql=text)
    word = text.split(None, 1)[0].upper() if text.strip() else ""
    dynamic = dynamic_reason(text) if word.startswith("EXEC") else None
    if dynamic:  # EXEC (@sql + N'..'): SQL built at run time (a literal was read upstream)
        return _failure(index, text, f"not understood: {dynamic}")
    if word in PROCEDURAL_WORDS or word in METADATA_WORDS:
        return StatementLineage(index=index, kind="other", sql=text)
    return None


def _let_reads(text: str, ctx: Context, glot: Dialect) -> tuple[DatasetRef, ...]:
    """The tables a Snowflake ``LET v := (SELECT ..)`` or a declaration ``v T DEFAULT (SELECT ..)``
    reads (its value read as a select item)."""
    value = let_value(text)
    if value is None:
        return ()
    try:
        node = _parse(f"SELECT {value}", None, glot)
    except SqlglotError:
        return ()
    return tuple(query_reads(ctx, normalize_identifiers(node, dialect=glot)))


def _failure(index: int, text: str, reason: str) -> StatementLineage:
    """A statement that did not parse, of the kind its first words name (a failed INSERT is an insert)."""
    return StatementLineage(index=index, kind=head_kind(text), error=reason, sql=text)


def _describe(error: BaseException, text: str = "", dialect: str | None = None) -> str:
    """Why a statement could not be analysed, with no literal of it (``reasons.describe`` for
    what sqlglot raised)."""
    if isinstance(error, StatementTimeout):
        return "timed out: the statement took longer than the time limit to analyse"
    if isinstance(error, RecursionError):
        return "too deeply nested to analyse"
    if isinstance(error, MemoryError):
        return "too large to analyse"
    from .statements import NotUnderstood

    if isinstance(error, NotUnderstood):
        return redact_message(f"not understood: {error}", dialect)
    return describe(error, text, dialect)


def extract(
    sql: str,
    dialect: str | None = None,
    *,
    catalog: Mapping[str, Mapping[str, str]] | Catalog | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    collapse_temp: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    columns: bool | str = True,
    session: Context | None = None,
) -> list[StatementLineage]:
    """Lineage of every statement in ``sql``; bad statements carry an ``error``.

    Statements share state in order: ``USE`` and ``SET search_path`` qualify
    later names, and tables created earlier lend their columns to later ones.
    ``columns=False`` gives table-level lineage only, several times faster;
    ``columns="writes"`` column-level for writes and table-level for plain SELECTs.
    ``timeout`` bounds the seconds one statement may take; ``max_bytes`` its size.
    ``session`` (from :func:`new_session`) carries that state on to the next call: scripts run
    one after another in one session (its catalog and defaults stand for the arguments).
    """
    name = resolve_dialect(dialect)
    glot = dialect_of(name)
    ctx = session if session is not None else new_session(
        name, catalog=catalog, default_database=default_database, default_schema=default_schema,
        max_bytes=max_bytes, columns=columns)
    if not isinstance(sql, str):
        raise ConfigError("SQL must be text")
    ctx.meta_comments = has_meta_comment(sql)  # every text analysed below is cut from sql
    backticks = (name or "") in BACKTICK_DIALECTS
    ctx.variables = Variables()  # a script's variables are its own, not the next script's in the session
    results: list[StatementLineage] = []
    todo = deque(_statements(separate_batches(sql), glot, ctx.max_bytes, Marks(name)))
    with _time_limits(timeout) as limit:
        _each(todo, results, ctx, glot, limit or _NO_LIMIT, backticks, ctx.max_bytes, name)
    if not results:
        results.append(_failure(0, sql, "empty input: no SQL statement found"))
    return collapse_temp_tables(results) if collapse_temp else results


def new_session(
    dialect: str | None = None,
    *,
    catalog: Mapping[str, Mapping[str, str]] | Catalog | None = None,
    default_database: str | None = None,
    default_schema: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    columns: bool | str = True,
) -> Context:
    """What the statements of one script share (see ``extract``), to run several in one session."""
    name = resolve_dialect(dialect)
    # the caller's catalog is read, never changed: a statement that teaches the script's copy a
    # table (CREATE, DROP, RENAME) copies it first
    cat = catalog.borrow() if isinstance(catalog, Catalog) else Catalog.from_mapping(catalog, name)
    ctx = Context(
        columns=columns is True or columns == "writes",
        select_columns=columns is True,
        max_bytes=max_bytes,
        dialect=name,
        catalog=cat,
        database=_norm(default_database, name),
        # PostgreSQL and Redshift resolve bare names through search_path ("$user", public): with a
        # database and no schema given, public is where a bare name lives.
        use_sets_database=(name or "") in USE_NAMES_DATABASE,
    )
    # A default schema may carry the rest of a search path: "stg,raw" (a session's SET search_path).
    ctx.set_schemas(",".join(filter(None, (_norm(s.strip(), name) for s in (
        default_schema or (PUBLIC_SCHEMA.get(name or "") if default_database else None) or "").split(",")))))
    return ctx


def _each(todo: deque[Chunk | Mark], results: list[StatementLineage], ctx: Context, glot: Dialect,
          limit: _Limit | nullcontext, backticks: bool, max_bytes: int, name: str | None) -> None:
    """Analyse the statements in ``todo`` in order, each within ``limit``, into ``results``."""
    while todo:
        item = todo.popleft()
        index = len(results)
        if not isinstance(item, tuple):  # a variable's scope opens, grows or closes
            ctx.variables.apply(item)
            if isinstance(item, Declare) and item.text:  # a declaration: it reads what its value's query reads
                read = _let_reads(item.text, ctx, glot)
                results.append(StatementLineage(index=index, kind="select" if read else "other", inputs=read, sql=item.text))
            continue
        text, tokens, base = item
        try:
            with limit:
                if len(text) > max_bytes:
                    results.append(_oversized(text, index, ctx, glot))
                    continue
                if backticks and "`" in text:  # Athena's Hive-style names in Trino SQL
                    text = _BACKTICKED.sub(lambda m: f'"{m.group(1)}"' if m.group(1) is not None else m.group(0), text)
                    tokens = None
                if tokens is None:
                    tokens, base = tokenize(glot, text), text
                node = _parse(base, tokens, glot)  # the tokens point into base
                if isinstance(node, exp.Command) and _unterminated(todo, tokens, base, glot):
                    continue  # sqlglot's catch-all swallowed several statements
                results.append(analyse(node, ctx, index, text, tokens, base))
        except SqlglotError as e:
            lake = _output_into(text, index, ctx, glot) if ctx.dialect == "tsql" else None
            if lake is None and "SERT" in text.upper():
                lake = _lake(text, index, ctx, glot)
            if lake is None:
                lake = _rewritten(text, index, ctx, glot)
            if lake is not None:
                results.append(lake)
                continue
            if tokens and _unterminated(todo, tokens, base):
                continue
            results.append(_fallback(text, index, ctx, glot) or _failure(index, text, _describe(e, text, name)))
        except (StatementTimeout, RecursionError, MemoryError) as e:
            results.append(_fallback(text, index, ctx, glot) or _failure(index, text, _describe(e, text, name)))
        except Exception as e:  # a bug of ours must not stop the script
            reason = redact_message(f"internal error: {type(e).__name__}: {e}", name)
            results.append(_failure(index, text, reason))


PUBLIC_SCHEMA = {"postgres": "public", "redshift": "public"}
# Dialects where a statement needs no semicolon: their scripts are cut at statement keywords
# up front (a permissive parse would read `SET NOCOUNT ON SELECT ...` as one SET). Elsewhere
# only a chunk that fails to parse is cut.
NO_SEMICOLONS = frozenset({"tsql"})


# Trino-based dialects quote names with "..."; Athena's own docs and users write `...` (its
# Hive DDL syntax) in queries too. Outside string literals, `x` is read as "x".
BACKTICK_DIALECTS = frozenset({"athena", "trino", "presto"})
_BACKTICKED = re.compile(r"'(?:[^']|'')*'|`([^`]*)`")


def _cut(tokens: list[Token], base: str) -> list[Chunk] | None:
    """The statements of a run of tokens with no semicolons between them, or None for one.
    Each is tokenized again on its own: sqlglot's fallback for statements it knows only as
    commands cannot work on a slice of another text's tokens."""
    pieces = split_unterminated(tokens, base)
    return [(piece, None, piece) for piece, _ in pieces] if len(pieces) > 1 else None


def _unterminated(todo: deque[Chunk | Mark], tokens: list[Token], base: str, strict: Dialect | None = None) -> bool:
    """Several statements with no semicolons between them: queue them one at a time. With
    ``strict`` (the text did parse, as sqlglot's catch-all Command) only when every piece
    parses as a statement sqlglot knows."""
    cut = _cut(tokens, base)
    if cut is None:
        return False
    if strict is not None:
        try:
            if any(isinstance(_parse(piece, None, strict), exp.Command) for piece, _, _ in cut):
                return False
        except SqlglotError:
            return False
    todo.extendleft(reversed(cut))
    return True


def _statements(sql: str, glot: Dialect, max_bytes: int, marks: Marks) -> Iterator[Chunk | Mark]:
    """The statements of a script, routine bodies opened, with the marks of where variables
    come into scope and leave it (``variables``) between them."""
    unterminated = type(glot).__name__.lower() in NO_SEMICOLONS
    for text, tokens, base in _split(sql, glot, max_bytes):
        inner = body_statements(text) if len(text) <= max_bytes else None
        if inner is not None:
            before, after = marks.block(text)
            yield from before
            for part in inner:
                yield from _statements(part, glot, max_bytes, marks)
            yield from after
            continue
        mark = marks.statement(text)
        if mark is not None:
            yield mark
            if isinstance(mark, Declare) and mark.text:  # a section's declaration: no statement to parse
                continue
        cut = _cut(tokens, base) if unterminated and tokens else None
        for chunk in cut or [(text, tokens, base)]:
            executed = _executed(chunk[0], glot)
            if executed is None:
                yield chunk
            else:  # EXECUTE IMMEDIATE '<sql>', EXEC sp_executesql N'<sql>': the statements the string holds
                yield from _statements(executed, glot, max_bytes, marks)


def _executed(text: str, glot: Dialect) -> str | None:
    """The SQL ``text`` runs from a string literal (``commands.executed_sql``); a cheap test first."""
    return executed_sql(text, glot) if text[:4].upper() == "EXEC" else None


@lru_cache(maxsize=1024)
def _norm(name: str | None, dialect: str | None) -> str | None:
    """A default database / schema normalized as a part of a table name (BigQuery keeps its case).
    Every statement of a log names the same few: each is normalized once."""
    if not name:
        return None
    table = exp.Table(this=exp.to_identifier("t"), db=exp.to_identifier(name))
    return normalize_identifiers(table, dialect=dialect_of(dialect)).args["db"].name
