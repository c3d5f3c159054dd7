"""Names that read like columns and are none: sequence values and Oracle's pseudo-columns.

``seq.NEXTVAL`` parses as column NEXTVAL of a table ``seq``, and when no source of the query
is named ``seq`` the walker would read it as a field path (column SEQ of the one table read);
``LEVEL`` / ``ROWNUM`` in an Oracle query parse as plain columns and the qualifier gives them to
the one table read. Either way a column the table does not have would be made up, and its
value (a counter, a row number, a depth in a hierarchy) comes from no column.
"""

from __future__ import annotations

from sqlglot import exp

# Oracle and Snowflake: seq.NEXTVAL / schema.seq.CURRVAL.
_SEQUENCE_VALUES = frozenset({"nextval", "currval"})

# Oracle's pseudo-columns, reserved words that no table column can be named unquoted.
_ORACLE_PSEUDO = frozenset({
    "LEVEL", "ROWNUM", "ROWID", "UROWID", "ORA_ROWSCN", "CONNECT_BY_ISLEAF", "CONNECT_BY_ISCYCLE",
    "USER", "UID", "SESSIONTIMEZONE", "DBTIMEZONE",
})


def pseudo_columns(dialect: str | None) -> frozenset[str]:
    """The unquoted names that are pseudo-columns in ``dialect`` (as the dialect normalizes them)."""
    return _ORACLE_PSEUDO if dialect == "oracle" else frozenset()


def is_pseudo(column: exp.Column, pseudo: frozenset[str]) -> bool:
    """Whether ``column`` is one of the dialect's pseudo-columns (``LEVEL``, ``e.ROWID``), or the
    sequence T-SQL's ``NEXT VALUE FOR seq`` reads."""
    if isinstance(column.parent, exp.NextValueFor):
        return True
    ident = column.this
    return bool(pseudo) and isinstance(ident, exp.Identifier) and not ident.quoted and ident.name.upper() in pseudo


def is_sequence_value(column: exp.Column) -> bool:
    """``seq.NEXTVAL`` / ``db.seq.CURRVAL`` (called once its qualifier is known to be no source)."""
    return bool(column.table) and column.name.lower() in _SEQUENCE_VALUES
