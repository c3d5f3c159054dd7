"""OpenLineage events as a source: files, folders, or an HTTP endpoint that receives them.

* ``openlineage:///path/events.jsonl`` (JSON lines, a JSON array, ``.gz`` too) or a folder of them;
* ``openlineage+http://127.0.0.1:5000`` listens as Marquez does (``POST /api/v1/lineage``): each
  event received is appended to a spool file (``?spool=PATH``; by default one of the user's own
  under the temp directory) and flushed to disk before it is acknowledged, and each pass harvests
  the spool. With ``harvest --follow`` it keeps listening between passes.

Each COMPLETE event is an entry carrying its lineage (``openlineage/lineage.py``); the cursor is
the event time and run id, so events are harvested once, in time order.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigError
from ..model import LogEntry
from . import SourceStats

SUFFIXES = (".jsonl", ".ndjson", ".json")
FAILED = ("FAIL", "ABORT")


class OpenLineageSource:
    """Events read from files (or the spool of a listener)."""

    def __init__(self, url: str, dialect: Any = None, columns: Any = None, **options: Any) -> None:
        self.url = url
        self.stats = SourceStats()
        parts = urlsplit(url)
        if parts.scheme.lower() == "openlineage+http":
            self.listener = listen(parts.hostname or "127.0.0.1", parts.port or 5000,
                                   parse_qs(parts.query).get("spool", [None])[-1])
            self.paths = [self.listener.spool]
        else:
            path = Path(parts.path if "://" in url else url)
            if not path.exists():
                raise ConfigError(f"no such file or folder: {path}")
            self.paths = sorted(p for p in path.rglob("*") if p.is_file() and _readable(p)) if path.is_dir() else [path]

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        from ..openlineage.lineage import COMPLETE, entry_of, read_events

        entries = []
        for path in self.paths:
            self.stats.files += 1
            for event, where in read_events(_text(path, self.stats), str(path)):
                if event is None or not event.get("eventTime") or not isinstance(event.get("run"), dict):
                    self.stats.skip("malformed_json", where)
                    continue
                kind = str(event.get("eventType") or "").upper()
                if kind in FAILED:
                    self.stats.failed += 1
                if kind != COMPLETE:
                    self.stats.skip(f"event_{kind.lower() or 'untyped'}", where)
                    continue
                try:
                    entry = entry_of(event)
                except (ValueError, TypeError, KeyError) as e:
                    self.stats.skip("malformed_json", f"{where} ({type(e).__name__})")
                    continue
                entries.append(entry)
        for entry in sorted(entries, key=lambda e: e.cursor or ""):
            if after_cursor is not None and (entry.cursor or "") <= after_cursor:
                self.stats.before_cursor += 1
                continue
            self.stats.rows_read += 1
            self.stats.entries += 1
            yield entry


def _readable(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(SUFFIXES)


def _text(path: Path, stats: SourceStats) -> str:
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".gz":
            data = gzip.decompress(data)
        return data.decode("utf-8")
    except FileNotFoundError:  # a spool nothing was sent to yet
        return ""
    except (OSError, EOFError, UnicodeDecodeError) as e:
        stats.file_errors.append(f"{path}: not read: {e}")
        return ""


class Listener:
    """An HTTP endpoint for OpenLineage events, spooling each to a file before answering 201."""

    def __init__(self, host: str, port: int, spool: Path) -> None:
        self.spool = spool
        self._lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    data = json.loads(body)
                except ValueError:
                    self.send_response(400)
                    self.end_headers()
                    return
                listener.keep(data if isinstance(data, list) else [data])
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer((host, port), Handler)
        except OSError as e:
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name="openlineage-listener", daemon=True).start()

    def keep(self, events: list[Any]) -> None:
        with self._lock, self.spool.open("a", encoding="utf-8") as out:
            for event in events:
                out.write(json.dumps(event, separators=(",", ":")) + "\n")
            out.flush()
            os.fsync(out.fileno())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_LISTENERS: dict[tuple[str, int], Listener] = {}


def listen(host: str, port: int, spool: str | None = None) -> Listener:
    """The process's listener on host:port (started once: passes of ``--follow`` share it)."""
    found = _LISTENERS.get((host, port))
    if found is None:
        if spool is None:
            folder = Path(tempfile.gettempdir()) / f"sqllineage-harvester-{os.getuid()}"
            folder.mkdir(mode=0o700, exist_ok=True)
            spool = str(folder / f"openlineage-{host}-{port}.jsonl")
        found = _LISTENERS[(host, port)] = Listener(host, port, Path(spool))
    return found
