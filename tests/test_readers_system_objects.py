"""System objects (catalogs, statistics views, the database's own schemas) never become
datasets, operation inputs or outputs, or usage: each dialect file lists them as
``system_objects`` patterns, and a statement that touches nothing else yields nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sqllineage_harvester import extract
from sqllineage_harvester.dialects import get_dialect, list_dialects, load_dialect
from sqllineage_harvester.errors import ConfigError
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store
from sqllineage_harvester.system_objects import without_system_objects

DEFAULTS = {"postgres": ("etl", "public"), "redshift": ("dev", "public"), "snowflake": ("DB", "PUBLIC"),
            "mysql": (None, "shop"), "mariadb": (None, "shop"), "bigquery": ("proj", None),
            "databricks": ("main", "default")}


def kept(dialect: str, sql: str) -> list[tuple[str, list[str], list[str], list[tuple[str, list[str]]]]]:
    """(kind, inputs, outputs, columns) of each statement once system objects are left out."""
    spec = get_dialect(dialect)
    database, schema = DEFAULTS[dialect]
    out = []
    for result in extract(sql, spec.sqlglot, default_database=database, default_schema=schema):
        assert result.error is None, result.error
        left = without_system_objects(spec, result)
        if left is not None:
            out.append((left.kind, [str(d) for d in left.inputs], [str(d) for d in left.outputs],
                        [(str(c.target), [str(s) for s in c.sources]) for c in left.columns]))
    return out


NOTHING = [
    ("postgres", "SELECT * FROM pg_class"),  # bare: PostgreSQL looks in pg_catalog first
    ("postgres", "SELECT c.relname FROM pg_catalog.pg_class c JOIN information_schema.tables t ON t.table_name = c.relname"),
    ("postgres", "SELECT * FROM PG_CATALOG.PG_NAMESPACE"),
    ("postgres", "SELECT query, calls FROM pg_stat_statements ORDER BY calls DESC"),
    ("postgres", "SELECT * FROM public.pg_stat_statements_info"),
    ("postgres", "SELECT * FROM pg_toast.pg_toast_2619"),
    ("postgres", "CREATE VIEW pg_buffercache AS SELECT P.* FROM pg_buffercache_pages() AS P (bufferid integer)"),
    ("postgres", "UPDATE pg_catalog.pg_depend SET deptype = 'e' WHERE objid = (SELECT oid FROM pg_catalog.pg_proc)"),
    ("redshift", "SELECT * FROM stl_query WHERE userid > 1"),
    ("redshift", "SELECT query_id FROM sys_query_history JOIN pg_catalog.pg_user ON true"),
    ("redshift", "SELECT * FROM svv_table_info"),
    ("snowflake", "SELECT * FROM snowflake.account_usage.query_history"),
    ("snowflake", "SELECT * FROM SNOWFLAKE.ORGANIZATION_USAGE.WAREHOUSE_METERING_HISTORY"),
    ("snowflake", "SELECT * FROM information_schema.tables"),
    ("snowflake", "SELECT * FROM OTHER_DB.INFORMATION_SCHEMA.COLUMNS"),
    ("mysql", "SELECT * FROM performance_schema.events_statements_history_long"),
    ("mysql", "SELECT user, host FROM mysql.user"),
    ("mysql", "SELECT * FROM sys.schema_table_statistics"),
    ("mariadb", "SELECT * FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'shop'"),
    ("mariadb", "SELECT * FROM INFORMATION_SCHEMA.columns"),
    ("bigquery", "SELECT * FROM `region-us`.INFORMATION_SCHEMA.JOBS"),
    ("bigquery", "SELECT * FROM `proj.region-eu.INFORMATION_SCHEMA.JOBS_BY_PROJECT`"),
    ("bigquery", "SELECT * FROM ds.INFORMATION_SCHEMA.TABLES"),
    ("databricks", "SELECT * FROM system.query.history"),
    ("databricks", "SELECT * FROM system.access.audit a JOIN main.information_schema.tables t ON true"),
]


@pytest.mark.parametrize("dialect, sql", NOTHING)
def test_a_statement_on_system_objects_alone_yields_nothing(dialect: str, sql: str) -> None:
    assert kept(dialect, sql) == []


def test_a_write_from_a_system_object_keeps_its_user_target_and_inputs_only() -> None:
    [(kind, inputs, outputs, columns)] = kept(
        "postgres", "INSERT INTO raw.tables (name, n, owner) SELECT c.relname, s.n, o.name FROM pg_class c "
                    "JOIN raw.stats s ON s.rel = c.oid JOIN information_schema.tables t ON t.table_name = c.relname "
                    "JOIN raw.owners o ON o.id = s.owner")
    assert kind == "insert" and sorted(inputs) == ["etl.raw.owners", "etl.raw.stats"] and outputs == ["etl.raw.tables"]
    assert dict(columns) == {"etl.raw.tables.name": [], "etl.raw.tables.n": ["etl.raw.stats.n"],
                             "etl.raw.tables.owner": ["etl.raw.owners.name"]}


def test_a_write_into_a_system_object_keeps_only_what_it_reads() -> None:
    [(kind, inputs, outputs, _)] = kept("snowflake", "INSERT INTO DB.RAW.AUDIT SELECT * FROM SNOWFLAKE.ACCOUNT_USAGE"
                                                     ".LOGIN_HISTORY")
    assert outputs == ["DB.RAW.AUDIT"] and inputs == []


@pytest.mark.parametrize("dialect, sql, expected", [
    ("postgres", "SELECT * FROM raw.my_pg_catalog", "etl.raw.my_pg_catalog"),
    ("postgres", "SELECT * FROM pg_catalog_copy.t", "etl.pg_catalog_copy.t"),
    ("postgres", "SELECT * FROM my_information_schema.tables", "etl.my_information_schema.tables"),
    ("postgres", "SELECT * FROM catalog.columns", "etl.catalog.columns"),
    ("postgres", "SELECT * FROM pg_temp.tmp_orders", "etl.pg_temp.tmp_orders"),  # a temp table is the user's
    ("mysql", "SELECT * FROM mysql_app.users", "mysql_app.users"),
    ("mysql", "SELECT * FROM shop.sys", "shop.sys"),
    ("snowflake", "SELECT * FROM DB.ACCOUNT_USAGE_COPY.QUERY_HISTORY", "DB.ACCOUNT_USAGE_COPY.QUERY_HISTORY"),
    ("snowflake", "SELECT * FROM SNOWFLAKE_SAMPLE_DATA.TPCH_SF1.ORDERS", "SNOWFLAKE_SAMPLE_DATA.TPCH_SF1.ORDERS"),
    ("databricks", "SELECT * FROM main.system.events", "main.system.events"),
    ("bigquery", "SELECT * FROM proj.information.schema_t", "proj.information.schema_t"),
])
def test_user_objects_with_system_like_names_are_kept(dialect: str, sql: str, expected: str) -> None:
    assert kept(dialect, sql)[0][1] == [expected]


def test_files_and_stages_are_never_system_objects() -> None:
    [(_, inputs, outputs, _)] = kept("snowflake", "COPY INTO DB.RAW.T FROM @information_schema.stage/x/")
    assert outputs == ["DB.RAW.T"] and inputs == ["@information_schema.stage/x/"]


def test_every_bundled_dialect_lists_its_system_objects() -> None:
    for name in list_dialects():
        assert get_dialect(name).system_objects, name
    assert "pg_catalog.*" in get_dialect("postgres").system_objects


@pytest.mark.parametrize("value, message", [
    ('"pg_catalog.*"', "must be a list"),
    ('["pg_catalog..x"]', "empty name part"),
    ('[""]', "empty name part"),
    ('[3]', "must be a string"),
])
def test_a_wrong_system_objects_list_is_a_configuration_error(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "x.toml"
    path.write_text(f'name = "x"\nsqlglot = "postgres"\nsystem_objects = {value}\n[export]\ncolumns.q = "sql"\n')
    with pytest.raises(ConfigError, match=message):
        load_dialect(path)


def test_a_harvest_stores_no_system_object(tmp_path: Path) -> None:
    export = tmp_path / "pg_stat_statements.csv"
    export.write_text(
        "query,calls,datname\n"
        "\"SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\",9,etl\n"
        "\"SELECT * FROM information_schema.columns WHERE table_schema = $1\",4,etl\n"
        "\"SELECT query, calls FROM pg_stat_statements\",2,etl\n"
        "\"CREATE TABLE raw.rels AS SELECT relname, relpages FROM pg_class\",1,etl\n"
        "\"INSERT INTO marts.t SELECT a FROM raw.s JOIN pg_roles r ON r.rolname = raw.s.owner\",3,etl\n"
        "\"SELECT a FROM raw.s\",5,etl\n")
    db = tmp_path / "lineage.db"
    harvest(open_source(export, "postgres"), open_store(f"sqlite:///{db}"),
            Options(dialect="postgres", namespace="postgres://test"))
    con = sqlite3.connect(db)
    try:
        names = {n for (n,) in con.execute("SELECT name FROM datasets")}
        columns = {f"{d}.{c}" for d, c in con.execute(
            "SELECT d.name, c.name FROM columns c JOIN datasets d ON d.id = c.dataset_id")}
        used = {n for (n,) in con.execute("SELECT d.name FROM usage u JOIN datasets d ON d.id = u.dataset_id")}
        ops = con.execute("SELECT type FROM operations").fetchall()
    finally:
        con.close()
    assert names == {"etl.raw.rels", "etl.marts.t", "etl.raw.s"}, names
    assert not [c for c in columns if "pg_" in c or "information_schema" in c]
    assert used == {"etl.raw.s"} and sorted(ops) == [("create_table_as",), ("insert",)]
