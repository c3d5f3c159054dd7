"""Engine event logs: one JSON event a line, read as rows of an export.

Trino's event listeners (a ``QueryCompletedEvent`` a line, bare as the HTTP listener posts it
or wrapped as the Kafka listener writes it: ``{"eventPayload": {...}, "eventMetadata": {...}}``),
Hive's ``LineageLogger`` records in the HiveServer2 log (after a log4j prefix, or bare where a
log of their own keeps only the message) and Impala's lineage event log are such logs. The
dialect file's ``[export.records]`` says how a line holds its event:

* ``prefix``: what may come before the JSON on a line (a regular expression). A line that
  neither starts with ``{`` nor matches it is no record of this log (``not_a_record``: the
  rest of a server log);
* ``unwrap``: members an event may come wrapped in;
* ``require``: members every event of this log has: an event without them is of another type
  (``other_event``: Trino's ``QueryCreatedEvent`` and ``SplitCompletedEvent``).

A line that is not JSON (``malformed_json``) and an event with no query text
(``no_query_text``) are skipped too; a last line without its line end is still being written
(the engine appends to its log) and is left for the next run, which reads it whole; each kind is counted and noted once with its first
line (``SourceStats.warning_notes``). Fields are then taken from the event by the dialect's
column names as from any JSON lines export, dotted names reaching into nested objects.

>>> spec = Records(unwrap=("eventPayload",), require=("metadata", "endTime"))
>>> rows = list(event_rows(iter(['{"eventPayload": {"metadata": {"query": "SELECT 1"}, "endTime": "x"}}\\n',
...                              '{"metadata": {"query": "SELECT 2"}, "createTime": "x"}\\n', 'oops\\n', '{"meta']),
...                        {"metadata.query": "sql"}, _NoState(), spec))
>>> rows
[(0, ['metadata.query'], None), (1, ['SELECT 1'], None), (2, [], 'other_event'), (3, [], 'not_a_record')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from ..dialects import Records

# The reasons a line is not used, as the notes say them.
REASONS = {"other_event": "an event of another type", "no_query_text": "an event without query text",
           "not_a_record": "a line that is no record of this log"}


class _State(Protocol):
    def take(self) -> str | None: ...


class _NoState:
    """A line state that never flags a line (for examples and tests)."""

    def take(self) -> str | None:
        return None


def event_rows(lines: Iterator[str], columns: Mapping[str, str], state: _State, records: Records,
               base: int = 0, partial: Callable[[int], None] | None = None) -> Iterator[tuple[int, list[str], str | None]]:
    """(line number, the mapped columns' values, reason to skip or None) for each line, after a
    header row of the column names; ``base`` lines come before the first one read. A last line
    without its line end is not read: ``partial`` is told its number."""
    names = list(columns)
    sql = [i for i, name in enumerate(names) if columns[name] == "sql"]
    prefix = re.compile(records.prefix) if records.prefix else None
    yield 0, names, None
    for number, line in enumerate(lines, base + 1):
        problem = state.take()
        if not line.endswith("\n"):
            if partial is not None:
                partial(number)
            return
        if not line.strip():
            continue
        event, reason = _event(line, prefix, records)
        if event is None:
            yield number, [], problem or reason
            continue
        values = [text(member(event, name)) for name in names]
        if not any(values[i].strip() for i in sql):
            yield number, [], problem or "no_query_text"
            continue
        yield number, values, problem


def _event(line: str, prefix: re.Pattern[str] | None, records: Records) -> tuple[dict[str, Any] | None, str]:
    """The event a line holds, with its keys lower case, or None and why not."""
    body = line.strip()
    if not body.startswith("{"):
        match = prefix.match(body) if prefix is not None else None
        if match is None:
            return None, "not_a_record"
        body = body[match.end():].strip()
        if not body.startswith("{"):  # the logger's other messages
            return None, "not_a_record"
    try:
        obj = json.loads(body)
    except ValueError:
        return None, "malformed_json"
    if not isinstance(obj, dict):
        return None, "malformed_json"
    for wrapper in records.unwrap:
        inner = obj.get(wrapper)
        if isinstance(inner, dict):
            obj = inner
            break
    lowered = {str(k).lower(): v for k, v in obj.items()}
    if any(member(lowered, name.lower()) is None for name in records.require):
        return None, "other_event"
    return lowered, ""


def member(obj: dict[str, Any], name: str) -> Any:
    """``obj[name]``, where a dotted name (``metadata.query``) reaches into nested objects (their
    keys lower-cased, as the caller lowered ``obj``'s)."""
    if name in obj or "." not in name:
        return obj.get(name)
    head, _, rest = name.partition(".")
    inner = obj.get(head)
    return member({str(k).lower(): v for k, v in inner.items()}, rest) if isinstance(inner, dict) else None


def text(value: Any) -> str:
    """A JSON value as the text of a log entry's field: objects and lists as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (int, float)) else json.dumps(value, separators=(",", ":"))


__all__ = ["REASONS", "event_rows"]
