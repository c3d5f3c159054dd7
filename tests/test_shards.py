"""Date-sharded tables are one dataset: ``events_20240401``, ``events_20240402`` and the wildcard
``events_*`` that reads them are the family ``events_*``, with the shards seen kept on it; names
that only end in digits, and shards of other datasets, are not merged. The BigQuery fixture
(fixtures/logs/bigquery/sharded_jobs.jsonl, made by generate_warehouses.py) is harvested into
every store."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqllineage_harvester import queries
from sqllineage_harvester.errors import ConfigError
from sqllineage_harvester.extract import extract
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.shards import ShardRule, rule_for
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

import storedump  # noqa: E402  (tests/ is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
SHARDED = ROOT / "fixtures" / "logs" / "bigquery" / "sharded_jobs.jsonl"
NS = "bigquery://shop-prod"
BIGQUERY = rule_for("bigquery")

# (name, its family or None) under BigQuery's default rule
FAMILIES = [
    ("p.d.events_20260101", "p.d.events_*"),
    ("events_20260101", "events_*"),
    ("p.d.ga_sessions20170801", "p.d.ga_sessions*"),  # [prefix]YYYYMMDD, no separator
    ("p.d.events_intraday_20260101", "p.d.events_intraday_*"),
    ("other-proj.ds2.events_20260101", "other-proj.ds2.events_*"),  # another project: another family
    ("p.d.events_*", "p.d.events_*"),
    ("p.d.events_2026*", "p.d.events_*"),  # a wildcard over part of the family
    ("p.d.events_202601*", "p.d.events_*"),
    ("p.d.orders_12345678", None),  # eight digits, no date
    ("p.d.orders_20261340", None),  # month 13
    ("p.d.orders_20260230", None),  # February 30th
    ("p.d.t_120260101", None),  # a date after a digit: t_1 + date is no family of t_1
    ("p.d.v2", None),
    ("p.d.sales_2026", None),  # a year alone is no YYYYMMDD
    ("p.d.x_00010101", None),  # year 1
    ("p.d.t_1*", None),  # a wildcard over t_1..., no date
    ("p.d.events_202613*", None),  # no month 13 follows
]


@pytest.mark.parametrize("name, family", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_a_name_is_a_shard_only_when_it_ends_in_a_real_date(name, family):
    found = BIGQUERY.family(name)
    assert (found[0] if found else None) == family


OTHER_FORMS = [
    (("YYYY_MM_DD",), "a.b.logs_2026_01_31", "a.b.logs_*"),
    (("YYYY_MM_DD",), "a.b.logs_2026_02_30", None),
    (("YYYY_MM_DD",), "a.b.logs_2026_01*", "a.b.logs_*"),
    (("YYYYMM",), "a.b.monthly_202601", "a.b.monthly_*"),
    (("YYYYMM",), "a.b.monthly_202613", None),
    (("YYYYMMDDHH",), "a.b.hourly_2026010123", "a.b.hourly_*"),
    (("YYYYMMDDHH",), "a.b.hourly_2026010124", None),
    (("YYYYMMDD", "YYYYMM"), "a.b.t_20260101", "a.b.t_*"),
]


@pytest.mark.parametrize("forms, name, family", OTHER_FORMS, ids=[f"{f[0]}-{f[1]}" for f in OTHER_FORMS])
def test_other_suffix_forms_are_configured_in_the_rule(forms, name, family):
    found = ShardRule(forms).family(name)
    assert (found[0] if found else None) == family


def test_the_rule_is_on_for_bigquery_and_off_elsewhere_unless_configured():
    assert rule_for("bigquery").family("p.d.e_20260101") is not None
    assert not rule_for("snowflake") and rule_for("snowflake").family("d.s.e_20260101") is None
    assert rule_for("snowflake", ("YYYYMMDD",)).family("d.s.e_20260101") == ("d.s.e_*", "20260101")
    assert not rule_for("bigquery", ())
    with pytest.raises(ConfigError):
        ShardRule(("YYYYQQ",))


def test_a_statement_folds_its_shards_and_keeps_table_suffix_as_a_filter():
    [view] = extract("CREATE VIEW `p.d.v` AS SELECT user_id, amount FROM `p.d.events_*` "
                     "WHERE _TABLE_SUFFIX BETWEEN '20260101' AND '20260131'", "bigquery")
    folded = BIGQUERY.fold(view)
    assert [d.name for d in folded.inputs] == ["p.d.events_*"]
    assert ("p.d.events_*", "_table_suffix", "FILTER") in {(i.source.dataset, i.source.column.lower(), i.type)
                                                            for i in folded.indirect}
    [both] = extract("INSERT INTO `p.d.t` SELECT a FROM `p.d.e_20260101` UNION ALL SELECT a FROM `p.d.e_20260102`",
                     "bigquery")
    folded = BIGQUERY.fold(both)
    assert [d.name for d in folded.inputs] == ["p.d.e_*"]
    assert [[str(s) for s in c.sources] for c in folded.columns] == [["p.d.e_*.a"]]
    assert BIGQUERY.shards([both]) == {("p.d.e_*", "20260101"), ("p.d.e_*", "20260102")}


def fixture_shards(dataset: str) -> list[str]:
    """The shard suffixes of ``dataset``'s family that the fixture's statements name."""
    text = "".join(json.loads(line)["query"] + "\n" for line in SHARDED.read_text().splitlines())
    return sorted(set(re.findall(re.escape(dataset) + r"_(\d{8})`", text)))


def harvest_fixture(url: str, batch_size: int = 100, **options) -> None:
    store = open_store(url)
    try:
        harvest(open_source(SHARDED, "bigquery"), store,
                Options(dialect="bigquery", namespace=NS, batch_size=batch_size, **options))
    finally:
        store.close()


def names(graph) -> set[str]:
    return {n.node.name for n in graph.nodes}


def test_the_sharded_estate_in_every_store_is_one_dataset_a_family(store_url):
    harvest_fixture(store_url)
    store = open_store(store_url, read_only=True)
    try:
        reached = names(queries.impact(store, "shop-prod.raw.events.amount"))
        # through the family: the wildcard view, a view over it, and the one-shard reader
        assert {"shop-prod.marts.daily_spend.spend", "shop-prod.marts.big_spenders.spend",
                "shop-prod.marts.first_day_buyers.amount", "shop-prod.analytics.events_*.amount"} <= reached
        assert not any(re.search(r"events_\d{8}", n) for n in reached)
        # decoys: shards of another dataset are their own family; digits that are no date stay apart
        assert "shop-prod.sandbox.events_*.amount" in reached
        assert len({n for n in reached if "analytics.batch_" in n and n.endswith(".amount")}) == 5
        # a shard's name answers for its family and says so, with the shards seen
        shards = fixture_shards("shop-prod.analytics.events")
        asked = queries.upstream(store, f"shop-prod.analytics.events_{shards[1]}.amount")
        assert asked.root.name == "shop-prod.analytics.events_*.amount"
        assert "shop-prod.raw.events.amount" in names(asked)
        assert asked.note and shards[0] in asked.note and shards[-1] in asked.note
        assert f"{len(shards)} seen" in asked.note
        # a shard's short name that two families share lists them both
        with pytest.raises(queries.AmbiguousNameError) as both:
            queries.upstream(store, f"events_{shards[0]}.amount")
        assert {n.name for n in both.value.candidates} == {"shop-prod.analytics.events_*.amount",
                                                           "shop-prod.sandbox.events_*.amount"}
        # a name that only looks like a shard of a family is still unknown
        with pytest.raises(queries.UnknownNameError):
            queries.upstream(store, "shop-prod.analytics.events_12345678")
    finally:
        store.close()


def edges(db: Path, kind: str) -> set[tuple[str, str]]:
    con = sqlite3.connect(db)
    try:
        return set(con.execute(
            "SELECT sd.name || '.' || sc.name, dd.name || '.' || dc.name FROM column_edges e "
            "JOIN columns sc ON sc.id = e.src JOIN datasets sd ON sd.id = sc.dataset_id "
            "JOIN columns dc ON dc.id = e.dst JOIN datasets dd ON dd.id = dc.dataset_id WHERE e.type = ?", (kind,)))
    finally:
        con.close()


def test_table_suffix_is_a_filter_input_of_the_wildcard_view(tmp_path):
    db = tmp_path / "l.db"
    harvest_fixture(f"sqlite:///{db}")
    filters = edges(db, "FILTER")
    assert ("shop-prod.analytics.events_*._table_suffix", "shop-prod.marts.daily_spend.spend") in filters


@pytest.mark.parametrize("batch_size", [1, 7])
def test_the_sharded_store_is_the_same_however_the_log_is_cut(tmp_path, batch_size):
    whole, cut = tmp_path / "whole.db", tmp_path / "cut.db"
    harvest_fixture(f"sqlite:///{whole}", 20_000)
    harvest_fixture(f"sqlite:///{cut}", batch_size)
    assert storedump.differences(storedump.dump(whole), storedump.dump(cut)) == []


def test_the_rule_off_keeps_every_shard_apart(tmp_path):
    db = tmp_path / "l.db"
    harvest_fixture(f"sqlite:///{db}", date_shards=())
    con = sqlite3.connect(db)
    try:
        datasets = {n for (n,) in con.execute("SELECT name FROM datasets")}
    finally:
        con.close()
    shards = fixture_shards("shop-prod.analytics.events")
    assert {f"shop-prod.analytics.events_{s}" for s in shards} <= datasets
    assert "shop-prod.analytics.events_*" in datasets  # the wildcard itself, read by the view


def test_a_wildcard_reads_the_columns_of_its_newest_shard_and_a_view_over_a_shard_reads_the_family(tmp_path):
    log = tmp_path / "jobs.jsonl"
    statements = [
        "CREATE TABLE `p.d.ev_20260101` (a INT64)",
        "CREATE TABLE `p.d.ev_20260102` (a INT64, b STRING)",
        "CREATE VIEW `p.d.all_days` AS SELECT * FROM `p.d.ev_*`",
        "CREATE VIEW `p.d.one_day` AS SELECT * FROM `p.d.ev_20260101`",
    ]
    log.write_text("".join(json.dumps({"job_id": f"j{i}", "query": sql, "project_id": "p", "user_email": "u@x",
                                       "state": "DONE", "start_time": f"2026-01-03 00:00:0{i}.000000 UTC",
                                       "end_time": f"2026-01-03 00:00:0{i}.500000 UTC"}) + "\n"
                           for i, sql in enumerate(statements)))
    db = tmp_path / "l.db"
    store = open_store(f"sqlite:///{db}")
    harvest(open_source(log, "bigquery"), store, Options(dialect="bigquery", namespace=NS, batch_size=1))
    store.close()
    direct = edges(db, "IDENTITY")
    assert {("p.d.ev_*.a", "p.d.all_days.a"), ("p.d.ev_*.b", "p.d.all_days.b"),
            ("p.d.ev_*.a", "p.d.one_day.a")} <= direct


def test_the_cli_says_a_shard_name_is_answered_for_its_family(tmp_path):
    db = tmp_path / "l.db"
    harvest_fixture(f"sqlite:///{db}")
    shard = fixture_shards("shop-prod.analytics.events")[0]
    done = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "upstream",
                           f"analytics.events_{shard}", "--store", f"sqlite:///{db}", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "shop-prod.analytics.events_*" in done.stdout and "shop-prod.raw.events" in done.stdout
    assert "shard" in done.stderr and "events_*" in done.stderr


def test_harvest_date_shards_off_keeps_shards_apart_and_a_bad_form_is_a_usage_error(tmp_path):
    def harvest_cli(db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(SHARDED),
                               "--dialect", "bigquery", "--store", f"sqlite:///{db}", "--quiet", *extra],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)

    assert harvest_cli(tmp_path / "off.db", "--date-shards", "off").returncode == 0
    con = sqlite3.connect(tmp_path / "off.db")
    try:
        kept = {n for (n,) in con.execute("SELECT name FROM datasets WHERE name LIKE '%.events_%'")}
    finally:
        con.close()
    assert {f"shop-prod.analytics.events_{s}" for s in fixture_shards("shop-prod.analytics.events")} <= kept
    bad = harvest_cli(tmp_path / "bad.db", "--date-shards", "YYYYQQ")
    assert bad.returncode == 2 and "--date-shards" in bad.stderr


def test_the_daily_inserts_into_a_family_are_one_operation_with_every_run(tmp_path):
    db = tmp_path / "l.db"
    harvest_fixture(f"sqlite:///{db}", 1)
    con = sqlite3.connect(db)
    try:
        writes = con.execute(
            "SELECT o.type, o.executions FROM operations o JOIN produces p ON p.operation_id = o.id "
            "JOIN datasets d ON d.id = p.dataset_id WHERE d.name = 'shop-prod.analytics.events_*'").fetchall()
    finally:
        con.close()
    assert writes == [("insert", len(fixture_shards("shop-prod.analytics.events")))]


def test_table_suffix_unqualified_in_a_join_belongs_to_the_one_wildcard_table():
    [view] = extract("CREATE VIEW `p.d.v` AS SELECT e.user_id, _TABLE_SUFFIX AS day FROM `p.d.events_2026*` e "
                     "JOIN `p.d.users` u ON u.id = e.user_id WHERE _TABLE_SUFFIX > '0101'", "bigquery")
    folded = BIGQUERY.fold(view)
    day = next(c for c in folded.columns if c.target.column == "day")
    assert [str(s) for s in day.sources] == ["p.d.events_*._table_suffix"]
    assert ("p.d.events_*._table_suffix", "FILTER") in {(str(i.source), i.type) for i in folded.indirect}
    assert not any("_table_suffix" in w for w in view.warnings)


# A generated sharded log: each job is (kind, day); the same job on other days differs by its shard.
JOBS = st.lists(st.tuples(st.sampled_from(["insert", "sandbox", "decoy", "wildcard_view", "one_shard", "select"]),
                          st.integers(min_value=1, max_value=28)), min_size=1, max_size=14)


def sharded_sql(kind: str, day: int) -> str:
    shard = f"202602{day:02d}"
    return {
        "insert": f"INSERT INTO `p.a.ev_{shard}` (u, amount) SELECT u, amount FROM `p.raw.ev` WHERE d = {day}",
        "sandbox": f"INSERT INTO `p.sb.ev_{shard}` (u, amount) SELECT u, amount FROM `p.raw.ev`",
        "decoy": f"INSERT INTO `p.a.run_{12345600 + day}` (u) SELECT u FROM `p.raw.ev`",
        "wildcard_view": "CREATE OR REPLACE VIEW `p.m.spend` AS SELECT u, sum(amount) AS s FROM `p.a.ev_*` "
                         f"WHERE _TABLE_SUFFIX >= '{shard}' GROUP BY u",
        "one_shard": f"CREATE OR REPLACE TABLE `p.m.day_{day}` AS SELECT u, amount FROM `p.a.ev_{shard}`",
        "select": f"SELECT count(*) FROM `p.a.ev_{shard}`",
    }[kind]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(jobs=JOBS)
def test_a_generated_sharded_log_gives_one_store_at_every_batch_size(tmp_path_factory, jobs):
    folder = tmp_path_factory.mktemp("sharded")
    log = folder / "jobs.jsonl"
    log.write_text("".join(json.dumps({"job_id": f"j{i}", "query": sharded_sql(kind, day), "project_id": "p",
                                       "user_email": "etl@x", "state": "DONE",
                                       "start_time": f"2026-03-01 00:00:{i:02d}.000000 UTC",
                                       "end_time": f"2026-03-01 00:00:{i:02d}.500000 UTC"}) + "\n"
                           for i, (kind, day) in enumerate(jobs)))
    dumps = {}
    for size in (1, 7, 20_000):
        db = folder / f"b{size}.db"
        store = open_store(f"sqlite:///{db}")
        harvest(open_source(log, "bigquery"), store, Options(dialect="bigquery", namespace=NS, batch_size=size))
        store.close()
        dumps[size] = storedump.dump(db)
    assert storedump.differences(dumps[20_000], dumps[1]) == []
    assert storedump.differences(dumps[20_000], dumps[7]) == []
    names = {dict(row)["name"] for row in dumps[1]["datasets"]}
    assert not any(re.search(r"ev_2026\d{4}$", n) for n in names)  # no shard is a dataset of its own
    decoys = {f"p.a.run_{12345600 + day}" for kind, day in jobs if kind == "decoy"}
    assert decoys <= names  # digits that are no date stay apart
    writes = {kind for kind, _ in jobs} & {"insert", "sandbox"}
    families = {"insert": "p.a.ev_*", "sandbox": "p.sb.ev_*"}
    assert {families[k] for k in writes} <= names
    inserts = [row for row in dumps[1]["operations"] if dict(row)["type"] == "insert"
               and "ev_*" in (dict(row)["sql"] or "")]
    assert len(inserts) == len(writes)  # a day's INSERT of a family is one operation with every run


def test_show_of_a_shard_name_shows_its_family_and_says_so(tmp_path):
    db = tmp_path / "l.db"
    harvest_fixture(f"sqlite:///{db}")
    shard = fixture_shards("shop-prod.analytics.events")[0]
    done = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "show",
                           f"shop-prod.analytics.events_{shard}", "--store", f"sqlite:///{db}", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "shop-prod.analytics.events_*"
    assert "shard" in done.stderr and "events_*" in done.stderr
