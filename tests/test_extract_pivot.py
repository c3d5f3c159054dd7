"""PIVOT / UNPIVOT over a source whose columns are unknown: a warning, not invented columns."""

from sqllineage_harvester.extract import extract


def test_pivot_star_without_catalog_warns() -> None:
    [r] = extract("CREATE TABLE mart.p AS SELECT * FROM raw.sales PIVOT (SUM(amount) FOR month IN ('JAN' AS jan, 'FEB' AS feb))",
                  "snowflake")
    assert any("PIVOT" in w for w in r.warnings)
    sources = {str(s) for c in r.columns for s in c.sources}
    assert sources == {"RAW.SALES.*", "RAW.SALES.AMOUNT"}


def test_unpivot_star_without_catalog_warns() -> None:
    [r] = extract("CREATE TABLE mart.u AS SELECT * FROM raw.w UNPIVOT (amount FOR month IN (jan, feb))", "snowflake")
    assert any("UNPIVOT" in w for w in r.warnings)
    assert {str(s) for c in r.columns for s in c.sources} == {"RAW.W.*", "RAW.W.JAN", "RAW.W.FEB"}


def test_pivot_star_with_catalog_is_full() -> None:
    catalog = {"raw.sales": {"region": "text", "month": "text", "amount": "number"}}
    [r] = extract("CREATE TABLE mart.p AS SELECT * FROM raw.sales PIVOT (SUM(amount) FOR month IN ('JAN' AS jan, 'FEB' AS feb))",
                  "snowflake", catalog=catalog)
    assert not r.warnings
    assert [c.target.column for c in r.columns] == ["REGION", "JAN", "FEB"]
    jan = next(c for c in r.columns if c.target.column == "JAN")
    assert [str(s) for s in jan.sources] == ["RAW.SALES.AMOUNT"] and jan.transform == "AGGREGATION"


def test_pivot_over_values_not_listed_without_catalog_warns() -> None:
    [r] = extract("CREATE TABLE mart.p AS SELECT region, \"'JAN'\" AS jan FROM raw.sales PIVOT (SUM(amount) FOR month IN (ANY)) p",
                  "snowflake")
    assert any("values not listed" in w for w in r.warnings)
