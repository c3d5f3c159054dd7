"""The web view finds a date shard's name as the queries do: ``events_20260101`` of a family the
harvest kept as one dataset (``events_*``) is its family, said so; over every store, on the
BigQuery sharded fixture."""

from __future__ import annotations

from test_shards import fixture_shards, harvest_fixture
from webstore import get, serving

from sqllineage_harvester import explore
from sqllineage_harvester.stores import open_store


def test_a_shard_name_finds_its_family_in_the_web_search_and_an_operation_is_what_show_says(store_url):
    harvest_fixture(store_url)
    store = open_store(store_url, read_only=True)
    shards = fixture_shards("shop-prod.analytics.events")
    try:
        with serving(store) as base:
            status, body = get(base, "api/search", q=f"analytics.events_{shards[1]}")
            assert status == 200
            first = body["results"][0]
            assert (first["name"], first["kind"]) == ("shop-prod.analytics.events_*", "dataset")
            assert shards[0] in body["note"] and shards[-1] in body["note"] and "date-sharded" in body["note"]
            column = get(base, "api/search", q=f"shop-prod.analytics.events_{shards[0]}.amount")[1]
            assert (column["results"][0]["name"], column["results"][0]["kind"]) == (
                "shop-prod.analytics.events_*.amount", "column")
            plain = get(base, "api/search", q="analytics.events_12345678")[1]  # only looks like a shard
            assert "note" not in plain and plain["results"] == []
            wild = get(base, "api/search", q="analytics.events_*")[1]
            assert "note" not in wild and "shop-prod.analytics.events_*" in {r["name"] for r in wild["results"]}

            graph = get(base, "api/graph", key=first["key"], depth=1, direction="upstream")[1]
            op_id = graph["edges"][0]["operation"]
            op = get(base, "api/operation", id=op_id)[1]
            shown = explore.operation(store, op_id)  # what `show OP` reads
            assert (op["sql"], op["type"], op["executions"]) == (shown.sql, shown.info.type, shown.info.executions)
            assert op["outputs"] == sorted(n.name for n in shown.outputs) == ["shop-prod.analytics.events_*"]
            assert [u["name"] for u in op["users"]] == [u.name for u in shown.users] != []
    finally:
        store.close()
