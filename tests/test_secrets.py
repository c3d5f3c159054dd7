"""No secret escapes: every password form in a URL or a libpq DSN is hidden wherever it is
printed (errors, notes, ``--format json``), and the store keeps source names without one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from sqllineage_harvester.errors import ConfigError, HarvesterError, hide_secrets
from sqllineage_harvester.sources import source_identity
from sqllineage_harvester.stores import StoreError, safe_url

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cret-Horse-42"


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)


def one_clean_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The run's stderr, checked: one line (besides notes), no traceback, no secret anywhere."""
    assert SECRET not in proc.stderr and SECRET not in proc.stdout
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


@pytest.mark.parametrize("text, shown", [
    (f"postgresql://ann:{SECRET}@db:5432/lineage", "postgresql://ann:***@db:5432/lineage"),
    (f"postgresql://ann@db/x?password={SECRET}&sslmode=require", "postgresql://ann@db/x?password=***&sslmode=require"),
    (f"postgresql://ann@db/x?sslmode=require&PassWord={SECRET}", "postgresql://ann@db/x?sslmode=require&PassWord=***"),
    (f"snowflake://ann@acme/db?private_key_file_pwd={SECRET}&warehouse=wh",
     "snowflake://ann@acme/db?private_key_file_pwd=***&warehouse=wh"),
    (f"databricks://token:{SECRET}@host?http_path=/sql&access_token={SECRET}",
     "databricks://token:***@host?http_path=/sql&access_token=***"),
    (f"bigquery://p?credentials_base64={SECRET}", "bigquery://p?credentials_base64=***"),
    (f"host=db port=5432 password={SECRET} user=ann", "host=db port=5432 password=*** user=ann"),
    (f"host=db password = '{SECRET} with \\' quote' dbname=x", "host=db password = *** dbname=x"),
    (f"postgresql://ann:{SECRET}/x@db/lineage", "postgresql://ann:***@db/lineage"),  # a '/' in the password
    (f"postgresql://ann:{SECRET}@[::1/db", "postgresql://ann:***@[::1/db"),  # malformed
    ("postgresql://ann:it's-SEKRET@db/app", "postgresql://ann:***@db/app"),  # a quote in the password
    ("store 'postgresql://ann:SEKRETx@db/app' is down", "store 'postgresql://ann:***@db/app' is down"),
    ("postgresql://ann:pa?ss#SEKRET@db/app?sslmode=require", "postgresql://ann:***@db/app?sslmode=require"),
    (f"store postgresql://ann:{SECRET}@db/x: connection failed", "store postgresql://ann:***@db/x: connection failed"),
    (f"store postgresql://ann@db/x?password={SECRET}: refused", "store postgresql://ann@db/x?password=***: refused"),
    (f"bolt://neo4j:{SECRET}@graph:7687", "bolt://neo4j:***@graph:7687"),
    ("sqlite:///lineage.db", "sqlite:///lineage.db"),
    ("postgresql://ann@db/lineage", "postgresql://ann@db/lineage"),
    ("pglog:///var/log/postgresql?host=db&port=5432", "pglog:///var/log/postgresql?host=db&port=5432"),
    ("no dataset or column named 'raw.orders.amount'", "no dataset or column named 'raw.orders.amount'"),
])
def test_every_password_form_is_hidden(text: str, shown: str) -> None:
    assert hide_secrets(text) == shown
    assert safe_url(text) == shown


def test_a_secret_a_driver_echoes_bare_is_hidden_when_the_url_is_known() -> None:
    url = f"postgresql://ann@db/x?password={SECRET}"
    assert hide_secrets(f'invalid value "{SECRET}" somewhere', url) == 'invalid value "***" somewhere'
    assert hide_secrets(f"a {SECRET} b", f"host=db password='{SECRET}'") == "a *** b"


def test_the_harvesters_errors_never_hold_a_secret() -> None:
    for error in (StoreError(f"store postgresql://a:{SECRET}@h/db: refused"),
                  ConfigError(f"no reader for 'host=h password={SECRET}'"),
                  HarvesterError(f"x?token={SECRET}")):
        assert SECRET not in str(error) and SECRET not in repr(error) and "***" in str(error)


@pytest.mark.parametrize("url, identity", [
    (f"postgresql://ann:{SECRET}@db:5432/app", "postgresql://ann@db:5432/app"),
    ("postgresql://ann:***@db:5432/app", "postgresql://ann@db:5432/app"),  # already masked: the same name
    (f"postgresql://ann@db/app?password={SECRET}&sslmode=require", "postgresql://ann@db/app?sslmode=require"),
    ("postgresql://ann@db/app?password=***&sslmode=require", "postgresql://ann@db/app?sslmode=require"),
    (f"snowflake://ann@acme/db?private_key={SECRET}&warehouse=wh&token={SECRET}", "snowflake://ann@acme/db?warehouse=wh"),
    (f"mysql://ann:{SECRET}@db/performance_schema?log=general_log", "mysql://ann@db/performance_schema?log=general_log"),
    ("pglog:///var/log/postgresql", "pglog:///var/log/postgresql"),
    ("file:///data/history.csv", "file:///data/history.csv"),
    (f"host=db password={SECRET} dbname=app", "host=db dbname=app"),
    ("postgresql://ann:pa?ss#SEKRET@db/app?sslmode=require", "postgresql://ann@db/app?sslmode=require"),
    ("postgresql://ann:it's-SEKRET@db/app", "postgresql://ann@db/app"),
])
def test_a_source_is_named_without_any_secret(url: str, identity: str) -> None:
    assert source_identity(url) == identity


# -- on the command line, against a real server --------------------------------------
@pytest.fixture(scope="module")
def guarded(pg_cluster: Any) -> Any:
    """A database with pg_stat_statements, read by a role that must give a password."""
    import psycopg

    database = f"guarded_{uuid.uuid4().hex[:8]}"
    pg_cluster.create_database(database)
    pg_cluster.require_password("keeper", SECRET)
    admin = f"host=127.0.0.1 port={pg_cluster.port} user=postgres dbname={database}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("GRANT pg_read_all_stats TO keeper")
        conn.execute("CREATE TABLE kept (id int, note text)")
        conn.execute("GRANT ALL ON kept TO keeper")
    time.sleep(0.5)  # the reloaded pg_hba.conf
    with psycopg.connect(f"{admin.replace('user=postgres', 'user=keeper')} password={SECRET}",
                         autocommit=True) as conn:
        conn.execute("INSERT INTO kept SELECT id, 'x' FROM kept")
    return pg_cluster, database


def test_a_password_given_as_a_query_parameter_is_never_printed_nor_stored(guarded: Any, tmp_path: Path) -> None:
    cluster, database = guarded
    store = tmp_path / "lineage.db"
    url = f"postgresql://keeper@127.0.0.1:{cluster.port}/{database}?password={SECRET}"
    proc = cli("harvest", "--source", url, "--store", f"sqlite:///{store}", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout and SECRET not in proc.stderr
    assert json.loads(proc.stdout)["rows_read"] > 0
    for path in tmp_path.iterdir():  # the store file, and its journal if any
        assert SECRET.encode() not in path.read_bytes(), path


def test_a_wrong_password_in_a_query_parameter_is_one_line_without_it(guarded: Any, tmp_path: Path) -> None:
    cluster, database = guarded
    url = f"postgresql://keeper@127.0.0.1:{cluster.port}/{database}?password=x{SECRET}"
    proc = cli("harvest", "--source", url, "--store", f"sqlite:///{tmp_path / 'l.db'}")
    assert proc.returncode == 1
    assert "password=***" in one_clean_line(proc)


def test_a_malformed_catalog_url_keeps_its_password_out_of_the_note(guarded: Any, tmp_path: Path) -> None:
    cluster, database = guarded
    source = f"postgresql://keeper@127.0.0.1:{cluster.port}/{database}?password={SECRET}"
    catalog = f"postgresql://keeper:{SECRET}/y@127.0.0.1:{cluster.port}/{database}"
    proc = cli("harvest", "--source", source, "--catalog", catalog, "--store", f"sqlite:///{tmp_path / 'l.db'}")
    assert SECRET not in proc.stderr and SECRET not in proc.stdout
    assert "Traceback" not in proc.stderr


def test_a_libpq_dsn_as_the_source_is_refused_without_echoing_its_password(tmp_path: Path) -> None:
    proc = cli("harvest", "--source", f"host=db password={SECRET}", "--dialect", "postgres",
               "--store", f"sqlite:///{tmp_path / 'l.db'}")
    assert proc.returncode == 2
    assert "password=***" in one_clean_line(proc)


def test_a_libpq_dsn_as_the_store_is_refused_and_creates_no_file(tmp_path: Path) -> None:
    dsn = f"host=db dbname=lineage password={SECRET}"
    for args in (("impact", "x"), ("harvest", "--source", str(tmp_path), "--dialect", "snowflake")):
        proc = cli(*args, "--store", dsn, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        line = one_clean_line(proc)
        assert "neither a URL nor a path" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option, url", [
    ("--source", f"postgresql://u:{SECRET}@[::1/db"),
    ("--source", f"postgresql://u:{SECRET}@db:99999/app"),
    ("--store", f"postgresql://u:{SECRET}@[::1/db"),
    ("--store", f"bolt://neo4j:{SECRET}@localhost:99999"),
    ("--store", f"bolt://neo4j:{SECRET}@localhost:port"),
])
def test_a_malformed_url_is_a_usage_error_in_one_line(option: str, url: str, tmp_path: Path) -> None:
    args = {"--source": str(ROOT / "fixtures" / "logs"), "--store": f"sqlite:///{tmp_path / 'l.db'}"}
    args[option] = url
    proc = cli("harvest", "--source", args["--source"], "--dialect", "snowflake", "--store", args["--store"])
    assert proc.returncode == 2, proc.stderr
    assert "***" in one_clean_line(proc)
    if option == "--store":
        proc = cli("impact", "raw.orders", "--store", url, cwd=tmp_path)
        assert proc.returncode == 2 and "***" in one_clean_line(proc)
