"""What only the Neo4j store has: the graph as Cypher sees it, names that would break
string-built Cypher, login and connection faults, and a harvest that survives the
server going away. The shared contract runs in test_store.py and test_queries.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import Batch, open_store
from sqllineage_harvester.stores.neo4j import Neo4jStore, StoreUnavailableError

from boltserver import free_port  # noqa: E402  (tests/ is on sys.path)
from conftest import NAMESPACE, make_op as op  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SNOWFLAKE_LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
OPTIONS = Options(dialect="snowflake", namespace="snowflake://test", batch_size=150)
ORDERS = ("raw.orders",)
NASTY = "raw.o'brien\"; DROP"


@pytest.fixture
def url(bolt_server) -> str:
    return bolt_server.create_database()


@pytest.fixture
def store(url):
    opened = open_store(url)
    yield opened
    opened.close()


def cypher(store: Neo4jStore, query: str, **params) -> list[tuple]:
    with store.driver.session(database=store.database) as session:
        return [tuple(r.values()) for r in session.run(query, params)]


def snapshot(store: Neo4jStore) -> dict[str, list[tuple]]:
    """Everything a double count or a loss would change."""
    queries_ = {
        "operations": "MATCH (o:Operation) RETURN o.id, o.type, o.fingerprint, o.sql, o.first_seen, o.last_seen, "
                      "o.executions",
        "column_edges": "MATCH (s:Column)-[e:FEEDS]->(t:Column) RETURN s.id, t.id, e.operation, e.type, "
                        "e.first_seen, e.last_seen",
        "input_to": "MATCH (d:Dataset)-[e:INPUT_TO]->(o:Operation) RETURN d.id, o.id, e.type",
        "usage": "MATCH (u:Usage) RETURN u.id, u.count",
        "parse_failures": "MATCH (f:ParseFailure) RETURN f.id, f.reason, f.executions, f.first_seen, f.last_seen",
        "counters": "MATCH (c:Counter) RETURN c.id, c.value",
        "datasets": "MATCH (d:Dataset) RETURN d.id, d.type",
        "cursor": "MATCH (s:HarvestSource) RETURN s.id, s.cursor",
    }
    return {name: sorted(cypher(store, q), key=repr) for name, q in queries_.items()}


# -- the graph ----------------------------------------------------------------------
def test_the_graph_holds_the_operation_as_the_issue_draws_it(store):
    store.write_batch(Batch(operations=(
        op("o1", "stg.orders", ("raw.orders", "raw.customers"),
           {"id": "raw.orders.id", "total": ["raw.orders.amount", "raw.orders.tax"]},
           indirect={"raw.customers.id": "JOIN"}),)))
    assert sorted(cypher(store, "MATCH (d:Dataset)-[i:INPUT_TO]->(:Operation {id: 'o1'})-[:PRODUCES]->(t:Dataset) "
                                "RETURN d.name, i.type, t.name")) == [
        ("raw.customers", "JOIN", "stg.orders"), ("raw.orders", "DIRECT", "stg.orders")]
    assert cypher(store, "MATCH (u:User)-[:PERFORMED]->(:Operation)<-[:HOSTED]-(s:System) RETURN u.name, s.name") == [
        ("etl", "warehouse")]
    assert sorted(cypher(store, "MATCH (s:Column)-[e:FEEDS]->(t:Column {name: 'total'}) RETURN s.name, e.type, "
                                "e.operation")) == [("amount", "IDENTITY", "o1"), ("id", "JOIN", "o1"),
                                                    ("tax", "IDENTITY", "o1")]
    assert cypher(store, "MATCH (d:Dataset {name: 'raw.orders'})-[:HAS_COLUMN]->(c:Column) RETURN count(c)") == [(3,)]
    assert cypher(store, "MATCH (d:Dataset {name: 'raw.orders'}) RETURN d.id, d.namespace") == [
        (f"{NAMESPACE}/raw.orders", NAMESPACE)]
    assert cypher(store, "MATCH (v:SchemaVersion) RETURN v.version") == [(4,)]


def test_names_that_would_break_string_built_cypher_round_trip(store):
    store.write_batch(Batch(operations=(op("o'1\"", "mart.x", (NASTY,), {"a": f"{NASTY}.c'ol"}),),
                            source="s'; MATCH (n) DETACH DELETE n //", cursor="c\"'", cache={"k'\"": "v'\""}))
    assert [n.name for n in store.resolve(NASTY)] == [NASTY]
    graph = queries.downstream(store, f"{NASTY}.c'ol")
    assert [(n.node.name, n.depth) for n in graph.nodes] == [(f"{NASTY}.c'ol", 0), ("mart.x.a", 1)]
    assert [e.operation for e in graph.edges] == ["o'1\""]
    assert store.cursor("s'; MATCH (n) DETACH DELETE n //") == "c\"'"
    assert store.cache_get(["k'\""]) == {"k'\"": "v'\""}


def test_every_scheme_opens_the_store(bolt_server, url):
    for scheme in ("bolt", "neo4j"):
        s = open_store(url.replace("bolt://", f"{scheme}://", 1))
        assert isinstance(s, Neo4jStore) and s.cursor("x") is None
        s.close()


# -- faults ------------------------------------------------------------------------
def test_wrong_credentials_are_a_clear_error_without_the_password(bolt_server):
    with pytest.raises(StoreUnavailableError, match="login refused") as caught:
        open_store(bolt_server.url(password="not-the-password"))
    assert "not-the-password" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize("scheme", ["bolt", "neo4j"])  # neo4j://: the driver's routing warning is no second line
def test_server_down_at_start_is_one_line_and_exit_1(scheme):
    url = f"{scheme}://root:s3cret@127.0.0.1:{free_port()}/lineage"
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "stats", "--store", url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "unreachable" in done.stderr and "s3cret" not in done.stderr and "***" in done.stderr
    assert time.monotonic() - started < 30


def harvest_into(url: str, **store_options) -> object:
    store = Neo4jStore(url, **store_options)
    try:
        return harvest(open_source(SNOWFLAKE_LOG, "snowflake"), store, OPTIONS)
    finally:
        store.close()


@contextmanager
def finishing(done: threading.Event) -> Iterator[None]:
    try:
        yield
    finally:
        done.set()


def test_a_harvest_survives_the_server_going_away(bolt_server):
    """Stopped mid-harvest: a store that gives up fails, and the rerun resumes from the cursor;
    a store that keeps retrying rides the restart out. Either way nothing is lost or doubled."""
    clean, broken = bolt_server.create_database(), bolt_server.create_database()
    harvest_into(clean)
    writes, done = [], threading.Event()

    def stop_after(n: int, down: float) -> threading.Thread:
        def outage() -> None:
            while len(writes) < n:
                if done.is_set():
                    return
                time.sleep(0.01)
            bolt_server.stop()
            time.sleep(down)
            bolt_server.start()
        thread = threading.Thread(target=outage, daemon=True)
        thread.start()
        return thread

    counting = Neo4jStore.write_batch

    def write_batch(self, batch):
        counting(self, batch)
        writes.append(batch.key)

    with pytest.MonkeyPatch.context() as mp, finishing(done):
        mp.setattr(Neo4jStore, "write_batch", write_batch)
        outage = stop_after(3, down=4)
        with pytest.raises(StoreUnavailableError):
            harvest_into(broken, retry_seconds=1)
        outage.join(90)
        resumed_at = len(writes)
        outage = stop_after(resumed_at + 4, down=1)
        try:
            harvest_into(broken, retry_seconds=60)  # from the cursor on, riding out a second restart
        finally:
            done.set()
            outage.join(90)
        bolt_server.wait_ready(60)
    assert 3 <= resumed_at < len(writes)
    a, b = open_store(clean), open_store(broken)
    try:
        assert snapshot(b) == snapshot(a)
        assert b.stats() == a.stats()
    finally:
        a.close()
        b.close()


WALKS = [  # (root, direction, depth, direct_only, since, as_of, stop)
    ("raw.orders.amount", "downstream", 5, False, None, None, None),
    ("raw.orders.amount", "downstream", 1, False, None, None, None),
    ("raw.orders.amount", "downstream", 0, False, None, None, None),
    ("mart.revenue.total", "upstream", 4, False, None, None, None),
    ("mart.revenue.total", "upstream", 4, True, None, None, None),
    ("raw.orders.amount", "downstream", 6, False, "2024-01-05", None, None),
    ("raw.orders.amount", "downstream", 6, False, None, "2024-02-01", None),
    ("raw.orders", "downstream", 6, False, "2024-01-01", "2024-02-28", None),
    ("ref.calendar", "downstream", 3, True, None, None, None),
    ("mart.revenue", "upstream", 1, False, None, None, None),
    ("raw.orders.amount", "downstream", 9, False, None, None, "mart.revenue.total"),
    ("raw.orders", "downstream", 9, False, None, None, "mart.dashboard"),
]


@pytest.mark.parametrize("root,direction,depth,direct,since,as_of,stop", WALKS)
def test_cypher_walk_answers_as_the_level_by_level_walk(store, root, direction, depth, direct, since, as_of, stop):
    from test_queries import WAREHOUSE

    store.write_batch(Batch(operations=WAREHOUSE))
    start = queries.find(store, root).key
    goal = queries.find(store, stop).key if stop else None
    expected = queries.walk_levels(store, [start], direction, depth, direct, since, as_of, goal)
    assert store.walk([start], direction, depth, direct, since, as_of, goal) == expected


def test_a_walk_the_server_times_out_goes_level_by_level(store, monkeypatch):
    """Neo4j stops a transaction at its timeout (ArcadeDB ignores timeouts, so the server's
    answer is staged here): the walk then goes level by level, with the same result."""
    from neo4j.exceptions import Neo4jError
    from test_queries import WAREHOUSE

    store.write_batch(Batch(operations=WAREHOUSE))
    start = queries.find(store, "raw.orders.amount").key
    expected = queries.walk_levels(store, [start], "downstream", 6)
    real_read, asked = Neo4jStore._read, []

    def slow_read(self, query, timeout=None, **params):
        asked.append(timeout)
        if timeout is not None:
            with self._errors():  # as the driver's error leaves a session
                raise Neo4jError._hydrate_neo4j(code="Neo.ClientError.Transaction.TransactionTimedOut",
                                                message="The transaction has been terminated.")
        return real_read(self, query, **params)

    monkeypatch.setattr(Neo4jStore, "_read", slow_read)
    store.walk_seconds = 0.25
    assert store.walk([start], "downstream", 6) == expected
    assert 0.25 in asked


def test_the_readme_cypher_answers_on_a_harvested_log(url):
    """Each Cypher example in the README runs on Neo4j 5 syntax and finds lineage in the
    fixture Snowflake backfill."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```cypher\n", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in block.split(";") if s.strip()]
    assert len(statements) == 3
    harvest_into(url)
    store = Neo4jStore(url)
    try:
        answers = [cypher(store, "\n".join(line for line in s.splitlines() if not line.startswith("//")))
                   for s in statements]
    finally:
        store.close()
    reached = {(d.rsplit("/", 1)[1], col, level) for d, col, level in answers[0]}
    assert ("ANALYTICS.STAGING.STG_PAYMENTS", "AMOUNT_USD", 1) in reached
    assert ("ANALYTICS.MARTS.FCT_ORDERS", "PAID_USD", 2) in reached
    assert answers[1] and all(isinstance(col, str) for _, col in answers[1])
    assert answers[2] and all(inputs for _, inputs, _, _ in answers[2])
