"""What a statement that did not parse still says in its first words: its kind and the table
it writes. A failed ``INSERT INTO mart.orders ...`` is a failed insert into ``mart.orders``,
not an ``other``: coverage by kind and ``validate``'s failed writes read it from here.

>>> head_kind("INSERT INTO mart.orders SELECT ???")
'insert'
>>> head_kind("  insert overwrite table t select 1")
'insert_overwrite'
>>> head_kind("CREATE OR REPLACE TABLE m.t AS SELECT (")
'create_table_as'
>>> head_kind("EXPLAIN something")
'other'
>>> head_target("INSERT INTO mart.daily_revenue (day, amount) SELECT ((")
'mart.daily_revenue'
>>> head_target('MERGE INTO "Mart"."T" USING x') 
'mart.t'
>>> head_target("SELECT 1") is None
True
"""

from __future__ import annotations

import re

_NAME = r"((?:[\w$]+|\"[^\"]+\"|`[^`]+`|\[[^\]]+\])(?:\s*\.\s*(?:[\w$]+|\"[^\"]+\"|`[^`]+`|\[[^\]]+\]))*)"
# (kind, pattern whose group 1, when there is one, is the written table), first match wins.
_HEADS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in (
    ("insert_overwrite", rf"^\s*INSERT\s+OVERWRITE\s+(?:TABLE\s+)?{_NAME}"),
    ("insert", rf"^\s*(?:INSERT|REPLACE|UPSERT)\s+(?:IGNORE\s+)?(?:INTO\s+)?(?:TABLE\s+)?{_NAME}"),
    ("merge", rf"^\s*MERGE\s+(?:INTO\s+)?{_NAME}"),
    ("update", rf"^\s*UPDATE\s+{_NAME}"),
    ("delete", rf"^\s*DELETE\s+(?:FROM\s+)?{_NAME}"),
    ("create_view", rf"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:SECURE|MATERIALIZED|TEMP|TEMPORARY)\s+)*VIEW\s+"
                    rf"(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}"),
    ("create_table_as", rf"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:(?:TEMP|TEMPORARY|TRANSIENT|GLOBAL|LOCAL)\s+)*TABLE\s+"
                        rf"(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}[^;]*?\bAS\b"),
    ("copy", rf"^\s*COPY\s+(?:INTO\s+)?{_NAME}"),
    ("select", r"^\s*(?:SELECT|WITH)\b"),
))


def _match(text: str) -> tuple[str, re.Match[str]] | None:
    head = text[:4096]
    for kind, pattern in _HEADS:
        found = pattern.match(head)
        if found:
            return kind, found
    return None


def head_kind(text: str) -> str:
    """The statement kind its first words name; ``other`` when they name none we know."""
    found = _match(text)
    return found[0] if found else "other"


def head_target(text: str | None) -> str | None:
    """The table a write names first, lower-cased and unquoted; None for no write."""
    found = _match(text or "")
    if not found or not found[1].groups():
        return None
    return re.sub(r"[\"`\[\]\s]", "", found[1].group(1)).lower()
