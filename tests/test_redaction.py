"""Redaction follows each dialect's own lexical rules: what its lexer reads as a literal or a
comment goes, what it reads as a name stays; in SQL text, in names made from expressions and in
failure reasons."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sqllineage_harvester import extract
from sqllineage_harvester.graph import sanitize
from sqllineage_harvester.model import LogEntry
from sqllineage_harvester.normalize import Normalizer, fingerprint, redact

ROOT = Path(__file__).resolve().parent.parent

# (dialect, sql, what must survive): the literal in each is the word "secret".
LITERALS = [
    ("postgres", r"SELECT 'C:\', 'secret' FROM t", "FROM t"),
    ("redshift", r"SELECT 'C:\', 'secret' FROM t", "FROM t"),
    ("postgres", r"SELECT E'it\'s', 'secret' FROM t", "FROM t"),
    ("mysql", r"SELECT 'it\'s secret' FROM t", "FROM t"),
    ("mysql", 'SELECT concat(name, "secret") FROM t', "concat(name, "),
    ("bigquery", 'SELECT concat(name, "secret") FROM t', "concat(name, "),
    ("bigquery", 'SELECT """a " secret\n""" FROM t', "FROM t"),
    ("bigquery", "SELECT '''it's secret''' FROM t", "FROM t"),
    ("bigquery", r"SELECT r'\'', 'secret' FROM t", "FROM t"),
    ("databricks", r"SELECT r'C:\', 'secret' FROM t", "FROM t"),
    ("mysql", "SELECT a FROM t # secret\nWHERE b", "WHERE b"),
    ("bigquery", "SELECT a FROM t # secret\nWHERE b", "WHERE b"),
    ("snowflake", "SELECT a FROM t // secret\nWHERE b", "WHERE b"),
    ("snowflake", "SELECT $$ it's secret $$ FROM t", "FROM t"),
    ("postgres", "SELECT a /* x /* y */ secret */ FROM t", "FROM t"),
    ("postgres", "SELECT $é$ secret $é$ FROM t", "FROM t"),
    ("postgres", "SELECT $ünïcødé_1$ it's secret $ünïcødé_1$ FROM t", "FROM t"),
    ("postgres", "SELECT 'secret", "SELECT"),
    ("mysql", "SELECT 1--'\nsecret'", "SELECT"),
    ("postgres", "SELECT 0b1010011010, 'x' FROM t", "FROM t"),
]


@pytest.mark.parametrize("dialect, sql, kept", LITERALS)
def test_what_the_dialects_lexer_reads_as_a_literal_or_comment_is_redacted(dialect: str, sql: str, kept: str) -> None:
    redacted = redact(sql, dialect)
    assert "secret" not in redacted and "1010011010" not in redacted
    assert kept in redacted


@pytest.mark.parametrize("dialect, sql, kept", [
    ("postgres", 'SELECT "it\'s" FROM "My Table"', '"it\'s" FROM "My Table"'),
    ("snowflake", 'SELECT "Amount" FROM t', '"Amount"'),
    ("mysql", "SELECT `it's`, `a``b` FROM `t`", "`it's`, `a``b` FROM `t`"),
    ("bigquery", r"SELECT `a\`b` FROM `p.d.t`", r"`a\`b` FROM `p.d.t`"),
    ("tsql", "SELECT [it's] FROM [t]", "[it's] FROM [t]"),
    ("postgres", "SELECT a$b$c, $1 FROM t1", "a$b$c, $1 FROM t1"),
    ("mysql", "SELECT a FROM t WHERE b = 1--1", "SELECT a FROM t WHERE b = ?--?"),
])
def test_quoted_names_and_placeholders_survive(dialect: str, sql: str, kept: str) -> None:
    assert kept in redact(sql, dialect)


def test_the_normalizer_redacts_each_entry_by_its_own_dialect() -> None:
    normalizer = Normalizer()
    pg = normalizer(LogEntry(sql=r"SELECT 'C:\', 'secret' FROM t", dialect="postgres"))
    my = normalizer(LogEntry(sql='SELECT "secret" FROM t # secret', dialect="mysql"))
    assert "secret" not in pg.redacted_sql + my.redacted_sql
    # the same text read as PostgreSQL: a quoted name, kept
    assert '"secret"' in normalizer(LogEntry(sql='SELECT "secret" FROM t', dialect="postgres")).redacted_sql


@pytest.mark.parametrize("dialect, a, b", [
    ("mysql", 'SELECT a FROM t WHERE b = "x" # by jane', "SELECT a FROM t WHERE b = 'yy'"),
    ("bigquery", 'SELECT a FROM t WHERE b = """x"""', 'SELECT a FROM t WHERE b = "yy"'),
    ("postgres", "SELECT a FROM t /* x /* y */ z */ WHERE b = $é$x$é$", "SELECT a FROM t WHERE b = 'it''s'"),
    ("postgres", r"SELECT a FROM t WHERE b = 'C:\'", "SELECT a FROM t WHERE b = 'x'"),
])
def test_statements_differing_only_in_literals_and_comments_share_a_fingerprint(dialect: str, a: str, b: str) -> None:
    assert fingerprint(a, dialect=dialect) == fingerprint(b, dialect=dialect)


def test_fast_path_and_scanner_agree_on_prefixed_and_doubled_strings() -> None:
    for dialect in ("postgres", "mysql", "bigquery", "snowflake", "tsql"):
        for sql in ["SELECT N'abc', 'it''s', 42 FROM t", "SELECT x'0A', 'a' 'b' FROM t1"]:
            # a comment sends the text through the full scanner; the rest must read the same
            assert fingerprint(sql, dialect=dialect) == fingerprint(sql + " -- c", dialect=dialect)


@pytest.mark.parametrize("dialect, sql", [
    ("postgres", "INSERT INTO x.t SELECT 'secret"),
    ("mysql", 'INSERT INTO x.t SELECT "secret'),
    ("postgres", "SELECT a FROM t WHERE b = 'x' AND /* secret"),
    ("bigquery", 'SELECT """secret'),
])
def test_an_unterminated_literal_leaves_no_text_in_the_reason_and_keeps_its_position(dialect: str, sql: str) -> None:
    (result,) = extract(sql, dialect)
    assert result.error and "secret" not in result.error
    assert "at line 1, column " in result.error and "?" not in result.error.split("at line")[1]
    assert "secret" not in (sanitize(result).error or "")


def test_a_parse_error_names_the_token_by_its_kind_and_keeps_line_and_column() -> None:
    (result,) = extract("SELECT a\nFROM 'secret' WHERE", "postgres")
    error = sanitize(result).error or ""
    assert "secret" not in error and "at line 2, column " in error


@pytest.mark.parametrize("dialect, sql", [
    ("mysql", 'CREATE TABLE m.t AS SELECT concat(name, "secret"), coalesce(a, 12345) FROM s'),
    ("bigquery", 'CREATE TABLE m.t AS SELECT concat(name, """sec\nret""") FROM s'),
    ("postgres", "CREATE TABLE m.t AS SELECT coalesce(a, $é$secret$é$), coalesce(b, 'C:\\') FROM s"),
    # A bare literal, or one only cast or wrapped, is named by sqlglot after its value.
    ("postgres", "INSERT INTO m.t SELECT coalesce(a, 1), 'secret', 'C:'::text, (12345) FROM s"),
    ("snowflake", "CREATE TABLE m.t AS SELECT coalesce(a, 1), 'secret'::varchar, CAST('C:' AS TEXT), -12345 FROM s"),
    ("bigquery", "INSERT INTO m.t SELECT coalesce(a, 1), 'secret', SAFE_CAST('C:' AS STRING), 12345 FROM s"),
    ("mysql", "INSERT INTO m.t SELECT coalesce(a, 1), 'secret', _utf8mb4'C:', 12345 FROM s"),
])
def test_names_made_from_expressions_carry_no_literal(dialect: str, sql: str) -> None:
    for result in extract(sql, dialect):
        for clean in (sanitize(result), sanitize(result, dialect)):
            names = json.dumps([str(c.target) for c in clean.columns])
            assert "sec" not in names.lower() and "12345" not in names and "c:" not in names.lower()
            assert "concat(name" in names.lower() or "coalesce(" in names.lower()


def test_a_dialect_keeps_quoted_names_in_expression_names() -> None:
    (result,) = extract('CREATE TABLE m.t AS SELECT upper("Name") FROM s', "postgres")
    assert [c.target.column for c in sanitize(result, "postgres").columns] == ['upper("Name")']
def _parse_cli(sql: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "parse", *args], input=sql,
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_parse_prints_the_users_sql_back_unless_asked_to_redact() -> None:
    sql = 'CREATE TABLE m.t AS SELECT concat(name, "secret") FROM s;\nSELECT "unterminated secret'
    for fmt in ("table", "json"):
        assert "secret" in _parse_cli(sql, "--dialect", "mysql", "--format", fmt)
        redacted = _parse_cli(sql, "--dialect", "mysql", "--format", fmt, "--redact")
        assert "secret" not in redacted and "m.t" in redacted
