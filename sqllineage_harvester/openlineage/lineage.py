"""OpenLineage RunEvents (as JSON) -> log entries that carry their lineage, for the harvest.

A COMPLETE event becomes one entry: its inputs and outputs, its ``columnLineage`` facets (direct
sources with their subtype, indirect ones as column or dataset-wide influences), the ``sql`` job
facet as the entry's text (redacted like any log's), the user where a facet names one, the
producer's engine as the system, the event time. Events of other types (START, RUNNING, FAIL,
ABORT, OTHER) are counted and left out; facets nobody here knows are ignored. Datasets keep the
event's own namespaces (``naming.qualified``), so a Spark job's ``s3://bucket`` + ``orders`` and
a warehouse COPY's ``'s3://bucket/orders/'`` are one dataset.

>>> e = {"eventType": "COMPLETE", "eventTime": "2024-04-01T10:00:00+02:00", "run": {"runId": "r1"},
...      "job": {"namespace": "spark", "name": "etl.orders"},
...      "inputs": [{"namespace": "postgres://db:5432", "name": "shop.public.orders"}],
...      "outputs": [{"namespace": "s3://bucket", "name": "orders", "facets": {"columnLineage": {"fields":
...          {"id": {"inputFields": [{"namespace": "postgres://db:5432", "name": "shop.public.orders",
...                                   "field": "id"}]}}}}}]}
>>> entry = entry_of(e)
>>> entry.start_time, entry.cursor
('2024-04-01T08:00:00.000000Z', '2024-04-01T08:00:00.000000Z r1')
>>> [str(c.target) + " <- " + str(c.sources[0]) for c in lineage_of(e).columns]
['s3://bucket/orders.id <- postgres://db:5432/shop.public.orders.id']
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable

from ..graph import encode
from ..model import (DIRECT_TYPES, INDIRECT_TYPES, TRANSFORMATION, ColumnLineage, ColumnRef, DatasetRef,
                     IndirectRef, LogEntry, StatementLineage)
from ..naming import OBJECT_STORES, event_column, event_place, qualified

COMPLETE = "COMPLETE"


def moment(text: str) -> str:
    """An event time as the harvest keeps times: UTC ISO-8601 with microseconds, ``Z``. Java's
    forms are read too (nanoseconds, a zone id after the offset).

    >>> moment("2024-04-01T12:00:00.123456789+02:00[Europe/Paris]"), moment("2024-04-01T10:00Z")
    ('2024-04-01T10:00:00.123456Z', '2024-04-01T10:00:00.000000Z')
    """
    plain = re.sub(r"\[[^\]]*\]$", "", text.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    plain = re.sub(r"(\.\d{1,6})\d*", lambda m: m[1].ljust(7, "0"), plain)
    parsed = datetime.fromisoformat(plain)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_of(event: dict[str, Any]) -> LogEntry:
    """A COMPLETE event as a log entry that carries its own lineage (``LogEntry.lineage``)."""
    run, job = event.get("run") or {}, event.get("job") or {}
    at = moment(str(event["eventTime"]))
    sql = ((job.get("facets") or {}).get("sql") or {}).get("query") or ""
    return LogEntry(sql=str(sql), query_id=str(run.get("runId") or ""), user=_user(event),
                    system=_engine(event), start_time=at, end_time=at,
                    session_id=None, cursor=f"{at} {run.get('runId') or ''}",
                    lineage=encode([lineage_of(event)]))


def lineage_of(event: dict[str, Any]) -> StatementLineage:
    """What the event says was read and written, down to columns where it has a columnLineage facet."""
    inputs = {_ref(d): None for d in _datasets(event.get("inputs"))}
    outputs = {_ref(d): None for d in _datasets(event.get("outputs"))}
    columns: list[ColumnLineage] = []
    indirect: dict[IndirectRef, None] = {}
    for d in _datasets(event.get("outputs")):
        facet = (d.get("facets") or {}).get("columnLineage") or {}
        name = _ref(d).name
        for column, info in sorted((facet.get("fields") or {}).items()):
            direct, kinds, around = _sources(info.get("inputFields") if isinstance(info, dict) else None, inputs)
            transform = kinds[0] if len(set(kinds)) == 1 else TRANSFORMATION
            if isinstance(info, dict) and not kinds and info.get("transformationType") in DIRECT_TYPES:
                transform = info["transformationType"]
            columns.append(ColumnLineage(ColumnRef(name, _column(d, column)), tuple(direct), transform, tuple(around)))
        _, _, wide = _sources(facet.get("dataset"), inputs, default="INDIRECT")
        indirect.update(dict.fromkeys(wide))
    return StatementLineage(index=0, kind="insert" if outputs else "select", inputs=tuple(inputs),
                            outputs=tuple(outputs), columns=tuple(columns), indirect=tuple(indirect))


def _sources(fields: Any, inputs: dict[DatasetRef, None], default: str = "DIRECT"
             ) -> tuple[list[ColumnRef], list[str], list[IndirectRef]]:
    """Direct source columns, their kinds, and indirect ones, of a facet's inputFields."""
    direct: list[ColumnRef] = []
    kinds: list[str] = []
    around: list[IndirectRef] = []
    for f in fields if isinstance(fields, list) else ():
        if not isinstance(f, dict) or not f.get("name") or not f.get("field"):
            continue
        ref = _ref(f)
        inputs.setdefault(ref)
        column = ColumnRef(ref.name, _column(f, f["field"]))
        steps = [t for t in f.get("transformations") or [] if isinstance(t, dict)] or [{"type": default}]
        for step in steps:
            subtype = str(step.get("subtype") or "").upper()
            if str(step.get("type") or default).upper() == "DIRECT":
                direct.append(column)
                kinds.append(subtype if subtype in DIRECT_TYPES else TRANSFORMATION)
            else:
                around.append(IndirectRef(column, subtype if subtype in INDIRECT_TYPES else subtype or "INDIRECT"))
    return list(dict.fromkeys(direct)), kinds, list(dict.fromkeys(around))


def _datasets(items: Any) -> Iterable[dict[str, Any]]:
    return [d for d in items if isinstance(d, dict) and d.get("namespace") and d.get("name")] \
        if isinstance(items, list) else []


def _ref(d: dict[str, Any]) -> DatasetRef:
    """The dataset an event names, as the harvest of its database names it (``naming.event_place``:
    the spec's namespace, Snowflake's names upper case), so both meet on one node."""
    ns, name = event_place(str(d["namespace"]), str(d["name"]))
    scheme = ns.split("://", 1)[0].lower()
    kind = "file" if scheme in OBJECT_STORES or scheme == "file" else "table"
    return DatasetRef(qualified(ns, name), kind)


def _column(d: dict[str, Any], column: Any) -> str:
    """A column of the dataset ``d`` names, spelled as the harvest of its database spells it."""
    return event_column(event_place(str(d["namespace"]), str(d["name"]))[0], str(column))


def _user(event: dict[str, Any]) -> str | None:
    facets = (event.get("run") or {}).get("facets") or {}
    users = (facets.get("sqllineage_user") or {}).get("users")
    if users:
        return str(users[0])
    owners = (((event.get("job") or {}).get("facets") or {}).get("ownership") or {}).get("owners") or []
    named = [o.get("name") for o in owners if isinstance(o, dict) and o.get("name")]
    return str(named[0]) if named else None


def _engine(event: dict[str, Any]) -> str | None:
    engine = ((event.get("run") or {}).get("facets") or {}).get("processing_engine") or {}
    name = engine.get("name")
    return f"{name} {engine.get('version')}".strip() if name and engine.get("version") else (name or None)


def read_events(text: str, where: str) -> Iterable[tuple[dict[str, Any] | None, str]]:
    """Events in a JSON-lines text (one event a line; a JSON array or a single event also do):
    (event or None for a line that is no event, where)."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError:
            items = None
        if isinstance(items, list):
            yield from ((i if isinstance(i, dict) else None, f"{where}[{n}]") for n, i in enumerate(items))
            return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        yield (item if isinstance(item, dict) else None), f"{where}:{n}"
