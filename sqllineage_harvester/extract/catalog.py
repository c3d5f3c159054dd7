"""Table -> columns knowledge: the user's catalog plus what a script creates.

Names are normalized with the dialect's identifier rules before they are
stored, so a catalog written in lower case matches Snowflake's upper-cased
unquoted names. Keys may be ``db.schema.table``, ``schema.table`` or
``table``; a lookup matches from the right, so a short key answers a long
reference and the other way round, preferring the most specific entry.
"""

from __future__ import annotations

from typing import Any, Mapping

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from ..errors import ConfigError

# Stand-ins for a missing database / schema, so every table has three parts.
NO_DB = "__nodb__"
NO_SCHEMA = "__noschema__"
PLACEHOLDERS = frozenset({NO_DB, NO_SCHEMA})

Parts = tuple[str, str, str]


def is_placeholder(name: str) -> bool:
    return name.lower() in PLACEHOLDERS


def table_parts(table: exp.Table) -> Parts:
    """The (database, schema, table) of a table node, placeholders for gaps."""
    db, schema = table.catalog, table.db
    return (NO_DB if not db or is_placeholder(db) else db, NO_SCHEMA if not schema or is_placeholder(schema) else schema, table.name)


def display_name(parts: Parts) -> str:
    return ".".join(p for p in parts if p and not is_placeholder(p))


def name_parts(name: str) -> Parts:
    """The inverse of ``display_name``: (database, schema, table), placeholders for gaps.

    >>> name_parts("s.t")
    ('__nodb__', 's', 't')
    """
    parts = name.split(".")
    if len(parts) < 3:
        return (NO_DB, NO_SCHEMA)[: 3 - len(parts)] + tuple(parts)  # type: ignore[return-value]
    return (".".join(parts[:-2]), parts[-2], parts[-1])


def _matches(key: tuple[str, ...], ref: Parts) -> int:
    """Score how well a catalog key fits a reference; 0 means no fit."""
    score = 1
    for k, r in zip(reversed(key), reversed(ref)):
        if is_placeholder(r):
            continue
        if k != r:
            return 0
        score += 1
    return score


UNKNOWN = "UNKNOWN"


def typed(columns: Mapping[str, str]) -> dict[str, str]:
    """Columns as the catalog keeps them: a column whose type is not known (a learned one) is
    UNKNOWN, which the parser takes like any type."""
    return {c: (t or "").strip() or UNKNOWN for c, t in columns.items()}


class Catalog:
    """Columns of known tables, in declaration order."""

    _borrowed = False  # the tables are another catalog's until this one first changes (``borrow``)

    def __init__(self) -> None:
        self._by_table: dict[str, dict[tuple[str, ...], dict[str, str]]] = {}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Mapping[str, str]] | None, dialect: str | None) -> Catalog:
        catalog = cls()
        for key, columns in (mapping or {}).items():
            if not isinstance(columns, Mapping):
                raise ConfigError(f"catalog entry {key!r} must map column names to types")
            try:
                table = normalize_identifiers(exp.to_table(str(key), dialect=dialect), dialect=dialect)
            except SqlglotError as e:
                raise ConfigError(f"catalog key {key!r} is not a table name: {e}") from e
            names = {}
            for column, kind in columns.items():
                ident = normalize_identifiers(exp.to_identifier(str(column)), dialect=dialect)
                names[ident.name] = str(kind)
            parts = tuple(p for p in (table.catalog, table.db, table.name) if p)
            catalog.add(parts, names)
        return catalog

    def copy(self) -> Catalog:
        other = Catalog()
        other._by_table = {k: dict(v) for k, v in self._by_table.items()}
        return other

    def borrow(self) -> Catalog:
        """A copy that is made only when it first changes (a CREATE, DROP or RENAME teaching it):
        until then it reads this catalog's tables, which must not change while it is in use.
        ``extract`` takes one per call, and most statements change nothing.

        >>> c = Catalog(); c.add(("s", "t"), {"a": "int"})
        >>> b = c.borrow(); b.add(("s", "u"), {"b": "int"}); b.drop(("s", "t"))
        True
        >>> [key for key, _ in c.dump()], [key for key, _ in b.dump()]
        ([['s', 't']], [['s', 'u']])
        """
        other = Catalog()
        other._by_table = self._by_table
        other._borrowed = True
        return other

    def _own(self) -> None:
        """Make a borrowed catalog's tables its own, before it changes them."""
        if self._borrowed:
            self._by_table = {k: dict(v) for k, v in self._by_table.items()}
            self._borrowed = False

    def dump(self) -> list[list[object]]:
        """The catalog as JSON-ready ``[[parts...], {column: type}]`` pairs, names as normalized.

        >>> c = Catalog(); c.add(("db", "s", "MyTable"), {"Id": "int"})
        >>> Catalog.load(c.dump()).columns(("db", "s", "MyTable"))
        {'Id': 'int'}
        """
        return [[list(key), cols] for key, cols in sorted(k for tables in self._by_table.values() for k in tables.items())]

    @classmethod
    def load(cls, data: list[list[Any]]) -> Catalog:
        """A catalog from ``dump()``: no normalization, the names are taken as they are."""
        catalog = cls()
        for parts, columns in data:
            catalog.add(tuple(str(p) for p in parts), {str(k): str(v) for k, v in dict(columns).items()})
        return catalog

    def add(self, parts: tuple[str, ...], columns: Mapping[str, str]) -> None:
        """Know a table's columns (see ``typed``)."""
        key = tuple(p for p in parts if not is_placeholder(p))
        self._own()
        self._by_table.setdefault(key[-1], {})[key] = typed(columns)

    def update(self, other: Catalog) -> None:
        """Know every table ``other`` knows, as it knows it.

        >>> c = Catalog(); c.add(("s", "t"), {"a": "UNKNOWN"}); c.add(("s", "v"), {"b": "UNKNOWN"})
        >>> given = Catalog(); given.add(("s", "t"), {"a": "int", "c": "text"}); c.update(given)
        >>> c.columns(("__nodb__", "s", "t")), c.columns(("__nodb__", "s", "v"))
        ({'a': 'int', 'c': 'text'}, {'b': 'UNKNOWN'})
        """
        self._own()
        for name, tables in other._by_table.items():
            self._by_table.setdefault(name, {}).update((key, dict(columns)) for key, columns in tables.items())

    def drop(self, parts: tuple[str, ...]) -> bool:
        """Forget a table; whether it was known."""
        key = tuple(p for p in parts if not is_placeholder(p))
        if key not in self._by_table.get(key[-1], {}):
            return False
        self._own()
        del self._by_table[key[-1]][key]
        return True

    def may_know(self, name: str) -> bool:
        """Whether ``columns`` can answer for a table named ``name`` at all: a known name, or a
        wildcard one. A cheap test before building the reference a lookup needs.

        >>> c = Catalog(); c.add(("s", "t"), {"a": "int"})
        >>> c.may_know("t"), c.may_know("u"), c.may_know("u*")
        (True, False, True)
        """
        return bool(self._by_table.get(name)) or name.endswith("*")

    def columns(self, ref: Parts) -> dict[str, str] | None:
        candidates = self._by_table.get(ref[2])
        if not candidates:
            return self._wildcard(ref) if ref[2].endswith("*") else None
        best, best_score = None, 0
        for key, cols in candidates.items():
            score = _matches(key, ref)
            if score > best_score:
                best, best_score = cols, score
        return best

    def _wildcard(self, ref: Parts) -> dict[str, str] | None:
        """A wildcard table (BigQuery's ``events_*``, ``events_2026*``) has the columns of the
        last table, by name, that it reads (the newest shard of a date-sharded family).

        >>> c = Catalog(); c.add(("p", "d", "events_20260101"), {"a": "INT64"})
        >>> c.add(("p", "d", "events_20260102"), {"a": "INT64", "b": "STRING"})
        >>> c.columns(("p", "d", "events_*")), c.columns(("p", "d", "other_*"))
        ({'a': 'INT64', 'b': 'STRING'}, None)
        """
        prefix = ref[2][:-1]
        for name in sorted((n for n in self._by_table if n.startswith(prefix) and n != ref[2]), reverse=True):
            found = self.columns((ref[0], ref[1], name))
            if found is not None:
                return found
        return None

    def __bool__(self) -> bool:
        return bool(self._by_table)


def defined_columns(sql: str, dialect: str | None) -> dict[str, str] | None:
    """The columns (name: type) one ``CREATE TABLE t (...)`` statement defines, names normalized;
    None when ``sql`` is something else.

    >>> defined_columns("CREATE TABLE s.t (Id INT, \\"Note\\" TEXT)", "postgres")
    {'id': 'INT', 'Note': 'TEXT'}
    """
    import sqlglot

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return None
    if not isinstance(tree, exp.Create) or not isinstance(tree.this, exp.Schema):
        return None
    schema = normalize_identifiers(tree.this, dialect=dialect)
    defined = [d for d in schema.expressions if isinstance(d, exp.ColumnDef)]
    defined += [normalize_identifiers(d, dialect=dialect) for d in partition_columns(tree)]
    return {d.name: (d.args["kind"].sql(dialect) if d.args.get("kind") else "") for d in defined}


def partition_columns(create: exp.Expr) -> list[exp.ColumnDef]:
    """Hive's ``PARTITIONED BY (ds STRING)``: columns the table has after the others (Spark's
    ``PARTITIONED BY (ds)`` only names columns already defined)."""
    partitioned = create.find(exp.PartitionedByProperty)
    if partitioned is None or not isinstance(partitioned.this, exp.Schema):
        return []
    return [d for d in partitioned.this.expressions if isinstance(d, exp.ColumnDef)]

