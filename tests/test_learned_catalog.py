"""Views and tables the log creates are known to later batches and runs exactly as a given
catalog's tables are: a chain of views over views gives the same store at every batch size and
however it is cut into runs, and a catalog given (a file, a live source's) adds to what earlier
runs learned instead of replacing it."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqllineage_harvester import queries
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

import storedump  # noqa: E402  (tests/ is on sys.path)

NS = "bigquery://t"
BASE = {"id": "INT64", "amount": "NUMERIC", "kind": "STRING"}


def write_log(path: Path, statements: list[str], day: int = 1) -> Path:
    path.write_text("".join(
        json.dumps({"job_id": f"j{day}-{i}", "query": sql, "project_id": "p", "user_email": "etl@x", "state": "DONE",
                    "start_time": f"2024-01-{day:02d} 00:{i // 60:02d}:{i % 60:02d}.000000 UTC",
                    "end_time": f"2024-01-{day:02d} 00:{i // 60:02d}:{i % 60:02d}.500000 UTC"}) + "\n"
        for i, sql in enumerate(statements)))
    return path


def run(log: Path, db: Path, batch_size: int, catalog: dict | None = None) -> None:
    store = open_store(f"sqlite:///{db}")
    try:
        harvest(open_source(log, "bigquery"), store,
                Options(dialect="bigquery", namespace=NS, batch_size=batch_size, catalog=catalog))
    finally:
        store.close()


# One link of a chain: how a view reads the one before it.
LINKS = st.sampled_from(["star", "star_alias", "columns", "expression", "filtered", "table"])


def chain(links: list[str], made_with_columns: bool) -> list[str]:
    """A raw table, then each link a view (or a table) over the one before."""
    out = ["CREATE TABLE `p.d.raw` (" + ", ".join(f"{c} {t}" for c, t in BASE.items()) + ")" if made_with_columns
           else "CREATE TABLE `p.d.raw` AS SELECT id, amount, kind FROM `p.d.landing`"]
    before = "p.d.raw"
    for n, link in enumerate(links):
        name = f"p.d.v{n}"
        body = {"star": f"SELECT * FROM `{before}`",
                "star_alias": f"SELECT x.* FROM `{before}` x",
                "columns": f"SELECT id, amount, kind FROM `{before}`",
                "expression": f"SELECT id, amount * 2 AS amount, upper(kind) AS kind FROM `{before}`",
                "filtered": f"SELECT * FROM `{before}` WHERE amount > 0"}.get(link)
        out.append(f"CREATE OR REPLACE TABLE `{name}` AS SELECT * FROM `{before}`" if body is None
                   else f"CREATE OR REPLACE VIEW `{name}` AS {body}")
        before = name
    out.append(f"INSERT INTO `p.d.sink` SELECT * FROM `{before}`")
    return out


def reaches(db: Path, column: str) -> set[str]:
    store = open_store(f"sqlite:///{db}", read_only=True)
    try:
        return {n.node.name for n in queries.upstream(store, column).nodes}
    finally:
        store.close()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=st.lists(LINKS, min_size=1, max_size=5), made_with_columns=st.booleans())
def test_a_chain_of_views_gives_one_store_at_batch_size_1_7_and_20000(tmp_path_factory, links, made_with_columns):
    folder = tmp_path_factory.mktemp("chain")
    log = write_log(folder / "jobs.jsonl", chain(links, made_with_columns))
    dumps = {}
    for size in (1, 7, 20_000):
        db = folder / f"b{size}.db"
        run(log, db, size)
        dumps[size] = storedump.dump(db)
    assert storedump.differences(dumps[20_000], dumps[1]) == []
    assert storedump.differences(dumps[20_000], dumps[7]) == []
    # the columns went through every view: the sink's amount comes from the raw table's
    origin = "p.d.raw.amount" if made_with_columns else "p.d.landing.amount"
    assert origin in reaches(folder / "b1.db", "p.d.sink.amount")


def test_a_chain_cut_into_one_run_a_view_gives_the_store_of_one_run(tmp_path):
    statements = chain(["star", "expression", "star_alias", "filtered"], True)
    whole = tmp_path / "whole.db"
    run(write_log(tmp_path / "all.jsonl", statements), whole, 20_000)
    cut = tmp_path / "cut.db"
    for n, sql in enumerate(statements):  # a new source, a new run each: what earlier runs learned serves
        run(write_log(tmp_path / "all.jsonl", statements[: n + 1]), cut, 1)
    assert storedump.differences(storedump.dump(whole), storedump.dump(cut)) == []
    assert "p.d.raw.amount" in reaches(cut, "p.d.sink.amount")


def test_a_catalog_given_adds_to_what_earlier_runs_learned(tmp_path):
    db, catalog = tmp_path / "l.db", {"p.d.raw": BASE}
    run(write_log(tmp_path / "day1.jsonl", ["CREATE VIEW `p.d.v1` AS SELECT * FROM `p.d.raw`"], 1), db, 100, catalog)
    run(write_log(tmp_path / "day2.jsonl", ["CREATE VIEW `p.d.v2` AS SELECT * FROM `p.d.v1`"], 2), db, 100, catalog)
    assert {"p.d.v1.amount", "p.d.raw.amount"} <= reaches(db, "p.d.v2.amount")
