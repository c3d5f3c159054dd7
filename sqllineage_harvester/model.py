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
    "rename",
    "drop",
    "truncate",
    "ddl",
    "session",
    "other",
)

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

    @property
    def ok(self) -> bool:
        return self.error is None
