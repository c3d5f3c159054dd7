"""What ``explore`` reads from the SQL store: names by pattern, what surrounds a dataset, what
surrounds an operation. A mixin of ``SQLStore`` (it uses the store's ``_read``), kept apart so
the store's own module stays about writing and walking.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.engine import Connection

from ..model import DatasetLinks, LineageNode, OperationLinks, ReadCount, RunCount
from .common import by_name, chunks
from .schema import columns, datasets, hosted, input_to, operations, performed, produces, systems, usage, users


def like_pattern(parts: Sequence[str]) -> str:
    r"""A LIKE pattern (escape ``\``) for a name holding ``parts`` in order, anywhere.

    >>> like_pattern(["raw", "amo_unt"])
    '%raw%amo\\_unt%'
    """
    escaped = [p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for p in parts]
    return "%" + "%".join(escaped) + "%"


class SQLExplore:
    """Readers for ``explore`` (see ``Store`` in ``stores/__init__.py``)."""

    def _read(self) -> AbstractContextManager[Connection]: ...  # SQLStore's
    def describe(self, keys: Any) -> dict[str, LineageNode]: ...  # SQLStore's

    def search(self, parts: Sequence[str], limit: int = 50, namespace: str | None = None) -> list[LineageNode]:
        """Datasets and columns whose full name holds ``parts`` in order, case-insensitive, in
        ``namespace`` (any case) when given: filtered before the limit, so up to ``limit`` of it."""
        datasets_query, columns_query = self._searching(parts, namespace)
        d, c = datasets, columns
        with self._read() as conn:
            found = [f"d{i}" for (i,) in conn.execute(
                datasets_query.add_columns(d.c.id).order_by(d.c.name).limit(limit))]
            found += [f"c{i}" for (i,) in conn.execute(
                columns_query.add_columns(c.c.id).order_by(d.c.name, c.c.name).limit(limit))]
        return by_name(self.describe(found).values())

    def search_count(self, parts: Sequence[str], namespace: str | None = None) -> dict[str, int]:
        datasets_query, columns_query = self._searching(parts, namespace)
        with self._read() as conn:
            return {kind: int(conn.execute(query.add_columns(func.count())).scalar_one())
                    for kind, query in (("dataset", datasets_query), ("column", columns_query))}

    @staticmethod
    def _searching(parts: Sequence[str], namespace: str | None) -> tuple[Select[Any], Select[Any]]:
        """The datasets and the columns ``search`` finds, as queries yet to say what they select."""
        pattern = like_pattern([p.lower() for p in parts])
        d, c = datasets, columns
        found_datasets = select().select_from(d).where(func.lower(d.c.name).like(pattern, escape="\\"))
        found_columns = (select().select_from(c).join(d, d.c.id == c.c.dataset_id)
                         .where(func.lower(d.c.name + "." + c.c.name).like(pattern, escape="\\")))
        if namespace is not None:
            found_datasets = found_datasets.where(func.lower(d.c.namespace) == namespace.lower())
            found_columns = found_columns.where(func.lower(d.c.namespace) == namespace.lower())
        return found_datasets, found_columns

    def dataset_links(self, key: str) -> DatasetLinks:
        ident = int(key[1:])
        o, i, p = operations, input_to, produces
        with self._read() as conn:
            cols = tuple(n for (n,) in conn.execute(
                select(columns.c.name).where(columns.c.dataset_id == ident).order_by(columns.c.name)))
            writers = tuple(k for (k,) in conn.execute(
                select(o.c.key).join(p, p.c.operation_id == o.c.id).where(p.c.dataset_id == ident).order_by(o.c.key)))
            readers = tuple((k, t) for k, t in conn.execute(
                select(o.c.key, i.c.type).join(i, i.c.operation_id == o.c.id).where(i.c.dataset_id == ident)
                .order_by(o.c.key)))
            reads = tuple(ReadCount(u, int(n), day) for u, n, day in conn.execute(
                select(usage.c.user, func.sum(usage.c.count), func.max(usage.c.day))
                .where(usage.c.dataset_id == ident).group_by(usage.c.user)
                .order_by(func.sum(usage.c.count).desc(), usage.c.user)))
        return DatasetLinks(cols, writers, readers, reads)

    def operation_ids(self, prefix: str, limit: int = 20) -> list[str]:
        """Operation ids starting with ``prefix`` (case-insensitive)."""
        with self._read() as conn:
            return [k for (k,) in conn.execute(
                select(operations.c.key).where(func.lower(operations.c.key).like(like_pattern([prefix.lower()])[1:],
                                                                                 escape="\\"))
                .order_by(operations.c.key).limit(limit))]

    def operation_outputs(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The node keys of the datasets each operation writes."""
        out: dict[str, list[str]] = {}
        with self._read() as conn:
            for part in chunks(sorted(set(ids))):
                for key, d in conn.execute(select(operations.c.key, produces.c.dataset_id)
                                           .join(produces, produces.c.operation_id == operations.c.id)
                                           .where(operations.c.key.in_(part))):
                    out.setdefault(key, []).append(f"d{d}")
        return {k: tuple(sorted(v)) for k, v in out.items()}

    def operation_links(self, op_id: str) -> OperationLinks | None:
        o = operations
        with self._read() as conn:
            row = conn.execute(select(o.c.id, o.c.sql, o.c.fingerprint, o.c.namespace)
                               .where(o.c.key == op_id)).first()
            if row is None:
                return None
            oid = row[0]
            inputs = tuple((f"d{d}", t) for d, t in conn.execute(
                select(input_to.c.dataset_id, input_to.c.type).where(input_to.c.operation_id == oid)))
            outputs = tuple(f"d{d}" for (d,) in conn.execute(
                select(produces.c.dataset_id).where(produces.c.operation_id == oid)))
            ran = _runs(conn, performed, users, performed.c.user_id, oid)
            where = _runs(conn, hosted, systems, hosted.c.system_id, oid)
        return OperationLinks(row[1], row[2], row[3], inputs, outputs, ran, where)


def _runs(conn: Connection, edge: Any, names: Any, link: Any, oid: int) -> tuple[RunCount, ...]:
    rows = conn.execute(select(names.c.name, edge.c.executions, edge.c.first_seen, edge.c.last_seen)
                        .join(names, names.c.id == link).where(edge.c.operation_id == oid))
    return tuple(sorted((RunCount(n, int(x or 0), f, la) for n, x, f, la in rows),
                        key=lambda r: (-r.executions, r.name)))
