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


# -- many files and folders ------------------------------------------------------------------
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def tree(tmp_path):
    """A small repository: nested folders, a file that is not SQL, an upper-case suffix."""
    (tmp_path / "models" / "marts").mkdir(parents=True)
    (tmp_path / "models" / "stg.sql").write_text("USE shop;\nCREATE TABLE orders_clean AS SELECT id, amount FROM orders")
    (tmp_path / "models" / "marts" / "revenue.SQL").write_text(
        "INSERT INTO revenue (total) SELECT sum(amount) FROM orders_clean")
    (tmp_path / "models" / "marts" / "broken.sql").write_text("SELECT FROM WHERE")
    (tmp_path / "models" / "README.md").write_text("# not SQL: SELECT 1")
    return tmp_path / "models"


def test_a_folder_is_searched_for_sql_files_and_every_object_names_its_file(tmp_path):
    folder = tree(tmp_path)
    code, out, err = run("parse", str(folder), "-d", "mysql", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    files = [r["file"] for r in rows]
    expected = sorted(str(p) for p in folder.rglob("*") if p.suffix.lower() == ".sql")
    assert code == 0 and list(dict.fromkeys(files)) == expected
    assert all(set(r) >= {"file", "index", "kind", "error"} for r in rows)
    assert [r["index"] for r in rows if r["file"].endswith("stg.sql")] == [0, 1]  # each file counts from 0
    assert sum(1 for r in rows if r["error"]) == 1
    assert "3 files" in err and "1 with an error" in err  # the closing summary, on stderr


def test_each_file_is_its_own_script_unless_the_session_is_shared(tmp_path):
    folder = tree(tmp_path)
    stg, revenue = folder / "stg.sql", folder / "marts" / "revenue.SQL"

    def reads(*extra):
        code, out, _ = run("parse", str(stg), str(revenue), "-d", "mysql", "--format", "json", *extra)
        assert code == 0
        return [r["inputs"] for r in map(json.loads, out.splitlines()) if r["file"] == str(revenue)]

    assert reads() == [["orders_clean"]]  # USE shop of the file before does not reach it
    assert reads("--shared-session") == [["shop.orders_clean"]]


def test_the_table_format_has_a_heading_per_file(tmp_path):
    folder = tree(tmp_path)
    code, out, _ = run("parse", str(folder / "stg.sql"), str(folder / "marts" / "revenue.SQL"), "-d", "mysql")
    headings = [line for line in out.splitlines() if line.startswith("== ")]
    assert code == 0 and headings == [f"== {folder / 'stg.sql'} ==", f"== {folder / 'marts' / 'revenue.SQL'} =="]
    assert out.index("writes:  shop.orders_clean") < out.index("== " + str(folder / "marts"))


def test_workers_give_the_output_of_one_process(tmp_path):
    for n, case in enumerate(sorted((ROOT / "fixtures" / "lineage").glob("*.sql"))[:6]):
        for copy in range(3):
            (tmp_path / f"{copy}-{n}-{case.name}").write_text(case.read_text())
    one = run("parse", str(tmp_path), "-d", "postgres", "--format", "json", "--workers", "1")
    two = run("parse", str(tmp_path), "-d", "postgres", "--format", "json", "--workers", "2")
    assert one[0] == two[0] == 0
    assert one[1] == two[1] and len({json.loads(line)["file"] for line in one[1].splitlines()}) == 18


def test_jsonl_files_carry_their_file_and_ids(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text(json.dumps({"id": "q1", "sql": "INSERT INTO t SELECT a FROM s"}) + "\n")
    second.write_text(json.dumps({"id": "q2", "sql": "INSERT INTO u SELECT b FROM v"}) + "\n")
    code, out, _ = run("parse", str(first), str(second), "--input-format", "jsonl", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [(r["file"], r["id"], r["outputs"]) for r in rows] == [
        (str(first), "q1", ["t"]), (str(second), "q2", ["u"])]


@pytest.mark.parametrize("args, message", [
    (("/nonexistent/folder",), "no such file or folder"),
    (("--workers", "0", "-"), "not a number of workers"),
])
def test_a_path_that_is_not_there_or_bad_workers_exit_two(args, message):
    code, out, err = run("parse", *args, stdin="SELECT 1")
    assert code == 2 and message in err and out == ""


def test_a_folder_without_sql_is_a_note_and_no_sql_at_all_exits_two(tmp_path):
    folder = tree(tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("SELECT 1")
    code, out, err = run("parse", str(tmp_path / "docs"), str(folder / "stg.sql"), "-d", "mysql", "--format", "json")
    assert code == 0 and "no *.sql file" in err and str(tmp_path / "docs") in err
    assert {json.loads(line)["file"] for line in out.splitlines()} == {str(folder / "stg.sql")}
    code, out, err = run("parse", str(tmp_path / "docs"))
    assert code == 2 and out == "" and "no *.sql file" in err


def test_a_file_that_is_not_utf8_is_named_in_its_warning(tmp_path):
    folder = tree(tmp_path)
    (folder / "latin1.sql").write_bytes(b"INSERT INTO t SELECT '\xe9' AS x FROM s")
    code, out, err = run("parse", str(folder), "-d", "mysql", "--format", "json")
    assert code == 0 and f"{folder / 'latin1.sql'} is not UTF-8" in err
    assert [r["outputs"] for r in map(json.loads, out.splitlines()) if r["file"].endswith("latin1.sql")] == [["t"]]


@pytest.mark.parametrize("name,sql", [
    ("mariadb", "INSERT INTO shop.b SELECT `x` FROM shop.a"),
    ("impala", "INSERT OVERWRITE TABLE db.b SELECT x FROM db.a"),
])
def test_parse_reads_every_dialect_harvest_does(name, sql):
    """harvest --dialect NAME takes our dialect files' names; parse reads them through their sqlglot dialect."""
    code, out, err = run("parse", "-d", name, "--format", "json", stdin=sql)
    assert code == 0, err
    assert json.loads(out)["inputs"] and not json.loads(out).get("error")


def test_an_unknown_dialect_lists_ours():
    from sqllineage_harvester.dialects import list_dialects

    code, _, err = run("parse", "-d", "nonsense", stdin="SELECT 1")
    known = err.split("known: ", 1)[1]
    assert code == 2 and all(n in known for n in list_dialects()) and "prql" not in known and "tableau" not in known
