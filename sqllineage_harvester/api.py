"""Recording what no log records: a pipeline's own operations and models, in Python.

``LineageCollector.capture_operation`` records one run of an operation (what it read and wrote,
down to columns where the caller says), ``MLLineageTracker.track_model_training`` one training
run of a model (its training data with their splits, hyperparameters, metrics) and
``track_prediction`` a prediction table made with a model. Each call becomes a log entry that
carries its lineage (``LogEntry.lineage``, as ``graph.encode`` writes it), queued and harvested on
``flush()`` / ``close()`` by the same :class:`~sqllineage_harvester.harvest.Harvester` as any log,
from an in-memory source named ``api:NAMESPACE``. So the rules of every harvest hold: the text of
a statement given as ``context["sql"]`` is stored redacted (no literal reaches the store), the
same lineage is the same operation (more runs, not another node), and each call is written in a
batch of its own under a key made from the call's identity, so recording a call again adds
nothing.

A call's identity: its ``run_id`` with its type, inputs and outputs when the caller gives one (the
scheduler's run id); else all it records, its time included (``context["time"]``, else the time
of the call: each call is then a run of its own).

>>> import shutil, tempfile
>>> folder = tempfile.mkdtemp()
>>> with LineageCollector(store=f"sqlite:///{folder}/l.db", namespace="postgres://db:5432") as lineage:
...     run = lineage.capture_operation("insert", ["shop.raw.orders"], ["shop.marts.daily"],
...                                     columns={"revenue": ["amount"]}, run_id="2024-04-01")
>>> lineage.report.operations
1
>>> shutil.rmtree(folder)
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from hashlib import blake2b
from typing import Any

from .errors import HarvesterError
from .extract.ml import settings_of
from .folding import fold_column, fold_name
from .graph import encode, operation_id, sanitize, statement_key
from .harvest import HarvestReport, Harvester, Options
from .model import (DIRECT_TYPES, EVALUATION_SPLIT, IDENTITY, STRUCTURE_KINDS, TRAIN_SPLIT, TRANSFORMATION, WRITE_KINDS,
                    ColumnLineage, ColumnRef, DatasetRef, LogEntry, ModelFacts, StatementLineage)
from .naming import qualified
from .normalize import Normalizer, redact
from .sources import SourceStats
from .stores import DEFAULT_URL, Store, open_store

__all__ = ["LineageCollector", "MLLineageTracker", "RecordError", "OPERATION_TYPES"]

# What capture_operation records: the statement kinds that move data (a training is the tracker's).
OPERATION_TYPES = tuple(sorted(WRITE_KINDS - STRUCTURE_KINDS - {"train"}))
CONTEXT_KEYS = ("user", "system", "time", "end_time", "sql", "job")
DATASET_KEYS = ("name", "namespace", "columns", "type")
TRAINING_KEYS = ("name", "namespace", "columns", "split")
# Splits a model is evaluated on, not trained on: listed by ``model``, never an input of the training.
HELD_OUT_SPLITS = frozenset({EVALUATION_SPLIT, "test"})
MODEL_KEYS = ("name", "namespace", "version", "architecture", "type", "model_type", "status")
FLUSH_EVERY = 1000  # calls queued before they are written without being asked
SPLIT = re.compile(r"[A-Za-z0-9_-]+")  # a split's name: one word (train, evaluation, hold-out_2)
NAMESPACE_NEEDED = ("a namespace is required: where the datasets live, as the harvest of their database names it "
                    "(snowflake://ACCOUNT, postgres://HOST:PORT, bigquery, mysql://HOST:PORT)")


class RecordError(HarvesterError, ValueError):
    """A call the API cannot record as given: nothing of it is queued."""


@dataclass(frozen=True)
class _Dataset:
    name: str  # as the store names it within the collector's namespace (another namespace qualified in)
    type: str
    columns: tuple[str, ...]
    namespace: str  # where it lives: its columns are spelled as that database's harvest spells them
    local: str  # its name within that namespace, as folded there


class _Calls:
    """The queued calls as a harvest source. Its cursor is the last call's identity: calls are not
    in any order, so every queued call is read whatever the cursor, and a call written before is
    left out by its batch key."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stats = SourceStats()
        self.entries: list[LogEntry] = []

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        for entry in self.entries:
            self.stats.rows_read += 1
            self.stats.entries += 1
            yield entry


class LineageCollector:
    """Operations a pipeline records itself, written to ``store`` (a URL, or a store already open)
    in ``namespace`` as a harvest of that namespace would write them.

    ``user`` and ``system`` are each call's unless its context says otherwise; ``dialect`` is the
    one the context's SQL is redacted by (every dialect's rules at once without it). Calls are
    written on ``flush()``, on ``close()`` (also the end of a ``with`` block, whatever way it ends)
    and every ``flush_every`` calls. Threads may share one collector: calls queue and flush one at a time.
    """

    def __init__(self, store: str | Store = DEFAULT_URL, namespace: str | None = None, user: str | None = None,
                 system: str | None = None, dialect: str | None = None, store_sql: bool = True,
                 flush_every: int = FLUSH_EVERY) -> None:
        if not isinstance(namespace, str) or not namespace.strip():
            raise RecordError(NAMESPACE_NEEDED)
        self.namespace = namespace.strip()
        self.user, self.system, self.dialect = _text(user, "user"), _text(system, "system"), dialect
        self.store_sql, self.flush_every = store_sql, max(1, int(flush_every))
        self._owned = isinstance(store, str)
        self.store: Store = open_store(store) if isinstance(store, str) else store
        self._queue: list[LogEntry] = []
        self.report = HarvestReport(source=self.source_url)  # what the flushes so far wrote
        self._closed = False
        self._lock = threading.RLock()  # tasks in threads may share a collector: one queue, one flush at a time

    @property
    def source_url(self) -> str:
        """The source name the store keeps these calls' cursor under."""
        return f"api:{self.namespace}"

    # -- recording -----------------------------------------------------------------------------
    def capture_operation(self, type: str, inputs: Iterable[str | Mapping[str, Any]],
                          outputs: Iterable[str | Mapping[str, Any]], context: Mapping[str, Any] | None = None,
                          *, columns: Mapping[str, str | Iterable[str]] | None = None,
                          run_id: str | None = None) -> str:
        """Record one run of an operation; returns the id of the operation it is stored as (the id
        ``show`` and the queries print; calls with the same lineage are runs of one operation).

        ``type``: one of ``OPERATION_TYPES`` (insert, create_table_as, merge, copy, ...).
        ``inputs`` / ``outputs``: dataset names, or dicts with ``name`` and optionally ``namespace``
        (another than the collector's), ``columns`` (a list of column names) and ``type``.
        ``columns``: column lineage, ``{target: sources}``: a target is ``column`` (of the only
        output) or ``output.column``, a source ``input.column``, or ``column`` of the only input
        (or of the only input listing it); ``input`` is an input's whole name or its last parts when
        no other input ends so (a name that is no input is an error, as is a column that a dataset
        listing its columns does not list); names are folded as the namespace's harvest folds them; ``{target: {"sources": [...], "transform": "AGGREGATION"}}``
        says how (unless said: IDENTITY for a column copied under its own name, else TRANSFORMATION).
        ``context``: ``user``, ``system``, ``time`` / ``end_time`` (a datetime or ISO-8601), ``sql``
        (stored redacted), ``job``.
        """
        kind = _kind(type)
        ins = [self._dataset(d, "input") for d in _items(inputs, "inputs")]
        outs = [self._dataset(d, "output") for d in _items(outputs, "outputs")]
        if not outs:
            raise RecordError(f"a {kind} operation writes something: outputs is empty")
        result = StatementLineage(index=0, kind=kind, inputs=_refs(ins), outputs=_refs(outs),
                                  columns=_column_lineage(columns, ins, outs))
        return self._record(result, context, run_id)

    def _dataset(self, item: str | Mapping[str, Any], role: str, kind: str = "table",
                 keys: tuple[str, ...] = DATASET_KEYS) -> _Dataset:
        if isinstance(item, Mapping):
            unknown = sorted(set(item) - set(keys))
            if unknown:
                raise RecordError(f"{role} {item.get('name')!r}: unknown key {unknown[0]!r} (known: {', '.join(keys)})")
            name, namespace = item.get("name"), item.get("namespace")
            listed = item.get("columns") or ()
            kind = _text(item.get("type"), f"{role} type") or kind
        else:
            name, namespace, listed = item, None, ()
        name = _text(name, f"{role} name")
        if not name:
            raise RecordError(f"an {role} has an empty name" if role[0] in "aeiou" else f"a {role} has an empty name")
        if isinstance(listed, str) or not all(isinstance(c, str) and c.strip() for c in listed):
            raise RecordError(f"{role} {name!r}: columns is a list of column names")
        namespace = _text(namespace, f"{role} namespace") or self.namespace
        local = fold_name(namespace, name)  # as the harvest of its database folds it (Snowflake's upper case, ...)
        name = local if namespace == self.namespace else qualified(namespace, local)
        return _Dataset(name, kind, tuple(dict.fromkeys(fold_column(namespace, c.strip()) for c in listed)),
                        namespace, local)

    def _record(self, result: StatementLineage, context: Mapping[str, Any] | None, run_id: str | None,
                job: str | None = None) -> str:
        context = dict(context or {})
        unknown = sorted(set(context) - set(CONTEXT_KEYS))
        if unknown:
            raise RecordError(f"context: unknown key {unknown[0]!r} (known: {', '.join(CONTEXT_KEYS)})")
        run_id = _text(run_id, "run_id")
        given_time = _time(context.get("time"), "time")
        start = given_time or _time(datetime.now(timezone.utc), "time")
        end = _time(context.get("end_time"), "end_time") or start
        if end < start:
            raise RecordError(f"end_time {end} is before time {start}")
        sql = context.get("sql") or ""
        if not isinstance(sql, str):
            raise RecordError("context sql is the statement's text")
        user = _text(context.get("user"), "user") or self.user
        system = _text(context.get("system"), "system") or self.system
        job = _text(context.get("job"), "job") or job
        lineage = json.loads(encode([sanitize(result, self.dialect)]))
        if job:
            lineage[0]["job"] = job  # names the operation: two jobs with one lineage stay two (decode leaves it)
        text = json.dumps(lineage, separators=(",", ":"), sort_keys=True)
        identity: dict[str, Any] = {"type": result.kind, "inputs": sorted(d.name for d in result.inputs),
                                    "outputs": sorted(d.name for d in result.outputs), "job": job}
        if run_id:
            identity["run"] = run_id
        else:
            identity.update(lineage=text, sql=redact(sql, self.dialect), user=user, system=system, time=start, end=end)
        call = blake2b(json.dumps(identity, sort_keys=True).encode(), digest_size=16).hexdigest()
        entry = LogEntry(sql=sql, dialect=self.dialect, query_id=run_id or call, user=user, system=system,
                         start_time=start, end_time=end, cursor=call, lineage=text)
        # The operation the harvest makes of it (its id as show and the queries print it): one statement,
        # keyed by its text's fingerprint and its lineage, with no session defaults and no shards.
        stored = operation_id(self.namespace, statement_key(Normalizer()(entry), None, (None, None)), 0)
        with self._lock:
            if self._closed:
                raise RecordError("this collector is closed")
            self._queue.append(entry)
            if len(self._queue) >= self.flush_every:
                self.flush()
        return stored

    # -- writing -------------------------------------------------------------------------------
    def flush(self) -> HarvestReport | None:
        """Write the queued calls (each in a batch of its own); what this flush did, None if nothing."""
        with self._lock:
            return self._flush()

    def _flush(self) -> HarvestReport | None:
        if not self._queue:
            return None
        source = _Calls(self.source_url)
        source.entries, self._queue = self._queue, []
        options = Options(dialect=None, namespace=self.namespace, store_sql=self.store_sql, batch_size=1, workers=1)
        try:
            report = Harvester(source, self.store, options).run()
        except BaseException:
            self._queue = source.entries + self._queue  # kept: a later flush writes them (a written one adds nothing)
            raise
        self.report.rows_read += report.rows_read
        self.report.entries += report.entries
        self.report.batches += report.batches
        self.report.operations += report.operations
        self.report.distinct += report.distinct
        self.report.cursor = report.cursor
        return report

    def close(self) -> None:
        """Flush, then close the store if this collector opened it."""
        with self._lock:
            if self._closed:
                return
            try:
                self._flush()
            finally:
                self._closed = True
                if self._owned:
                    self.store.close()

    def __enter__(self) -> LineageCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MLLineageTracker(LineageCollector):
    """A collector for models: training runs and predictions, as the ML statements of a query log
    record them (a model is a dataset typed ``model``; a training is an operation ``train`` from
    its data to the model, carrying its hyperparameters and ``ModelFacts``)."""

    def track_model_training(self, model_config: Mapping[str, Any],
                             training_data: Iterable[str | Mapping[str, Any]],
                             hyperparameters: Mapping[str, Any] | None = None,
                             metrics: Mapping[str, Any] | None = None, context: Mapping[str, Any] | None = None,
                             *, run_id: str | None = None) -> str:
        """Record one training run; returns the id of its stored operation (as ``capture_operation``).

        ``model_config``: ``name`` (required), ``version``, ``architecture`` (or ``type`` /
        ``model_type``), ``status``, ``namespace``. ``training_data``: dataset names, or dicts with
        ``name``, ``split`` (train by default; evaluation, validation, test, ...: evaluation and test data
        are listed by ``model`` but feed no value of the model, as a log's ML.EVALUATE), ``namespace`` and
        ``columns`` (the features and label read from it: each feeds the model's column of its
        name). ``hyperparameters``: numbers, names and lists of them; one naming a credential
        (password, key, token, ...) or holding free text is not kept. ``metrics``: numbers.
        """
        if not isinstance(model_config, Mapping):
            raise RecordError("model_config is a dict with at least a name")
        unknown = sorted(set(model_config) - set(MODEL_KEYS))
        if unknown:
            raise RecordError(f"model_config: unknown key {unknown[0]!r} (known: {', '.join(MODEL_KEYS)})")
        model = self._dataset({"name": model_config.get("name"), "namespace": model_config.get("namespace")},
                              "model", "model")
        data, splits = [], []
        for item in _items(training_data, "training_data"):
            split = (_split(item) if isinstance(item, Mapping) else None) or TRAIN_SPLIT
            dataset = self._dataset(item, "training dataset", keys=TRAINING_KEYS)
            data.append(dataset)
            splits.append((dataset.name, split))
        if not data:
            raise RecordError(f"model {model.name!r}: training_data is empty")
        # Evaluation data feeds no value of the model (as a log's ML.EVALUATE): kept in the splits only.
        fed = [d for d, (_, split) in zip(data, splits) if split not in HELD_OUT_SPLITS]
        features = dict.fromkeys(c for d in fed for c in d.columns)  # each feeds the model's column of its name
        columns = tuple(ColumnLineage(ColumnRef(model.name, c), tuple(ColumnRef(d.name, c) for d in fed if c in d.columns))
                        for c in features)
        facts = ModelFacts(
            model=model.name,
            version=_text(model_config.get("version"), "version"),
            architecture=_text(model_config.get("architecture") or model_config.get("type")
                               or model_config.get("model_type"), "architecture"),
            status=_text(model_config.get("status"), "status"),
            splits=tuple(splits),
            metrics=_metrics(metrics),
            run=_text(run_id, "run_id"),
        )
        result = StatementLineage(index=0, kind="train", inputs=_refs(fed), outputs=_refs([model]), columns=columns,
                                  settings=_hyperparameters(hyperparameters), ml=facts)
        return self._record(result, context, run_id)

    def track_prediction(self, model: str | Mapping[str, Any], inputs: Iterable[str | Mapping[str, Any]],
                         output: str | Mapping[str, Any], context: Mapping[str, Any] | None = None, *,
                         columns: Mapping[str, str | Iterable[str]] | None = None,
                         run_id: str | None = None) -> str:
        """Record a prediction table written with ``model`` from ``inputs``: the table is made from
        the model and its inputs, so ``upstream`` of it reaches the model's training data. ``columns``
        as in ``capture_operation``; a model's column is ``MODEL.column``."""
        if isinstance(model, Mapping):
            extra = sorted(set(model) - {"name", "namespace"})
            if extra:
                raise RecordError(f"model: unknown key {extra[0]!r} (known: name, namespace)")
        used = self._dataset(model, "model", "model")
        ins = [used, *(self._dataset(d, "input") for d in _items(inputs, "inputs"))]
        out = self._dataset(output, "output")
        result = StatementLineage(index=0, kind="insert", inputs=_refs(ins), outputs=_refs([out]),
                                  columns=_column_lineage(columns, ins, [out]))
        return self._record(result, context, run_id)


# -- checking what is given -------------------------------------------------------------------------
def _kind(value: Any) -> str:
    kind = str(value or "").strip().lower().replace(" ", "_").replace("-", "_")
    if kind == "train":
        raise RecordError("a training is recorded with MLLineageTracker.track_model_training")
    if kind not in OPERATION_TYPES:
        raise RecordError(f"unknown operation type {value!r}; known: {', '.join(OPERATION_TYPES)}")
    return kind


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RecordError(f"{what} is text, not {type(value).__name__}")
    text = str(value).strip()
    return text or None


def _split(item: Mapping[str, Any]) -> str | None:
    split = _text(item.get("split"), "split")
    if split is not None and not SPLIT.fullmatch(split):
        raise RecordError(f"split {split!r} of {item.get('name')}: a split is one word (letters, digits, _ -), "
                          "e.g. train, evaluation, test")
    return split


def _items(values: Any, what: str) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, (str, Mapping)):
        values = [values]
    try:
        return list(values)
    except TypeError:
        raise RecordError(f"{what} is a list of dataset names or dicts") from None


def _refs(datasets: Iterable[_Dataset]) -> tuple[DatasetRef, ...]:
    return tuple(dict.fromkeys(DatasetRef(d.name, d.type) for d in datasets))


def _time(value: Any, what: str) -> str | None:
    """A time as the harvest keeps times: UTC ISO-8601 with microseconds (a naive one is UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise RecordError(f"context {what} {value!r} is not an ISO-8601 time (2024-04-01T10:00:00Z)") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    else:
        raise RecordError(f"context {what} is a datetime or an ISO-8601 text, not {type(value).__name__}")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _column_lineage(columns: Mapping[str, str | Iterable[str]] | None, inputs: list[_Dataset],
                    outputs: list[_Dataset]) -> tuple[ColumnLineage, ...]:
    if not columns:
        return ()
    if not isinstance(columns, Mapping):
        raise RecordError("columns is a dict: {target column: [source columns]}")
    out = []
    for target, sources in columns.items():
        found = _column(target, outputs, "target")
        transform = None
        if isinstance(sources, Mapping):  # {"sources": [...], "transform": "AGGREGATION"}
            extra = sorted(set(sources) - {"sources", "transform"})
            if extra:
                raise RecordError(f"column {target!r}: unknown key {extra[0]!r} (known: sources, transform)")
            transform = str(sources.get("transform") or "").upper() or None
            if transform is not None and transform not in DIRECT_TYPES:
                raise RecordError(f"column {target!r}: transform {transform!r} is not one of {', '.join(DIRECT_TYPES)}")
            sources = sources.get("sources")
        named = [sources] if isinstance(sources, str) else list(sources or ())
        refs = tuple(dict.fromkeys(_column(s, inputs, "source") for s in named))
        if transform is None:  # not said: a column copied under its own name, else transformed
            transform = IDENTITY if len(refs) == 1 and refs[0].column == found.column else TRANSFORMATION
        out.append(ColumnLineage(found, refs, transform))
    return tuple(out)


def _column(text: Any, datasets: list[_Dataset], role: str) -> ColumnRef:
    """A column of exactly one of ``datasets``: ``dataset.column``, the dataset named in full or by
    trailing parts of its name that no other dataset ends with, or a bare ``column`` of the only
    dataset (or of the only one listing it). Never a dataset or a column that was not declared."""
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f"a {role} column has an empty name")
    text = text.strip()
    where = "inputs" if role == "source" else "outputs"
    declared = ", ".join(d.name for d in datasets) or "none"
    if "." in text.replace("://", ""):
        prefix, column = text.rsplit(".", 1)
        found = [d for d in datasets if _names(prefix, d)]
        if not found:
            shown = fold_name(datasets[0].namespace, prefix) if datasets else prefix
            raise RecordError(f"{role} {text!r}: {shown} is not among the {where} ({declared})")
        if len(found) > 1:
            raise RecordError(f"{role} {text!r}: {_folded(prefix, found[0])} matches several "
                              f"{where} ({', '.join(d.name for d in found)}): name more of it")
        return _declared(found[0], column, text, role)
    listing = [d for d in datasets if fold_column(d.namespace, text) in d.columns]
    listing = listing or (datasets if len(datasets) == 1 else [])
    if len(listing) != 1:
        example = f"{datasets[0].name if datasets else 'db.t'}.{text}"
        raise RecordError(f"{role} column {text!r}: name its dataset ({where}: {declared}), e.g. {example}")
    return _declared(listing[0], text, text, role)


def _folded(prefix: str, dataset: _Dataset) -> str:
    return fold_name(dataset.namespace, prefix)


def _names(prefix: str, dataset: _Dataset) -> bool:
    """Whether ``prefix`` names ``dataset``: its whole name (qualified, or within its namespace) or
    its last dotted parts, folded as its namespace folds names."""
    if prefix in (dataset.name, dataset.local) or fold_name(dataset.namespace, prefix) == dataset.local:
        return True
    if "://" in dataset.local:  # a path: its last part names it too (s3://bucket/orders/ by orders)
        return prefix == dataset.local.rstrip("/").rsplit("/", 1)[-1]
    if "://" in prefix:
        return False
    wanted, parts = _folded(prefix, dataset).split("."), dataset.local.split(".")
    return len(wanted) < len(parts) and parts[-len(wanted):] == wanted


def _declared(dataset: _Dataset, column: str, text: str, role: str) -> ColumnRef:
    folded = fold_column(dataset.namespace, column)
    if dataset.columns and folded not in dataset.columns:
        raise RecordError(f"{role} {text!r}: {folded} is not among the columns of {dataset.name} "
                          f"({', '.join(dataset.columns)})")
    return ColumnRef(dataset.name, folded)


def _hyperparameters(values: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Kept as a query log's model settings are (``extract.ml.settings_of``): numbers, names, lists of
    them; never a credential (``extract.ml.SECRET_SETTING``), never free text."""
    if values is None:
        return ()
    if not isinstance(values, Mapping):
        raise RecordError("hyperparameters is a dict of name -> value")
    given = []
    for name, value in values.items():
        if not isinstance(name, str) or not name.strip():
            raise RecordError("a hyperparameter has an empty name")
        if isinstance(value, (list, tuple)):
            value = "[" + ",".join(str(v) for v in value) + "]"
        given.append((name, str(value)))
    return settings_of(given)


def _metrics(values: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    if values is None:
        return ()
    if not isinstance(values, Mapping):
        raise RecordError("metrics is a dict of name -> number")
    out = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name.strip():
            raise RecordError("a metric has an empty name")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecordError(f"metric {name!r} must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise RecordError(f"metric {name!r} must be a finite number, got {value!r}")
        out[name.strip()] = repr(value) if isinstance(value, float) else str(value)
    return tuple(sorted(out.items()))
