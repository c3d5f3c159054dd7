"""T-SQL ``INSERT INTO t EXEC proc``: the table is written from a procedure's result set, rows
the statement does not show. A plain write with no sources and no word would pass for complete
lineage, so the insert says what it cannot know."""

from sqllineage_harvester.extract import extract


def test_insert_of_a_procedure_s_rows_warns_that_their_sources_are_not_known():
    first = extract("INSERT INTO dbo.results (a, b) EXEC dbo.get_results @x = 1", "tsql")[0]
    assert first.kind == "insert" and [str(d) for d in first.outputs] == ["dbo.results"]
    assert any("INSERT .. EXEC" in w for w in first.warnings)


def test_insert_default_values_says_nothing():
    (default,) = extract("INSERT INTO t DEFAULT VALUES", "postgres")
    assert default.warnings == ()
