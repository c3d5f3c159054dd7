"""What ``explore`` reads from the Neo4j store: names by pattern, what surrounds a dataset, what
surrounds an operation. A mixin of ``Neo4jStore`` (it uses the store's ``_read``), the same
answers as ``sql_explore``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..model import DatasetLinks, LineageNode, OperationLinks, ReadCount, RunCount
from .common import by_name, chunks


def in_order(parts: Sequence[str]) -> re.Pattern[str]:
    """A name holding ``parts`` in order, anywhere, case-insensitive."""
    return re.compile(".*".join(re.escape(p) for p in parts), re.IGNORECASE | re.DOTALL)


def _key(label: str, ident: str) -> str:
    return ("d" if label == "Dataset" else "c") + ident


class Neo4jExplore:
    """Readers for ``explore`` (see ``Store`` in ``stores/__init__.py``). The server filters by
    the longest part (``CONTAINS``); the order of the parts is checked here."""

    def _read(self, query: str, timeout: float | None = None, **params: Any) -> list[list[Any]]: ...
    def describe(self, keys: Any) -> dict[str, LineageNode]: ...

    def search(self, parts: Sequence[str], limit: int = 50, namespace: str | None = None) -> list[LineageNode]:
        found_datasets, found_columns = self._searching(parts, namespace)
        return by_name(self.describe(found_datasets[:limit] + found_columns[:limit]).values())

    def search_count(self, parts: Sequence[str], namespace: str | None = None) -> dict[str, int]:
        found_datasets, found_columns = self._searching(parts, namespace)
        return {"dataset": len(found_datasets), "column": len(found_columns)}

    def _searching(self, parts: Sequence[str], namespace: str | None) -> tuple[list[str], list[str]]:
        """The keys of every dataset and every column ``search`` finds, by name: the namespace is
        asked of the server with the longest part, the order of the parts checked here."""
        longest = max(parts, key=len).lower() if parts else ""
        wanted = in_order(parts)
        space = "($ns IS NULL OR toLower(d.namespace) = $ns)"
        ns = namespace.lower() if namespace is not None else None
        rows = self._read(f"MATCH (d:Dataset) WHERE toLower(d.name) CONTAINS $p AND {space} RETURN d.id, d.name "
                          "ORDER BY d.name", p=longest, ns=ns)
        found_datasets = [_key("Dataset", i) for i, name in rows if wanted.search(name)]
        rows = self._read("MATCH (d:Dataset)-[:HAS_COLUMN]->(c:Column) WHERE toLower(d.name + '.' + c.name) "
                          f"CONTAINS $p AND {space} RETURN c.id, d.name, c.name ORDER BY d.name, c.name",
                          p=longest, ns=ns)
        return found_datasets, [_key("Column", i) for i, ds, col in rows if wanted.search(f"{ds}.{col}")]

    def dataset_links(self, key: str) -> DatasetLinks:
        ident = key[1:]
        cols = tuple(sorted(n for (n,) in self._read(
            "MATCH (d:Dataset {id: $i})-[:HAS_COLUMN]->(c:Column) RETURN c.name", i=ident)))
        writers = tuple(sorted(k for (k,) in self._read(
            "MATCH (d:Dataset {id: $i})<-[:PRODUCES]-(o:Operation) RETURN o.id", i=ident)))
        readers = tuple(sorted((k, t) for k, t in self._read(
            "MATCH (d:Dataset {id: $i})-[e:INPUT_TO]->(o:Operation) RETURN o.id, e.type", i=ident)))
        counted: dict[str, list[Any]] = {}
        for user, n, day in self._read("MATCH (u:Usage {dataset: $i}) RETURN u.user, u.count, u.day", i=ident):
            seen = counted.setdefault(user or "", [0, None])
            seen[0] += int(n)
            seen[1] = max(filter(None, (seen[1], day)), default=None)
        reads = tuple(sorted((ReadCount(u, n, day) for u, (n, day) in counted.items()),
                             key=lambda r: (-r.count, r.user)))
        return DatasetLinks(cols, writers, readers, reads)

    def operation_ids(self, prefix: str, limit: int = 20) -> list[str]:
        rows = self._read("MATCH (o:Operation) WHERE toLower(o.id) STARTS WITH $p RETURN o.id ORDER BY o.id",
                          p=prefix.lower())
        return [k for (k,) in rows][:limit]

    def operation_outputs(self, ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {}
        for part in chunks(sorted(set(ids))):
            for key, d in self._read("UNWIND $ids AS i MATCH (o:Operation {id: i})-[:PRODUCES]->(d:Dataset) "
                                     "RETURN o.id, d.id", ids=part):
                out.setdefault(key, []).append(_key("Dataset", d))
        return {k: tuple(sorted(v)) for k, v in out.items()}

    def operation_links(self, op_id: str) -> OperationLinks | None:
        rows = self._read("MATCH (o:Operation {id: $i}) RETURN o.sql, o.fingerprint, o.namespace", i=op_id)
        if not rows:
            return None
        sql, fingerprint, namespace = rows[0]
        inputs = tuple(sorted((_key("Dataset", d), t) for d, t in self._read(
            "MATCH (d:Dataset)-[e:INPUT_TO]->(o:Operation {id: $i}) RETURN d.id, e.type", i=op_id)))
        outputs = tuple(sorted(_key("Dataset", d) for (d,) in self._read(
            "MATCH (o:Operation {id: $i})-[:PRODUCES]->(d:Dataset) RETURN d.id", i=op_id)))
        ran = self._runs("PERFORMED", "User", op_id)
        where = self._runs("HOSTED", "System", op_id)
        return OperationLinks(sql, fingerprint or "", namespace or "", inputs, outputs, ran, where)

    def _runs(self, rel: str, label: str, op_id: str) -> tuple[RunCount, ...]:
        rows = self._read(f"MATCH (n:{label})-[p:{rel}]->(o:Operation {{id: $i}}) "
                          "RETURN n.name, p.executions, p.first_seen, p.last_seen", i=op_id)
        return tuple(sorted((RunCount(n, int(x or 0), f, la) for n, x, f, la in rows),
                            key=lambda r: (-r.executions, r.name)))
