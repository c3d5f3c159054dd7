"""The web view's server: each JSON endpoint answered over HTTP from every store (SQLite,
PostgreSQL, Neo4j), on the warehouse of ``webstore``."""

from __future__ import annotations

import urllib.request

import pytest

from webstore import EVIL, EVIL_COLUMN, NAMESPACE, OTHER, SQL_O2, fill, get, serving


@pytest.fixture
def app(store):
    with serving(fill(store)) as base:
        yield base


def key_of(base: str, name: str, kind: str = "dataset") -> str:
    status, body = get(base, "api/search", q=name)
    assert status == 200, body
    found = [n["key"] for n in body["results"] if n["name"] == name and n["kind"] == kind]
    assert len(found) == 1, body
    return found[0]


def tables(graph: dict) -> dict[str, int | None]:
    return {t["name"]: t["depth"] for t in graph["tables"]}


def column_edges(graph: dict) -> set[tuple[str, str, str]]:
    names = {c["key"]: f"{t['name']}.{c['name']}" for t in graph["tables"] for c in t["columns"]}
    return {(names[e["source"]], names[e["target"]], e["type"]) for e in graph["edges"] if e["level"] == "column"}


def test_search_finds_datasets_and_columns_by_partial_name_in_any_case(app):
    status, body = get(app, "api/search", q="ORDERS_cl")
    assert status == 200
    assert [(n["name"], n["kind"]) for n in body["results"]][:1] == [("stg.orders_clean", "dataset")]
    assert {n["name"] for n in body["results"] if n["kind"] == "column"} == set()
    names = {(n["name"], n["kind"]) for n in get(app, "api/search", q="amou")[1]["results"]}
    assert {("raw.orders.amount", "column"), ("stg.orders_clean.amount", "column"),
            ("other.orders.amount", "column")} <= names


def test_search_takes_a_wildcard_a_table_dot_column_and_a_namespace(app):
    names = {n["name"] for n in get(app, "api/search", q="r*rev")[1]["results"]}
    assert "mart.revenue" in names and "raw.orders" not in names
    names = {n["name"] for n in get(app, "api/search", q="orders_clean.amo")[1]["results"]}
    assert names == {"stg.orders_clean.amount"}
    inside = get(app, "api/search", q="orders", namespace=OTHER)[1]["results"]
    assert {n["namespace"] for n in inside} == {OTHER} and "other.orders" in {n["name"] for n in inside}


def test_search_finds_a_column_by_a_pattern_naming_its_table_and_itself_as_the_cli_does(app):
    assert {n["name"] for n in get(app, "api/search", q="orders_cl*amo")[1]["results"]} == {"stg.orders_clean.amount"}
    assert {n["name"] for n in get(app, "api/search", q="raw*amount")[1]["results"]} == {"raw.orders.amount"}
    # the CLI finds raw.orders.amount by "orders.amount" but never other columns of tables holding "orders"
    names = {n["name"] for n in get(app, "api/search", q="rs.amount")[1]["results"]}
    assert names == {"raw.orders.amount", "archive.orders.amount", "other.orders.amount"}
    assert {n["kind"] for n in get(app, "api/search", q="orders")[1]["results"]} == {"dataset"}


def test_search_says_how_many_it_left_out(store):
    from sqllineage_harvester.web import view

    whole = view.search(fill(store), "*")
    assert whole["truncated"] == 0 and "raw.orders.amount" in {n["name"] for n in whole["results"]}
    cut = view.search(store, "*", limit=2)
    assert [n["kind"] for n in cut["results"]] == ["dataset", "dataset", "column", "column"]
    assert cut["truncated"] == len(whole["results"]) - 4
    assert cut["counts"] == {kind: sum(n["kind"] == kind for n in whole["results"]) for kind in ("dataset", "column")}
    inside = view.search(store, "o", OTHER, limit=1)["results"]
    assert inside and {n["namespace"] for n in inside} == {OTHER}


def test_namespaces_are_listed(app):
    assert get(app, "api/namespaces") == (200, {"namespaces": sorted([NAMESPACE, OTHER])})


def test_a_table_opens_with_its_lineage_both_ways_to_the_depth_asked(app):
    status, graph = get(app, "api/graph", key=key_of(app, "stg.orders_clean"), depth=1)
    assert status == 200
    assert tables(graph) == {"stg.orders_clean": 0, "raw.orders": -1, "mart.revenue": 1}
    columns = {t["name"]: [c["name"] for c in t["columns"]] for t in graph["tables"]}
    assert columns["stg.orders_clean"] == ["amount", "customer_id", "id"]
    assert ("raw.orders.amount", "stg.orders_clean.amount", "TRANSFORMATION") in column_edges(graph)
    assert ("raw.orders.status", "stg.orders_clean.amount", "FILTER") in column_edges(graph)
    assert ("stg.orders_clean.customer_id", "mart.revenue.total", "JOIN") in column_edges(graph)
    kinds = {(e["type"], e["indirect"], e["kind"]) for e in graph["edges"]}
    assert ("FILTER", True, "insert") in kinds and ("TRANSFORMATION", False, "insert") in kinds
    deeper = get(app, "api/graph", key=key_of(app, "stg.orders_clean"), depth=2, direction="downstream")[1]
    assert tables(deeper) == {"stg.orders_clean": 0, "mart.revenue": 1, "mart.dashboard": 2}


def test_direct_only_and_as_of_leave_edges_out(app):
    key = key_of(app, "stg.orders_clean")
    direct = get(app, "api/graph", key=key, depth=1, direct_only=1)[1]
    assert direct["edges"] and not [e for e in direct["edges"] if e["indirect"]]
    then = get(app, "api/graph", key=key, depth=3, as_of="2024-01-31")[1]
    assert tables(then) == {"stg.orders_clean": 0, "raw.orders": -1}


def test_a_column_opens_with_the_tables_of_the_columns_it_reaches(app):
    key = key_of(app, "raw.orders.amount", "column")
    graph = get(app, "api/graph", key=key, depth=2, direction="downstream")[1]
    assert tables(graph) == {"raw.orders": 0, "stg.orders_clean": 1, "archive.orders": 1, EVIL: 1,
                             "mart.revenue": 2}
    reached = {n: graph["reached"][k] for t in graph["tables"] for c in t["columns"]
               for k, n in [(c["key"], f"{t['name']}.{c['name']}")] if k in graph["reached"]}
    assert reached == {"raw.orders.amount": 0, "stg.orders_clean.amount": 1, "archive.orders.amount": 1,
                       f"{EVIL}.{EVIL_COLUMN}": 1, "mart.revenue.total": 2}


def test_expand_loads_one_step_from_a_table(app):
    graph = get(app, "api/expand", key=key_of(app, "mart.revenue"), direction="upstream")[1]
    assert set(tables(graph)) == {"mart.revenue", "stg.orders_clean", "raw.customers"}
    assert ("raw.customers.id", "mart.revenue.region", "JOIN") in column_edges(graph)
    down = get(app, "api/expand", key=key_of(app, "mart.revenue"), direction="downstream")[1]
    assert set(tables(down)) == {"mart.revenue", "mart.dashboard"}


def test_impact_lists_every_reachable_column_with_its_distance(app):
    body = get(app, "api/impact", key=key_of(app, "raw.orders.status", "column"))[1]
    assert {n["name"]: n["distance"] for n in body["nodes"]} == {
        "stg.orders_clean.amount": 1, "stg.orders_clean.customer_id": 1, "stg.orders_clean.id": 1,
        "mart.revenue.total": 2, "mart.revenue.region": 2, "mart.dashboard.total": 3}
    assert body["total"] == 6
    direct = get(app, "api/impact", key=key_of(app, "raw.orders.status", "column"), direct_only=1)[1]
    assert direct["nodes"] == []


def test_an_operation_shows_its_sql_kind_users_with_counts_and_times(app):
    graph = get(app, "api/graph", key=key_of(app, "mart.revenue"), depth=1, direction="upstream")[1]
    op_id = next(e["operation"] for e in graph["edges"] if e["type"] == "AGGREGATION")
    status, op = get(app, "api/operation", id=op_id)
    assert status == 200
    assert (op["type"], op["sql"], op["executions"]) == ("insert", SQL_O2, 4)
    assert op["first_seen"].startswith("2024-02-01T08:00:00") and op["last_seen"].startswith("2024-02-05T08:00:00")
    assert [(u["name"], u["executions"]) for u in op["users"]] == [("analyst", 4)]
    assert op["outputs"] == ["mart.revenue"]
    assert {(i["name"], i["type"]) for i in op["inputs"]} == {("stg.orders_clean", "DIRECT"),
                                                              ("raw.customers", "DIRECT")}
    first = get(app, "api/graph", key=key_of(app, "stg.orders_clean"), depth=1, direction="upstream")[1]
    o1 = get(app, "api/operation", id=first["edges"][0]["operation"])[1]
    assert [(u["name"], u["executions"]) for u in o1["users"]] == [("etl", 10), ("ann", 3)]
    assert o1["executions"] == 13


def test_an_operation_is_found_by_a_unique_prefix_of_its_id_as_show_finds_it(store):
    """The statement panel's endpoint takes what `show` takes: an id, or its first characters."""
    from conftest import make_op
    from sqllineage_harvester.stores import Batch

    fill(store).write_batch(Batch(operations=(
        make_op("9d03a3cd5e6f7a8b9c0d1e2f3a4b5c6d", "mart.one", ("raw.orders",), {"id": "raw.orders.id"}),
        make_op("9d03a3ff00112233445566778899aabb", "mart.two", ("raw.orders",), {"id": "raw.orders.id"}))))
    with serving(store) as app:
        status, op = get(app, "api/operation", id="9d03a3c")
        assert status == 200 and op["id"] == "9d03a3cd5e6f7a8b9c0d1e2f3a4b5c6d" and op["outputs"] == ["mart.one"]
        assert get(app, "api/operation", id="9D03A3FF")[1]["outputs"] == ["mart.two"]  # as show: any case
        whole = get(app, "api/operation", id="9d03a3ff00112233445566778899aabb")
        assert whole[0] == 200 and whole[1]["id"] == "9d03a3ff00112233445566778899aabb"
        status, body = get(app, "api/operation", id="9d03a3")
        assert status == 400 and body["candidates"] == 2 and "2 operation ids" in body["error"]
        assert get(app, "api/operation", id="9d03a4")[0] == 404


def test_bad_requests_and_unknown_keys_are_told_as_json(app):
    assert get(app, "api/graph")[0] == 400
    assert get(app, "api/graph", key="d999999")[0] == 404
    assert get(app, "api/operation", id="nope")[0] == 404
    assert get(app, "api/graph", key=key_of(app, "raw.orders"), depth="two")[0] == 400
    assert get(app, "api/expand", key=key_of(app, "raw.orders"), direction="sideways")[0] == 400
    status, body = get(app, "api/nothing")
    assert status == 404 and "error" in body


def test_the_page_and_its_assets_are_served_with_a_policy_that_runs_only_them(app):
    with urllib.request.urlopen(app, timeout=30) as page:
        html = page.read().decode()
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script src="assets/app.js">' in html and "lineage-data" not in html
    for name in ("app.js", "app.css", "dagre.min.js", "LICENSE.dagre.txt"):
        with urllib.request.urlopen(app + "assets/" + name, timeout=30) as answer:
            assert answer.status == 200 and len(answer.read()) > 500


def test_a_plain_install_ships_the_front_end():
    """``pip install .`` (not editable) copies only the packages and package data pyproject names."""
    import fnmatch
    from pathlib import Path

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    root = Path(__file__).resolve().parent.parent
    setup = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {"sqllineage_harvester.web", "sqllineage_harvester.web.assets", "sqllineage_harvester.export"} \
        <= set(setup["packages"])
    globs = setup["package-data"]["sqllineage_harvester.web.assets"]
    web = root / "sqllineage_harvester" / "web"
    assets = [p.relative_to(web / "assets").as_posix() for p in (web / "assets").iterdir()]
    assert {"app.js", "app.css", "dagre.min.js", "LICENSE.dagre.txt"} <= {a.split("/")[-1] for a in assets}
    assert [a for a in assets if not any(fnmatch.fnmatch(a, g) for g in globs)] == []


def test_a_graph_past_the_limit_shows_its_nearest_tables_and_says_how_many_were_left_out(tmp_path):
    from sqllineage_harvester.stores import open_store
    from sqllineage_harvester.web.view import MAX_TABLES
    from webstore import fan

    store = fan(open_store(f"sqlite:///{tmp_path}/fan.db"), MAX_TABLES + 20, columns=1)
    with serving(store) as base:
        graph = get(base, "api/graph", key=key_of(base, "fan.root"), depth="all")[1]
        impact = get(base, "api/impact", key=key_of(base, "fan.root.c0", "column"))[1]
    store.close()
    assert len(graph["tables"]) == MAX_TABLES and graph["truncated"] == 21
    assert graph["tables"][0]["name"] == "fan.root"
    assert impact["total"] == MAX_TABLES + 20 and {n["distance"] for n in impact["nodes"]} == {1}
