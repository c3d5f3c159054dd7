"""The state of a log's open sessions: the defaults a session set (``USE``, ``SET search_path``,
``SET @@dataset_id``) and the temp tables it made, so that later statements of the session are
qualified and read through them.

The state is kept in the store with each batch (``Batch.sessions``) and read back when a harvest
starts, so however the log is cut into batches and runs, every statement sees the same state.
It is bounded: at most ``MAX_SESSIONS`` sessions, and a session idle for ``MAX_IDLE`` of log time
is forgotten (the least recently active go first).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .extract.script import TEMP_TYPES, TempState
from .graph import decode, encode
from .model import LogEntry, StatementLineage

MAX_SESSIONS = 10_000
MAX_IDLE = timedelta(hours=24)


@dataclass
class Session:
    """One session's defaults (None: not set by the session) and temp tables."""

    database: str | None = None
    schema: str | None = None
    temps: TempState = field(default_factory=TempState)
    last_seen: str | None = None

    def empty(self) -> bool:
        return self.database is None and self.schema is None and not self.temps.temps

    def dump(self) -> str:
        return json.dumps({"database": self.database, "schema": self.schema, "last_seen": self.last_seen,
                           "temps": json.loads(encode(self.temps.as_statements()))}, separators=(",", ":"))

    @classmethod
    def load(cls, text: str) -> Session:
        data = json.loads(text)
        temps = TempState.from_statements(decode(json.dumps(data.get("temps", []))))
        return cls(data.get("database"), data.get("schema"), temps, data.get("last_seen"))


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


class Sessions:
    """The open sessions of one source, in order of last activity; what changed since the last
    ``changes()`` is what the next batch writes."""

    def __init__(self, kept: dict[str, str], max_sessions: int = MAX_SESSIONS,
                 max_idle: timedelta = MAX_IDLE) -> None:
        loaded = {sid: Session.load(text) for sid, text in kept.items()}
        self.open = OrderedDict(sorted(loaded.items(), key=lambda kv: (kv[1].last_seen or "", kv[0])))
        self.max_sessions, self.max_idle = max_sessions, max_idle
        self._changed: set[str] = set()

    def defaults(self, entry: LogEntry) -> tuple[str | None, str | None]:
        """The entry's database and schema: what its session set, where it set them (a log
        names the session's defaults as they were, or a reader's guess such as ``public``),
        else the entry's own."""
        session = self.open.get(entry.session_id) if entry.session_id else None
        if session is None:
            return entry.database, entry.schema
        return session.database or entry.database, session.schema or entry.schema

    def get(self, session_id: str) -> Session | None:
        return self.open.get(session_id)

    def touch(self, entry: LogEntry, results: list[StatementLineage]) -> Session | None:
        """The entry's session after the entry's session statements; opened when the entry sets
        something a later statement needs (defaults, temp tables)."""
        sid = entry.session_id
        if not sid:
            return None
        session = self.open.get(sid)
        sets = [r.defaults for r in results if r.defaults is not None and not r.error]
        if session is None:
            if not sets and not any(o.type in TEMP_TYPES for r in results for o in r.outputs):
                return None
            session = self._new(sid, entry.start_time)
        if sets:
            session.database, session.schema = sets[-1]
        session.last_seen = entry.end_time or entry.start_time or session.last_seen
        self.open.move_to_end(sid)
        self._changed.add(sid)
        return session

    def _new(self, sid: str, now: str | None) -> Session:
        moment = _moment(now)
        while self.open:
            oldest_id, oldest = next(iter(self.open.items()))
            seen = _moment(oldest.last_seen)
            idle = moment is not None and seen is not None and moment - seen > self.max_idle
            if not idle and len(self.open) < self.max_sessions:
                break
            del self.open[oldest_id]
            self._changed.add(oldest_id)
        session = self.open[sid] = Session(last_seen=now)
        return session

    def changes(self) -> dict[str, str | None]:
        """Session id -> state to keep, or None for a session forgotten; then starts afresh."""
        out: dict[str, str | None] = {}
        for sid in sorted(self._changed):
            session = self.open.get(sid)
            out[sid] = None if session is None or session.empty() else session.dump()
        self._changed.clear()
        return out
