"""The parse command, run as a user runs it: a real process, real files, real exit codes."""

import json
import subprocess
import sys

import pytest


def run(*args, stdin=""):
    proc = subprocess.run(
        [sys.executable, "-m", "sqllineage_harvester.cli", *args],
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def test_json_output_is_one_object_per_statement():
    code, out, _ = run("parse", "-", "--dialect", "postgres", "--format", "json",
                       stdin="INSERT INTO mart.t (x) SELECT a + 1 FROM raw.s; SELECT b FROM raw.s")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["index"] for r in rows] == [0, 1]
    assert rows[0]["kind"] == "insert" and rows[0]["inputs"] == ["raw.s"] and rows[0]["outputs"] == ["mart.t"]
    assert rows[0]["columns"] == [{"target": "mart.t.x", "sources": ["raw.s.a"], "transform": "TRANSFORMATION", "indirect": []}]
    assert rows[1]["columns"][0]["target"] == "b" and rows[0]["error"] is None


def test_statement_errors_still_exit_zero():
    code, out, _ = run("parse", "--format", "json", stdin="SELECT FROM WHERE")
    assert code == 0 and json.loads(out)["error"].startswith("could not parse")


def test_catalog_file_expands_star(tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"raw.orders": {"id": "int", "amount": "numeric"}}))
    sql = tmp_path / "model.sql"
    sql.write_text("CREATE TABLE mart.o AS SELECT * FROM raw.orders")
    code, out, _ = run("parse", str(sql), "-d", "postgres", "--catalog", str(catalog), "--format", "json")
    targets = {c["target"]: c["sources"] for c in json.loads(out)["columns"]}
    assert code == 0 and targets == {"mart.o.id": ["raw.orders.id"], "mart.o.amount": ["raw.orders.amount"]}


@pytest.mark.parametrize("args,message", [
    (("--dialect", "nonsense"), "unknown dialect"),
    (("--catalog", "/nonexistent/catalog.json"), "cannot read catalog"),
])
def test_usage_errors_exit_two_with_a_message(args, message):
    code, out, err = run("parse", *args, stdin="SELECT 1")
    assert code == 2 and message in err and out == ""


def test_invalid_catalog_json_exits_two(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("{not json")
    code, _, err = run("parse", "--catalog", str(bad), stdin="SELECT 1")
    assert code == 2 and "cannot read catalog" in err


def test_jsonl_input_carries_ids_and_survives_bad_lines():
    lines = "\n".join([
        json.dumps({"id": "q1", "sql": "INSERT INTO t SELECT a FROM s", "dialect": "snowflake"}),
        "{broken json",
        json.dumps({"id": "q3", "sql": "INSERT INTO u SELECT b FROM v", "default_schema": "stg"}),
        json.dumps({"id": "q4", "sql": "SELECT 1", "dialect": "nope"}),
    ])
    code, out, _ = run("parse", "--input-format", "jsonl", "--format", "json", stdin=lines)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["id"] for r in rows] == ["q1", 2, "q3", "q4"]
    assert rows[0]["outputs"] == ["T"] and rows[2]["outputs"] == ["stg.u"]
    assert rows[1]["error"] and "not JSON" in rows[1]["error"]
    assert "unknown dialect" in rows[3]["error"]


def test_table_format_is_readable():
    code, out, _ = run("parse", "-d", "postgres", stdin="INSERT INTO t SELECT a FROM s")
    assert code == 0 and "reads:   s" in out and "t.a  <-  s.a  [IDENTITY]" in out


def test_non_utf8_input_is_read_with_a_warning():
    code, out, err = run("parse", "--format", "json", stdin=b"INSERT INTO t SELECT '\xff\xfe' AS x FROM s")
    assert code == 0 and "not UTF-8" in err and json.loads(out)["outputs"] == ["t"]
