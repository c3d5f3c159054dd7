"""The harvest loop: source -> normalize -> dedup -> extract -> graph -> store.

Entries are read in batches after the source's stored cursor. A statement
seen before (same fingerprint, dialect and defaults) takes its lineage from the
cache (in memory, then the store's statement cache) instead of being parsed
again; a repeat in the same state adds what its first run added (graph.Replay).
New statements are parsed where executors.py says (this process, worker processes,
a Dask cluster) while later batches are read. Each batch is written in one
transaction together with the cursor it reaches, under a key naming its first and
last rows, so a run killed anywhere resumes with nothing lost and nothing counted
twice.
"""

from __future__ import annotations

import copy
import gc
import json
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from hashlib import blake2b
from itertools import islice
from operator import attrgetter
from typing import Callable, Iterable, Iterator, Mapping, Protocol

from .declared import CROSSCHECK, compare, crosscheck_counts, declared
from .executors import Executor, Handle, Inline, Job, make_executor
from .errors import ConfigError
from .extract import Catalog
from .extract.script import TEMP_TYPES, TempState
from .graph import SOURCE_ROWS, Harvested, Replay, add_entry, decode, sanitize, scope_temps, statement_key
from .learn import TEACHING_KINDS, Learning
from .model import Fingerprinted, LogEntry, StatementLineage
from .normalize import Normalizer
from .progress import Tick, short_cursor, tick
from .sessions import Session, Sessions
from .shards import NO_RULE, ShardRule, family_key, rule_for
from .sources import WINDOW, Source, SourceStats, source_identity
from .stores import Batch, CursorMovedError, Store
from .system_objects import without_system_objects

_SQL = attrgetter("sql")
# Rows a transaction commits. A commit's cost follows what changed in it (each operation, user and
# system run, each dataset read), which a longer stretch of log hardly grows: a backfill of 1M rows
# with 6,000 distinct statements spent a third of its time writing when it committed every 20,000, and
# its CPU time was 8 % less at 250,000 than at 100,000. A batch commits early where its new statements
# would hold more memory than --memory allows (``_harvest``).
DEFAULT_BATCH = 250_000
READ_CHUNK = 20_000  # rows read, fingerprinted and sent to be parsed at a time, within a batch
READ_AHEAD = 8  # chunks read beyond the one worked through while their parses are not done (and --memory allows)
DEFAULT_MEMORY = 1 << 30  # the caches' budget: the process takes about 150 MB beside it
Defaults = tuple[str | None, str | None]  # the database and schema(s) a statement is qualified with


OUT_OF_WINDOW = ("before_since", "after_until")  # rows a --since/--until window leaves out, not damaged ones


@dataclass
class HarvestReport:
    """What a run did, for the closing summary line and ``--format json``."""

    source: str
    rows_read: int = 0
    rows_already_harvested: int = 0  # rows before the cursor, met again and passed over
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
    notes: list[str] = field(default_factory=list)  # what the source wants the user to know, file errors too
    file_errors: list[str] = field(default_factory=list)  # files given that were not read whole (exit 3)
    warnings: dict[str, int] = field(default_factory=dict)  # rows kept with a flaw, by kind

    @property
    def complete(self) -> bool:
        """Whether every file given was read whole (rows skipped one by one are counted, not this)."""
        return not self.file_errors

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        out = asdict(self)
        out["rows_per_second"] = round(self.rows_per_second, 1)
        out["seconds"] = round(self.seconds, 3)
        out["complete"] = self.complete
        return out

    def summary(self) -> str:
        outside = sum(n for reason, n in self.skipped.items() if reason in OUT_OF_WINDOW)
        skipped = sum(self.skipped.values()) - outside
        already = (f"{self.rows_already_harvested:,} rows already harvested, {self.rows_read:,} new"
                   if self.rows_already_harvested else f"{self.rows_read:,} rows read")
        window = f", {outside:,} outside --since/--until" if outside else ""
        return (
            f"{already} ({self.failed_executions:,} failed executions, {skipped:,} skipped{window}), "
            f"{self.distinct:,} distinct statements: {self.parsed:,} parsed, {self.failed:,} failed, "
            f"{self.cached:,} from cache; {self.operations:,} operations written in {self.batches:,} batch{'es' * (self.batches != 1)}; "
            f"{self.rows_per_second:,.0f} rows/s; cursor {short_cursor(self.cursor)}"
        ) + self._crosscheck()

    def _crosscheck(self) -> str:
        c = self.crosscheck
        if not c:
            return ""
        parts = [f"tables agree on {c.get('tables_agree', 0)} of {c.get('tables_agree', 0) + c.get('tables_differ', 0)}"]
        for kind, what in (("columns", "columns"), ("indirect", "indirect sources")):
            if f"{kind}_agree" in c or f"{kind}_differ" in c:
                parts.append(f"{what} on {c.get(f'{kind}_agree', 0)} of "
                             f"{c.get(f'{kind}_agree', 0) + c.get(f'{kind}_differ', 0)}")
        if c.get("used_for_unparsed"):
            parts.append(f"used for {c['used_for_unparsed']:,} row{'s' * (c['used_for_unparsed'] != 1)} that did not parse")
        return "; the log's own lineage: " + ", ".join(parts)


@dataclass(frozen=True)
class Options:
    dialect: str | None
    namespace: str
    catalog: Mapping[str, Mapping[str, str]] | None = None
    store_sql: bool = True
    batch_size: int = DEFAULT_BATCH
    workers: int | None = 1  # None: one per core
    timeout: float | None = 5.0
    executor: str | None = None  # dask://HOST:PORT: parse on a Dask cluster
    memory: int = DEFAULT_MEMORY  # bytes, about, for what the harvest remembers between batches
    # Suffix forms of date-sharded tables (shards.py); None: the dialect file's, (): off.
    date_shards: tuple[str, ...] | None = None


class BatchHook(Protocol):
    """Told of each batch: ``prepare`` returns what to write (it may add to the batch's cache, which
    commits with it), ``committed`` is called once it is in the store and must not block."""

    def prepare(self, batch: Batch) -> Batch: ...

    def committed(self, batch: Batch) -> None: ...


def _chunks(entries: Iterable[LogEntry], batch: int, most: int) -> Iterator[list[LogEntry]]:
    """Entries in chunks of at most ``most``, none across a multiple of ``batch`` rows: a batch
    (a transaction) is whole chunks, and ends where it would if it were read in one."""
    iterator, into = iter(entries), 0
    while chunk := list(islice(iterator, min(most, batch - into))):
        into = (into + len(chunk)) % batch
        yield chunk


@dataclass
class _Open:
    """A batch being worked through, chunk by chunk, until it is committed."""

    first: str | None  # the cursor of its first row
    out: Harvested = field(default_factory=Harvested)
    cache: dict[str, str] = field(default_factory=dict)  # statement cache texts to write with it
    rows: int = 0
    held: int = 0  # bytes of cache texts it holds
    last: str | None = None  # the source's cursor after its last chunk


@dataclass(frozen=True)
class _Front:
    """A chunk read and fingerprinted, its statement keys planned (see ``Harvester._front``)."""

    chunk: list[LogEntry]
    items: list[Fingerprinted]
    planned: list[tuple[Defaults, str]]
    wanted: dict[str, tuple[Fingerprinted, Defaults]]  # first entry of each key to parse or look up
    position: str | None
    stats: SourceStats
    size: int


@dataclass
class _Read:
    """A chunk read and fingerprinted, its new statements on their way to be parsed; ``at``: its
    entries worked through so far."""

    chunk: list[LogEntry]
    items: list[Fingerprinted]
    planned: list[tuple[Defaults, str]]
    position: str | None  # the source's cursor after the batch
    stats: SourceStats  # what the source had met up to the batch's end
    sent: list[str]  # statement keys sent to be parsed with it
    size: int  # bytes it holds, about
    at: int = 0


@dataclass(frozen=True)
class _Repeat:
    """A statement worked out in full once, for its repeats: valid while what is learned of
    the catalog and temp names is as it was (``state``); ``neutral`` when learning from it
    again can only note columns it writes."""

    state: tuple[int, int]
    neutral: bool
    removals: int  # Learning.removals then: while it stays, learning from it again would add nothing
    results: list[StatementLineage]
    again: Replay


@dataclass
class Parsed:
    """A statement's lineage, the catalog entries it was parsed with, and where it came from."""

    results: list[StatementLineage]  # as parsed: what coverage counts
    depends: dict[str, str | None] | None
    generation: int  # the catalog generation it was last checked against
    stored: bool  # taken from the store's cache (not parsed in this run)
    lineage: list[StatementLineage] | None = None  # without the database's own objects, once asked for
    temps: bool = False  # whether it names a temp table

    def stored_lineage(self, dialect: str | None, shards: ShardRule = NO_RULE) -> list[StatementLineage]:
        """What the store keeps of it: the database's own objects (system_objects.py) left out,
        date-sharded tables named by their family (shards.py)."""
        if self.lineage is None:
            self.lineage = [shards.fold(kept) if shards else kept
                            for r in self.results if (kept := without_system_objects(dialect, r)) is not None]
            self.temps = any(d.type in TEMP_TYPES for r in self.lineage for d in (*r.inputs, *r.outputs))
        return self.lineage


def cache_text(results_json: str, depends: Mapping[str, str | None]) -> str:
    return f'{{"depends":{json.dumps(depends, separators=(",", ":"))},"lineage":{results_json}}}'


def cache_read(text: str) -> tuple[list[StatementLineage], dict[str, str | None] | None]:
    data = json.loads(text)
    if isinstance(data, list):  # written before dependencies were recorded: checked as stale
        return decode(text), None
    return decode(json.dumps(data["lineage"])), data["depends"]


class Harvester:
    """One harvest of one source into one store: entries in log order, each statement seeing the
    catalog, session state and temp tables that the entries before it left."""

    def __init__(self, source: Source, store: Store, options: Options, hook: BatchHook | None = None) -> None:
        self.source, self.store, self.options, self.hook = source, store, options, hook
        self.normalizer = Normalizer(max_bytes=options.memory * 2 // 5)
        given = options.catalog
        self._given = Catalog.from_mapping(given, options.dialect) if given and not isinstance(given, Catalog) \
            else given or None
        if hasattr(source, "batch_size"):  # sources that checkpoint once per batch (pg_stat_statements)
            source.batch_size = options.batch_size
        self.report = HarvestReport(source=source.url)
        self.key = source_identity(source.url)  # what the store keeps its cursor under: no secret in it
        self.shards = rule_for(options.dialect, options.date_shards)
        self._executor: Executor | None = None
        self._inline = Inline()
        self._stats: SourceStats | None = None  # the source's counts as of the last batch, when stopped early
        self._used: set[str] = set()  # keys counted in the report
        self._moved: list[str] = []  # notes: another harvest of the source committed first
        self._written: set[str] = set()  # ids of the operations written in this run
        self._resume()

    def _resume(self) -> None:
        """The state the store holds for this source: its cursor, the namespace's catalog, the
        open sessions; lineage parsed in memory is checked against them anew."""
        keys = [f"{kind}:{self.options.namespace}" for kind in ("catalog", "temps", "written", "stages", "shards", "models",
                                                                    "hyperparameters")]
        given = self._given.copy() if self._given is not None else None  # learning changes it in place
        self.learning = Learning(self.options.namespace, self.store.cache_get(keys), given)
        self.sessions = Sessions(self.store.sessions(self.key))
        self.previous = self.cursor = self.store.cursor(self.key)
        if self.cursor is None and self.key != self.source.url:  # kept under its old name (before 0.2)
            self.cursor = self.store.cursor(self.source.url)
        harvested = None
        if self.cursor is None and WINDOW not in self.key and getattr(self.source, "since", None) is None:
            harvested = self.store.harvested_sources()
            _refuse_after_windows(self.key, harvested)
        adopt = getattr(self.source, "adopt", None)  # files another source of the store has read part of
        if adopt is not None:
            harvested = self.store.harvested_sources() if harvested is None else harvested
            self.cursor = adopt(self.cursor, [(name, cursor) for name, cursor, _ in harvested if name != self.key])
        self.known: dict[str, Parsed] = {}
        self._known_bytes = 0  # about: what ``known`` and ``_replays`` take
        # Statement key -> how to add one more run of it: a repeat in the same state costs a few
        # dict updates (see _entry).
        self._replays: dict[str, _Repeat] = {}
        self._keys: dict[tuple[str, Defaults], str] = {}  # (fingerprint or given lineage, defaults) -> statement key
        self._unwritten: dict[str, str] = {}  # parsed, not yet in the store's cache: key -> cache text
        # Sent to be parsed as their batch was read: key -> (handle, the catalog's generation and copy
        # it is parsed with, defaults).
        self._pending: dict[str, tuple[Handle, int, Catalog, Defaults]] = {}
        self._snapshot: tuple[int, Catalog] | None = None  # see _catalog_now
        self._open: _Open | None = None  # the batch being worked through, not yet committed

    def run(self, progress: Callable[[Tick], None] | None = None,
            stop: Callable[[], bool] | None = None) -> HarvestReport:
        """Harvest until the source is exhausted, or ``stop()`` says so after a batch. A batch
        commits only if the source's cursor in the store is still the one it was read after; when
        another harvest of the source got there first, the run reads on from that harvest's cursor."""
        started = time.perf_counter()
        failed = True
        try:
            with _fewer_collections():
                self._run(progress, stop)
            failed = False
        finally:
            if self._executor is not None:
                self._executor.close(abort=failed)
            self._finish(started)
        return self.report

    def _run(self, progress: Callable[[Tick], None] | None, stop: Callable[[], bool] | None) -> None:
        """Chunks are read, and their new statements sent to be parsed, ahead of the chunk being
        worked through (up to ``READ_AHEAD`` of them and a quarter of ``--memory``), which is worked
        through between reads as far as its parses are done: parsing overlaps reading and writing.
        A batch is committed once its chunks are worked through; a run stopped after a chunk commits
        what it has worked through and reports what the source had read up to there."""
        while True:
            try:
                size = self.options.batch_size
                most = size if hasattr(self.source, "batch_size") else min(size, READ_CHUNK)  # checkpoints: whole batches
                chunks = _chunks(self.source.read(self.cursor), size, most)
                held: deque[_Read] = deque()
                while True:
                    try:
                        with _kept_from_the_collector():
                            chunk = next(chunks, None)
                            front = self._front(chunk) if chunk is not None else None
                    except BaseException:
                        while held:  # what was read before the source failed is kept
                            self._harvest(held.popleft())
                        self._commit()
                        raise
                    if front is not None:
                        held.append(self._send(front))
                    while held:  # the oldest chunk, as far as its parses are done (all of it where it must)
                        must = (chunk is None or len(held) > READ_AHEAD
                                or sum(r.size for r in held) > self.options.memory // 4)
                        if not self._harvest(held[0], wait=must):
                            break
                        read = held.popleft()
                        if progress:
                            progress(tick(self.report, self.source, len(read.chunk), read.stats))
                        if stop is not None and stop():
                            self._commit()
                            self._stats = read.stats
                            return
                    if chunk is None:
                        break
                self._commit()
                self._read_to_the_end()
                return
            except CursorMovedError as e:
                self._moved.append(f"{e}; read on from its cursor")
                self._resume()

    def _finish(self, started: float) -> None:
        stats = self._stats or self.source.stats
        self.report.rows_read = stats.rows_read
        self.report.rows_already_harvested = stats.before_cursor
        self.report.cursor = self.report.cursor or self.cursor
        self.report.entries = stats.entries
        self.report.failed_executions = stats.failed
        self.report.skipped = dict(stats.skipped)
        self.report.file_errors = list(stats.file_errors)
        self.report.warnings = dict(stats.warnings)
        self.report.notes = [*stats.notes, *stats.file_errors, *stats.warning_notes(), *self._moved]
        self.report.seconds = time.perf_counter() - started

    def _front(self, chunk: list[LogEntry]) -> _Front:
        """A chunk as read: fingerprinted, each entry's statement key, the source's position after
        it (before the next chunk is read)."""
        items = [self.normalizer(e) for e in chunk]
        position = self._position() or chunk[-1].cursor
        planned, wanted = self._plan(items)
        size = sum(map(len, map(_SQL, chunk))) + 600 * len(chunk)  # the texts, and the objects around them
        return _Front(chunk, items, planned, wanted, position, copy.deepcopy(self.source.stats), size)

    def _send(self, front: _Front) -> _Read:
        """A chunk with its new statements sent to be parsed."""
        return _Read(front.chunk, front.items, front.planned, front.position, front.stats,
                     self._prefetch(front.wanted), front.size)

    def _harvest(self, read: _Read, wait: bool = True) -> bool:
        """Work a chunk through, in log order, into the open batch; returns whether it is all done.
        A parse sent ahead is waited for when its entry is reached, or (``wait`` false) the chunk
        is left there, to be taken up again after the next chunk is read: the first chunks of a
        backfill hold most of its new statements, and their entries are worked through while the
        workers parse the rest instead of all at once after."""
        if self._open is None:
            self._open = _Open(read.chunk[0].cursor)
        batch = self._open
        out, cache = batch.out, batch.cache
        replays, unwritten, learning, sessions = self._replays, self._unwritten, self.learning, self.sessions.open
        dialect, namespace, store_sql = self.options.dialect, self.options.namespace, self.options.store_sql
        state = learning.lineage_state  # taken again after anything that may learn
        pending = None if wait else self._pending
        entries = zip(read.items, read.planned)
        if read.at:
            entries = islice(entries, read.at, None)
        at = read.at
        for item, plan in entries:
            if pending is not None:
                sent = pending.get(plan[1])
                if sent is not None and not sent[0].done():
                    read.at = at
                    return False
                at += 1
            # A repeat of a statement worked out before, with the catalog and temp names as they were
            # then, outside any open session and with no lineage of the log's own to check, adds what
            # the first one added (its Replay): no lookup, no temp tables to read through, learning
            # only where it may have been forgotten since. Most rows; the rest go through _entry.
            defaults, key = plan
            entry = item.entry
            replay = replays.get(key)
            if (replay is not None and replay.state == state
                    and defaults == (entry.database, entry.schema)
                    and not (entry.session_id and entry.session_id in sessions)
                    and not entry.declared_inputs and not entry.declared_outputs
                    and (replay.neutral or learning.learned(key))):
                if not (replay.neutral and replay.removals == learning.removals):
                    learning.learn(item, key, replay.results, dialect)  # the columns it writes, if forgotten
                    state = learning.lineage_state
                replay.again.add(out, item, namespace, store_sql)
            else:
                key = self._entry(out, item, plan)
                state = learning.lineage_state
            if key in unwritten:
                text = cache[key] = unwritten.pop(key)
                batch.held += len(text)
        read.at = len(read.items)
        self._collect([k for k in read.sent if k in self._pending])  # keys no entry reached (state changed)
        out.count(SOURCE_ROWS + self.key, len(read.chunk))  # the log entries each source gave, for validate
        batch.rows += len(read.chunk)
        batch.last = read.position
        memory = self.options.memory
        if batch.rows >= self.options.batch_size or batch.held > memory // 8 or self._known_bytes > memory // 2:
            # also early, where what new statements left in memory is more than the budget allows until
            # then: the commit writes their lineage, and what is known of statements is forgotten after it
            self._commit()
        return True

    def _commit(self) -> None:
        """Write the open batch in one transaction with the cursor it reaches, under a key naming
        its first and last rows."""
        open_, self._open = self._open, None
        if open_ is None:
            return
        out, last = open_.out, open_.last
        for name, value in crosscheck_counts(out.counters.items()).items():
            self.report.crosscheck[name] = self.report.crosscheck.get(name, 0) + value
        operations = tuple(out.operations)
        batch = Batch(
            operations=operations,
            usage=tuple(out.usage_rows()),
            failures=tuple(out.failures),
            cache={**open_.cache, **self.learning.changes()},
            counters=out.counters,
            source=self.key,
            cursor=last,
            key=blake2b(f"{self.key}\x1f{open_.first}\x1f{last}".encode(), digest_size=16).hexdigest(),
            sessions=self.sessions.changes(),
            check=True,
            previous=self.previous,
        )
        if self.hook is not None:
            batch = self.hook.prepare(batch)
        self.store.write_batch(batch)
        if self.hook is not None:
            self.hook.committed(batch)
        self.previous = self.cursor = last
        self._written.update(op.id for op in operations)
        self.report.operations = len(self._written)  # distinct operations, whatever the batches
        self.report.batches += 1
        self.report.cursor = last
        if self._known_bytes > self.options.memory // 2:  # bounded memory; the store has them all
            self.known.clear()
            self._replays.clear()
            self._keys.clear()
            self._known_bytes = 0

    def _read_to_the_end(self) -> None:
        """Rows after the last entry that were read and left out (failed runs, the harvester's own
        queries) move the cursor too, so the next run does not read them again."""
        final = self._position()
        if final and final != self.previous:
            self.store.write_batch(Batch(source=self.key, cursor=final, check=True, previous=self.previous))
            self.previous = self.cursor = self.report.cursor = final

    def _position(self) -> str | None:
        """The cursor a source gives for all it has read (a folder's files each at their own row), or None
        where an entry's own cursor says it."""
        position = getattr(self.source, "position", None)
        return position() if position is not None else None

    def _entry(self, out: Harvested, item: Fingerprinted, plan: tuple[Defaults, str]) -> str:
        """One log entry, in log order, that is not a plain repeat (``_harvest`` replays those):
        its lineage under the state the entries before it left, what it teaches (catalog, session),
        and what it adds to the batch. Returns its key."""
        entry, dialect = item.entry, self.options.dialect
        defaults = self.sessions.defaults(entry)
        key = plan[1] if defaults == plan[0] else statement_key(item, dialect, defaults)
        parsed = self._lineage(key, item, defaults)
        results = parsed.results
        plain = parsed.stored_lineage(entry.dialect or dialect, self.shards)
        lineage = [self.learning.carry(r, item.redacted_sql, len(plain) == 1) for r in plain]
        self.learning.learn(item, key, results, dialect)
        shards = self.shards.shards(results) if self.shards else set()
        if shards:
            self.learning.saw_shards(shards)
        session = self.sessions.touch(entry, results)
        lineage = self._through_temps(key, entry, lineage, session, parsed.temps)
        declared = bool(entry.declared_inputs or entry.declared_outputs)
        if declared:
            lineage = self._against_log(out, entry, results, lineage)
        op_key, op_sql = family_key(item, defaults, dialect, shards, plain) if shards else (None, None)
        again = add_entry(out, item, key, results, self.options.namespace, dialect, self.options.store_sql,
                          lineage=lineage, plain=parsed.lineage, op_key=op_key, op_sql=op_sql)
        if (again is not None and session is None and not declared and self.known.get(key) is parsed
                and not _opens_session(results) and len(lineage) == len(plain) and all(a is b for a, b in zip(lineage, plain))):
            neutral = not any(r.kind in TEACHING_KINDS for r in results if not r.error)
            self._replays[key] = _Repeat(self.learning.lineage_state, neutral, self.learning.removals, results, again)
        return key

    # -- lineage: memory, the store's cache, or a parse; never one the catalog has outgrown ------
    def _plan(self, items: list[Fingerprinted]) -> tuple[list[tuple[Defaults, str]], dict[str, tuple[Fingerprinted, Defaults]]]:
        """The chunk's statement keys, as the chunk is read, and the entries whose statements are
        neither known nor being parsed (the first of each key, whatever the chunk). An entry whose
        state changes before it is reached is looked up again by ``_lineage``."""
        wanted: dict[str, tuple[Fingerprinted, Defaults]] = {}
        planned = []
        keys, known, pending, dialect = self._keys, self.known, self._pending, self.options.dialect
        defaults_of, opened = self.sessions.defaults, self.sessions.open
        for item in items:
            entry = item.entry
            sid = entry.session_id  # most entries are in no open session: their own defaults
            defaults = defaults_of(entry) if sid and sid in opened else (entry.database, entry.schema)
            lineage = entry.lineage
            slot = (item.fingerprint if lineage is None else lineage, defaults)
            key = keys.get(slot)
            if key is None:
                key = keys[slot] = statement_key(item, dialect, defaults)
            planned.append((defaults, key))
            if lineage is None and key not in known and key not in pending:
                wanted.setdefault(key, (item, defaults))
        return planned, wanted

    def _prefetch(self, wanted: dict[str, tuple[Fingerprinted, Defaults]]) -> list[str]:
        """Send to be parsed the statements wanted that the store's cache does not have either
        (``_collect`` takes them in when their chunk is worked through); returns their keys."""
        if not wanted:
            return []
        wanted = dict(wanted)
        for key, text in self.store.cache_get(list(wanted)).items():
            results, depends = cache_read(text)
            self._know(key, Parsed(results, depends, -1, True), len(text))
            wanted.pop(key)
        executor = self._parser(len(wanted))
        generation, catalog = self._catalog_now()
        for key, (item, defaults) in wanted.items():
            self._pending[key] = (executor.submit(self._job(item, defaults, catalog)), generation, catalog, defaults)
        executor.flush()
        return list(wanted)

    def _catalog_now(self) -> tuple[int, Catalog]:
        """The catalog learned so far, as a copy that stays as it is: jobs sent ahead are parsed
        with it (and pickled for their workers) while learning goes on in the catalog itself."""
        if self._snapshot is None or self._snapshot[0] != self.learning.generation:
            self._snapshot = (self.learning.generation, self.learning.catalog.copy())
        return self._snapshot

    def _collect(self, keys: list[str]) -> None:
        """Parses sent ahead, waited for and kept, with the generation of the catalog they were
        parsed with (``_lineage`` checks them against today's). Workers parse in the order the
        entries come, so the entry loop waits only where it has caught up with them."""
        for key in keys:
            handle, generation, catalog, defaults = self._pending.pop(key)
            text = handle.result()
            if key not in self.known:  # checked against today's catalog when reached (_lineage)
                self._keep(key, text, defaults, generation, catalog)

    def _parser(self, jobs: int) -> Executor:
        """Where to parse: a handful of statements in this process; more on the executor."""
        if jobs <= 8 and self.options.executor is None:
            return self._inline
        if self._executor is None:
            self._executor = make_executor(self.options.workers, self.options.executor)
        return self._executor

    def _job(self, item: Fingerprinted, defaults: Defaults, catalog: Catalog | None = None) -> Job:
        o = self.options
        return (item.entry.sql, item.entry.dialect or o.dialect, defaults[0], defaults[1],
                self.learning.catalog if catalog is None else catalog, o.timeout)

    def _lineage(self, key: str, item: Fingerprinted, defaults: Defaults) -> Parsed:
        parsed = self.known.get(key)
        if item.entry.lineage is not None and parsed is None:  # given by the source: nothing to parse
            parsed = self._know(key, Parsed(decode(item.entry.lineage), {}, self.learning.generation, False),
                                len(item.entry.lineage))
        if parsed is None and key in self._pending:
            self._collect([key])
            parsed = self.known.get(key)
        if parsed is None:
            stored = self.store.cache_get([key]).get(key)
            if stored is not None:
                results, depends = cache_read(stored)
                parsed = self._know(key, Parsed(results, depends, -1, True), len(stored))
        if parsed is not None and parsed.generation != self.learning.generation:
            if self.learning.holds(parsed.depends):
                parsed.generation = self.learning.generation
            else:
                parsed = None
        if parsed is None:
            parsed = self._keep(key, self._inline.submit(self._job(item, defaults)).result(), defaults)
            self._used.discard(key)  # parsed anew: counted as parsed
        if key not in self._used:
            self._used.add(key)
            self.report.distinct += 1
            if parsed.stored:
                self.report.cached += 1
            elif any(r.error for r in parsed.results):
                self.report.failed += 1
            else:
                self.report.parsed += 1
        return parsed

    def _keep(self, key: str, text: str, defaults: Defaults, generation: int | None = None,
              catalog: Catalog | None = None) -> Parsed:
        """A statement parsed now, or with the catalog of an earlier ``generation``."""
        results = decode(text)
        depends = self.learning.depends(results, defaults[1], catalog)
        generation = self.learning.generation if generation is None else generation
        parsed = self._know(key, Parsed(results, depends, generation, False), len(text))
        self._unwritten[key] = cache_text(text, depends)
        return parsed

    def _know(self, key: str, parsed: Parsed, size: int) -> Parsed:
        """Keep a statement's lineage in memory. Lineage as objects takes about ten times its JSON
        text: past the budget the statements known are forgotten (the store has them all)."""
        self._known_bytes += 10 * size + 500
        self.known[key] = parsed
        return parsed

    # -- temp tables and the log's own lineage ------------------------------------------------------
    def _through_temps(self, key: str, entry: LogEntry, results: list[StatementLineage],
                       session: Session | None, temps: bool) -> list[StatementLineage]:
        """Temp tables read through: ``a -> tmp -> b`` gives ``a -> b``, within the session, or
        within the entry (a script) where the log has no sessions. A temp table that cannot be
        read through is kept apart: typed ``temp`` and named for its session or statement, so it
        never joins two pipelines."""
        if not temps and not (session and session.temps.temps) and not self.learning.temp_names:
            return results  # nothing of the kind (most entries)
        if session is not None:
            state: TempState | None = session.temps
        else:
            state = None if entry.session_id else TempState()
        lineage = results if state is None else [f for r in results if (f := state.fold(r)) is not None]
        scope = ("s" + _short(entry.session_id)) if entry.session_id else ("q" + key[:10])
        return [scope_temps(r, scope, self.learning.is_temp) for r in lineage]

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
            return [self.shards.fold(sanitize(log.statement()))]
        out.count(CROSSCHECK + ("tables_agree" if verdict.tables else "tables_differ"))
        if verdict.columns is not None:
            out.count(CROSSCHECK + ("columns_agree" if verdict.columns else "columns_differ"))
        if verdict.indirect is not None:
            out.count(CROSSCHECK + ("indirect_agree" if verdict.indirect else "indirect_differ"))
        return lineage


def _refuse_after_windows(key: str, harvested: list[tuple[str, str | None, str | None]]) -> None:
    """A run with no window and no cursor of its own, on a source harvested before in --since/--until
    windows (each keeps its own cursor), would count every row of those windows a second time: it
    is refused, naming the --since that reads on after them (the schedule that follows a backfill)."""
    windows = [name[len(key + WINDOW):] for name, _, _ in harvested if name.startswith(key + WINDOW)]
    if not windows:
        return
    last = max(w.partition("..")[2] for w in windows)
    raise ConfigError(f"{key} was harvested before in {len(windows)} --since/--until window(s), each with its own "
                      f"cursor; a run without one would count their rows twice: give --since {last} to read on "
                      f"after them (or --since of your choice)")


@contextmanager
def _kept_from_the_collector() -> Iterator[None]:
    """Read a chunk with the cyclic garbage collector off, then freeze what it made: the rows'
    objects (entries, fingerprints, keys) make no reference cycles and are freed as usual when
    their chunk is done, but a collector that scans them costs more than reading them did (an
    eighth of a 1M-row backfill). The garbage of before (parse trees, which are cycles) is
    collected first, so that none of it is frozen: a full collection, which costs what the young
    ones do, since everything older was frozen with the chunk before."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A harvest makes millions of short-lived objects and almost no reference cycles: what is
    alive when it starts (modules, sqlglot's tables, the catalog) is frozen out of the garbage
    collector's view, and young collections run 50 times less often (they cost a fifth of a
    backfill's time otherwise). Both are put back afterwards."""
    threshold = gc.get_threshold()
    gc.collect()  # garbage frozen would be kept until the end
    gc.freeze()
    gc.set_threshold(max(threshold[0], 35_000), max(threshold[1], 20), max(threshold[2], 50))
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _opens_session(results: list[StatementLineage]) -> bool:
    """Whether a statement would open its session: it sets defaults or makes a temp table."""
    return any(r.defaults is not None or any(o.type in TEMP_TYPES for o in r.outputs) for r in results)


def _short(text: str) -> str:
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=5).hexdigest()


def harvest(source: Source, store: Store, options: Options,
            progress: Callable[[Tick], None] | None = None,
            stop: Callable[[], bool] | None = None, hook: BatchHook | None = None) -> HarvestReport:
    """Harvest ``source`` into ``store`` from its stored cursor on; see :class:`Harvester`."""
    return Harvester(source, store, options, hook).run(progress, stop)
