"""Columns' own tags in the SQL store (``column_tags``): a mixin of ``SQLStore``, like
``sql_explore``. What tags reach by lineage is computed at query time (``tags.propagate``)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from .schema import column_tags

HAND = "hand"


class SQLTags:
    """Readers and writers of ``column_tags`` (see ``tags.py``)."""

    sqlite: bool

    def _read(self) -> AbstractContextManager[Connection]: ...  # SQLStore's
    def _write(self) -> AbstractContextManager[Connection]: ...  # SQLStore's
    def _errors(self) -> AbstractContextManager[None]: ...  # SQLStore's

    def tag_columns(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Tag columns: (column key, tag, origin). A tag given by hand stays by hand."""
        if not rows:
            return
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        insert = sqlite_insert if self.sqlite else pg_insert
        values = [{"column_id": int(key[1:]), "tag": tag, "origin": origin} for key, tag, origin in rows]
        with self._errors(), self._write() as conn:
            for row in values:
                stmt = insert(column_tags).values(row)
                if row["origin"] == HAND:
                    stmt = stmt.on_conflict_do_update(index_elements=["column_id", "tag"], set_={"origin": HAND})
                else:
                    stmt = stmt.on_conflict_do_nothing(index_elements=["column_id", "tag"])
                conn.execute(stmt)

    def untag_column(self, key: str, tag: str) -> int:
        """Remove ``tag`` from the column, whoever gave it; how many were removed."""
        t = column_tags
        with self._errors(), self._write() as conn:
            done = conn.execute(delete(t).where(t.c.column_id == int(key[1:]), t.c.tag == tag))
            return int(done.rowcount or 0)

    def column_tags(self) -> list[tuple[str, str, str]]:
        """Every column's own tags: (column key, tag, origin), sorted."""
        t = column_tags
        with self._read() as conn:
            rows = conn.execute(select(t.c.column_id, t.c.tag, t.c.origin)).all()
        return sorted((f"c{i}", tag, origin) for i, tag, origin in rows)
