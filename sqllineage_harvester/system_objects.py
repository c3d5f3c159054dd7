"""System objects left out of lineage: a database's catalogs, statistics views and own schemas.

Each dialect file lists them as ``system_objects``: dotted name patterns whose parts may use
``*`` and ``?``. A pattern of n parts matches a name whose last n parts match it, compared
without regard to case, so ``pg_catalog.*`` matches ``pg_catalog.pg_class`` and
``etl.pg_catalog.pg_class``, and ``pg_*`` matches the bare ``pg_class`` that the extractor
puts in the default schema (``etl.public.pg_class``). A name with fewer parts than a pattern
does not match it. Files and stages are never system objects.

>>> from .model import DatasetRef, StatementLineage
>>> read = StatementLineage(0, "select", inputs=(DatasetRef("etl.pg_catalog.pg_class"),))
>>> without_system_objects("postgres", read) is None
True
>>> mixed = StatementLineage(0, "select", inputs=(DatasetRef("etl.raw.t"), DatasetRef("PG_CATALOG.PG_PROC")))
>>> [d.name for d in without_system_objects("postgres", mixed).inputs]
['etl.raw.t']
"""

from __future__ import annotations

import re
from dataclasses import replace
from fnmatch import translate
from functools import lru_cache
from typing import Callable

from .dialects import Dialect, get_dialect, list_dialects
from .model import ColumnLineage, ColumnRef, DatasetRef, StatementLineage

NOT_NAMES = ("file", "stage")  # dataset types whose names are paths, not dotted names


def without_system_objects(dialect: Dialect | str | None, lineage: StatementLineage) -> StatementLineage | None:
    """``lineage`` without the dialect's system objects: not as inputs, outputs or DDL objects,
    not as column targets, sources or indirect sources. None when the statement touched
    system objects only (and so yields no operation and no usage); unchanged when it touched none.

    ``dialect`` is a dialect file's spec, or a name: a dialect file's name or sqlglot dialect
    (the patterns of every file with that name, e.g. MySQL's and MariaDB's for ``mysql``).
    """
    system = _matcher(patterns(dialect))
    refs = lineage.inputs + lineage.outputs + lineage.objects
    paths = {d.name for d in refs if d.type in NOT_NAMES}

    def dataset(d: DatasetRef) -> bool:
        return d.type not in NOT_NAMES and system(d.name)

    def column(c: ColumnRef) -> bool:
        return bool(c.dataset) and c.dataset not in paths and system(c.dataset)

    if not any(map(dataset, refs)) and not _any_column(lineage, column):
        return lineage
    kept = replace(
        lineage,
        inputs=tuple(d for d in lineage.inputs if not dataset(d)),
        outputs=tuple(d for d in lineage.outputs if not dataset(d)),
        objects=tuple(d for d in lineage.objects if not dataset(d)),
        columns=tuple(_column(c, column) for c in lineage.columns if not column(c.target)),
        indirect=tuple(i for i in lineage.indirect if not column(i.source)),
    )
    return kept if kept.inputs or kept.outputs or kept.objects else None


def patterns(dialect: Dialect | str | None) -> tuple[str, ...]:
    """The system object patterns of a dialect spec, or of the dialect files a name stands for."""
    if dialect is None:
        return ()
    return dialect.system_objects if isinstance(dialect, Dialect) else _named(dialect.lower())


@lru_cache(maxsize=None)
def _named(name: str) -> tuple[str, ...]:
    specs = [get_dialect(n) for n in list_dialects()]
    found = [p for spec in specs if name in (spec.name, spec.sqlglot) for p in spec.system_objects]
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=64)
def _matcher(pattern_list: tuple[str, ...]) -> Callable[[str], bool]:
    compiled = [tuple(re.compile(translate(part), re.IGNORECASE) for part in p.split(".")) for p in pattern_list]

    @lru_cache(maxsize=65536)
    def system(name: str) -> bool:
        parts = name.split(".")
        return any(len(parts) >= len(c) and all(r.match(x) for r, x in zip(c, parts[-len(c):])) for c in compiled)

    return system


def _any_column(lineage: StatementLineage, column: Callable[[ColumnRef], bool]) -> bool:
    return any(column(c.target) or any(map(column, c.sources)) or any(column(i.source) for i in c.indirect)
               for c in lineage.columns) or any(column(i.source) for i in lineage.indirect)


def _column(c: ColumnLineage, system: Callable[[ColumnRef], bool]) -> ColumnLineage:
    return replace(c, sources=tuple(s for s in c.sources if not system(s)),
                   indirect=tuple(i for i in c.indirect if not system(i.source)))


__all__ = ["patterns", "without_system_objects"]
