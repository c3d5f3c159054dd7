"""Opening a store: the query commands never create one and can read one they may not write;
a harvest refuses another application's SQLite file and a store it cannot upgrade, in one line."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from sqllineage_harvester.stores import open_store

ROOT = Path(__file__).resolve().parents[1]
SNOWFLAKE_LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
QUERIES = (("impact", "raw.orders"), ("upstream", "raw.orders"), ("downstream", "raw.orders"),
           ("path", "raw.orders", "raw.customers"), ("stats",))


def cli(*args: str, cwd: Path | None = None, drop_privileges: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sqllineage_harvester.cli", *args]
    if drop_privileges and os.geteuid() == 0:  # root writes through file modes: take that power away
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot drop the power to write read-only files")
        command = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def harvested(tmp_path: Path) -> Path:
    store = tmp_path / "lineage.db"
    proc = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake", "--store", f"sqlite:///{store}")
    assert proc.returncode == 0, proc.stderr
    return store


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# -- query commands never create a store -------------------------------------------------
@pytest.mark.parametrize("query", QUERIES)
def test_a_query_of_a_store_that_does_not_exist_says_so_and_creates_nothing(query: tuple[str, ...],
                                                                            tmp_path: Path) -> None:
    proc = cli(*query, "--store", "sqlite:///typo.db", cwd=tmp_path)
    assert proc.returncode == 2
    assert "does not exist" in one_line(proc) and "typo.db" in proc.stderr
    proc = cli(*query, cwd=tmp_path)  # the default store, lineage.db
    assert proc.returncode == 2 and "does not exist" in one_line(proc)
    assert list(tmp_path.iterdir()) == []


def test_a_query_of_an_empty_postgresql_database_adds_no_table(pg_cluster: Any) -> None:
    import psycopg

    url = pg_cluster.create_database(f"empty_{uuid.uuid4().hex[:8]}")
    proc = cli("impact", "raw.orders", "--store", url)
    assert proc.returncode == 2 and "holds no lineage" in one_line(proc)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                            ).fetchone() == (0,)


def test_a_query_of_an_empty_graph_database_writes_nothing(bolt_server: Any) -> None:
    url = str(bolt_server.create_database())
    proc = cli("stats", "--store", url)
    assert proc.returncode == 2 and "holds no lineage" in one_line(proc)
    proc = cli("stats", "--store", url)  # still nothing there: the first query made no SchemaVersion
    assert proc.returncode == 2 and "holds no lineage" in one_line(proc)


def test_a_read_only_sqlite_store_in_a_read_only_folder_can_be_queried(tmp_path: Path) -> None:
    """The query runs without the power to write (``setpriv`` drops root's file-mode override), so
    the file's and the folder's modes really stop writes, as for an analyst with read access."""
    folder = tmp_path / "shared"
    folder.mkdir()
    store = harvested(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["lineage.db"]  # no -wal / -shm left behind
    store.chmod(0o444)
    folder.chmod(0o555)
    try:
        before = digest(folder)
        writable = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake",
                       "--store", f"sqlite:///{store}", drop_privileges=True)
        assert writable.returncode == 1  # the modes are honest: a harvest cannot write
        for query in QUERIES:
            proc = cli(*query, "--store", f"sqlite:///{store}", drop_privileges=True)
            no_route = query[0] == "path" and proc.returncode == 1 and "no route" in proc.stderr  # path's own exit 1
            assert proc.returncode in (0, 2) or no_route, proc.stderr  # 2: a name the sample has not
            assert "read-only" not in proc.stderr and "cannot be opened" not in proc.stderr, proc.stderr
        proc = cli("stats", "--store", f"sqlite:///{store}", "--format", "json", drop_privileges=True)
        assert proc.returncode == 0 and '"operations"' in proc.stdout, proc.stderr
        assert digest(folder) == before
    finally:
        folder.chmod(0o755)
        store.chmod(0o644)


def test_a_read_only_sqlite_file_in_a_writable_folder_can_be_queried(tmp_path: Path) -> None:
    store = harvested(tmp_path)
    store.chmod(0o444)
    proc = cli("stats", "--store", str(store), "--format", "json", drop_privileges=True)
    assert proc.returncode == 0 and '"operations"' in proc.stdout, proc.stderr


# -- a harvest refuses what is not its store ---------------------------------------------
def test_a_harvest_into_another_applications_sqlite_file_leaves_it_untouched(tmp_path: Path) -> None:
    app = tmp_path / "app.db"
    con = sqlite3.connect(app)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
    con.execute("INSERT INTO customers VALUES (1, 'a@example.com')")
    con.commit()
    con.close()
    before = digest(tmp_path)
    for store in (f"sqlite:///{app}", str(app)):
        proc = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake", "--store", store)
        assert proc.returncode == 2
        assert "not a lineage store" in one_line(proc) and "customers" in proc.stderr
        assert digest(tmp_path) == before


def test_a_harvest_into_a_file_that_is_no_database_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_text("shopping list\n" * 200)
    proc = cli("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake", "--store", str(notes))
    assert proc.returncode == 2 and "not an SQLite database" in one_line(proc)
    assert notes.read_text() == "shopping list\n" * 200


@pytest.mark.parametrize("version, says", [(0, "older than any this harvester can upgrade"),
                                           (99, "newer than this harvester")])
def test_a_store_of_a_schema_version_it_cannot_use_is_one_line(version: int, says: str, tmp_path: Path) -> None:
    store = harvested(tmp_path)
    con = sqlite3.connect(store)
    con.execute("UPDATE schema_version SET version = ?", (version,))
    con.commit()
    con.close()
    for args in (("harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake"), ("stats",)):
        proc = cli(*args, "--store", f"sqlite:///{store}")
        assert proc.returncode == 2
        assert says in one_line(proc) and f"version {version}" in proc.stderr


def test_a_query_of_an_older_store_asks_for_a_harvest_to_upgrade_it(tmp_path: Path) -> None:
    store = harvested(tmp_path)
    con = sqlite3.connect(store)
    con.execute("UPDATE schema_version SET version = 1")
    con.commit()
    con.close()
    before = store.read_bytes()
    proc = cli("stats", "--store", f"sqlite:///{store}")
    assert proc.returncode == 2 and "harvest into it" in one_line(proc)
    assert store.read_bytes() == before  # (a reader of a WAL file may leave SQLite's -wal / -shm beside it)


def test_opening_a_store_for_reading_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/none.db", read_only=True)
    assert list(tmp_path.iterdir()) == []
