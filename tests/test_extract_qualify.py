"""QUALIFY on a select item's alias (Snowflake, Databricks, BigQuery): the filter reads the alias's
window, as the same window written in the QUALIFY clause does, and leaves no warning behind (the
statement counts as full lineage)."""

import pytest

from sqllineage_harvester.extract import extract

WINDOW = "ROW_NUMBER() OVER (PARTITION BY id ORDER BY updated_at DESC)"


@pytest.mark.parametrize("dialect", ["snowflake", "databricks", "bigquery"])
def test_qualify_on_an_alias_is_the_window_it_names(dialect):
    by_alias = f"INSERT INTO mart.latest SELECT id, email FROM (SELECT id, email, {WINDOW} AS rn FROM stg.c QUALIFY rn = 1) d"
    inline = f"INSERT INTO mart.latest SELECT id, email FROM (SELECT id, email FROM stg.c QUALIFY {WINDOW} = 1) d"
    (a,), (b,) = extract(by_alias, dialect), extract(inline, dialect)
    assert a.warnings == () and b.warnings == ()
    assert {(i.source.column.lower(), i.type) for i in a.indirect} == {("id", "FILTER"), ("updated_at", "FILTER")}
    assert a.indirect == b.indirect and a.columns == b.columns

