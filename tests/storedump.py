"""Every table of an SQL store, with row ids replaced by the natural keys they stand for.

Two stores built from the same log must give the same dump whatever the batch size, the run
boundaries or a kill: ids depend on insertion order, names do not. Only bookkeeping that
records *how* the harvest went (which batches, when they were written) is left out.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

HOW_IT_WENT = {"batches"}  # batch keys name their first and last rows: they depend on the batch size
WALL_CLOCK = {"updated_at", "written_at"}
# column -> table whose natural key it refers to
REFERENCES = {"dataset_id": "datasets", "model_id": "datasets", "operation_id": "operations", "user_id": "users",
              "system_id": "systems", "src": "columns", "dst": "columns"}


def _natural_keys(con: sqlite3.Connection) -> dict[str, dict[int, str]]:
    datasets = dict(con.execute("SELECT id, key FROM datasets"))
    return {
        "datasets": datasets,
        "columns": {i: f"{datasets[d]}#{n}" for i, d, n in con.execute("SELECT id, dataset_id, name FROM columns")},
        "operations": dict(con.execute("SELECT id, key FROM operations")),
        "users": dict(con.execute("SELECT id, name FROM users")),
        "systems": dict(con.execute("SELECT id, name FROM systems")),
    }


def dump(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        keys = _natural_keys(con)
        out: dict[str, list[tuple]] = {}
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in sorted(set(tables) - HOW_IT_WENT):
            cursor = con.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            rows = []
            for row in cursor:
                rows.append(tuple(
                    (name, keys[REFERENCES[name]][value] if name in REFERENCES else value)
                    for name, value in zip(names, row) if name != "id" and name not in WALL_CLOCK))
            out[table] = sorted(rows, key=repr)
        # each source's row counter (validate's rows per source) is the source's, like its cursor:
        # kept apart, so that stores made by differently cut sources compare on their lineage
        counters = out.get("counters", [])
        out["source_rows"] = [r for r in counters if str(dict(r).get("name", "")).startswith("source_rows:")]
        out["counters"] = [r for r in counters if r not in out["source_rows"]]
        return out
    finally:
        con.close()


def differences(a: dict[str, list[tuple]], b: dict[str, list[tuple]], most: int = 5) -> list[str]:
    """A readable account of where two dumps part."""
    out = []
    for table in sorted(set(a) | set(b)):
        left, right = set(a.get(table, [])), set(b.get(table, []))
        if left != right:
            out.append(f"{table}: {len(left - right)} rows only in the first, {len(right - left)} only in the second; "
                       f"e.g. {sorted(left - right, key=repr)[:most]} / {sorted(right - left, key=repr)[:most]}")
    return out
