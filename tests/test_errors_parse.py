"""`parse --input-format jsonl`: a line whose fields have the wrong JSON type is that line's error,
in one line; the other lines are parsed and the run completes (exit 0)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"id": "good", "sql": "INSERT INTO mart.t SELECT a FROM raw.u"}


def parse_jsonl(*records: object) -> subprocess.CompletedProcess[str]:
    text = "".join(json.dumps(r) + "\n" for r in records)
    return subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "parse", "--input-format", "jsonl",
                           "--format", "json"], input=text, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.parametrize("field, value, says", [
    ("catalog", [1, 2], "'catalog' must be a JSON object"),
    ("catalog", "raw.u", "'catalog' must be a JSON object"),
    ("catalog", {"raw.u": 5}, "must map column names to types"),
    ("default_schema", 5, "'default_schema' must be text"),
    ("default_database", True, "'default_database' must be text"),
    ("dialect", 7, "'dialect' must be text"),
])
def test_a_field_of_the_wrong_type_is_that_lines_error(field: str, value: object, says: str) -> None:
    proc = parse_jsonl(GOOD, {"id": "bad", "sql": "SELECT a FROM u", field: value}, GOOD)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in results] == ["good", "bad", "good"]
    assert results[0]["outputs"] == ["mart.t"] and results[2]["error"] is None
    error = results[1]["error"]
    assert error.startswith("line 2: ") and says in error and "\n" not in error
