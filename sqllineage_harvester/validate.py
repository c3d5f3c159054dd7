"""Is the lineage complete and trustworthy? One report read from a store, and thresholds a
scheduler can act on.

What it reads: the harvest's counters (executions by statement kind: full column lineage, with
warnings, failed), the stored operations and parse failures (distinct statements, failed writes
by table), every column's edges (column coverage, wildcards), the cross-check counters
(``declared.py``), the sources' cursors, and, given one, a catalog (names it does not know).

>>> thresholds("coverage=95,columns=90")
{'coverage': 95.0, 'columns': 90.0}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from .declared import crosscheck_counts
from .errors import ConfigError
from .extract import Catalog
from .extract.catalog import name_parts
from .extract.heads import head_kind, head_target
from .graph import NO_VALUES, SOURCE_ROWS
from .model import WRITE_KINDS, ParseFailure
from .retire import retired
from .stores import Store
from .stores.rows import OperationRow

FULL, WARNED, FAILED = "full", "warned", "failed"
THRESHOLDS = ("coverage", "statements", "columns", "agreement")  # what --fail-under may name
TOP = 20
SELF_KINDS = ("update", "merge", "delete", "insert", "insert_overwrite")  # a table may feed itself


@dataclass(frozen=True)
class KindLine:
    """Executions of one statement kind: with full column lineage, with warnings, failed."""

    kind: str
    full: int
    warned: int
    failed: int


@dataclass(frozen=True)
class FailedWrite:
    """A table whose writes did not parse: how many distinct statements, run how often, and why."""

    table: str
    kind: str
    statements: int
    executions: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SourceLine:
    name: str
    cursor: str | None
    last_harvest: str | None
    lag_seconds: int | None  # now minus the last harvest
    rows: int | None = None  # log entries harvested from it (None: harvested before this was counted)


@dataclass(frozen=True)
class Validation:
    """The answer to ``validate``."""

    kinds: tuple[KindLine, ...]  # executions, whole store
    statements: tuple[tuple[str, int], ...]  # distinct write statements: (full|warned|failed, count)
    failed_writes: tuple[FailedWrite, ...]  # every one, most executions first
    failures: tuple[ParseFailure, ...]  # every failed statement (redacted SQL), most executions first
    written_columns: int
    sourced_columns: int
    unsourced: tuple[str, ...]  # written columns without a source (names)
    wildcard_edges: int
    not_in_catalog: tuple[str, ...]  # tables written that the catalog does not hold (None: no catalog)
    unknown_names: tuple[str, ...]  # columns of catalog tables the catalog does not know
    agreement: tuple[tuple[str, int], ...]
    sources: tuple[SourceLine, ...]
    cycles: tuple[tuple[str, ...], ...]
    orphan_temps: tuple[str, ...]
    dangling_reads: tuple[str, ...]  # read, never written, never in the catalog
    retired_edges: int | None
    catalog: bool
    scores: tuple[tuple[str, float | None], ...]  # threshold name -> percent (None: nothing to measure)


def thresholds(text: str | None) -> dict[str, float]:
    """``coverage=95,columns=90`` as {name: percent}; a name or number we do not know is a usage error."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        form = f"give NAME=PERCENT, e.g. coverage=95,columns=90 (names: {', '.join(THRESHOLDS)})"
        if name not in THRESHOLDS:
            raise ConfigError(f"--fail-under: unknown measure {name!r}; {form}")
        try:
            out[name] = float(value.strip().rstrip("%"))
        except ValueError:
            raise ConfigError(f"--fail-under: {name}={value!r} is not a percentage; {form}") from None
        if not 0 <= out[name] <= 100:
            raise ConfigError(f"--fail-under: {name}={value.strip()} is not between 0 and 100 %")
    return out


def failed(validation: Validation, limits: dict[str, float]) -> list[str]:
    """The thresholds the validation falls under, as sentences (empty: every one holds)."""
    scores = dict(validation.scores)
    out = []
    for name, limit in limits.items():
        score = scores.get(name)
        if score is not None and score < limit:
            out.append(f"{name} {score:.1f} % is under {limit:g} %")
    return out


def validate(store: Store, *, namespace: str | None = None, since: str | None = None,
             catalog: Catalog | None = None, now: datetime | None = None) -> Validation:
    """Every check ``validate`` makes, read from ``store`` (``since``: statements last seen then or later)."""
    stats = store.stats()
    counters = dict(stats.counters)
    ops = [r for r in store.operation_rows(since) if namespace is None or r.namespace == namespace]
    fails = [f for f in store.failures() if not since or (f.last_seen or "") >= since]
    columns = [c for c in store.column_sources() if namespace is None or c[0] == namespace]
    kinds = kind_lines(counters)
    written, sourced, unsourced, wildcards = column_coverage(columns)
    writes = {name for r in ops for _, name in r.outputs}
    reads = {name for r in ops for _, name in r.inputs}
    missing, unknown, dangling = catalog_checks(catalog, writes, reads, columns)
    agreement = tuple(sorted(crosscheck_counts(stats.counters).items()))
    statements = statement_counts(ops, fails)
    result = Validation(
        kinds, statements, failed_writes(fails), tuple(fails), written, sourced, unsourced, wildcards,
        missing, unknown, agreement, source_lines(store, now, counters), cycles(ops), orphan_temps(ops), dangling,
        retired_count(store), catalog is not None, ())
    return _scored(result)


def kind_lines(counters: dict[str, int]) -> tuple[KindLine, ...]:
    """Executions by kind from the harvest's counters: ``rows:`` all, ``extracted:`` parsed,
    ``full:`` parsed with whole column lineage (a store harvested before ``full:`` was counted
    has its parsed statements under warnings: nothing is claimed that was not checked)."""
    kinds = sorted({k.split(":", 1)[1] for k in counters if k.startswith("rows:")})
    out = []
    for kind in kinds:
        rows, parsed = counters[f"rows:{kind}"], counters.get(f"extracted:{kind}", 0)
        full = min(counters.get(f"full:{kind}", 0), parsed)
        out.append(KindLine(kind, full, parsed - full, rows - parsed))
    return tuple(out)


def statement_counts(ops: Sequence[OperationRow], fails: Sequence[ParseFailure]) -> tuple[tuple[str, int], ...]:
    """Distinct write statements: with column edges and no ``*`` left, or a write that moves no
    values (a DELETE), full; parsed otherwise, warned; failed. An operation the log's own lineage stood in for (its text is a
    failure's) is counted failed, once."""
    failed_sql = {f.sql for f in fails if f.sql}
    full = warned = 0
    for op in ops:
        if op.sql and op.sql in failed_sql:
            continue
        if (op.edges or op.type in NO_VALUES) and not any("*" in (e[1], e[3]) for e in op.edges):
            full += 1
        else:
            warned += 1
    return ((FULL, full), (WARNED, warned), (FAILED, len(fails)))


def failed_writes(fails: Iterable[ParseFailure]) -> tuple[FailedWrite, ...]:
    """The tables whose writes did not parse, most executions first (a failure keeps its text)."""
    found: dict[tuple[str, str], list[ParseFailure]] = {}
    for f in fails:
        kind = head_kind(f.sql or "")
        target = head_target(f.sql) if kind in WRITE_KINDS else None
        if target:
            found.setdefault((target, kind), []).append(f)
    rows = [FailedWrite(t, k, len(fs), sum(f.executions for f in fs), tuple(sorted({f.reason for f in fs})))
            for (t, k), fs in found.items()]
    return tuple(sorted(rows, key=lambda w: (-w.executions, w.table)))


def column_coverage(columns: Sequence[tuple[str, str, str, int, int]]) -> tuple[int, int, tuple[str, ...], int]:
    """(written columns, those with a source, those without, wildcard edges). A column is
    written when an edge goes into it or none touches it (a written column with no source)."""
    written = [c for c in columns if c[3] or not c[4]]
    unsourced = tuple(f"{c[1]}.{c[2]}" for c in written if not c[3] and c[2] != "*")
    wildcards = sum(c[3] + c[4] for c in columns if c[2] == "*")
    written = [c for c in written if c[2] != "*"]
    return len(written), sum(1 for c in written if c[3]), unsourced, wildcards


def catalog_checks(catalog: Catalog | None, writes: set[str], reads: set[str],
                   columns: Sequence[tuple[str, str, str, int, int]]
                   ) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(tables written the catalog lacks, columns of catalog tables it does not know, datasets
    read but never written and not in the catalog); all empty without a catalog."""
    if catalog is None:
        return (), (), ()

    def known(name: str) -> dict[str, str] | None:
        return catalog.columns(name_parts(name)) or catalog.columns(name_parts(name.lower()))

    missing = tuple(sorted(n for n in writes if known(n) is None))
    unknown = []
    for _, table, column, _, _ in columns:
        cols = known(table)
        if cols is not None and column != "*" and column.lower() not in {c.lower() for c in cols}:
            unknown.append(f"{table}.{column}")
    dangling = tuple(sorted(n for n in reads - writes if known(n) is None and not _is_temp(n) and _is_table(n)))
    return missing, tuple(sorted(unknown)), dangling


def cycles(ops: Sequence[OperationRow]) -> tuple[tuple[str, ...], ...]:
    """Groups of datasets that feed each other round a loop; a statement that reads the table
    it writes (an UPDATE, a MERGE, an INSERT .. SELECT from itself) is a known self-update, not a cycle."""
    graph: dict[str, set[str]] = {}
    for op in ops:
        for _, src in op.inputs:
            for _, dst in op.outputs:
                if src != dst:
                    graph.setdefault(src, set()).add(dst)
                    graph.setdefault(dst, set())
    return tuple(sorted(tuple(sorted(c)) for c in _components(graph) if len(c) > 1))


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    part = []
                    while True:
                        top = stack.pop()
                        on.discard(top)
                        part.append(top)
                        if top == node:
                            break
                    out.append(part)
            elif step not in index:
                index[step] = low[step] = len(index)
                stack.append(step)
                on.add(step)
                work.append((step, iter(sorted(graph[step]))))
            elif step in on:
                low[node] = min(low[node], index[step])
    return out


def orphan_temps(ops: Sequence[OperationRow]) -> tuple[str, ...]:
    """Temp tables written and never read, or read and never written."""
    temp = [n for op in ops for n in (*op.inputs, *op.outputs) if _is_temp(n[1])]
    writes = {n for op in ops for n in op.outputs}
    reads = {n for op in ops for n in op.inputs}
    return tuple(sorted({n[1] for n in temp if (n in writes) != (n in reads)}))


def _is_temp(name: str) -> bool:
    """A temp table as the harvest keeps it: scoped to its session or query (``name#s..``)."""
    return "#" in name


def _is_table(name: str) -> bool:
    """Not a file, stage or object-store path."""
    return not any(mark in name for mark in ("://", "@", "/"))


def source_lines(store: Store, now: datetime | None, counters: dict[str, int] | None = None) -> tuple[SourceLine, ...]:
    at = now or datetime.now(timezone.utc)
    out = []
    for name, cursor, updated in store.harvested_sources():
        lag = None
        if updated:
            when = datetime.fromisoformat(updated.replace("Z", "+00:00"))
            lag = int((at - (when if when.tzinfo else when.replace(tzinfo=timezone.utc))).total_seconds())
        out.append(SourceLine(name, cursor, updated, lag, (counters or {}).get(SOURCE_ROWS + name)))
    return tuple(out)


def retired_count(store: Store) -> int | None:
    """Retired table and column edges (retire.py); None where no retention is kept."""
    found = retired(store)
    return None if found is None else found[1] + found[2]


def _percent(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _scored(v: Validation) -> Validation:
    executions = sum(k.full + k.warned + k.failed for k in v.kinds)
    distinct = dict(v.statements)
    checked = sum(n for k, n in v.agreement if k.endswith(("_agree", "_differ")))
    scores = (
        ("coverage", _percent(sum(k.full for k in v.kinds), executions)),
        ("statements", _percent(distinct[FULL], sum(distinct.values()))),
        ("columns", _percent(v.sourced_columns, v.written_columns)),
        ("agreement", _percent(sum(n for k, n in v.agreement if k.endswith("_agree")), checked)),
    )
    return Validation(**{**v.__dict__, "scores": scores})
