"""A file's own skip-reason function (``skip_reasons``) answers as ``skip_reason`` does, row by row."""

from __future__ import annotations

import dataclasses
from itertools import product
from typing import Any

from sqllineage_harvester.dialects import get_dialect, list_dialects
from sqllineage_harvester.sources.files import skip_reason, skip_reasons

SQLS = ["", "   ", "\n", "SELECT 1", "x" * 10, "é" * 4, "SELECT 'é'", "y" * 11]
STATUSES = [None, "success", "failed", "unfinished", "ignored", "odd"]
USERS = [None, "", "ann", "SYS", "sys", "rdsadmin", "RDSADMIN", "Event_Scheduler"]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for sql, status, user, parent in product(SQLS, STATUSES, USERS, [None, "", "p1"]):
        rows.append({"sql": sql, "status": status, "user": user, "parent_id": parent})
    rows.append({"sql": "SELECT 2"})  # a file without status, user or parent columns
    return rows


def test_a_files_skip_function_agrees_with_skip_reason_for_every_dialect_and_limit() -> None:
    exports = [get_dialect(name).export for name in list_dialects()]
    base = exports[0]
    exports += [dataclasses.replace(base, text_limit=cut, system_users=frozenset({"SYS", "RDSADMIN", "É"}))
                for cut in (8, 10, 11, 16)]
    for export, limit in product(exports, (5, 10, 64 << 20)):
        own = skip_reasons(limit, export)
        for _ in range(2):  # the second time from what it remembered of each user
            for kw in _rows():
                assert own(kw) == skip_reason(kw, limit, export), (kw, limit, export)
