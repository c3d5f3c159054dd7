"""The README is part of the interface: every command is documented there, and its examples hold."""

import json
import re
import subprocess
import sys
from pathlib import Path

from sqllineage_harvester.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented_in_the_readme():
    for name in main.commands:
        assert f"`{name}" in README, f"command {name!r} is not in the README"


def test_every_command_help_ends_with_an_example():
    for name, command in main.commands.items():
        assert "Example" in (command.help or ""), name


def test_the_readme_starts_with_the_two_commands():
    top = README[: README.index("## What it does")]
    assert "pip install . && sqllineage-harvester demo" in top and "./scripts/test" in top


def test_the_parse_example_in_the_readme_is_what_parse_prints():
    block = re.search(r"\$ echo \"(.+?)\" \\\n.*?\| sqllineage-harvester parse --dialect postgres\n(.*?)```", README, re.S)
    sql, expected = block.group(1), block.group(2)
    out = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "parse", "--dialect", "postgres"],
                         input=sql, capture_output=True, text=True, check=True).stdout
    assert out.strip() == expected.strip()


def test_the_documented_json_fields_are_the_ones_printed():
    out = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "parse", "--format", "json"],
                         input="INSERT INTO t SELECT a FROM s", capture_output=True, text=True, check=True).stdout
    fields = list(json.loads(out))
    documented = re.search(r'```json\n(\{"index".*?)```', README, re.S).group(1)
    for field in fields:
        assert f'"{field}"' in documented, field


def test_the_impact_and_path_examples_in_the_readme_are_what_they_print(tmp_path):
    block = re.search(r"The table, after `demo`:\n\n```\n(.*?)```", README, re.S).group(1)
    subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "demo"], cwd=tmp_path, capture_output=True,
                   check=True)
    for command, expected in re.findall(r"\$ sqllineage-harvester (.+)\n((?:[^$].*\n)+)", block):
        out = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *command.split()], cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout
        assert out == expected, command
