"""Script and routine variables are values, not columns (extract/variables.py): their scope."""

from __future__ import annotations

from sqllineage_harvester.extract import extract, new_session


def _sources(results, target: str) -> list[str]:
    return [str(s) for r in results for c in r.columns if str(c.target) == target for s in c.sources]


def test_a_variable_matches_without_case():
    results = extract("DECLARE Run_Date DATE; INSERT INTO m.d (dt) SELECT RUN_DATE FROM r.e;", "bigquery")
    assert _sources(results, "m.d.dt") == []


def test_a_script_variable_does_not_reach_the_next_script_of_a_session():
    session = new_session("bigquery")
    extract("DECLARE run_date DATE;", "bigquery", session=session)
    results = extract("INSERT INTO m.d (dt) SELECT run_date FROM r.e;", "bigquery", session=session)
    assert _sources(results, "m.d.dt") == ["r.e.run_date"]


def test_a_postgres_cursor_is_no_variable_and_its_fetch_ends_the_declarations():
    sql = "DECLARE c CURSOR FOR SELECT id FROM r.t; FETCH 10 FROM c; INSERT INTO m.x (c) SELECT c FROM r.t;"
    results = extract(sql, "postgres")
    assert _sources(results, "m.x.c") == ["r.t.c"]
    assert [r.kind for r in results][-1] == "insert"


def test_declarations_of_a_section_are_no_parse_errors():
    sql = "DO $$\nDECLARE\n  a int := 1;\n  b text;\n  c numeric(10, 2) := 0;\nBEGIN\n  PERFORM 1;\nEND\n$$;"
    results = extract(sql, "postgres")
    assert not [r.error for r in results if r.error]


def test_tsql_variables_stay_parameters_and_a_procedure_body_keeps_its_lineage():
    sql = ("CREATE PROCEDURE dbo.p @d date AS\nBEGIN\n  INSERT INTO dbo.t (a, b) SELECT @d, x FROM dbo.s WHERE y = @d;\nEND;\n"
           "INSERT INTO dbo.u (x) SELECT x FROM dbo.s;")
    results = extract(sql, "tsql")
    assert _sources(results, "dbo.t.a") == [] and _sources(results, "dbo.t.b") == ["dbo.s.x"]
    assert _sources(results, "dbo.u.x") == ["dbo.s.x"]
