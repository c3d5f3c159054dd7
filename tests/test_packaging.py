"""`pip install .` builds without a warning from setuptools and ships what the installed tool reads:
the dialect files, the demo's sample logs, the web view's assets, the vendored license.

A real build: pip's isolated build (the setuptools pyproject.toml asks for) of a copy of the
project's files in a temporary folder (the worktree gets no build/ or egg-info), verbose so the
backend's warnings are seen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("pyproject.toml", "README.md", "sqllineage_harvester", "dialects", "fixtures/logs")


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> tuple[str, Path]:
    """(pip's verbose output, the wheel) of the project as `pip install .` builds it."""
    work = tmp_path_factory.mktemp("build")
    tree = work / "src"
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, tree / name)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # setuptools notes it
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(work / "dist"),
                           str(tree)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheel, = (work / "dist").glob("sqllineage_harvester-*.whl")
    return done.stdout + done.stderr, wheel


def test_the_build_prints_no_warning(build):
    output, _ = build
    # pip's own notes about this machine's index settings are not the project's
    warnings = [line for line in output.splitlines() if "warn" in line.lower() and "Location '" not in line]
    assert warnings == []


def test_the_license_is_an_spdx_expression(build):
    _, wheel = build
    with zipfile.ZipFile(wheel) as whl:
        metadata = next(whl.read(n).decode() for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
        names = whl.namelist()
    assert "License-Expression: Apache-2.0" in metadata.splitlines()
    assert any(n.endswith("licenses/sqllineage_harvester/web/assets/LICENSE.dagre.txt") for n in names)


def test_the_wheel_ships_what_the_installed_tool_reads(build):
    _, wheel = build
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
    for name in ("sqllineage_harvester/_dialects/snowflake.toml", "sqllineage_harvester/_dialects/hive.toml",
                 "sqllineage_harvester/_demo/snowflake/query_history.csv",
                 "sqllineage_harvester/_demo/bigquery/jobs.jsonl",
                 "sqllineage_harvester/_demo/trino/query_completed_events.jsonl",
                 "sqllineage_harvester/web/assets/app.js", "sqllineage_harvester/web/assets/app.css",
                 "sqllineage_harvester/web/assets/dagre.min.js", "sqllineage_harvester/web/assets/LICENSE.dagre.txt",
                 "sqllineage_harvester/openlineage/UserRunFacet.json"):
        assert name in names, name
