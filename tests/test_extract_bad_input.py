"""Bad input is a result with a reason, never an exception, and never stops a script."""

import pytest

from sqllineage_harvester import extract
from sqllineage_harvester.errors import ConfigError


def only(sql, dialect="postgres", **kw):
    results = extract(sql, dialect, **kw)
    assert len(results) == 1
    return results[0]


@pytest.mark.parametrize("sql", ["", "   \n", ";;", "-- only a comment\n"])
def test_empty_input_is_reported(sql):
    assert "empty input" in only(sql).error


def test_binary_garbage_is_a_parse_error():
    result = only(bytes(range(256)).decode("latin-1") * 4)
    assert result.error and result.kind == "other"


def test_truncated_statement_is_a_parse_error():
    assert only("INSERT INTO t SELECT a, b FROM s WHERE (a > ").error.startswith("could not parse")


@pytest.mark.parametrize("sql", ["SELEC a", "SELEC a FROM t", "INSRT INTO t VALUES (1)"])
def test_a_misspelled_keyword_is_not_taken_for_a_statement(sql):
    result = only(sql)
    assert result.error and result.kind == "other"


def test_deep_nesting_is_reported_not_raised():
    result = only("SELECT " + "(" * 500 + "1" + ")" * 500)
    assert result.error


def test_a_bad_statement_does_not_stop_the_script():
    results = extract("INSERT INTO a SELECT x FROM b; SELECT FROM WHERE; INSERT INTO c SELECT y FROM d", "postgres")
    assert [r.error is None for r in results] == [True, False, True]
    assert [str(o) for o in results[2].outputs] == ["c"]


def test_oversized_statement_gets_a_clear_error_and_bounded_cost():
    big = "INSERT INTO t SELECT " + ", ".join(f"a{i} + b{i} AS c{i}" for i in range(60000)) + " FROM s"
    result = only(big, max_bytes=500_000)
    assert "too large" in result.error


def test_oversized_bulk_values_insert_still_names_its_target():
    big = "INSERT INTO app.events (id, email) VALUES " + ", ".join(f"({i}, 'u{i}@example.com')" for i in range(60000))
    result = only(big, max_bytes=500_000)
    assert result.error is None and [str(o) for o in result.outputs] == ["app.events"]
    assert "example.com" not in result.sql or len(result.sql) <= 200


def test_a_slow_statement_times_out():
    wide = "INSERT INTO t SELECT " + ", ".join(f"coalesce(a{i}, b{i}) AS c{i}" for i in range(8000)) + " FROM s"
    result = only(wide, timeout=0.05)
    assert result.error and "timed out" in result.error


def test_unknown_dialect_is_a_configuration_error():
    with pytest.raises(ConfigError, match="unknown dialect"):
        extract("SELECT 1", "no-such-sql")


def test_invalid_catalog_is_a_configuration_error():
    with pytest.raises(ConfigError):
        extract("SELECT 1", "postgres", catalog={"t": ["not", "a", "mapping"]})


def test_every_sqlglot_dialect_is_accepted_by_name():
    from sqllineage_harvester.extract import dialect_names

    not_sql = {"dax", "prql"}  # sqlglot knows them, but they are other query languages
    for name in dialect_names():
        result = extract("INSERT INTO t SELECT a FROM s", name)[0]
        assert (result.error is None) == (name not in not_sql), (name, result.error)


@pytest.mark.parametrize("dialect, sql", [
    # sqlglot keeps these as an opaque command: the write and its query must not pass as "other"
    ("hive", "CREATE TABLE k.t PRIMARY KEY (id) PARTITION BY HASH (id) PARTITIONS 4 STORED AS KUDU "
             "AS SELECT id, amount FROM raw.p"),
    ("snowflake", "CREATE OR REPLACE SECURE MATERIALIZED VIEW v CLUSTER BY (a) WEIRD OPTION AS SELECT a FROM s"),
])
def test_a_create_with_a_query_sqlglot_cannot_read_is_a_failure_not_other(dialect, sql):
    result = only(sql, dialect)
    assert result.error and "not read" in result.error


@pytest.mark.parametrize("dialect, sql", [
    ("postgres", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$"),
    ("hive", "CREATE TEMPORARY MACRO simple_add (x int, y int) x + y"),
])
def test_a_create_without_a_query_stays_quiet(dialect, sql):
    result = only(sql, dialect)
    assert not result.error


@pytest.mark.parametrize("sql", [
    "COMPUTE STATS raw.t", "COMPUTE INCREMENTAL STATS raw.t PARTITION (dt='2024-01-01')",
    "INVALIDATE METADATA raw.t", "INVALIDATE METADATA",
])
def test_impala_metadata_statements_sqlglot_cannot_read_are_other_not_failures(sql):
    """Impala's statistics and metadata commands move no data: counted as failures they would
    make every Impala log look broken."""
    result = only(sql, "impala")
    assert result.kind == "other" and not result.error and not result.outputs
