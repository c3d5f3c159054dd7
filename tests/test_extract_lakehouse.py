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


# -- FROM .. INSERT .. SELECT .. INSERT .. SELECT ------------------------------------------------
AB = {"ods.a": {"k": "int", "x": "int", "z": "int"}, "ods.b": {"k": "int", "y": "int", "c": "int", "ds": "string"}}
MULTI = ("FROM ods.a JOIN ods.b ON ods.a.k = ods.b.k "
         "INSERT OVERWRITE TABLE dw.t1 SELECT x, y WHERE z > 1 "
         "INSERT INTO TABLE dw.t2 PARTITION (ds) SELECT y, x, ds WHERE c = 2")


def _edges(result) -> set[tuple[str, str, str]]:
    op = Operation(id="x", type=result.kind, fingerprint="f", sql=None, inputs=result.inputs, outputs=result.outputs,
                   columns=result.columns, indirect=result.indirect, namespace="n", user=None, system=None,
                   first_seen=None, last_seen=None)
    return {(str(s), str(t), kind) for s, t, kind in column_edge_refs(op)}


@pytest.mark.parametrize("dialect", LAKE)
def test_multi_insert_branches_resolve_columns_over_the_whole_from(dialect):
    assert columns(MULTI, dialect, AB) == {"dw.t1.x": {"ods.a.x"}, "dw.t1.y": {"ods.b.y"},
                                           "dw.t2.y": {"ods.b.y"}, "dw.t2.x": {"ods.a.x"}, "dw.t2.ds": {"ods.b.ds"}}


@pytest.mark.parametrize("dialect", LAKE)
def test_multi_insert_branch_filter_reaches_only_its_own_table(dialect):
    result = extract(MULTI, dialect, catalog=AB)[0]
    filters = {(s, t) for s, t, kind in _edges(result) if kind == "FILTER"}
    assert {t.split(".")[1] for s, t in filters if s == "ods.a.z"} == {"t1"}
    assert {t.split(".")[1] for s, t in filters if s == "ods.b.c"} == {"t2"}
    joins = {(s, t) for s, t, kind in _edges(result) if kind == "JOIN"}
    assert {t.split(".")[1] for _, t in joins} == {"t1", "t2"}  # the shared FROM's join feeds both


def test_multi_insert_without_catalog_warns_instead_of_guessing_the_table():
    sql = "FROM ods.a JOIN ods.b ON ods.a.k = ods.b.k INSERT INTO TABLE dw.t1 SELECT y"
    result = extract(sql, "hive")[0]
    assert not any(c.sources for c in result.columns)
    assert any("'y'" in w for w in result.warnings)


# -- the engine's names for unnamed columns ------------------------------------------------
CTAS = "CREATE TABLE dw.c AS SELECT a, count(*), upper(b), CAST(b AS INT) FROM dw.s GROUP BY a, b"


@pytest.mark.parametrize("dialect, names", [
    ("hive", ["a", "_c1", "_c2", "_c3"]),  # Hive and Impala: _c and the item's position
    ("trino", ["a", "_col1", "_col2", "_col3"]),
    ("athena", ["a", "_col1", "_col2", "_col3"]),
    ("spark", ["a", "count(*)", "upper(b)", "cast(b as int)"]),  # Spark: the expression's text
    ("databricks", ["a", "count(*)", "upper(b)", "cast(b as int)"]),
])
def test_a_created_table_names_unnamed_columns_as_its_engine_does(dialect, names):
    result = extract(CTAS, dialect)[0]
    assert [c.target.column for c in result.columns] == names


def test_a_view_and_the_next_statement_use_the_engine_names():
    sql = "CREATE VIEW dw.v AS SELECT k, max(v) FROM dw.s GROUP BY k; INSERT INTO dw.o SELECT _c1 FROM dw.v"
    view, insert = extract(sql, "hive")
    assert [c.target.column for c in view.columns] == ["k", "_c1"]
    assert [str(s) for c in insert.columns for s in c.sources] == ["dw.v._c1"]


def test_a_plain_select_keeps_the_text_of_an_unnamed_item():
    assert [c.target.column for c in extract("SELECT k, max(v) FROM dw.s GROUP BY k", "hive")[0].columns] == ["k", "max(v)"]


# -- nested collections and generators -----------------------------------------------------
def test_impala_collection_in_from_reads_the_table_column_and_is_no_table():
    result = extract("INSERT INTO dw.o SELECT t.id, a.item, a.pos FROM db.t t, t.int_array_col a", "hive")[0]
    assert [str(d) for d in result.inputs] == ["db.t"]
    assert {str(c.target): {str(s) for s in c.sources} for c in result.columns} == {
        "dw.o.id": {"db.t.id"}, "dw.o.item": {"db.t.int_array_col"}, "dw.o.pos": {"db.t.int_array_col"}}


@pytest.mark.parametrize("catalog", [None, {"db.t": {"id": "int", "m": "map<string,int>"}}])
def test_impala_map_collection_by_the_table_name_with_unqualified_key_and_value(catalog):
    result = extract("SELECT id, key, value FROM db.t, t.m WHERE value > 0", "hive", catalog=catalog)[0]
    assert [str(d) for d in result.inputs] == ["db.t"]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        "id": {"db.t.id"}, "key": {"db.t.m"}, "value": {"db.t.m"}}
    assert {(str(i.source), i.type) for i in result.indirect} == {("db.t.m", "FILTER")}


def test_impala_nested_collection_of_a_collection():
    sql = "SELECT c.id, o.order_id, i.item FROM db.customers c, c.orders o, o.items i"
    result = extract(sql, "hive")[0]
    assert [str(d) for d in result.inputs] == ["db.customers"]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        "id": {"db.customers.id"}, "order_id": {"db.customers.orders"}, "item": {"db.customers.orders"}}


def test_impala_collection_in_a_correlated_subquery():
    sql = "SELECT c.id FROM db.customers c WHERE EXISTS (SELECT 1 FROM c.orders o WHERE o.total > 10)"
    result = extract(sql, "hive", timeout=None)[0]
    assert [str(d) for d in result.inputs] == ["db.customers"]


def test_a_catalog_table_is_not_taken_for_a_collection():
    # sales.orders is a table the catalog knows, though a FROM item is named sales
    catalog = {"sales.orders": {"id": "int"}, "sales": {"id": "int"}}
    result = extract("SELECT o.id FROM sales, sales.orders o", "hive", catalog=catalog)[0]
    assert sorted(str(d) for d in result.inputs) == ["sales", "sales.orders"]


@pytest.mark.parametrize("dialect", LAKE)
@pytest.mark.parametrize("generator, names, alias", [
    ("explode(t.tags)", ["tag"], "tag"),
    ("posexplode(t.tags)", ["p", "tag"], "p, tag"),
    ("inline(t.structs)", ["f1", "f2"], "f1, f2"),
])
def test_lateral_view_generators_read_the_table_column(dialect, generator, names, alias):
    sql = f"INSERT INTO dw.o SELECT t.id, {', '.join(names)} FROM db.t t LATERAL VIEW {generator} g AS {alias}"
    result = extract(sql, dialect)[0]
    column = generator[generator.index("(") + 1 : -1]
    assert [str(d) for d in result.inputs] == ["db.t"]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        "id": {"db.t.id"}, **{n: {"db." + column} for n in names}}


def test_impala_collection_of_a_table_not_in_the_from_with_a_catalog():
    catalog = {"db.t": {"id": "int", "arr": "array<struct<sku:string,qty:int>>"}}
    result = extract("INSERT INTO dw.o SELECT pos, sku FROM db.t.arr", "hive", catalog=catalog)[0]
    assert [str(d) for d in result.inputs] == ["db.t"]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        "pos": {"db.t.arr"}, "sku": {"db.t.arr"}}


def test_an_unqualified_name_that_may_be_a_struct_field_of_an_unknown_collection_warns():
    result = extract("INSERT INTO dw.o SELECT sku FROM db.t t, t.arr a", "hive")[0]
    assert not any(c.sources for c in result.columns)
    assert any("'sku'" in w for w in result.warnings)
    known = {"db.t": {"id": "int", "arr": "array<struct<sku:string,qty:int>>"}}
    result = extract("INSERT INTO dw.o SELECT id, sku FROM db.t t, t.arr a", "hive", catalog=known)[0]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        "id": {"db.t.id"}, "sku": {"db.t.arr"}}


@pytest.mark.parametrize("sql", [
    "INSERT OVERWRITE TABLE dw.t PARTITION (country = 'US', ds) IF NOT EXISTS SELECT a, b, d FROM ods.o",
    "INSERT INTO dw.t PARTITION (country = 'US', ds) [SHUFFLE] SELECT a, b, d FROM ods.o",
    "INSERT INTO dw.t (id, amount) PARTITION (country = 'US', ds) /* +NOSHUFFLE */ [CLUSTERED] SELECT a, b, d FROM ods.o",
])
def test_hive_and_impala_insert_head_forms(sql):
    assert columns(sql, "hive", T | {"dw.t": {"id": "int", "amount": "double", "country": "string", "ds": "string"}}) == {
        "dw.t.id": {"ods.o.a"}, "dw.t.amount": {"ods.o.b"}, "dw.t.ds": {"ods.o.d"}, "dw.t.country": set()}


def test_multi_insert_branch_into_a_directory_writes_files():
    sql = ("FROM ods.a JOIN ods.b ON ods.a.k = ods.b.k INSERT OVERWRITE LOCAL DIRECTORY '/exports/ab' SELECT x, y "
           "INSERT INTO TABLE dw.t1 SELECT x")
    result = extract(sql, "hive", catalog=AB)[0]
    assert sorted(str(d) for d in result.outputs) == ["/exports/ab", "dw.t1"]
    assert sorted(str(d) for d in result.inputs) == ["ods.a", "ods.b"]
    assert {str(c.target): {str(s) for s in c.sources} for c in result.columns} == {"dw.t1.x": {"ods.a.x"}}


# -- views -------------------------------------------------------------------------------------
@pytest.mark.parametrize("dialect", ["spark", "databricks"])
def test_a_global_temporary_view_lives_in_global_temp_and_is_read_there(dialect):
    sql = ("CREATE OR REPLACE GLOBAL TEMPORARY VIEW recent AS SELECT id FROM db.s; "
           "INSERT INTO db.o SELECT id FROM global_temp.recent")
    view, insert = extract(sql, dialect)
    assert [(d.name, d.type) for d in view.outputs] == [("global_temp.recent", "temp_view")]
    assert {str(s) for c in insert.columns for s in c.sources} == {"global_temp.recent.id"}
    folded = extract(sql, dialect, collapse_temp=True)
    assert [(str(c.target), [str(s) for s in c.sources]) for r in folded for c in r.columns] == [("db.o.id", ["db.s.id"])]


@pytest.mark.parametrize("dialect", LAKE)
def test_alter_view_as_select_reads_like_create_view(dialect):
    result = extract("ALTER VIEW db.v AS SELECT a, b FROM db.s WHERE c > 0", dialect)[0]
    assert result.kind == "create_view" and [(d.name, d.type) for d in result.outputs] == [("db.v", "view")]
    assert {str(c.target): {str(s) for s in c.sources} for c in result.columns} == {"db.v.a": {"db.s.a"}, "db.v.b": {"db.s.b"}}


def test_table_level_lineage_takes_no_collection_for_a_table():
    for level in (False, "writes"):
        result = extract("INSERT INTO d.o SELECT t.id, a.item FROM db.t t, t.arr a", "hive", columns=level)[0]
        assert [str(d) for d in result.inputs] == ["db.t"]


@pytest.mark.parametrize("dialect", LAKE)
def test_select_star_into_dynamic_partitions_without_a_catalog_is_a_wildcard_with_a_warning(dialect):
    sql = "INSERT INTO dw.t PARTITION (country = 'US', ds) SELECT * FROM ods.o"
    assert columns(sql, dialect) == {"dw.t.*": {"ods.o.*"}, "dw.t.ds": {"ods.o.*"}, "dw.t.country": set()}
    assert any("a * whose columns are unknown" in w for w in warnings(sql, dialect))
    sql = "INSERT INTO dw.t PARTITION (ds) SELECT *, to_date(ts) AS d FROM ods.o"
    assert columns(sql, dialect) == {"dw.t.*": {"ods.o.*"}, "dw.t.ds": {"ods.o.ts"}}


# -- generators in a select list ---------------------------------------------------------------
GEN = {"db.t": {"id": "int", "arr": "array<int>", "m": "map<string,int>", "s": "array<struct<p:int,q:string>>"}}


@pytest.mark.parametrize("dialect", LAKE)
@pytest.mark.parametrize("item, names", [
    ("explode(arr)", {"col": "arr"}),
    ("explode(m)", {"key": "m", "value": "m"}),
    ("posexplode(arr)", {"pos": "arr", "col": "arr"}),
    ("posexplode(m)", {"pos": "m", "key": "m", "value": "m"}),
    ("inline(s)", {"p": "s", "q": "s"}),
    ("explode(m) AS (k, v)", {"k": "m", "v": "m"}),
])
def test_a_generator_in_the_select_list_yields_the_engines_columns(dialect, item, names):
    result = extract(f"CREATE TABLE dw.g AS SELECT {item} FROM db.t", dialect, catalog=GEN)[0]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        n: {"db.t." + source} for n, source in names.items()}
    assert [c.target.column for c in result.columns] == list(names)


def test_stack_and_json_tuple_columns_read_their_own_arguments():
    result = extract("CREATE TABLE dw.g AS SELECT stack(2, a, b, c, d) FROM db.t", "hive")[0]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        "col0": {"db.t.a", "db.t.c"}, "col1": {"db.t.b", "db.t.d"}}
    result = extract("CREATE TABLE dw.g AS SELECT json_tuple(js, 'secret_key', 'age') FROM db.t", "hive")[0]
    assert {c.target.column: {str(s) for s in c.sources} for c in result.columns} == {
        "c0": {"db.t.js"}, "c1": {"db.t.js"}}


def test_multi_insert_with_if_not_exists_is_one_statement_with_both_writes():
    sql = ("FROM ods.a INSERT OVERWRITE TABLE dw.t1 PARTITION (ds = '2024-01-01') IF NOT EXISTS SELECT x "
           "INSERT OVERWRITE TABLE dw.t2 SELECT z")
    results = extract(sql, "hive")
    assert len(results) == 1 and results[0].error is None
    assert {str(c.target): {str(s) for s in c.sources} for c in results[0].columns} == {
        "dw.t1.x": {"ods.a.x"}, "dw.t1.ds": set(), "dw.t2.z": {"ods.a.z"}}


@pytest.mark.parametrize("dialect", ["hive", "spark"])
def test_a_partitioned_table_created_earlier_lends_its_partition_columns(dialect):
    ddl = ("CREATE TABLE ods.a (x INT) PARTITIONED BY (ds STRING)" if dialect == "hive"
           else "CREATE TABLE ods.a (x INT, ds STRING) USING parquet PARTITIONED BY (ds)")
    sql = f"{ddl}; INSERT INTO dw.b PARTITION (ds) SELECT * FROM ods.a"
    assert columns(sql, dialect, index=1) == {"dw.b.x": {"ods.a.x"}, "dw.b.ds": {"ods.a.ds"}}


def test_the_harvest_learns_hive_partition_columns_from_create_table():
    from sqllineage_harvester.extract.catalog import defined_columns

    assert defined_columns("CREATE TABLE ods.a (x INT) PARTITIONED BY (DS STRING)", "hive") == {"x": "INT", "ds": "STRING"}


def test_star_into_dynamic_partitions_is_named_after_the_expanded_columns():
    catalog = {"ods.a": {"x": "int", "d": "string"}}
    assert columns("INSERT INTO dw.b PARTITION (ds) SELECT * FROM ods.a", "hive", catalog) == {
        "dw.b.x": {"ods.a.x"}, "dw.b.ds": {"ods.a.d"}}


def test_impala_upsert_into_writes_like_insert():
    for sql in ("UPSERT INTO db.k (a, b) SELECT x, y FROM db.s", "UPSERT INTO db.k (b, a) PARTITION (ds) SELECT y, x, d FROM db.s"):
        result = extract(sql, "hive")[0]
        assert result.error is None and [str(d) for d in result.outputs] == ["db.k"]
        assert {str(c.target): {str(s) for s in c.sources} for c in result.columns if c.target.column in "ab"} == {
            "db.k.a": {"db.s.x"}, "db.k.b": {"db.s.y"}}


@pytest.mark.parametrize("source", ["db.s", "(SELECT * FROM db.s) q"])
def test_each_multi_insert_branch_names_unnamed_items_by_its_own_text(source):
    sql = (f"FROM {source} INSERT OVERWRITE DIRECTORY '/x' SELECT a "
           "INSERT INTO db.t1 SELECT upper(a), b INSERT INTO db.t2 SELECT lower(c), d")
    assert sorted(str(c.target) for c in extract(sql, "spark")[0].columns) == [
        "db.t1.b", "db.t1.upper(a)", "db.t2.d", "db.t2.lower(c)"]


def test_inline_of_structs_of_unknown_fields_is_a_wildcard():
    result = extract("CREATE TABLE dw.g AS SELECT inline(s) FROM db.t", "hive")[0]
    assert {str(c.target): {str(x) for x in c.sources} for c in result.columns} == {"dw.g.*": {"db.t.s"}}


@pytest.mark.parametrize("dialect", LAKE)
def test_multi_insert_over_a_lateral_view_reads_the_exploded_column(dialect):
    sql = ("FROM db.t t LATERAL VIEW explode(t.arr) x AS e "
           "INSERT INTO TABLE d.o SELECT t.id, e INSERT INTO TABLE d.p SELECT e WHERE t.k = 1")
    assert columns(sql, dialect) == {"d.o.id": {"db.t.id"}, "d.o.e": {"db.t.arr"}, "d.p.e": {"db.t.arr"}}


@pytest.mark.parametrize("dialect", ["spark", "databricks"])
@pytest.mark.parametrize("partition", ["", "PARTITION (ds) ", "PARTITION (ds = '2024-01-01') "])
def test_insert_by_name_fills_each_column_of_the_items_name(dialect, partition):
    catalog = {"g.t": {"x": "int", "y": "int", "ds": "string"}}
    ds = ", d AS ds" if partition == "PARTITION (ds) " else ""
    got = columns(f"INSERT INTO g.t {partition}BY NAME SELECT a AS y, b AS x{ds} FROM s.u", dialect, catalog)
    assert got["g.t.x"] == {"s.u.b"} and got["g.t.y"] == {"s.u.a"}


@pytest.mark.parametrize("dialect", LAKE)
def test_lateral_view_stack_columns_read_their_own_arguments(dialect):
    sql = "INSERT INTO d.o SELECT t.id, s.x, s.y FROM db.t t LATERAL VIEW stack(2, t.a, t.b, t.c, t.d) s AS x, y"
    assert columns(sql, dialect) == {"d.o.id": {"db.t.id"}, "d.o.x": {"db.t.a", "db.t.c"}, "d.o.y": {"db.t.b", "db.t.d"}}
