"""A PostgreSQL jsonlog with a broken line: the line is reported and counted, the rest of the
file is harvested, and a second run adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def record(n: int, sql: str) -> str:
    return json.dumps({"timestamp": f"2024-03-01 10:00:{n:02d}.000 UTC", "user": "etl", "dbname": "shop",
                       "pid": 100 + n, "session_id": f"65e1a000.{n:x}", "error_severity": "LOG",
                       "message": f"statement: {sql}"}) + "\n"


def harvest(log: Path, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", f"pglog://{log}",
                           "--store", f"sqlite:///{store}", "--format", "json"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_broken_jsonlog_line_is_counted_and_the_rest_is_harvested(tmp_path: Path) -> None:
    log = tmp_path / "postgresql-2024-03-01.json"
    log.write_text(record(1, "INSERT INTO stg.a SELECT id FROM raw.a")
                   + '{"timestamp": "2024-03-01 10:00:02.000 UTC", "message": "statement: INSERT INTO stg.x SEL\n'
                   + "[1, 2, 3]\n"
                   + record(4, "INSERT INTO stg.b SELECT id FROM raw.b")
                   + record(5, "INSERT INTO stg.c SELECT id FROM raw.c"), encoding="utf-8")
    store = tmp_path / "lineage.db"
    proc = harvest(log, store)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["operations"] == 3 and report["skipped"] == {"malformed_json": 1, "not_an_object": 1}
    notes = [line for line in proc.stderr.splitlines() if "note:" in line]
    assert any("postgresql-2024-03-01.json" in n and "not a JSON log record" in n for n in notes), proc.stderr
    again = harvest(log, store)
    assert again.returncode == 0 and json.loads(again.stdout)["operations"] == 0
