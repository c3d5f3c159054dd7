"""The harvest pipeline end to end: a real export file into a real SQLite store.

Idempotence, kill-and-resume, redaction of literals, the dedup cache and the
command's exit codes are each checked against what actually lands in the store.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

ROOT = Path(__file__).resolve().parent.parent
SNOWFLAKE_LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
OPTIONS = Options(dialect="snowflake", namespace="snowflake://test", batch_size=300)


def run_harvest(db: Path, options: Options = OPTIONS, log: Path = SNOWFLAKE_LOG):
    return harvest(open_source(log, "snowflake"), open_store(f"sqlite:///{db}"), options)


SNAPSHOT = {
    "operations": "SELECT key, type, fingerprint, sql, first_seen, last_seen, executions FROM operations",
    "column_edges": """SELECT sd.name || '.' || sc.name, dd.name || '.' || dc.name, o.key, e.type, e.first_seen, e.last_seen
                       FROM column_edges e JOIN columns sc ON sc.id = e.src JOIN datasets sd ON sd.id = sc.dataset_id
                       JOIN columns dc ON dc.id = e.dst JOIN datasets dd ON dd.id = dc.dataset_id
                       JOIN operations o ON o.id = e.operation_id""",
    "usage": "SELECT d.name, u.user, u.day, u.count FROM usage u JOIN datasets d ON d.id = u.dataset_id",
    "parse_failures": "SELECT fingerprint, reason, executions, first_seen, last_seen FROM parse_failures",
    "counters": "SELECT name, value FROM counters",
    "datasets": "SELECT key, type FROM datasets",
    "cursor": "SELECT cursor FROM sources",
}


def snapshot(db: Path) -> dict:
    """Everything a double count or a loss would change (by name, not by row id)."""
    con = sqlite3.connect(db)
    try:
        return {name: sorted(con.execute(query).fetchall(), key=repr) for name, query in SNAPSHOT.items()}
    finally:
        con.close()


def test_second_harvest_of_the_same_log_adds_nothing(tmp_path):
    db = tmp_path / "lineage.db"
    first = run_harvest(db)
    before = snapshot(db)
    second = run_harvest(db)
    assert first.operations == len(before["operations"]) > 10 and first.parsed > 20  # distinct, not per batch
    assert second.rows_read == 0 and second.operations == 0
    assert snapshot(db) == before


def test_executions_are_counted_once_per_log_row(tmp_path):
    db = tmp_path / "lineage.db"
    report = run_harvest(db)
    con = sqlite3.connect(db)
    total_ops = con.execute("SELECT sum(executions) FROM operations").fetchone()[0]
    counters = dict(con.execute("SELECT name, value FROM counters").fetchall())
    con.close()
    rows = sum(v for k, v in counters.items() if k.startswith("rows:"))
    assert rows == report.entries  # every successful entry is counted under its kind
    assert 0 < total_ops < report.entries  # writes only; reads go to usage


def test_repeats_are_parsed_once_and_later_runs_use_the_stored_cache(tmp_path):
    db = tmp_path / "lineage.db"
    report = run_harvest(db)
    assert report.distinct < report.entries / 10  # real logs repeat themselves
    assert report.parsed + report.failed == report.distinct and report.cached == 0
    # A new log with the same statements: nothing is parsed again.
    copy = tmp_path / "again.csv"
    copy.write_bytes(SNOWFLAKE_LOG.read_bytes())
    again = harvest(open_source(copy, "snowflake"), open_store(f"sqlite:///{db}"), OPTIONS)
    assert again.parsed == 0 and again.cached == again.distinct > 0


def test_literals_from_the_log_never_reach_the_store(tmp_path):
    db = tmp_path / "lineage.db"
    run_harvest(db)
    text = SNOWFLAKE_LOG.read_text()
    emails = set(re.findall(r"[\w.]+@example\.(?:com|org|net)", text))
    cards = {"4111 1111 1111 1111", "4111111111111111", "5555 5555 5555 4444", "4012888888881881", "378282246310005"}
    assert emails and any(c in text or c.replace(" ", "") in text for c in cards)
    blob = db.read_bytes()
    for secret in emails | cards:
        assert secret.encode() not in blob, secret


def test_sql_text_can_be_left_out_entirely(tmp_path):
    db = tmp_path / "lineage.db"
    run_harvest(db, Options(dialect="snowflake", namespace="snowflake://test", store_sql=False))
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM operations WHERE sql IS NOT NULL").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM operations").fetchone()[0] > 0


def test_impact_answers_from_the_harvested_log(tmp_path):
    db = tmp_path / "lineage.db"
    run_harvest(db)
    graph = queries.impact(open_store(f"sqlite:///{db}"), "RAW.PAYMENTS.AMOUNT", direct_only=True)
    names = {n.node.name: n.depth for n in graph.nodes}
    assert names["ANALYTICS.RAW.PAYMENTS.AMOUNT"] == 0
    assert names["ANALYTICS.STAGING.STG_PAYMENTS.AMOUNT_USD"] >= 1
    assert any(name.startswith("ANALYTICS.MARTS.") for name in names)


KILLER = textwrap.dedent('''
    import os, signal, sys
    from sqllineage_harvester.harvest import Options, harvest
    from sqllineage_harvester.sources import open_source
    from sqllineage_harvester.stores import open_store
    from sqllineage_harvester.stores import sql

    kill_at = int(sys.argv[3])
    original = sql.SQLStore._write_all
    seen = [0]

    def write_all(self, conn, batch):
        original(self, conn, batch)
        seen[0] += 1
        if seen[0] == kill_at:  # mid-transaction: written, not committed
            os.kill(os.getpid(), signal.SIGKILL)

    sql.SQLStore._write_all = write_all
    store = open_store("sqlite:///" + sys.argv[2])
    harvest(open_source(sys.argv[1], "snowflake"), store,
            Options(dialect="snowflake", namespace="snowflake://test", batch_size=300))
''')


@pytest.mark.parametrize("kill_at", [1, 4, 8])
def test_a_run_killed_mid_batch_resumes_with_nothing_lost_or_doubled(tmp_path, kill_at):
    clean = tmp_path / "clean.db"
    run_harvest(clean)
    killed = tmp_path / "killed.db"
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    proc = subprocess.run([sys.executable, str(script), str(SNOWFLAKE_LOG), str(killed), str(kill_at)],
                          capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, proc.stderr.decode()
    partial = snapshot(killed)
    resumed = run_harvest(killed)
    assert 0 < resumed.rows_read < 2520 or kill_at == 1
    assert snapshot(killed) == snapshot(clean)
    assert partial != snapshot(clean)


def cli(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return proc.returncode, proc.stdout, proc.stderr


def test_harvest_command_reports_json_and_exits_zero(tmp_path):
    code, out, err = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake",
                         "--store", f"sqlite:///{tmp_path / 'l.db'}", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["rows_read"] == 2520 and report["failed_executions"] > 0
    assert report["parsed"] > 0 and report["failed"] > 0 and "rows/s" in err


@pytest.mark.parametrize("args,code,message", [
    (("--dialect", "nosuchdb"), 2, "unknown dialect"),
    (("--dialect", "snowflake", "--since", "yesterday-ish"), 2, "not a date"),
])
def test_harvest_configuration_errors_exit_two(tmp_path, args, code, message):
    status, out, err = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--store", f"sqlite:///{tmp_path / 'l.db'}", *args)
    assert status == code and message in err and out == ""


def test_an_unwritable_store_exits_one_with_a_clear_line(tmp_path):
    db = tmp_path / "l.db"
    run_harvest(db, log=tmp_path / "empty.csv") if False else None
    status, _, err = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake",
                         "--store", f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'l.db'}")
    assert status == 1 and err.startswith("error:") and "Traceback" not in err


def test_a_password_in_the_store_url_is_never_printed(tmp_path):
    status, out, err = cli("stats", "--store", "postgresql://harvester:Sup3rSecret@127.0.0.1:1/lineage")
    assert status == 1 and "Sup3rSecret" not in out + err and "***" in err


def test_since_and_until_bound_a_backfill(tmp_path):
    code, out, _ = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake", "--format", "json",
                       "--store", f"sqlite:///{tmp_path / 'l.db'}", "--since", "2024-03-10", "--until", "2024-03-12")
    report = json.loads(out)
    assert code == 0 and report["skipped"]["before_since"] > 0 and report["skipped"]["after_until"] > 0
    assert 0 < report["entries"] < 2520


def test_demo_runs_in_an_empty_folder(tmp_path):
    code, out, err = cli("demo", cwd=tmp_path)
    assert code == 0, err
    assert "ANALYTICS.RAW.PAYMENTS.AMOUNT" in out and "STG_PAYMENTS" in out
    assert (tmp_path / "demo-lineage.db").exists()


def test_temp_tables_are_read_through_within_a_session(tmp_path):
    log = tmp_path / "history.csv"
    rows = [
        ("q1", "CREATE TEMPORARY TABLE tmp_pay AS SELECT id, amount * rate AS usd FROM raw.payments", "s1", "01"),
        ("q2", "INSERT INTO marts.paid (id, usd) SELECT id, usd FROM tmp_pay", "s1", "02"),
        ("q3", "INSERT INTO marts.audit (id) SELECT id FROM tmp_pay", "s2", "03"),  # another session's tmp_pay
    ]
    header = "QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,USER_NAME,START_TIME,END_TIME,EXECUTION_STATUS,SESSION_ID\n"
    log.write_text(header + "".join(
        f'{q},"{sql}",DB,STG,ETL,2024-03-01 10:00:{s}.000 +0000,2024-03-01 10:00:{s}.500 +0000,SUCCESS,{sid}\n'
        for q, sql, sid, s in rows))
    db = tmp_path / "l.db"
    run_harvest(db, log=log)
    store = open_store(f"sqlite:///{db}")
    paid = {n.node.name for n in queries.upstream(store, "MARTS.PAID.USD").nodes}
    assert paid == {"DB.MARTS.PAID.USD", "DB.RAW.PAYMENTS.AMOUNT", "DB.RAW.PAYMENTS.RATE"}
    audit = {n.node.name: n.node.type for n in queries.upstream(store, "MARTS.AUDIT.ID").nodes}
    # s2 never made tmp_pay: what it reads is a temp table of its own session, never s1's
    assert len(audit) == 2 and all(t == "temp" for n, t in audit.items() if n.startswith("DB.STG.TMP_PAY#s"))
    assert not any(n.startswith("DB.RAW.") for n in audit)


def test_follow_mode_stops_cleanly_on_sigterm_and_a_second_harvester_is_refused(tmp_path):
    import signal
    import time

    db = tmp_path / "l.db"
    args = [sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(SNOWFLAKE_LOG),
            "--dialect", "snowflake", "--store", f"sqlite:///{db}", "--follow", "--interval", "0.2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    follower = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        def committed() -> bool:
            try:
                return db.exists() and bool(snapshot(db)["cursor"])
            except sqlite3.OperationalError:  # the store's tables are being created
                return False

        deadline = time.time() + 30
        while time.time() < deadline and not committed():
            time.sleep(0.1)
        assert snapshot(db)["cursor"], "the first pass never committed"
        second = subprocess.run(args[:-3], capture_output=True, text=True, env=env)
        assert second.returncode == 75 and "another harvest" in second.stderr
        follower.send_signal(signal.SIGTERM)
        _, err = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 143, err  # 128 + SIGTERM, after the batch in hand
    assert "rows read" in err and err.count("stopping after the batch in hand") == 1
    clean = tmp_path / "clean.db"
    run_harvest(clean)
    def ops(path: Path) -> list:  # the namespace (part of the key) differs: compare the rest
        return sorted(row[1:] for row in snapshot(path)["operations"])

    assert ops(db) == ops(clean)  # repeated passes added nothing


def test_a_full_disk_stops_the_run_clearly_and_the_rerun_loses_nothing(tmp_path):
    """SQLite reports SQLITE_FULL when its file may not grow (here: PRAGMA max_page_count, the
    same error a full disk gives): the run stops with one clear error, the batches before stay
    committed, and once there is room a rerun ends exactly as a clean run does."""
    from sqlalchemy import event

    from sqllineage_harvester.stores import StoreError

    clean, full = tmp_path / "clean.db", tmp_path / "full.db"
    run_harvest(clean)
    store = open_store(f"sqlite:///{full}")
    pages = sqlite3.connect(full).execute("PRAGMA page_count").fetchone()[0]

    @event.listens_for(store.engine, "connect")
    def _no_room(dbapi_connection, _record):  # every connection the store opens from now on
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 12}")

    store.engine.dispose()
    with pytest.raises(StoreError, match="disk full; nothing of this batch was written"):
        harvest(open_source(SNOWFLAKE_LOG, "snowflake"), store,
                Options(dialect="snowflake", namespace="snowflake://test", batch_size=300))
    store.close()
    partial = snapshot(full)
    assert partial != snapshot(clean)
    resumed = run_harvest(full)
    assert 0 < resumed.rows_read < 2520
    assert snapshot(full) == snapshot(clean)
