"""The lineage graph in Neo4j (or any Neo4j 5 compatible Bolt server), through the
official ``neo4j`` driver.

URLs: ``neo4j://user:password@host:7687/database`` (also ``bolt://``, ``neo4j+s://``,
``bolt+s://``); the path names the database, the server's default when empty.

The graph (every node has a unique ``id``; times are ISO-8601 UTC strings)::

    (:Dataset)-[:INPUT_TO {type}]->(:Operation)-[:PRODUCES]->(:Dataset)
    (:User)-[:PERFORMED {first_seen, last_seen, executions}]->(:Operation)<-[:HOSTED {first_seen, last_seen, executions}]-(:System)
    (:Dataset)-[:HAS_COLUMN]->(:Column)-[:FEEDS {operation, type, first_seen, last_seen}]->(:Column)

The harvest's bookkeeping lives in the same graph, so it commits with the batch:
``:HarvestSource`` (cursor), ``:StatementCache``, ``:Counter``, ``:Batch`` (keys of
batches written), ``:Usage``, ``:ParseFailure`` and ``:SchemaVersion``.

Every statement is parameterized, every write an ``UNWIND $rows ... MERGE`` of at
most ``ROWS`` rows, one transaction a batch. Transactions are retried with back-off
(the driver's managed transactions) when the server is unreachable or busy; a
batch's ``key`` makes a retried commit harmless.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import neo4j
from neo4j.exceptions import AuthError, ClientError, DriverError, Neo4jError, ServiceUnavailable

from ..model import DIRECT_TYPES, LineageEdge, LineageNode, Operation, OperationInfo, ParseFailure, StoreStats
from ..errors import ConfigError, hide_secrets
from ..naming import dataset_id, place
from . import DOWNSTREAM, Batch, CursorMovedError, StoreError, check_version, safe_url
from .neo4j_explore import Neo4jExplore
from .neo4j_ml import Neo4jModels, upgrade_models
from .neo4j_tags import Neo4jTags
from .common import (
    DIRECT, PLAIN, Known, by_name, chunks, column_edge_refs, masked_edges, column_refs, dataset_types, input_types, merge_runs,
    earlier, later, merged_operation, now, runs, short_name, spellings, suffix_match,
)

# The driver's own warnings (a routing failure) say again what the store's error says, as a bare
# second line: kept from stderr unless the program sets up logging, whose handlers still get them.
logging.getLogger("neo4j").addHandler(logging.NullHandler())

# 2: PERFORMED / HOSTED carry their own window and executions; 3: FEEDS.masked, ColumnTag; 4: models (neo4j_ml.py)
SCHEMA_VERSION = 4
ROWS = 1000  # rows per UNWIND
WALK_SECONDS = 2.0  # a variable-length walk slower than this goes level by level
LABELS = ("Dataset", "Column", "Operation", "User", "System", "Usage", "ParseFailure", "StatementCache",
          "Counter", "HarvestSource", "Session", "Batch", "SchemaVersion", "ColumnTag", "Setting", "Hyperparameters", "Metrics")
INDEXES = (("Dataset", "short"), ("Column", "dshort"), ("Column", "name"), ("Session", "source"))
Tx = Any  # neo4j.ManagedTransaction


class StoreUnavailableError(StoreError):
    """The Bolt server cannot be reached (down, wrong address) or refuses the login."""


def driver_target(url: str) -> tuple[str, tuple[str, str] | None, str | None]:
    """(driver URI, auth, database) from a store URL.

    >>> driver_target("neo4j+s://ann:p%40ss@graph.example:7687/lineage")
    ('neo4j+s://graph.example:7687', ('ann', 'p@ss'), 'lineage')
    >>> driver_target("bolt://localhost")
    ('bolt://localhost', None, None)
    """
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    uri = f"{parts.scheme.lower()}://{host}" + (f":{parts.port}" if parts.port else "")
    auth = (unquote(parts.username or ""), unquote(parts.password or "")) if parts.username else None
    return uri, auth, unquote(parts.path.strip("/")) or None


def one_line(e: BaseException) -> str:
    text = getattr(e, "message", None) or str(e) or type(e).__name__
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def translate(e: Exception, url: str) -> StoreError:
    """A driver error -> the harvester's own, one line, password hidden."""
    where = f"store {safe_url(url)}"
    reason = hide_secrets(one_line(e), url)
    if isinstance(e, AuthError) or "unauthorized" in str(getattr(e, "code", "")).lower():
        return StoreUnavailableError(f"{where}: login refused (wrong user or password)")
    if isinstance(e, ServiceUnavailable) or "not expected in state" in str(e):
        return StoreUnavailableError(f"{where} is unreachable: {reason}")
    if "DatabaseNotFound" in str(getattr(e, "code", "")):
        return StoreError(f"{where}: the database does not exist")
    return StoreError(f"{where}: {reason}")


def conflict(e: BaseException | None) -> bool:
    """Two writers MERGEd the same new node at once: rerun, and the MERGE finds it.
    (Neo4j serializes such MERGEs itself; other Bolt servers report a duplicate key.)"""
    code, text = str(getattr(e, "code", "")), str(e).lower()
    return ("ConstraintValidationFailed" in code or "duplicated key" in text
            or "concurrentmodification" in text.replace(" ", ""))


def timed_out(e: BaseException | None) -> bool:
    """The server gave up on a transaction at its timeout."""
    return "timedout" in str(getattr(e, "code", "")).lower().replace("_", "") or "TransactionTimedOut" in str(e)


def restarting(e: BaseException | None) -> bool:
    """An error a server gives while it stops or starts: logins and databases come up after
    the port, a session cut in the middle of its login is left in the wrong state, and a
    statement running as the server shuts down fails with a database (not client) error.
    The transaction is rolled back either way, and a batch's key makes its replay harmless."""
    code = str(getattr(e, "code", ""))
    return (isinstance(e, AuthError) or "DatabaseNotFound" in code or code.startswith("Neo.DatabaseError.")
            or "not expected in state" in str(e))


def key_of(label: str, ident: str) -> str:
    return ("d" if label == "Dataset" else "c") + ident


def split_keys(keys: Iterable[str]) -> tuple[list[str], list[str]]:
    """``d``/``c`` node keys -> (dataset ids, column ids)."""
    ds: list[str] = []
    cs: list[str] = []
    for key in keys:
        (ds if key[0] == "d" else cs).append(key[1:])
    return sorted(set(ds)), sorted(set(cs))


def column_id(dataset_id: str, name: str) -> str:
    return f"{dataset_id}#{name}"


def earliest(prop: str, new: str) -> str:
    """Cypher for the earlier of two optional ISO strings (NULL means unknown)."""
    return (f"CASE WHEN {new} IS NULL THEN {prop} WHEN {prop} IS NULL OR {new} < {prop} "
            f"THEN {new} ELSE {prop} END")


def latest(prop: str, new: str) -> str:
    return (f"CASE WHEN {new} IS NULL THEN {prop} WHEN {prop} IS NULL OR {new} > {prop} "
            f"THEN {new} ELSE {prop} END")


def widen(var: str) -> str:
    return (f"{var}.first_seen = {earliest(f'{var}.first_seen', 'r.first_seen')}, "
            f"{var}.last_seen = {latest(f'{var}.last_seen', 'r.last_seen')}")


WINDOW = "($since IS NULL OR {v}.last_seen >= $since) AND ($as_of IS NULL OR {v}.first_seen <= $as_of)"
# Each pattern starts at the given ids: some Bolt servers match in the order written.
DATASET_STEP = {
    DOWNSTREAM: "UNWIND $ids AS i MATCH (s:Dataset {id: i})-[e:INPUT_TO]->(o:Operation)-[:PRODUCES]->(t:Dataset)",
    "upstream": "UNWIND $ids AS i MATCH (t:Dataset {id: i})<-[:PRODUCES]-(o:Operation)<-[e:INPUT_TO]-(s:Dataset)",
}
COLUMN_STEP = {
    DOWNSTREAM: "UNWIND $ids AS i MATCH (s:Column {id: i})-[e:FEEDS]->(t:Column)",
    "upstream": "UNWIND $ids AS i MATCH (t:Column {id: i})<-[e:FEEDS]-(s:Column)",
}
RETURN_EDGE = " RETURN s.id AS s, t.id AS t, {op} AS o, e.type AS k, {w}.first_seen AS f, {w}.last_seen AS l"


def reach_query(label: str, direction: str, depth: int) -> str:
    """Cypher for (node id, shortest distance) of everything within ``depth`` steps of ``$ids``.

    Variable-length bounds cannot be parameters in Cypher; ``depth`` is an int.
    """
    arrow = ("-[{}]->", "<-[{}]-")[direction != DOWNSTREAM]
    if label == "Column":
        hops = arrow.format(f":FEEDS*1..{depth}")
        keep = "all(e IN relationships(p) WHERE ($types IS NULL OR e.type IN $types) AND " + WINDOW.format(v="e") + ")"
        far = "length(p)"
    else:  # a dataset step is two hops: INPUT_TO an operation, which PRODUCES the next dataset
        hops = arrow.format(f":INPUT_TO|PRODUCES*2..{2 * depth}")
        keep = ("all(e IN relationships(p) WHERE type(e) = 'PRODUCES' OR $direct IS NULL OR e.type = $direct) "
                "AND all(x IN nodes(p) WHERE NOT x:Operation OR (" + WINDOW.format(v="x") + "))")
        far = "length(p) / 2"
    return (f"UNWIND $ids AS i MATCH p = (:{label} {{id: i}}){hops}(n:{label}) WHERE {keep} "
            f"RETURN n.id AS id, min({far}) AS far")


class Neo4jStore(Neo4jExplore, Neo4jTags, Neo4jModels):
    """The ``Store`` on a Neo4j 5 (or Bolt compatible) server."""

    def __init__(self, url: str, timeout: float = 10.0, retry_seconds: float = 60.0,
                 walk_seconds: float = WALK_SECONDS, read_only: bool = False) -> None:
        self.url, self.retry_seconds, self.walk_seconds, self.connected = url, retry_seconds, walk_seconds, False
        self.read_only = read_only
        # Datasets and operations (with their windows) this process committed: see ``Known``.
        self.known = Known("datasets", "operations")
        try:
            uri, auth, self.database = driver_target(url)
        except ValueError as e:  # a bad port
            raise ConfigError(f"store URL {url!r} is malformed: {e}") from e
        try:
            self.driver = neo4j.GraphDatabase.driver(
                uri, auth=auth, connection_timeout=timeout, max_transaction_retry_time=retry_seconds,
                connection_acquisition_timeout=timeout + 5)
        except (DriverError, Neo4jError, ValueError) as e:  # a malformed URL
            raise StoreError(f"store {safe_url(url)}: {one_line(e)}") from e
        try:
            self._check()
            self._prepare()
        except StoreError:
            self.driver.close()
            raise

    def close(self) -> None:
        self.driver.close()

    def __repr__(self) -> str:
        return f"Neo4jStore({safe_url(self.url)!r})"

    # -- sessions and errors ------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (Neo4jError, DriverError) as e:
            raise translate(e, self.url) from e

    def _check(self) -> None:
        """Fail at once, and clearly, when the server is down or refuses us."""
        with self._errors(), self.driver.session(database=self.database) as session:
            session.run("RETURN 1 AS one").consume()
        self.connected = True

    def _session(self, method: str, work: Callable[[Tx], Any]) -> Any:
        """A managed transaction: the driver retries lost connections and transient errors
        with back-off; a server coming back up (refusing a login that worked, or not yet
        serving the database) is retried here, within the same ``retry_seconds``."""
        deadline, delay = time.monotonic() + self.retry_seconds, 0.1
        while True:
            try:
                with self._errors(), self.driver.session(database=self.database) as session:
                    return getattr(session, method)(work)
            except StoreError as e:
                again = conflict(e.__cause__) or (self.connected and restarting(e.__cause__))
                if not again or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 8.0)

    def _write(self, work: Callable[[Tx], Any]) -> Any:
        return self._session("execute_write", work)

    def _read(self, query: str, timeout: float | None = None, **params: Any) -> list[list[Any]]:
        """Rows of a read query; ``timeout`` (seconds) asks the server to give up on it."""
        @neo4j.unit_of_work(timeout=timeout)
        def work(tx: Tx) -> list[list[Any]]:
            return [list(r.values()) for r in tx.run(query, params)]
        return self._session("execute_read", work)

    def operation_rows(self, since: str | None = None) -> list[Any]:
        """Every operation last seen at or after ``since``, whole (``rows.OperationRow``: an export)."""
        from .rows import graph_operation_rows
        return graph_operation_rows(self._read, since)

    def _read_chunked(self, query: str, ids: Collection[str], **params: Any) -> list[list[Any]]:
        return [row for part in chunks(sorted(set(ids)), ROWS) for row in self._read(query, ids=part, **params)]

    def _prepare(self) -> None:
        """Unique ids and lookup indexes (Neo4j 5 syntax); refuse a schema this harvester cannot use.
        A reader only checks: older graphs are read as they are (they gain properties as written)."""
        if not self.read_only:
            for label in LABELS:
                self._schema(f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS FOR (n:{label}) "
                             f"REQUIRE n.id IS UNIQUE")
            for label, prop in INDEXES:
                self._schema(f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})")
        found = self._read("MATCH (v:SchemaVersion {id: 'schema'}) RETURN v.version")
        version = found[0][0] if found else None
        check_version(self.url, version, SCHEMA_VERSION, 1, self.read_only, reads_older=True)
        if not self.read_only and version is not None and version < 4:
            self._write(lambda tx: upgrade_models(self, tx))
            self._write(self.label_models)
        if not self.read_only:
            self._write(self.relabel_models)
        if not self.read_only and (version is None or version < SCHEMA_VERSION):
            self._write(lambda tx: tx.run("MERGE (v:SchemaVersion {id: 'schema'}) SET v.version = $v",
                                          v=SCHEMA_VERSION).consume())

    def _schema(self, statement: str) -> None:
        with self._errors(), self.driver.session(database=self.database) as session:
            try:
                session.run(statement).consume()
            except ClientError as e:  # another harvester created it a moment ago
                if "EquivalentSchemaRule" not in str(e.code) and "AlreadyExists" not in str(e.code):
                    raise

    # -- writing ------------------------------------------------------------------
    def write_batch(self, batch: Batch) -> None:
        bad = [f.fingerprint for f in batch.failures if f.reason is None]
        if bad:
            raise StoreError(f"store {safe_url(self.url)}: parse failure {bad[0]} has no reason; nothing written")
        try:
            self._write(lambda tx: self._write_all(tx, batch))
        except BaseException:
            self.known.rollback()
            raise
        self.known.commit()
        if any(self._ml_labels):  # in a transaction of their own: see Neo4jModels.label_models
            self._write(self.label_models)

    def _write_all(self, tx: Tx, batch: Batch) -> None:
        self.known.begin()  # the driver may run a transaction again: what an attempt added is its own
        self._ml_labels = (set(), set())
        if batch.check and batch.source is not None:
            # Writing the source's node first takes its write lock until commit: two harvests of
            # one source take turns, and the second sees the first's cursor.
            stored = tx.run("MERGE (s:HarvestSource {id: $source}) SET s.claimed_at = $at RETURN s.cursor AS c",
                            source=batch.source, at=now()).single()["c"]
            if stored != batch.previous:
                raise CursorMovedError(f"the cursor of {safe_url(batch.source)} moved from {batch.previous!r} to "
                                       f"{stored!r}: another harvest of it committed")
        # A batch written before (its key is known) adds nothing again; the cursor still moves to it.
        seen = batch.key is not None and tx.run("MATCH (b:Batch {id: $key}) RETURN count(b) AS n",
                                                key=batch.key).single()["n"]
        if not seen:
            if batch.key is not None:
                tx.run("CREATE (:Batch {id: $key, written_at: $at})", key=batch.key, at=now()).consume()
            self._write_operations(tx, batch.operations)
            self._write_usage(tx, batch)
            self._write_failures(tx, batch)
            unwind(tx, "MERGE (s:StatementCache {id: r.id}) SET s.lineage = r.lineage",
                   [{"id": k, "lineage": v} for k, v in sorted(batch.cache.items())])
            unwind(tx, "MERGE (c:Counter {id: r.id}) ON CREATE SET c.value = r.value "
                       "ON MATCH SET c.value = c.value + r.value",
                   [{"id": k, "value": v} for k, v in sorted(batch.counters.items())])
        if batch.source is not None:
            tx.run("MERGE (s:HarvestSource {id: $source}) SET s.cursor = $cursor, s.updated_at = $at",
                   source=batch.source, cursor=batch.cursor, at=now()).consume()
            ids = {k: f"{batch.source}\x1f{k}" for k in batch.sessions}
            unwind(tx, "MATCH (s:Session {id: r.id}) DELETE s",
                   [{"id": ids[k]} for k, v in sorted(batch.sessions.items()) if v is None])
            unwind(tx, "MERGE (s:Session {id: r.id}) SET s.source = r.source, s.session = r.session, s.state = r.state",
                   [{"id": ids[k], "source": batch.source, "session": k, "state": v}
                    for k, v in sorted(batch.sessions.items()) if v is not None])

    def _datasets(self, tx: Tx, refs: dict[tuple[str, str], str]) -> None:
        """Create the (namespace, name) datasets not yet known; refs maps them to their type."""
        rows = sorted(({"id": f"{ns}/{name}", "namespace": ns, "name": name, "short": short_name(name),
                        "type": kind} for (ns, name), kind in refs.items()
                       if kind != PLAIN or self.known.get("datasets", f"{ns}/{name}") is None), key=lambda r: r["id"])
        unwind(tx, "MERGE (d:Dataset {id: r.id}) ON CREATE SET d.namespace = r.namespace, d.name = r.name, "
                   "d.short = r.short, d.type = r.type "
                   "ON MATCH SET d.type = CASE WHEN d.type = 'table' THEN r.type ELSE d.type END", rows)
        for row in rows:
            self.known.put("datasets", row["id"], True)

    def _write_operations(self, tx: Tx, ran: Sequence[Operation]) -> None:
        if not ran:
            return
        merged = merge_runs(ran)
        # The operations stored already, with their windows: those this process committed are known
        # without asking. A stored operation has all its lineage (its id says what it is).
        before, unknown = self.known.split("operations", (m.op.id for m in merged))
        before.update({r["id"]: (r["f"], r["l"]) for part in chunks(unknown, ROWS) for r in tx.run(
            "UNWIND $ids AS i MATCH (o:Operation {id: i}) RETURN o.id AS id, o.first_seen AS f, o.last_seen AS l",
            ids=part)})
        new = [merged_operation(m) for m in merged if m.op.id not in before]
        self._datasets(tx, dataset_types(new))  # a stored operation's datasets are stored with it
        unwind(tx, "MERGE (o:Operation {id: r.id}) ON CREATE SET o.type = r.type, o.fingerprint = r.fingerprint, "
                   "o.sql = r.sql, o.namespace = r.namespace, o.first_seen = r.first_seen, "
                   "o.last_seen = r.last_seen, o.executions = r.executions, o.time_basis = r.time_basis "
                   f"ON MATCH SET {widen('o')}, o.executions = o.executions + r.executions, "
                   "o.time_basis = CASE WHEN coalesce(o.time_basis, 'execution') = r.time_basis "
                   "THEN r.time_basis ELSE 'mixed' END, "
                   "o.sql = coalesce(r.sql, o.sql)",
               [{"id": m.op.id, "type": m.op.type, "fingerprint": m.op.fingerprint, "sql": m.op.sql,
                 "namespace": m.op.namespace, "first_seen": m.first_seen, "last_seen": m.last_seen,
                 "executions": m.executions, "time_basis": m.time_basis} for m in merged])
        self._link_new(tx, new)
        self._write_ml(tx, [merged_operation(m) for m in merged], new, ran)
        # A known operation's edges only see their window widen: one statement, many parameter sets.
        # Its edges were seen exactly when it was, so they hold at least the window known for it.
        widened = set()
        for m in merged:
            old = before.get(m.op.id)
            if old is None:
                self.known.put("operations", m.op.id, (m.first_seen, m.last_seen))
                continue
            first, last = earlier(old[0], m.first_seen), later(old[1], m.last_seen)
            if (first, last) != old:
                widened |= {(column_id(dataset_id(m.op.namespace, dst.dataset), dst.column), m.op.id, m.first_seen,
                             m.last_seen) for dst in edge_targets(m.op)}
                self.known.put("operations", m.op.id, (first, last))
        unwind(tx, "MATCH (:Column {id: r.target})<-[e:FEEDS]-(:Column) WHERE e.operation = r.operation "
                   f"SET {widen('e')}", sorted(widened),
               lambda row: dict(zip(("target", "operation", "first_seen", "last_seen"), row)))
        self._link_people(tx, ran)

    def _link_new(self, tx: Tx, ops: list[Operation]) -> None:
        """INPUT_TO, PRODUCES, columns and column edges of operations the store has not seen."""
        inputs, outputs, cols, edges = [], [], {}, []
        for op in ops:
            ds = (lambda name, ns=op.namespace: dataset_id(ns, name))
            inputs += [{"d": ds(r.name), "o": op.id, "type": t} for r, t in input_types(op)]
            outputs += [{"d": ds(r.name), "o": op.id} for r in op.outputs]
            for c in op.columns:  # every written column is a node, with a source or not
                if c.target.dataset:
                    cols[column_id(ds(c.target.dataset), c.target.column)] = (ds(c.target.dataset), c.target, op.namespace)
            masked = masked_edges(op)
            for src, dst, kind in column_edge_refs(op):
                s, t = column_id(ds(src.dataset), src.column), column_id(ds(dst.dataset), dst.column)
                cols[s], cols[t] = (ds(src.dataset), src, op.namespace), (ds(dst.dataset), dst, op.namespace)
                edges.append({"s": s, "t": t, "o": op.id, "type": kind, "f": op.first_seen, "l": op.last_seen,
                              "m": kind in DIRECT_TYPES and (src, dst) in masked})
        unwind(tx, "MATCH (d:Dataset {id: r.d}) MATCH (o:Operation {id: r.o}) "
                   "MERGE (o)<-[e:INPUT_TO]-(d) ON CREATE SET e.type = r.type", inputs)
        unwind(tx, "MATCH (o:Operation {id: r.o}) MATCH (d:Dataset {id: r.d}) MERGE (o)-[:PRODUCES]->(d)", outputs)
        unwind(tx, "MATCH (d:Dataset {id: r.d}) MERGE (c:Column {id: r.id}) ON CREATE SET c.name = r.name, "
                   "c.dataset = r.d, c.dshort = r.dshort MERGE (c)<-[:HAS_COLUMN]-(d)",
               [{"id": cid, "d": did, "name": ref.column, "dshort": short_name(place(ns, ref.dataset)[1])}
                for cid, (did, ref, ns) in sorted(cols.items())])
        unwind(tx, "MATCH (s:Column {id: r.s}) MATCH (t:Column {id: r.t}) "
                   "MERGE (s)-[e:FEEDS {operation: r.o, type: r.type}]->(t) "
                   "ON CREATE SET e.first_seen = r.f, e.last_seen = r.l, e.masked = r.m",
               sorted(edges, key=lambda r: (r["s"], r["t"], r["o"], r["type"])))

    def _link_people(self, tx: Tx, ran: Sequence[Operation]) -> None:
        """PERFORMED and HOSTED: every user and system that ran an operation, each with its own runs.
        Each relationship is merged from its operation's side: a user or system has thousands of
        them, an operation few, and some Bolt servers look for it from the node written first."""
        for label, rel, who in (("User", "PERFORMED", "user"), ("System", "HOSTED", "system")):
            unwind(tx, f"MERGE (n:{label} {{id: r.name}}) ON CREATE SET n.name = r.name WITH n, r "
                       f"MATCH (o:Operation {{id: r.o}}) MERGE (o)<-[p:{rel}]-(n) "
                       "ON CREATE SET p.first_seen = r.first_seen, p.last_seen = r.last_seen, p.executions = r.n "
                       f"ON MATCH SET {widen('p')}, p.executions = coalesce(p.executions, 0) + r.n",
                   [{"name": r.name, "o": r.operation, "first_seen": r.first_seen, "last_seen": r.last_seen,
                     "n": r.executions} for r in runs(ran, who)])

    def _write_usage(self, tx: Tx, batch: Batch) -> None:
        if not batch.usage:
            return
        self._datasets(tx, {place(u.namespace, u.dataset): "table" for u in batch.usage})
        merged: dict[tuple[str, str, str], int] = {}
        for u in batch.usage:
            k = (dataset_id(u.namespace, u.dataset), u.user or "", u.day)
            merged[k] = merged.get(k, 0) + u.count
        unwind(tx, "MERGE (u:Usage {id: r.id}) ON CREATE SET u.dataset = r.d, u.user = r.user, u.day = r.day, "
                   "u.count = r.n ON MATCH SET u.count = u.count + r.n",
               [{"id": "\x1f".join(k), "d": k[0], "user": k[1], "day": k[2], "n": n}
                for k, n in sorted(merged.items())])

    def _write_failures(self, tx: Tx, batch: Batch) -> None:
        merged: dict[str, dict[str, Any]] = {}
        for f in batch.failures:
            key = f"{f.fingerprint}\x1f{f.dialect or ''}"
            row: dict[str, Any] = {"id": key, "fingerprint": f.fingerprint,
                   "dialect": f.dialect or "", "reason": f.reason, "sql": f.sql, "executions": f.executions,
                   "first_seen": f.first_seen, "last_seen": f.last_seen}
            old = merged.get(key)
            if old:
                row["executions"] += old["executions"]
                row["first_seen"] = min(filter(None, (old["first_seen"], f.first_seen)), default=None)
                row["last_seen"] = max(filter(None, (old["last_seen"], f.last_seen)), default=None)
            merged[key] = row
        unwind(tx, "MERGE (f:ParseFailure {id: r.id}) ON CREATE SET f.fingerprint = r.fingerprint, "
                   "f.dialect = r.dialect, f.reason = r.reason, f.sql = r.sql, f.executions = r.executions, "
                   "f.first_seen = r.first_seen, f.last_seen = r.last_seen "
                   f"ON MATCH SET {widen('f')}, f.reason = r.reason, f.sql = r.sql, "
                   "f.executions = f.executions + r.executions",
               [merged[k] for k in sorted(merged)])

    # -- reading ------------------------------------------------------------------
    def cursor(self, source: str) -> str | None:
        rows = self._read("MATCH (s:HarvestSource {id: $source}) RETURN s.cursor", source=source)
        return rows[0][0] if rows else None

    def harvested_sources(self) -> list[tuple[str, str | None, str | None]]:
        """Every source harvested into the store: (name, cursor, when it last advanced)."""
        rows = self._read("MATCH (s:HarvestSource) RETURN s.id, s.cursor, s.updated_at ORDER BY s.id")
        return [(name, cursor, at) for name, cursor, at in rows]

    def sessions(self, source: str) -> dict[str, str]:
        return dict(self._read("MATCH (s:Session {source: $source}) RETURN s.session, s.state", source=source))

    def cache_get(self, keys: Collection[str]) -> dict[str, str]:
        return {k: v for k, v in self._read_chunked(
            "UNWIND $ids AS i MATCH (s:StatementCache {id: i}) RETURN s.id, s.lineage", keys)}

    def resolve(self, name: str) -> list[LineageNode]:
        want = name.strip().lower()
        parts = want.split(".")
        found = [key_of("Dataset", i) for i, full in self._read(
            "MATCH (d:Dataset {short: $short}) RETURN d.id, d.name", short=parts[-1]) if suffix_match(full, want)]
        if len(parts) > 1:
            rows = self._read("MATCH (c:Column {dshort: $table}) WHERE toLower(c.name) = $column "
                              "MATCH (d:Dataset {id: c.dataset}) RETURN c.id, d.name, c.name",
                              table=parts[-2], column=parts[-1])
        else:
            rows = self._read("UNWIND $names AS n MATCH (c:Column {name: n}) MATCH (d:Dataset {id: c.dataset}) "
                              "RETURN c.id, d.name, c.name", names=spellings(name))
        found += [key_of("Column", i) for i, ds, col in rows if suffix_match(f"{ds}.{col}", want)]
        return by_name(self.describe(found).values())

    def neighbors(self, keys: Collection[str], direction: str, *, direct_only: bool = False,
                  since: str | None = None, as_of: str | None = None) -> list[LineageEdge]:
        dataset_ids, column_ids = split_keys(keys)
        params = {"since": since, "as_of": as_of, "direct": DIRECT if direct_only else None,
                  "types": list(DIRECT_TYPES) if direct_only else None}
        datasets = (DATASET_STEP[direction] + " WHERE ($direct IS NULL OR e.type = $direct) AND "
                    + WINDOW.format(v="o") + RETURN_EDGE.format(op="o.id", w="o"))
        columns = (COLUMN_STEP[direction] + " WHERE ($types IS NULL OR e.type IN $types) AND "
                   + WINDOW.format(v="e") + RETURN_EDGE.format(op="e.operation", w="e")
                   + ", coalesce(e.masked, false) AS m")
        return ([LineageEdge(key_of("Dataset", s), key_of("Dataset", t), o, k, f, la)
                 for s, t, o, k, f, la in self._read_chunked(datasets, dataset_ids, **params)]
                + [LineageEdge(key_of("Column", s), key_of("Column", t), o, k, f, la, bool(m))
                   for s, t, o, k, f, la, m in self._read_chunked(columns, column_ids, **params)])

    def walk(self, roots: Collection[str], direction: str, depth: int | None = None, direct_only: bool = False,
             since: str | None = None, as_of: str | None = None,
             stop: str | None = None) -> tuple[dict[str, int], list[LineageEdge]]:
        """``queries.walk`` answered in Cypher: every node's shortest distance within ``depth``
        from one variable-length path query, then the edges out of the nodes short of the edge
        (one ``neighbors`` step). A variable-length pattern enumerates paths, not nodes, so on
        a dense graph it can cost far more than a breadth-first walk: an unbounded walk, or one
        the server has not answered within ``WALK_SECONDS``, goes level by level instead
        (``queries.walk_levels``, one Cypher query a level). Same answer either way.
        ``since`` / ``as_of`` come as ``queries.walk`` gives them: in the form the store keeps times."""
        from ..queries import edge_order, walk_levels

        levels = lambda: walk_levels(self, roots, direction, depth, direct_only, since, as_of, stop)  # noqa: E731
        if depth is None:
            return levels()
        found = {key: 0 for key in roots}
        dataset_ids, column_ids = split_keys(roots)
        params = {"since": since, "as_of": as_of, "direct": DIRECT if direct_only else None,
                  "types": list(DIRECT_TYPES) if direct_only else None}
        for label, ids in (("Dataset", dataset_ids), ("Column", column_ids)):
            if ids and depth > 0:
                try:
                    rows = self._read(reach_query(label, direction, int(depth)), timeout=self.walk_seconds,
                                      ids=ids, **params)
                except StoreError as e:
                    if not timed_out(e.__cause__):
                        raise
                    return levels()
                for ident, far in rows:
                    key = key_of(label, ident)
                    found[key] = min(found.get(key, far), far)
        limit = min(found.get(stop, depth), depth) if stop is not None else depth
        found = {k: d for k, d in found.items() if d <= limit}
        inner = [k for k, d in found.items() if d < limit]
        step = self.neighbors(inner, direction, direct_only=direct_only, since=since, as_of=as_of)
        return found, sorted(set(step), key=edge_order)

    def describe(self, keys: Collection[str]) -> dict[str, LineageNode]:
        dataset_ids, column_ids = split_keys(keys)
        out = {key_of("Dataset", i): LineageNode(key_of("Dataset", i), name, "dataset", ns, kind)
               for i, ns, name, kind in self._read_chunked(
                   "UNWIND $ids AS i MATCH (d:Dataset {id: i}) RETURN d.id, d.namespace, d.name, d.type",
                   dataset_ids)}
        out.update({key_of("Column", i): LineageNode(key_of("Column", i), f"{name}.{col}", "column", ns, kind)
                    for i, ns, name, col, kind in self._read_chunked(
                        "UNWIND $ids AS i MATCH (c:Column {id: i}) MATCH (d:Dataset {id: c.dataset}) "
                        "RETURN c.id, d.namespace, d.name, c.name, d.type", column_ids)})
        return out

    def operations(self, ids: Collection[str], since: str | None = None,
                   as_of: str | None = None) -> dict[str, OperationInfo]:
        users: dict[str, list[str]] = {}
        systems: dict[str, list[str]] = {}
        window = WINDOW.format(v="p")
        for i, name in self._read_chunked("UNWIND $ids AS i MATCH (o:Operation {id: i})<-[p:PERFORMED]-(u:User) "
                                          f"WHERE {window} RETURN o.id, u.name", ids, since=since, as_of=as_of):
            users.setdefault(i, []).append(name)
        for i, name in self._read_chunked("UNWIND $ids AS i MATCH (o:Operation {id: i})<-[p:HOSTED]-(s:System) "
                                          f"WHERE {window} RETURN o.id, s.name", ids, since=since, as_of=as_of):
            systems.setdefault(i, []).append(name)
        return {key: OperationInfo(key, kind, tuple(sorted(users.get(key, ()))), tuple(sorted(systems.get(key, ()))),
                                   first, last, runs, basis or "execution")
                for key, kind, first, last, runs, basis in self._read_chunked(
                    "UNWIND $ids AS i MATCH (o:Operation {id: i}) "
                    "RETURN o.id, o.type, o.first_seen, o.last_seen, o.executions, o.time_basis", ids)}

    # -- aging (retire.py) --------------------------------------------------------
    def setting(self, name: str) -> str | None:
        rows = self._read("MATCH (s:Setting {id: $name}) RETURN s.value", name=name)
        return rows[0][0] if rows else None

    def set_setting(self, name: str, value: str) -> None:
        self._write(lambda tx: tx.run("MERGE (s:Setting {id: $name}) SET s.value = $value",
                                      name=name, value=value).consume())

    def newest_seen(self) -> str | None:
        """The newest time any operation was seen: where retirement is measured back from."""
        rows = self._read("MATCH (o:Operation) RETURN max(o.last_seen)")
        return rows[0][0] if rows else None

    def aged(self, before: str) -> tuple[int, int, int]:
        """(operations, dataset edges, column edges) of operations last seen before ``before``."""
        ids = [r[0] for r in self._read("MATCH (o:Operation) WHERE o.last_seen < $before RETURN o.id", before=before)]
        if not ids:
            return 0, 0, 0
        tables = [*self._read_chunked("UNWIND $ids AS i MATCH (:Operation {id: i})-[r:PRODUCES]->() "
                                      "RETURN count(r)", ids),
                  *self._read_chunked("UNWIND $ids AS i MATCH ()-[r:INPUT_TO]->(:Operation {id: i}) "
                                      "RETURN count(r)", ids)]
        columns = self._read_chunked("UNWIND $ids AS i MATCH ()-[e:FEEDS {operation: i}]->() RETURN count(e)", ids)
        return len(ids), sum(int(r[0]) for r in tables), sum(int(r[0]) for r in columns)

    def prune(self, before: str) -> tuple[int, int, int]:
        """Delete the operations last seen before ``before`` with their edges; datasets and columns stay."""
        removed = self.aged(before)
        ids = [r[0] for r in self._read("MATCH (o:Operation) WHERE o.last_seen < $before RETURN o.id", before=before)]

        def work(tx: Tx) -> None:
            for part in chunks(ids, ROWS):
                tx.run("UNWIND $ids AS i MATCH ()-[e:FEEDS {operation: i}]->() DELETE e", ids=part).consume()
                self.prune_models(tx, part)
                tx.run("UNWIND $ids AS i MATCH (o:Operation {id: i}) DETACH DELETE o", ids=part).consume()
        self._write(work)
        return removed

    def failures(self, limit: int | None = None) -> list[ParseFailure]:
        """The statements that did not parse, most executions first (``limit``: only the first)."""
        rows = self._read("MATCH (f:ParseFailure) RETURN f.fingerprint, f.dialect, f.reason, f.sql, f.executions, "
                          "f.first_seen, f.last_seen ORDER BY f.executions DESC, f.fingerprint"
                          + (" LIMIT $limit" if limit is not None else ""), limit=limit)
        return [ParseFailure(fp, d or None, r, q, int(n), a, b) for fp, d, r, q, n, a, b in rows]

    def column_sources(self) -> list[tuple[str, str, str, int, int]]:
        """Every column: (namespace, dataset, column, direct edges into it, edges out of it)."""
        into: dict[tuple[str, str, str], int] = {}
        out: dict[tuple[str, str, str], int] = {}
        for sns, sd, sc, tns, td, tc, kind in self._read(
                "MATCH (sd:Dataset)-[:HAS_COLUMN]->(s:Column)-[e:FEEDS]->(t:Column)<-[:HAS_COLUMN]-(td:Dataset) "
                "RETURN sd.namespace, sd.name, s.name, td.namespace, td.name, t.name, e.type"):
            out[(sns, sd, sc)] = out.get((sns, sd, sc), 0) + 1
            if kind in DIRECT_TYPES:
                into[(tns, td, tc)] = into.get((tns, td, tc), 0) + 1
        rows = self._read("MATCH (d:Dataset)-[:HAS_COLUMN]->(c:Column) RETURN d.namespace, d.name, c.name")
        return sorted((ns, ds, col, into.get((ns, ds, col), 0), out.get((ns, ds, col), 0)) for ns, ds, col in rows)

    def stats(self) -> StoreStats:
        nodes = (("datasets", "Dataset"), ("columns", "Column"), ("operations", "Operation"), ("users", "User"),
                 ("systems", "System"))
        edges = (("input_to", "INPUT_TO"), ("produces", "PRODUCES"), ("column_edges", "FEEDS"))
        more = (("usage", "Usage"), ("parse_failures", "ParseFailure"), ("statement_cache", "StatementCache"),
                ("models", "Model"), ("predictions", "Prediction"))
        count = {name: self._read(f"MATCH (n:{label}) RETURN count(n)")[0][0] for name, label in nodes + more}
        count.update({name: self._read(f"MATCH ()-[r:{kind}]->() RETURN count(r)")[0][0] for name, kind in edges})
        order = [name for name, _ in nodes + edges + more]
        kept = self._read("MATCH (c:Counter) RETURN c.id, c.value ORDER BY c.id")
        reasons = self._read("MATCH (f:ParseFailure) WITH f.reason AS reason, sum(f.executions) AS n "
                             "RETURN reason, n ORDER BY n DESC, reason LIMIT 10")
        return StoreStats(tuple((name, int(count[name])) for name in order),
                          tuple((k, int(v)) for k, v in kept), tuple((r, int(n)) for r, n in reasons))


def edge_targets(op: Operation) -> set[Any]:
    """The columns an operation's column edges go into (``column_edge_refs``' targets), without
    making the edges."""
    written = [c.target for c in op.columns if c.target.dataset]
    if any(i.source.dataset for i in op.indirect):
        return set(written)
    return {c.target for c in op.columns if c.target.dataset and (
        any(s.dataset for s in c.sources) or any(i.source.dataset for i in c.indirect))}


def unwind(tx: Tx, statement: str, rows: Iterable[Any], shape: Callable[[Any], dict[str, Any]] | None = None) -> None:
    """``UNWIND $rows AS r <statement>``, ``ROWS`` rows at a time."""
    for part in chunks(rows, ROWS):
        tx.run("UNWIND $rows AS r " + statement, rows=[shape(r) for r in part] if shape else part).consume()
