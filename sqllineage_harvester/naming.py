"""Where a dataset lives: the (namespace, name) pair of OpenLineage's naming conventions.

A table is named within the namespace of the database it was read from (``postgres://db:5432`` +
``app.public.orders``). An object-store path is the same dataset whoever names it and however it
is written: ``s3://bucket/orders``, ``s3://bucket/orders/``, ``s3a://bucket/orders`` and
OpenLineage's namespace ``s3://bucket`` with name ``orders`` are one node, never inside a
database's namespace, never prefixed with a database and schema.

>>> place("snowflake://acme", "DB.RAW.ORDERS")
('snowflake://acme', 'DB.RAW.ORDERS')
>>> place("snowflake://acme", "s3://bucket/orders/")
('s3://bucket', 'orders')
>>> place("s3://bucket", "orders/") == place("spark", "s3a://bucket/orders")
True
>>> place("postgres://db:5432", "DB.RAW.s3://bucket/orders")
('s3://bucket', 'orders')
>>> place("file", "/data/in.csv"), place("duckdb://default", "file:///data/in.csv")
(('file', '/data/in.csv'), ('file', '/data/in.csv'))
>>> place("openlineage://default", "postgres://db:5432/app.public.orders")
('postgres://db:5432', 'app.public.orders')
"""

from __future__ import annotations

import re

# Object stores and file systems: scheme as written -> scheme of the namespace (OpenLineage's naming).
OBJECT_STORES: dict[str, str] = {
    "s3": "s3", "s3a": "s3", "s3n": "s3",
    "gs": "gs", "gcs": "gs",
    "abfs": "abfss", "abfss": "abfss", "wasb": "wasbs", "wasbs": "wasbs",
    "hdfs": "hdfs", "dbfs": "dbfs", "oss": "oss", "cos": "cos",
}
_URL = re.compile(r"(?:^|.*?\.)([A-Za-z][A-Za-z0-9+_-]*)://([^/]*)(/.*)?$")


def place(namespace: str, name: str) -> tuple[str, str]:
    """The (namespace, name) of a dataset an operation of ``namespace`` calls ``name``."""
    if "://" not in name:
        if namespace.split("://", 1)[0] in OBJECT_STORES:
            return _object(namespace, name)
        return namespace, name
    found = _URL.match(name)
    if found is None:
        return namespace, name
    scheme, authority, path = found[1].lower(), found[2], found[3] or ""
    if scheme == "file":
        return "file", path or "/"
    if scheme in OBJECT_STORES:
        return f"{OBJECT_STORES[scheme]}://{authority}", path.strip("/")
    if not authority:  # a namespace that is a bare word (bigquery, a scheduler's): written NS:///name
        return found[1], path[1:]
    return f"{found[1]}://{authority}", path[1:]  # a database's own: postgres://db:5432/app.public.t


def _object(namespace: str, name: str) -> tuple[str, str]:
    scheme, _, authority = namespace.partition("://")
    return f"{OBJECT_STORES.get(scheme.lower(), scheme.lower())}://{authority.rstrip('/')}", name.strip("/")


# The OpenLineage spec's dataset naming (spec/Naming.md, its "Dataset Naming" table) for each database
# this tool reads; a row's comment says where the spec has no entry and our own namespace stands:
#   PostgreSQL  postgres://{host}:{port}                      {database}.{schema}.{table}
#   MySQL       mysql://{host}:{port}                         {database}.{table}
#   MariaDB     no entry: ours, mariadb://{host}:{port}       {database}.{table}
#   Redshift    redshift://{cluster_identifier}.{region_name}:{port}  {database}.{schema}.{table}
#   Snowflake   snowflake://{organization name}-{account name}        {database}.{schema}.{table}, upper case
#   BigQuery    bigquery                                      {project id}.{dataset name}.{table name}
#   Databricks  no entry (the spec names DBFS paths only): ours, databricks://{host}   {catalog}.{schema}.{table}
#   Trino       trino://{host}:{port}                         {catalog}.{schema}.{table}
#   Hive        hive://{host}:{port}                          {database}.{table}
#   Impala      no entry: ours, impala://{host}:{port}        {database}.{table}
#   S3 s3://{bucket}, GCS gs://{bucket}, ABFSS abfss://{container}@{service}.dfs.core.windows.net,
#   WASBS wasbs://..., HDFS hdfs://{namenode host}:{port}, DBFS dbfs://{workspace}: the path as the name
#   (``place``); a local file: namespace file, the absolute path.
REDSHIFT_PORT = 5439  # the spec's default for a Redshift namespace without one
_REDSHIFT_HOST = re.compile(r"^([^.]+)\.[^.]+\.([a-z0-9-]+)\.redshift(?:-serverless)?\.amazonaws\.com$")
_SNOWFLAKE_SUFFIX = re.compile(r"\.snowflakecomputing\.com$")


def spec_namespace(namespace: str) -> str:
    """A database's namespace as the spec writes it (see the table above); others as they are.

    >>> spec_namespace("redshift://examplecluster.abc123.us-west-2.redshift.amazonaws.com")
    'redshift://examplecluster.us-west-2:5439'
    >>> spec_namespace("bigquery://shop-prod"), spec_namespace("snowflake://Acme-Prod.snowflakecomputing.com")
    ('bigquery', 'snowflake://acme-prod')
    >>> spec_namespace("postgresql://db:5432")
    'postgres://db:5432'
    """
    scheme, sep, authority = namespace.partition("://")
    scheme = scheme.lower()
    if scheme == "bigquery":
        return "bigquery"
    if not sep:
        return namespace
    if scheme in ("postgres", "postgresql"):
        return f"postgres://{authority}"
    if scheme == "redshift":
        host, _, port = authority.rpartition(":") if ":" in authority else (authority, "", "")
        host = host.lower()
        found = _REDSHIFT_HOST.match(host)
        if found:
            host = f"{found[1]}.{found[2]}"
        return f"redshift://{host}:{port or REDSHIFT_PORT}"
    if scheme == "snowflake":
        return f"snowflake://{_SNOWFLAKE_SUFFIX.sub('', authority.lower())}"
    return namespace


def spec_place(namespace: str, name: str) -> tuple[str, str]:
    """The (namespace, name) an OpenLineage event gives a dataset the harvest calls ``name`` in
    ``namespace``: ``place``, then the spec's namespace; a BigQuery name lacking its project
    takes the project of the harvest's namespace (``bigquery://PROJECT``).

    >>> spec_place("bigquery://shop-prod", "raw.orders"), spec_place("snowflake://acme", "s3://b/k/")
    (('bigquery', 'shop-prod.raw.orders'), ('s3://b', 'k'))
    """
    ns, placed = place(namespace, name)
    spec = spec_namespace(ns)
    if spec == "bigquery" and placed.count(".") == 1 and "://" in ns:
        project = ns.split("://", 1)[1].strip("/")
        if project and project != "default":
            placed = f"{project}.{placed}"
    return spec, placed


def event_place(namespace: str, name: str) -> tuple[str, str]:
    """A dataset an OpenLineage event names, as the harvest of that database names it: the spec's
    namespace (``spec_place``), and Snowflake's names upper case whatever case the event spells
    (the spec: Snowflake's names are upper case; the harvest folds unquoted names so).

    >>> event_place("snowflake://ACME.snowflakecomputing.com", "shop.raw.Orders")
    ('snowflake://acme', 'SHOP.RAW.ORDERS')
    """
    ns, placed = spec_place(namespace, name)
    return ns, event_column(ns, placed)


def event_column(namespace: str, column: str) -> str:
    """A column (or name) of a dataset in ``namespace`` as the harvest spells it (Snowflake's upper)."""
    return column.upper() if namespace.startswith("snowflake://") else column


def qualified(namespace: str, name: str) -> str:
    """A dataset of any namespace as one name that ``place`` takes apart again: how lineage read from
    elsewhere (OpenLineage events) names datasets outside the harvest's own namespace.

    >>> [place("x", qualified(ns, n)) == (ns, n) for ns, n in [("postgres://db:5432", "app.public.t"),
    ...  ("bigquery", "p.d.t"), ("file", "/data/in.csv"), ("s3://bucket", "orders")]]
    [True, True, True, True]
    """
    if "://" in namespace:
        return f"{namespace}/{name}"
    return f"{namespace}://{name}" if namespace == "file" else f"{namespace}:///{name}"


def dataset_id(namespace: str, name: str) -> str:
    """The dataset's id, ``namespace/name``, as the Neo4j store and the queries write it.

    >>> dataset_id("snowflake://acme", "s3://bucket/orders/")
    's3://bucket/orders'
    """
    ns, placed = place(namespace, name)
    return f"{ns}/{placed}"
