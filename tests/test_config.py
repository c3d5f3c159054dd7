"""`harvest --config harvester.toml`: every source of a deployment in turn, into one store."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from sqllineage_harvester.config import parse
from sqllineage_harvester.errors import ConfigError
from test_openlineage_in import spark_event, write_events
from test_openlineage_out import cli, write_log

ROOT = Path(__file__).resolve().parent.parent


def deployment(tmp_path: Path) -> Path:
    log = write_log(tmp_path / "history.csv")
    events = write_events(tmp_path / "spark.jsonl", [spark_event("COMPLETE", 1, "2024-04-01T01:05:00Z")])
    path = tmp_path / "harvester.toml"
    path.write_text(f'''# one store, two sources
store = "sqlite:///${{LINEAGE_DIR}}/lineage.db"

[defaults]
batch_size = 2
workers = 1

[sources.warehouse]
url = "{log}"
dialect = "snowflake"
namespace = "snowflake://acme"
emit = "file://${{LINEAGE_DIR}}/events.jsonl"

[sources.spark]
url = "openlineage://{events}"
''')
    return path


def datasets(db: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT namespace, name FROM datasets").fetchall())


def test_every_source_of_the_file_is_harvested_into_its_one_store(tmp_path):
    done = cli("harvest", "--config", str(deployment(tmp_path)), "--format", "json",
               env={"LINEAGE_DIR": str(tmp_path)})
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["source"].split("://")[0] for r in reports] == ["file", "openlineage"]
    assert reports[0]["batches"] == 2  # batch_size = 2 from [defaults], three rows
    assert "harvest: [warehouse]" in done.stderr and "harvest: [spark]" in done.stderr
    assert len((tmp_path / "events.jsonl").read_text().splitlines()) == 3  # the warehouse's operations only
    found = datasets(tmp_path / "lineage.db")
    assert ("snowflake://acme", "SHOP.MART.DAILY") in found and ("s3://bucket", "orders") in found


def test_only_harvests_one_source_and_the_command_line_wins(tmp_path):
    path = deployment(tmp_path)
    other = tmp_path / "other.db"
    cli("harvest", "--config", str(path), "--only", "spark", "--store", f"sqlite:///{other}",
        env={"LINEAGE_DIR": str(tmp_path)})
    assert not (tmp_path / "lineage.db").exists()
    assert ("s3://bucket", "orders") in datasets(other)
    assert not any(ns == "snowflake://acme" for ns, _ in datasets(other))
    wrong = cli("harvest", "--config", str(path), "--only", "nope", check=False, env={"LINEAGE_DIR": str(tmp_path)})
    assert wrong.returncode == 2 and "warehouse, spark" in wrong.stderr


@pytest.mark.parametrize("text, message", [
    ('[sources.pg]\nurl = "postgresql://harvester:hunter2@db/app"\n',
     "h.toml:2: sources.pg.url: holds a password or token"),
    ('[sources.pg]\nurl = "snowflake://acme?private_key_pwd=hunter2"\n',
     "h.toml:2: sources.pg.url: holds a password or token"),
    ('store = "x.db"\n\n[sources.pg]\nurl = "a.csv"\n# batch size\nbatchsize = 3\n',
     "h.toml:6: sources.pg.batchsize: unknown key (did you mean batch_size?)"),
    ('[sources.pg]\nurl = "a.csv"\nbatch_size = "many"\n', "h.toml:3: sources.pg.batch_size: must be a number"),
    ('[sources.pg]\nurl = "postgresql://harvester:${MISSING_PW}@db/app"\n',
     "h.toml:2: sources.pg.url: ${MISSING_PW} is not set in the environment"),
    ('[sources.pg]\ndialect = "postgres"\n', "sources.pg.url: missing"),
    ('stores = "x"\n[sources.a]\nurl = "a"\n', "h.toml:1: stores: unknown key"),
    ('[sources.pg\nurl = "a"\n', "h.toml: not TOML"),
])
def test_a_bad_file_is_refused_with_its_line_and_key(text, message):
    with pytest.raises(ConfigError) as e:
        parse(text, "h.toml", {})
    assert message in str(e.value)
    assert "hunter2" not in str(e.value)


def test_a_bad_file_is_a_usage_error_that_shows_no_secret(tmp_path):
    path = tmp_path / "h.toml"
    path.write_text('[sources.pg]\nurl = "postgresql://harvester:hunter2@db/app"\n')
    done = cli("harvest", "--config", str(path), check=False)
    assert done.returncode == 2 and f"{path}:2: sources.pg.url" in done.stderr and "hunter2" not in done.stderr


def test_the_readme_deployment_file_loads():
    readme = (ROOT / "README.md").read_text()
    [text] = re.findall(r"```toml\n(# harvester\.toml.*?)```", readme, re.S)
    names = set(re.findall(r"\$\{([A-Z_]+)\}", text))
    config = parse(text, "README", {n: "x" for n in names})
    assert [s.name for s in config.sources] == ["warehouse", "app_db_logs", "app_db", "spark"]
    assert all("source_url" in s.settings for s in config.sources)
    with pytest.raises(ConfigError, match=r"README:\d+: .*is not set in the environment"):
        parse(text, "README", {})
