"""Personal data: tags on columns, how lineage carries them (direct edges only, masked by hashing
functions), and `pii` / `tag` / `impact --tag`, on every store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from sqllineage_harvester import pii
from sqllineage_harvester.cli import main
from sqllineage_harvester.dialects import get_dialect, list_dialects, masking_functions
from sqllineage_harvester.errors import ConfigError
from sqllineage_harvester.extract import extract
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.model import LineageEdge
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store
from sqllineage_harvester.pgcatalog import read_catalog
from sqllineage_harvester.tags import apply_rules, catalog_tags, load_rules, propagate, tag_from_catalog

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "fixtures" / "logs" / "snowflake" / "pii_query_history.csv"
RULES = ROOT / "fixtures" / "tags" / "pii-rules.toml"
A = "ANALYTICS."


def masked(sql: str, dialect: str | None = "snowflake") -> dict[str, tuple[list[str], list[str]]]:
    """Written column -> (its sources, the masked ones)."""
    return {str(c.target): ([str(s) for s in c.sources], [str(m) for m in c.masked])
            for c in extract(sql, dialect)[0].columns}


# -- extraction: which sources went through a masking function -----------------------------------
@pytest.mark.parametrize("dialect, sql", [
    ("snowflake", "INSERT INTO m.k (e) SELECT SHA2(email, 256) FROM raw.c"),
    ("snowflake", "INSERT INTO m.k (e) SELECT upper(HASH(email)) FROM raw.c"),
    ("postgres", "INSERT INTO m.k (e) SELECT encode(digest(email, 'sha256'), 'hex') FROM raw.c"),
    ("mysql", "INSERT INTO m.k (e) SELECT MD5(email) FROM raw.c"),
    ("bigquery", "INSERT INTO m.k (e) SELECT TO_HEX(SHA256(email)) FROM raw.c"),
    ("databricks", "INSERT INTO m.k SELECT xxhash64(email) AS e FROM raw.c"),
    (None, "INSERT INTO m.k (e) SELECT md5(email) FROM raw.c"),
])
def test_a_value_through_a_masking_function_is_masked(dialect, sql):
    (sources, hidden), = masked(sql, dialect).values()
    assert [s.lower() for s in sources] == ["raw.c.email"] and [h.lower() for h in hidden] == ["raw.c.email"]


def test_masking_is_per_source_and_a_plain_use_anywhere_unmasks():
    cols = masked("INSERT INTO m.k (a, b, c) SELECT concat(sha2(email), name), lower(email), "
                  "sha2(email) || email FROM raw.c")
    assert cols["M.K.A"] == (["RAW.C.EMAIL", "RAW.C.NAME"], ["RAW.C.EMAIL"])
    assert cols["M.K.B"] == (["RAW.C.EMAIL"], [])
    assert cols["M.K.C"] == (["RAW.C.EMAIL"], [])


def test_masking_follows_subqueries_and_set_operations():
    cols = masked("INSERT INTO m.k (e) SELECT x FROM (SELECT md5(email) AS x FROM raw.c) s "
                  "UNION ALL SELECT email FROM raw.d")
    assert cols["M.K.E"] == (["RAW.C.EMAIL", "RAW.D.EMAIL"], ["RAW.C.EMAIL"])


def test_masking_survives_temp_tables_folded_away():
    from sqllineage_harvester.extract.script import collapse_temp_tables

    sql = ("CREATE TEMP TABLE t AS SELECT id, md5(email) AS k, email AS e FROM raw.c;"
           "INSERT INTO m.x (b, c) SELECT k, e FROM t;"
           "INSERT INTO m.z (k3) SELECT sha256(e::bytea) FROM t;"
           "CREATE TEMP TABLE u AS SELECT md5(email) AS k FROM raw.c; INSERT INTO u SELECT email FROM raw.c;"
           "INSERT INTO m.w (k4) SELECT k FROM u")
    cols = {str(c.target): ([str(s) for s in c.sources], [str(m) for m in c.masked])
            for r in collapse_temp_tables(extract(sql, "postgres")) for c in r.columns}
    assert cols["m.x.b"] == (["raw.c.email"], ["raw.c.email"]) and cols["m.x.c"] == (["raw.c.email"], [])
    assert cols["m.z.k3"] == (["raw.c.email"], ["raw.c.email"])  # masked after the temp table
    assert cols["m.w.k4"] == (["raw.c.email"], [])  # one of the two writes to u was plain


def test_a_function_another_dialect_masks_with_is_no_mask_here():
    assert masked("INSERT INTO m.k (e) SELECT hash(email) FROM raw.c", "postgres")["m.k.e"][1] == []
    assert "hash" in masking_functions("snowflake") and "hash" not in masking_functions("postgres")


def test_every_dialect_file_lists_masking_functions():
    for name in list_dialects():
        found = get_dialect(name).masking_functions
        assert found and all(f == f.lower() for f in found), name


# -- the flow, against a plain reference walk ----------------------------------------------------
def reference(seeds: dict[str, set[str]], edges: list[LineageEdge], aggregation: bool) -> dict[str, set[str]]:
    """Labels by depth-first search over (node, label) pairs, written apart from ``propagate``."""
    kinds = {"IDENTITY", "TRANSFORMATION"} | ({"AGGREGATION"} if aggregation else set())
    seen: set[tuple[str, str]] = set()
    stack = [(node, tag) for node, tags in seeds.items() for tag in tags]
    while stack:
        node, label = stack.pop()
        if (node, label) in seen:
            continue
        seen.add((node, label))
        for e in edges:
            if e.source == node and e.type in kinds and e.target != node:
                hidden = e.masked and not label.startswith("masked:")
                stack.append((e.target, "masked:" + label if hidden else label))
    out: dict[str, set[str]] = {}
    for node, label in seen:
        out.setdefault(node, set()).add(label)
    return out


KINDS = ["IDENTITY", "TRANSFORMATION", "AGGREGATION", "JOIN", "FILTER", "GROUP_BY"]
edge_lists = st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9), st.sampled_from(KINDS), st.booleans()),
                      max_size=40)


@settings(max_examples=300, deadline=None)
@given(edge_lists, st.dictionaries(st.integers(0, 9), st.sets(st.sampled_from(["pii:email", "pii:card"]),
                                                              min_size=1), max_size=3), st.booleans())
def test_propagation_matches_a_reference_walk(raw, seeds, aggregation):
    edges = [LineageEdge(f"c{s}", f"c{t}", f"o{i}", k, masked=m and k in ("IDENTITY", "TRANSFORMATION", "AGGREGATION"))
             for i, (s, t, k, m) in enumerate(raw)]
    given_seeds = {f"c{k}": v for k, v in seeds.items()}
    held = propagate(given_seeds, edges, aggregation)
    assert {k: set(v) for k, v in held.items()} == reference(given_seeds, edges, aggregation)
    for key, labels in held.items():
        for label, way in labels.items():  # each route is real: it starts at its origin and follows edges
            assert way.route[0] == way.origin and way.route[-1] == key and label.endswith(tuple(given_seeds[way.origin]))
            assert [(e.source, e.target) for e in way.edges] == list(zip(way.route, way.route[1:]))


# -- rules ---------------------------------------------------------------------------------------
def test_rules_match_names_tables_and_types(tmp_path):
    from sqllineage_harvester.model import LineageNode

    cols = [LineageNode("c1", "db.raw.users.Email", "column"), LineageNode("c2", "db.mart.users.email", "column"),
            LineageNode("c3", "db.raw.cards.pan", "column"), LineageNode("c4", "db.raw.cards.pan_note", "column")]
    rules = tmp_path / "r.toml"
    rules.write_text('[[rule]]\ntag = "pii:email"\ncolumns = ["*email*"]\ntables = ["raw.*"]\n'
                     '[[rule]]\ntag = "pii:card"\ncolumns = ["pan*"]\ntypes = ["varchar"]\n')
    found = apply_rules(load_rules(rules), cols, {"db.raw.cards.pan": "VARCHAR(19)", "db.raw.cards.pan_note": "int"})
    assert found == [("c1", "pii:email", "rules"), ("c3", "pii:card", "rules")]


@pytest.mark.parametrize("text, message", [
    ('[[rule]]\ncolumns = ["x"]\n', "needs tag"),
    ('[[rule]]\ntag = "masked:pii"\ncolumns = ["x"]\n', "not a tag"),
    ('[[rule]]\ntag = "pii"\ncolumns = ["x"]\ncolour = 1\n', "unknown keys"),
    ('title = "none"\n', "no \\[\\[rule\\]\\]"),
])
def test_bad_rules_are_a_configuration_error(tmp_path, text, message):
    rules = tmp_path / "r.toml"
    rules.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_rules(rules)


# -- the fixture, on every store -----------------------------------------------------------------
@pytest.fixture
def shop(store_url):
    """The PII fixture harvested into the store, tagged by the rules file through the CLI."""
    store = open_store(store_url)
    harvest(open_source(LOG, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://shop",
                                                          batch_size=100))
    store.close()
    done = CliRunner().invoke(main, ["tag", "apply", str(RULES), "--store", store_url])
    assert done.exit_code == 0, done.output
    return store_url


def run(store_url: str, *args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, [*args, "--store", store_url])
    return done.exit_code, done.stdout


def test_email_reaches_one_mart_as_is_one_masked_and_none_through_a_join(shop):
    code, out = run(shop, "pii", "pii:email", "--format", "json")
    assert code == 0
    found = {c["name"]: c for c in json.loads(out)["columns"]}
    assert all(set(c) == {"name", "tags", "masked", "origin", "route", "operations", "users", "last_seen"}
               for c in found.values())
    plain, hashed = found[A + "MARTS.CUSTOMER_CONTACTS.EMAIL"], found[A + "MARTS.CUSTOMER_KEYS.EMAIL_KEY"]
    assert (plain["tags"], plain["masked"], plain["origin"]) == (["pii:email"], False, A + "RAW.CUSTOMERS.EMAIL")
    assert (hashed["tags"], hashed["masked"]) == (["masked:pii:email"], True)
    assert plain["users"] == ["ETL"] and plain["last_seen"] == "2024-05-03T09:00:03.000000Z"
    assert not [n for n in found if "ORDER_TOTALS" in n]  # the JOIN carried nothing
    onward = found[A + "REPORTING.NEWSLETTER.ADDRESS"]
    assert onward["route"] == [A + "RAW.CUSTOMERS.EMAIL", A + "MARTS.CUSTOMER_CONTACTS.EMAIL", onward["name"]]
    assert onward["users"] == ["ETL", "MARKETING"] and len(onward["operations"]) == 2
    assert found[A + "REPORTING.CUSTOMER_MATCH.EMAIL_KEY"]["tags"] == ["masked:pii:email"]  # masked stays masked


def test_aggregates_carry_tags_only_when_asked(shop):
    store = open_store(shop, read_only=True)
    counted = A + "MARTS.EMAIL_DOMAINS.CUSTOMERS"
    assert counted not in {c.name for c in pii.tagged_columns(store, "pii")}
    assert [c.tags for c in pii.tagged_columns(store, "pii", aggregation=True) if c.name == counted] == [("pii:email",)]
    assert {c.name for c in pii.tagged_columns(store, "pii:card")} == {A + "RAW.PAYMENTS.CARD_NUMBER",
                                                                      A + "MARTS.PAYMENT_KEYS.CARD_KEY"}
    store.close()


def test_tags_by_hand_are_added_listed_and_removed(shop):
    assert run(shop, "tag", "add", "order_totals.amount", "finance:revenue")[0] == 0
    assert run(shop, "tag", "add", "order_totals", "finance:revenue")[0] == 2  # a dataset: no tag
    assert run(shop, "tag", "add", "order_totals.amount", "masked:x")[0] == 2
    code, out = run(shop, "tag", "list", "--format", "json")
    listed = {(t["name"], t["tag"], t["origin"]) for t in json.loads(out)["tags"]}
    assert (A + "MARTS.ORDER_TOTALS.AMOUNT", "finance:revenue", "hand") in listed
    assert (A + "RAW.CUSTOMERS.EMAIL", "pii:email", "rules") in listed
    assert json.loads(run(shop, "pii", "finance", "--format", "json")[1])["columns"][0]["name"] == \
        A + "MARTS.ORDER_TOTALS.AMOUNT"
    assert run(shop, "tag", "remove", "order_totals.amount", "finance:revenue")[0] == 0
    assert run(shop, "tag", "remove", "order_totals.amount", "finance:revenue")[0] == 1
    assert json.loads(run(shop, "pii", "finance", "--format", "json")[1]) == {"columns": []}


def test_impact_with_a_tag_keeps_only_tagged_columns(shop):
    code, out = run(shop, "impact", "raw.customers.email", "--format", "json")
    everything = {n["name"] for n in json.loads(out)["nodes"]}
    code, out = run(shop, "impact", "raw.customers.email", "--tag", "pii", "--format", "json")
    tagged = {n["name"] for n in json.loads(out)["nodes"]}
    assert A + "MARTS.EMAIL_DOMAINS.CUSTOMERS" in everything - tagged
    assert {A + "MARTS.CUSTOMER_CONTACTS.EMAIL", A + "MARTS.CUSTOMER_KEYS.EMAIL_KEY"} <= tagged


# -- the databases' own tags -----------------------------------------------------------------------
def test_snowflake_tag_references_rows_become_tags():
    rows = [("ANALYTICS", "RAW", "CUSTOMERS", "EMAIL", "PII", "email"),  # as TAG_REFERENCES returns them
            ("ANALYTICS", "RAW", "CUSTOMERS", "EMAIL", "SEMANTIC_CATEGORY", "EMAIL"),
            ("ANALYTICS", "RAW", "PAYMENTS", "CARD_NUMBER", "PCI", None),
            ("ANALYTICS", "RAW", "PAYMENTS", "NOTE", "Data Owner", "Team Payments")]
    assert catalog_tags(rows) == [
        ("ANALYTICS.RAW.CUSTOMERS", "EMAIL", "pii:email"), ("ANALYTICS.RAW.CUSTOMERS", "EMAIL", "semantic_category:email"),
        ("ANALYTICS.RAW.PAYMENTS", "CARD_NUMBER", "pci"), ("ANALYTICS.RAW.PAYMENTS", "NOTE", "data_owner:team_payments")]
    assert "TAG_REFERENCES" in get_dialect("snowflake").history.tags_query


def test_bigquery_policy_tag_rows_become_tags():
    tag = "projects/shop/locations/us/taxonomies/8123/policyTags/5521"
    assert catalog_tags([("shop", "raw", "customers", "email", "policy_tag", tag)]) == [
        ("shop.raw.customers", "email", "policy_tag:" + tag.lower())]
    assert "policy_tags" in get_dialect("bigquery").history.tags_query


def test_catalog_tags_land_on_the_store_columns_of_their_namespace(shop):
    store = open_store(shop)
    rows = [("ANALYTICS.RAW.ORDERS", "BUYER", "pii:email"), ("ANALYTICS.RAW.NOWHERE", "X", "pii:email")]
    assert tag_from_catalog(store, "snowflake://shop", rows) == 1
    assert tag_from_catalog(store, "snowflake://elsewhere", rows) == 0
    assert (A + "RAW.ORDERS.BUYER", "catalog") in {(store.describe([k])[k].name, o) for k, _, o in store.column_tags()}
    store.close()


def test_postgres_column_comments_tag_a_live_harvest(pg_cluster, tmp_path):
    import psycopg

    url = pg_cluster.create_database("pii_comments")
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in ["CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "CREATE SCHEMA raw", "CREATE SCHEMA marts",
                    "CREATE TABLE raw.customers (id int, email text, card_number text, note text)",
                    "COMMENT ON COLUMN raw.customers.email IS 'Customer e-mail address (PII:Email), see https://wiki/x'",
                    "COMMENT ON COLUMN raw.customers.card_number IS 'pci:pan gdpr:art9'",
                    "COMMENT ON COLUMN raw.customers.note IS 'free text, no tag'",
                    "CREATE TABLE marts.contacts (id int, email text)",
                    "CREATE TABLE marts.keys (id int, email_key text, card_key text)",
                    "CREATE TABLE marts.by_card (id int)",
                    "INSERT INTO marts.contacts SELECT id, email FROM raw.customers",
                    "INSERT INTO marts.keys SELECT id, md5(email), encode(sha256(card_number::bytea), 'hex') "
                    "FROM raw.customers",
                    "INSERT INTO marts.by_card SELECT c.id FROM raw.customers c JOIN marts.keys k ON k.card_key = c.card_number"]:
            conn.execute(sql)
    assert sorted(read_catalog(url).tags) == [("pii_comments.raw.customers", "card_number", "gdpr:art9"),
                                              ("pii_comments.raw.customers", "card_number", "pci:pan"),
                                              ("pii_comments.raw.customers", "email", "pii:email")]
    store = f"sqlite:///{tmp_path}/lineage.db"
    done = CliRunner().invoke(main, ["harvest", "--source", url, "--store", store, "--quiet"])
    assert done.exit_code == 0, done.output
    found = {c["name"].removeprefix("pii_comments."): c for c in json.loads(run(store, "pii", "--format", "json")[1])["columns"]}
    assert found["marts.contacts.email"]["tags"] == ["pii:email"]
    assert found["marts.keys.email_key"]["tags"] == ["masked:pii:email"]
    assert found["marts.keys.card_key"]["tags"] == ["masked:gdpr:art9", "masked:pci:pan"]
    assert "marts.by_card.id" not in found and "raw.customers.note" not in found


def test_pii_and_tag_list_on_a_store_without_tags_say_how_to_tag(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.db'}"
    store = open_store(url)
    try:
        harvest(open_source(LOG, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://t"))
    finally:
        store.close()
    runner = CliRunner()
    for args in (["pii", "--store", url], ["tag", "list", "--store", url], ["pii", "pii:email", "--store", url]):
        done = runner.invoke(main, args)
        assert done.exit_code == 0 and "has a tag yet" in done.stderr and "tag apply" in done.stderr, args
    assert runner.invoke(main, ["tag", "apply", str(RULES), "--store", url]).exit_code == 0
    done = runner.invoke(main, ["pii", "pii:nosuch", "--store", url])
    assert done.exit_code == 0 and "no column holds data tagged 'pii:nosuch'" in done.stderr


# -- the table a person reads ---------------------------------------------------------------------
def cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("  ") if c.strip()]


def test_the_pii_table_has_short_names_and_ids_and_wide_keeps_them_whole(shop):
    store = open_store(shop, read_only=True)
    ids = sorted({o for c in pii.tagged_columns(store, "pii:email") for o in c.operations})
    store.close()
    code, out = run(shop, "pii", "pii:email")
    lines = out.splitlines()
    assert code == 0 and lines[0] == "6 columns hold data tagged pii:email in snowflake://shop; names below are in ANALYTICS"
    assert cells(lines[1]) == ["COLUMN", "TAGS", "ORIGIN", "VIA", "OPERATIONS", "USERS", "LAST SEEN"]
    rows = {cells(line)[0]: cells(line) for line in lines[2:]}
    contacts = rows["MARTS.CUSTOMER_CONTACTS.EMAIL"]
    assert contacts[1:4] == ["pii:email", "RAW.CUSTOMERS.EMAIL", "-"] and contacts[-2:] == ["ETL", "2024-05-03 09:00"]
    assert len(contacts[4]) == 8 and any(i.startswith(contacts[4]) for i in ids)
    onward = rows["REPORTING.NEWSLETTER.ADDRESS"]
    assert onward[3] == "MARTS.CUSTOMER_CONTACTS.EMAIL" and len(onward[4].split(", ")) == 2
    assert not any(i in out for i in ids) and max(map(len, lines)) < 170  # it was 250 with whole ids and names
    code, wide = run(shop, "pii", "pii:email", "--wide")
    assert code == 0 and all(i in wide for i in ids) and "2024-05-03T09:00:03.000000Z" in wide
    assert A + "MARTS.CUSTOMER_CONTACTS.EMAIL" in cells(wide.splitlines()[2])[0]
    assert "NAMESPACE" in wide.splitlines()[1]


def test_the_pii_table_fits_a_terminal(tmp_path):
    """A real terminal (a pty) 100 columns wide: every line fits; a pipe gets the lines whole."""
    import os
    import pty
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'l.db'}"
    store = open_store(url)
    harvest(open_source(LOG, "snowflake"), store, Options(dialect="snowflake", namespace="snowflake://shop"))
    store.close()
    assert CliRunner().invoke(main, ["tag", "apply", str(RULES), "--store", url]).exit_code == 0
    command = [sys.executable, "-m", "sqllineage_harvester.cli", "pii", "--store", url]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100", "LINES": "50"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    shown = b"".join(chunks).decode().replace("\r\n", "\n").splitlines()
    assert len(shown) > 5 and all(len(line) <= 100 for line in shown[1:]) and any("…" in line for line in shown)
    piped = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout.splitlines()
    assert len(piped) == len(shown) and max(map(len, piped[1:])) > 100 and not any("…" in line for line in piped)
