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


SOURCELESS = [c for c in CASES if any(not sources for sources, _ in c.columns.values()) and not c.known_gap]


@pytest.mark.parametrize("case", SOURCELESS, ids=[c.id for c in SOURCELESS])
def test_columns_listed_without_sources_are_written(case):
    """``target <-`` says the column is written from no column: it must still be in the result,
    so the statement's FILTER / GROUP_BY inputs reach it."""
    seen = run(case)
    missing = [t for t, (sources, _) in case.columns.items() if not sources and t not in seen.columns]
    assert not missing, f"{case.path}:{case.line} {case.title}: not written: {missing}"
