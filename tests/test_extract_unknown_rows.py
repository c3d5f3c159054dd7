"""Rows whose origin the statement does not show: a plain write or read with no sources and no
word would pass for complete lineage, so the statement says what it cannot know.

T-SQL ``INSERT INTO t EXEC proc`` writes a procedure's result set; Snowflake's
``TABLE(RESULT_SCAN(LAST_QUERY_ID()))`` reads an earlier query's result; EXTERNAL_QUERY, OPENQUERY
and dblink read what a query on another server returns."""

import pytest

from sqllineage_harvester.extract import extract


def test_insert_of_a_procedure_s_rows_warns_that_their_sources_are_not_known():
    first = extract("INSERT INTO dbo.results (a, b) EXEC dbo.get_results @x = 1", "tsql")[0]
    assert first.kind == "insert" and [str(d) for d in first.outputs] == ["dbo.results"]
    assert any("INSERT .. EXEC" in w for w in first.warnings)


def test_insert_default_values_says_nothing():
    (default,) = extract("INSERT INTO t DEFAULT VALUES", "postgres")
    assert default.warnings == ()


@pytest.mark.parametrize("items", ['"name", "rows"', "*"])
def test_result_scan_warns_that_its_columns_sources_are_not_known(items):
    (result,) = extract(f"CREATE TABLE m.r AS SELECT {items} FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))", "snowflake")
    assert result.inputs == () and any("RESULT_SCAN" in w for w in result.warnings)


def test_a_generator_table_function_says_nothing():
    (result,) = extract("SELECT seq4() AS n FROM TABLE(GENERATOR(ROWCOUNT => 10))", "snowflake")
    assert result.warnings == ()


@pytest.mark.parametrize("dialect, sql", [
    ("bigquery", 'CREATE TABLE p.m.pg AS SELECT * FROM EXTERNAL_QUERY("p.us.conn", "SELECT id, name FROM users")'),
    ("tsql", "SELECT id, name INTO dbo.remote FROM OPENQUERY(LINKED, 'SELECT id, name FROM users')"),
    ("postgres", "CREATE TABLE m.r AS SELECT id FROM dblink('host=x', 'select id from users') AS t(id int)"),
])
def test_a_query_run_on_another_server_warns_that_its_columns_origin_is_not_known(dialect, sql):
    (result,) = extract(sql, dialect)
    assert result.inputs == () and any("another server" in w for w in result.warnings)
