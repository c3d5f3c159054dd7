"""Why a statement could not be parsed, as a person reads it: what was found where, what was
expected; never sqlglot's reprs, never a literal."""

from __future__ import annotations

import pytest

from sqllineage_harvester import extract


def reason(sql: str, dialect: str = "postgres") -> str:
    (result,) = extract(sql, dialect)
    assert result.error, sql
    return result.error


@pytest.mark.parametrize("sql, expected", [
    ("SELECT a FROM t WHERE WHERE b = 1", "unexpected WHERE at line 1, column 23"),
    ("SELECT a FROM WHERE x = 1", "expected a table name, found WHERE at line 1, column 15"),
    ("SELECT (a FROM t", "expected ), found FROM at line 1, column 11"),
    ("SELECT a b c d FROM t", "unexpected name c at line 1, column 12"),
    ("SELECT a FROM t WHERE x = 5 6", "unexpected number at line 1, column 29"),
    ("SELECT a FROM t WHERE b IN (1,2", "expected ), found end of the statement at line 1, column 32"),
    ("MERGE INTO t USING s", "the WHEN clause of the MERGE is incomplete"),
    ("SELECT a\n  FROM t\n  WHERE x = 1 AND y = 2 WHERE z", "a second WHERE clause at line 3, column 25"),
    ("SELECT 'open FROM t", "unterminated string at line 1, column 8"),
])
def test_parse_failures_say_what_was_found_where(sql, expected):
    text = reason(sql)
    assert text.startswith("could not parse: ") and expected in text


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t WHERE WHERE b = 1", "MERGE INTO t USING s", "DELETE t WHERE", "CREATE TABLE AS SELECT 1",
    "SELECT * FROM t JOIN ON a = b", "WITH x AS (SELECT 1) ", "SELECT CASE WHEN a THEN b FROM t",
    "INSERT INTO t (a, b VALUES (1, 2)", "UPDATE SET a = 1",
])
@pytest.mark.parametrize("dialect", ["postgres", "snowflake", "bigquery", "tsql", "mysql"])
def test_no_sqlglot_internals_in_a_reason(sql, dialect):
    (result,) = extract(sql, dialect)
    text = result.error or ""
    for internal in ("<Token", "token_type", "<class", "sqlglot.", "Required keyword", "'?'", "Col:"):
        assert internal not in text, (dialect, sql, text)


def test_a_literal_where_parsing_stopped_is_named_by_its_kind_only():
    text = reason("SELECT a FROM t WHERE x = 'secret-value' 'another-secret'", "snowflake") \
        if extract("SELECT a FROM t WHERE x = 'secret-value' 'another-secret'", "snowflake")[0].error \
        else reason("SELECT a FROM t WHERE x = 1 'secret-value'")
    assert "secret" not in text and ("string" in text or "number" in text)
