"""Frozen values passed between the stages of the pipeline.

Each stage takes and returns these; none of them carries behaviour beyond
small derived properties, so they can be compared, hashed and serialized.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# OpenLineage's vocabulary for how a column is derived.
IDENTITY = "IDENTITY"
TRANSFORMATION = "TRANSFORMATION"
AGGREGATION = "AGGREGATION"
DIRECT_TYPES = (IDENTITY, TRANSFORMATION, AGGREGATION)

# ... and for columns that influence a result without flowing into it.
JOIN = "JOIN"
FILTER = "FILTER"
GROUP_BY = "GROUP_BY"
SORT = "SORT"
WINDOW = "WINDOW"
CONDITIONAL = "CONDITIONAL"
INDIRECT_TYPES = (JOIN, FILTER, GROUP_BY, SORT, WINDOW, CONDITIONAL)

STATEMENT_KINDS = (
    "insert",
    "insert_overwrite",
    "create_table_as",
    "create_view",
    "merge",
    "update",
    "delete",
    "copy",
    "select_into",
    "select",
    "train",
    "evaluate",
    "rename",
    "drop",
    "truncate",
    "ddl",
    "session",
    "other",
)

# Statement kinds that change tables' structure or a session, never their values.
STRUCTURE_KINDS = frozenset({"ddl", "drop", "truncate", "session"})

# Statement kinds that move data from inputs to outputs.
WRITE_KINDS = frozenset(
    {
        "insert",
        "insert_overwrite",
        "create_table_as",
        "create_view",
        "merge",
        "update",
        "delete",
        "copy",
        "select_into",
        "rename",
        "train",
    }
)


@dataclass(frozen=True, order=True)
class DatasetRef:
    """A table, view, file or stage, named as far as it could be qualified."""

    name: str
    type: str = "table"  # table | view | file | stage | model

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column of a dataset; ``dataset`` is empty for a plain SELECT's output."""

    dataset: str
    column: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.column}" if self.dataset else self.column


@dataclass(frozen=True, order=True)
class IndirectRef:
    """A column that influences a result through a JOIN, FILTER, ... clause."""

    source: ColumnRef
    type: str


@dataclass(frozen=True)
class ColumnLineage:
    """One written (or selected) column and the columns it comes from."""

    target: ColumnRef
    sources: tuple[ColumnRef, ...]
    transform: str = IDENTITY
    indirect: tuple[IndirectRef, ...] = ()
    # Sources whose value reaches the target only through a masking function (sha2(email)):
    # OpenLineage's ``masking`` flag, per source.
    masked: tuple[ColumnRef, ...] = ()


def merged_masks(*columns: ColumnLineage) -> tuple[ColumnRef, ...]:
    """The masked sources of values written to one column together: a source is masked only
    where every value reads it through a masking function."""
    clear = {s for c in columns for s in c.sources if s not in c.masked}
    return tuple(dict.fromkeys(m for c in columns for m in c.masked if m not in clear))


# How a dataset served a model's training run (the seed's ``USED_IN_TRAINING {split}``).
TRAIN_SPLIT, EVALUATION_SPLIT = "train", "evaluation"
# The settings that name a model's architecture, first found first: BigQuery / Redshift MODEL_TYPE
# (Snowflake's class is kept as model_type too), PostgresML's algorithm and task, Redshift's PROBLEM_TYPE.
ARCHITECTURE_SETTINGS = ("model_type", "algorithm", "task", "problem_type")


def architecture_of(settings: tuple[tuple[str, str], ...]) -> str | None:
    found = dict(settings)
    return next((found[name] for name in ARCHITECTURE_SETTINGS if found.get(name)), None)


@dataclass(frozen=True)
class ModelFacts:
    """What a training or evaluation run says of its model beyond table lineage: the seed's
    ``Model`` (name, version, architecture, status), ``Metrics`` and the split each dataset
    served in (``USED_IN_TRAINING {split}``). Hyperparameters are ``StatementLineage.settings``.

    ``model`` is the model dataset's name as the run's inputs or outputs give it. Values are text:
    numbers as the run logged them, no credential among them.
    """

    model: str
    version: str | None = None  # registered version (MLflow), else None: the model as last trained
    architecture: str | None = None  # model_type / algorithm / flavor
    status: str | None = None  # the run's or version's status (FINISHED, READY, ...)
    splits: tuple[tuple[str, str], ...] = ()  # (dataset name, split): train | evaluation | validation | test | ...
    metrics: tuple[tuple[str, str], ...] = ()  # (name, value), sorted
    run: str | None = None  # the run / job id the facts come from


@dataclass(frozen=True)
class StatementLineage:
    """What one statement reads and writes, down to columns.

    ``error`` is None when the statement was understood; otherwise it holds the
    reason and the lineage fields are empty.
    """

    index: int
    kind: str
    inputs: tuple[DatasetRef, ...] = ()
    outputs: tuple[DatasetRef, ...] = ()
    columns: tuple[ColumnLineage, ...] = ()
    indirect: tuple[IndirectRef, ...] = ()
    objects: tuple[DatasetRef, ...] = ()  # tables a DDL/DROP/TRUNCATE touches
    warnings: tuple[str, ...] = ()
    error: str | None = None
    sql: str = field(default="", compare=False, repr=False)
    # A session statement (USE, SET search_path, SET @@dataset_id) that changed the defaults
    # later statements are qualified with: the (database, schema) it leaves.
    defaults: tuple[str | None, str | None] | None = None
    # A trained model's hyperparameters (OPTIONS / SETTINGS): (name, value) pairs, sorted, no credentials.
    settings: tuple[tuple[str, str], ...] = ()
    # A training or evaluation run's model facts (version, metrics, splits); None for other statements.
    ml: ModelFacts | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# -- harvesting --------------------------------------------------------------
@dataclass(frozen=True)
class LogEntry:
    """One row of a query log / history table, whatever the database.

    ``executions`` > 1 where a row stands for many runs (pg_stat_statements).
    ``cursor`` is the source's own position of this row (a timestamp, an
    offset); the harvest stores the highest one it has committed.
    """

    sql: str
    dialect: str | None = None
    query_id: str | None = None
    database: str | None = None
    schema: str | None = None
    user: str | None = None
    role: str | None = None
    system: str | None = None  # host, warehouse, cluster
    start_time: str | None = None  # ISO-8601 UTC
    end_time: str | None = None
    status: str | None = None  # success | failed | ... (None: unknown, taken as success)
    rows: int | None = None
    executions: int = 1
    session_id: str | None = None
    parent_id: str | None = None  # the script job this statement ran in, whose own text the log has too
    source_hash: str | None = None  # the log's own statement hash, where it has one
    cursor: str | None = None
    # The log's own lineage where it keeps one (see declared.py), as the log writes it.
    declared_inputs: str | None = None
    declared_outputs: str | None = None
    # What the times are: "execution" (when the statement ran) or "harvest" (when the harvester
    # saw it: pg_stat_statements keeps counters, not times).
    time_basis: str = "execution"
    # Lineage the source knows already (an OpenLineage event), as graph.encode writes it: the entry
    # is not parsed; ``sql`` is only its text to keep.
    lineage: str | None = None


@dataclass(frozen=True, slots=True)
class Fingerprinted:
    """A log entry with its literals redacted and its statement fingerprint.

    Slots: one is made (and freed) for every log row, and a slotted one is cheaper to make
    (normalize.py sets its three slots directly) and to free than one with a ``__dict__``."""

    entry: LogEntry
    fingerprint: str
    redacted_sql: str


@dataclass(frozen=True)
class Operation:
    """One distinct write statement as harvested: the graph's Operation node.

    ``id`` is stable for the same fingerprint, dialect and defaults, so the same
    statement seen again updates ``last_seen`` and ``executions`` instead of
    adding a node.
    """

    id: str
    type: str  # a StatementLineage.kind
    fingerprint: str
    sql: str | None  # redacted text; None when storage of SQL text is off
    inputs: tuple[DatasetRef, ...]
    outputs: tuple[DatasetRef, ...]
    columns: tuple[ColumnLineage, ...]
    indirect: tuple[IndirectRef, ...]
    namespace: str  # e.g. postgres://host:5432 or snowflake://account
    user: str | None
    system: str | None
    first_seen: str | None
    last_seen: str | None
    executions: int = 1
    # "execution": the log's times of the runs; "harvest": when the harvester saw them (a log
    # that keeps no times, pg_stat_statements); a store that has both for one operation says "mixed".
    time_basis: str = "execution"
    # A training / evaluation operation's hyperparameters and model facts (StatementLineage's).
    settings: tuple[tuple[str, str], ...] = ()
    ml: ModelFacts | None = None


@dataclass(frozen=True)
class Usage:
    """Reads of a dataset by a user on a day (plain SELECTs are not stored one by one)."""

    dataset: str
    namespace: str
    user: str | None
    day: str  # YYYY-MM-DD
    count: int


@dataclass(frozen=True)
class ParseFailure:
    """A distinct statement that could not be parsed, kept with its reason."""

    fingerprint: str
    dialect: str | None
    reason: str
    sql: str | None  # redacted
    executions: int
    first_seen: str | None
    last_seen: str | None


# -- lineage queries -----------------------------------------------------------
@dataclass(frozen=True, order=True)
class LineageNode:
    """A dataset or a column as a store knows it.

    ``key`` is the store's own handle for the node (stable within one store);
    ``name`` is ``db.schema.table`` or ``db.schema.table.column``.
    """

    key: str
    name: str
    kind: str  # dataset | column
    namespace: str = ""
    type: str | None = None  # the dataset's type (table, view, ...)


@dataclass(frozen=True, order=True)
class LineageEdge:
    """Data flowing from ``source`` to ``target`` (node keys) through one operation.

    ``type`` is IDENTITY / TRANSFORMATION / AGGREGATION or an indirect kind
    (JOIN, FILTER, ...) for columns; DIRECT or an indirect kind for datasets.
    """

    source: str
    target: str
    operation: str  # Operation.id
    type: str
    first_seen: str | None = None
    last_seen: str | None = None
    masked: bool = False  # the value passed through a masking function (sha2, md5, ...) on the way


@dataclass(frozen=True)
class OperationInfo:
    """What a query result says about an operation on the way."""

    id: str
    type: str
    users: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    first_seen: str | None = None
    last_seen: str | None = None
    executions: int = 0
    time_basis: str = "execution"  # see Operation.time_basis


@dataclass(frozen=True)
class GraphNode:
    """A node of a query result: how far from the root and how it was reached."""

    node: LineageNode
    depth: int
    operations: tuple[str, ...] = ()  # operations on the edges that reached it
    users: tuple[str, ...] = ()
    last_seen: str | None = None
    # Asked --as-of a time the lineage was seen after: seen by then (at this time or before it), but the
    # store keeps only first and last seen, so when last by then is not known (``last_seen`` is None).
    last_seen_before: str | None = None


@dataclass(frozen=True)
class Hidden:
    """Edges from the nodes an answer reached that it left out: retired ones (their statements not
    run within ``harvest --retire-after``, kept as ``retire_after``) and those outside the asked
    --since / --as-of. Said so that hidden lineage never reads as no lineage."""

    retired: int
    outside_window: int
    retire_after: str | None = None


@dataclass(frozen=True)
class LineageGraph:
    """The answer to upstream / downstream / impact / path."""

    root: LineageNode
    direction: str  # upstream | downstream | path
    nodes: tuple[GraphNode, ...]
    edges: tuple[LineageEdge, ...]
    operations: tuple[OperationInfo, ...] = ()
    target: LineageNode | None = None  # path only
    note: str | None = None  # what the answer is for, when not for the name asked (a shard's family)
    as_of: str | None = None  # the --as-of asked: times after it are not shown as seen
    windowed: bool = False  # a --since / --as-of was asked: executions are still counted over all time
    hidden: Hidden | None = None  # edges left out by retirement or the asked window; None when none were


@dataclass(frozen=True)
class StoreStats:
    """Counts a store keeps: graph sizes, harvest counters, failure reasons."""

    counts: tuple[tuple[str, int], ...]  # (table, rows), e.g. ("datasets", 120)
    counters: tuple[tuple[str, int], ...]  # harvest counters, e.g. ("rows:insert", 900)
    failures: tuple[tuple[str, int], ...]  # (reason, executions), most frequent first


@dataclass(frozen=True)
class KindCoverage:
    """Log rows of one statement kind, and how many of them had their lineage extracted."""

    kind: str
    rows: int
    extracted: int
    full: int = 0  # parsed with whole column lineage: no warning, no ``*`` left, each written column sourced

    @property
    def share(self) -> float:
        return self.extracted / self.rows if self.rows else 0.0

    @property
    def full_share(self) -> float:
        return self.full / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class LineageStats:
    """The answer to ``stats``: sizes, coverage by statement kind, top failure reasons."""

    counts: tuple[tuple[str, int], ...]
    coverage: tuple[KindCoverage, ...]
    failures: tuple[tuple[str, int], ...]
    counters: tuple[tuple[str, int], ...] = ()
    failing: tuple[ParseFailure, ...] = ()  # the statements that failed most often, redacted
    retired: tuple[int, int, int] | None = None  # (operations, table edges, column edges); None: no retention


@dataclass(frozen=True)
class RunCount:
    """Who (a user) or where (a system) ran an operation, how often, and when."""

    name: str
    executions: int = 0  # 0: not known (stores harvested before schema version 2)
    first_seen: str | None = None
    last_seen: str | None = None


@dataclass(frozen=True)
class ReadCount:
    """Plain SELECTs of a dataset by one user: how many, and the last day."""

    user: str  # "" when the log has no user
    count: int
    last_day: str | None = None


@dataclass(frozen=True)
class DatasetLinks:
    """What a store holds around one dataset: its columns, the operations writing it, those
    reading it (with DIRECT or the indirect kind they read it through) and its plain reads."""

    columns: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()  # Operation ids
    readers: tuple[tuple[str, str], ...] = ()  # (Operation id, DIRECT | JOIN | FILTER | ...)
    reads: tuple[ReadCount, ...] = ()


@dataclass(frozen=True)
class OperationLinks:
    """What a store holds around one operation beyond ``OperationInfo``: its redacted SQL, the
    datasets it reads (node key, DIRECT or indirect kind) and writes (node keys), who ran it."""

    sql: str | None = None
    fingerprint: str = ""
    namespace: str = ""
    inputs: tuple[tuple[str, str], ...] = ()
    outputs: tuple[str, ...] = ()
    users: tuple[RunCount, ...] = ()
    systems: tuple[RunCount, ...] = ()


@dataclass(frozen=True)
class ModelVersionRow:
    """One training operation of a model as a store keeps it (the seed's ``Model`` version)."""

    operation: str  # Operation id
    version: str | None
    architecture: str | None
    status: str | None
    run: str | None
    first_seen: str | None
    last_seen: str | None
    user: str | None  # who ran its earliest known run


@dataclass(frozen=True)
class ModelLinks:
    """What a store holds around one model: its versions (training operations), each operation's
    hyperparameters and metrics, the datasets used in its training or evaluation (with split) and
    the datasets made with it (predictions). Datasets are node keys."""

    versions: tuple[ModelVersionRow, ...] = ()
    hyperparameters: tuple[tuple[str, str, str], ...] = ()  # (operation id, name, value)
    metrics: tuple[tuple[str, str, str], ...] = ()  # (operation id, name, value)
    used: tuple[tuple[str, str, str, str | None], ...] = ()  # (dataset key, split, operation id, version)
    predictions: tuple[tuple[str, str], ...] = ()  # (dataset key, operation id)
