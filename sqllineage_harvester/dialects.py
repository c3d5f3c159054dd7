"""Load and validate the declarative dialect files in ``dialects/*.toml``.

A database is data: everything the harvester knows about one (its sqlglot
dialect, how its exported history maps onto a log entry, the live history
query) lives in one TOML file, and core code reads it from a :class:`Dialect`.

>>> get_dialect("snowflake").export.columns["QUERY_TEXT"]
'sql'
>>> "postgres" in list_dialects()
True
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError
from .extract.ml import ML_SHAPES, NO_FACTS, MlFacts, MlFunction
from .model import LogEntry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# LogEntry fields an export column may fill (dialect, cursor and time basis are the reader's).
MAPPABLE_FIELDS = tuple(f.name for f in fields(LogEntry) if f.name not in ("dialect", "cursor", "time_basis", "lineage"))
CURSOR_FIELDS = ("start_time", "end_time", "offset")


@dataclass(frozen=True)
class StatusValues:
    """Which status values mean success, failure, or a run still going (upper case)."""

    success: frozenset[str] = frozenset()
    failure: frozenset[str] = frozenset()
    unfinished: frozenset[str] = frozenset()
    ignored: frozenset[str] = frozenset()  # rows that are no statement (a log's Connect, Quit, ...)


@dataclass(frozen=True)
class Records:
    """An engine's event log: one JSON event a line, whatever the file is named (see sources/records.py)."""

    prefix: str = ""  # a regular expression for what may come before the JSON on a line (a log4j layout)
    unwrap: tuple[str, ...] = ()  # members an event may come wrapped in ({"eventPayload": {...}, ...})
    require: tuple[str, ...] = ()  # members every event of this log has: a line without them is another event


@dataclass(frozen=True)
class ExportFormat:
    """How the rows of an exported history file become log entries."""

    columns: Mapping[str, str]  # export column -> LogEntry field, in preference order
    cursor: str = "offset"  # start_time | end_time | offset
    timestamp_formats: tuple[str, ...] = ()
    timezone: str = "UTC"
    status: StatusValues = StatusValues()
    null_values: frozenset[str] = frozenset()  # texts that stand for NULL ("NULL", "\\N"), upper case
    text_limit: int = 0  # the database cuts texts at this many characters (or bytes): exactly as long is truncated
    system_users: frozenset[str] = frozenset()  # users whose statements are the database's own (upper case)
    records: Records | None = None  # an event log of JSON lines rather than an export (Trino, Hive, Impala)


@dataclass(frozen=True)
class TextChunks:
    """Statement text kept in pieces, one row each: rows alike in ``key`` are one statement
    whose ``text`` column values, in ``order`` order, join into its text."""

    key: tuple[str, ...]
    order: str
    text: str


@dataclass(frozen=True)
class HistoryTable:
    """The live history table: the query the history reader runs and how to page it."""

    query: str
    cursor_column: str
    kind: str = "append"  # append | cumulative
    key_columns: tuple[str, ...] = ()
    cursor_type: str = "timestamp"  # timestamp | integer: how :cursor is bound
    id_column: str = ""  # tells apart rows with the same cursor value (in ORDER BY after the cursor)
    driver: str = ""  # the SQLAlchemy dialect+driver a bare scheme (mysql://) stands for
    grant: str = ""  # what to grant when the history table cannot be read
    settings: Mapping[str, str] = field(default_factory=dict)  # {name} placeholders in the query, overridable
    text_chunks: TextChunks | None = None
    catalog_query: str = ""  # rows of (table_catalog, table_schema, table_name, column_name, data_type)
    # The database's own column tags: rows of (table_catalog, table_schema, table_name, column_name,
    # tag name, tag value), kept as the column's tags ``name:value`` (see tags.catalog_tags)
    tags_query: str = ""
    # Run when ``query`` fails, e.g. because it joins a view an edition or a grant lacks
    # (Snowflake's ACCESS_HISTORY); the reason is reported as a note.
    fallback_query: str = ""
    # Other history tables of the same database, chosen with ?log=<name> in the source URL
    # (MariaDB's mysql.general_log next to performance_schema): each overrides the keys it names.
    variants: Mapping[str, "HistoryTable"] = field(default_factory=dict)
    # Cumulative histories: a column that is false for a statement run inside another (a function
    # body, the script of CREATE EXTENSION): those rows are skipped as ``nested_statement``.
    toplevel_column: str = ""
    # Cumulative histories: a column with the time a row's statistics began (PostgreSQL 17's
    # stats_since): an entry whose every run is new to the harvest starts there, not at the harvest.
    first_seen_column: str = ""


@dataclass(frozen=True)
class Dialect:
    name: str
    sqlglot: str
    export: ExportFormat
    history: HistoryTable | None = None
    use_names_database: bool = False
    backslash_escapes: bool = False
    # The database's own objects (catalogs, statistics views), never lineage: dotted name
    # patterns with * and ?, matched against a name's last parts (see system_objects.py).
    system_objects: tuple[str, ...] = ()
    # Suffix forms of date-sharded tables (``YYYYMMDD``): each family of shards and the wildcard
    # over it are one dataset (see shards.py); empty: off.
    date_shards: tuple[str, ...] = ()
    # ML statements: the shapes extract/ml.py reads and the ML functions' argument roles.
    ml: MlFacts = NO_FACTS
    # Functions whose result hides the value they are given (hashes, masking policies): a
    # column's tags stop there and become masked:TAG (see tags.py). Lower case.
    masking_functions: tuple[str, ...] = ()
    path: str = ""


def dialects_dir() -> Path:
    """``<checkout>/dialects`` next to the package, else the copy installed inside it."""
    package = Path(__file__).resolve().parent
    for candidate in (package.parent / "dialects", package / "_dialects"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    raise ConfigError(f"no dialect files found in {package.parent / 'dialects'} or {package / '_dialects'}")


def list_dialects() -> list[str]:
    """Names of the dialect files available, sorted."""
    return sorted(p.stem for p in dialects_dir().glob("*.toml"))


@lru_cache(maxsize=None)
def get_dialect(name: str) -> Dialect:
    """The dialect named ``name`` (a file ``dialects/<name>.toml``); ConfigError if unknown."""
    path = dialects_dir() / f"{name.lower()}.toml"
    if not path.is_file():
        raise ConfigError(f"unknown dialect {name!r}; known: {', '.join(list_dialects())}")
    return load_dialect(path)


def fitting_exports(names: list[str], given: str, columns: Mapping[str, str] | None = None) -> tuple[list[str], int]:
    """The dialects whose exports have more of a file's column ``names`` than dialect ``given``'s
    (the most, with their SQL column among them), and how many: a file exported from another
    database, whose rows would be read with the wrong columns, times and statuses, and parsed as
    the wrong SQL. ``columns``: the given dialect's columns as the run maps them (``--mapping``).
    ``([], 0)`` where none fits it better."""
    header = {n.strip().lstrip("\ufeff").lower() for n in names}

    def fit(name: str, mapped: Mapping[str, str] | None = None) -> int:
        export = get_dialect(name).export
        known = {c.lower(): f for c, f in (export.columns if mapped is None else mapped).items()}
        if export.records is not None or not any(known[c] == "sql" for c in header & known.keys()):
            return 0
        return len(header & known.keys())

    scores = {name: fit(name) for name in list_dialects()}
    if given.lower() in scores:
        scores[given.lower()] = fit(given.lower(), columns)
    best = max(scores.values(), default=0)
    if best == 0 or best <= scores.get(given.lower(), 0):
        return [], 0
    return [name for name, score in scores.items() if score == best], best


# Hashes every SQL engine sqlglot reads knows by these names: the list when no dialect is known.
COMMON_MASKING = ("md5", "sha", "sha1", "sha2", "sha256", "sha512")


@lru_cache(maxsize=None)
def masking_functions(sqlglot_dialect: str | None) -> frozenset[str]:
    """The masking functions of every dialect file read by ``sqlglot_dialect`` (lower case);
    without one, those all engines share.

    >>> "sha2" in masking_functions("snowflake") and "hash" in masking_functions("snowflake")
    True
    """
    found = set(COMMON_MASKING)
    for name in list_dialects():
        spec = get_dialect(name)
        if sqlglot_dialect and spec.sqlglot == sqlglot_dialect:
            found |= set(spec.masking_functions)
    return frozenset(found)


def load_dialect(path: str | Path) -> Dialect:
    """Read and validate one dialect file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read dialect file {path}: {e}") from e
    try:
        return _dialect(data, str(path))
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"dialect file {path}: {e}") from e


def _dialect(data: dict[str, Any], path: str) -> Dialect:
    _only(data, {"name", "sqlglot", "use_names_database", "backslash_escapes", "system_objects", "date_shards", "export",
                 "history", "ml", "masking_functions"},
          "")
    history = data.get("history")
    return Dialect(
        name=_typed(data, "name", str),
        sqlglot=_typed(data, "sqlglot", str),
        export=_export(_typed(data, "export", dict)),
        history=_history(history) if history is not None else None,
        use_names_database=_typed(data, "use_names_database", bool, False),
        backslash_escapes=_typed(data, "backslash_escapes", bool, False),
        system_objects=_patterns(_typed(data, "system_objects", list, [])),
        date_shards=_shard_forms(_typed(data, "date_shards", list, [])),
        ml=_ml(_typed(data, "ml", dict, {})),
        masking_functions=tuple(str(f).lower() for f in _typed(data, "masking_functions", list, [])),
        path=path,
    )


def _ml(data: dict[str, Any]) -> MlFacts:
    """``[ml]``: ``statements`` (shapes of extract/ml.py) and ``functions.NAME`` (role, positions)."""
    _only(data, {"statements", "functions"}, "ml.")
    unknown = set(_typed(data, "statements", list, [])) - set(ML_SHAPES)
    if unknown:
        raise ValueError(f"ml.statements: unknown {sorted(unknown)}; known: {sorted(ML_SHAPES)}")
    functions = []
    for name, spec in _typed(data, "functions", dict, {}).items():
        _only(spec, {"role", "model", "relation", "target", "settings"}, f"ml.functions.{name}.")
        role = _typed(spec, "role", str)
        if role not in ("train", "predict"):
            raise ValueError(f"ml.functions.{name}.role: train or predict, not {role!r}")
        functions.append((name.lower(), MlFunction(
            role, _typed(spec, "model", int, 1), _typed(spec, "relation", int, 0), _typed(spec, "target", int, 0),
            tuple(s.lower() for s in _typed(spec, "settings", list, [])))))
    return MlFacts(tuple(_typed(data, "statements", list, [])), tuple(functions))


def _export(data: dict[str, Any]) -> ExportFormat:
    _only(data, {"columns", "cursor", "timestamp_formats", "timezone", "status", "null_values", "text_limit",
                 "system_users", "records"}, "export.")
    columns = _typed(data, "columns", dict)
    for column, field_name in columns.items():
        if field_name not in MAPPABLE_FIELDS:
            raise ValueError(f"export.columns.{column}: {field_name!r} is not one of {', '.join(MAPPABLE_FIELDS)}")
    if "sql" not in columns.values():
        raise ValueError("export.columns must map a column to 'sql'")
    cursor = _typed(data, "cursor", str, "offset")
    if cursor not in CURSOR_FIELDS:
        raise ValueError(f"export.cursor must be one of {', '.join(CURSOR_FIELDS)}, not {cursor!r}")
    status = _typed(data, "status", dict, {})
    _only(status, {"success", "failure", "unfinished", "ignored"}, "export.status.")
    return ExportFormat(
        columns=dict(columns),
        cursor=cursor,
        timestamp_formats=tuple(_typed(data, "timestamp_formats", list, [])),
        timezone=_typed(data, "timezone", str, "UTC"),
        status=StatusValues(**{k: frozenset(str(v).upper() for v in _typed(status, k, list, [])) for k in status}),
        null_values=frozenset(str(v).upper() for v in _typed(data, "null_values", list, [])),
        text_limit=_typed(data, "text_limit", int, 0),
        system_users=frozenset(str(v).upper() for v in _typed(data, "system_users", list, [])),
        records=_records(data["records"]) if "records" in data else None,
    )


def _records(data: Any) -> Records:
    """``[export.records]``: how an event log's lines hold its events."""
    if not isinstance(data, dict):
        raise TypeError(f"export.records must be a table, not {type(data).__name__}")
    _only(data, {"prefix", "unwrap", "require"}, "export.records.")
    prefix = _typed(data, "prefix", str, "")
    try:
        re.compile(prefix)
    except re.error as e:
        raise ValueError(f"export.records.prefix is not a regular expression: {e}") from e
    return Records(prefix=prefix, unwrap=tuple(str(v) for v in _typed(data, "unwrap", list, [])),
                   require=tuple(str(v) for v in _typed(data, "require", list, [])))


def _patterns(values: list[Any]) -> tuple[str, ...]:
    """``system_objects``: dotted name patterns, each part a name or a glob (``pg_catalog.*``)."""
    for n, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"system_objects[{n}] must be a string, not {type(value).__name__}")
        if not all(part.strip() for part in value.split(".")):
            raise ValueError(f"system_objects[{n}]: {value!r} has an empty name part")
    return tuple(values)


def _shard_forms(values: list[Any]) -> tuple[str, ...]:
    """``date_shards``: suffix forms such as ``YYYYMMDD``, checked by building the rule."""
    from .shards import ShardRule

    for n, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise ValueError(f"date_shards[{n}] must be a suffix form such as \"YYYYMMDD\", not {value!r}")
    try:
        ShardRule(tuple(values))
    except ConfigError as e:
        raise ValueError(str(e)) from e
    return tuple(values)


def _history(data: dict[str, Any]) -> HistoryTable:
    _only(data, {"query", "cursor_column", "kind", "key_columns", "cursor_type", "id_column", "driver", "grant",
                 "settings", "text_chunks", "catalog_query", "tags_query", "fallback_query", "variants", "toplevel_column",
                 "first_seen_column"}, "history.")
    variants = _typed(data, "variants", dict, {})
    base = {k: v for k, v in data.items() if k not in ("variants", "fallback_query")}
    kind = _typed(data, "kind", str, "append")
    if kind not in ("append", "cumulative"):
        raise ValueError(f"history.kind must be append or cumulative, not {kind!r}")
    cursor_type = _typed(data, "cursor_type", str, "timestamp")
    if cursor_type not in ("timestamp", "integer"):
        raise ValueError(f"history.cursor_type must be timestamp or integer, not {cursor_type!r}")
    for key in ("toplevel_column", "first_seen_column"):
        if kind != "cumulative" and data.get(key):
            raise ValueError(f"history.{key} is read for a cumulative history only (kind = \"cumulative\")")
    chunks = _typed(data, "text_chunks", dict, {})
    _only(chunks, {"key", "order", "text"}, "history.text_chunks.")
    return HistoryTable(
        query=_typed(data, "query", str).strip(),
        cursor_column=_typed(data, "cursor_column", str),
        kind=kind,
        key_columns=tuple(_typed(data, "key_columns", list, [])),
        cursor_type=cursor_type,
        id_column=_typed(data, "id_column", str, ""),
        driver=_typed(data, "driver", str, ""),
        grant=_typed(data, "grant", str, "").strip(),
        settings={str(k): str(v) for k, v in _typed(data, "settings", dict, {}).items()},
        text_chunks=TextChunks(tuple(_typed(chunks, "key", list)), _typed(chunks, "order", str),
                               _typed(chunks, "text", str)) if chunks else None,
        catalog_query=_typed(data, "catalog_query", str, "").strip(),
        tags_query=_typed(data, "tags_query", str, "").strip(),
        fallback_query=_typed(data, "fallback_query", str, "").strip(),
        variants={str(name): _history({**base, **_typed(variants, name, dict)}) for name in variants},
        toplevel_column=_typed(data, "toplevel_column", str, ""),
        first_seen_column=_typed(data, "first_seen_column", str, ""),
    )


_MISSING = object()


def _typed(data: Mapping[str, Any], key: str, kind: type, default: Any = _MISSING) -> Any:
    value = data.get(key, default)
    if value is _MISSING:
        raise KeyError(f"missing {key!r}")
    if not isinstance(value, kind):
        raise TypeError(f"{key!r} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _only(data: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(prefix + k for k in unknown)}")
