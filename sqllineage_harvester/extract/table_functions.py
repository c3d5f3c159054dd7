"""Table functions whose reads are in strings: Databricks' ``table_changes('silver.orders', 2)``
(a Delta table's change feed) names a table, and BigQuery's ``APPENDS(TABLE ds.t, ..)`` and
``CHANGES(TABLE ds.t, ..)`` read one (sqlglot cannot read a TABLE argument: ``table_argument``
writes it as a string for the parse, and ``argument_tables`` makes it the table again);
EXTERNAL_QUERY / OPENQUERY / dblink run a query on
another server (``runs_elsewhere``: a warning, its columns' origin not known).

Read as any table function, the string is no table: the statement read nothing and its columns
came from nothing. The string becomes the table it names (``named_tables``, before the query is
qualified, so the session's defaults qualify it as any other name), and each column the function
yields is that table's column of its name, but the change feed's own ``_change_type``,
``_commit_version`` and ``_commit_timestamp``, which no column of the table makes.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

_NAMING = frozenset({"table_changes", "appends", "changes"})
_BY_STRING = frozenset({"table_changes"})  # those whose table a string names (the others: table_argument)
# Table functions whose rows come from a query run on another server (its text a string).
_REMOTE = frozenset({"external_query", "openquery", "opendatasource", "dblink"})
_FEED_COLUMNS = frozenset({"_change_type", "_commit_version", "_commit_timestamp", "_change_timestamp"})
# BigQuery's change-history functions with their table as a TABLE argument, outside string literals
# (a literal is matched whole first, and left as it is).
_TABLE_ARGUMENT = re.compile(
    r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|"""
    r"\b(?P<function>APPENDS|CHANGES)\s*\(\s*TABLE\s+(?P<name>(?:`[^`']+`|[\w-]+)(?:\s*\.\s*(?:`[^`']+`|[\w-]+))*)",
    re.IGNORECASE)
_UNQUOTED = re.compile(r"[`\s]")


def table_argument(text: str) -> tuple[str, set[str]] | None:
    """BigQuery's ``APPENDS(TABLE ds.t, ..)`` / ``CHANGES(TABLE ds.t, ..)``, which sqlglot cannot
    read, as ``APPENDS('ds.t', ..)``, and the names so written (``argument_tables`` makes them
    tables once parsed); None when the text has none."""
    if "TABLE" not in text.upper():
        return None
    names: set[str] = set()

    def written(match: re.Match[str]) -> str:
        if match.group("function") is None:
            return match.group(0)  # a string literal
        name = _UNQUOTED.sub("", match.group("name"))
        names.add(name)
        return f"{match.group('function')}('{name}'"

    rewritten = _TABLE_ARGUMENT.sub(written, text)
    return (rewritten, names) if names else None


def argument_tables(node: exp.Expr, names: set[str], glot: Dialect) -> exp.Expr:
    """The strings ``table_argument`` wrote in place of TABLE arguments, as the tables they name."""
    for func in list(node.find_all(exp.Anonymous)):
        if func.name.lower() in _NAMING and func.expressions:
            first = func.expressions[0]
            if isinstance(first, exp.Literal) and first.is_string and first.name in names:
                first.replace(normalize_identifiers(exp.to_table(first.name, dialect=glot), dialect=glot))
    return node


def names_table(func: exp.Expr) -> bool:
    return isinstance(func, exp.Anonymous) and func.name.lower() in _NAMING


def named_tables(nodes: list[exp.Expr], glot: Dialect) -> bool:
    """Put the table each such call names in place of its string (in place); whether any was."""
    changed = False
    for func in nodes:
        if not names_table(func) or func.name.lower() not in _BY_STRING or not func.expressions:
            continue
        name = func.expressions[0]
        if not (isinstance(name, exp.Literal) and name.is_string and name.name):
            continue
        try:
            table = exp.to_table(name.name, dialect=glot)
        except SqlglotError:
            continue
        name.replace(normalize_identifiers(table, dialect=glot))
        changed = True
    return changed


def fed_column(func: exp.Expr, name: str) -> str | None:
    """The column of the named table that the call's column ``name`` is; None for the change
    feed's own columns."""
    return None if name.lower() in _FEED_COLUMNS else name


def runs_elsewhere(func: exp.Expr) -> bool:
    """BigQuery's EXTERNAL_QUERY, T-SQL's OPENQUERY, Postgres' dblink: rows of a query another
    server runs, whose columns come from tables the statement does not name."""
    return isinstance(func, exp.Anonymous) and func.name.lower() in _REMOTE
