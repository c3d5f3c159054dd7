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
