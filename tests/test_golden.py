"""Every golden case in fixtures/lineage must come out exactly as written."""

from pathlib import Path

import pytest

from sqllineage_harvester.golden import load, mismatches, run

CASES = load(Path(__file__).parent.parent / "fixtures" / "lineage")


def test_corpus_is_large_and_well_formed():
    assert len(CASES) >= 20
    assert all(c.sql for c in CASES), [c.id for c in CASES if not c.sql]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden_case(case):
    problems = mismatches(case, run(case))
    if case.known_gap:
        assert problems, f"{case.id}: marked known_gap but now passes; remove the marker"
        pytest.xfail(case.known_gap)
    assert not problems, f"{case.path}:{case.line} {case.title}\n" + "\n".join(problems)
