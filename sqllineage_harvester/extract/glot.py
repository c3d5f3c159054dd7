"""sqlglot dialects by name, each built once.

``Dialect.get_or_raise(name)`` builds a new dialect object on every call, and sqlglot's
helpers (``normalize_identifiers(..., dialect="snowflake")``) look the name up on every
call too: tens of thousands of times in a harvest. A dialect object keeps no state of a
statement, so one per name serves every statement.
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot.dialects.dialect import Dialect


@lru_cache(maxsize=64)
def dialect_of(name: str | None) -> Dialect:
    """The dialect named ``name`` (``None``: sqlglot's own); raises as ``Dialect.get_or_raise`` does."""
    return Dialect.get_or_raise(name)
