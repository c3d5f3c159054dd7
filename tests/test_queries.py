"""upstream / downstream / impact / path / stats, answered the same by every store.

The warehouse every test reads::

    raw.orders --o1 (FILTER status)--> stg.orders_clean --o2 (JOIN customer_id, ref.calendar)--> mart.revenue
    raw.customers ---------------------------------------o2--> mart.revenue --o3--> mart.dashboard
    raw.orders --o4 (2023)--> archive.orders;  other.orders is an unrelated table with an amount
"""

from __future__ import annotations

import json

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.model import AGGREGATION, TRANSFORMATION, ParseFailure
from sqllineage_harvester.queries import AmbiguousNameError, UnknownNameError
from sqllineage_harvester.render_graph import graph_dict, render_graph, stats_dict, stats_table
from sqllineage_harvester.stores import Batch

from conftest import make_op as op  # noqa: E402  (tests/ is on sys.path)

WAREHOUSE = (
    op("o1", "stg.orders_clean", ("raw.orders",),
       {"id": "raw.orders.id", "amount": "raw.orders.amount", "customer_id": "raw.orders.customer_id"},
       transforms={"amount": TRANSFORMATION}, indirect={"raw.orders.status": "FILTER"},
       user="etl", seen=("2024-01-01T02:00:00", "2024-01-10T02:00:00"), executions=10),
    op("o2", "mart.revenue", ("stg.orders_clean", "raw.customers", "ref.calendar"),
       {"region": "raw.customers.region", "total": "stg.orders_clean.amount"},
       transforms={"total": AGGREGATION},
       indirect={"stg.orders_clean.customer_id": "JOIN", "raw.customers.id": "JOIN", "ref.calendar.day": "JOIN"},
       user="analyst", seen=("2024-02-01T08:00:00", "2024-02-05T08:00:00")),
    op("o3", "mart.dashboard", ("mart.revenue",), {"total": "mart.revenue.total"},
       user="bob", seen=("2024-03-01T09:00:00", "2024-03-01T09:00:00")),
    op("o4", "archive.orders", ("raw.orders",), {"amount": "raw.orders.amount"},
       user="etl", seen=("2023-06-01T00:00:00", "2023-06-30T00:00:00")),
    op("o5", "other.orders", ("other.src",), {"amount": "other.src.amount"}, user="ann"),
)


@pytest.fixture
def warehouse(store):
    store.write_batch(Batch(operations=WAREHOUSE, counters={
        "rows:insert": 100, "extracted:insert": 95, "rows:select": 50, "extracted:select": 50}))
    return store


def depths(graph) -> dict[str, int]:
    return {n.node.name: n.depth for n in graph.nodes}


def test_column_downstream_gives_each_node_its_distance(warehouse):
    assert depths(queries.downstream(warehouse, "raw.orders.amount")) == {
        "raw.orders.amount": 0, "stg.orders_clean.amount": 1, "archive.orders.amount": 1,
        "mart.revenue.total": 2, "mart.dashboard.total": 3}


def test_depth_limits_the_walk(warehouse):
    assert depths(queries.downstream(warehouse, "raw.orders.amount", depth=1)) == {
        "raw.orders.amount": 0, "stg.orders_clean.amount": 1, "archive.orders.amount": 1}
    assert depths(queries.downstream(warehouse, "raw.orders.amount", depth=0)) == {"raw.orders.amount": 0}


def test_column_upstream_includes_join_and_filter_columns(warehouse):
    assert depths(queries.upstream(warehouse, "mart.revenue.total")) == {
        "mart.revenue.total": 0, "stg.orders_clean.amount": 1, "stg.orders_clean.customer_id": 1,
        "raw.customers.id": 1, "ref.calendar.day": 1,
        "raw.orders.amount": 2, "raw.orders.customer_id": 2, "raw.orders.status": 2}


def test_direct_only_leaves_out_join_and_filter_edges(warehouse):
    assert depths(queries.upstream(warehouse, "mart.revenue.total", direct_only=True)) == {
        "mart.revenue.total": 0, "stg.orders_clean.amount": 1, "raw.orders.amount": 2}
    assert depths(queries.downstream(warehouse, "raw.orders.status", direct_only=True)) == {"raw.orders.status": 0}


def test_filter_column_impacts_every_written_column(warehouse):
    graph = queries.downstream(warehouse, "raw.orders.status", depth=1)
    assert depths(graph) == {"raw.orders.status": 0, "stg.orders_clean.id": 1, "stg.orders_clean.amount": 1,
                             "stg.orders_clean.customer_id": 1}
    assert {e.type for e in graph.edges} == {"FILTER"}


def test_table_downstream_goes_through_operations(warehouse):
    assert depths(queries.downstream(warehouse, "raw.orders")) == {
        "raw.orders": 0, "stg.orders_clean": 1, "archive.orders": 1, "mart.revenue": 2, "mart.dashboard": 3}
    assert depths(queries.upstream(warehouse, "mart.revenue", depth=1)) == {
        "mart.revenue": 0, "stg.orders_clean": 1, "raw.customers": 1, "ref.calendar": 1}


def test_table_read_only_through_a_join_is_indirect(warehouse):
    assert depths(queries.downstream(warehouse, "ref.calendar")) == {
        "ref.calendar": 0, "mart.revenue": 1, "mart.dashboard": 2}
    assert depths(queries.downstream(warehouse, "ref.calendar", direct_only=True)) == {"ref.calendar": 0}
    assert depths(queries.upstream(warehouse, "mart.revenue", depth=1, direct_only=True)) == {
        "mart.revenue": 0, "stg.orders_clean": 1, "raw.customers": 1}


def test_since_keeps_lineage_last_seen_after_it(warehouse):
    assert depths(queries.downstream(warehouse, "raw.orders.amount", since="2024-01-05")) == {
        "raw.orders.amount": 0, "stg.orders_clean.amount": 1, "mart.revenue.total": 2, "mart.dashboard.total": 3}
    assert depths(queries.downstream(warehouse, "raw.orders.amount", since="2024-02-10")) == {"raw.orders.amount": 0}


def test_as_of_shows_lineage_as_it_was_then(warehouse):
    assert depths(queries.downstream(warehouse, "raw.orders.amount", as_of="2024-01-31")) == {
        "raw.orders.amount": 0, "stg.orders_clean.amount": 1, "archive.orders.amount": 1}
    # a bare date means the end of that day: o2 first ran at 08:00 on 2024-02-01
    assert "mart.revenue.total" in depths(queries.downstream(warehouse, "raw.orders.amount", as_of="2024-02-01"))
    assert depths(queries.downstream(warehouse, "raw.orders", since="2024-01-01", as_of="2024-02-28")) == {
        "raw.orders": 0, "stg.orders_clean": 1, "mart.revenue": 2}


def test_partial_names_resolve_when_unambiguous(warehouse):
    assert queries.find(warehouse, "orders_clean.amount").name == "stg.orders_clean.amount"
    assert queries.find(warehouse, "REVENUE.Total").name == "mart.revenue.total"
    assert queries.find(warehouse, "dashboard").kind == "dataset"
    assert queries.find(warehouse, "raw.orders").name == "raw.orders"


def test_ambiguous_names_list_their_candidates(warehouse):
    with pytest.raises(AmbiguousNameError) as caught:
        queries.downstream(warehouse, "orders.amount")
    assert [n.name for n in caught.value.candidates] == [
        "archive.orders.amount", "other.orders.amount", "raw.orders.amount"]
    assert "raw.orders.amount" in str(caught.value)
    with pytest.raises(AmbiguousNameError):
        queries.find(warehouse, "orders")


def test_unknown_names_are_a_usage_error(warehouse):
    with pytest.raises(UnknownNameError) as caught:
        queries.impact(warehouse, "nowhere.nothing")
    assert caught.value.exit_code == 2


def test_impact_names_operations_users_and_last_seen(warehouse):
    graph = queries.impact(warehouse, "raw.orders.amount")
    by_name = {n.node.name: n for n in graph.nodes}
    clean = by_name["stg.orders_clean.amount"]
    assert (clean.depth, clean.operations, clean.users, clean.last_seen) == (
        1, ("o1",), ("etl",), "2024-01-10T02:00:00")
    assert by_name["mart.dashboard.total"].users == ("bob",)
    ops = {o.id: o for o in graph.operations}
    assert set(ops) == {"o1", "o2", "o3", "o4"}
    assert (ops["o1"].executions, ops["o1"].users, ops["o1"].systems) == (10, ("etl",), ("warehouse",))


def test_cycles_end(store):
    store.write_batch(Batch(operations=(op("a", "s.t2", ("s.t1",), {"x": "s.t1.x"}),
                                        op("b", "s.t1", ("s.t2",), {"x": "s.t2.x"}))))
    assert depths(queries.downstream(store, "s.t1.x")) == {"s.t1.x": 0, "s.t2.x": 1}
    assert depths(queries.upstream(store, "s.t1")) == {"s.t1": 0, "s.t2": 1}


def test_path_gives_every_shortest_way(warehouse):
    graph = queries.path(warehouse, "raw.orders.amount", "mart.dashboard.total")
    assert depths(graph) == {"raw.orders.amount": 0, "stg.orders_clean.amount": 1,
                             "mart.revenue.total": 2, "mart.dashboard.total": 3}
    assert sorted(e.operation for e in graph.edges) == ["o1", "o2", "o3"]
    tables = queries.path(warehouse, "raw.orders", "dashboard")
    assert sorted(depths(tables)) == ["mart.dashboard", "mart.revenue", "raw.orders", "stg.orders_clean"]


def test_path_between_a_column_and_a_table_is_taken_at_table_level(warehouse):
    graph = queries.path(warehouse, "raw.customers.region", "mart.dashboard")
    assert depths(graph) == {"raw.customers": 0, "mart.revenue": 1, "mart.dashboard": 2}


def test_no_path_is_an_empty_answer(warehouse):
    graph = queries.path(warehouse, "mart.dashboard.total", "raw.orders.amount")
    assert graph.nodes == () and graph.edges == ()
    assert "no lineage" in render_graph(graph, "table")


def test_stats_counts_coverage_and_failure_reasons(warehouse):
    warehouse.write_batch(Batch(failures=tuple(
        ParseFailure(f"fp{i}", "postgres", reason, None, runs, None, None)
        for i, (reason, runs) in enumerate([("unsupported: COPY", 3), ("syntax error", 1), ("unsupported: COPY", 4)])),
        counters={"full:insert": 90}))
    stats = queries.stats(warehouse)
    counts = dict(stats.counts)
    assert counts["operations"] == 5 and counts["datasets"] == 9 and counts["parse_failures"] == 3
    assert stats.failures == (("unsupported: COPY", 7), ("syntax error", 1))
    cover = {c.kind: (c.rows, c.extracted, c.share) for c in stats.coverage}
    assert cover == {"insert": (100, 95, 0.95), "select": (50, 50, 1.0)}
    line = next(l for l in stats_table(stats).splitlines() if l.startswith("insert"))
    assert line.split() == ["insert", "100", "95", "90", "90.0%"]  # coverage: full column lineage, not parsed
    assert stats_dict(stats)["coverage"][0] == {"kind": "insert", "rows": 100, "extracted": 95, "share": 0.95,
                                                "full": 90, "full_share": 0.9}


def test_json_shape(warehouse):
    shape = json.loads(render_graph(queries.impact(warehouse, "revenue.total"), "json"))
    assert shape["root"] == "mart.revenue.total"
    assert shape["nodes"][1] == {
        "name": "mart.dashboard.total", "kind": "column", "depth": 1, "namespace": "postgres://warehouse:5432",
        "type": "table", "operations": ["o3"], "users": ["bob"], "last_seen": "2024-03-01T09:00:00"}
    assert shape["edges"] == [{"source": "mart.revenue.total", "target": "mart.dashboard.total", "operation": "o3",
                               "type": "IDENTITY", "first_seen": "2024-03-01T09:00:00",
                               "last_seen": "2024-03-01T09:00:00"}]
    assert graph_dict(queries.impact(warehouse, "revenue.total"))["operations"][0]["id"] == "o3"


def test_dot_mermaid_and_table_renderings(warehouse):
    graph = queries.upstream(warehouse, "mart.revenue.total", depth=1)
    dot = render_graph(graph, "dot")
    assert dot.startswith("digraph lineage {") and 'label="stg.orders_clean";' in dot
    assert "style=dashed" in dot  # the JOIN edges
    mermaid = render_graph(graph, "mermaid")
    assert mermaid.startswith("flowchart LR") and "-.->|JOIN|" in mermaid and "-->|AGGREGATION|" in mermaid
    table = render_graph(graph, "table").splitlines()
    assert table[0].startswith("upstream of mart.revenue.total (column)")
    assert table[1].split()[:3] == ["DEPTH", "EDGE", "NAME"]


def test_every_store_answers_a_harvested_log_identically(tmp_path, pg_cluster, bolt_server):
    """The fixture Snowflake backfill harvested into each store: every dataset's and column's
    upstream / impact JSON (names, levels, edges, operations, users, times) is the same."""
    from pathlib import Path

    from sqllineage_harvester.harvest import Options, harvest
    from sqllineage_harvester.sources import open_source
    from sqllineage_harvester.stores import open_store

    log = Path(__file__).resolve().parent.parent / "fixtures" / "logs" / "snowflake" / "query_history.csv"
    urls = [f"sqlite:///{tmp_path}/lineage.db", pg_cluster.create_database("lineage_same_answers"),
            bolt_server.create_database()]
    answers = []
    for url in urls:
        store = open_store(str(url))
        try:
            harvest(open_source(log, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://acme"))
            names = sorted({n.node.name for root in ("raw.orders", "raw.payments", "raw.customers", "raw.products")
                            for n in queries.downstream(store, root).nodes})
            names += sorted({n.name for word in ("amount", "customer_id", "Email", "raw.orders.id", "status")
                             for n in store.resolve(word)})
            assert len(names) > 15, names
            answers.append({name: [graph_dict(how(store, name, depth=depth))
                                   for how in (queries.upstream, queries.impact) for depth in (None, 2)]
                            for name in names})
        finally:
            store.close()
    for name in answers[0]:
        for other in answers[1:]:
            assert json.dumps(other[name], indent=1) == json.dumps(answers[0][name], indent=1), name
    assert answers[0].keys() == answers[1].keys() == answers[2].keys()
