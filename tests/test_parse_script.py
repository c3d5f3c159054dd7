"""parse's script view, run as a user runs it: --summary (source, intermediate and target tables,
column chains) and --format dot|mermaid|html (the script drawn by the query answers' renderers)."""

import html
import json
import re
import subprocess
import sys

import pytest

ETL = """
CREATE TEMP TABLE tmp_pay AS
  SELECT p.customer_id, sum(p.amount) AS total FROM raw.payments p WHERE p.status = 'settled' GROUP BY p.customer_id;
CREATE TABLE stage.cust AS SELECT c.id, c.name, t.total FROM raw.customers c JOIN tmp_pay t ON t.customer_id = c.id;
CREATE VIEW stage.v_cust AS SELECT id, upper(name) AS name, total FROM stage.cust;
INSERT INTO mart.customer_value (id, label, value) SELECT id, name, total * 2 FROM stage.v_cust;
SELECT count(*) FROM mart.customer_value;
"""

CHAINS = [
    (["raw.customers.id", "stage.cust.id", "stage.v_cust.id", "mart.customer_value.id"],
     ["IDENTITY", "IDENTITY", "IDENTITY"]),
    (["raw.customers.name", "stage.cust.name", "stage.v_cust.name", "mart.customer_value.label"],
     ["IDENTITY", "TRANSFORMATION", "IDENTITY"]),
    (["raw.payments.amount", "tmp_pay.total", "stage.cust.total", "stage.v_cust.total", "mart.customer_value.value"],
     ["AGGREGATION", "IDENTITY", "IDENTITY", "TRANSFORMATION"]),
]

SECRET = "x-very-secret"
LEAKY = f"CREATE TABLE a.t2 AS SELECT concat(name, '{SECRET}') FROM a.t;\nINSERT INTO a.t3 SELECT * FROM a.t2;\n"


def run(*args, stdin=""):
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], input=stdin.encode(),
                          capture_output=True)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def summaries(out):
    return [row for row in map(json.loads, out.splitlines()) if "script" in row]


def page_data(page):
    found = re.search(r'<script id="lineage-data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


@pytest.fixture
def etl(tmp_path):
    path = tmp_path / "etl.sql"
    path.write_text(ETL)
    return path


def test_summary_names_sources_intermediates_targets_and_column_chains(etl):
    code, out, _ = run("parse", str(etl), "-d", "postgres", "--summary", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["index"] for r in rows[:-1]] == [0, 1, 2, 3, 4]  # the statements' objects are as before
    (summary,) = summaries(out)
    assert summary["file"] == str(etl)
    script = summary["script"]
    assert script["sources"] == ["raw.customers", "raw.payments"]
    assert script["intermediates"] == ["stage.cust", "stage.v_cust", "tmp_pay"]
    assert script["targets"] == ["mart.customer_value"]  # the closing SELECT only looks at it
    assert [(c["columns"], c["transforms"]) for c in script["chains"]] == CHAINS
    assert script["statements"] == 5 and script["errors"] == 0 and script["chains_cut"] is False


def test_summary_table_lists_roles_and_chains_after_the_statements(etl):
    code, out, _ = run("parse", str(etl), "-d", "postgres", "--summary")
    assert code == 0
    block = out[out.index("script: 1 file, 5 statements"):]
    assert out.index("#4 select") < out.index("script:")
    assert "  sources:       raw.customers, raw.payments\n" in block
    assert "  intermediates: stage.cust, stage.v_cust, tmp_pay\n" in block
    assert "  targets:       mart.customer_value\n" in block
    assert ("    raw.payments.amount ─AGGREGATION→ tmp_pay.total ─IDENTITY→ stage.cust.total ─IDENTITY→ "
            "stage.v_cust.total ─TRANSFORMATION→ mart.customer_value.value\n") in block


def test_without_summary_the_output_is_unchanged(etl):
    _, plain, _ = run("parse", str(etl), "-d", "postgres", "--format", "json")
    _, summed, _ = run("parse", str(etl), "-d", "postgres", "--format", "json", "--summary")
    assert summed.startswith(plain) and not summaries(plain) and len(summaries(summed)) == 1


def files(tmp_path, count=2):
    first = tmp_path / "01_stage.sql"
    first.write_text("CREATE TABLE stage.o AS SELECT id, amount FROM raw.orders;")
    second = tmp_path / "02_mart.sql"
    second.write_text("INSERT INTO mart.daily (id, total) SELECT id, sum(amount) FROM stage.o GROUP BY id;")
    return [str(first), str(second)]


def test_a_shared_session_is_one_script_and_separate_files_are_one_script_each(tmp_path):
    paths = files(tmp_path)
    _, out, _ = run("parse", *paths, "-d", "postgres", "--summary", "--format", "json", "--shared-session")
    (shared,) = summaries(out)
    assert "file" not in shared and shared["script"]["files"] == paths
    assert (shared["script"]["sources"], shared["script"]["intermediates"], shared["script"]["targets"]) == (
        ["raw.orders"], ["stage.o"], ["mart.daily"])
    assert [c["columns"] for c in shared["script"]["chains"]] == [  # by target column
        ["raw.orders.id", "stage.o.id", "mart.daily.id"], ["raw.orders.amount", "stage.o.amount", "mart.daily.total"]]
    _, out, _ = run("parse", *paths, "-d", "postgres", "--summary", "--format", "json")
    first, second = summaries(out)
    assert (first["file"], first["script"]["sources"], first["script"]["targets"]) == (paths[0], ["raw.orders"], ["stage.o"])
    assert (second["file"], second["script"]["sources"], second["script"]["targets"]) == (paths[1], ["stage.o"], ["mart.daily"])
    assert second["script"]["intermediates"] == []


def test_summaries_are_the_same_on_worker_processes(tmp_path):
    paths = []
    for i in range(12):  # more than the handful parsed in the command's own process
        path = tmp_path / f"m{i:02}.sql"
        path.write_text(f"CREATE TABLE s.t{i} AS SELECT a FROM raw.u; INSERT INTO m.t{i} SELECT a FROM s.t{i};")
        paths.append(str(path))
    _, one, _ = run("parse", *paths, "--summary", "--format", "json", "--workers", "1")
    _, two, _ = run("parse", *paths, "--summary", "--format", "json", "--workers", "2")
    assert one == two and len(summaries(two)) == 12
    assert summaries(two)[11]["script"]["chains"][0]["columns"] == ["raw.u.a", "s.t11.a", "m.t11.a"]


def test_a_statement_that_reads_what_it_writes_ends_a_chain():
    sql = ("CREATE TABLE s.t AS SELECT a, b FROM raw.u; UPDATE s.t SET a = a + b; "
           "INSERT INTO m.t SELECT a FROM s.t;")
    _, out, _ = run("parse", "-d", "postgres", "--summary", "--format", "json", stdin=sql)
    (summary,) = summaries(out)
    assert summary["script"]["intermediates"] == ["s.t"] and summary["script"]["targets"] == ["m.t"]
    assert [c["columns"] for c in summary["script"]["chains"]] == [
        ["raw.u.a", "s.t.a", "m.t.a"], ["raw.u.b", "s.t.b", "s.t.a", "m.t.a"]]


def test_dot_groups_a_scripts_columns_by_table_with_labelled_edges_and_a_legend(etl):
    code, out, _ = run("parse", str(etl), "-d", "postgres", "--format", "dot")
    assert code == 0 and out.startswith("digraph lineage {") and "#0" not in out
    clusters = re.findall(r'subgraph cluster_\d+ \{\n    label="([^"]+)";', out)
    assert clusters == sorted(["mart.customer_value", "raw.customers", "raw.payments", "stage.cust", "stage.v_cust",
                               "tmp_pay"])
    tmp = out[out.index('label="tmp_pay"'):]
    tmp = tmp[:tmp.index("}")]
    assert 'label="customer_id", shape=ellipse' in tmp and 'label="total", shape=ellipse' in tmp
    assert re.search(r'"c:\[\\"raw.payments\\", \\"amount\\"\]" -> "c:\[\\"tmp_pay\\", \\"total\\"\]" '
                     r'\[label="AGGREGATION"\];', out)
    assert '[label="FILTER", style=dashed]' in out and "subgraph cluster_legend" in out


def test_mermaid_draws_the_chain_through_the_intermediates(etl):
    code, out, _ = run("parse", str(etl), "-d", "postgres", "--format", "mermaid")
    ids = dict((label, ident) for ident, label in re.findall(r'^  (n\d+)\("([^"]+)"\)$', out, re.M))
    assert code == 0 and out.startswith("flowchart LR")
    assert f"  {ids['raw.payments.amount']} -->|AGGREGATION| {ids['tmp_pay.total']}" in out
    assert f"  {ids['stage.v_cust.total']} -->|TRANSFORMATION| {ids['mart.customer_value.value']}" in out
    assert f"  {ids['raw.payments.status']} -.->|FILTER| {ids['tmp_pay.total']}" in out


def test_html_is_the_lineage_views_page_with_the_script_in_it(etl):
    code, page, _ = run("parse", str(etl), "-d", "postgres", "--format", "html")
    assert code == 0 and page.startswith("<!doctype html>") and "Content-Security-Policy" in page
    assert "default-src 'none'" in html.unescape(page)
    data = page_data(page)
    tables = {t["name"]: [c["name"] for c in t["columns"]] for t in data["tables"]}
    assert tables["tmp_pay"] == ["customer_id", "total"]
    assert tables["mart.customer_value"] == ["id", "label", "value"]
    keys = {c["key"]: f"{t['name']}.{c['name']}" for t in data["tables"] for c in t["columns"]}
    edges = {(keys[e["source"]], keys[e["target"]], e["type"], e["indirect"], e["kind"]) for e in data["edges"]}
    assert ("raw.payments.amount", "tmp_pay.total", "AGGREGATION", False, "create_table_as") in edges
    assert ("raw.payments.status", "tmp_pay.total", "FILTER", True, "create_table_as") in edges
    op = data["operations"][f"{etl}#3"]
    assert op["type"] == "insert" and op["outputs"] == ["mart.customer_value"]
    assert op["inputs"] == [{"name": "stage.v_cust", "type": "DIRECT"}]
    assert "upper(" not in page and "total * 2" not in page  # the statements' own text is never copied


def test_separate_files_drawn_together_keep_their_temp_tables_apart(tmp_path):
    paths = []
    for name, source in (("a", "raw.x"), ("b", "raw.y")):
        path = tmp_path / f"{name}.sql"
        path.write_text(f"CREATE TEMP TABLE tmp AS SELECT v FROM {source}; INSERT INTO m.{name} SELECT v FROM tmp;")
        paths.append(str(path))
    _, out, _ = run("parse", *paths, "-d", "postgres", "--format", "mermaid")
    ids = dict((label, ident) for ident, label in re.findall(r'^  (n\d+)\("([^"]+)"\)$', out, re.M))
    assert f"  {ids['raw.x.v']} -->|IDENTITY| {ids[f'tmp ({paths[0]}).v']}" in out
    assert f"  {ids[f'tmp ({paths[0]}).v']} -->|IDENTITY| {ids['m.a.v']}" in out
    assert f"  {ids[f'tmp ({paths[1]}).v']} -->|IDENTITY| {ids['m.b.v']}" in out
    assert "tmp.v" not in ids and f"{ids['raw.x.v']} -->|IDENTITY| {ids['m.b.v']}" not in out
    _, shared, _ = run("parse", *paths, "-d", "postgres", "--format", "mermaid", "--shared-session")
    assert '("tmp.v")' in shared  # one session: one tmp, written by both files


def test_table_level_draws_tables_joined_by_what_each_statement_reads(etl):
    _, out, _ = run("parse", str(etl), "-d", "postgres", "--format", "mermaid", "--level", "table")
    ids = dict((label, ident) for ident, label in re.findall(r'^  (n\d+)\["([^"]+)"\]$', out, re.M))
    assert set(ids) == {"raw.customers", "raw.payments", "tmp_pay", "stage.cust", "stage.v_cust", "mart.customer_value"}
    assert f"  {ids['tmp_pay']} -->|DIRECT| {ids['stage.cust']}" in out
    assert f"  {ids['stage.v_cust']} -->|DIRECT| {ids['mart.customer_value']}" in out


@pytest.mark.parametrize("fmt", ["table", "json", "dot", "mermaid", "html"])
def test_redact_holds_in_every_format_with_the_summary(fmt):
    args = ("parse", "-d", "spark", "--summary", "--format", fmt)
    _, plain, _ = run(*args, stdin=LEAKY)
    _, shared, _ = run(*args, "--redact", stdin=LEAKY)
    assert SECRET in plain  # parse shows a name made from an expression as written ...
    assert SECRET not in shared and "concat(name, '?')" in (html.unescape(shared) if fmt == "html" else shared)
