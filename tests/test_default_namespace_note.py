"""An engine's own log (Hive, Trino, Impala) names no server: harvested without --namespace, its
datasets go to DIALECT://default, and the harvest's summary says so in one note, with how to name it.
Given a namespace, or for a source that names its server, there is no such note."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sqllineage_harvester.cli import main

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
FILES = {"trino": LOGS / "trino" / "query_completed_events.jsonl",
         "hive": LOGS / "hive" / "hiveserver2.log",
         "impala": LOGS / "impala" / "impala_lineage_log_1.0-1714543200000"}


def harvest(tmp_path: Path, *args: str):
    return CliRunner().invoke(main, ["harvest", "--store", f"sqlite:///{tmp_path / 'l.db'}", "--workers", "1", *args])


def namespace_notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "namespace" in line and line.startswith("harvest: note: ")]


@pytest.mark.parametrize("dialect", sorted(FILES))
def test_a_log_harvested_without_a_namespace_says_where_its_datasets_went(tmp_path, dialect):
    done = harvest(tmp_path, "--source", str(FILES[dialect]), "--dialect", dialect)
    assert done.exit_code == 0, done.output
    assert namespace_notes(done.stderr) == [
        f"harvest: note: the datasets went into namespace {dialect}://default: this log does not say which "
        f"server wrote it; name it with --namespace {dialect}://HOST:PORT (the same on every harvest of it)"]
    summary = next(i for i, line in enumerate(done.stderr.splitlines()) if line.startswith("harvest: ") and
                   "rows read" in line)
    assert summary < done.stderr.splitlines().index(namespace_notes(done.stderr)[0])  # with the summary


def test_no_note_when_the_namespace_is_given_or_the_source_is_not_an_engine_log(tmp_path):
    given = harvest(tmp_path, "--source", str(FILES["hive"]), "--dialect", "hive", "--namespace", "hive://hs2:10000")
    assert given.exit_code == 0 and namespace_notes(given.stderr) == []
    export = harvest(tmp_path, "--source", str(LOGS / "snowflake" / "query_history.csv"), "--dialect", "snowflake")
    assert export.exit_code == 0 and namespace_notes(export.stderr) == []


def test_quiet_keeps_it_out(tmp_path):
    done = harvest(tmp_path, "--source", str(FILES["trino"]), "--dialect", "trino", "--quiet")
    assert done.exit_code == 0 and done.stderr == ""
