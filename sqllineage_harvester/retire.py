"""Lineage that ages: edges whose statements have not run within a window are retired.

``harvest --retire-after 90d`` keeps the window in the store. Retirement is read, not written:
an operation is retired when it was last seen before the newest time harvested (or ``--as-of``,
the graph as it stood then) minus the window, and the queries leave its edges out unless asked
(``--include-retired``). Nothing is deleted but by ``prune --before DATE``.

>>> window("90d"), window("12w"), window("36h")
(datetime.timedelta(days=90), datetime.timedelta(days=84), datetime.timedelta(days=1, seconds=43200))
>>> window("soon")
Traceback (most recent call last):
...
sqllineage_harvester.errors.ConfigError: --retire-after 'soon': give a number and a unit, d (days), w (weeks) or h (hours): 90d
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from .errors import ConfigError

SETTING = "retire_after"
_UNITS = {"d": "days", "w": "weeks", "h": "hours"}


def window(text: str) -> timedelta:
    """``90d``, ``12w``, ``36h`` as a timedelta; anything else is a usage error."""
    found = re.fullmatch(r"\s*(\d+)\s*([dwh])\s*", text or "")
    if not found:
        raise ConfigError(f"--retire-after {text!r}: give a number and a unit, d (days), w (weeks) or h (hours): 90d")
    return timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})


def keep(store: Any, text: str) -> str:
    """Keep the retention window in the store for later queries; says what is retired now."""
    window(text)
    store.set_setting(SETTING, text.strip())
    cut = cutoff(store)
    ops, tables, columns = store.aged(cut) if cut else (0, 0, 0)
    return (f"edges of statements not run in the {text.strip()} before {store.newest_seen()} are retired: "
            f"{ops} operations, {tables} table edges, {columns} column edges (shown with --include-retired)")


def cutoff(store: Any, as_of: str | None = None) -> str | None:
    """The time before which an operation's last run retires its edges (None: no retention kept).
    Measured back from the newest harvested time, or from ``as_of`` when that is earlier."""
    kept = store.setting(SETTING)
    newest = store.newest_seen()
    if not kept or not newest:
        return None
    start = min(newest, as_of) if as_of else newest
    return stamp(parse(start) - window(kept))


def live_since(store: Any, since: str | None, as_of: str | None, include_retired: bool) -> str | None:
    """The ``since`` a query reads with: the later of the one asked and the retirement cutoff."""
    if include_retired:
        return since
    cut = cutoff(store, as_of)
    return max(filter(None, (since, cut)), default=None)


def retired(store: Any) -> tuple[int, int, int] | None:
    """(operations, table edges, column edges) retired now; None where no retention is kept."""
    cut = cutoff(store)
    return None if cut is None else store.aged(cut)


def prune(store: Any, before: str) -> str:
    """Delete the operations last seen before ``before`` and their edges; says what was removed."""
    ops, tables, columns = store.prune(before)
    return f"removed {ops} operations last seen before {before}, with {tables} table edges and {columns} column edges"


def parse(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def stamp(when: datetime) -> str:
    """In the form the store keeps times (``queries.moment``): UTC, microseconds, Z."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
