"""upstream / downstream / impact / path as a person reads them: EDGE, readable VIA, direct rows
first, short names, the width of a terminal (the warehouse of test_queries, every store)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sqllineage_harvester import queries
from sqllineage_harvester.cli import main
from sqllineage_harvester.render_graph import graph_table, render_graph
from sqllineage_harvester.stores import Batch

from conftest import NAMESPACE, make_op as op
from test_queries import WAREHOUSE


@pytest.fixture
def warehouse(store):
    store.write_batch(Batch(operations=WAREHOUSE))
    return store


def rows(text: str) -> list[list[str]]:
    return [line.split("  ") for line in text.splitlines()]


def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("  ") if c.strip()]


def test_impact_rows_have_edge_kind_readable_via_and_no_hash(warehouse):
    text = graph_table(queries.impact(warehouse, "raw.orders.amount"), title="impact")
    lines = text.splitlines()
    assert lines[0] == f"impact of raw.orders.amount (column) in {NAMESPACE}"
    assert cells(lines[1]) == ["DEPTH", "EDGE", "NAME", "VIA", "LAST SEEN"]
    assert cells(lines[2]) == ["1", "IDENTITY", "archive.orders.amount", "INSERT INTO orders · etl ×1",
                               "2023-06-30 00:00"]
    assert cells(lines[3]) == ["1", "TRANSFORMATION", "stg.orders_clean.amount", "INSERT INTO orders_clean · etl ×10",
                               "2024-01-10 02:00"]
    assert "o1" not in text.split() and "KIND" not in text and "USERS" not in text


def test_direct_rows_come_first_and_indirect_ones_are_marked(warehouse):
    lines = graph_table(queries.upstream(warehouse, "mart.revenue.total", details=True)).splitlines()
    note = next(i for i, line in enumerate(lines) if line.startswith("reached only through JOIN"))
    direct = [cells(line)[2] for line in lines[2:note]]
    indirect = [cells(line)[2] for line in lines[note + 1:]]
    assert direct == ["stg.orders_clean.amount", "raw.orders.amount"]
    assert indirect[:3] == ["raw.customers.id", "ref.calendar.day", "stg.orders_clean.customer_id"]
    assert "raw.orders.status" in indirect and "raw.orders.customer_id" in indirect
    kinds = {cells(line)[2]: cells(line)[1] for line in lines[note + 1:]}
    assert kinds["raw.customers.id"] == "JOIN" and kinds["raw.orders.status"] == "FILTER"


def test_names_share_their_common_part_once_and_fit_the_width(store):
    long = "warehouse_production.analytics_reporting_layer"
    store.write_batch(Batch(operations=tuple(
        op(f"op{i}", f"{long}.table_number_{i}_with_a_long_name", (f"{long}.source_table",),
           {"a_rather_long_column_name_here": f"{long}.source_table.a_rather_long_column_name_here"},
           user="a_service_account_with_a_long_name")
        for i in range(5))))
    graph = queries.impact(store, "source_table.a_rather_long_column_name_here")
    fitted = graph_table(graph, width=80, title="impact").splitlines()
    assert fitted[0].endswith("names below are in warehouse_production")
    assert all(len(line) <= 80 for line in fitted[1:]) and any("…" in line for line in fitted)
    whole = graph_table(graph, title="impact")
    assert "…" not in whole and "INSERT INTO table_number_4_with_a_long_name · a_service_account_with_a_long_name ×1" \
        in whole and max(map(len, whole.splitlines()[1:])) > 80
    wide = graph_table(graph, wide=True)
    assert f"{long}.table_number_0_with_a_long_name.a_rather_long_column_name_here" in wide and "[op0]" in wide


def test_via_names_several_operations_and_the_table_level_edge(warehouse):
    warehouse.write_batch(Batch(operations=(op("o6", "stg.orders_clean", ("raw.orders",), {"id": "raw.orders.id"},
                                               user="ann"),)))
    lines = graph_table(queries.impact(warehouse, "raw.orders"), title="impact").splitlines()
    row = next(cells(line) for line in lines if "stg.orders_clean" in line)
    assert row[1] == "DIRECT" and row[3] == "INSERT INTO orders_clean · ann ×1 (+1 more)"


def test_path_prints_one_line_per_route_with_each_hops_kind(warehouse):
    lines = graph_table(queries.path(warehouse, "raw.orders.amount", "mart.dashboard.total")).splitlines()
    assert lines[0] == "1 route from raw.orders.amount to mart.dashboard.total"
    assert lines[1] == ("raw.orders.amount ─TRANSFORMATION→ stg.orders_clean.amount ─AGGREGATION→ "
                        "mart.revenue.total ─IDENTITY→ mart.dashboard.total")
    # the operations in the order the data goes through them, not by name
    assert lines[2] == "via: INSERT INTO orders_clean · etl ×10; INSERT INTO revenue · analyst ×1; INSERT INTO dashboard · bob ×1"


def test_path_via_follows_the_data_in_every_route_and_wide_keeps_the_ids(warehouse):
    lines = graph_table(queries.path(warehouse, "raw.orders", "mart.dashboard"), wide=True).splitlines()
    assert lines[-1] == ("via: INSERT INTO orders_clean · etl ×10 [o1]; INSERT INTO revenue · analyst ×1 [o2]; "
                         "INSERT INTO dashboard · bob ×1 [o3]")


def test_path_command_is_direct_only_unless_asked_and_exits_1_without_a_route(warehouse):
    run = lambda *args: CliRunner().invoke(main, [*args, "--store", warehouse.url])  # noqa: E731
    through_join = run("path", "raw.customers.id", "mart.revenue.total")
    assert through_join.exit_code == 1 and "no lineage from raw.customers.id to mart.revenue.total: no route" in through_join.output
    found = run("path", "raw.customers.id", "mart.revenue.total", "--with-indirect")
    assert found.exit_code == 0 and "raw.customers.id ─JOIN→ mart.revenue.total" in found.output
    as_json = run("path", "mart.dashboard", "raw.orders", "--format", "json")
    assert as_json.exit_code == 1 and json.loads(as_json.output)["nodes"] == []
    backwards = run("path", "mart.dashboard.total", "raw.orders.amount")
    assert backwards.exit_code == 1 and backwards.output.strip().splitlines() == [
        "no lineage from mart.dashboard.total to raw.orders.amount: no route along values (--with-indirect for "
        "JOIN / FILTER / ... too); it flows the other way: sqllineage-harvester path raw.orders.amount "
        "mart.dashboard.total"]
    unrelated = run("path", "archive.orders.amount", "mart.dashboard.total")
    assert unrelated.exit_code == 1 and "other way" not in unrelated.output
    typo = run("path", "raw.ordrs", "mart.dashboard")
    assert typo.exit_code == 2 and "did you mean raw.orders?" in typo.output


def test_upstream_command_names_operations_and_keeps_its_json(warehouse):
    run = lambda *args: CliRunner().invoke(main, [*args, "--store", warehouse.url])  # noqa: E731
    table = run("upstream", "mart.dashboard.total")
    assert table.exit_code == 0 and "INSERT INTO dashboard · bob ×1" in table.output
    shape = json.loads(run("upstream", "mart.dashboard.total", "--format", "json").output)
    assert set(shape) == {"root", "direction", "nodes", "edges", "operations"}
    assert shape["nodes"][1]["operations"] == ["o3"]


def test_column_dot_groups_columns_in_their_table_labels_edges_and_has_a_legend(warehouse):
    import re

    dot = render_graph(queries.upstream(warehouse, "mart.revenue.total"), "dot")
    clusters = re.findall(r'subgraph (cluster_\d+) \{\n    label="([^"]+)";\n    style=rounded;\n((?:    "[^"]+" \[.*\n)+)  \}',
                          dot)
    tables = {label: re.findall(r'label="([^"]+)"', body) for _, label, body in clusters}
    assert tables["stg.orders_clean"] == ["amount", "customer_id"]
    assert tables["raw.orders"] == ["amount", "customer_id", "status"] and "mart.revenue" in tables
    assert sum(len(cols) for cols in tables.values()) == len(queries.upstream(warehouse, "mart.revenue.total").nodes)
    assert re.search(r'-> "[^"]+" \[label="AGGREGATION"\];', dot) and '[label="JOIN", style=dashed]' in dot
    assert "subgraph cluster_legend" in dot and "indirect" in dot.split("cluster_legend")[1]
    tables_dot = render_graph(queries.upstream(warehouse, "mart.revenue"), "dot")
    assert "subgraph cluster_0" not in tables_dot and '[label="mart.revenue", style=bold]' in tables_dot


def test_an_answer_asked_without_its_operations_still_names_what_they_write(warehouse):
    lines = graph_table(queries.downstream(warehouse, "mart.revenue.total")).splitlines()
    assert cells(lines[2])[:4] == ["1", "IDENTITY", "mart.dashboard.total", "writes dashboard"]
    assert cells(lines[0].split(" in ")[0]) == ["downstream of mart.revenue.total (column)"]
