"""``harvest --emit URL``: each batch's operations sent as OpenLineage RunEvents as the harvest
writes them, through the client's transports (HTTP, Kafka, file), at most once per operation and
window (the batch), and never in the way of the store's commit.

* Before a batch is written, the flows it will send are added to the batch itself (the store's
  cache, key ``emit:TARGET:SOURCE``): they commit, or not, with the batch.
* After the commit they go to a sender thread; the harvest goes on at once.
* The sender notes each run id in a journal file (flushed to disk) *before* it sends the event:
  a run id in the journal is never sent again, so a kill at any point sends nothing twice.
* Flows sent are taken off the stored list with the next batch (or at the end of the run); a
  rerun sends what was committed and not yet attempted.

The API key of an HTTP target comes from ``$OPENLINEAGE_API_KEY``, never from the URL or a file,
and is never printed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import queue
import tempfile
import threading
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigError, hide_secrets
from ..sources import source_identity
from ..stores import Batch, Store
from .events import Edge, Flow, flows_of, run_event, run_id

API_KEY_ENV = "OPENLINEAGE_API_KEY"
WAIT = 30.0  # seconds the end of a run waits for events still being sent


def transport_config(url: str) -> dict[str, Any]:
    """The client's transport config for an ``--emit`` URL.

    >>> transport_config("http://marquez:5000")["endpoint"], transport_config("http://m:5000?timeout=30")["timeout"]
    ('api/v1/lineage', 30.0)
    >>> transport_config("kafka://broker:9092/lineage")["topic"]
    'lineage'
    >>> transport_config("file:///tmp/events.jsonl")["log_file_path"]
    '/tmp/events.jsonl'
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        path = parts.path.strip("/")
        given = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            timeout = float(given.pop("timeout", 5.0))
        except ValueError as e:
            raise ConfigError(f"--emit {hide_secrets(url)}: ?timeout= takes seconds") from e
        if given:
            raise ConfigError(f"--emit {hide_secrets(url)}: takes ?timeout=SECONDS only, not {sorted(given)[0]!r}")
        config: dict[str, Any] = {"type": "http", "url": f"{scheme}://{parts.netloc}",
                                  "endpoint": path or "api/v1/lineage", "timeout": timeout}
        key = os.environ.get(API_KEY_ENV)
        if key:
            config["auth"] = {"type": "api_key", "apiKey": key}
        return config
    if scheme == "kafka":
        topic = parts.path.strip("/")
        if not topic:
            raise ConfigError(f"--emit {hide_secrets(url)}: name the topic, kafka://BROKER:PORT/TOPIC")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {"type": "kafka", "topic": topic, "config": {"bootstrap.servers": parts.netloc, **options},
                "flush": True}
    if scheme == "file":
        return {"type": "file", "log_file_path": parts.path, "append": True}
    raise ConfigError(f"--emit {hide_secrets(url)}: not an OpenLineage target (http://, https://, kafka://, file://)")


class Emitter:
    """The hook of a harvest (``prepare`` before a batch is written, ``committed`` after)."""

    def __init__(self, url: str, store: Store, source: str, dialect: str | None = None,
                 journal: Path | None = None) -> None:
        try:
            from openlineage.client import OpenLineageClient
            from openlineage.client.transport import get_default_factory
        except ImportError as e:
            raise ConfigError("--emit needs the OpenLineage client: pip install 'sqllineage-harvester[openlineage]'") from e
        self.target, self.store, self.dialect = source_identity(url), store, dialect
        self.shown = hide_secrets(url)  # as messages print it: user:***@host, as the store's URL is printed
        self.key = f"emit:{self.target}:{source}"  # the target without its secrets: the same whatever the password
        config = transport_config(url)
        if config["type"] == "kafka" and importlib.util.find_spec("confluent_kafka") is None:
            raise ConfigError(f"--emit {self.shown}: Kafka needs its driver: pip install 'openlineage-python[kafka]'")
        try:
            transport = get_default_factory().create(config)
        except Exception as e:  # noqa: BLE001 - a transport that cannot start (Kafka's driver missing, ...)
            raise ConfigError(f"--emit {self.shown}: the client's {config['type']} transport cannot start: "
                              f"{hide_secrets(str(e))}") from e
        self.client = OpenLineageClient(transport=transport)
        self.journal = journal or _journal_path(store.url, self.key)
        self.attempted = _read_journal(self.journal)
        self._stored = store.cache_get([self.key]).get(self.key) or "{}"  # the list as the store has it
        self.pending: dict[str, list[dict[str, Any]]] = json.loads(self._stored)
        self.done: set[str] = set()  # batch keys whose flows were all attempted
        self.failures: list[str] = []
        self.down = False  # the target could not be reached: what is left waits for the next run
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, list[dict[str, Any]]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send_all, name="openlineage-emit", daemon=True)
        self._thread.start()
        for key, flows in self.pending.items():  # committed by an earlier run, not all attempted
            self._queue.put((key, flows))

    # -- the harvest's side ---------------------------------------------------------------------
    def prepare(self, batch: Batch) -> Batch:
        """The batch with its flows in it (they commit with it); the stored list without what was sent."""
        flows = [asdict(f) for f in flows_of(batch.operations, batch.key or "")]
        pending = self._unsent()
        if flows and batch.key:
            pending[batch.key] = flows
        return replace(batch, cache={**batch.cache, self.key: json.dumps(pending, separators=(",", ":"))})

    def committed(self, batch: Batch) -> None:
        """The batch is in the store: its flows are sent in the background."""
        self._stored = batch.cache[self.key]
        stored = json.loads(self._stored)
        with self._lock:
            self.pending = stored
        if batch.key is not None and batch.key in stored:
            self._queue.put((batch.key, stored[batch.key]))

    def close(self, wait: float = WAIT) -> None:
        """Wait (up to ``wait`` seconds) for the events in hand, then take the sent ones off the store's list."""
        self._queue.put(None)
        self._thread.join(wait)
        pending = self._unsent()
        text = json.dumps(pending, separators=(",", ":"))
        if text != self._stored:  # a pass with nothing new writes nothing
            self.store.write_batch(Batch(cache={self.key: text}))
            self._stored = text
        with self._lock:
            self.pending = pending
        if not pending and not self._thread.is_alive():
            self.journal.unlink(missing_ok=True)  # nothing left that could be sent twice

    def finish(self) -> list[str]:
        """``close``, and what the user should know: events not sent, events left for the next run."""
        self.close()
        notes = [f"--emit {self.shown}: {n} event(s) not accepted (first: {self.failures[0]})"
                 for n in [len(self.failures)] if n]
        left = sum(len(v) for v in self.pending.values())
        if left:
            why = "could not be reached" if self.down else "did not take them all in time"
            notes.append(f"--emit {self.shown}: {why}; {left} event(s) kept, the next harvest sends them")
        return notes

    def _unsent(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {k: v for k, v in self.pending.items() if k not in self.done}

    # -- the sender's side ------------------------------------------------------------------------
    def _send_all(self) -> None:
        while (item := self._queue.get()) is not None:
            key, flows = item
            for data in flows:
                if self.down:
                    break
                try:
                    self._send(flow_from(data))
                except Exception as e:  # noqa: BLE001 - one bad flow never stops the others
                    self.failures.append(hide_secrets(f"{type(e).__name__}: {e}"))
            if not self.down:
                with self._lock:
                    self.done.add(key)

    def _send(self, flow: Flow) -> None:
        rid = run_id(flow)
        if rid in self.attempted:
            return
        self.attempted.add(rid)
        self._journal(rid)  # before sending: never twice
        try:
            self.client.emit(run_event(flow, dialect=self.dialect))
        except Exception as e:  # noqa: BLE001 - a target that fails never stops the harvest
            if not _never_sent(e):
                raise
            self.down = True  # nothing reached it: this one may go again, with the rest, next run
            self.attempted.discard(rid)
            self._journal("-" + rid)


    def _journal(self, line: str) -> None:
        with self.journal.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())


def _never_sent(e: BaseException) -> bool:
    """Whether a send failed before the target could have read it: the connection was refused or
    never made (a timeout while waiting for the answer may have been delivered: not this)."""
    try:
        import requests
        from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
    except ImportError:  # pragma: no cover - the client brings both
        return False
    if isinstance(e, requests.ConnectTimeout):
        return True
    if isinstance(e, requests.ConnectionError):
        inner = e.args[0] if e.args else None
        return isinstance(getattr(inner, "reason", inner), (NewConnectionError, ConnectTimeoutError))
    return False


def flow_from(data: dict[str, Any]) -> Flow:
    """A flow from its stored JSON form (``dataclasses.asdict``)."""
    def node(value: Any) -> tuple[str, str]:
        return (value[0], value[1])

    edges = tuple(Edge(node(e["source"]), e["source_column"], node(e["target"]), e["target_column"], e["type"])
                  for e in data.get("edges", ()))
    plain = {k: v for k, v in data.items() if k not in ("inputs", "outputs", "edges", "users")}
    return Flow(**plain, inputs=tuple(node(n) for n in data["inputs"]),
                outputs=tuple(node(n) for n in data["outputs"]), edges=edges, users=tuple(data.get("users", ())))


def _journal_path(store_url: str, key: str) -> Path:
    folder = Path(tempfile.gettempdir()) / f"sqllineage-harvester-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    digest = hashlib.blake2b(f"{source_identity(store_url)}\x1f{key}".encode(), digest_size=8).hexdigest()
    return folder / f"emit-{digest}.journal"


def _read_journal(path: Path) -> set[str]:
    """Run ids attempted: each line a run id, or ``-`` and a run id that never reached the target."""
    attempted: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        return attempted
    for line in lines:
        if line.startswith("-"):
            attempted.discard(line[1:])
        else:
            attempted.add(line)
    return attempted
