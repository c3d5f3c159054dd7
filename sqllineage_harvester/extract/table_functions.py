"""Table functions whose reads are in strings: Databricks' ``table_changes('silver.orders', 2)``
(a Delta table's change feed) names a table, and so do BigQuery's ``APPENDS(TABLE ds.t, ..)`` and
``CHANGES(TABLE ds.t, ..)`` once ``table_argument`` has written their TABLE argument as a string
(sqlglot cannot read it); EXTERNAL_QUERY / OPENQUERY / dblink run a query on
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
# Table functions whose rows come from a query run on another server (its text a string).
_REMOTE = frozenset({"external_query", "openquery", "opendatasource", "dblink"})
_FEED_COLUMNS = frozenset({"_change_type", "_commit_version", "_commit_timestamp", "_change_timestamp"})
# BigQuery's change-history functions with their table as a TABLE argument.
_TABLE_ARGUMENT = re.compile(r"\b(APPENDS|CHANGES)\s*\(\s*TABLE\s+((?:`[^`]+`|[\w-]+)(?:\s*\.\s*(?:`[^`]+`|[\w-]+))*)",
                             re.IGNORECASE)
_UNQUOTED = re.compile(r"[`\s]")


def table_argument(text: str) -> str | None:
    """``text`` with each ``APPENDS(TABLE ds.t`` / ``CHANGES(TABLE ds.t`` written as
    ``APPENDS('ds.t'``, the form ``named_tables`` reads; None when it has none."""
    if "TABLE" not in text.upper():
        return None
    rewritten = _TABLE_ARGUMENT.sub(lambda m: f"{m.group(1)}('{_UNQUOTED.sub('', m.group(2))}'", text)
    return rewritten if rewritten != text else None


def names_table(func: exp.Expr) -> bool:
    return isinstance(func, exp.Anonymous) and func.name.lower() in _NAMING


def named_tables(nodes: list[exp.Expr], glot: Dialect) -> bool:
    """Put the table each such call names in place of its string (in place); whether any was."""
    changed = False
    for func in nodes:
        if not names_table(func) or not func.expressions:
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
