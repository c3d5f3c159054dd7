"""Bad input is loud: every file given that could not be read whole is named on stderr and in
``--format json``, and the run exits 3; the good rows read before it stay harvested.

Each case is a real file in a real format: random bytes, a CSV without the SQL column, an export
read with another database's ``--dialect``, a gzip cut mid-stream, a file its reader may not open.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "fixtures" / "logs"
SNOWFLAKE_LOG = LOGS / "snowflake" / "query_history.csv"
NOT_READ_WHOLE = 3


def harvest(tmp_path: Path, source: Path, *args: str, store: Path | None = None) -> tuple[int, dict | None, str]:
    """The CLI as a scheduler runs it: (exit code, the --format json report, stderr)."""
    store = store or tmp_path / "lineage.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(source),
                           "--store", f"sqlite:///{store}", "--format", "json", *args],
                          capture_output=True, text=True, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else None, proc.stderr


def garbage(path: Path) -> Path:
    path.write_bytes(random.Random(path.name).randbytes(20_000))
    return path


def no_sql_column(path: Path) -> Path:
    path.write_text("QUERY_ID,SOMETHING\nq1,x\nq2,y\n")
    return path


def snowflake_export(path: Path) -> Path:
    shutil.copy(SNOWFLAKE_LOG, path)
    return path


def bigquery_export(path: Path) -> Path:
    shutil.copy(LOGS / "bigquery" / "jobs.jsonl", path)
    return path


CASES = [  # (what, file maker, file name, --dialect, words the note must have)
    ("random bytes named .csv", garbage, "export.csv", "snowflake", ["export.csv", "not read", "column names"]),
    ("random bytes named .jsonl", garbage, "export.jsonl", "snowflake", ["export.jsonl", "not read", "query_text"]),
    ("a CSV without the SQL column", no_sql_column, "export.csv", "snowflake",
     ["export.csv", "no SQL column", "query_text", "QUERY_ID, SOMETHING", "--mapping"]),
    ("a Snowflake export read as PostgreSQL", snowflake_export, "history.csv", "postgres",
     ["history.csv", "no SQL column", "is it --dialect snowflake, not --dialect postgres?"]),
    ("a Snowflake export with a byte order mark read as PostgreSQL",
     lambda p: p.write_bytes(b"\xef\xbb\xbf" + SNOWFLAKE_LOG.read_bytes()) and p, "history.csv", "postgres",
     ["history.csv", "no SQL column", "its columns are QUERY_ID", "is it --dialect snowflake, not --dialect postgres?"]),
    ("a MySQL export read as Snowflake", lambda p: shutil.copy(LOGS / "mysql" / "events_statements_history_long.csv", p)
     and p, "events.csv", "snowflake",
     ["events.csv", "no SQL column", "a mariadb or a mysql export's", "--dialect mariadb or --dialect mysql"]),
    ("a BigQuery JSON export read as Snowflake", bigquery_export, "jobs.jsonl", "snowflake",
     ["jobs.jsonl", "query_text", "--dialect snowflake"]),
]


@pytest.mark.parametrize("what, make, name, dialect, words", CASES, ids=[c[0] for c in CASES])
def test_a_file_that_is_no_export_of_the_dialect_is_named_and_exits_3(tmp_path, what, make, name, dialect, words):
    path = make(tmp_path / name)
    code, report, err = harvest(tmp_path, path, "--dialect", dialect)
    assert code == NOT_READ_WHOLE, err
    note = next(line for line in err.splitlines() if name in line)
    assert note.startswith("harvest: note: ") and all(w in note for w in words), note
    assert report is not None and report["complete"] is False
    assert len(report["file_errors"]) == 1 and name in report["file_errors"][0]
    assert any(name in n for n in report["notes"])


def truncated_gzip(source: Path, path: Path, keep: float) -> Path:
    data = gzip.compress(source.read_bytes())
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def store_rows(db: Path) -> dict[str, list]:
    con = sqlite3.connect(db)
    try:
        return {"operations": sorted(con.execute("SELECT key, sql, first_seen, last_seen, executions FROM operations")),
                "edges": sorted(con.execute("SELECT src, dst, type, first_seen, last_seen FROM column_edges"))}
    finally:
        con.close()


def test_a_gzip_cut_mid_stream_keeps_its_good_rows_says_so_and_exits_3(tmp_path):
    """The rows before the cut are harvested (cursor and all); once the whole file is there, a
    rerun ends exactly where a clean run of the whole file does: no row lost, none doubled."""
    cut = truncated_gzip(SNOWFLAKE_LOG, tmp_path / "history.csv.gz", keep=0.4)
    code, report, err = harvest(tmp_path, cut, "--dialect", "snowflake")
    assert code == NOT_READ_WHOLE, err
    assert report is not None and 0 < report["rows_read"] < 2520 and report["operations"] > 0
    assert "history.csv.gz: not read to the end" in err and f"after {report['rows_read']} rows" in err
    assert report["file_errors"] and report["cursor"]

    cut.write_bytes(gzip.compress(SNOWFLAKE_LOG.read_bytes()))  # the whole file arrives
    code, rest, err = harvest(tmp_path, cut, "--dialect", "snowflake")
    assert code == 0 and rest is not None and rest["complete"] and rest["file_errors"] == [], err
    assert report["rows_read"] + rest["rows_read"] == 2520

    clean = tmp_path / "clean.db"
    code, _, _ = harvest(tmp_path, cut, "--dialect", "snowflake", store=clean)
    assert code == 0 and store_rows(tmp_path / "lineage.db") == store_rows(clean)


def test_a_folder_with_one_bad_file_harvests_the_others_and_exits_3(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    snowflake_export(folder / "a.csv")
    no_sql_column(folder / "b.csv")
    code, report, err = harvest(tmp_path, folder, "--dialect", "snowflake")
    assert code == NOT_READ_WHOLE and report is not None
    assert report["rows_read"] == 2520 and report["operations"] > 0
    assert report["file_errors"] == [next(e for e in report["file_errors"] if e.startswith("b.csv:"))]
    assert "a.csv" not in "".join(report["file_errors"]) and "harvest: note: b.csv: not read" in err


def test_a_whole_export_exits_0_with_no_file_errors(tmp_path):
    code, report, err = harvest(tmp_path, SNOWFLAKE_LOG, "--dialect", "snowflake")
    assert code == 0 and report is not None and report["complete"] and report["file_errors"] == []
    assert "note:" not in err  # a good export of the dialect says nothing more than its summary


def test_an_export_missing_the_status_column_is_harvested_with_a_note(tmp_path):
    """Read as Redshift, a Snowflake export has SQL, times and users but no column Redshift keeps its
    status in: every row is harvested (exit 0), and the note says failed runs cannot be told apart."""
    code, report, err = harvest(tmp_path, SNOWFLAKE_LOG, "--dialect", "redshift")
    assert code == 0 and report is not None and report["rows_read"] == 2520
    note = next(line for line in err.splitlines() if "status" in line and "note:" in line)
    assert "query_history.csv" in note and "is it --dialect snowflake, not --dialect redshift?" in note
    assert report["warnings"]["files_missing_fields"] == 1


@pytest.mark.parametrize("path", sorted(LOGS.glob("*/*.csv")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_files_columns_name_the_database_it_was_exported_from(path):
    """Each CSV fixture's header fits its own dialect's export best: read as another dialect, the
    one named is its own (among those that fit alike), and read as its own, none is."""
    import csv

    from sqllineage_harvester.dialects import fitting_exports, list_dialects

    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        names = next(csv.reader(f))
    own = path.parent.name
    assert fitting_exports(names, own) == ([], 0)
    named = {other: fitting_exports(names, other)[0] for other in list_dialects() if other != own}
    assert all(own in fits for fits in named.values() if fits), named
    assert any(named.values()), named  # some other dialect reads it wrongly, and is told


def test_damaged_rows_are_counted_by_reason_in_a_note(tmp_path):
    path = tmp_path / "history.csv"
    text = SNOWFLAKE_LOG.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(text[0] + "q,only,three\n" + "".join(text[1:]), encoding="utf-8")
    code, report, err = harvest(tmp_path, path, "--dialect", "snowflake")
    assert code == 0 and report is not None and report["skipped"] == {"field_count": 1}
    assert "harvest: note: 1 row skipped as field_count (first at history.csv:2)" in err


def other_user_python(user: str) -> list[str] | None:
    """A command that runs this checkout's CLI as ``user``, or None when none can be made here."""
    import pwd
    import site
    import sysconfig

    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return None
    try:
        pwd.getpwnam(user)
    except KeyError:
        return None
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for python in (sys.executable, shutil.which(f"python{version}") or "", f"/usr/bin/python{version}"):
        path = os.pathsep.join([str(ROOT), *site.getsitepackages(), sysconfig.get_paths()["purelib"]])
        probe = subprocess.run(["runuser", "-u", user, "--", "env", f"PYTHONPATH={path}", python, "-c",
                                "import sqlite3, sqlglot, sqlalchemy, click, sqllineage_harvester"],
                               capture_output=True)
        if python and probe.returncode == 0:
            return ["runuser", "-u", user, "--", "env", f"PYTHONPATH={path}", python]
    return None


@pytest.fixture
def shared_dir():
    """A folder every user may write in, as /tmp is (the tests' own tmp_path is private to root)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="loud-", dir="/tmp"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_file_its_reader_may_not_open_is_named_and_exits_3(tmp_path, shared_dir):
    path = snowflake_export(shared_dir / "history.csv")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: the harvest runs as another user
        command = other_user_python("nobody")
        if command is None:
            pytest.skip("no other user to run as")
    else:
        command = [sys.executable]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(shared_dir)}
    proc = subprocess.run([*command, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(path),
                           "--dialect", "snowflake", "--store", f"sqlite:///{shared_dir / 'l.db'}", "--format", "json"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == NOT_READ_WHOLE and "Traceback" not in proc.stderr, proc.stderr
    assert "harvest: note: history.csv: not read: Permission denied" in proc.stderr
    assert json.loads(proc.stdout)["file_errors"]


def test_a_dangling_link_in_a_folder_is_a_file_not_read(tmp_path):
    """A file the folder lists but that is gone (a rotated export behind a link) is named, not passed over."""
    folder = tmp_path / "exports"
    folder.mkdir()
    snowflake_export(folder / "a.csv")
    (folder / "b.csv").symlink_to(tmp_path / "rotated-away.csv")
    code, report, err = harvest(tmp_path, folder, "--dialect", "snowflake")
    assert code == NOT_READ_WHOLE and report is not None and report["rows_read"] == 2520
    assert "harvest: note: b.csv: not read: No such file or directory" in err


@pytest.mark.parametrize("log", ["query_history.csv", "pii_query_history.csv"])
def test_an_optional_column_a_file_lacks_is_no_warning(tmp_path: Path, log: str) -> None:
    """The dialect file's columns are optional (a file lacking one leaves its field empty): the bundled
    exports without ACCESS_HISTORY's columns read with no warning, and no warning comes without a note."""
    code, report, err = harvest(tmp_path, LOGS / "snowflake" / log, "--dialect", "snowflake")
    assert code == 0 and report is not None
    assert report["warnings"] == {} and report["notes"] == [] and "note" not in err


def test_a_file_without_a_time_or_status_column_warns_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("QUERY_TEXT,USER_NAME\nINSERT INTO a SELECT * FROM b,ann\n")
    code, report, err = harvest(tmp_path, path, "--dialect", "snowflake")
    assert code == 0 and report is not None
    assert set(report["warnings"]) == {"files_missing_fields"}
    assert any("h.csv" in n and "start_time" in n.lower() for n in report["notes"]) and "h.csv" in err


def test_the_json_report_carries_the_notes_stderr_shows(tmp_path: Path) -> None:
    code, report, err = harvest(tmp_path, SNOWFLAKE_LOG, "--dialect", "snowflake", "--retire-after", "90d")
    assert code == 0 and report is not None
    assert report["notes"] and all(n in err for n in report["notes"])
    assert any("retire" in n for n in report["notes"])
