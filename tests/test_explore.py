"""show / search / "did you mean", answered the same by every store (the warehouse of test_queries)."""

from __future__ import annotations

import pytest

from sqllineage_harvester import explore, queries
from sqllineage_harvester.errors import ConfigError
from sqllineage_harvester.model import Usage
from sqllineage_harvester.queries import UnknownNameError
from sqllineage_harvester.stores import Batch

from conftest import NAMESPACE, make_op as op
from test_queries import WAREHOUSE


@pytest.fixture
def warehouse(store):
    store.write_batch(Batch(operations=WAREHOUSE, usage=(
        Usage("mart.revenue", NAMESPACE, "carol", "2024-02-03", 4),
        Usage("mart.revenue", NAMESPACE, "carol", "2024-02-07", 2),
        Usage("mart.revenue", NAMESPACE, "dan", "2024-02-04", 1))))
    return store


def names(nodes) -> list[str]:
    return [n.name for n in nodes]


def test_search_finds_datasets_and_columns_containing_the_text_in_any_case(warehouse):
    assert names(explore.search(warehouse, "ORDERS")) == [
        "archive.orders", "other.orders", "raw.orders", "stg.orders_clean",
        "archive.orders.amount", "other.orders.amount", "raw.orders.amount", "raw.orders.customer_id",
        "raw.orders.id", "raw.orders.status", "stg.orders_clean.amount", "stg.orders_clean.customer_id",
        "stg.orders_clean.id"]
    assert {n.kind for n in explore.search(warehouse, "orders")} == {"dataset", "column"}


def test_search_star_matches_anything_between_parts(warehouse):
    assert names(explore.search(warehouse, "raw*amount")) == ["raw.orders.amount"]
    assert names(explore.search(warehouse, "m*t.rev*")) == ["mart.revenue", "mart.revenue.region", "mart.revenue.total"]
    assert explore.search(warehouse, "nothing_like_it") == []
    assert explore.search(warehouse, "revenue", namespace="other://ns") == []
    assert explore.search(warehouse, "revenue", namespace=NAMESPACE)[0].namespace == NAMESPACE


def test_search_treats_like_wildcards_as_text(warehouse):
    assert names(explore.search(warehouse, "customer_id")) == ["raw.orders.customer_id", "stg.orders_clean.customer_id"]
    assert explore.search(warehouse, "%") == [] and explore.search(warehouse, "r_w") == []
    with pytest.raises(ConfigError):
        explore.search(warehouse, "  ")


def test_search_star_alone_lists_everything_up_to_the_limit_and_counts_the_rest(warehouse):
    every = explore.search(warehouse, "*", limit=1000)
    assert "mart.revenue" in names(every) and "raw.orders.amount" in names(every)
    first = explore.search(warehouse, "**", limit=2)
    assert [n.kind for n in first] == ["dataset", "dataset", "column", "column"]
    totals = explore.search_totals(warehouse, "*")
    assert totals == {kind: sum(n.kind == kind for n in every) for kind in ("dataset", "column")}


def test_search_filters_its_namespace_before_its_limit(warehouse):
    import dataclasses

    late = "zz://late"  # its names come last: a limit before the filter finds none of them
    warehouse.write_batch(Batch(operations=(dataclasses.replace(
        op("z1", "zz.orders_late", ("zz.orders_src",), {"amount": "zz.orders_src.amount"}), namespace=late),)))
    found = explore.search(warehouse, "o", namespace=late.upper() + "/", limit=1)
    assert [(n.name, n.namespace) for n in found] == [("zz.orders_late", late), ("zz.orders_late.amount", late)]
    assert explore.search_totals(warehouse, "o", late) == {"dataset": 2, "column": 2}


def test_show_dataset_lists_columns_writers_readers_and_reads(warehouse):
    detail = explore.show(warehouse, "mart.revenue")
    assert isinstance(detail, explore.DatasetDetail)
    assert detail.columns == ("region", "total")
    assert [(w.id, w.label) for w in detail.writers] == [("o2", "INSERT INTO revenue · analyst ×1")]
    assert [(r.id, r.edge, r.label) for r in detail.readers] == [("o3", "DIRECT", "INSERT INTO dashboard · bob ×1")]
    assert [(r.user, r.count, r.last_day) for r in detail.reads] == [("carol", 6, "2024-02-07"), ("dan", 1, "2024-02-04")]
    assert detail.last_seen == "2024-03-01T09:00:00"


def test_show_dataset_says_how_an_indirect_reader_reads_it(warehouse):
    detail = explore.show(warehouse, "ref.calendar")
    assert [(r.id, r.edge) for r in detail.readers] == [("o2", "JOIN")] and detail.writers == ()


def test_show_column_lists_its_sources_and_targets(warehouse):
    detail = explore.show(warehouse, "revenue.total")
    assert isinstance(detail, explore.ColumnDetail) and detail.dataset.name == "mart.revenue"
    assert [(s.node.name, s.type, s.operation.id) for s in detail.sources] == [
        ("raw.customers.id", "JOIN", "o2"), ("ref.calendar.day", "JOIN", "o2"), ("stg.orders_clean.amount", "AGGREGATION", "o2"),
        ("stg.orders_clean.customer_id", "JOIN", "o2")]
    assert [(t.node.name, t.type) for t in detail.targets] == [("mart.dashboard.total", "IDENTITY")]


def test_show_operation_by_id_or_a_unique_prefix_of_one(warehouse):
    warehouse.write_batch(Batch(operations=(op("9f3a1c2b44", "mart.x", ("mart.revenue",)),
                                            op("9f3a1c2b55", "mart.y", ("mart.revenue",)))))
    assert explore.show(warehouse, "o2").info.id == "o2"
    assert explore.show(warehouse, "9F3A1C2B4").info.id == "9f3a1c2b44"
    with pytest.raises(ConfigError, match="starts 2 operation ids"):
        explore.show(warehouse, "9f3a1c")


def test_show_operation_gives_sql_inputs_outputs_users_and_runs(warehouse):
    detail = explore.operation(warehouse, "o2")
    assert detail.sql == "INSERT INTO mart.revenue SELECT ..."
    assert [(n.name, t) for n, t in detail.inputs] == [
        ("raw.customers", "DIRECT"), ("ref.calendar", "JOIN"), ("stg.orders_clean", "DIRECT")]
    assert names(detail.outputs) == ["mart.revenue"]
    assert [(u.name, u.executions) for u in detail.users] == [("analyst", 1)]
    assert [s.name for s in detail.systems] == ["warehouse"]
    assert detail.label == "INSERT INTO revenue · analyst ×1"
    with pytest.raises(UnknownNameError):
        explore.operation(warehouse, "nope")


def test_unknown_names_suggest_the_closest(warehouse):
    assert names(explore.suggest(warehouse, "revenu.totl")) == ["mart.revenue.total"]
    assert names(explore.suggest(warehouse, "mart.dashbord"))[0] == "mart.dashboard"
    assert explore.suggest(warehouse, "zzzzzz") == []
    with pytest.raises(UnknownNameError, match=r"did you mean raw\.customers\?"):
        queries.impact(warehouse, "raw.custmers")
    with pytest.raises(UnknownNameError, match="did you mean") as caught:
        explore.show(warehouse, "stg.orders_clen.amount")
    assert "stg.orders_clean.amount" in str(caught.value)


def test_show_and_search_commands_print_tables_and_json(warehouse):
    import json

    from click.testing import CliRunner

    from sqllineage_harvester.cli import main

    run = lambda *args: CliRunner().invoke(main, [*args, "--store", warehouse.url])  # noqa: E731
    shown = run("show", "mart.revenue")
    assert shown.exit_code == 0, shown.output
    assert "columns (2): region, total" in shown.output and "INSERT INTO dashboard · bob ×1" in shown.output
    as_json = json.loads(run("show", "mart.revenue", "--format", "json").output)
    assert as_json["writers"][0]["label"] == "INSERT INTO revenue · analyst ×1" and as_json["kind"] == "dataset"
    op = json.loads(run("show", "o2", "--format", "json").output)
    assert op["kind"] == "operation" and op["sql"] == "INSERT INTO mart.revenue SELECT ..."
    found = json.loads(run("search", "Revenue*TOT", "--format", "json").output)
    assert found["results"] == [{"name": "mart.revenue.total", "kind": "column", "namespace": NAMESPACE,
                                 "type": "table"}]
    assert "mart.revenue.total" in run("search", "revenue").output
    missing = run("show", "mart.revenu")
    assert missing.exit_code == 2 and "did you mean mart.revenue?" in missing.output


def test_search_reads_a_namespace_written_in_front(warehouse):
    assert names(explore.search(warehouse, f"{NAMESPACE}/revenue.t*")) == ["mart.revenue.total"]
    assert explore.search(warehouse, "other://ns/revenue") == []


def test_search_says_when_it_stopped_at_its_limit(tmp_path):
    from click.testing import CliRunner

    from sqllineage_harvester.cli import main
    from sqllineage_harvester.stores import open_store

    url = f"sqlite:///{tmp_path / 'l.db'}"
    store = open_store(url)
    try:
        store.write_batch(Batch(operations=WAREHOUSE))
    finally:
        store.close()
    cut = CliRunner().invoke(main, ["search", "orders", "--limit", "2", "--store", url])
    assert cut.exit_code == 0 and "showing the first 2 of 4 datasets and the first 2 of 9 columns" in cut.stderr
    assert len([line for line in cut.stdout.splitlines() if "orders" in line]) == 4
    whole = CliRunner().invoke(main, ["search", "orders", "--store", url])
    assert whole.exit_code == 0 and "showing the first" not in whole.stderr
    import json  # a script sees the same in the JSON document: how many match, and whether it was cut

    cut_json = json.loads(CliRunner().invoke(main, ["search", "orders", "--limit", "2", "--store", url,
                                                    "--format", "json"]).stdout)
    assert cut_json["totals"] == {"dataset": 4, "column": 9} and cut_json["truncated"] is True
    assert len(cut_json["results"]) == 4
    whole_json = json.loads(CliRunner().invoke(main, ["search", "orders", "--store", url, "--format", "json"]).stdout)
    assert whole_json["totals"] == {"dataset": 4, "column": 9} and whole_json["truncated"] is False
    assert len(whole_json["results"]) == 13
    exact = CliRunner().invoke(main, ["search", "orders", "--limit", "9", "--store", url, "--format", "json"])
    assert json.loads(exact.stdout)["truncated"] is False and "showing the first" not in exact.stderr  # 9 of 9
    columns_cut = CliRunner().invoke(main, ["search", "orders", "--limit", "4", "--store", url])
    assert "showing the first 4 of 9 columns; 5 more" in columns_cut.stderr  # all 4 datasets shown, not "cut"
    every = CliRunner().invoke(main, ["search", "*", "--limit", "1", "--store", url])
    assert every.exit_code == 0 and "showing the first 1 of" in every.stderr, every.output
