"""Extraction results + the log entry they came from -> what the store keeps.

Each write statement becomes an ``Operation`` whose id is stable for the same
statement (fingerprint, dialect, defaults, position in its script), so seeing it
again only moves ``last_seen`` and adds executions. Plain SELECTs become
``Usage`` rows (reads per dataset, user and day); statements that could not be
parsed become ``ParseFailure`` rows. Every name and reason is redacted: a
column named after an expression can carry a literal.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from hashlib import blake2b
from typing import Any, Callable, Iterable

from .extract.script import TEMP_TYPES
from .model import (
    STRUCTURE_KINDS,
    WRITE_KINDS,
    ColumnLineage,
    ColumnRef,
    DatasetRef,
    Fingerprinted,
    IndirectRef,
    ModelFacts,
    Operation,
    ParseFailure,
    StatementLineage,
    Usage,
)
from .redact import lexicon, redact_any, redact_with
from .render import statement_dict


def statement_key(item: Fingerprinted, dialect: str | None,
                  defaults: tuple[str | None, str | None] | None = None) -> str:
    """The dedup key: same fingerprint, dialect and defaults (the entry's own unless given:
    what its session set) -> same lineage."""
    database, schema = defaults if defaults is not None else (item.entry.database, item.entry.schema)
    text = f"{dialect or ''}\x1f{database or ''}\x1f{schema or ''}\x1f{item.fingerprint}"
    if item.entry.lineage is not None:  # lineage given with the entry: it is what the key stands for
        text += f"\x1f{item.entry.lineage}"
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def operation_id(namespace: str, key: str, index: int, variant: str = "") -> str:
    """The id of the operation a statement (``index`` of the entry whose statement key is ``key``)
    becomes in ``namespace``; ``variant``: its lineage where a session made it another than its own."""
    return blake2b(f"{namespace}\x1f{key}\x1f{index}{variant}".encode(), digest_size=16).hexdigest()


def encode(results: list[StatementLineage]) -> str:
    """Lineage as the JSON the statement cache keeps (no SQL text)."""
    rows = []
    for r in results:
        row = statement_dict(r)
        row["types"] = {d.name: d.type for d in r.inputs + r.outputs if d.type != "table"}
        if r.defaults is not None:
            row["defaults"] = list(r.defaults)
        rows.append(row)
    return json.dumps(rows, separators=(",", ":"))


def decode(text: str) -> list[StatementLineage]:
    return [_statement(d) for d in json.loads(text)]


def _column_ref(text: str, datasets: Collection[str], longest_first: Sequence[str]) -> ColumnRef:
    """``dataset.column`` split after the longest of ``datasets`` it starts with (a column name may
    hold dots). The part before the last dot, where it is one of them, is that longest one."""
    dataset, _, column = text.rpartition(".")
    if dataset in datasets:
        return ColumnRef(dataset, column)
    for name in longest_first:
        if text.startswith(name + "."):
            return ColumnRef(name, text[len(name) + 1 :])
    return ColumnRef(dataset, column)


def _statement(d: dict[str, Any]) -> StatementLineage:
    names = set(d["inputs"]) | set(d["outputs"])
    for c in d["columns"]:
        names |= {s.rpartition(".")[0] for s in c["sources"]}
    types = d.get("types", {})
    longest_first = sorted(names, key=len, reverse=True)

    def ref(text: str) -> ColumnRef:
        return _column_ref(text, names, longest_first)

    def indirect(items: list[dict[str, str]]) -> tuple[IndirectRef, ...]:
        return tuple(IndirectRef(ref(i["source"]), i["type"]) for i in items)

    return StatementLineage(
        index=d["index"],
        kind=d["kind"],
        inputs=tuple(DatasetRef(n, types.get(n, "table")) for n in d["inputs"]),
        outputs=tuple(DatasetRef(n, types.get(n, "table")) for n in d["outputs"]),
        columns=tuple(
            ColumnLineage(ref(c["target"]), tuple(ref(s) for s in c["sources"]), c["transform"], indirect(c["indirect"]),
                          tuple(ref(m) for m in c.get("masked", ())))
            for c in d["columns"]
        ),
        indirect=indirect(d["indirect"]),
        objects=tuple(DatasetRef(n) for n in d.get("objects", [])),
        warnings=tuple(d.get("warnings", [])),
        error=d.get("error"),
        defaults=tuple(d["defaults"]) if d.get("defaults") else None,  # type: ignore[arg-type]
        settings=tuple(sorted((str(k), str(v)) for k, v in d.get("settings", {}).items())),
        ml=_model_facts(d["ml"]) if d.get("ml") else None,
    )


def _model_facts(d: dict[str, Any]) -> ModelFacts:
    return ModelFacts(
        model=d["model"],
        version=d.get("version"),
        architecture=d.get("architecture"),
        status=d.get("status"),
        splits=tuple((str(dataset), str(split)) for dataset, split in d.get("splits", ())),
        metrics=tuple(sorted((str(k), str(v)) for k, v in d.get("metrics", {}).items())),
        run=d.get("run"),
    )


def sanitize(result: StatementLineage, dialect: str | None = None) -> StatementLineage:
    """Redact literals that reached names or messages (``coalesce(email, 'x@y.z')`` as a column
    name, a literal quoted in a reason), read by ``dialect``'s lexical rules; without one, by
    every known dialect's at once (``"x"`` is a name in PostgreSQL and a string in MySQL: it goes).
    Reasons keep their ``Line 3, Col: 14``."""
    if dialect:
        lex = lexicon(dialect)

        def text(t: str, message: bool = False) -> str:
            return redact_with(t, lex, keep_positions=message)
    else:
        def text(t: str, message: bool = False) -> str:
            return redact_any(t, keep_positions=message)

    def col(c: ColumnRef) -> ColumnRef:
        redacted = text(c.column)
        return c if redacted == c.column else ColumnRef(c.dataset, redacted)

    columns = tuple(
        replace(c, target=col(c.target), sources=tuple(col(s) for s in c.sources),
                indirect=tuple(IndirectRef(col(i.source), i.type) for i in c.indirect),
                masked=tuple(col(m) for m in c.masked))
        for c in result.columns
    )
    return replace(
        result,
        columns=columns,
        warnings=tuple(text(w, True) for w in result.warnings),
        error=text(result.error, True) if result.error else None,
        sql="",
    )


TEMP = "temp"
MIXED = "mixed"  # an operation seen with execution times and with harvest times
_TEMP_TYPES = (*TEMP_TYPES, TEMP)


def scope_temps(result: StatementLineage, scope: str, is_temp: Callable[[str], bool]) -> StatementLineage:
    """Temp tables left in ``result`` (ones it could not be read through) become datasets of
    their own session or statement: typed ``temp``, named ``name#scope``, so that two
    pipelines that each use a ``tmp`` never meet on it.

    >>> r = StatementLineage(0, "insert", inputs=(DatasetRef("tmp"),), outputs=(DatasetRef("m.t"),),
    ...     columns=(ColumnLineage(ColumnRef("m.t", "a"), (ColumnRef("tmp", "a"),)),))
    >>> s = scope_temps(r, "q1", lambda name: name == "tmp")
    >>> s.inputs, s.columns[0].sources
    ((DatasetRef(name='tmp#q1', type='temp'),), (ColumnRef(dataset='tmp#q1', column='a'),))
    """
    temps = {d.name for d in (*result.inputs, *result.outputs, *result.objects)
             if d.type in _TEMP_TYPES or is_temp(d.name)}
    if not temps:
        return result

    def ds(d: DatasetRef) -> DatasetRef:
        return DatasetRef(f"{d.name}#{scope}", TEMP) if d.name in temps else d

    def col(c: ColumnRef) -> ColumnRef:
        return ColumnRef(f"{c.dataset}#{scope}", c.column) if c.dataset in temps else c

    def ind(refs: tuple[IndirectRef, ...]) -> tuple[IndirectRef, ...]:
        return tuple(IndirectRef(col(i.source), i.type) for i in refs)

    return replace(
        result,
        inputs=tuple(ds(d) for d in result.inputs),
        outputs=tuple(ds(d) for d in result.outputs),
        objects=tuple(ds(d) for d in result.objects),
        columns=tuple(replace(c, target=col(c.target), sources=tuple(col(s) for s in c.sources),
                              indirect=ind(c.indirect), masked=tuple(col(m) for m in c.masked))
                      for c in result.columns),
        indirect=ind(result.indirect),
    )


Slot = tuple[str, "str | None", "str | None"]  # (operation id, user, system)


SOURCE_ROWS = "source_rows:"  # + a source's identity: the counter of the log entries it gave

@dataclass
class Harvested:
    """What one batch of log entries adds to the store, repeats already added up.

    A repeat costs a few dictionary updates (:meth:`Replay.add`): its counters are tallied per
    Replay and spelled out when ``counters`` is read, and each slot's Operation is made once, by
    ``operations``, from the slot's lineage and its runs."""

    ops: dict[Slot, tuple[Operation, str | None]] = field(default_factory=dict)  # slot -> lineage, first run's text
    runs: dict[Slot, list[Any]] = field(default_factory=dict)  # [executions, first, last, time basis] so far
    usage: dict[tuple[str, str, str | None, str], int] = field(default_factory=dict)
    failures: list[ParseFailure] = field(default_factory=list)
    tallies: dict[int, list[Any]] = field(default_factory=dict)  # id(Replay) -> [Replay, runs not yet counted]
    _counters: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, by: int = 1) -> None:
        self._counters[name] = self._counters.get(name, 0) + by

    @property
    def counters(self) -> dict[str, int]:
        counters = self._counters
        for replay, runs in self.tallies.values():
            for name in replay.counters:
                counters[name] = counters.get(name, 0) + runs
        self.tallies.clear()
        return counters

    @property
    def operations(self) -> list[Operation]:
        return [_with(op, sql=sql, user=user, system=system, executions=executions, first_seen=first,
                      last_seen=last, time_basis=basis)
                for ((_, user, system), (op, sql)), (executions, first, last, basis)
                in zip(self.ops.items(), self.runs.values())]

    def usage_rows(self) -> list[Usage]:
        return [Usage(d, ns, user, day, n) for (d, ns, user, day), n in self.usage.items()]


@dataclass(frozen=True)
class Replay:
    """What :func:`add_entry` added for one entry, to add again for another run of the same
    statement in the same state without working it out again: the counters it moved, the
    datasets its plain SELECTs read, the operations it ran (each run's own user, system,
    times, executions and text)."""

    counters: tuple[str, ...]
    reads: tuple[str, ...]
    ops: tuple[Operation, ...]
    sql: str | None = None  # the operations' text, where it is not the entry's (a shard's family)

    def add(self, out: Harvested, item: Fingerprinted, namespace: str, store_sql: bool) -> None:
        entry = item.entry
        runs = entry.executions
        if runs < 0:
            runs = 0
        first = entry.start_time
        last = entry.end_time or first
        me = id(self)  # the batch holds the Replay (``tallies``): its id stays its own
        tally = out.tallies.get(me)
        if tally is None:
            out.tallies[me] = [self, runs]
        else:
            tally[1] += runs
        if self.reads:
            day, usage = (first or "")[:10] or "unknown", out.usage
            for dataset in self.reads:
                slot = (dataset, namespace, entry.user, day)
                usage[slot] = usage.get(slot, 0) + runs
        user, system, basis, runs_of = entry.user, entry.system, entry.time_basis, out.runs
        for op in self.ops:
            slot = (op.id, user, system)
            known = runs_of.get(slot)
            if known is None:  # the slot's first run in this batch
                out.ops[slot] = (op, (item.redacted_sql if self.sql is None else self.sql) if store_sql else None)
                runs_of[slot] = [runs, first, last, basis]
                continue
            known[0] += runs
            if basis != known[3]:
                known[3] = MIXED
            if first and (known[1] is None or first < known[1]):
                known[1] = first
            if last and (known[2] is None or last > known[2]):
                known[2] = last


def _with(op: Operation, **changes: Any) -> Operation:
    """``dataclasses.replace`` for an Operation, without its generated ``__init__``: a batch makes
    one for each operation, user and system it saw (Operation has no ``__post_init__``)."""
    made = object.__new__(Operation)
    fields = made.__dict__
    fields.update(op.__dict__)
    fields.update(changes)
    return made


def evaluation(result: StatementLineage) -> bool:
    """An evaluation the store keeps as an operation: it names the data it evaluated the model on
    (a split) or the metrics it gave. One that reads only the model (ML.TRAINING_INFO, SHOW MODEL)
    is a read like any other."""
    return result.kind == "evaluate" and result.ml is not None and bool(result.ml.splits or result.ml.metrics)


NO_VALUES = frozenset({"delete", "rename"})  # writes that move no values: no column lineage to expect


def complete(result: StatementLineage) -> bool:
    """Whether a parsed statement's lineage is whole: no warning (an unresolved column, a ``*``
    left unexpanded), and a statement that moves values says which columns each one comes from."""
    if result.warnings:
        return False
    if any(c.target.column == "*" or any(s.column == "*" for s in c.sources) for c in result.columns):
        return False
    return result.kind not in WRITE_KINDS or result.kind in NO_VALUES or any(c.sources for c in result.columns)


def add_entry(
    out: Harvested,
    item: Fingerprinted,
    key: str,
    results: list[StatementLineage],
    namespace: str,
    dialect: str | None,
    store_sql: bool = True,
    lineage: list[StatementLineage] | None = None,
    plain: list[StatementLineage] | None = None,
    op_key: str | None = None,
    op_sql: str | None = None,
) -> Replay | None:
    """Turn one log entry's statements into operations, usage and failures.

    ``results`` are counted for coverage; ``lineage`` (default: the same) is what
    is stored, e.g. with a session's temp tables read through. A statement whose stored
    lineage differs from its ``plain`` one (default: ``results``; what the statement alone
    says) is another operation than the plain statement. ``op_key`` (default: ``key``) names its
    operations and ``op_sql`` (default: the entry's) is their text: one operation, with one text,
    for the statements of every day of a date-sharded table (shards.family_key).
    Returns how to add another run of the entry (None where it failed to parse: failures are kept
    one by one).
    """
    entry = item.entry
    runs = max(entry.executions, 0)
    first, last = entry.start_time, entry.end_time or entry.start_time
    counted: list[str] = []
    replayable = True
    for result in results:
        counted.append(f"rows:{result.kind}")
        if result.error:
            replayable = False
            out.failures.append(ParseFailure(f"{key}:{result.index}", dialect, result.error,
                                             item.redacted_sql if store_sql else None, runs, first, last))
        else:
            counted.append(f"extracted:{result.kind}")
            counted.append(f"{'full' if complete(result) else 'warned'}:{result.kind}")
    reads: list[str] = []
    ops: list[Operation] = []
    parsed = {r.index: r for r in (results if plain is None else plain)}
    for given in results if lineage is None else lineage:
        result = given
        if result.error:
            continue
        if result.kind in ("select", "evaluate"):  # an evaluation reads its model and data
            reads += [dataset.name for dataset in result.inputs]
            if not evaluation(result):
                continue
            # An evaluation of a model on data (a split) is also an operation that writes nothing:
            # the store keeps which data evaluated the model, and no table lineage comes of it.
            result = replace(result, outputs=(), columns=(), indirect=())
        if result.kind not in WRITE_KINDS and result.kind != "evaluate" and (
                result.kind in STRUCTURE_KINDS or not (result.inputs and result.outputs)):
            continue  # CREATE TABLE new LIKE cur copies a structure, not values: no lineage
        # Read through a session's temp tables, one statement has other lineage: another operation.
        variant = "" if parsed.get(given.index) == given else "\x1f" + encode([result])
        ops.append(Operation(
            id=operation_id(namespace, op_key or key, result.index, variant),
            type=result.kind,
            fingerprint=item.fingerprint,
            sql=(item.redacted_sql if op_sql is None else op_sql) if store_sql else None,
            inputs=result.inputs,
            outputs=result.outputs,
            columns=result.columns,
            indirect=result.indirect,
            namespace=namespace,
            user=entry.user,
            system=entry.system,
            first_seen=first,
            last_seen=last,
            executions=runs,
            time_basis=entry.time_basis,
            settings=result.settings,
            ml=result.ml,
        ))
    again = Replay(tuple(counted), tuple(reads), tuple(ops), op_sql)
    again.add(out, item, namespace, store_sql)  # this run is added as every later one will be
    return again if replayable else None
