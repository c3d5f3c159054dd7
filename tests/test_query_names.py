"""Names a user can ask for: the same table in two namespaces (prod and staging of one
warehouse) is chosen with ``--namespace NS`` or written ``NS/name``, on every store.

The warehouse every test reads, twice (once per namespace)::

    analytics.raw.payments.amount --load--> analytics.stg.paid.amount
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.errors import ConfigError
from sqllineage_harvester.queries import AmbiguousNameError, UnknownNameError
from sqllineage_harvester.stores import Batch

from conftest import make_op  # noqa: E402  (tests/ is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
PROD, STAGING = "snowflake://acme", "snowflake://acme-staging"


def load(namespace: str, suffix: str = "") -> tuple:
    ops = (make_op(f"load{suffix}", "analytics.stg.paid", ("analytics.raw.payments",),
                   {"amount": "analytics.raw.payments.amount"}),
           make_op(f"file{suffix}", "analytics.raw.files", ("s3://bucket/in/payments.csv",)))
    return tuple(replace(o, namespace=namespace) for o in ops)


@pytest.fixture
def two(store):
    store.write_batch(Batch(operations=load(PROD, "-prod") + load(STAGING, "-staging")))
    return store


def where(node) -> tuple[str, str]:
    return node.namespace, node.name


def test_a_name_in_two_namespaces_lists_both_and_says_how_to_choose(two):
    with pytest.raises(AmbiguousNameError) as caught:
        queries.impact(two, "raw.payments.amount")
    assert [where(n) for n in caught.value.candidates] == [
        (PROD, "analytics.raw.payments.amount"), (STAGING, "analytics.raw.payments.amount")]
    message = str(caught.value)
    assert f"{PROD}/analytics.raw.payments.amount" in message
    assert f"{STAGING}/analytics.raw.payments.amount" in message
    assert "--namespace" in message and "NS/NAME" in message
    assert caught.value.exit_code == 2


def test_a_full_name_in_two_namespaces_is_ambiguous_too(two):
    with pytest.raises(AmbiguousNameError):
        queries.find(two, "analytics.raw.payments")


def test_namespace_chooses(two):
    assert where(queries.find(two, "raw.payments.amount", namespace=STAGING)) == (
        STAGING, "analytics.raw.payments.amount")
    assert where(queries.find(two, "analytics.raw.payments", namespace=PROD)) == (PROD, "analytics.raw.payments")
    graph = queries.downstream(two, "payments.amount", namespace=PROD)
    assert {where(n.node) for n in graph.nodes} == {
        (PROD, "analytics.raw.payments.amount"), (PROD, "analytics.stg.paid.amount")}
    assert [e.operation for e in graph.edges] == ["load-prod"]


def test_a_name_may_carry_its_namespace(two):
    for name, expected in [
        (f"{PROD}/analytics.raw.payments", (PROD, "analytics.raw.payments")),
        (f"{PROD}/analytics.raw.payments.amount", (PROD, "analytics.raw.payments.amount")),
        (f"{STAGING}/payments.amount", (STAGING, "analytics.raw.payments.amount")),
        (f"{STAGING}/stg.paid", (STAGING, "analytics.stg.paid")),
        ("SNOWFLAKE://ACME/Raw.Payments.AMOUNT", (PROD, "analytics.raw.payments.amount")),
    ]:
        assert where(queries.find(two, name)) == expected, name


def test_namespace_and_a_name_that_carries_the_same_one_agree(two):
    assert where(queries.find(two, f"{PROD}/raw.payments", namespace=PROD)) == (PROD, "analytics.raw.payments")


def test_a_name_in_another_namespace_says_where_it_is(two):
    with pytest.raises(UnknownNameError) as caught:
        queries.find(two, "raw.payments.amount", namespace="snowflake://elsewhere")
    assert PROD in str(caught.value) and STAGING in str(caught.value)
    with pytest.raises(UnknownNameError) as caught:
        queries.find(two, "snowflake://elsewhere/raw.payments.amount")
    assert f"{PROD}/analytics.raw.payments.amount" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        queries.find(two, f"{PROD}/raw.payments.amount", namespace=STAGING)
    assert f"there is {PROD}/analytics.raw.payments.amount" in str(caught.value)


def test_an_object_store_path_is_one_dataset_found_by_its_url(two):
    """A path read from two databases' namespaces is one dataset, in its bucket's namespace
    (OpenLineage's naming: namespace s3://bucket, name in/payments.csv)."""
    assert where(queries.find(two, "s3://bucket/in/payments.csv")) == ("s3://bucket", "in/payments.csv")
    assert where(queries.find(two, "in/payments.csv")) == ("s3://bucket", "in/payments.csv")


def test_path_takes_both_names_in_the_namespace(two):
    graph = queries.path(two, "raw.payments.amount", "stg.paid.amount", namespace=STAGING)
    assert [where(n.node) for n in graph.nodes] == [
        (STAGING, "analytics.raw.payments.amount"), (STAGING, "analytics.stg.paid.amount")]
    assert where(queries.path(two, f"{PROD}/raw.payments", f"{PROD}/stg.paid").target) == (
        PROD, "analytics.stg.paid")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_query_commands_take_namespace(two, store_url):
    ambiguous = cli("impact", "raw.payments.amount", "--store", store_url)
    assert ambiguous.returncode == 2, ambiguous.stderr
    assert f"{STAGING}/analytics.raw.payments.amount" in ambiguous.stderr and "--namespace" in ambiguous.stderr
    for args in (("impact", "raw.payments.amount", "--namespace", STAGING),
                 ("downstream", f"{STAGING}/payments.amount"),
                 ("path", "raw.payments", "stg.paid", "--namespace", STAGING)):
        done = cli(*args, "--store", store_url, "--format", "json")
        assert done.returncode == 0, (args, done.stderr)
        assert '"namespace": "snowflake://acme-staging"' in done.stdout and PROD + '"' not in done.stdout, args


def test_query_help_explains_namespace_with_an_example():
    for command in ("upstream", "downstream", "impact", "path"):
        text = cli(command, "--help").stdout
        assert "--namespace" in text and "NS/NAME" in text, command
        assert "Example" in text, command



# -- the namespace a harvest files a server's datasets under ---------------------------------
@pytest.mark.parametrize("url,dialect,namespace", [
    ("postgresql://harvester@db.example:5433/app", "postgres", "postgres://db.example:5433"),
    ("postgresql://harvester@db.example/app", "postgres", "postgres://db.example:5432"),
    ("pglog:///var/log/postgresql?host=db.example&port=5433", "postgres", "postgres://db.example:5433"),
    ("pglog:///var/log/postgresql?host=DB.example", "postgres", "postgres://db.example:5432"),
    ("pglog:///var/log/postgresql", "postgres", "postgres://default"),
    ("mysql://harvester@db.example/performance_schema", "mysql", "mysql://db.example:3306"),
    ("mysqllog:///var/log/mysql/general.log?host=db.example", "mysql", "mysql://db.example:3306"),
    ("snowflake://acme", "snowflake", "snowflake://acme"),
    # BigQuery's namespace is the spec's `bigquery` alone: its names carry the project (p.d.t)
    ("bigquery://shop-prod?region=eu", "bigquery", "bigquery"),
    ("/exports/jobs.jsonl", "bigquery", "bigquery"),
    # Redshift's is the cluster and region with the port (5439 by default), as the spec names it
    ("redshift://etl@examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com/dev", "redshift",
     "redshift://examplecluster.us-west-2:5439"),
    ("redshift://etl@examplecluster.abc123xyz789.us-west-2.redshift.amazonaws.com:5440/dev", "redshift",
     "redshift://examplecluster.us-west-2:5440"),
    ("redshift://etl@localhost/dev", "redshift", "redshift://localhost:5439"),
    # Snowflake's is the account identifier, without the host name's suffix
    ("snowflake://etl@Acme-Prod.snowflakecomputing.com/SHOP", "snowflake", "snowflake://acme-prod"),
    ("trino://etl@trino.example/hive", "trino", "trino://trino.example:8080"),
    ("/exports/query_history.csv", "snowflake", "snowflake://default"),
])
def test_default_namespace_names_the_server(url, dialect, namespace):
    from sqllineage_harvester.cli.harvest import _namespace

    assert _namespace(url, dialect) == namespace


def write_pglog(folder: Path) -> Path:
    line = ('{"timestamp": "2024-03-01 10:00:01.000 UTC", "user": "etl", "dbname": "app", "pid": 7, '
            '"session_id": "s1", "error_severity": "LOG", '
            '"message": "statement: CREATE TABLE public.paid AS SELECT amount FROM public.payments"}\n')
    folder.mkdir()
    (folder / "postgresql.json").write_text(line, encoding="utf-8")
    return folder


def test_a_server_log_with_its_host_joins_the_live_servers_namespace(tmp_path):
    logs, store = write_pglog(tmp_path / "log"), f"sqlite:///{tmp_path / 'l.db'}"
    done = cli("harvest", "--source", f"pglog://{logs}?host=db.example&port=5433", "--store", store)
    assert done.returncode == 0, done.stderr
    live = "postgres://db.example:5433"
    found = cli("upstream", f"{live}/paid.amount", "--store", store, "--format", "json")
    assert found.returncode == 0, found.stderr
    assert f'"namespace": "{live}"' in found.stdout and "app.public.payments.amount" in found.stdout


def test_a_server_log_without_its_host_says_how_to_give_it(tmp_path):
    logs, store = write_pglog(tmp_path / "log"), f"sqlite:///{tmp_path / 'l.db'}"
    done = cli("harvest", "--source", f"pglog://{logs}", "--store", store)
    assert done.returncode == 0, done.stderr
    assert "postgres://default" in done.stderr and "?host=" in done.stderr
    assert cli("impact", "postgres://default/payments.amount", "--store", store).returncode == 0
    quiet = cli("harvest", "--source", f"pglog://{logs}", "--store", store, "--namespace", "postgres://db:5432")
    assert quiet.returncode == 0 and "?host=" not in quiet.stderr


def test_a_server_log_url_takes_only_host_and_port(tmp_path):
    logs = write_pglog(tmp_path / "log")
    done = cli("harvest", "--source", f"pglog://{logs}?hots=db.example", "--store", f"sqlite:///{tmp_path / 'l.db'}")
    assert done.returncode == 2 and "hots" in done.stderr


def test_harvest_help_documents_the_default_namespace():
    text = " ".join(cli("harvest", "--help").stdout.split())
    assert "postgres://HOST:PORT" in text and "?host=" in text
