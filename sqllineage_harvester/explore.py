"""What a person asks of a store besides lineage walks: what is this name (``show``), which names
hold this text (``search``), and which names did you mean (``suggest``). Every store answers alike.

``show`` takes a dataset, a column or an operation id (or the first characters of one); an
operation is named for people by ``operation_label`` (``MERGE INTO STG_PAYMENTS · ETL_SVC ×29``),
never by its hash alone.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Union

from .errors import ConfigError
from .model import LineageNode, OperationInfo, ReadCount, RunCount
from .queries import AmbiguousNameError, UnknownNameError, find, readings, shard_family
from .retire import cutoff
from .stores import DOWNSTREAM, UPSTREAM, Store

# How a statement kind reads in a label: the words before the table it writes.
VERBS = {"insert": "INSERT INTO", "insert_overwrite": "INSERT OVERWRITE", "merge": "MERGE INTO",
         "create_table_as": "CREATE TABLE", "create_view": "CREATE VIEW", "update": "UPDATE",
         "delete": "DELETE FROM", "copy": "COPY INTO", "select_into": "SELECT INTO"}
OPERATION_ID = re.compile(r"[0-9a-fA-F]{6,}")
SEARCH_LIMIT = 50


def operation_label(kind: str, writes: list[str] | tuple[str, ...], users: tuple[str, ...] = (),
                    executions: int = 0) -> str:
    """An operation as a person recognizes it: what it does to which table, who runs it, how often.

    >>> operation_label("merge", ["ANALYTICS.STAGING.STG_PAYMENTS"], ("ETL_SVC",), 29)
    'MERGE INTO STG_PAYMENTS · ETL_SVC ×29'
    >>> operation_label("insert", ["mart.a", "mart.b"], ("bob", "ann"), 1)
    'INSERT INTO a +1 · bob +1 ×1'
    """
    verb = VERBS.get(kind, kind.replace("_", " ").upper())
    tables = sorted({w.rsplit(".", 1)[-1] for w in writes})
    what = f"{verb} {tables[0]}" + (f" +{len(tables) - 1}" if len(tables) > 1 else "") if tables else verb
    who = f" · {users[0]}" + (f" +{len(users) - 1}" if len(users) > 1 else "") if users else ""
    return f"{what}{who}" + (f" ×{executions:,}" if executions else "")


@dataclass(frozen=True)
class OperationSummary:
    """One operation writing or reading a dataset, as ``show`` lists it."""

    id: str
    type: str
    label: str
    edge: str  # how it reads the dataset: DIRECT, JOIN, FILTER, ...; "" for a writer
    users: tuple[str, ...]
    executions: int
    last_seen: str | None


@dataclass(frozen=True)
class DatasetDetail:
    node: LineageNode
    columns: tuple[str, ...]
    writers: tuple[OperationSummary, ...]
    readers: tuple[OperationSummary, ...]
    reads: tuple[ReadCount, ...]  # plain SELECTs by user
    last_seen: str | None  # the latest write or read through an operation, or plain read day


@dataclass(frozen=True)
class ColumnLink:
    """A column one step away, the kind of edge and the operation on it."""

    node: LineageNode
    type: str
    operation: OperationSummary
    first_seen: str | None = None  # the edge's own history: when its statement first and last made it
    last_seen: str | None = None
    retired: bool = False  # its statement has not run within harvest --retire-after


@dataclass(frozen=True)
class ColumnDetail:
    node: LineageNode
    dataset: LineageNode | None
    sources: tuple[ColumnLink, ...]  # the columns it is made from
    targets: tuple[ColumnLink, ...]  # the columns made from it
    last_seen: str | None


@dataclass(frozen=True)
class OperationDetail:
    info: OperationInfo
    label: str
    sql: str | None  # redacted at harvest (None with --no-sql-text)
    fingerprint: str
    namespace: str
    inputs: tuple[tuple[LineageNode, str], ...]  # (dataset, DIRECT | JOIN | ...)
    outputs: tuple[LineageNode, ...]
    users: tuple[RunCount, ...]
    systems: tuple[RunCount, ...]
    retired_before: str | None = None  # retired: not run since this cutoff (harvest --retire-after)


Detail = Union[DatasetDetail, ColumnDetail, OperationDetail]


def show(store: Store, name: str, namespace: str | None = None) -> Detail:
    """What ``name`` is: a dataset, a column or an operation id (a unique prefix of one will do)."""
    ids = store.operation_ids(name.strip())
    if name.strip() in ids:
        return operation(store, name.strip())
    if OPERATION_ID.fullmatch(name.strip()):
        if len(ids) == 1:
            return operation(store, ids[0])
        if len(ids) > 1:
            raise ConfigError(f"{name!r} starts {len(ids)} operation ids; give more of it: "
                              + ", ".join(ids[:5]))
    node = find(store, name, namespace)
    return dataset(store, node) if node.kind == "dataset" else column(store, node)


MOST_CANDIDATES = 1000  # ids an ambiguous prefix is counted up to


class AmbiguousOperationError(ConfigError):
    """A prefix that starts several operation ids; ``candidates`` is how many (up to MOST_CANDIDATES)."""

    def __init__(self, prefix: str, ids: list[str]) -> None:
        self.candidates = len(ids)
        many = f"{MOST_CANDIDATES} or more" if len(ids) >= MOST_CANDIDATES else str(len(ids))
        super().__init__(f"{prefix!r} starts {many} operation ids; give more of it: " + ", ".join(ids[:5]))


def operation_id(store: Store, text: str) -> str:
    """The operation id that ``text`` is, or begins (any case), as ``show`` reads an id: unknown
    (``UnknownNameError``) when none does, ``AmbiguousOperationError`` when several do."""
    wanted = text.strip()
    ids = store.operation_ids(wanted, limit=MOST_CANDIDATES) if wanted else []
    if wanted in ids:
        return wanted
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise UnknownNameError(f"no operation {wanted!r} in the store")
    raise AmbiguousOperationError(wanted, ids)


def show_noted(store: Store, name: str, namespace: str | None = None) -> tuple[Detail, str | None]:
    """``show``; a shard of a date-sharded family the harvest kept as one dataset shows the family,
    with a note that says so (as the graph queries answer for it)."""
    try:
        return show(store, name, namespace), None
    except UnknownNameError:
        found = shard_family(store, name.strip(), namespace)
        if found is None:
            raise
        node, note = found
        return (dataset(store, node) if node.kind == "dataset" else column(store, node)), note


def summaries(store: Store, ids: list[str], edges: dict[str, str] | None = None) -> tuple[OperationSummary, ...]:
    """The operations ``ids``, each with its label; ``edges`` says how each reads (readers)."""
    infos = store.operations(ids)
    outputs = store.operation_outputs(sorted(infos))
    names = store.describe({k for keys in outputs.values() for k in keys})
    out = []
    for op_id in sorted(infos):
        info = infos[op_id]
        writes = [names[k].name for k in outputs.get(op_id, ()) if k in names]
        out.append(OperationSummary(op_id, info.type, operation_label(info.type, writes, info.users, info.executions),
                                    (edges or {}).get(op_id, ""), info.users, info.executions, info.last_seen))
    return tuple(sorted(out, key=lambda s: (s.label, s.id)))


def dataset(store: Store, node: LineageNode) -> DatasetDetail:
    links = store.dataset_links(node.key)
    writers = summaries(store, list(links.writers))
    readers = summaries(store, [op for op, _ in links.readers], dict(links.readers))
    seen = [s.last_seen for s in writers + readers if s.last_seen]
    seen += [f"{r.last_day}" for r in links.reads if r.last_day]
    return DatasetDetail(node, links.columns, writers, readers, links.reads, max(seen, default=None))


def column(store: Store, node: LineageNode) -> ColumnDetail:
    table = node.name.rsplit(".", 1)[0]
    owner = next((n for n in store.resolve(table) if n.kind == "dataset" and n.name == table
                  and n.namespace == node.namespace), None)
    sides = []
    cut = cutoff(store)
    for direction in (UPSTREAM, DOWNSTREAM):
        edges = store.neighbors([node.key], direction)
        far = {e.source if direction == UPSTREAM else e.target for e in edges}
        names = store.describe(far)
        ops = {s.id: s for s in summaries(store, sorted({e.operation for e in edges}))}
        sides.append(tuple(sorted(
            (ColumnLink(names[k], e.type, ops[e.operation], e.first_seen, e.last_seen,
                        bool(cut and (ops[e.operation].last_seen or "") < cut)) for e in edges
             for k in [e.source if direction == UPSTREAM else e.target] if k in names and e.operation in ops),
            key=lambda link: (link.node.name, link.type, link.operation.id))))
    seen = [link.operation.last_seen for side in sides for link in side if link.operation.last_seen]
    return ColumnDetail(node, owner, sides[0], sides[1], max(seen, default=None))


def operation(store: Store, op_id: str) -> OperationDetail:
    links = store.operation_links(op_id)
    infos = store.operations([op_id])
    if links is None or op_id not in infos:
        raise UnknownNameError(f"no operation {op_id!r} in the store")
    info = infos[op_id]
    names = store.describe([k for k, _ in links.inputs] + list(links.outputs))
    inputs = tuple(sorted(((names[k], t) for k, t in links.inputs if k in names), key=lambda x: x[0].name))
    outputs = tuple(sorted((names[k] for k in links.outputs if k in names), key=lambda n: n.name))
    label = operation_label(info.type, [n.name for n in outputs], info.users, info.executions)
    cut = cutoff(store)
    retired = cut if cut and (info.last_seen or "") < cut else None
    return OperationDetail(info, label, links.sql, links.fingerprint, links.namespace, inputs, outputs,
                           links.users, links.systems, retired)


def pattern_parts(pattern: str) -> list[str]:
    """A search pattern's literal parts: ``*`` matches anything between them, and alone anything.

    >>> pattern_parts("raw*amount"), pattern_parts("  Orders "), pattern_parts("*")
    (['raw', 'amount'], ['orders'], [])
    """
    if not pattern.strip():
        raise ConfigError("give some text to search for (a name or part of one; * matches anything)")
    return [p for p in pattern.strip().lower().split("*") if p]


def searched(pattern: str, namespace: str | None = None) -> list[tuple[str | None, list[str]]]:
    """The (namespace, parts) ``search`` asks the store for: the pattern in ``namespace``, and
    without one, each ``NS/pattern`` reading (as names are listed) in its namespace."""
    space = namespace.strip().rstrip("/") if namespace else None
    out = [(space, pattern_parts(pattern))]
    if namespace is None and "/" in pattern:
        out += [(ns, pattern_parts(part)) for ns, part in readings(pattern)[1:] if part.strip()]
    return out


def search(store: Store, pattern: str, namespace: str | None = None, limit: int = SEARCH_LIMIT) -> list[LineageNode]:
    """Datasets, then columns, whose name contains ``pattern`` (case-insensitive, ``*`` a wildcard),
    in ``namespace`` when given; up to ``limit`` of each kind."""
    found: dict[str, LineageNode] = {}
    for space, parts in searched(pattern, namespace):
        found.update((n.key, n) for n in store.search(parts, limit, space) if n.key not in found)
    return sorted(found.values(), key=lambda n: (n.kind != "dataset", n.name.lower(), n.namespace))


def search_totals(store: Store, pattern: str, namespace: str | None = None) -> dict[str, int]:
    """How many datasets and columns ``search`` finds without its limit: what "the first N of M"
    says. A name two readings of ``NS/pattern`` both find counts twice (rare: an estimate)."""
    totals = {"dataset": 0, "column": 0}
    for space, parts in searched(pattern, namespace):
        for kind, n in store.search_count(parts, space).items():
            totals[kind] += n
    return totals


def fragments(name: str) -> set[str]:
    """What to look for when ``name`` is not there: its parts whole, and each one's first and
    last three letters (a typo rarely spares both ends).

    >>> sorted(fragments("raw.paymnts"))
    ['nts', 'pay', 'paymnts', 'raw']
    """
    out: set[str] = set()
    for part in name.lower().split(".")[-2:] if "." in name else [name.lower()]:
        part = part.strip("*\"`[] ")
        if len(part) >= 3:
            out |= {part, part[:3], part[-3:]}
    return out


def suggest(store: Store, name: str, namespace: str | None = None, n: int = 5) -> list[LineageNode]:
    """The names closest to ``name`` (a typo, a wrong part), best first: what "did you mean" lists."""
    typed = readings(name, namespace)[-1][1].lower() if readings(name, namespace) else name.lower()
    want = len(typed.split("."))
    pool: dict[str, LineageNode] = {}
    for part in fragments(typed):
        for node in store.search([part], 500, namespace.strip().rstrip("/") if namespace else None):
            pool[node.key] = node

    def score(node: LineageNode) -> float:
        tail = ".".join(node.name.lower().split(".")[-want:])
        return difflib.SequenceMatcher(None, typed, tail).ratio()

    scores = {key: score(node) for key, node in pool.items()}
    best = max(scores.values(), default=0.0)
    ranked = sorted(pool.values(), key=lambda node: (-scores[node.key], node.name, node.namespace))
    return [node for node in ranked if scores[node.key] >= max(0.6, best - 0.15)][:n]


__all__ = ["AmbiguousNameError", "ColumnDetail", "DatasetDetail", "Detail", "OperationDetail", "OperationSummary",
           "UnknownNameError", "column", "dataset", "operation", "operation_label", "search", "search_totals", "show", "suggest"]
