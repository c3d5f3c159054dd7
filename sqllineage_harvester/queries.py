"""upstream / downstream / impact / path / stats, on top of any ``Store``.

Traversal is breadth-first, one ``store.neighbors`` call per level, so a node's
depth is its shortest distance from the root and every store (SQL, graph
database) answers the same way. A NAME is a dataset (``db.schema.table``) or a
column (``db.schema.table.column``), possibly shortened from the left
(``orders.amount``) when that is unambiguous, possibly with its namespace in front
(``snowflake://acme/orders.amount``). A time window (``since``, ``as_of``) is read
as times and compared as times (``moment``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timezone

from .errors import ConfigError
from .model import (
    GraphNode, Hidden, KindCoverage, LineageEdge, LineageGraph, LineageNode, LineageStats, OperationInfo,
)
from .retire import SETTING, live_since, retired
from .shards import is_date_suffix
from .sources.files import parse_time
from .stores import DOWNSTREAM, UPSTREAM, Store

ROWS, EXTRACTED, FULL = "rows:", "extracted:", "full:"  # harvest counters coverage is computed from
FAILING = 5  # failed statements ``stats`` shows


class UnknownNameError(ConfigError):
    """No dataset or column in the store has that name."""


class AmbiguousNameError(ConfigError):
    """A partial name matches several nodes; ``candidates`` lists them."""

    def __init__(self, name: str, candidates: list[LineageNode]) -> None:
        self.candidates = candidates
        listed = "\n".join(f"  {n.namespace}/{n.name} ({n.kind})" for n in candidates[:20])
        more = f"\n  ... and {len(candidates) - 20} more" if len(candidates) > 20 else ""
        how = ("choose the namespace with --namespace NS, or give the name as NS/NAME (as listed)"
               if len({n.namespace for n in candidates}) > 1 else "give more of the name, or NS/NAME as listed")
        super().__init__(f"{name!r} is ambiguous; say which one:\n{listed}{more}\n{how}")


def readings(name: str, namespace: str | None = None) -> list[tuple[str | None, str]]:
    """The (namespace, name) pairs NAME can mean: itself in any namespace, and for each ``/``
    (but those of a ``://``) the namespace before it with the name after it, as names are listed
    (``NS/NAME``, whether NS is ``bigquery``, ``file`` or ``snowflake://acme``). ``namespace`` keeps the
    readings in that namespace (a name with ``://`` of its own, such as a file, stays whole).

    >>> readings("snowflake://acme/raw.payments.amount")
    [(None, 'snowflake://acme/raw.payments.amount'), ('snowflake://acme', 'raw.payments.amount')]
    >>> readings("bigquery/shop-prod.ml.churn_model")
    [(None, 'bigquery/shop-prod.ml.churn_model'), ('bigquery', 'shop-prod.ml.churn_model')]
    >>> readings("raw.payments", namespace="snowflake://acme/")
    [('snowflake://acme', 'raw.payments')]
    """
    name = name.strip()
    out: list[tuple[str | None, str]] = [(None, name)]
    schemes = {at + k for at in range(len(name)) if name.startswith("://", at) for k in (1, 2)}
    out += [(name[:i], name[i + 1:]) for i in range(1, len(name) - 1) if name[i] == "/" and i not in schemes]
    if namespace is None:
        return out
    wanted = namespace.strip().rstrip("/")
    return [(wanted, part) for space, part in out if space is None or space.lower() == wanted.lower()]


def candidates(store: Store, name: str, namespace: str | None = None) -> tuple[list[LineageNode], set[str]]:
    """The nodes NAME may mean, and the keys of those it names in full."""
    found: dict[str, LineageNode] = {}
    exact: set[str] = set()
    for space, part in readings(name, namespace):
        for node in store.resolve(part):
            if space is None or node.namespace.lower() == space.lower():
                found[node.key] = node
                if node.name.lower() == part.lower():
                    exact.add(node.key)
    return sorted(found.values(), key=lambda n: (n.namespace, n.name, n.kind)), exact


def find(store: Store, name: str, namespace: str | None = None) -> LineageNode:
    """The one node ``name`` means; an exact full name wins over longer names ending with it.

    ``name`` may start with its namespace (``NS/name``, the form the Neo4j store's ids take);
    ``namespace`` keeps only the nodes in that namespace."""
    nodes, exact = candidates(store, name, namespace)
    if len(nodes) == 1:
        return nodes[0]
    if len(exact) == 1:
        return next(n for n in nodes if n.key in exact)
    if nodes:
        raise AmbiguousNameError(name, nodes)
    raise unknown(store, name, namespace)


def unknown(store: Store, name: str, namespace: str | None) -> UnknownNameError:
    """No such name (in that namespace); where the name is, when a namespace was the trouble."""
    where = f" in namespace {namespace!r}" if namespace else ""
    others = (candidates(store, name)[0] if namespace else
              [n for space, part in readings(name)[1:] for n in store.resolve(part)])
    listed = sorted({f"{n.namespace}/{n.name}" for n in others})
    more = f", ... ({len(listed)} in all)" if len(listed) > 10 else ""
    there = f"; there is {', '.join(listed[:10])}{more}" if listed else ""
    if not listed:
        from .explore import suggest

        close = suggest(store, name, namespace)
        whole = len({n.namespace for n in close}) > 1
        shown = [f"{n.namespace}/{n.name}" if whole else n.name for n in close]
        there = f"; did you mean {', '.join(shown)}?" if shown else ""
    return UnknownNameError(f"no dataset or column named {name!r}{where} in the store{there}")


def moment(text: str | None, end_of_day: bool = False) -> str | None:
    """A ``--since`` / ``--as-of`` value in the one form the store keeps times: UTC ISO-8601
    with microseconds, as the harvest's sources write them (``parse_time``), so comparing the
    text compares the times. A time without an offset is UTC; a date alone is the start of that
    day, or its end with ``end_of_day``. None stays None (no bound); anything else that is not a
    time is a usage error, never "no bound".

    >>> moment("2024-03-01T12:00:01+02:00")
    '2024-03-01T10:00:01.000000Z'
    >>> moment("2024-03-01"), moment("2024-03-01", end_of_day=True)
    ('2024-03-01T00:00:00.000000Z', '2024-03-01T23:59:59.999999Z')
    """
    if text is None:
        return None
    value = text.strip()
    try:
        day: date | None = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        value = f"{day.isoformat()}T23:59:59.999999" if end_of_day else day.isoformat()
    stored = parse_time(value, (), timezone.utc) if value else None
    if stored is None:
        raise ConfigError(f"not a date or time: {text!r} (use YYYY-MM-DD, or ISO-8601 such as "
                          f"2024-03-01T10:00:00Z or 2024-03-01T12:00:00+02:00)")
    return stored


def bounds(since: str | None, as_of: str | None) -> tuple[str | None, str | None]:
    """(since, as_of) as the stores compare them: ``moment``, a date as-of meaning its end."""
    return moment(since), moment(as_of, end_of_day=True)


def walk(store: Store, roots: Iterable[str], direction: str, depth: int | None = None,
         direct_only: bool = False, since: str | None = None, as_of: str | None = None,
         stop: str | None = None) -> tuple[dict[str, int], list[LineageEdge]]:
    """Each key reached from ``roots`` with its shortest distance, and the edges walked.

    A store that answers a whole walk in one query (a ``walk`` method: Neo4j's
    variable-length paths) does so; the others go level by level (``walk_levels``).
    Both give the same answer. ``since`` / ``as_of`` are read by ``moment``."""
    since, as_of = bounds(since, as_of)
    own = getattr(store, "walk", None)
    if own is not None:
        return own(list(roots), direction, depth, direct_only, since, as_of, stop)  # type: ignore[no-any-return]
    return walk_levels(store, roots, direction, depth, direct_only, since, as_of, stop)


def walk_levels(store: Store, roots: Iterable[str], direction: str, depth: int | None = None,
                direct_only: bool = False, since: str | None = None, as_of: str | None = None,
                stop: str | None = None) -> tuple[dict[str, int], list[LineageEdge]]:
    """Breadth-first from ``roots``, one ``neighbors`` call a level; ``since`` / ``as_of`` in the
    form the store keeps times (``walk`` reads them so)."""
    depths = {key: 0 for key in roots}
    frontier, edges, level = list(depths), set(), 0
    while frontier and (depth is None or level < depth) and stop not in depths:
        level += 1
        step = store.neighbors(frontier, direction, direct_only=direct_only, since=since, as_of=as_of)
        frontier = []
        for edge in step:
            far = edge.target if direction == DOWNSTREAM else edge.source
            if far not in depths:
                depths[far] = level
                frontier.append(far)
            edges.add(edge)
    return depths, sorted(edges, key=edge_order)


def left_out(store: Store, depths: dict[str, int], edges: Iterable[LineageEdge], direction: str,
             depth: int | None, direct_only: bool, since: str | None, as_of: str | None,
             live: str | None) -> Hidden | None:
    """The edges a walk cut by ``live`` (the retirement cut, or the asked since) and ``as_of`` left
    out from the nodes it stepped from, so that hidden lineage never reads as none: one more step
    from those nodes without a window (not a second walk), less the edges walked. An edge outside
    the asked [since, as_of] counts there, any other was retired. None when nothing was left out."""
    if not (live or as_of):
        return None
    stepped = [k for k, d in depths.items() if depth is None or d < depth]  # a walk with no stop met
    if not stepped:
        return None
    walked = {edge_order(e) for e in edges}
    missing = {edge_order(e): e for e in store.neighbors(stepped, direction, direct_only=direct_only)
               if edge_order(e) not in walked}
    if not missing:
        return None
    outside = sum(1 for e in missing.values() if not within(e, since, as_of))
    kept = store.setting(SETTING) if len(missing) > outside else None
    return Hidden(len(missing) - outside, outside, kept)


def within(edge: LineageEdge, since: str | None, as_of: str | None) -> bool:
    """Whether the stores' window (last seen at or after since, first seen by as_of) keeps ``edge``."""
    return ((not since or bool(edge.last_seen and edge.last_seen >= since))
            and (not as_of or bool(edge.first_seen and edge.first_seen <= as_of)))


def edge_order(edge: LineageEdge) -> tuple[str, str, str, str]:
    return (edge.source, edge.target, edge.operation, edge.type)


def near_far(edge: LineageEdge, direction: str) -> tuple[str, str]:
    return (edge.source, edge.target) if direction != UPSTREAM else (edge.target, edge.source)


def graph(store: Store, root: LineageNode, direction: str, depths: dict[str, int],
          edges: list[LineageEdge], details: bool, target: LineageNode | None = None,
          since: str | None = None, as_of: str | None = None) -> LineageGraph:
    """Name the keys a walk reached and say how each was reached (operations, users, last seen)."""
    names = store.describe(depths)
    # Keys are the store's own; names and namespaces order the answer the same in every store.
    edges = sorted(edges, key=lambda e: (*place(names, e.source), *place(names, e.target), e.operation, e.type))
    ops = store.operations({e.operation for e in edges}, since, as_of) if details else {}
    runs = in_window(store, edges, ops, since, as_of)  # last seen and counts within the window, where known
    edges = [replace(e, last_seen=runs[e.operation].last_seen) if runs.get(e.operation) else e for e in edges]
    reached: dict[str, list[LineageEdge]] = defaultdict(list)
    for edge in edges:
        near, far = near_far(edge, direction)
        if depths.get(near, -2) == depths[far] - 1:
            reached[far].append(edge)
    ops = {k: replace(o, first_seen=runs[k].first_seen, last_seen=runs[k].last_seen, executions=runs[k].executions)
           if runs.get(k) else o for k, o in ops.items()}
    nodes = [node(names[key], depth, reached[key], ops, as_of) for key, depth in depths.items()]
    nodes.sort(key=lambda n: (n.depth, n.node.name, n.node.namespace))
    exact = all(v is not None for v in runs.values())  # every count shown is of the window
    return LineageGraph(root, direction, tuple(nodes), tuple(edges),
                        tuple(ops[k] for k in sorted(ops)), target, as_of=as_of,
                        windowed=bool(since or as_of) and not exact)


def in_window(store: Store, edges: list[LineageEdge], ops: dict[str, OperationInfo], since: str | None,
              as_of: str | None) -> dict[str, OperationInfo | None]:
    """Each operation of ``edges`` seen outside [since, as_of]: its runs within it (first, last seen,
    executions) from who ran it, when every user's runs fall wholly in or out of the window; None when
    some user ran it both in and out (the store keeps first and last seen a user, not each run)."""
    if not (since or as_of):
        return {}
    out: dict[str, OperationInfo | None] = {}

    def outside(first: str | None, last: str | None) -> bool:
        return bool((as_of and (last or "") > as_of) or (since and first and first < since))

    for op in sorted({e.operation for e in edges if outside(e.first_seen, e.last_seen)}
                     | {k for k, o in ops.items() if outside(o.first_seen, o.last_seen)}):
        links = store.operation_links(op)
        people = links.users if links else ()
        inside = [r for r in people if r.first_seen and r.last_seen and (not since or r.first_seen >= since)
                  and (not as_of or r.last_seen <= as_of)]
        elsewhere = [r for r in people if r.last_seen and r.first_seen and ((since and r.last_seen < since)
                                                                          or (as_of and r.first_seen > as_of))]
        if not inside or len(inside) + len(elsewhere) < len(people) or any(not r.executions for r in inside):
            out[op] = None
            continue
        out[op] = OperationInfo(op, "", (), (), min(r.first_seen for r in inside),  # type: ignore[type-var]
                                max(r.last_seen for r in inside),  # type: ignore[type-var]
                                sum(r.executions for r in inside))
    return out


def place(names: dict[str, LineageNode], key: str) -> tuple[str, str]:
    known = names.get(key)
    return (known.name, known.namespace or "") if known else ("", key)


def node(name: LineageNode, depth: int, via: list[LineageEdge], ops: dict[str, OperationInfo],
         as_of: str | None = None) -> GraphNode:
    operations = tuple(sorted({e.operation for e in via}))
    users = tuple(sorted({u for o in operations if o in ops for u in ops[o].users}))
    last = max((e.last_seen for e in via if e.last_seen), default=None)
    if last and as_of and last > as_of:  # seen since: when last by then is not kept
        return GraphNode(name, depth, operations, users, None, as_of)
    return GraphNode(name, depth, operations, users, last)


def traverse(store: Store, name: str, direction: str, depth: int | None, direct_only: bool,
             since: str | None, as_of: str | None, details: bool, namespace: str | None = None,
             include_retired: bool = False) -> LineageGraph:
    if depth is not None and depth < 0:
        raise ConfigError("--depth must be 0 or more")
    root, note = find_noted(store, name, namespace)
    since, as_of = bounds(since, as_of)  # as the stores keep times: users and last seen are read in it too
    live = live_since(store, since, as_of, include_retired)  # retired edges are left out unless asked
    depths, edges = walk(store, [root.key], direction, depth, direct_only, live, as_of)
    # The retirement cut chooses the edges walked; it windows no count: only the asked window does.
    answer = graph(store, root, direction, depths, edges, details, since=since, as_of=as_of)
    hidden = left_out(store, depths, edges, direction, depth, direct_only, since, as_of, live)
    return replace(answer, note=note, hidden=hidden) if note or hidden else answer


def find_noted(store: Store, name: str, namespace: str | None = None) -> tuple[LineageNode, str | None]:
    """``find``; a name the store does not have that is a shard of a date-sharded family the
    harvest kept as one dataset (``p.d.events_20260101`` of ``p.d.events_*``) finds the family,
    with a note that says so."""
    try:
        return find(store, name, namespace), None
    except UnknownNameError:
        found = shard_family(store, name, namespace)
        if found is None:
            raise
        return found


def shard_family(store: Store, name: str, namespace: str | None = None) -> tuple[LineageNode, str] | None:
    """The family of a shard named by ``name`` (or of a column of it), from the shards the
    harvest kept for each family (``shards:NAMESPACE``): the suffix seen, or one of the same
    shape (a shard not harvested yet)."""
    parts = name.split(".")
    for at in range(len(parts) - 1, max(len(parts) - 3, -1), -1):
        part = parts[at]
        for cut in range(1, len(part)):
            if not part[cut].isdigit() or part[cut - 1].isdigit():
                continue
            family = ".".join([*parts[:at], part[:cut] + "*", *parts[at + 1:]])
            try:
                node = find(store, family, namespace)
            except AmbiguousNameError as e:  # several families of that name: listed, under the name given
                raise AmbiguousNameError(f"{name} (a shard of a date-sharded family)", e.candidates) from None
            except UnknownNameError:
                continue
            dataset = node.name if node.kind == "dataset" else node.name.rsplit(".", 1)[0]
            kept = store.cache_get([f"shards:{node.namespace}"]).get(f"shards:{node.namespace}")
            seen = json.loads(kept).get(dataset, []) if kept else []
            suffix = part[cut:]
            if suffix in seen or (is_date_suffix(suffix) and any(_shape(s) == _shape(suffix) for s in seen)):
                return node, (f"{name} is a shard of the date-sharded {dataset} (shards {seen[0]} to {seen[-1]}, "
                              f"{len(seen)} seen): the answer is the family's")
    return None


def _shape(text: str) -> str:
    return "".join("9" if c.isdigit() else c for c in text)


def upstream(store: Store, name: str, depth: int | None = None, direct_only: bool = False,
             since: str | None = None, as_of: str | None = None, namespace: str | None = None,
             details: bool = False, include_retired: bool = False) -> LineageGraph:
    """Everything ``name`` comes from, each with its distance; ``details``: the operations on the
    way (kind, users, runs) too, as ``impact`` gives them."""
    return traverse(store, name, UPSTREAM, depth, direct_only, since, as_of, details, namespace, include_retired)


def downstream(store: Store, name: str, depth: int | None = None, direct_only: bool = False,
               since: str | None = None, as_of: str | None = None, namespace: str | None = None,
               details: bool = False, include_retired: bool = False) -> LineageGraph:
    """Everything that comes from ``name``, each with its distance (``details`` as for ``upstream``)."""
    return traverse(store, name, DOWNSTREAM, depth, direct_only, since, as_of, details, namespace, include_retired)


def impact(store: Store, name: str, depth: int | None = None, direct_only: bool = False,
           since: str | None = None, as_of: str | None = None, namespace: str | None = None,
           include_retired: bool = False) -> LineageGraph:
    """Downstream with each node's impact level, the operations and users on the way,
    and when that lineage was last seen."""
    return traverse(store, name, DOWNSTREAM, depth, direct_only, since, as_of, True, namespace, include_retired)


def path(store: Store, a: str, b: str, depth: int | None = None, direct_only: bool = False,
         since: str | None = None, as_of: str | None = None, namespace: str | None = None,
         include_retired: bool = False) -> LineageGraph:
    """Every shortest way data gets from ``a`` to ``b`` (empty when there is none).

    A table and a column are compared at table level; ``namespace`` applies to both names.
    """
    since, as_of = bounds(since, as_of)
    live = live_since(store, since, as_of, include_retired)  # as traverse: the cut walks, the window counts
    (start, first), (goal, second) = find_noted(store, a, namespace), find_noted(store, b, namespace)
    if start.kind != goal.kind:
        start, goal = dataset_of(store, start), dataset_of(store, goal)
    depths, edges = walk(store, [start.key], DOWNSTREAM, depth, direct_only, live, as_of, stop=goal.key)
    if goal.key not in depths:  # no route: say what the cut or the window left out on the way
        hidden = left_out(store, depths, edges, DOWNSTREAM, depth, direct_only, since, as_of, live)
        return LineageGraph(start, "path", (), (), (), goal, "; ".join(n for n in (first, second) if n) or None,
                            hidden=hidden)
    keep_nodes, keep_edges, todo = {goal.key}, set(), [goal.key]
    while todo:  # back from the goal along edges that go one level closer to the start
        key = todo.pop()
        for edge in edges:
            if edge.target == key and depths.get(edge.source, -2) == depths[key] - 1:
                keep_edges.add(edge)
                if edge.source not in keep_nodes:
                    keep_nodes.add(edge.source)
                    todo.append(edge.source)
    kept = {k: depths[k] for k in keep_nodes}
    result = graph(store, start, DOWNSTREAM, kept, sorted(keep_edges, key=edge_order), details=True,
                   since=since, as_of=as_of)
    return replace(result, direction="path", target=goal,
                   note="; ".join(n for n in (first, second) if n) or None)


def dataset_of(store: Store, node: LineageNode) -> LineageNode:
    if node.kind == "dataset":
        return node
    table = node.name.rsplit(".", 1)[0]
    same = [n for n in store.resolve(table) if n.kind == "dataset" and n.name == table
            and n.namespace == node.namespace]
    if not same:
        raise UnknownNameError(f"no dataset {table!r} for column {node.name!r}")
    return same[0]


def stats(store: Store) -> LineageStats:
    """Store sizes, coverage by statement kind (from the harvest's ``rows:<kind>``,
    ``extracted:<kind>`` and ``full:<kind>`` counters), the most frequent failure reasons and
    the statements that failed most often."""
    raw = store.stats()
    counted = dict(raw.counters)
    kinds = sorted({k[len(ROWS):] for k in counted if k.startswith(ROWS)})
    coverage = tuple(KindCoverage(k, counted[ROWS + k], counted.get(EXTRACTED + k, 0), counted.get(FULL + k, 0))
                     for k in kinds)
    return LineageStats(raw.counts, coverage, raw.failures, raw.counters, tuple(store.failures(FAILING)),
                        retired(store))
