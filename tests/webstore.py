"""The warehouse the web view's tests read, and a server over it on a free port.

::

    raw.orders --o1 (FILTER status; etl x10, ann x3)--> stg.orders_clean --o2 (JOIN customer_id)--> mart.revenue
    raw.customers --o2--> mart.revenue --o3--> mart.dashboard
    raw.orders --o4 (2023)--> archive.orders
    raw.orders --o6--> EVIL (a table and a column named as markup: shown, never run)
    other.src --o5--> other.orders, in namespace snowflake://other
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from conftest import NAMESPACE, make_op as op

from sqllineage_harvester.model import AGGREGATION, TRANSFORMATION
from sqllineage_harvester.stores import Batch, Store
from sqllineage_harvester.web.serve import make_server

OTHER = "snowflake://other"
EVIL = "evil.</script><script>window.pwned=1</script>"
EVIL_COLUMN = "<img src=x onerror=window.pwned=2>"
SQL_O2 = "INSERT INTO mart.revenue SELECT c.region, sum(o.amount) FROM stg.orders_clean o JOIN raw.customers c ON .."

WAREHOUSE = (
    op("o1", "stg.orders_clean", ("raw.orders",),
       {"id": "raw.orders.id", "amount": "raw.orders.amount", "customer_id": "raw.orders.customer_id"},
       transforms={"amount": TRANSFORMATION}, indirect={"raw.orders.status": "FILTER"},
       user="etl", seen=("2024-01-01T02:00:00", "2024-01-10T02:00:00"), executions=10),
    replace(op("o2", "mart.revenue", ("stg.orders_clean", "raw.customers"),
               {"region": "raw.customers.region", "total": "stg.orders_clean.amount"},
               transforms={"total": AGGREGATION},
               indirect={"stg.orders_clean.customer_id": "JOIN", "raw.customers.id": "JOIN"},
               user="analyst", seen=("2024-02-01T08:00:00", "2024-02-05T08:00:00"), executions=4),
            sql=SQL_O2, type="insert"),
    op("o3", "mart.dashboard", ("mart.revenue",), {"total": "mart.revenue.total"},
       user="bob", seen=("2024-03-01T09:00:00", "2024-03-01T09:00:00")),
    op("o4", "archive.orders", ("raw.orders",), {"amount": "raw.orders.amount"},
       user="etl", seen=("2023-06-01T00:00:00", "2023-06-30T00:00:00")),
    replace(op("o5", "other.orders", ("other.src",), {"amount": "other.src.amount"}, user="ann"), namespace=OTHER),
    op("o6", EVIL, ("raw.orders",), {EVIL_COLUMN: "raw.orders.amount"}, user="etl"),
)
# ann ran o1 three times too: users are listed with their own counts
MORE_RUNS = (replace(WAREHOUSE[0], user="ann", executions=3, first_seen="2024-01-05T00:00:00",
                     last_seen="2024-01-06T00:00:00"),)


def fill(store: Store) -> Store:
    store.write_batch(Batch(operations=WAREHOUSE))
    store.write_batch(Batch(operations=MORE_RUNS))
    return store


@contextmanager
def serving(store: Store) -> Iterator[str]:
    """The web app over ``store`` on a free 127.0.0.1 port: its base URL."""
    server = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def get(base: str, path: str, **params: Any) -> tuple[int, Any]:
    """(status, JSON body) of GET base+path?params."""
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


__all__ = ["NAMESPACE", "OTHER", "EVIL", "EVIL_COLUMN", "SQL_O2", "fill", "serving", "get"]


def fan(store: Store, tables: int, columns: int = 3) -> Store:
    """``fan.root.c0`` feeds every column of ``tables`` tables ``fan.tNNN``: a wide graph."""
    from sqllineage_harvester.model import IDENTITY, ColumnLineage, ColumnRef, DatasetRef, Operation

    ops = tuple(Operation(
        id=f"fan{i}", type="insert", fingerprint=f"fp-fan{i}", sql=f"INSERT INTO fan.t{i:03d} SELECT ..",
        inputs=(DatasetRef("fan.root"),), outputs=(DatasetRef(f"fan.t{i:03d}"),),
        columns=tuple(ColumnLineage(ColumnRef(f"fan.t{i:03d}", f"c{j}"), (ColumnRef("fan.root", "c0"),), IDENTITY)
                      for j in range(columns)),
        indirect=(), namespace=NAMESPACE, user="etl", system=None, first_seen="2024-01-01T00:00:00",
        last_seen="2024-01-01T00:00:00") for i in range(tables))
    store.write_batch(Batch(operations=ops))
    return store
