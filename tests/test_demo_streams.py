"""`demo` writes what a person reads (what it does, the harvest's summary, the question, the answer,
what to try next) on stdout, in that order; stderr is for progress and warnings only. A real run in
an empty folder, stdout and stderr each a pipe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_prints_everything_a_person_reads_on_stdout_in_order(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "demo"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    steps = ["harvesting query_history.csv", "harvest: 2,520 rows read", "What breaks downstream if RAW.PAYMENTS.AMOUNT",
             "impact of ANALYTICS.RAW.PAYMENTS.AMOUNT", "Next: sqllineage-harvester upstream"]
    where = [out.find(step) for step in steps]
    assert -1 not in where and where == sorted(where), out
    assert "\r" not in out  # a pipe gets no terminal control
    # stderr: progress lines at most (a timestamped one every 30 s off a terminal), nothing of the above
    assert not any(step.split()[0] in done.stderr for step in steps), done.stderr
