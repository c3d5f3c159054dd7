"""Columns' own tags in a Neo4j store: one ``ColumnTag`` node each (column id, tag, origin), a
mixin of ``Neo4jStore``. What tags reach by lineage is computed at query time (``tags.propagate``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable

HAND = "hand"


class Neo4jTags:
    """Readers and writers of ``ColumnTag`` nodes (see ``tags.py``)."""

    def _read(self, query: str, timeout: float | None = None, **params: Any) -> list[list[Any]]: ...
    def _write(self, work: Callable[[Any], Any]) -> Any: ...

    def tag_columns(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Tag columns: (column key, tag, origin). A tag given by hand stays by hand."""
        found = [{"id": f"{key[1:]}\x1f{tag}", "c": key[1:], "tag": tag, "origin": origin}
                 for key, tag, origin in rows]
        if found:
            self._write(lambda tx: tx.run(
                "UNWIND $rows AS r MERGE (t:ColumnTag {id: r.id}) "
                "ON CREATE SET t.column = r.c, t.tag = r.tag, t.origin = r.origin "
                "ON MATCH SET t.origin = CASE WHEN r.origin = $hand THEN r.origin ELSE t.origin END",
                rows=found, hand=HAND).consume())

    def untag_column(self, key: str, tag: str) -> int:
        """Remove ``tag`` from the column, whoever gave it; how many were removed."""
        return int(self._write(lambda tx: tx.run(
            "MATCH (t:ColumnTag {id: $id}) DETACH DELETE t RETURN count(*) AS n",
            id=f"{key[1:]}\x1f{tag}").single()["n"]))

    def column_tags(self) -> list[tuple[str, str, str]]:
        """Every column's own tags: (column key, tag, origin), sorted."""
        rows = self._read("MATCH (t:ColumnTag) RETURN t.column, t.tag, t.origin")
        return sorted((f"c{c}", tag, origin) for c, tag, origin in rows)
