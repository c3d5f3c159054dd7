"""Operations -> OpenLineage RunEvents, built with the official client's model classes.

One COMPLETE RunEvent per operation and window (``Flow``): the job is named from the
operation's target and kind, the run id is a UUID derived from the operation and the window (the
same operation and window always give the same run id), datasets follow OpenLineage's naming
(``naming.spec_place``), outputs carry a ``schema`` and a ``columnLineage`` facet (DIRECT
IDENTITY / TRANSFORMATION / AGGREGATION, INDIRECT JOIN / FILTER / GROUP_BY / SORT / WINDOW /
CONDITIONAL), the job a ``sql`` facet with the redacted text, the run the users who ran it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import attr
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet, column_lineage_dataset as cl
from openlineage.client.facet_v2 import schema_dataset, sql_job
from openlineage.client.serde import Serde

from .. import __version__
from ..model import DIRECT_TYPES, Operation
from ..naming import place, spec_namespace, spec_place
from ..stores.common import column_edge_refs
from ..stores.rows import Node  # (namespace, name), as the store reads operations back

PRODUCER = f"https://github.com/sqllineage-harvester/sqllineage-harvester/tree/{__version__}"
USER_FACET_SCHEMA = f"{PRODUCER}/sqllineage_harvester/openlineage/UserRunFacet.json#/$defs/UserRunFacet"
RUN_IDS = uuid.UUID("5b1e07a4-1f0c-4b3e-9a53-6d1f6f0e2c11")  # the uuid5 namespace of our run ids


@dataclass(frozen=True)
class Edge:
    """One column feeding another through an operation: ``type`` is a direct or indirect kind."""

    source: Node
    source_column: str
    target: Node
    target_column: str
    type: str


@dataclass(frozen=True)
class Flow:
    """One operation over one window: what one RunEvent says."""

    operation: str  # Operation.id
    kind: str
    namespace: str  # the operation's (the database it ran on)
    window: str  # names the window: with ``operation``, the run id
    sql: str | None
    start: str | None
    end: str | None
    inputs: tuple[Node, ...]
    outputs: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()
    users: tuple[str, ...] = ()
    executions: int = 0


@attr.define
class UserRunFacet(RunFacet):
    """Who ran the operation in the window, and how often (a custom run facet)."""

    users: list[str] = attr.field(factory=list)
    executions: int = attr.field(default=0)

    @staticmethod
    def _get_schema() -> str:
        return USER_FACET_SCHEMA


def flows_of(ops: Iterable[Operation], window: str) -> list[Flow]:
    """A batch's operations as flows of one window (the batch): runs of one operation merged."""
    merged: dict[str, list[Operation]] = {}
    for op in ops:
        merged.setdefault(op.id, []).append(op)
    return [_flow(group, window) for _, group in sorted(merged.items())]


def _flow(group: list[Operation], window: str) -> Flow:
    op = group[-1]
    ns = op.namespace
    edges = tuple(Edge(place(ns, s.dataset), s.column, place(ns, t.dataset), t.column, kind)
                  for s, t, kind in column_edge_refs(op))
    return Flow(op.id, op.type, ns, window, op.sql,
                min((o.first_seen for o in group if o.first_seen), default=None),
                max((o.last_seen for o in group if o.last_seen), default=None),
                tuple(place(ns, d.name) for d in op.inputs), tuple(place(ns, d.name) for d in op.outputs),
                edges, tuple(sorted({o.user for o in group if o.user})), sum(o.executions for o in group))


def run_id(flow: Flow) -> str:
    """A UUID that is the same for the same operation and window (a resent event is the same run)."""
    return str(uuid.uuid5(RUN_IDS, f"{flow.operation}\x1f{flow.window}"))


def job_name(flow: Flow) -> str:
    """Stable per operation: its target, its kind and a short form of its id (two statements
    writing one table are two jobs)."""
    target = flow.outputs[0][1] if flow.outputs else "none"
    return f"{target}.{flow.kind}.{flow.operation[:8]}"


def ol_namespace(namespace: str) -> str:
    """A namespace as OpenLineage's naming conventions write it (``naming.spec_namespace``):
    BigQuery's is ``bigquery`` alone, Redshift's its cluster and region with the port..."""
    return spec_namespace(namespace)


def event_time(moment: str | None) -> str:
    """ISO-8601 with its UTC offset (``+00:00``); now when the operation has no time."""
    if not moment:
        return datetime.now(timezone.utc).isoformat()
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()


def run_event(flow: Flow, catalog: Mapping[Node, Mapping[str, str]] | None = None,
              dialect: str | None = None) -> RunEvent:
    """The COMPLETE RunEvent of a flow; ``catalog`` gives column types for the schema facets."""
    catalog = catalog or {}
    columns = _columns(flow)
    job_facets: dict[str, Any] = {}
    if flow.sql:
        job_facets["sql"] = sql_job.SQLJobFacet(query=flow.sql, dialect=dialect, producer=PRODUCER)
    run_facets: dict[str, Any] = {}
    if flow.users:
        run_facets["sqllineage_user"] = UserRunFacet(users=list(flow.users), executions=flow.executions,
                                                     producer=PRODUCER)
    inputs = [InputDataset(*spec_place(*node), facets=_schema(columns.get(node), catalog.get(node)))
              for node in flow.inputs]
    outputs = []
    for node in flow.outputs:
        facets = _schema(columns.get(node), catalog.get(node))
        lineage = _column_lineage(flow, node)
        if lineage is not None:
            facets["columnLineage"] = lineage
        outputs.append(OutputDataset(*spec_place(*node), facets=facets))
    return RunEvent(eventType=RunState.COMPLETE, eventTime=event_time(flow.end or flow.start),
                    run=Run(runId=run_id(flow), facets=run_facets),
                    job=Job(namespace=ol_namespace(flow.namespace), name=job_name(flow), facets=job_facets),
                    inputs=inputs, outputs=outputs, producer=PRODUCER)


def as_json(event: RunEvent) -> str:
    """The event as one line of JSON (the client's own serializer)."""
    return Serde.to_json(event)


def _columns(flow: Flow) -> dict[Node, list[str]]:
    found: dict[Node, dict[str, None]] = {}
    for e in flow.edges:
        found.setdefault(e.source, {})[e.source_column] = None
        found.setdefault(e.target, {})[e.target_column] = None
    return {node: list(cols) for node, cols in found.items()}


def _schema(columns: list[str] | None, types: Mapping[str, str] | None) -> dict[str, Any]:
    names = list(types or {}) or sorted(columns or ())
    if not names:
        return {}
    fields = [schema_dataset.SchemaDatasetFacetFields(name=n, type=(types or {}).get(n)) for n in names]
    return {"schema": schema_dataset.SchemaDatasetFacet(fields=fields, producer=PRODUCER)}


def _column_lineage(flow: Flow, output: Node) -> cl.ColumnLineageDatasetFacet | None:
    """Every edge into ``output``: direct ones with their kind as subtype, indirect ones as
    INDIRECT; an indirect source that feeds every written column is dataset-wide too."""
    into = [e for e in flow.edges if e.target == output]
    if not into:
        return None
    fields: dict[str, list[cl.InputField]] = {}
    for e in into:
        fields.setdefault(e.target_column, []).append(_input_field(e))
    targets = set(fields)
    wide: dict[tuple[Node, str, str], set[str]] = {}
    for e in into:
        if e.type not in DIRECT_TYPES:
            wide.setdefault((e.source, e.source_column, e.type), set()).add(e.target_column)
    dataset = [_input_field(Edge(src, col, output, "", kind)) for (src, col, kind), cols in sorted(wide.items())
               if cols == targets and len(targets) > 1]
    return cl.ColumnLineageDatasetFacet(
        fields={name: cl.Fields(inputFields=items) for name, items in sorted(fields.items())},
        dataset=dataset, producer=PRODUCER)


def _input_field(e: Edge) -> cl.InputField:
    kind = "DIRECT" if e.type in DIRECT_TYPES else "INDIRECT"
    namespace, name = spec_place(*e.source)
    return cl.InputField(namespace=namespace, name=name, field=e.source_column,
                         transformations=[cl.Transformation(type=kind, subtype=e.type)])
