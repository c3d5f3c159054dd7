"""Lineage a database worked out itself, kept next to its query history.

Snowflake's ``ACCESS_HISTORY`` (Enterprise edition) says per query which objects
it read (``DIRECT_OBJECTS_ACCESSED``) and which it wrote, with each written
column's ``directSources`` (``OBJECTS_MODIFIED``); BigQuery's ``JOBS`` names a
job's ``referenced_tables`` and ``destination_table``. A dialect file maps those
columns to the log entry's ``declared_inputs`` / ``declared_outputs`` (the JSON
text as the log holds it), and the harvest

* compares them with its own parse, table by table and, where the log has
  columns, column edge by column edge (counted as ``crosscheck:*``), and
* uses them as the lineage of a statement it could not parse.

Trino's ``QueryCompletedEvent`` names its ``ioMetadata`` inputs and output as
``{"catalogName", "schema", "table"}`` with each written column's ``sourceColumns``. Hive's
``LineageLogger`` and Impala's lineage log keep a graph instead: ``vertices`` (columns and
tables, ``db.table.column``) and ``edges`` between them, mapped to ``declared_inputs`` and
``declared_outputs``; a PROJECTION edge is a direct column edge, a PREDICATE edge (a WHERE
or JOIN condition) names indirect sources, compared as well (``indirect_*``) and kept as
FILTER where the log stands in for a parse.

Every shape is recognized from the JSON itself, so a new database whose log names tables
as strings, ``{"objectName": ...}``, ``{"project_id", "dataset_id", "table_id"}`` or
``{"catalogName", "schema", "table"}`` objects, or a vertex / edge graph, needs no code here.

>>> d = declared('[{"objectName": "DB.RAW.ORDERS", "objectDomain": "Table"}]',
...              '[{"objectName": "DB.MART.T", "objectDomain": "Table", "columns": [{"columnName": "ID", '
...              '"directSources": [{"columnName": "ID", "objectName": "DB.RAW.ORDERS", "objectDomain": "Table"}]}]}]')
>>> sorted(d.inputs), sorted(d.outputs), sorted(d.edges)
(['db.raw.orders'], ['db.mart.t'], [('db.mart.t.id', 'db.raw.orders.id')])
>>> declared('{"project_id": "p", "dataset_id": "_b1c2", "table_id": "anon9"}', None) is None
True
>>> g = declared('[{"id": 0, "vertexType": "COLUMN", "vertexId": "mart.t.id"}, '
...              '{"id": 1, "vertexType": "COLUMN", "vertexId": "raw.o.id"}, {"id": 2, "vertexType": "COLUMN", "vertexId": "raw.o.ok"}]',
...              '[{"sources": [1], "targets": [0], "edgeType": "PROJECTION"}, {"sources": [2], "targets": [0], "edgeType": "PREDICATE"}]')
>>> sorted(g.inputs), sorted(g.outputs), sorted(g.edges), sorted(g.indirect)
(['raw.o'], ['mart.t'], [('mart.t.id', 'raw.o.id')], ['raw.o.ok'])
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .model import DIRECT_TYPES, FILTER, JOIN, ColumnLineage, ColumnRef, DatasetRef, IndirectRef, StatementLineage

# Objects that are not tables a parse names as such (stages, functions, ...) take no part.
TABLE_DOMAINS = frozenset({"table", "view", "materialized view", "secure view", "external table", "dynamic table",
                           "iceberg table", "event table", "stream"})


@dataclass(frozen=True)
class Declared:
    """A log's own lineage for one statement: names lower case, as far as the log qualifies them."""

    inputs: frozenset[str]
    outputs: frozenset[str]
    edges: frozenset[tuple[str, str]]  # (written column, direct source column), "table.column"
    names: tuple[tuple[str, str], ...] = ()  # lower case -> as the log spells it (tables, columns)
    hidden: frozenset[str] = frozenset()  # session / script temp tables the log names apart, lower case
    # Columns that decide which rows are written without flowing into them (a graph's PREDICATE
    # edges), "table.column"; None where the log does not say (Snowflake, BigQuery, Trino).
    indirect: frozenset[str] | None = None
    # How each written column is derived, where the log says (Trino's transformationType), lower case.
    transforms: tuple[tuple[str, str], ...] = ()

    def statement(self, kind: str = "other") -> StatementLineage:
        """The lineage as a parsed statement would give it (for a statement that did not parse)."""
        spelled, transforms = dict(self.names), dict(self.transforms)
        columns: dict[str, list[ColumnRef]] = {}
        for target, source in sorted(self.edges):
            columns.setdefault(target, []).append(_column(source, spelled))
        return StatementLineage(
            index=0, kind=kind,
            inputs=tuple(DatasetRef(spelled.get(n, n)) for n in sorted(self.inputs - self.outputs)),
            outputs=tuple(DatasetRef(spelled.get(n, n)) for n in sorted(self.outputs)),
            columns=tuple(ColumnLineage(_column(t, spelled), tuple(s), transforms.get(t, "TRANSFORMATION"))
                          for t, s in columns.items()),
            indirect=tuple(IndirectRef(_column(c, spelled), FILTER) for c in sorted(self.indirect or ())))


@lru_cache(maxsize=4096)  # a statement run again carries the same text: read it once
def declared(inputs: str | None, outputs: str | None) -> Declared | None:
    """The lineage in a log entry's declared columns, or None when they name no table.
    Text that is not JSON is taken as one name, or a comma-separated list of names."""
    names: dict[str, str] = {}
    hidden: set[str] = set()
    loaded_in, loaded_out = _load(inputs), _load(outputs)
    if _is_graph(loaded_in, loaded_out):
        return _graph(loaded_in, loaded_out)
    read = set(_tables(loaded_in, names, None, hidden))
    edges: dict[tuple[str, str], str] = {}
    written = set(_tables(loaded_out, names, edges, hidden))
    if not read and not written:
        return None
    transforms: dict[str, str] = {}
    for (target, _), kind in edges.items():  # a column is derived as its most derived source is
        if kind and DIRECT_TYPES.index(kind) >= DIRECT_TYPES.index(transforms.get(target, kind)):
            transforms[target] = kind
    return Declared(frozenset(read), frozenset(written), frozenset(edges), tuple(sorted(names.items())),
                    frozenset(hidden), transforms=tuple(sorted(transforms.items())))


def _load(text: str | None) -> Any:
    if not text or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return [part.strip() for part in text.split(",") if part.strip()]


def _tables(value: Any, names: dict[str, str], edges: dict[tuple[str, str], str] | None,
            hidden: set[str]) -> Iterator[str]:
    """Lower-case table names in ``value``; written columns' direct sources go to ``edges`` (with
    how the log says the column is derived from it, or ""), temp tables the log keeps in hidden
    datasets to ``hidden``."""
    if isinstance(value, list):
        for item in value:
            yield from _tables(item, names, edges, hidden)
        return
    name = _name(value)
    if name is None:
        if isinstance(value, dict) and not str(value.get("table_id") or "").startswith(("anon", "_")):
            hidden.add(str(value.get("table_id") or "").lower())
        return
    names.setdefault(name.lower(), name)
    yield name.lower()
    if edges is None or not isinstance(value, dict):
        return
    for column in value.get("columns") or ():
        if not isinstance(column, dict) or not column.get("columnName"):
            continue
        target = f"{name}.{column['columnName']}"
        names.setdefault(target.lower(), target)
        for source in column.get("directSources") or column.get("sourceColumns") or ():
            table = _name(source)
            if table is not None and source.get("columnName"):
                spelled = f"{table}.{source['columnName']}"
                names.setdefault(spelled.lower(), spelled)
                kind = str(source.get("transformationType") or "").upper()
                edges[(target.lower(), spelled.lower())] = kind if kind in DIRECT_TYPES else ""


def _name(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if not isinstance(value, dict):
        return None
    if "objectName" in value:
        domain = str(value.get("objectDomain") or "table").lower()
        return str(value["objectName"]) if domain in TABLE_DOMAINS and value["objectName"] else None
    if value.get("table") and "schema" in value:  # Trino: {"catalogName" | "catalog", "schema", "table"}
        catalog = value.get("catalogName") or value.get("catalog")
        return ".".join(str(p) for p in (catalog, value["schema"], value["table"]) if p)
    lowered = {str(k).lower(): v for k, v in value.items()}
    table = lowered.get("table_id") or lowered.get("tableid")
    dataset = str(lowered.get("dataset_id") or lowered.get("datasetid") or "")
    if not table or dataset.startswith("_") or str(table).startswith("anon"):  # a query's anonymous result
        return None
    project = lowered.get("project_id") or lowered.get("projectid")
    return ".".join(str(p) for p in (project, dataset, table) if p)


def _is_graph(vertices: Any, edges: Any) -> bool:
    """Whether the two texts are a lineage graph (Hive, Impala): vertices with ids, edges between them."""
    return (isinstance(vertices, list) and isinstance(edges, list) and bool(vertices)
            and all(isinstance(v, dict) and "vertexId" in v for v in vertices)
            and all(isinstance(e, dict) and "targets" in e for e in edges))


def _graph(vertices: list[dict[str, Any]], edges: list[dict[str, Any]]) -> Declared | None:
    """A lineage graph as tables read and written, direct column edges and indirect sources. A
    target is a written column when it names one (``db.table.column``, or the table in its
    ``metadata.tableName``); a plain SELECT's targets are result labels, and write nothing."""
    places = {v.get("id"): _place(v) for v in vertices}
    names: dict[str, str] = {}
    read: set[str] = set()
    written: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    indirect: set[str] = set()
    for edge in edges:
        sources = [places[i] for i in edge.get("sources") or () if places.get(i) is not None]
        targets = [places[i] for i in edge.get("targets") or () if places.get(i) is not None]
        read.update(table for table, _ in sources)
        columns = [f"{t}.{c}" for t, c in sources if c]
        for text in columns:
            names.setdefault(text.lower(), text)
        predicate = str(edge.get("edgeType") or "").upper() == "PREDICATE"
        for table, column in targets:
            if column is None:
                continue
            target = f"{table}.{column}"
            names.setdefault(target.lower(), target)
            written.add(table)
            if predicate:
                indirect.update(c.lower() for c in columns)
            else:
                pairs.update((target.lower(), c.lower()) for c in columns)
    for table in read | written:
        names.setdefault(table.lower(), table)
    if not read and not written:
        return None
    return Declared(frozenset(t.lower() for t in read), frozenset(t.lower() for t in written), frozenset(pairs),
                    tuple(sorted(names.items())), indirect=frozenset(indirect) if written else None)


def _place(vertex: dict[str, Any]) -> tuple[str, str | None] | None:
    """(table, column) a vertex names, (table, None) for a table, None for a result label."""
    label = str(vertex.get("vertexId") or "")
    if str(vertex.get("vertexType") or "COLUMN").upper() == "TABLE":
        return (label, None) if label else None
    table = str((vertex.get("metadata") or {}).get("tableName") or "") if isinstance(vertex.get("metadata"), dict) else ""
    if table and label.lower().startswith(table.lower() + "."):
        return table, label[len(table) + 1:]
    parts = label.split(".")
    if len(parts) < 3 or not all(_NAME.match(p) for p in parts):
        return None
    return ".".join(parts[:-1]), parts[-1]


_NAME = re.compile(r"^[^\s()`'\"]+$")  # a name part, not an expression's text


def _column(text: str, spelled: dict[str, str]) -> ColumnRef:
    table, _, column = spelled.get(text, text).rpartition(".")
    return ColumnRef(table, column)


CROSSCHECK = "crosscheck:"  # the prefix of the harvest counters this module's comparisons feed


def crosscheck_counts(counters: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The cross-check counters among a harvest's, without their prefix."""
    return {name[len(CROSSCHECK):]: n for name, n in counters if name.startswith(CROSSCHECK)}


@dataclass(frozen=True)
class Verdict:
    tables: bool  # the same tables read and written
    columns: bool | None  # the same direct column edges (None: the log names no columns)
    indirect: bool | None = None  # the same JOIN / FILTER sources (None: the log does not say)


def compare(log: Declared, results: Iterable[StatementLineage]) -> Verdict | None:
    """How our parse of a statement stands against the log's own lineage (None: nothing to
    compare, the parse failed). Reads exclude what is written on both sides: logs differ on
    whether a MERGE's target is also "accessed"."""
    results = [r for r in results if r.error is None]
    if not results:
        return None
    def visible(refs: Iterable[DatasetRef]) -> set[str]:  # models, files and stages are not tables to a log
        return {d.name.lower() for d in refs if d.type in ("table", "view")
                and d.name.lower().rsplit(".", 1)[-1] not in log.hidden}

    ours_out = visible(d for r in results for d in r.outputs)
    ours_in = visible(d for r in results for d in r.inputs)
    same = ours_out == set(log.outputs) and ours_in - ours_out == set(log.inputs) - set(log.outputs)
    indirect = None
    if log.indirect is not None:
        ours_indirect = {f"{i.source.dataset}.{i.source.column}".lower() for r in results
                         for i in (*r.indirect, *(i for c in r.columns for i in c.indirect)) if i.type in (JOIN, FILTER)}
        indirect = ours_indirect == set(log.indirect)
    if not log.edges:
        return Verdict(same, None, indirect)
    ours_edges = {(f"{c.target.dataset}.{c.target.column}".lower(), f"{s.dataset}.{s.column}".lower())
                  for r in results for c in r.columns if c.transform in DIRECT_TYPES for s in c.sources}
    return Verdict(same, ours_edges == set(log.edges), indirect)
