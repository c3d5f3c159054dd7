"""A store's operations as OpenLineage RunEvents: one per operation and window, JSON lines.

The window of an export is ``--since`` (or the operation's first run) up to its last run: the
same store exported twice gives the same run ids.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Mapping

from openlineage.client.event_v2 import RunEvent

from ..errors import ConfigError
from ..stores import Store
from ..stores.rows import OperationRow
from .events import Edge, Flow, Node, run_event


def flow_of(row: OperationRow, since: str | None) -> Flow:
    window = f"{since or row.first_seen or ''}..{row.last_seen or ''}"
    edges = tuple(Edge(s, sc, t, tc, kind) for s, sc, t, tc, kind in row.edges)
    return Flow(row.id, row.type, row.namespace, window, row.sql, row.first_seen, row.last_seen,
                row.inputs, row.outputs, edges, row.users, row.executions)


def export_events(store: Store, since: str | None = None, namespace: str | None = None) -> Iterator[RunEvent]:
    """The store's operations last seen at or after ``since`` (of ``namespace`` alone, when given)."""
    reader = getattr(store, "operation_rows", None)
    if reader is None:
        raise ConfigError(f"the store {type(store).__name__} cannot be exported")
    rows = [r for r in reader(since) if namespace is None or r.namespace == namespace]
    catalog = catalogs(store, {r.namespace for r in rows})
    dialects: dict[str, str | None] = {}
    for row in rows:
        if row.outputs:
            if row.namespace not in dialects:
                dialects[row.namespace] = dialect_of(row.namespace)
            yield run_event(flow_of(row, since), catalog, dialects[row.namespace])


def dialect_of(namespace: str) -> str | None:
    """The sqlglot dialect of a namespace whose scheme names a dialect file (``snowflake://acme``,
    ``bigquery``): the sql facet's ``dialect``, as ``--emit`` gives it; None for others.

    >>> dialect_of("snowflake://acme"), dialect_of("bigquery"), dialect_of("openlineage://default")
    ('snowflake', 'bigquery', None)
    """
    from ..dialects import get_dialect

    try:
        return get_dialect(namespace.split("://", 1)[0]).sqlglot
    except ConfigError:
        return None


def catalogs(store: Store, namespaces: set[str]) -> Mapping[Node, Mapping[str, str]]:
    """Column types per dataset, from the catalog the store keeps for each namespace."""
    found: dict[Node, dict[str, str]] = {}
    kept = store.cache_get([f"catalog:{ns}" for ns in namespaces])
    for key, text in kept.items():
        ns = key.split(":", 1)[1]
        for parts, cols in json.loads(text):
            found[(ns, ".".join(parts))] = dict(cols)
    return _Caseless(found)


class _Caseless(dict):  # type: ignore[type-arg]
    """Looked up by name whatever its case: the catalog keeps names as the dialect folds them."""

    def __init__(self, items: Mapping[Node, Any]) -> None:
        super().__init__({(ns, name.lower()): v for (ns, name), v in items.items()})

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get((key[0], key[1].lower()), default)


def export_lines(store: Store, namespace: str | None = None, since: str | None = None) -> Iterator[str]:
    """``export --format openlineage``: the events as JSON lines."""
    from .events import as_json

    for event in export_events(store, since, namespace):
        yield as_json(event) + "\n"
