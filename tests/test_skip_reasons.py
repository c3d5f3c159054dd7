"""A reader's skip-reason function (``skip_reasons``, made once per file or history) answers as the
rule says, row by row, for every dialect's export and limit, and again from what it remembered."""

from __future__ import annotations

import dataclasses
from itertools import product
from typing import Any

from sqllineage_harvester.dialects import get_dialect, list_dialects
from sqllineage_harvester.sources.files import skip_reasons

SQLS = ["", "   ", "\n", "SELECT 1", "x" * 10, "é" * 4, "SELECT 'é'", "y" * 11]
STATUSES = [None, "success", "failed", "unfinished", "ignored", "odd"]
USERS = [None, "", "ann", "SYS", "sys", "rdsadmin", "RDSADMIN", "Event_Scheduler"]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for sql, status, user, parent in product(SQLS, STATUSES, USERS, [None, "", "p1"]):
        rows.append({"sql": sql, "status": status, "user": user, "parent_id": parent})
    rows.append({"sql": "SELECT 2"})  # a file without status, user or parent columns
    return rows


def rule(kw: dict[str, Any], limit: int, export: Any) -> str | None:
    """The rule as the README states it, written plainly: the oracle."""
    sql, status, user = kw["sql"], kw.get("status"), kw.get("user")
    if not sql.strip():
        return "empty_sql"
    if len(sql) > limit:
        return "too_long"
    if status in ("failed", "unfinished"):
        return status
    if status == "ignored":
        return "not_a_statement"
    if kw.get("parent_id"):
        return "child_statement"
    cut = export.text_limit
    if cut and (len(sql) == cut or len(sql.encode("utf-8")) == cut):  # cut at the limit, in characters or bytes
        return "truncated"
    return "system_user" if user and user.upper() in export.system_users else None


def test_a_files_skip_function_follows_the_rule_for_every_dialect_and_limit() -> None:
    exports = [get_dialect(name).export for name in list_dialects()]
    base = exports[0]
    exports += [dataclasses.replace(base, text_limit=cut, system_users=frozenset({"SYS", "RDSADMIN", "É"}))
                for cut in (8, 10, 11, 16)]
    for export, limit in product(exports, (5, 10, 64 << 20)):
        own = skip_reasons(limit, export)
        for _ in range(2):  # the second time from what it remembered of each user
            for kw in _rows():
                assert own(kw) == rule(kw, limit, export), (kw, limit, export)
