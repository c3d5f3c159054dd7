"""``SELECT * EXCEPT / EXCLUDE / REPLACE / RENAME``: without the source's columns the star stays a
wildcard edge, which then also claims the columns left out or changed; the statement says so.
With the columns known the star is expanded and nothing is said."""

import pytest

from sqllineage_harvester.extract import extract

CHANGED = [
    ("bigquery", "CREATE TABLE p.m.x AS SELECT * EXCEPT (ssn, dob) FROM p.r.people"),
    ("snowflake", "CREATE TABLE m.x AS SELECT * EXCLUDE (ssn) RENAME (fname AS first_name) FROM r.people"),
    ("bigquery", "CREATE TABLE p.m.x AS SELECT t.* REPLACE (UPPER(name) AS name) FROM p.r.people t"),
]


@pytest.mark.parametrize("dialect,sql", CHANGED)
def test_a_changed_star_over_unknown_columns_warns(dialect, sql):
    (result,) = extract(sql, dialect)
    assert any(c.target.column == "*" for c in result.columns)
    assert any("EXCEPT / EXCLUDE / REPLACE / RENAME" in w for w in result.warnings)


def test_a_changed_star_over_known_columns_is_expanded_without_a_warning():
    catalog = {"r.people": {"id": "int", "ssn": "text", "fname": "text"}}
    (result,) = extract("CREATE TABLE m.x AS SELECT * EXCLUDE (ssn) RENAME (fname AS first_name) FROM r.people",
                        "snowflake", catalog=catalog)
    assert result.warnings == ()
    assert sorted(c.target.column for c in result.columns) == ["FIRST_NAME", "ID"]


def test_a_plain_star_over_unknown_columns_says_nothing():
    (result,) = extract("CREATE TABLE p.m.x AS SELECT * FROM p.r.people", "bigquery")
    assert result.warnings == ()
