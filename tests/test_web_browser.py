"""The web view in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright,
on the served app and on the self-contained files ``export`` and ``--format html`` write.

What is clicked and what must appear is asserted on the page's own text (table, column and edge
labels are SVG text). A screenshot of each view is left in the temp directory, never the repo.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from playwright import sync_api as playwright
from webstore import EVIL, EVIL_COLUMN, OTHER, SQL_O2, fill, serving

from sqllineage_harvester.stores import open_store

CHROMIUM = os.environ.get("SQLLINEAGE_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(tempfile.gettempdir()) / "sqllineage-web-shots"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (scripts/test does)")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == []


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('web')}/lineage.db"
    fill(open_store(url)).close()
    return url


@pytest.fixture
def app(store_url):
    store = open_store(store_url, read_only=True)
    with serving(store) as base:
        yield base
    store.close()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True, text=True)


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def table_names(page) -> list[str]:
    return sorted(page.locator("#tables g.table").evaluate_all("els => els.map(e => e.dataset.name)"))


def columns_of(page, table: str) -> list[str]:
    return page.locator(f'#tables g.table[data-name="{table}"] g.column text:not(.dist)').all_text_contents()


def column(page, table: str, name: str):
    return page.locator(f'#tables g.table[data-name="{table}"] g.column[data-name="{name}"]')


def search_and_open(page, text: str, name: str) -> None:
    page.fill("#search", text)
    page.locator("#results li.result", has_text=name).first.click()
    page.wait_for_function("name => document.querySelector('#tables g.table.root')?.dataset.name === name", arg=name)


def test_served_view_search_open_toggle_expand_collapse_impact_and_operation(app, page):
    page.goto(app)
    search_and_open(page, "ORDERS_CL", "stg.orders_clean")
    assert table_names(page) == ["mart.dashboard", "mart.revenue", "raw.orders", "stg.orders_clean"]
    assert columns_of(page, "stg.orders_clean") == ["amount", "customer_id", "id"]
    assert page.locator("#labels text", has_text="FILTER \u00b7 insert").count() == 1
    shot(page, "served-opened")

    indirect = page.locator("#edges g.edge.indirect").count()
    assert indirect > 0
    page.uncheck("#indirect")
    page.wait_for_function("() => document.querySelectorAll('#edges g.edge.indirect').length === 0")
    assert f"{indirect} indirect edges hidden" in page.text_content("#status")
    assert page.locator("#edges g.edge.direct").count() > 0
    page.check("#indirect")
    page.wait_for_function(f"() => document.querySelectorAll('#edges g.edge.indirect').length === {indirect}")

    page.locator('#tables g.table[data-name="mart.revenue"] g.btn.expand.up').click()
    page.wait_for_selector('#tables g.table[data-name="raw.customers"]')
    assert columns_of(page, "raw.customers") == ["id", "region"]

    page.locator('#tables g.table[data-name="raw.orders"] g.btn.collapse').click()
    assert columns_of(page, "raw.orders") == []
    page.locator('#tables g.table[data-name="raw.orders"] g.btn.collapse').click()
    assert columns_of(page, "raw.orders") == ["amount", "customer_id", "id", "status"]

    column(page, "raw.orders", "status").click()
    page.wait_for_selector("#details[data-impact]")
    listed = page.locator("#details ol.impact li").evaluate_all(
        "els => els.map(e => e.querySelector('.dist').textContent + ' ' + e.querySelector('.name').textContent)")
    assert listed[:3] == ["1 stg.orders_clean.amount", "1 stg.orders_clean.customer_id", "1 stg.orders_clean.id"]
    assert "2 mart.revenue.total" in listed and "3 mart.dashboard.total" in listed
    assert column(page, "mart.revenue", "total").locator("text.dist").text_content() == "2"
    assert "hit" in column(page, "mart.dashboard", "total").get_attribute("class")
    assert "hit" not in column(page, "raw.orders", "amount").get_attribute("class")
    shot(page, "served-impact")

    page.locator("#labels text", has_text="AGGREGATION \u00b7 insert").click()
    page.wait_for_selector("#details[data-op]")
    details = page.text_content("#details")
    assert "Operation: insert" in details and "executions4" in details.replace(" ", "")
    assert page.text_content("#details pre.sql") == SQL_O2
    assert page.locator("#details table.users tr").all_text_contents()[1:] == ["analyst4"]
    assert "selected" in page.locator("#edges g.edge.selected").first.get_attribute("class")
    shot(page, "served-operation")


def test_served_view_depth_as_of_and_namespace_controls(app, page):
    page.goto(app)
    search_and_open(page, "orders_clean", "stg.orders_clean")
    page.fill("#depth", "1")
    page.dispatch_event("#depth", "change")
    page.wait_for_function("() => document.querySelectorAll('#tables g.table').length === 3")
    assert table_names(page) == ["mart.revenue", "raw.orders", "stg.orders_clean"]
    page.fill("#asof", "2024-01-31")
    page.dispatch_event("#asof", "change")
    page.wait_for_function("() => document.querySelectorAll('#tables g.table').length === 2")
    assert table_names(page) == ["raw.orders", "stg.orders_clean"]
    page.select_option("#namespace", OTHER)
    page.wait_for_function("ns => [...document.querySelectorAll('#results li.result .meta')].every("
                           "m => m.textContent.endsWith(ns))", arg=OTHER)
    page.fill("#search", "amount")
    page.wait_for_function("() => document.querySelectorAll('#results li.result').length === 2")
    assert page.locator("#results li.result .name").all_text_contents() == ["other.orders.amount", "other.src.amount"]
    assert page.locator("#results li.result .meta").all_text_contents() == [f"column \u00b7 {OTHER}"] * 2
    assert page.locator("#namespace option").all_text_contents() == ["all", "postgres://warehouse:5432", OTHER]


def test_a_name_that_is_markup_is_shown_as_text_and_never_run(app, page):
    page.goto(app)
    search_and_open(page, "script", EVIL)
    assert page.evaluate("window.pwned") is None
    assert page.locator("#tables g.table.root text.tname").text_content() == EVIL
    assert columns_of(page, EVIL) == [EVIL_COLUMN]
    assert page.locator("#tables img, #results img, script:not([src])").count() == 0


def exported(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "lineage.html"
    done = cli(*args, "--output", str(out))
    assert done.returncode == 0, done.stderr
    return out


def open_file(page, path: Path) -> list[str]:
    """Open ``path`` with every request recorded and any but the file itself refused."""
    asked: list[str] = []

    def only_the_file(route):
        asked.append(route.request.url)
        return route.continue_() if route.request.url == path.as_uri() else route.abort()

    page.context.route("**/*", only_the_file)
    page.on("request", lambda r: asked.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_selector("#tables g.table")
    return asked


def test_the_exported_file_shows_every_table_and_asks_no_network(store_url, page, tmp_path):
    path = exported(tmp_path, "export", "--format", "html", "--store", store_url)
    asked = open_file(page, path)
    assert table_names(page) == sorted(["archive.orders", "mart.dashboard", "mart.revenue", "other.orders",
                                        "other.src", "raw.customers", "raw.orders", "stg.orders_clean", EVIL])
    assert set(asked) == {path.as_uri()}
    assert page.evaluate("window.pwned") is None
    shot(page, "export")

    page.fill("#search", "R*VENUE.TOT")  # searched in the file's own data, as the server searches
    page.wait_for_selector("#results li.result")
    assert page.locator("#results li.result .name").all_text_contents() == ["mart.revenue.total"]
    page.fill("#search", "amount")
    page.wait_for_function("() => document.querySelectorAll('#results li.result').length === 5")
    assert page.locator("#results li.result .name").all_text_contents() == [
        "archive.orders.amount", "other.orders.amount", "other.src.amount", "raw.orders.amount",
        "stg.orders_clean.amount"]
    page.fill("#search", "orders_cl*AMO")  # a table's part and its column's: the column, as the server finds it
    page.wait_for_function("() => document.querySelectorAll('#results li.result').length === 1")
    assert page.locator("#results li.result .name").all_text_contents() == ["stg.orders_clean.amount"]

    column(page, "raw.orders", "amount").click()
    page.wait_for_selector("#details[data-impact]")
    assert column(page, "mart.dashboard", "total").locator("text.dist").text_content() == "3"
    page.locator("#labels text", has_text="AGGREGATION \u00b7 insert").click()
    assert page.text_content("#details pre.sql") == SQL_O2
    assert page.locator("#details table.users tr").all_text_contents()[1:] == ["analyst4"]
    source = column(page, "mart.revenue", "total").get_attribute("data-key")
    target = column(page, "mart.dashboard", "total").get_attribute("data-key")
    x, y = page.evaluate("""([a, b]) => {  // the middle of the edge's line, on the screen
        const path = document.querySelector(`#edges g.edge[data-source="${a}"][data-target="${b}"] path.hit`);
        const p = path.getPointAtLength(path.getTotalLength() / 2).matrixTransform(path.getScreenCTM());
        return [p.x, p.y]; }""", [source, target])
    page.mouse.click(x, y)
    page.wait_for_selector('#details[data-op="o3"]')
    assert page.locator("#details table.users tr").all_text_contents()[1:] == ["bob1"]
    assert "mart.revenue.total \u2192 mart.dashboard.total (IDENTITY)" in page.text_content("#details dl")
    column(page, "raw.orders", "id").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('#details h2').textContent === 'Impact of raw.orders.id'")
    assert page.locator("#details ol.impact li .name").all_text_contents() == ["stg.orders_clean.id"]
    page.fill("#asof", "2024-01-31")
    page.dispatch_event("#asof", "change")  # o2 (February) and o3 (March) had not run yet
    assert table_names(page) == sorted(["archive.orders", "other.orders", "other.src", "raw.orders",
                                        "stg.orders_clean", EVIL])
    assert page.locator('#edges g.edge[data-op="o2"]').count() == 0
    page.fill("#asof", "")
    page.dispatch_event("#asof", "change")
    assert page.locator('#edges g.edge[data-op="o2"]').count() == 6
    page.select_option("#namespace", OTHER)
    assert table_names(page) == ["other.orders", "other.src"]
    page.uncheck("#indirect")
    assert page.locator("#edges g.edge.indirect").count() == 0
    page.wait_for_timeout(200)
    assert set(asked) == {path.as_uri()}


def test_an_impact_answer_file_opens_on_its_tables_with_their_columns(store_url, page, tmp_path):
    path = exported(tmp_path, "impact", "raw.orders.status", "--store", store_url, "--format", "html")
    asked = open_file(page, path)
    assert set(asked) == {path.as_uri()}
    assert table_names(page) == ["mart.dashboard", "mart.revenue", "raw.orders", "stg.orders_clean"]
    assert page.locator("#tables g.table.root").get_attribute("data-name") == "raw.orders"
    assert columns_of(page, "mart.revenue") == ["region", "total"]
    assert page.input_value("#depth") == "3"
    assert "answer" in column(page, "mart.dashboard", "total").get_attribute("class")
    page.fill("#depth", "1")
    page.dispatch_event("#depth", "change")
    assert table_names(page) == ["raw.orders", "stg.orders_clean"]
    shot(page, "impact-file")


def test_html_goes_to_stdout_without_output(store_url):
    done = cli("upstream", "mart.revenue", "--store", store_url, "--format", "html")
    assert done.returncode == 0 and done.stdout.startswith("<!doctype html>")
    assert '"name": "raw.customers"' in done.stdout and "<script src=" not in done.stdout


def test_a_wide_graph_opens_with_only_the_roots_columns_and_says_what_an_impact_reaches(tmp_path, page):
    from webstore import fan

    store = fan(open_store(f"sqlite:///{tmp_path}/fan.db"), 60)
    with serving(store) as base:
        page.goto(base)
        search_and_open(page, "fan.root.c0", "fan.root")
        assert len(table_names(page)) == 61
        assert columns_of(page, "fan.root") == ["c0"] and columns_of(page, "fan.t042") == []
        assert "columns hidden in 60 tables" in page.text_content("#status")
        column(page, "fan.root", "c0").click()
        page.wait_for_selector("#details[data-impact]")
        assert "180 columns downstream" in page.text_content("#details")
        hits = page.locator('#tables g.table[data-name="fan.t042"] text.thits')
        assert hits.text_content() == "3 columns reached, nearest at 1"
        page.locator("#details ol.impact li", has_text="fan.t042.c1").click()  # brings its table into view
        page.locator('#tables g.table[data-name="fan.t042"] g.btn.collapse').click()
        assert columns_of(page, "fan.t042") == ["c0", "c1", "c2"]
        assert column(page, "fan.t042", "c1").locator("text.dist").text_content() == "1"
        shot(page, "wide")
    store.close()


def test_a_path_file_marks_where_it_starts_and_ends(store_url, page, tmp_path):
    path = exported(tmp_path, "path", "raw.orders", "mart.dashboard", "--store", store_url, "--format", "html")
    open_file(page, path)
    assert table_names(page) == ["mart.dashboard", "mart.revenue", "raw.orders", "stg.orders_clean"]
    assert page.locator("#tables g.table.root").get_attribute("data-name") == "raw.orders"
    assert page.locator("#tables g.table.target").get_attribute("data-name") == "mart.dashboard"
    assert page.text_content("#details h2") == "Lineage: path from raw.orders to mart.dashboard"
    shot(page, "path-file")


def test_a_wide_answer_file_lists_every_column_and_a_wide_export_opens_closed(tmp_path, page):
    from webstore import fan

    url = f"sqlite:///{tmp_path}/fan.db"
    fan(open_store(url), 60).close()
    answer = exported(tmp_path, "downstream", "fan.root.c0", "--store", url, "--format", "html")
    open_file(page, answer)
    assert len(table_names(page)) == 61 and columns_of(page, "fan.t042") == ["c0", "c1", "c2"]
    whole = exported(tmp_path, "export", "--format", "html", "--store", url)
    open_file(page, whole)
    assert len(table_names(page)) == 61 and columns_of(page, "fan.t042") == []
    assert "columns hidden in 61 tables" in page.text_content("#status")


def test_a_parse_file_draws_the_script_and_clicks_through_it(page, tmp_path):
    script = tmp_path / "etl.sql"
    script.write_text("CREATE TEMP TABLE tmp_pay AS SELECT customer_id, sum(amount) AS total FROM raw.payments "
                      "WHERE status = 'settled' GROUP BY customer_id;\n"
                      "INSERT INTO mart.value (id, value) SELECT customer_id, total * 2 FROM tmp_pay;\n")
    done = cli("parse", str(script), "-d", "postgres", "--format", "html")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "etl.html"
    path.write_text(done.stdout)
    asked = open_file(page, path)
    assert set(asked) == {path.as_uri()}
    assert table_names(page) == ["mart.value", "raw.payments", "tmp_pay"]
    assert columns_of(page, "tmp_pay") == ["customer_id", "total"]
    column(page, "raw.payments", "amount").click()
    page.wait_for_selector("#details[data-impact]")
    assert column(page, "tmp_pay", "total").locator("text.dist").text_content() == "1"
    assert column(page, "mart.value", "value").locator("text.dist").text_content() == "2"
    page.locator("#labels text", has_text="AGGREGATION \u00b7 create_table_as").click()
    page.wait_for_selector(f'#details[data-op="{script}#0"]')
    assert "reads: raw.payments" in page.text_content("#details")
    assert "statement #0 of" in page.text_content("#details pre.sql") and "settled" not in page.content()
    shot(page, "parse-file")
