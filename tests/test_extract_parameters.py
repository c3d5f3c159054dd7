"""Positional parameters written without spaces next to dollar quoting (pg_stat_statements text)."""

import pytest
from sqlglot.dialects.dialect import Dialect

from sqllineage_harvester import extract
from sqllineage_harvester.extract.parameters import spaced, tokenize

PG = Dialect.get_or_raise("postgres")


@pytest.mark.parametrize("sql", [
    "SELECT '$1,$2' FROM t",
    "SELECT E'it\\'s $1,$2' FROM t",
    'SELECT "x$1,$2" FROM t',
    "SELECT a FROM t /* ($1,$2) */",
    "SELECT a FROM t -- ($1,$2)",
    "SELECT $$ ($1,$2) $$ FROM t",
    "SELECT $body$ ($1,$2) $body$ FROM t",
    "SELECT x$1,y$2 FROM t",
    "SELECT $1, $2 FROM t",
])
def test_strings_names_comments_and_dollar_bodies_are_left_as_written(sql):
    assert spaced(sql, PG) == sql


@pytest.mark.parametrize("sql, want", [
    ("VALUES ($1,$2)", "VALUES ($1 ,$2)"),
    ("WHERE b IN ($1,$2,$3)", "WHERE b IN ($1 ,$2 ,$3)"),
    ("SELECT f($1,$2), $3::int||$4", "SELECT f($1 ,$2), $3 ::int||$4"),
    ("SELECT $a,$b", "SELECT $a ,$b"),
])
def test_a_space_goes_after_each_parameter_the_tokenizer_would_take_for_a_tag(sql, want):
    assert spaced(sql, PG) == want


def test_dialects_without_dollar_quoting_are_untouched():
    text = "SELECT $1,$2 FROM @stage"
    assert spaced(text, Dialect.get_or_raise("snowflake")) == text


def test_tokens_point_into_the_text_as_written():
    text = "INSERT INTO t VALUES ($1,$2), ($3,$4)"
    tokens = tokenize(PG, text)
    assert [text[t.start : t.end + 1] for t in tokens] == [t.text for t in tokens]
    assert [t.text for t in tokens][-6:] == ["$", "3", ",", "$", "4", ")"]


def test_the_statement_text_is_kept_as_written():
    sql = "INSERT INTO t (a, b) VALUES ($1,$2)"
    result = extract(sql, "postgres")[0]
    assert result.error is None and result.sql == sql
