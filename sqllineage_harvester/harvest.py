"""The harvest loop: source -> normalize -> dedup -> extract -> graph -> store.

Entries are read in batches after the source's stored cursor. A statement
seen before (same fingerprint, dialect and defaults) takes its lineage from the
cache (in memory, then the store's statement cache) instead of being parsed
again. Each batch is written in one transaction together with the cursor it
reaches, under a key naming its first and last rows, so a run killed anywhere
resumes with nothing lost and nothing counted twice.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from hashlib import blake2b
from itertools import islice
from typing import Callable, Iterable, Iterator, Mapping

from .declared import CROSSCHECK, compare, crosscheck_counts, declared
from .extract import Catalog, extract
from .extract.catalog import defined_columns, name_parts
from .extract.script import TEMP_TYPES, TempState
from .graph import Harvested, add_entry, decode, encode, sanitize, statement_key
from .model import Fingerprinted, LogEntry, StatementLineage
from .normalize import Normalizer
from .sources import Source
from .stores import Batch, Store

DEFAULT_BATCH = 20000
MAX_SESSIONS = 10_000  # sessions whose temp tables are remembered at once


@dataclass
class HarvestReport:
    """What a run did, for the closing summary line and ``--format json``."""

    source: str
    rows_read: int = 0
    entries: int = 0
    failed_executions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    distinct: int = 0
    parsed: int = 0
    failed: int = 0
    cached: int = 0
    operations: int = 0
    batches: int = 0
    seconds: float = 0.0
    cursor: str | None = None
    crosscheck: dict[str, int] = field(default_factory=dict)  # the log's own lineage against our parse
    notes: list[str] = field(default_factory=list)  # what the source wants the user to know

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        out = asdict(self)
        out["rows_per_second"] = round(self.rows_per_second, 1)
        out["seconds"] = round(self.seconds, 3)
        return out

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        return (
            f"{self.rows_read} rows read ({self.failed_executions} failed executions, {skipped} skipped), "
            f"{self.distinct} distinct statements: {self.parsed} parsed, {self.failed} failed, "
            f"{self.cached} from cache; {self.operations} operations written in {self.batches} batches; "
            f"{self.rows_per_second:,.0f} rows/s"
        ) + self._crosscheck()

    def _crosscheck(self) -> str:
        c = self.crosscheck
        if not c:
            return ""
        parts = [f"tables agree on {c.get('tables_agree', 0)} of {c.get('tables_agree', 0) + c.get('tables_differ', 0)}"]
        if "columns_agree" in c or "columns_differ" in c:
            parts.append(f"columns on {c.get('columns_agree', 0)} of "
                         f"{c.get('columns_agree', 0) + c.get('columns_differ', 0)}")
        if c.get("used_for_unparsed"):
            parts.append(f"used for {c['used_for_unparsed']} rows that did not parse")
        return "; the log's own lineage: " + ", ".join(parts)


@dataclass(frozen=True)
class Options:
    dialect: str | None
    namespace: str
    catalog: Mapping[str, Mapping[str, str]] | None = None
    store_sql: bool = True
    batch_size: int = DEFAULT_BATCH
    workers: int = 1
    timeout: float | None = 5.0


def _batches(entries: Iterable[LogEntry], size: int) -> Iterator[list[LogEntry]]:
    iterator = iter(entries)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _extract_one(args: tuple[str, str | None, str | None, str | None, Catalog | None, float | None]) -> str:
    sql, dialect, database, schema, catalog, timeout = args
    results = extract(sql, dialect, catalog=catalog, default_database=database, default_schema=schema, timeout=timeout,
                      columns="writes")  # plain SELECTs are kept as usage per table
    return encode([sanitize(r) for r in results])


class Harvester:
    """One harvest of one source into one store."""

    def __init__(self, source: Source, store: Store, options: Options) -> None:
        self.source, self.store, self.options = source, store, options
        self.normalizer = Normalizer()
        self.known: dict[str, list[StatementLineage]] = {}
        # The catalog: refreshed from the database (or a file) each run and kept in the store, so a
        # run that cannot read it, and a log with no catalog of its own, start from the last one;
        # tables the log creates or drops update it as the harvest goes.
        self.catalog_key = f"catalog:{options.namespace}"  # one per database, whichever log tells of it
        catalog = options.catalog
        if catalog:
            self.catalog = catalog if isinstance(catalog, Catalog) else Catalog.from_mapping(catalog, options.dialect)
            self.catalog_changed = True
        else:
            kept = store.cache_get([self.catalog_key]).get(self.catalog_key)
            self.catalog = Catalog.load(json.loads(kept)) if kept else Catalog()
            self.catalog_changed = False
        if hasattr(source, "batch_size"):  # sources that checkpoint once per batch (pg_stat_statements)
            source.batch_size = options.batch_size
        self.report = HarvestReport(source=source.url)
        self._pool: ProcessPoolExecutor | None = None
        self.sessions: dict[str, TempState] = {}  # session id -> its temp tables, oldest first
        self._defined: dict[str, dict[str, str] | None] = {}  # statement key -> columns its CREATE TABLE defines

    def run(self, progress: Callable[[int], None] | None = None,
            stop: Callable[[], bool] | None = None) -> HarvestReport:
        """Harvest until the source is exhausted, or ``stop()`` says so after a batch."""
        started = time.perf_counter()
        cursor = self.store.cursor(self.source.url)
        try:
            for chunk in _batches(self.source.read(cursor), self.options.batch_size):
                self._harvest(chunk)
                if progress:
                    progress(len(chunk))
                if stop is not None and stop():
                    break
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            self._finish(started)
        return self.report

    def _finish(self, started: float) -> None:
        stats = self.source.stats
        self.report.rows_read = stats.rows_read
        self.report.entries = stats.entries
        self.report.failed_executions = stats.failed
        self.report.skipped = dict(stats.skipped)
        self.report.notes = list(stats.notes)
        self.report.seconds = time.perf_counter() - started

    def _harvest(self, chunk: list[LogEntry]) -> None:
        items = [self.normalizer(e) for e in chunk]
        keys = [statement_key(i, self.options.dialect) for i in items]
        fresh = self._lookup(items, keys)
        out = Harvested()
        for item, key in zip(items, keys):
            results = self.known[key]
            self._learn(item, key, results)
            lineage = self._through_session(item, results)
            if item.entry.declared_inputs or item.entry.declared_outputs:
                lineage = self._against_log(out, item.entry, results, lineage)
            add_entry(out, item, key, results, self.options.namespace, self.options.dialect, self.options.store_sql,
                      lineage=lineage)
        for name, value in crosscheck_counts(out.counters.items()).items():
            self.report.crosscheck[name] = self.report.crosscheck.get(name, 0) + value
        last = chunk[-1].cursor
        if self.catalog_changed:
            fresh = {**fresh, self.catalog_key: json.dumps(self.catalog.dump(), separators=(",", ":"))}
            self.catalog_changed = False
        batch = Batch(
            operations=tuple(out.operations),
            usage=tuple(out.usage_rows()),
            failures=tuple(out.failures),
            cache=fresh,
            counters=out.counters,
            source=self.source.url,
            cursor=last,
            key=blake2b(f"{self.source.url}\x1f{chunk[0].cursor}\x1f{last}".encode(), digest_size=16).hexdigest(),
        )
        self.store.write_batch(batch)
        self.report.operations += len(out.operations)
        self.report.batches += 1
        self.report.cursor = last

    def _learn(self, item: Fingerprinted, key: str, results: list[StatementLineage]) -> None:
        """Tables the statement creates (with their columns) or drops change the catalog that
        later batches and runs are parsed with."""
        for r in results:
            if r.error:
                continue
            if r.kind == "drop":
                for ref in r.objects:
                    if self.catalog.drop(name_parts(ref.name)):
                        self.catalog_changed = True
                continue
            for ref in r.outputs:
                if ref.type not in ("table", "view"):
                    continue
                if r.kind in ("create_table_as", "create_view", "select_into"):
                    names = [c.target.column for c in r.columns if c.target.dataset == ref.name]
                    columns = None if not names or "*" in names else dict.fromkeys(names, "")
                elif r.kind == "ddl" and len(results) == 1 and ref in r.objects:
                    if key not in self._defined:  # parsed once per distinct statement
                        self._defined[key] = defined_columns(item.entry.sql, item.entry.dialect or self.options.dialect)
                    columns = self._defined[key]
                else:
                    continue
                parts = name_parts(ref.name)
                if columns and self.catalog.columns(parts) != columns:
                    self.catalog.add(parts, columns)
                    self.catalog_changed = True

    def _against_log(self, out: Harvested, entry: LogEntry, results: list[StatementLineage],
                     lineage: list[StatementLineage]) -> list[StatementLineage]:
        """Count how our parse stands against the log's own lineage; where the parse failed,
        the log's lineage stands in for it (the failure is still recorded)."""
        log = declared(entry.declared_inputs, entry.declared_outputs)
        if log is None:
            return lineage
        verdict = compare(log, results)
        if verdict is None:
            if not log.outputs:
                return lineage
            out.count(CROSSCHECK + "used_for_unparsed")
            return [sanitize(log.statement())]
        out.count(CROSSCHECK + ("tables_agree" if verdict.tables else "tables_differ"))
        if verdict.columns is not None:
            out.count(CROSSCHECK + ("columns_agree" if verdict.columns else "columns_differ"))
        return lineage

    def _through_session(self, item: Fingerprinted, results: list[StatementLineage]) -> list[StatementLineage]:
        """Temp tables made earlier in the same session are read through: a -> tmp -> b gives a -> b."""
        session = item.entry.session_id
        if not session:
            return results
        state = self.sessions.get(session)
        if state is None:
            if not any(o.type in TEMP_TYPES for r in results for o in r.outputs):
                return results
            if len(self.sessions) >= MAX_SESSIONS:
                self.sessions.pop(next(iter(self.sessions)))
            state = self.sessions[session] = TempState()
        return [folded for r in results if (folded := state.fold(r)) is not None]

    def _lookup(self, items: list[Fingerprinted], keys: list[str]) -> dict[str, str]:
        """Lineage for every key: memory, then the store's cache, then extraction."""
        missing = {k: i for k, i in zip(keys, items) if k not in self.known}
        if not missing:
            return {}
        for key, text in self.store.cache_get(list(missing)).items():
            self.known[key] = decode(text)
            self.report.cached += 1
            self.report.distinct += 1
            missing.pop(key, None)
        fresh = dict(zip(missing, self._extract_all(list(missing.values()))))
        for key, text in fresh.items():
            results = decode(text)
            self.known[key] = results
            self.report.distinct += 1
            if any(r.error for r in results):
                self.report.failed += 1
            else:
                self.report.parsed += 1
        if len(self.known) > 200_000:  # bounded memory; the store still has them all
            self.known.clear()
            self.known.update({k: decode(v) for k, v in fresh.items()})
        return fresh

    def _extract_all(self, items: list[Fingerprinted]) -> list[str]:
        o = self.options
        jobs = [(i.entry.sql, i.entry.dialect or o.dialect, i.entry.database, i.entry.schema, self.catalog, o.timeout)
                for i in items]
        if o.workers > 1 and len(jobs) > 8:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=o.workers)
            return list(self._pool.map(_extract_one, jobs, chunksize=16))
        return [_extract_one(job) for job in jobs]


def harvest(source: Source, store: Store, options: Options,
            progress: Callable[[int], None] | None = None,
            stop: Callable[[], bool] | None = None) -> HarvestReport:
    """Harvest ``source`` into ``store`` from its stored cursor on; see :class:`Harvester`."""
    return Harvester(source, store, options).run(progress, stop)
