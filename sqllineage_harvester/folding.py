"""Names given in Python (the API's) spelled as the harvest of their database spells them.

The harvest reads a statement with its dialect and folds each unquoted identifier as the database
does (sqlglot's ``normalize_identifiers``): Snowflake's to upper case, PostgreSQL's and Redshift's
to lower case, BigQuery's column names to lower case, MySQL's table names as written and its
column names to lower case; a quoted one keeps its case (but for MySQL's columns). A name recorded for a namespace is folded by the same rules, the namespace's scheme naming
the dialect file (``dialects/*.toml``), so that it meets the harvested node.

>>> fold_name("postgres://db:5432", 'App.Public."B"'), fold_name("snowflake://acme", "db.raw.t")
('app.public.B', 'DB.RAW.T')
>>> fold_column("postgres://db:5432", "Amount"), fold_column("mysql://db:3306", "Amount")
('amount', 'amount')
>>> fold_name("postgres://db:5432", "s3://bucket/Orders")
's3://bucket/Orders'
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from .errors import ConfigError
from .extract.glot import dialect_of
from .extract.statements import CASELESS_COLUMNS
from .naming import spec_namespace


@lru_cache(maxsize=64)
def namespace_dialect(namespace: str) -> str | None:
    """The sqlglot dialect of the database ``namespace`` names (``snowflake://acme``, ``bigquery``,
    ``postgresql://h:5432``); None where its scheme names no dialect file."""
    from .dialects import get_dialect

    scheme = spec_namespace(namespace).split("://", 1)[0].lower()
    try:
        return get_dialect(scheme).sqlglot
    except ConfigError:
        return None


def fold_name(namespace: str, name: str) -> str:
    """A dataset name as the harvest of ``namespace`` names it; a path (``s3://...``) or a name its
    dialect cannot read as a table stays as written."""
    glot = namespace_dialect(namespace)
    if glot is None or "://" in name:
        return name
    try:
        table = exp.to_table(name, dialect=glot)
    except SqlglotError:
        return name
    parts = [table.args.get(k) for k in ("catalog", "db", "this")]
    if not all(p is None or isinstance(p, exp.Identifier) for p in parts):
        return name  # more than three parts, or not a plain name: kept as given
    table = normalize_identifiers(table, dialect=dialect_of(glot))
    return ".".join(table.args[k].name for k in ("catalog", "db", "this") if table.args.get(k) is not None)


def fold_column(namespace: str, column: str) -> str:
    """A column name as the harvest of ``namespace`` names it (read as a column, alone)."""
    glot = namespace_dialect(namespace)
    if glot is None:
        return column
    try:
        node = exp.to_column(column, dialect=glot)
    except SqlglotError:
        return column
    if not isinstance(node, exp.Column) or node.table or not isinstance(node.this, exp.Identifier):
        return column
    name = normalize_identifiers(node, dialect=dialect_of(glot)).this.name
    return name.lower() if glot in CASELESS_COLUMNS else name  # MySQL's columns, quoted or not
