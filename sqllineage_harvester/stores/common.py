"""What every store does alike: operations merged and taken apart into the rows a graph
holds, before writing; names matched, when reading. A new store is one class that uses these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from ..model import LineageNode, Operation
from ..naming import place

CHUNK = 900  # ids per IN (...) or UNWIND: below every driver's bind-parameter limit
DIRECT = "DIRECT"  # an input read for its values, not only through a JOIN / FILTER / ...
T = TypeVar("T")
# ``naming.place`` remembered: a batch names the same few datasets in thousands of column references.
placed: Callable[[str, str], tuple[str, str]] = lru_cache(maxsize=1 << 16)(place)


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    if isinstance(items, list):  # slices: no append a row
        for start in range(0, len(items), size):
            yield items[start:start + size]
        return
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def short_name(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower()


def widens(seen: tuple[str | None, str | None], op: Operation) -> bool:
    first, last = seen
    return bool((op.first_seen and (first is None or op.first_seen < first))
                or (op.last_seen and (last is None or op.last_seen > last)))


def by_name(nodes: Iterable[LineageNode]) -> list[LineageNode]:
    return sorted(nodes, key=lambda n: (n.name, n.namespace, n.kind))


def spellings(name: str) -> list[str]:
    """A bare column name as typed, lower and upper case: what an indexed lookup tries,
    since most warehouses fold unquoted names to one of the two.

    >>> spellings(" Email ")
    ['EMAIL', 'Email', 'email']
    """
    name = name.strip()
    return sorted({name, name.lower(), name.upper()})


def suffix_match(full: str, want: str) -> bool:
    full = full.lower()
    return full == want or full.endswith("." + want)


def earlier(a: str | None, b: str | None) -> str | None:
    """The earlier of two times, either of which may be unknown (None or empty); None if both are.
    Written out, not ``min(filter(None, ..))``: it runs once for each run of a batch."""
    if not a:
        return b or None
    return b if b and b < a else a


def later(a: str | None, b: str | None) -> str | None:
    """The later of two times, as :func:`earlier`."""
    if not a:
        return b or None
    return b if b and b > a else a


class Merged(NamedTuple):
    """The runs of one operation in a batch: its lineage (``op``, the last run given), the
    widest window and the executions summed."""

    op: Operation
    first_seen: str | None
    last_seen: str | None
    executions: int
    time_basis: str
    runs: int  # how many were merged


def merge_runs(ops: Iterable[Operation]) -> list[Merged]:
    """One :class:`Merged` per operation id, sorted by id (a stable lock order). Grouped by a stable
    sort, not a list an operation: a batch holds tens of thousands of runs, and every list made
    is one more object for the garbage collector to walk."""
    out: list[Merged] = []
    for _, runs_of in groupby(sorted(ops, key=attrgetter("id")), key=attrgetter("id")):
        last = next(runs_of)
        basis, first, last_seen, executions, count = (last.time_basis, last.first_seen, last.last_seen,
                                                      last.executions, 1)
        for last in runs_of:
            if last.time_basis != basis:
                basis = "mixed"
            first, last_seen = earlier(first, last.first_seen), later(last_seen, last.last_seen)
            executions += last.executions
            count += 1
        out.append(Merged(last, first, last_seen, executions, basis, count))
    return out


def merged_operation(m: Merged) -> Operation:
    """The merged runs as one operation."""
    return m.op if m.runs == 1 else replace(m.op, first_seen=m.first_seen, last_seen=m.last_seen,
                                            executions=m.executions, time_basis=m.time_basis)


def merge_operations(ops: Iterable[Operation]) -> list[Operation]:
    """One operation per id: executions summed, the widest window (sorted: a stable lock order).
    Who ran it is kept apart, by :func:`runs`: the merged operation's user and system are
    whichever came last and mean nothing."""
    return [merged_operation(m) for m in merge_runs(ops)]


@dataclass(frozen=True)
class Run:
    """Who (a user) or where (a system) ran one operation: its own window and count."""

    operation: str
    name: str
    first_seen: str | None
    last_seen: str | None
    executions: int


def run_rows(ops: Iterable[Operation], who: str) -> list[tuple[str, str, str | None, str | None, int]]:
    """:func:`runs` as tuples (operation, name, first_seen, last_seen, executions)."""
    found: dict[tuple[str, str], tuple[str, str, str | None, str | None, int]] = {}
    for op in ops:
        name = getattr(op, who)
        if not name:
            continue
        key = (op.id, name)
        old = found.get(key)
        # tuples of strings and numbers, not lists: the garbage collector stops tracking them
        found[key] = ((op.id, name, op.first_seen, op.last_seen, op.executions) if old is None else
                      (op.id, name, earlier(old[2], op.first_seen), later(old[3], op.last_seen),
                       old[4] + op.executions))
    return [found[k] for k in sorted(found)]


def runs(ops: Iterable[Operation], who: str) -> list[Run]:
    """Every (operation, user) -- or (operation, system), with ``who="system"`` -- that ran in
    ``ops``, each with the window and executions of its own runs only; sorted."""
    return [Run(*row) for row in run_rows(ops, who)]


EdgeRef = tuple[Any, Any, str]  # (source column, target column, type): a ColumnRef, a ColumnRef, a str


def _edge_order(edge: EdgeRef) -> tuple[str, str, str, str, str]:
    """The order of (ColumnRef, ColumnRef, str) edges as the dataclasses compare them, without their calls."""
    src, dst, kind = edge
    return src.dataset, src.column, dst.dataset, dst.column, kind


def column_edge_refs(op: Operation) -> list[EdgeRef]:
    """(source column, target column, type): direct sources, indirect ones, and the
    statement-wide indirect columns (a WHERE) applied to every written column; sorted."""
    out: set[EdgeRef] = set()
    targets = [c.target for c in op.columns if c.target.dataset]
    for c in op.columns:
        if c.target.dataset:
            out |= {(s, c.target, c.transform) for s in c.sources if s.dataset}
            out |= {(i.source, c.target, i.type) for i in c.indirect if i.source.dataset}
    out |= {(i.source, t, i.type) for i in op.indirect if i.source.dataset for t in targets}
    return sorted(out, key=_edge_order)


def column_refs(op: Operation, edges: Sequence[EdgeRef] | None = None) -> Iterator[Any]:
    """Every column an operation names: each written one (with a source or not) and each edge's ends
    (``edges``: its :func:`column_edge_refs`, when the caller has them already)."""
    yield from (c.target for c in op.columns if c.target.dataset)
    for src, dst, _ in column_edge_refs(op) if edges is None else edges:
        yield src
        yield dst


PLAIN = "table"  # the type a statement gives a dataset it cannot tell more of (a view it reads)


def dataset_types(ops: Iterable[Operation],
                  edges: Callable[[Operation], Sequence[EdgeRef]] = column_edge_refs) -> dict[tuple[str, str], str]:
    """(namespace, name) -> type of every dataset the operations name. A type that says more
    (view, file, model, ...) wins over the plain ``table`` a reading statement gives it, so a view
    is a view whichever operation a batch names it in first (a store updates a plain one).
    ``edges`` gives an operation's :func:`column_edge_refs` (a caller that keeps them passes its own)."""
    refs: dict[tuple[str, str], str] = {}
    for op in ops:
        for col in column_refs(op, edges(op)):
            refs.setdefault(placed(op.namespace, col.dataset), PLAIN)
        for ref in (*op.inputs, *op.outputs):
            key = placed(op.namespace, ref.name)
            known = refs.get(key, PLAIN)
            if known == PLAIN or (ref.type != PLAIN and ref.type < known):
                refs[key] = ref.type
    return refs


def masked_edges(op: Operation) -> set[tuple[Any, Any]]:
    """(source column, target column) of the direct edges whose value went through a masking function."""
    return {(s, c.target) for c in op.columns if c.target.dataset for s in c.masked if s.dataset}


def input_types(op: Operation) -> list[tuple[Any, str]]:
    """Each input with DIRECT, or its indirect kind when it is only read through JOIN/FILTER/..."""
    direct = {s.dataset for c in op.columns for s in c.sources}
    indirect = {i.source.dataset: i.type for c in op.columns for i in c.indirect}
    indirect.update({i.source.dataset: i.type for i in op.indirect})
    return [(r, indirect[r.name] if r.name in indirect and r.name not in direct else DIRECT)
            for r in op.inputs]


class Known:
    """What a store's process has written: what it committed, and what the open transaction
    adds, kept only if it commits (``begin`` / ``commit`` / ``rollback``; each thread has its own
    open transaction). Rows are never deleted and windows only widen, so what is kept stays true
    whoever else writes the store: a known row exists, and a known window is at most as wide as
    the stored one. A cache: a kind grown past ``MOST`` entries starts over."""

    MOST = 2_000_000

    def __init__(self, *kinds: str) -> None:
        self.kept: dict[str, dict[Any, Any]] = {kind: {} for kind in kinds}
        self._open = threading.local()
        self._lock = threading.Lock()

    @property
    def new(self) -> dict[str, dict[Any, Any]]:
        added = getattr(self._open, "added", None)
        if added is None:
            added = self._open.added = {kind: {} for kind in self.kept}
        return added

    def begin(self) -> None:
        self._open.added = None

    rollback = begin

    def commit(self) -> None:
        with self._lock:
            for kind, added in self.new.items():
                kept = self.kept[kind]
                if len(kept) + len(added) > self.MOST:
                    kept.clear()
                kept.update(added)
        self.begin()

    def get(self, kind: str, key: Any) -> Any:
        found = self.new[kind].get(key)
        return found if found is not None else self.kept[kind].get(key)

    def split(self, kind: str, keys: Iterable[Any]) -> tuple[dict[Any, Any], list[Any]]:
        """The keys known (with what is known of them) and the others, to look up in the store."""
        found: dict[Any, Any] = {}
        unknown = []
        for key in keys:
            seen = self.get(kind, key)
            if seen is None:
                unknown.append(key)
            else:
                found[key] = seen
        return found, unknown

    def put(self, kind: str, key: Any, value: Any) -> None:
        self.new[kind][key] = value
