"""Where new statements are parsed: in the harvest's own process, in local worker processes, or
on a Dask cluster. Each is a small class with ``submit(job) -> handle`` (``handle.result()``
gives the job's cache text) and ``close()``; the harvest submits a batch's new statements as
the batch is read and collects them one batch later, so parsing overlaps reading and writing.

A job is ``(sql, dialect, database, schema, catalog, timeout)``; its result is the lineage as
the statement cache keeps it (JSON text), redacted (``graph.sanitize``).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import socket
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from .errors import ConfigError, HarvesterError
from .extract import Catalog, extract
from .graph import encode, sanitize

Job = tuple[str, str | None, str | None, str | None, Catalog | None, float | None]


def extract_job(job: Job) -> str:
    """Parse one statement (the same in every executor)."""
    sql, dialect, database, schema, catalog, timeout = job
    return parse(sql, dialect, database, schema, catalog, timeout)


def parse(sql: str, dialect: str | None, database: str | None, schema: str | None,
          catalog: Catalog | _Shared | None, timeout: float | None) -> str:
    if isinstance(catalog, _Shared):
        catalog = catalog.load()
    results = extract(sql, dialect, catalog=catalog, default_database=database, default_schema=schema, timeout=timeout,
                      columns="writes")  # plain SELECTs are kept as usage per table
    return encode([sanitize(r, dialect) for r in results])


class _Shared:
    """A catalog written once to a file that worker processes read once: a job names it instead
    of carrying it (a catalog of thousands of tables would be pickled with every statement)."""

    _loaded: tuple[str, Catalog] | None = None  # in a worker: the last one read

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> Catalog:
        if _Shared._loaded is None or _Shared._loaded[0] != self.path:
            with open(self.path, "rb") as f:
                _Shared._loaded = (self.path, pickle.load(f))
        return _Shared._loaded[1]


class Handle(Protocol):
    def result(self) -> str: ...


class Executor(Protocol):
    workers: int

    def submit(self, job: Job) -> Handle: ...

    def close(self) -> None: ...


class _Done:
    def __init__(self, value: str) -> None:
        self.value = value

    def result(self) -> str:
        return self.value


class Inline:
    """In the harvest's own process, at once (``--workers 1``)."""

    workers = 1

    def submit(self, job: Job) -> Handle:
        return _Done(extract_job(job))

    def close(self) -> None:
        pass


def _worker_start(parent: int | None) -> None:
    """A parse worker's first act: die with the harvest that started it (Linux ``PR_SET_PDEATHSIG``:
    a ``kill -9`` of the harvest leaves no worker behind), and leave Ctrl-C / SIGTERM sent to the
    whole job to the harvest, which stops after the batch in hand and then ends its workers."""
    import ctypes
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        bound = ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL) == 0  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: SIGTERM keeps ending a worker
        return
    if bound:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if parent is not None and os.getppid() != parent:  # the harvest died before the line above
        os._exit(1)


class _Guarded:
    """A worker's future whose failure says what to do."""

    def __init__(self, future: Future[str]) -> None:
        self.future = future

    def result(self) -> str:
        try:
            return self.future.result()
        except BrokenProcessPool as e:
            raise HarvesterError(f"a parse worker died ({e}); nothing of this batch was written: run again, "
                                 "with fewer --workers if memory is short") from e


class Processes:
    """Local worker processes, started on first use (a log with nothing new starts none). The
    catalog a job is parsed with goes to the workers once, as a file (the caller never changes
    a catalog it has given a job: the harvest gives copies)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._shared: tuple[Catalog, _Shared] | None = None

    def submit(self, job: Job) -> Handle:
        if self._pool is None:  # each worker dies with this process and leaves its signals to it
            parent = os.getpid() if multiprocessing.get_start_method() == "fork" else None
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_worker_start, initargs=(parent,))
        sql, dialect, database, schema, catalog, timeout = job
        try:
            return _Guarded(self._pool.submit(parse, sql, dialect, database, schema, self._share(catalog), timeout))
        except BrokenProcessPool as e:
            return _Guarded(_failed(e))

    def _share(self, catalog: Catalog | None) -> _Shared | None:
        if catalog is None:
            return None
        if self._shared is None or self._shared[0] is not catalog:
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix="sqllineage-catalog-")
            path = os.path.join(self._folder.name, f"catalog-{len(os.listdir(self._folder.name))}.pickle")
            with open(path, "wb") as f:
                pickle.dump(catalog, f, protocol=pickle.HIGHEST_PROTOCOL)
            self._shared = (catalog, _Shared(path))
        return self._shared[1]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def _failed(error: BaseException) -> Future[str]:
    future: Future[str] = Future()
    future.set_exception(error)
    return future


class Dask:
    """Workers of a Dask cluster (``--executor dask://scheduler:8786``; the ``dask`` extra)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError as e:
            raise ConfigError("--executor dask:// needs Dask's distributed scheduler: "
                              "pip install 'sqllineage-harvester[dask]'") from e
        target = "tcp://" + address[len("dask://"):] if address.startswith("dask://") else address
        host, _, port = target.split("://", 1)[1].rpartition(":")
        try:  # a scheduler that is not there is said at once (the client would wait for it)
            socket.create_connection((host.strip("[]") or "127.0.0.1", int(port or 8786)), timeout=10).close()
            self.client: Any = Client(target, timeout=30)
        except (OSError, TimeoutError, ValueError) as e:
            raise HarvesterError(f"cannot reach the Dask scheduler at {target}: {e}") from e
        self.workers = max(1, sum(self.client.nthreads().values()))
        self._shared: tuple[Catalog, Any] | None = None

    def submit(self, job: Job) -> Handle:
        sql, dialect, database, schema, catalog, timeout = job
        if catalog is not None:  # sent to every worker once, then named by its future
            if self._shared is None or self._shared[0] is not catalog:
                self._shared = (catalog, self.client.scatter(catalog, broadcast=True, hash=False))
            catalog = self._shared[1]
        # Not pure: the same text under another catalog is another job, and nothing is kept on the cluster.
        return self.client.submit(parse, sql, dialect, database, schema, catalog, timeout, pure=False)

    def close(self) -> None:
        self.client.close()


def cpu_count() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def make_executor(workers: int | None, address: str | None = None) -> Executor:
    """``address`` (dask://host:port) if given; else ``workers`` local processes (None: one per
    core), or the harvest's own process for one."""
    if address:
        if not address.startswith(("dask://", "tcp://", "tls://")):
            raise ConfigError(f"--executor: expected dask://HOST:PORT, got {address!r}")
        return Dask(address)
    count = cpu_count() if workers is None else workers
    return Processes(count) if count > 1 else Inline()
