"""A reader that stops early (`sqllineage-harvester demo | head -3`) ends the command quietly:
exit 0 whenever it happens (not click's 1, a failure code), nothing on stderr but what the command
says anyway, no traceback, no "Exception ignored" from the interpreter's flush at exit.

Real processes and real pipes: the read end is closed before (or after a line of) the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNOWFLAKE_LOG = ROOT / "fixtures" / "logs" / "snowflake" / "query_history.csv"
CLOSED_PIPE = 0


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sqllineage_harvester.cli", *args]


def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path)}


def closed_early(tmp_path: Path, *args: str, read_lines: int = 0) -> tuple[int, str]:
    """Run the command with its stdout a pipe whose reader reads ``read_lines`` lines and goes away."""
    proc = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=tmp_path, env=env(tmp_path))
    for _ in range(read_lines):
        proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    subprocess.run(command("demo"), cwd=folder, env=env(folder), capture_output=True, check=True)
    return folder


def quiet(err: str) -> bool:
    return not any(word in err for word in ("Traceback", "Exception ignored", "BrokenPipe", "Broken pipe",
                                            "error:"))


def test_demo_into_a_closed_pipe_ends_quietly(tmp_path):
    code, err = closed_early(tmp_path, "demo")
    assert code == CLOSED_PIPE and quiet(err), err


@pytest.mark.parametrize("args", [
    ("export", "--format", "openlineage"),
    ("export", "--format", "html"),
    ("stats",),
    ("impact", "RAW.PAYMENTS.AMOUNT"),
])
def test_store_commands_into_a_closed_pipe_end_quietly(demo_store, args):
    code, err = closed_early(demo_store, *args, "--store", "sqlite:///demo-lineage.db")
    assert code == CLOSED_PIPE and quiet(err), err


def test_parse_of_many_statements_ends_quietly_after_the_first_lines(tmp_path):
    files = []
    for n in range(3):
        files.append(tmp_path / f"many{n}.sql")
        files[-1].write_text("".join(f"INSERT INTO mart.t{i} SELECT a{i}, sum(b) AS s FROM raw.u{i} GROUP BY 1;\n"
                                     for i in range(600)))
    code, err = closed_early(tmp_path, "parse", "--dialect", "postgres", *map(str, files), read_lines=3)
    assert code == CLOSED_PIPE and quiet(err), err


def test_a_broken_pipe_that_is_not_stdout_is_an_error(tmp_path):
    """A socket whose peer went away, in a command whose stdout is fine: exit 1 and one line."""
    script = (
        "import socket, click\n"
        "from sqllineage_harvester.cli import main\n"
        "@main.command('talk')\n"
        "def talk():\n"
        "    click.echo('before')\n"
        "    mine, peer = socket.socketpair()\n"
        "    peer.close()\n"
        "    mine.sendall(b'x' * 100000)\n"
        "main(['talk'])\n")
    done = subprocess.run([sys.executable, "-c", script], env=env(tmp_path), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1 and done.stdout == "before\n", done
    assert done.stderr.startswith("error: ") and "Broken pipe" in done.stderr and len(done.stderr.splitlines()) == 1


def test_help_into_a_closed_pipe_ends_quietly(tmp_path):
    for args in (("--help",), ("harvest", "--help")):
        code, err = closed_early(tmp_path, *args)
        assert code == CLOSED_PIPE and quiet(err), (args, err)


def test_a_shell_pipe_into_head(demo_store):
    """As a person types it: the first lines arrive, the exit status is the pipe's, stderr is clean."""
    cli = " ".join(command())
    done = subprocess.run(["bash", "-c", f"{cli} export --format openlineage --store sqlite:///demo-lineage.db "
                                         f"| head -3; echo \"status=${{PIPESTATUS[0]}}\" >&2"],
                          cwd=demo_store, env=env(demo_store), capture_output=True, text=True, timeout=120)
    assert len(done.stdout.splitlines()) == 3 and done.stdout.startswith("{")
    assert f"status={CLOSED_PIPE}" in done.stderr and quiet(done.stderr), done.stderr


def test_an_open_pipe_still_gets_everything_and_exit_0(demo_store):
    done = subprocess.run(command("stats", "--store", "sqlite:///demo-lineage.db"), cwd=demo_store,
                          env=env(demo_store), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "operations" in done.stdout.lower() and done.stderr == ""


def test_a_harvest_whose_json_reader_went_away_keeps_its_exit_code(tmp_path):
    """The report is the last thing a harvest prints: a reader gone by then changes nothing of what
    the run did, and the scheduler still gets 3 for a file it could not read whole (not 0)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_bytes(SNOWFLAKE_LOG.read_bytes())
    (folder / "b.csv").write_text("ID,USER_NAME\n1,ANN\n", encoding="utf-8")  # no SQL column: not read
    code, err = closed_early(tmp_path, "harvest", "--source", str(folder), "--dialect", "snowflake",
                             "--store", f"sqlite:///{tmp_path / 'lineage.db'}", "--format", "json")
    assert code == 3 and "b.csv" in err and quiet(err.replace("harvest: note: b.csv", "")), err
    whole = closed_early(tmp_path, "harvest", "--source", str(SNOWFLAKE_LOG), "--dialect", "snowflake",
                         "--store", f"sqlite:///{tmp_path / 'other.db'}", "--format", "json")
    assert whole[0] == CLOSED_PIPE and quiet(whole[1]), whole
