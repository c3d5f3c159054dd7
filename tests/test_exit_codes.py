"""Exit codes a wrapper can tell apart, and a harvest that leaves nothing behind.

Real processes and real signals: SIGTERM and Ctrl-C (SIGINT to the whole process group) stop after
the batch in hand with 128 + the signal; a second harvest of the same source exits 75; a harvest
killed with SIGKILL while its parse workers run leaves no worker and no lock; the lock is per OS
user. stderr serves cron (--quiet) and log collectors (--log-format json); --follow says something
only when a pass read something.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_loud_input import other_user_python, shared_dir  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parent.parent
SNOWFLAKE_LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
HEADER = "QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,USER_NAME,START_TIME,END_TIME,EXECUTION_STATUS\n"


def big_log(path: Path, rows: int) -> Path:
    """A Snowflake export of ``rows`` distinct statements: every one is parsed, none from a cache."""
    with path.open("w") as out:
        out.write(HEADER)
        for i in range(rows):
            day, second = f"2024-03-{1 + i // 86400:02d}", f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
            out.write(f'q{i},"INSERT INTO mart.t{i % 97} (a{i}, b) SELECT x{i} + y, max(z{i}) FROM raw.s{i % 89} '
                      f'JOIN raw.u{i % 13} USING (id) WHERE w{i} > 0 GROUP BY 1",DB,PUB,ETL,'
                      f"{day} {second}.000 +0000,{day} {second}.500 +0000,"
                      f"SUCCESS\n")
    return path


def start(tmp_path: Path, source: Path, *args: str, db: str = "l.db") -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(source),
                             "--dialect", "snowflake", "--store", f"sqlite:///{tmp_path / db}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # its own process group, as a scheduler's job has


def run(tmp_path: Path, source: Path, *args: str, db: str = "l.db") -> tuple[int, str, str]:
    proc = start(tmp_path, source, *args, db=db)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def cursor(db: Path) -> str | None:
    try:
        con = sqlite3.connect(db)
        try:
            row = con.execute("SELECT cursor FROM sources").fetchone()
        finally:
            con.close()
    except sqlite3.OperationalError:  # the store's tables are being made
        return None
    return row[0] if row else None


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] != "Z" and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_to_the_job_stops_after_the_batch_in_hand_with_128_plus_its_number(tmp_path, sig, code):
    """Sent to the whole process group (a terminal's Ctrl-C, a scheduler stopping a job), with two
    parse workers running: one stop message, the batch in hand committed, 128 + the signal; the
    next run goes on from there to the end."""
    log = big_log(tmp_path / "history.csv", 6000)
    proc = start(tmp_path, log, "--workers", "2", "--batch-size", "300", "--format", "json")
    try:
        assert wait_for(lambda: cursor(tmp_path / "l.db") is not None), "no batch was committed"
        os.killpg(proc.pid, sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert err.count("stopping after the batch in hand") == 1 and "Traceback" not in err, err
    first = json.loads(out)
    assert 0 < first["rows_read"] < 6000 and first["rows_read"] % 300 == 0  # whole batches only
    again, out, err = run(tmp_path, log, "--format", "json")
    assert again == 0, err
    assert first["rows_read"] + json.loads(out)["rows_read"] == 6000


def test_follow_exits_143_on_sigterm_and_says_nothing_for_a_pass_that_read_nothing(tmp_path):
    proc = start(tmp_path, SNOWFLAKE_LOG, "--follow", "--interval", "0.1")
    try:
        assert wait_for(lambda: cursor(tmp_path / "l.db") is not None)
        time.sleep(1.0)  # several passes with nothing new
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    lines = err.splitlines()
    assert len([x for x in lines if "rows read" in x]) == 1, err  # the first pass only
    assert all(x[:4].isdigit() and "Z harvest: " in x[:30] for x in lines), err  # each line after its UTC time


def test_a_second_harvest_of_the_same_source_exits_75(tmp_path):
    log = big_log(tmp_path / "history.csv", 3000)
    first = start(tmp_path, log, "--batch-size", "100", "--follow")
    try:
        assert wait_for(lambda: cursor(tmp_path / "l.db") is not None)
        code, out, err = run(tmp_path, log)
        assert code == 75 and err.startswith("error: another harvest") and out == "", err
        code, _, err = run(tmp_path, log, "--log-format", "json")
        line = json.loads(err)
        assert code == 75 and line["level"] == "error" and "another harvest" in line["message"]
    finally:
        first.kill()
        first.communicate()


def test_sigkill_of_a_harvest_with_workers_leaves_no_worker_and_no_lock(tmp_path):
    log = big_log(tmp_path / "history.csv", 12000)
    proc = start(tmp_path, log, "--workers", "2", "--batch-size", "1000")
    workers: list[int] = []
    try:
        assert wait_for(lambda: cursor(tmp_path / "l.db") is not None), "no batch was committed"
        assert wait_for(lambda: len(children(proc.pid)) >= 2), "the parse workers never started"
        workers = children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)  # not communicate(): a surviving worker would hold its pipes open
        assert wait_for(lambda: not any(alive(w) for w in workers), 10), "a parse worker outlived its harvest"
    finally:
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()
    code, out, err = run(tmp_path, log, "--format", "json", "--workers", "2")
    assert code == 0, err  # not refused: no lock outlived the harvest
    assert json.loads(out)["rows_read"] < 12000  # it went on from the last committed batch


def test_quiet_says_nothing_for_a_good_run_and_log_format_json_is_one_object_a_line(tmp_path):
    code, out, err = run(tmp_path, SNOWFLAKE_LOG, "--quiet")
    assert code == 0 and out == "" and err == ""
    code, _, err = run(tmp_path, SNOWFLAKE_LOG, "--log-format", "json", db="other.db")
    lines = [json.loads(x) for x in err.splitlines()]
    assert code == 0 and [x["event"] for x in lines] == ["summary"]
    assert lines[0]["level"] == "info" and lines[0]["report"]["rows_read"] == 2520 and lines[0]["time"].endswith("Z")


def test_the_lock_is_per_user_and_one_it_cannot_take_is_a_note(tmp_path, shared_dir):  # noqa: F811
    """root harvests first; then another user harvests (another store) under the same temp
    folder: it is not refused by a folder root made. A lock folder that is not the user's own
    is one note, and the harvest goes on."""
    user = "nobody"
    command = other_user_python(user)
    if command is None:
        pytest.skip("needs root and a second user to run as")
    import pwd

    uid = pwd.getpwnam(user).pw_uid
    log = shared_dir / "history.csv"
    shutil.copy(SNOWFLAKE_LOG, log)
    log.chmod(0o644)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(shared_dir)}

    def harvest(prefix: list[str], store: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(log),
                               "--dialect", "snowflake", "--store", f"sqlite:///{shared_dir / store}"],
                              capture_output=True, text=True, env=env)

    assert harvest([sys.executable], "root.db").returncode == 0
    theirs = harvest(command, "theirs.db")
    assert theirs.returncode == 0 and "Traceback" not in theirs.stderr, theirs.stderr
    assert "note: no lock taken" not in theirs.stderr

    for name in os.listdir(shared_dir):  # the user's lock folder, made by someone else
        if name.startswith("sqllineage-harvester"):
            shutil.rmtree(shared_dir / name)
    (shared_dir / f"sqllineage-harvester-{uid}").mkdir(mode=0o755)
    squatted = harvest(command, "squatted.db")
    assert squatted.returncode == 0 and "Traceback" not in squatted.stderr, squatted.stderr
    assert len([x for x in squatted.stderr.splitlines() if "no lock taken" in x]) == 1


def test_a_bad_retire_after_is_one_error_line_exit_2(tmp_path):
    code, out, err = run(tmp_path, SNOWFLAKE_LOG, "--retire-after", "10x")
    assert code == 2 and out == "" and err.startswith("error: --retire-after '10x'") and len(err.splitlines()) == 1
    assert "Usage:" not in err and not (tmp_path / "l.db").exists()


def test_a_source_path_that_does_not_exist_is_a_usage_error(tmp_path):
    """Exit 2, as the README's exit codes say (3 is a file given that exists but cannot be read whole)."""
    code, _, err = run(tmp_path, tmp_path / "nonexistent.csv")
    assert code == 2 and err.startswith("error: no such file or folder") and len(err.splitlines()) == 1
