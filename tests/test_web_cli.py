"""The web view's commands as a person runs them: `serve` in its own process, `export` and
`--format html` writing files, and their usage errors (exit 2, one line)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request

import pytest

from webstore import fill

from sqllineage_harvester.stores import open_store


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('webcli')}/lineage.db"
    fill(open_store(url)).close()
    return url


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_serve_prints_where_it_listens_and_answers_there(store_url):
    server = subprocess.Popen([sys.executable, "-m", "sqllineage_harvester.cli", "serve", "--store", store_url,
                               "--port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C stops\)", line)
        assert found, line
        with urllib.request.urlopen(found.group(1) + "api/namespaces", timeout=30) as answer:
            assert "postgres://warehouse:5432" in json.load(answer)["namespaces"]
        with urllib.request.urlopen(found.group(1), timeout=30) as answer:
            assert "<title>sqllineage-harvester</title>" in answer.read().decode()
    finally:
        server.terminate()
        server.wait(30)


def test_serve_on_a_store_that_does_not_exist_is_a_usage_error(tmp_path):
    done = cli("serve", "--store", f"sqlite:///{tmp_path}/missing.db", "--port", "0")
    assert done.returncode == 2 and done.stderr.startswith("error: ") and done.stderr.count("\n") == 1


def test_export_of_a_namespace_holds_its_tables_only(store_url, tmp_path):
    out = tmp_path / "other.html"
    done = cli("export", "--format", "html", "--namespace", "snowflake://other", "--store", store_url,
               "--output", str(out))
    assert done.returncode == 0, done.stderr
    data = embedded(out.read_text())
    assert sorted(t["name"] for t in data["tables"]) == ["other.orders", "other.src"]
    assert [o["users"][0]["name"] for o in data["operations"].values()] == ["ann"]


def test_export_of_an_unknown_namespace_or_to_an_unwritable_file_is_a_usage_error(store_url, tmp_path):
    done = cli("export", "--format", "html", "--namespace", "nowhere://x", "--store", store_url)
    assert done.returncode == 2 and "no datasets in namespace 'nowhere://x'" in done.stderr
    done = cli("impact", "raw.orders", "--format", "html", "--store", store_url,
               "--output", str(tmp_path / "no" / "such" / "dir.html"))
    assert done.returncode == 2 and "cannot write" in done.stderr


def test_output_takes_every_format(store_url, tmp_path):
    out = tmp_path / "path.json"
    done = cli("path", "raw.orders", "mart.dashboard", "--format", "json", "--store", store_url, "--output", str(out))
    assert done.returncode == 0 and done.stdout == ""
    assert [n["name"] for n in json.loads(out.read_text())["nodes"]] == [
        "raw.orders", "stg.orders_clean", "mart.revenue", "mart.dashboard"]


def embedded(page: str) -> dict:
    return json.loads(re.search(r'<script id="lineage-data" type="application/json">(.*?)</script>', page).group(1))


def test_a_path_page_holds_the_route_and_its_statements(store_url):
    done = cli("path", "raw.orders", "mart.dashboard", "--format", "html", "--store", store_url)
    assert done.returncode == 0, done.stderr
    data = embedded(done.stdout)
    assert (data["root"]["name"], data["answer"]["target"]["name"]) == ("raw.orders", "mart.dashboard")
    assert [(t["name"], t["depth"]) for t in data["tables"]] == [
        ("raw.orders", 0), ("stg.orders_clean", 1), ("mart.revenue", 2), ("mart.dashboard", 3)]
    assert sorted(o["type"] for o in data["operations"].values()) == ["insert"] * 3
    assert all(o["sql"].startswith("INSERT INTO") for o in data["operations"].values())


def test_no_literal_of_the_log_reaches_a_page(tmp_path):
    """The bundled Snowflake sample (fake card numbers and emails in its literals), harvested: neither
    the export nor an answer page holds any of its string literals, only the redacted SQL."""
    import csv
    from pathlib import Path

    from sqlglot.dialects import Dialect
    from sqlglot.tokens import TokenType

    url = f"sqlite:///{tmp_path}/demo.db"
    assert cli("demo", "--store", url).returncode == 0
    log = Path(__file__).resolve().parent.parent / "fixtures" / "logs" / "snowflake" / "query_history.csv"
    tokenizer = Dialect.get_or_raise("snowflake").tokenizer()
    literals = {t.text for row in csv.DictReader(log.open(encoding="utf-8"))
                for t in tokenizer.tokenize(row["QUERY_TEXT"]) if t.token_type == TokenType.STRING and len(t.text) > 2}
    assert "4111 1111 1111 1111" in literals and "jane.doe@example.com" in literals
    pages = [cli("export", "--format", "html", "--store", url).stdout,
             cli("impact", "RAW.CUSTOMERS.EMAIL", "--format", "html", "--store", url).stdout]
    for page in pages:
        data = embedded(page)
        assert any("'?'" in (o["sql"] or "") for o in data["operations"].values())
        names = " ".join(t["name"] for t in data["tables"])  # a stage path may hold a date, as do the times
        times = {lit for lit in literals if re.fullmatch(r"\d{4}-\d\d-\d\d", lit)}
        assert [lit for lit in literals - times if lit in page and lit not in names] == []


def test_serve_and_export_never_print_the_stores_password():
    secret = "Web-s3cret-Pw"
    for args in (["serve", "--port", "0"], ["export", "--format", "html"]):
        done = cli(*args, "--store", f"postgresql://ann:{secret}@127.0.0.1:1/lineage")
        assert done.returncode != 0 and "ann:***@127.0.0.1:1" in done.stderr
        assert secret not in done.stderr + done.stdout
