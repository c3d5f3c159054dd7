"""Lineage that ages, on a Snowflake log spanning a year: a job that stopped in January is
retired under ``--retire-after 90d``, hidden from answers unless asked, seen by ``--as-of`` in its
time, counted by ``stats`` and ``validate``, and deleted only by ``prune``."""

import json
import subprocess
import sys

from snowflakelog import write_history

from sqllineage_harvester import queries, retire
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store
from sqllineage_harvester.validate import validate

OLD = "INSERT INTO ANALYTICS.MARTS.OLD_REPORT (ID, AMOUNT) SELECT ID, AMOUNT FROM ANALYTICS.RAW.ORDERS"
CURRENT = "INSERT INTO ANALYTICS.MARTS.CURRENT_REPORT (ID, AMOUNT) SELECT ID, AMOUNT FROM ANALYTICS.RAW.ORDERS"
YEAR = ([(OLD, f"2024-01-{day:02d} 03:00:00.000 -0800") for day in (5, 12, 19)]
        + [(CURRENT, f"2024-{month:02d}-15 03:00:00.000 -0800") for month in range(1, 13)])


def harvest_year(url, tmp_path, retire_after="90d"):
    log = write_history(tmp_path / "query_history.csv", [s for s, _ in YEAR], [t for _, t in YEAR])
    store = open_store(url)
    try:
        harvest(open_source(log, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://test"))
        return retire.keep(store, retire_after) if retire_after else None
    finally:
        store.close()


def marts(graph):
    return sorted(n.node.name for n in graph.nodes if n.node.name.startswith("ANALYTICS.MARTS."))


def test_a_job_that_stopped_a_year_ago_is_retired_but_not_gone(store_url, tmp_path):
    said = harvest_year(store_url, tmp_path)
    assert "1 operations, 2 table edges, 2 column edges" in said
    store = open_store(store_url, read_only=True)  # the window was kept in the store
    try:
        assert marts(queries.impact(store, "ANALYTICS.RAW.ORDERS")) == ["ANALYTICS.MARTS.CURRENT_REPORT"]
        assert marts(queries.impact(store, "ANALYTICS.RAW.ORDERS.AMOUNT")) == ["ANALYTICS.MARTS.CURRENT_REPORT.AMOUNT"]
        assert marts(queries.impact(store, "ANALYTICS.RAW.ORDERS", include_retired=True)) == [
            "ANALYTICS.MARTS.CURRENT_REPORT", "ANALYTICS.MARTS.OLD_REPORT"]
        assert marts(queries.impact(store, "ANALYTICS.RAW.ORDERS", as_of="2024-02-01")) == [
            "ANALYTICS.MARTS.CURRENT_REPORT", "ANALYTICS.MARTS.OLD_REPORT"]  # in its time it ran
        assert queries.path(store, "ANALYTICS.RAW.ORDERS", "ANALYTICS.MARTS.OLD_REPORT").nodes == ()
        assert queries.stats(store).retired == (1, 2, 2)
        assert validate(store).retired_edges == 4
    finally:
        store.close()
    store = open_store(store_url)
    try:
        said = retire.prune(store, "2024-06-01T00:00:00.000000Z")
        assert said.startswith("removed 1 operations last seen before 2024-06-01")
        assert marts(queries.impact(store, "ANALYTICS.RAW.ORDERS", include_retired=True)) == [
            "ANALYTICS.MARTS.CURRENT_REPORT"]
        assert queries.stats(store).retired == (0, 0, 0)
    finally:
        store.close()


def test_without_a_retention_nothing_is_retired(tmp_path):
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    harvest_year(url, tmp_path, retire_after=None)
    store = open_store(url, read_only=True)
    assert len(marts(queries.impact(store, "ANALYTICS.RAW.ORDERS"))) == 2 and queries.stats(store).retired is None


def test_a_retention_hides_retired_lineage_without_windowing_the_counts_of_live_lineage(tmp_path):
    """The retirement cut leaves out what stopped running; it is no time window: a live operation
    still counts every run, and its first run, even where one user's runs all fall before the cut."""
    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    runs = [(month, "ANN" if month <= 9 else "BOB") for month in range(1, 13)]  # ANN until September, then BOB
    log = write_history(tmp_path / "query_history.csv", [CURRENT for _ in runs],
                        [f"2024-{m:02d}-15 03:00:00.000 -0800" for m, _ in runs], [u for _, u in runs])
    store = open_store(url)
    try:
        harvest(open_source(log, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://test"))
        retire.keep(store, "90d")
    finally:
        store.close()
    store = open_store(url, read_only=True)
    try:
        for answer in (queries.impact(store, "ANALYTICS.RAW.ORDERS"),
                       queries.path(store, "ANALYTICS.RAW.ORDERS", "ANALYTICS.MARTS.CURRENT_REPORT")):
            (op,) = answer.operations
            assert (op.executions, op.first_seen[:10], answer.windowed) == (12, "2024-01-15", False)
            assert set(op.users) == {"ANN", "BOB"}
    finally:
        store.close()


def test_the_web_view_leaves_retired_lineage_out_unless_asked_as_the_commands_do(tmp_path):
    from webstore import get, serving

    url = f"sqlite:///{tmp_path / 'lineage.db'}"
    harvest_year(url, tmp_path)
    store = open_store(url, read_only=True)
    try:
        with serving(store) as base:
            found = get(base, "api/search", q="ANALYTICS.RAW.ORDERS")[1]["results"]
            orders = next(n["key"] for n in found if n["name"] == "ANALYTICS.RAW.ORDERS" and n["kind"] == "dataset")
            amount = next(n["key"] for n in get(base, "api/search", q="ORDERS.AMOUNT")[1]["results"]
                          if n["name"] == "ANALYTICS.RAW.ORDERS.AMOUNT")

            def seen(path: str, key: str, **more: object) -> list[str]:
                status, body = get(base, path, key=key, **more)
                assert status == 200, body
                names = [t["name"] for t in body.get("tables", ())] + [n["name"] for n in body.get("nodes", ())]
                return sorted({n.rsplit(".", 1)[0] if n.count(".") == 3 else n for n in names
                               if n.startswith("ANALYTICS.MARTS.")})

            both = ["ANALYTICS.MARTS.CURRENT_REPORT", "ANALYTICS.MARTS.OLD_REPORT"]
            for path, key, more in (("api/graph", orders, {"depth": 2}), ("api/expand", orders, {"direction": "downstream"}),
                                    ("api/impact", amount, {})):
                assert seen(path, key, **more) == ["ANALYTICS.MARTS.CURRENT_REPORT"], path
                assert seen(path, key, include_retired=1, **more) == both, path
                assert seen(path, key, as_of="2024-02-01", **more) == both, path  # in its time it ran
    finally:
        store.close()


def cli(*args):
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_the_commands_retire_show_retired_and_prune(tmp_path):
    db = f"sqlite:///{tmp_path / 'lineage.db'}"
    log = write_history(tmp_path / "query_history.csv", [s for s, _ in YEAR], [t for _, t in YEAR])
    ran = cli("harvest", "--source", str(log), "--dialect", "snowflake", "--store", db, "--retire-after", "90d")
    assert ran.returncode == 0 and "are retired: 1 operations" in ran.stderr
    assert "OLD_REPORT" not in cli("impact", "ANALYTICS.RAW.ORDERS", "--store", db).stdout
    assert "OLD_REPORT" in cli("impact", "ANALYTICS.RAW.ORDERS", "--store", db, "--include-retired").stdout
    assert "RETIRED (not run within harvest --retire-after): 1 operations" in cli("stats", "--store", db).stdout
    pruned = cli("prune", "--before", "2024-06-01", "--store", db)
    assert pruned.returncode == 0 and "removed 1 operations" in pruned.stderr
    assert "OLD_REPORT" not in cli("impact", "ANALYTICS.RAW.ORDERS", "--store", db, "--include-retired").stdout
    bad = cli("harvest", "--source", str(log), "--dialect", "snowflake", "--store", db, "--retire-after", "soon")
    assert bad.returncode == 2 and "give a number and a unit" in bad.stderr


def test_show_gives_an_edge_its_history_and_says_it_is_retired(tmp_path):
    db = f"sqlite:///{tmp_path / 'lineage.db'}"
    harvest_year(db, tmp_path)
    column = cli("show", "ANALYTICS.MARTS.OLD_REPORT.AMOUNT", "--store", db)
    assert column.returncode == 0, column.stderr
    line = next(l for l in column.stdout.splitlines() if "ANALYTICS.RAW.ORDERS.AMOUNT" in l)
    assert "2024-01-05 11:00 .. 2024-01-19 11:00" in line and line.endswith("retired")
    live = cli("show", "ANALYTICS.MARTS.CURRENT_REPORT.AMOUNT", "--store", db, "--format", "json")
    source = json.loads(live.stdout)["sources"][0]
    assert (source["first_seen"][:10], source["last_seen"][:10], source["retired"]) == ("2024-01-15", "2024-12-15", False)
    op = source["operation"]["id"]
    old = json.loads(cli("show", "ANALYTICS.MARTS.OLD_REPORT.AMOUNT", "--store", db, "--format", "json").stdout)
    assert old["sources"][0]["retired"] is True
    shown = cli("show", old["sources"][0]["operation"]["id"], "--store", db).stdout
    assert "retired: not run since 2024-09-" in shown
    assert "retired" not in cli("show", op, "--store", db).stdout


def test_an_answer_says_how_many_edges_retirement_or_the_window_left_out(store_url, tmp_path):
    """Hidden lineage is no "no lineage": the answer counts the edges the cut or the asked window
    left out from the nodes it reached (one more step without them), and says how to see them."""
    harvest_year(store_url, tmp_path)
    store = open_store(store_url, read_only=True)
    try:
        table = queries.impact(store, "ANALYTICS.RAW.ORDERS")
        assert (table.hidden.retired, table.hidden.outside_window, table.hidden.retire_after) == (1, 0, "90d")
        column = queries.impact(store, "ANALYTICS.RAW.ORDERS.AMOUNT")
        assert (column.hidden.retired, column.hidden.outside_window) == (1, 0)
        assert queries.impact(store, "ANALYTICS.RAW.ORDERS", include_retired=True).hidden is None
        windowed = queries.impact(store, "ANALYTICS.RAW.ORDERS", since="2024-12-20", include_retired=True)
        assert windowed.nodes[1:] == () and (windowed.hidden.retired, windowed.hidden.outside_window) == (0, 2)
        assert queries.impact(store, "ANALYTICS.MARTS.OLD_REPORT").hidden is None  # nothing downstream at all
    finally:
        store.close()


def test_the_commands_and_the_web_view_say_what_was_left_out(tmp_path):
    from webstore import get, serving

    db = f"sqlite:///{tmp_path / 'lineage.db'}"
    harvest_year(db, tmp_path)
    shown = cli("impact", "ANALYTICS.RAW.ORDERS.AMOUNT", "--store", db, "--include-retired")
    assert "retired" not in shown.stdout + shown.stderr
    only_old = cli("impact", "ANALYTICS.MARTS.OLD_REPORT", "--store", db)
    assert "nothing downstream" in only_old.stdout and "left out" not in only_old.stdout
    hidden = cli("impact", "ANALYTICS.RAW.ORDERS.AMOUNT", "--store", db)
    assert hidden.returncode == 0
    assert ("1 edge retired (not run within --retire-after 90d) is left out; --include-retired shows it"
            in hidden.stdout)
    data = json.loads(cli("impact", "ANALYTICS.RAW.ORDERS.AMOUNT", "--store", db, "--format", "json").stdout)
    assert data["hidden"] == {"retired": 1, "outside_window": 0}
    windowed = cli("impact", "ANALYTICS.RAW.ORDERS", "--store", db, "--since", "2024-12-20", "--include-retired")
    assert "nothing downstream" in windowed.stdout and "2 edges outside --since/--as-of left out" in windowed.stdout
    route = cli("path", "ANALYTICS.RAW.ORDERS", "ANALYTICS.MARTS.OLD_REPORT", "--store", db)
    assert route.returncode == 1 and "--include-retired finds it" in route.stderr
    assert "--with-indirect" not in route.stderr
    outside = cli("path", "ANALYTICS.RAW.ORDERS", "ANALYTICS.MARTS.CURRENT_REPORT", "--store", db,
                  "--since", "2024-12-20")
    assert outside.returncode == 1 and "without --since/--as-of it is found" in outside.stderr
    store = open_store(db, read_only=True)
    try:
        with serving(store) as base:
            amount = next(n["key"] for n in get(base, "api/search", q="ORDERS.AMOUNT")[1]["results"]
                          if n["name"] == "ANALYTICS.RAW.ORDERS.AMOUNT")
            assert get(base, "api/impact", key=amount)[1]["hidden"] == {"retired": 1, "outside_window": 0}
            assert get(base, "api/impact", key=amount, include_retired=1)[1]["hidden"] == {
                "retired": 0, "outside_window": 0}
            assert get(base, "api/graph", key=amount, depth=2)[1]["hidden"] == {"retired": 1, "outside_window": 0}
    finally:
        store.close()
