"""A log's statements see the state the statements before them left (session defaults, temp
tables, tables created or renamed), and the graph they give does not depend on how the log is
cut into batches or runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.dialects import get_dialect
from sqllineage_harvester.harvest import Harvester, Options
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

from storedump import differences, dump

HEADER = "QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,USER_NAME,WAREHOUSE_NAME,START_TIME,END_TIME," \
         "EXECUTION_STATUS,SESSION_ID\n"
# (SQL, schema the log names or "", user, warehouse, session or "")
ROWS = [
    ("CREATE TABLE marts.stg_orders (id INT, amount NUMBER)", "", "ETL", "WH_A", "s0"),
    ("USE SCHEMA SHOP.STG", "", "ETL", "WH_A", "s1"),
    ("CREATE TEMPORARY TABLE tmp_pay AS SELECT id, order_id, amount FROM raw.payments WHERE status = 'captured'",
     "", "ETL", "WH_A", "s1"),
    ("CREATE TABLE marts.big_spenders (customer_id INT, total NUMBER)", "", "ETL", "WH_A", "s1"),
    ("INSERT INTO marts.big_spenders SELECT o.customer_id, sum(t.amount) FROM tmp_pay t "
     "JOIN raw.orders o ON o.id = t.order_id GROUP BY o.customer_id", "", "ETL", "WH_A", "s1"),
    ("INSERT INTO marts.pay_counts SELECT count(*) AS n FROM tmp_pay", "", "ETL", "WH_A", "s1"),
    ("INSERT INTO orders_clean SELECT id, customer_id FROM raw.orders", "", "ETL", "WH_A", "s1"),
    # the Redshift-style swap of a rebuilt table, in another session
    ("CREATE TABLE marts.stg_orders_new LIKE marts.stg_orders", "PUBLIC", "BOB", "WH_B", "s2"),
    ("INSERT INTO marts.stg_orders_new SELECT id, amount * 1.1 FROM raw.orders", "PUBLIC", "BOB", "WH_B", "s2"),
    ("ALTER TABLE marts.stg_orders RENAME TO marts.stg_orders_old", "PUBLIC", "BOB", "WH_B", "s2"),
    ("ALTER TABLE marts.stg_orders_new RENAME TO marts.stg_orders", "PUBLIC", "BOB", "WH_B", "s2"),
    ("INSERT INTO marts.order_facts SELECT id, amount FROM marts.stg_orders", "PUBLIC", "BOB", "WH_B", "s2"),
    ("INSERT INTO marts.order_facts SELECT id, amount FROM marts.stg_orders", "PUBLIC", "ALICE", "WH_A", "s3"),
    # two scripts without a session, each with its own tmp
    ("CREATE TEMPORARY TABLE tmp AS SELECT id, amount FROM raw.orders WHERE amount > 0;\n"
     "INSERT INTO marts.order_totals SELECT id, amount FROM tmp", "PUBLIC", "ETL", "WH_A", ""),
    ("CREATE TEMPORARY TABLE tmp AS SELECT id, amount FROM raw.refunds;\n"
     "INSERT INTO marts.refund_facts SELECT id, amount FROM tmp", "PUBLIC", "ETL", "WH_A", ""),
    # a temp table made by one entry and read by another, neither in a session
    ("CREATE TEMPORARY TABLE tmp2 AS SELECT id FROM raw.refunds", "PUBLIC", "ETL", "WH_A", ""),
    ("INSERT INTO marts.refund_ids SELECT id FROM tmp2", "PUBLIC", "ETL", "WH_A", ""),
]


def write_log(path: Path, rows: list[tuple[str, str, str, str, str]] = ROWS) -> Path:
    lines = []
    for i, (sql, schema, user, warehouse, session) in enumerate(rows):
        text = sql.replace('"', '""')
        lines.append(f'q{i:03},"{text}",SHOP,{schema},{user},{warehouse},2024-03-01 10:{i:02}:00.000 +0000,'
                     f'2024-03-01 10:{i:02}:01.000 +0000,SUCCESS,{session}\n')
    path.write_text(HEADER + "".join(lines))
    return path


def harvest_in_runs(log: Path, db: Path, batch_size: int, batches_per_run: int | None = None,
                    dialect: str = "snowflake") -> int:
    """Harvest ``log`` whole, or in runs of ``batches_per_run`` batches each (a new harvester,
    as a scheduler starts one); the number of runs it took."""
    options = Options(dialect=get_dialect(dialect).sqlglot, namespace=f"{dialect}://acme", batch_size=batch_size)
    runs = 0
    while True:
        runs += 1
        store = open_store(f"sqlite:///{db}")
        done = [0]

        def stop() -> bool:
            done[0] += 1
            return batches_per_run is not None and done[0] >= batches_per_run

        try:
            report = Harvester(open_source(log, dialect), store, options).run(stop=stop)
        finally:
            store.close()
        if report.rows_read == 0 or batches_per_run is None:
            return runs


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_log(tmp_path_factory.mktemp("log") / "log.csv")  # one path: it names the source


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory, log: Path) -> Path:
    db = tmp_path_factory.mktemp("whole") / "whole.db"
    harvest_in_runs(log, db, 20_000)
    return db


def names(db: Path, direction: str, name: str) -> set[str]:
    store = open_store(f"sqlite:///{db}")
    try:
        graph = getattr(queries, direction)(store, name)
        return {n.node.name for n in graph.nodes}
    finally:
        store.close()


def test_a_temp_table_is_read_through_with_its_filter_and_its_count(whole):
    reached = names(whole, "impact", "SHOP.RAW.PAYMENTS.STATUS")
    assert {"SHOP.MARTS.BIG_SPENDERS.TOTAL", "SHOP.MARTS.PAY_COUNTS.N"} <= reached
    assert "SHOP.MARTS.BIG_SPENDERS.TOTAL" in names(whole, "impact", "SHOP.RAW.PAYMENTS.AMOUNT")
    assert not any("TMP_PAY" in n for n in names(whole, "upstream", "SHOP.MARTS.BIG_SPENDERS.TOTAL"))


def test_a_table_created_earlier_in_the_batch_names_the_columns_of_an_insert_into_it(whole):
    con = sqlite3.connect(whole)
    written = {c for (c,) in con.execute("SELECT c.name FROM columns c JOIN datasets d ON d.id = c.dataset_id "
                                          "WHERE d.name = 'SHOP.MARTS.BIG_SPENDERS'")}
    con.close()
    assert written == {"CUSTOMER_ID", "TOTAL"}


def test_use_in_a_session_qualifies_the_sessions_later_statements(whole):
    assert "SHOP.STG.ORDERS_CLEAN.ID" in names(whole, "impact", "SHOP.RAW.ORDERS.ID")


def test_a_rebuilt_and_renamed_table_carries_its_columns(whole):
    reached = names(whole, "impact", "SHOP.RAW.ORDERS.AMOUNT")
    assert {"SHOP.MARTS.STG_ORDERS_NEW.AMOUNT", "SHOP.MARTS.STG_ORDERS.AMOUNT", "SHOP.MARTS.ORDER_FACTS.AMOUNT"} <= reached


def test_every_user_who_ran_an_operation_is_named(whole):
    store = open_store(f"sqlite:///{whole}")
    graph = queries.impact(store, "SHOP.MARTS.STG_ORDERS.AMOUNT")
    ops = {o.id: o for o in graph.operations}
    store.close()
    facts = [o for o in ops.values() if o.type == "insert" and set(o.users) == {"ALICE", "BOB"}]
    assert facts and set(facts[0].systems) == {"WH_A", "WH_B"}


def test_two_scripts_that_each_use_tmp_never_meet_on_it(whole):
    reached = names(whole, "impact", "SHOP.RAW.ORDERS.AMOUNT")
    assert "SHOP.PUBLIC.ORDER_TOTALS.AMOUNT" in reached or "SHOP.MARTS.ORDER_TOTALS.AMOUNT" in reached
    assert not any("REFUND" in n for n in reached)
    upstream = names(whole, "upstream", "SHOP.MARTS.REFUND_IDS.ID")
    assert not any(n.startswith("SHOP.RAW.") for n in upstream)
    con = sqlite3.connect(whole)
    kinds = dict(con.execute("SELECT name, type FROM datasets WHERE name LIKE '%TMP2%'"))
    con.close()
    assert kinds and set(kinds.values()) == {"temp"} and all("#q" in n for n in kinds)


@pytest.mark.parametrize("batch_size, per_run", [(1, None), (7, None), (1, 1), (2, 3), (3, 1), (5, 2)])
def test_the_store_is_the_same_however_the_log_is_cut(tmp_path, log, whole, batch_size, per_run):
    db = tmp_path / "cut.db"
    runs = harvest_in_runs(log, db, batch_size, per_run)
    assert per_run is None or runs > 2
    cut, expected = dump(db), dump(whole)
    assert cut == expected, "\n".join(differences(cut, expected))


def test_a_table_made_like_another_takes_its_columns_but_no_lineage_from_it(whole):
    # CREATE TABLE stg_orders_new LIKE stg_orders copies a structure: the rebuilt table's values
    # come from raw.orders alone
    upstream = names(whole, "upstream", "SHOP.MARTS.STG_ORDERS_NEW")
    assert upstream == {"SHOP.MARTS.STG_ORDERS_NEW", "SHOP.RAW.ORDERS"}


FILLED = [  # a session's temp table made empty, then filled, updated and read; and one made LIKE a table
    ("CREATE TEMPORARY TABLE t (id INT, v NUMBER)", "PUBLIC", "ETL", "WH_A", "s9"),
    ("INSERT INTO t (id, v) SELECT id, amount FROM raw.a WHERE ok", "PUBLIC", "ETL", "WH_A", "s9"),
    ("UPDATE t SET v = s.fx * t.v FROM raw.rates s WHERE s.id = t.id", "PUBLIC", "ETL", "WH_A", "s9"),
    ("INSERT INTO m.out (id, v) SELECT id, v FROM t", "PUBLIC", "ETL", "WH_A", "s9"),
    ("CREATE TEMPORARY TABLE t2 AS SELECT id, amount FROM raw.orders", "PUBLIC", "ETL", "WH_A", "s9"),
    ("INSERT INTO t2 SELECT id, refund FROM raw.refunds", "PUBLIC", "ETL", "WH_A", "s9"),
    ("INSERT INTO m.y (id, amount) SELECT id, amount FROM t2", "PUBLIC", "ETL", "WH_A", "s9"),
    ("CREATE TEMPORARY TABLE l LIKE m.out", "PUBLIC", "ETL", "WH_A", "s9"),
    ("INSERT INTO l SELECT id, z FROM raw.d", "PUBLIC", "ETL", "WH_A", "s9"),
    ("INSERT INTO m.l (id, v) SELECT id, v FROM l", "PUBLIC", "ETL", "WH_A", "s9"),
]


def test_a_temp_table_filled_after_it_is_made_is_read_through_with_every_write(tmp_path):
    db = tmp_path / "filled.db"
    harvest_in_runs(write_log(tmp_path / "filled.csv", FILLED), db, 2)
    out = names(db, "upstream", "SHOP.M.OUT.V")
    assert {"SHOP.RAW.A.AMOUNT", "SHOP.RAW.RATES.FX"} <= out and not any("#" in n for n in out)
    assert "SHOP.RAW.REFUNDS.REFUND" in names(db, "upstream", "SHOP.M.Y.AMOUNT")  # by position: refund -> amount
    made_like = names(db, "upstream", "SHOP.M.L")
    assert "SHOP.RAW.D" in made_like and "SHOP.M.OUT" not in made_like  # LIKE lends a structure, not values


FIXTURE_LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


@pytest.mark.parametrize("dialect, log, column, marts", [
    # through a session's temp table (TMP_PAYMENTS) and its filter, into a count (DAILY_REVENUE.ORDERS)
    ("snowflake", "snowflake/query_history.csv", "ANALYTICS.RAW.PAYMENTS.STATUS",
     {"ANALYTICS.STAGING.STG_PAYMENTS.AMOUNT_USD", "ANALYTICS.MARTS.DAILY_REVENUE.ORDERS"}),
    # through a rebuilt table renamed into place, into a mart
    ("redshift", "redshift/sys_query_history.csv", "dev.raw.orders.amount",
     {"dev.staging.stg_orders.amount_usd", "dev.marts.fct_orders.amount_usd"}),
    # through a script's own temp table
    ("bigquery", "bigquery/jobs.jsonl", "shop-prod.raw.orders.amount", {"shop-prod.marts.fct_orders.amount_usd"}),
])
def test_impact_on_the_fixture_logs_reaches_marts_through_temp_tables_renames_and_counts(
        tmp_path, dialect, log, column, marts):
    db = tmp_path / "l.db"
    store = open_store(f"sqlite:///{db}")
    Harvester(open_source(FIXTURE_LOGS / log, dialect), store, Options(dialect=dialect, namespace=f"{dialect}://x")).run()
    graph = queries.impact(store, column)
    store.close()
    reached = {n.node.name for n in graph.nodes}
    assert marts <= reached, sorted(marts - reached)
    assert all(o.users for o in graph.operations)  # whom to warn: every operation on the way names its users


def test_a_table_made_on_an_earlier_schema_of_the_search_path_takes_over_its_bare_name(tmp_path):
    # orders is raw's until stg.orders is made; the same INSERT after that reads stg.orders, whatever the batch
    rows = [
        ("CREATE TABLE raw.orders (id INT, amount NUMBER)", "PUBLIC", "ETL", "WH_A", "p1"),
        ("USE SCHEMA SHOP.STG", "", "ETL", "WH_A", "p1"),
        ("CREATE TABLE stg.orders (id INT, amount NUMBER)", "", "ETL", "WH_A", "p1"),
        ("INSERT INTO m.x SELECT id, amount FROM orders", "", "ETL", "WH_A", "p1"),
    ]
    for size in (1, 20_000):
        db = tmp_path / f"p{size}.db"
        harvest_in_runs(write_log(tmp_path / "p.csv", rows), db, size)
        assert names(db, "upstream", "SHOP.M.X.AMOUNT") == {"SHOP.M.X.AMOUNT", "SHOP.STG.ORDERS.AMOUNT"}


def test_a_repeat_of_a_statement_in_another_session_does_what_it_does_there(tmp_path):
    """A statement run first outside any session and again in one: the second run opens its
    session (its USE qualifies what follows) even though the first was worked out already."""
    log = write_log(tmp_path / "repeat.csv", [
        ("USE SCHEMA SHOP.STG", "", "ETL", "WH_A", ""),
        ("USE SCHEMA SHOP.STG", "", "ETL", "WH_A", "s9"),
        ("INSERT INTO repeat_out SELECT id FROM raw.refunds", "", "ETL", "WH_A", "s9"),
    ])
    for batch_size in (1, 100):
        db = tmp_path / f"repeat-{batch_size}.db"
        harvest_in_runs(log, db, batch_size)
        assert "SHOP.RAW.REFUNDS.ID" in names(db, "upstream", "SHOP.STG.REPEAT_OUT.ID")
        con = sqlite3.connect(db)
        assert ("SHOP.REPEAT_OUT",) not in con.execute("SELECT name FROM datasets").fetchall()
        con.close()


def test_an_operation_copied_for_another_run_equals_one_made_whole():
    from dataclasses import replace

    from sqllineage_harvester.graph import _with
    from sqllineage_harvester.model import DatasetRef, Operation

    op = Operation("id", "insert", "f", "sql", (DatasetRef("a"),), (DatasetRef("b"),), (), (), "ns", "u", "s",
                   "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 3, "execution")
    changes = dict(user="v", system=None, executions=5, first_seen=None, time_basis="harvest")
    made = _with(op, **changes)
    assert made == replace(op, **changes) and hash(made) == hash(replace(op, **changes)) and op.user == "u"


def test_a_repeat_writes_again_into_a_table_renamed_away_and_its_next_rename_carries_it(tmp_path):
    """The columns seen written into a table go with it when it is renamed; a repeat of an earlier
    write into the old name (worked out before, not parsed again) writes them there anew."""
    write = "INSERT INTO marts.cur (amount) SELECT amount FROM raw.pay"
    log = write_log(tmp_path / "renames.csv", [
        (write, "PUBLIC", "ETL", "WH_A", ""),
        ("ALTER TABLE marts.cur RENAME TO marts.old1", "PUBLIC", "ETL", "WH_A", ""),
        (write, "PUBLIC", "ETL", "WH_A", ""),
        ("ALTER TABLE marts.cur RENAME TO marts.old2", "PUBLIC", "ETL", "WH_A", ""),
    ])
    for batch_size in (1, 100):
        db = tmp_path / f"renames-{batch_size}.db"
        harvest_in_runs(log, db, batch_size)
        assert "SHOP.RAW.PAY.AMOUNT" in names(db, "upstream", "SHOP.MARTS.OLD2.AMOUNT")
