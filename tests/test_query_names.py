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


@pytest.mark.parametrize("name,expected", [
    (f"{PROD}/analytics.raw.payments", (PROD, "analytics.raw.payments")),
    (f"{PROD}/analytics.raw.payments.amount", (PROD, "analytics.raw.payments.amount")),
    (f"{STAGING}/payments.amount", (STAGING, "analytics.raw.payments.amount")),
    (f"{STAGING}/stg.paid", (STAGING, "analytics.stg.paid")),
    ("SNOWFLAKE://ACME/Raw.Payments.AMOUNT", (PROD, "analytics.raw.payments.amount")),
])
def test_a_name_may_carry_its_namespace(two, name, expected):
    assert where(queries.find(two, name)) == expected


def test_namespace_and_a_name_that_carries_the_same_one_agree(two):
    assert where(queries.find(two, f"{PROD}/raw.payments", namespace=PROD)) == (PROD, "analytics.raw.payments")


def test_a_name_in_another_namespace_says_where_it_is(two):
    with pytest.raises(UnknownNameError) as caught:
        queries.find(two, "raw.payments.amount", namespace="snowflake://elsewhere")
    assert PROD in str(caught.value) and STAGING in str(caught.value)
    with pytest.raises(UnknownNameError):
        queries.find(two, "snowflake://elsewhere/raw.payments.amount")
    with pytest.raises(ConfigError):
        queries.find(two, f"{PROD}/raw.payments.amount", namespace=STAGING)


def test_a_dataset_named_by_a_url_is_found_by_its_name(two):
    """Files and stages are datasets whose names hold '://' themselves."""
    assert where(queries.find(two, "s3://bucket/in/payments.csv", namespace=PROD)) == (
        PROD, "s3://bucket/in/payments.csv")
    assert where(queries.find(two, f"{STAGING}/s3://bucket/in/payments.csv")) == (
        STAGING, "s3://bucket/in/payments.csv")
    with pytest.raises(AmbiguousNameError):
        queries.find(two, "s3://bucket/in/payments.csv")


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
                 ("upstream", "stg.paid.amount", "--namespace", STAGING),
                 ("path", "raw.payments", "stg.paid", "--namespace", STAGING)):
        done = cli(*args, "--store", store_url, "--format", "json")
        assert done.returncode == 0, (args, done.stderr)
        assert '"namespace": "snowflake://acme-staging"' in done.stdout and PROD + '"' not in done.stdout, args


def test_query_help_explains_namespace_with_an_example():
    for command in ("upstream", "downstream", "impact", "path"):
        text = cli(command, "--help").stdout
        assert "--namespace" in text and "NS/NAME" in text, command
        assert "Example" in text, command

