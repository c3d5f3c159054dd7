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


def parse_many(jobs: list[Job]) -> list[str]:
    """A chunk of jobs in one task (a task a statement costs the harvest's own process a hand-off
    each, and it is busy reading)."""
    return [extract_job(job) for job in jobs]


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

    def done(self) -> bool: ...


class Executor(Protocol):
    workers: int

    def submit(self, job: Job) -> Handle:
        """Send a job; it may wait for others to go as one task until ``flush``."""

    def flush(self) -> None:
        """Send every job submitted."""

    def close(self, abort: bool = False) -> None:
        """Let go of the workers; ``abort``: at once, jobs not done thrown away (a run that failed)."""


class _Done:
    def __init__(self, value: str) -> None:
        self.value = value

    def result(self) -> str:
        return self.value

    def done(self) -> bool:
        return True


class Inline:
    """In the harvest's own process, at once (``--workers 1``)."""

    workers = 1

    def submit(self, job: Job) -> Handle:
        return _Done(extract_job(job))

    def flush(self) -> None:
        pass

    def close(self, abort: bool = False) -> None:
        pass


class _Chunk:
    """Jobs that go as one task; ``future`` once sent."""

    def __init__(self, owner: _Chunked) -> None:
        self.owner, self.jobs, self.future = owner, [], None  # type: ignore[var-annotated]

    def result(self) -> list[str]:
        if self.future is None:
            self.owner.flush()
        assert self.future is not None
        return self.owner.outcome(self.future)


class _Part:
    """One job of a chunk."""

    def __init__(self, chunk: _Chunk, index: int) -> None:
        self.chunk, self.index = chunk, index

    def done(self) -> bool:
        return self.chunk.future is not None and self.chunk.future.done()

    def result(self) -> str:
        return self.chunk.result()[self.index]


class _Chunked:
    """Jobs sent in chunks of ``CHUNK``: the common part of local processes and Dask."""

    CHUNK = 16
    workers = 1

    def __init__(self) -> None:
        self._open: _Chunk | None = None

    def submit(self, job: Job) -> Handle:
        if self._open is None:
            self._open = _Chunk(self)
        chunk = self._open
        chunk.jobs.append(self._prepare(job))
        if len(chunk.jobs) >= self.CHUNK:
            self.flush()
        return _Part(chunk, len(chunk.jobs) - 1)

    def flush(self) -> None:
        chunk, self._open = self._open, None
        if chunk is not None and chunk.jobs:
            chunk.future = self._send(chunk.jobs)

    def _prepare(self, job: Job) -> Job:
        return job

    def _send(self, jobs: list[Job]) -> Any:
        raise NotImplementedError

    def outcome(self, future: Any) -> list[str]:
        return future.result()


# How much lower a parse worker's scheduling priority is than the harvest's (``nice``). With as many
# workers as cores, the harvest's own process shared a core with them: on two cores it waited about
# 3 s of a 200,000-row backfill's 14 s for its turn (its /proc schedstat), and the workers, which only
# fill the time it leaves, were done before it. At 5 it waited about 1 s; an idle core is still theirs.
WORKER_NICENESS = 5


def _harvest_worker_start(parent: int | None) -> None:
    """A harvest's parse worker: yields the CPU to the harvest (``WORKER_NICENESS``), whose own
    process (reading, the entry loop, writing) is the one a run waits for; then as any worker."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    _worker_start(parent)


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


class Processes(_Chunked):
    """Local worker processes, started on first use (a log with nothing new starts none). The
    catalog a job is parsed with goes to the workers once, as a file (the caller never changes
    a catalog it has given a job: the harvest gives copies)."""

    def __init__(self, workers: int) -> None:
        super().__init__()
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._shared: tuple[Catalog, _Shared] | None = None

    def _prepare(self, job: Job) -> Job:
        sql, dialect, database, schema, catalog, timeout = job
        return sql, dialect, database, schema, self._share(catalog), timeout  # type: ignore[return-value]

    def _send(self, jobs: list[Job]) -> Future[list[str]]:
        if self._pool is None:  # each worker dies with this process and leaves its signals to it
            parent = os.getpid() if multiprocessing.get_start_method() == "fork" else None
            self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_harvest_worker_start,
                                             initargs=(parent,))
        try:
            return self._pool.submit(parse_many, jobs)
        except BrokenProcessPool as e:
            return _failed(e)

    def outcome(self, future: Any) -> list[str]:
        try:
            return future.result()
        except BrokenProcessPool as e:
            raise HarvesterError(f"a parse worker died ({e}); nothing of this batch was written: run again, "
                                 "with fewer --workers if memory is short") from e

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

    def close(self, abort: bool = False) -> None:
        if self._pool is not None:
            if abort:  # a worker may be dead or stuck: waiting for it could be forever
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.kill()
            self._pool.shutdown(wait=not abort, cancel_futures=True)
            self._pool = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def _failed(error: BaseException) -> Future[list[str]]:
    future: Future[list[str]] = Future()
    future.set_exception(error)
    return future


class Dask(_Chunked):
    """Workers of a Dask cluster (``--executor dask://scheduler:8786``; the ``dask`` extra)."""

    def __init__(self, address: str) -> None:
        super().__init__()
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

    def _send(self, jobs: list[Job]) -> Any:
        catalogs = {id(job[4]): job[4] for job in jobs if job[4] is not None}
        for catalog in catalogs.values():  # sent to every worker once, then named by its future
            if self._shared is None or self._shared[0] is not catalog:
                self._shared = (catalog, self.client.scatter(catalog, broadcast=True, hash=False))
        shared = self._shared
        if shared is not None:
            jobs = [(*job[:4], shared[1] if job[4] is shared[0] else job[4], job[5]) for job in jobs]  # type: ignore[misc]
        # Not pure: the same text under another catalog is another job, and nothing is kept on the cluster.
        return self.client.submit(_parse_with, jobs, pure=False)

    def close(self, abort: bool = False) -> None:
        self.client.close()


def _parse_with(jobs: list[tuple[Any, ...]]) -> list[str]:
    """A Dask task: futures named in the jobs (the scattered catalog) arrive as their values."""
    return parse_many(jobs)  # type: ignore[arg-type]


def cpu_count() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def make_executor(workers: int | None, address: str | None = None) -> Executor:
    """``address`` (dask://host:port) if given; else ``workers`` local processes, or the harvest's
    own process for one. None (``--workers auto``): a worker per core but the one the harvest
    itself keeps busy reading and writing (none on one core)."""
    if address:
        if not address.startswith(("dask://", "tcp://", "tls://")):
            raise ConfigError(f"--executor: expected dask://HOST:PORT, got {address!r}")
        return Dask(address)
    if workers is None:
        cores = cpu_count()
        return Processes(cores - 1) if cores > 1 else Inline()
    return Processes(workers) if workers > 1 else Inline()
