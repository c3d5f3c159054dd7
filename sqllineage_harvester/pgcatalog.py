"""A live PostgreSQL database's tables and columns, as the catalog ``extract`` takes.

``read_catalog("postgresql://user@host/db")`` reads ``information_schema.columns``
(tables, views, foreign tables) and ``pg_attribute`` for materialized views, which
the information schema leaves out, plus the view definitions and the session's
``search_path``: its first existing schema is where unqualified names live.
Only what the role may see is read; system schemas are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .sources.postgres import MARK, with_retries
from .tags import comment_tags

COLUMNS_QUERY = MARK + """
SELECT table_catalog, table_schema, table_name, column_name, data_type, ordinal_position::int
FROM information_schema.columns
WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg\\_%'
UNION ALL
SELECT current_database(), n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnum::int
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'm' AND has_table_privilege(c.oid, 'SELECT')
ORDER BY 1, 2, 3, 6
"""
VIEWS_QUERY = MARK + """
SELECT schemaname, viewname, definition FROM pg_views
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT schemaname, matviewname, definition FROM pg_matviews
"""
SEARCH_PATH_QUERY = MARK + "SELECT current_database(), current_schemas(false)"
# Column comments, where teams write their tags (COMMENT ON COLUMN raw.customers.email IS 'pii:email').
COMMENTS_QUERY = MARK + """
SELECT current_database(), n.nspname, c.relname, a.attname, d.description
FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2, 3, 4
"""


@dataclass(frozen=True)
class PgCatalog:
    """``tables`` maps ``db.schema.table`` to ``{column: type}`` in column order;
    ``views`` maps ``db.schema.view`` to its defining SELECT."""

    database: str
    default_schema: str | None
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    views: Mapping[str, str] = field(default_factory=dict)
    # (db.schema.table, column, tag) of the tags written in columns' comments (tags.comment_tags)
    tags: tuple[tuple[str, str, str], ...] = ()


def read_catalog(url: str, retries: int = 4, backoff: float = 0.5) -> PgCatalog:
    """The catalog of the database ``url`` names; SourceError (no secret in it) when it cannot be read."""
    return with_retries(url, _read, retries, backoff)


def _read(conn: Any) -> PgCatalog:
    database, schemas = conn.execute(SEARCH_PATH_QUERY).fetchone()
    tables: dict[str, dict[str, str]] = {}
    for db, schema, table, column, kind, _ in conn.execute(COLUMNS_QUERY).fetchall():
        tables.setdefault(f"{db}.{schema}.{table}", {})[column] = kind
    views = {f"{database}.{schema}.{view}": text for schema, view, text in conn.execute(VIEWS_QUERY).fetchall()}
    tags = tuple((f"{db}.{schema}.{table}", column, tag)
                 for db, schema, table, column, text in conn.execute(COMMENTS_QUERY).fetchall()
                 for tag in comment_tags(text))
    return PgCatalog(database, schemas[0] if schemas else None, tables, views, tags)


__all__ = ["PgCatalog", "read_catalog"]
