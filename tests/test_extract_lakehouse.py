"""Writes of the lake engines (Hive, Spark, Databricks, Impala SQL through the hive dialect)
mapped as the engine maps them: PARTITION clauses, multi-insert branches, nested collections,
and the names the engine gives unnamed columns."""

from __future__ import annotations

import pytest

from sqllineage_harvester import extract
from sqllineage_harvester.stores.common import column_edge_refs
from sqllineage_harvester.model import Operation

LAKE = ["hive", "spark", "databricks"]


def columns(sql: str, dialect: str, catalog: dict | None = None, index: int = 0) -> dict[str, set[str]]:
    result = extract(sql, dialect, catalog=catalog)[index]
    assert result.error is None, result.error
    return {str(c.target): {str(s) for s in c.sources} for c in result.columns}


def warnings(sql: str, dialect: str, catalog: dict | None = None) -> list[str]:
    return [w for r in extract(sql, dialect, catalog=catalog) for w in r.warnings]


# -- INSERT .. PARTITION -------------------------------------------------------------------
T = {"dw.t": {"id": "int", "amount": "double", "country": "string", "ds": "string", "hr": "int"}}


@pytest.mark.parametrize("dialect", LAKE)
def test_static_partition_takes_no_select_column_and_the_rest_fill_the_table_in_order(dialect):
    # partition columns listed first in the catalog: the table's order is what counts
    catalog = {"dw.t": {"country": "string", "id": "int", "ds": "string", "amount": "double"}}
    sql = "INSERT OVERWRITE TABLE dw.t PARTITION (country = 'US', ds) SELECT order_id, total, day FROM ods.o"
    got = columns(sql, dialect, catalog)
    assert got == {"dw.t.id": {"ods.o.order_id"}, "dw.t.amount": {"ods.o.total"},
                   "dw.t.ds": {"ods.o.day"}, "dw.t.country": set()}
    assert not warnings(sql, dialect, catalog)


@pytest.mark.parametrize("dialect", LAKE)
def test_several_dynamic_partitions_take_the_last_items_in_clause_order(dialect):
    # the clause names hr before ds: the select's last two items fill hr then ds
    sql = "INSERT INTO TABLE dw.t PARTITION (country = 'US', hr, ds) SELECT a, b, h, d FROM ods.o"
    assert columns(sql, dialect, T) == {"dw.t.id": {"ods.o.a"}, "dw.t.amount": {"ods.o.b"}, "dw.t.hr": {"ods.o.h"},
                                        "dw.t.ds": {"ods.o.d"}, "dw.t.country": set()}


@pytest.mark.parametrize("dialect", LAKE)
def test_only_static_partitions_with_a_catalog_name_the_table_columns(dialect):
    sql = "INSERT OVERWRITE TABLE dw.t PARTITION (ds = '2024-01-01', country = 'US', hr = 3) SELECT x, y FROM ods.o"
    assert columns(sql, dialect, T) == {"dw.t.id": {"ods.o.x"}, "dw.t.amount": {"ods.o.y"}, "dw.t.ds": set(),
                                        "dw.t.country": set(), "dw.t.hr": set()}


@pytest.mark.parametrize("dialect", LAKE)
def test_partitions_without_a_catalog_still_tell_which_columns_are_partitions(dialect):
    sql = "INSERT OVERWRITE TABLE dw.t PARTITION (country = 'US', ds) SELECT id, amount, day FROM ods.o"
    assert columns(sql, dialect) == {"dw.t.id": {"ods.o.id"}, "dw.t.amount": {"ods.o.amount"},
                                     "dw.t.ds": {"ods.o.day"}, "dw.t.country": set()}
    assert not warnings(sql, dialect)


@pytest.mark.parametrize("dialect", LAKE)
@pytest.mark.parametrize("catalog", [None, T])
def test_a_column_list_with_partitions_fills_the_list_then_the_dynamic_partitions(dialect, catalog):
    sql = "INSERT INTO dw.t PARTITION (country = 'US', ds) (amount, id) SELECT x, y, d FROM ods.o"
    assert columns(sql, dialect, catalog) == {"dw.t.amount": {"ods.o.x"}, "dw.t.id": {"ods.o.y"},
                                              "dw.t.ds": {"ods.o.d"}, "dw.t.country": set()}


@pytest.mark.parametrize("catalog", [None, T])
def test_impala_column_list_before_the_partition_clause(catalog):
    sql = "INSERT INTO dw.t (amount, id) PARTITION (country = 'US', ds) SELECT x, y, d FROM ods.o"
    got = extract(sql, "hive", catalog=catalog)[0]
    assert got.error is None and got.kind == "insert"
    assert {str(c.target): {str(s) for s in c.sources} for c in got.columns} == {
        "dw.t.amount": {"ods.o.x"}, "dw.t.id": {"ods.o.y"}, "dw.t.ds": {"ods.o.d"}, "dw.t.country": set()}


@pytest.mark.parametrize("dialect", LAKE)
def test_select_star_into_a_partitioned_table_with_a_catalog(dialect):
    catalog = {**T, "ods.o": {"o_id": "int", "o_amount": "double", "o_hr": "int", "o_ds": "string"}}
    sql = "INSERT OVERWRITE TABLE dw.t PARTITION (country = 'US', hr, ds) SELECT * FROM ods.o"
    assert columns(sql, dialect, catalog) == {"dw.t.id": {"ods.o.o_id"}, "dw.t.amount": {"ods.o.o_amount"},
                                              "dw.t.hr": {"ods.o.o_hr"}, "dw.t.ds": {"ods.o.o_ds"},
                                              "dw.t.country": set()}


def test_a_select_that_does_not_fit_the_partitioned_table_warns():
    sql = "INSERT INTO dw.t PARTITION (country = 'US', ds) SELECT a, b FROM ods.o"
    assert any("yields 2" in w for w in warnings(sql, "hive", T))


def test_partition_values_never_reach_the_output():
    result = extract("INSERT INTO dw.t PARTITION (ds = 'secret-2024') SELECT a FROM ods.o", "hive")[0]
    assert "secret" not in repr((result.columns, result.indirect, result.warnings))
