"""A backfill shows where it is: a bar on a terminal, timestamped lines elsewhere, and a closing
summary that says what was already there, what is new, and where the cursor stands."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from sqllineage_harvester.cli import main
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.progress import Bar, Lines, Place, Tick
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

LOG = Path(__file__).resolve().parent.parent / "fixtures" / "logs" / "snowflake" / "query_history.csv"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def run(*args: str):
    return CliRunner().invoke(main, ["harvest", "--source", str(LOG), "--dialect", "snowflake", *args])


def test_off_a_terminal_a_timestamped_line_every_n_seconds(tmp_path):
    result = run("--store", f"sqlite:///{tmp_path}/l.db", "--batch-size", "300", "--progress-every", "0.000001",
                 "--workers", "1")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if re.match(STAMP + " harvest: ", line)]
    assert len(lines) >= 3
    last = lines[-1]
    assert re.search(r"[\d,]+ rows, [\d.]+ [KM]?B of [\d.]+ [KM]?B \(\d+%\), [\d,]+ rows/s", last), last
    assert re.search(r"\d+ distinct: \d+ parsed, \d+ failed; query_history\.csv$", last), last
    assert "\r" not in result.stderr and "%|" not in result.stderr  # no bar where no one watches


def test_no_progress_lines_with_zero_or_quiet(tmp_path):
    for extra in (["--progress-every", "0"], ["--quiet"]):
        result = run("--store", f"sqlite:///{tmp_path}/{extra[0][2:]}.db", "--batch-size", "300", *extra)
        assert result.exit_code == 0 and not re.search(STAMP + " harvest: ", result.stderr), result.stderr


def test_lines_wait_their_interval():
    now = [0.0]
    out = io.StringIO()
    lines = Lines(out, every=30, clock=lambda: now[0])
    tick = Tick(1000, 1000, 0, 5, 4, 1, 0, Place(None, None, None))
    for t in (1.0, 29.0, 31.0, 45.0, 62.0):
        now[0] = t
        lines(tick)
    assert len(out.getvalue().splitlines()) == 2
    assert "1,000 rows, " in out.getvalue() and " of " not in out.getvalue()  # no total known: no share


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_bar_with_bytes_rate_statements_and_file():
    out = Terminal()
    bar = Bar(out, redraw=0)
    for i in range(1, 4):
        bar(Tick(i * 20_000, 20_000, 0, 3_300 * i, 3_200 * i, 100 * i, 0, Place(i * 10_000_000, 40_000_000, "h.csv")))
    bar.close()
    text = out.getvalue()
    assert "harvest:" in text and "%|" in text and "/38.1M" in text  # bytes of the total
    assert "60,000 rows" in text and "rows/s" in text and "9,900 distinct: 9,600 parsed, 300 failed; h.csv" in text


def test_summary_counts_distinct_operations_and_says_what_was_there(tmp_path):
    url = f"sqlite:///{tmp_path}/l.db"
    first = harvest(open_source(LOG, "snowflake"), open_store(url),
                    Options(dialect="snowflake", namespace="snowflake://t", batch_size=100))
    stored = sqlite3.connect(f"{tmp_path}/l.db").execute("SELECT count(*) FROM operations").fetchone()[0]
    assert first.batches > 20 and first.operations == stored
    assert first.summary().startswith("2,520 rows read (65 failed executions, 0 skipped), 34 distinct statements")
    assert re.search(r"; cursor 2024-03-\d\dT[\d:.]+Z \(1 file\)$", first.summary())
    again = run("--store", url, "--format", "json")
    report = json.loads(again.stdout)
    assert report["rows_already_harvested"] == 2520 and report["rows_read"] == 0 and report["cursor"]
    assert "harvest: 2,520 rows already harvested, 0 new (" in again.stderr
    assert "0 operations written" in again.stderr and "; cursor 2024-03-" in again.stderr


def test_server_log_files_show_bytes_of_their_total_too(tmp_path):
    def record(n: int) -> str:
        return json.dumps({"timestamp": f"2024-03-01 10:{n // 60:02d}:{n % 60:02d}.000 UTC", "user": "etl",
                           "dbname": "shop", "pid": 100 + n, "session_id": f"65e1a000.{n:x}",
                           "error_severity": "LOG", "message": f"statement: INSERT INTO stg.t{n % 7} SELECT id FROM raw.a"})
    folder = tmp_path / "logs"
    folder.mkdir()
    for day in (1, 2):
        (folder / f"postgresql-2024-03-0{day}.json").write_text("".join(record(n) + "\n" for n in range(600)))
    result = CliRunner().invoke(main, ["harvest", "--source", f"pglog://{folder}", "--store",
                                       f"sqlite:///{tmp_path}/l.db", "--batch-size", "100",
                                       "--progress-every", "0.000001", "--workers", "1"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if re.match(STAMP + " harvest: ", line)]
    assert lines and all(re.search(r" of [\d.]+ KB \(\d+%\)", line) for line in lines), lines
    assert lines[-1].endswith("postgresql-2024-03-02.json")
