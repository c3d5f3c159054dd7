"""``--since`` / ``--as-of`` are times, compared as times, on every store: an offset, a
``Z``, a date alone (the start of that day for --since, its end for --as-of), and a value
that is no time at all (exit 2, never "everything").

The store keeps times the way the harvest writes them (``2024-03-01T10:00:01.000000Z``):
one load seen once, at 10:00:01 UTC on 2024-03-01.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.errors import ConfigError
from sqllineage_harvester.stores import Batch

from conftest import make_op  # noqa: E402  (tests/ is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
SEEN = "2024-03-01T10:00:01.000000Z"


@pytest.fixture
def once(store):
    store.write_batch(Batch(operations=(
        make_op("load", "stg.payments", ("raw.payments",), {"amount": "raw.payments.amount"}, seen=(SEEN, SEEN)),)))
    return store


def reached(store, name: str, **window) -> bool:
    """Whether ``name``'s downstream, within the window, reaches the loaded column (or table)."""
    found = {n.node.name for how in (queries.downstream, queries.impact) for depth in (None, 3)
             for n in how(store, name, depth=depth, **window).nodes}
    expected = {name, name.replace("raw.", "stg.")}
    assert found in ({name}, expected), found
    return found == expected


WINDOWS = [  # (window, whether the load seen at 10:00:01 UTC is in it)
    ({"since": "2024-03-01T10:00:01Z"}, True),  # the same instant
    ({"since": "2024-03-01T10:00:01"}, True),  # no offset: UTC
    ({"since": "2024-03-01T12:00:01+02:00"}, True),
    ({"since": "2024-03-01T10:00:01.000001Z"}, False),
    ({"since": "2024-03-01T12:00:02+02:00"}, False),
    ({"as_of": "2024-03-01T10:00:01Z"}, True),
    ({"as_of": "2024-03-01T12:00:01+02:00"}, True),
    ({"as_of": "2024-03-01T05:00:01-05:00"}, True),
    ({"as_of": "2024-03-01T12:00:00+02:00"}, False),
    ({"since": "2024-03-01"}, True),  # a date: from the start of that day
    ({"since": "2024-03-02"}, False),
    ({"as_of": "2024-03-01"}, True),  # a date: up to the end of that day
    ({"as_of": "2024-02-29"}, False),
    ({"since": "2024-03-01", "as_of": "2024-03-01"}, True),
]
NOT_TIMES = ["yesterday", "2024-13-01", "2024-03-01T25:00", "", "03/01/2024"]


def test_since_and_as_of_compare_times(once):
    for name in ("raw.payments.amount", "raw.payments"):
        for window, seen in WINDOWS:
            assert reached(once, name, **window) is seen, (name, window)


def test_a_value_that_is_no_time_is_a_usage_error(once):
    for option in ("since", "as_of"):
        for value in NOT_TIMES:
            with pytest.raises(ConfigError) as caught:
                queries.downstream(once, "raw.payments.amount", **{option: value})
            assert caught.value.exit_code == 2 and "YYYY-MM-DD" in str(caught.value), (option, value)
            with pytest.raises(ConfigError):
                queries.path(once, "raw.payments", "stg.payments", **{option: value})


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_query_commands_parse_since_and_as_of(once, store_url):
    bad = cli("impact", "raw.payments.amount", "--as-of", "yesterday", "--store", store_url)
    assert bad.returncode == 2 and "--as-of" in bad.stderr and "yesterday" in bad.stderr, bad.stderr
    bad = cli("path", "raw.payments", "stg.payments", "--since", "last week", "--store", store_url)
    assert bad.returncode == 2 and "--since" in bad.stderr, bad.stderr
    for option, value, seen in (("--since", "2024-03-01T12:00:01+02:00", True), ("--as-of", "2024-02-29", False)):
        done = cli("downstream", "raw.payments.amount", option, value, "--store", store_url, "--format", "json")
        assert done.returncode == 0, done.stderr
        assert ("stg.payments.amount" in done.stdout) is seen, (option, value)


def test_query_help_explains_the_time_options():
    text = " ".join(cli("impact", "--help").stdout.split())
    assert "end of that day" in text and "+02:00" in text


def test_as_of_names_only_the_users_who_had_run_it_by_then_and_no_later_time(store):
    day = "2024-03-0{}T10:00:00.000000Z".format
    ops = [make_op("load", "stg.payments", ("raw.payments",), {"amount": "raw.payments.amount"},
                   user=user, system=where, seen=(day(n), day(n))) for user, where, n in
           (("ALICE", "WH_A", 1), ("BOB", "WH_B", 3), ("CAROL", "WH_B", 5))]
    store.write_batch(Batch(operations=tuple(ops)))
    then = queries.impact(store, "raw.payments.amount", as_of="2024-03-01")  # a date: up to its end
    assert [o.users for o in then.operations] == [("ALICE",)] and [o.systems for o in then.operations] == [("WH_A",)]
    assert all(n.last_seen is None or n.last_seen <= "2024-03-01T23:59:59.999999Z" for n in then.nodes)
    assert any(n.last_seen for n in then.nodes)
    late = queries.impact(store, "raw.payments.amount", since="2024-03-04T02:00:00+02:00")
    assert [o.users for o in late.operations] == [("CAROL",)]
    assert [o.users for o in queries.impact(store, "raw.payments.amount").operations] == [("ALICE", "BOB", "CAROL")]
