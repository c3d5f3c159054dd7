"""Statements that move data in forms the golden corpus cannot state: what they touch and warn of."""

import pytest

from sqllineage_harvester import extract


def only(sql, dialect):
    results = extract(sql, dialect)
    assert len(results) == 1
    return results[0]


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_files(:path)",
    "CREATE TABLE g.f AS SELECT a FROM read_files(concat('s3://b/', :day), format => 'json')",
])
def test_files_at_a_path_built_at_run_time_are_a_warning(sql):
    result = only(sql, "databricks")
    assert not result.inputs
    assert any("built at run time" in w for w in result.warnings)


@pytest.mark.parametrize("sql, dialect", [
    ("EXECUTE IMMEDIATE 'DELETE FROM t WHERE k = ''secret-1''' || :suffix", "snowflake"),
    ("EXECUTE IMMEDIATE CONCAT('INSERT INTO d.t SELECT * FROM secret_2_', tbl)", "bigquery"),
    ("EXEC (@sql + N'secret-3')", "tsql"),
])
def test_sql_built_at_run_time_fails_with_a_reason_that_quotes_no_literal(sql, dialect):
    result = only(sql, dialect)
    assert result.error and "built at run time" in result.error
    assert "secret" not in result.error


@pytest.mark.parametrize("sql, dialect, name, type_", [
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY mart.daily", "postgres", "mart.daily", "view"),
    ("ALTER DYNAMIC TABLE a.dt REFRESH", "snowflake", "A.DT", "table"),
])
def test_a_refresh_touches_what_it_recomputes(sql, dialect, name, type_):
    result = only(sql, dialect)
    assert (result.kind, result.inputs, result.outputs) == ("ddl", (), ())
    assert [(d.name, d.type) for d in result.objects] == [(name, type_)]


def test_a_literal_executed_is_its_statements_with_their_own_text():
    results = extract("EXECUTE IMMEDIATE $$ BEGIN INSERT INTO a.t SELECT x FROM a.s; TRUNCATE TABLE a.s; END; $$",
                      "snowflake")
    assert [r.kind for r in results] == ["insert", "truncate"]
    assert results[0].sql.startswith("INSERT INTO a.t")
