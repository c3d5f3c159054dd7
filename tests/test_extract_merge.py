"""MERGE branches whose names or target columns the statement leaves implicit: what the golden
corpus cannot say (warnings), for fixtures/lineage/p_merge.sql's cases."""

from __future__ import annotations

import pytest

from sqllineage_harvester import extract

SNAPSHOT = """
merge into DB.SNAPSHOTS.ORDERS_SNAPSHOT as DBT_INTERNAL_DEST
using DB.SNAPSHOTS.ORDERS_SNAPSHOT__dbt_tmp as DBT_INTERNAL_SOURCE
on DBT_INTERNAL_SOURCE.dbt_scd_id = DBT_INTERNAL_DEST.dbt_scd_id
when matched and DBT_INTERNAL_DEST.dbt_valid_to is null
  then update set dbt_valid_to = DBT_INTERNAL_SOURCE.dbt_valid_to
when not matched then insert ("ID","STATUS","DBT_SCD_ID") values ("ID","STATUS","DBT_SCD_ID")
"""

UNLISTED = """
MERGE INTO mart.dim_product USING stg.product s ON mart.dim_product.id = s.id
WHEN MATCHED THEN UPDATE SET name = s.name, price = s.price
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.name, s.price)
"""


def test_dbt_snapshot_merge_is_whole_without_a_catalog():
    """Every inserted name is the source's: nothing is left to warn about."""
    result = extract(SNAPSHOT, "snowflake")[0]
    assert not result.warnings
    sources = {str(c.target): {str(s) for s in c.sources} for c in result.columns}
    assert sources["DB.SNAPSHOTS.ORDERS_SNAPSHOT.ID"] == {"DB.SNAPSHOTS.ORDERS_SNAPSHOT__DBT_TMP.ID"}


def test_not_matched_by_source_names_read_the_target():
    sql = ("MERGE t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE AND flag THEN "
           "UPDATE SET flag = false, n = n + 1")
    result = extract(sql, "bigquery")[0]
    assert not result.warnings
    assert {str(s) for c in result.columns if c.target.column == "n" for s in c.sources} == {"t.n"}
    assert "t" in {str(d) for d in result.inputs}


@pytest.mark.parametrize("dialect", ["redshift", "snowflake", "postgres", "databricks"])
def test_insert_values_without_columns_or_catalog_warns_and_keeps_sources(dialect):
    result = extract(UNLISTED, dialect)[0]
    assert any("the target columns are unknown without a catalog" in w for w in result.warnings), result.warnings
    star = [c for c in result.columns if c.target.column == "*"]
    assert len(star) == 1
    assert {s.column.lower() for s in star[0].sources} == {"id", "name", "price"}


def test_insert_values_with_a_catalog_of_another_width_warns():
    catalog = {"mart.dim_product": {"id": "int", "name": "text"}}
    result = extract(UNLISTED, "postgres", catalog=catalog)[0]
    assert any("the catalog's target has 2 columns" in w for w in result.warnings), result.warnings


def test_insert_values_by_catalog_position_has_no_warning():
    catalog = {"mart.dim_product": {"id": "int", "name": "text", "price": "numeric"}}
    result = extract(UNLISTED, "postgres", catalog=catalog)[0]
    assert not result.warnings
    assert {c.target.column for c in result.columns} == {"id", "name", "price"}


def test_insert_default_values_writes_nothing_and_warns_nothing():
    result = extract("MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT DEFAULT VALUES",
                     "postgres")[0]
    assert not result.warnings and not result.columns


def test_insert_values_of_literals_only_warns_nothing():
    """No column is read, so no lineage is lost (as a plain INSERT .. VALUES)."""
    result = extract("MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (1, 'x', now())",
                     "postgres")[0]
    assert not result.warnings and not result.columns


def test_insert_star_from_a_cte_with_a_column_list_names_the_target_after_it():
    sql = ("WITH c (k, v) AS (SELECT id, upper(name) FROM raw.src) "
           "MERGE INTO t USING c ON t.k = c.k WHEN NOT MATCHED THEN INSERT *")
    result = extract(sql, "databricks")[0]
    got = {str(c.target): {str(s) for s in c.sources} for c in result.columns}
    assert got == {"t.k": {"raw.src.id"}, "t.v": {"raw.src.name"}}
