"""Which conditions each branch of a Snowflake INSERT ALL / FIRST carries.

The golden corpus checks influences as one set per case, so it cannot tell branches apart:
here each target's influences are its columns' own plus the statement's (shared) ones."""

from __future__ import annotations

from sqllineage_harvester.extract import extract

CUSTOMERS = "SELECT id, is_vip, region FROM raw.customers"


def _filters(sql: str) -> dict[str, set[str]]:
    """Target table -> the columns filtering it (FILTER influences)."""
    (result,) = extract(sql, "snowflake")
    shared = {str(r.source) for r in result.indirect if r.type == "FILTER"}
    by_table: dict[str, set[str]] = {}
    for column in result.columns:
        own = {str(r.source) for r in column.indirect if r.type == "FILTER"}
        by_table.setdefault(column.target.dataset, set()).update(own | shared)
    return by_table


def test_insert_first_branches_carry_the_earlier_conditions() -> None:
    got = _filters("INSERT FIRST WHEN is_vip THEN INTO mart.vip (id) VALUES (id) "
                   "WHEN region = 'EU' THEN INTO mart.eu (id, region) VALUES (id, region) "
                   f"ELSE INTO mart.rest (id) VALUES (id) {CUSTOMERS}")
    vip, region = "RAW.CUSTOMERS.IS_VIP", "RAW.CUSTOMERS.REGION"
    assert got["MART.EU"] == {vip, region}
    assert got["MART.REST"] == {vip, region}
    assert region not in got["MART.VIP"]


def test_insert_all_branches_carry_their_own_condition_and_else_all() -> None:
    got = _filters("INSERT ALL WHEN is_vip THEN INTO mart.vip (id) VALUES (id) "
                   "WHEN region = 'EU' THEN INTO mart.eu (id) VALUES (id) "
                   f"ELSE INTO mart.rest (id) VALUES (id) {CUSTOMERS}")
    assert got["MART.VIP"] == {"RAW.CUSTOMERS.IS_VIP"}
    assert got["MART.EU"] == {"RAW.CUSTOMERS.REGION"}
    assert got["MART.REST"] == {"RAW.CUSTOMERS.IS_VIP", "RAW.CUSTOMERS.REGION"}  # rows no WHEN took


def test_every_into_under_one_when_shares_it() -> None:
    got = _filters("INSERT ALL WHEN region = 'EU' THEN INTO mart.eu (id) VALUES (id) INTO mart.eu_log (id) VALUES (id) "
                   f"INTO mart.all_ids (id) VALUES (id) {CUSTOMERS}")
    assert got["MART.EU"] == got["MART.EU_LOG"] == got["MART.ALL_IDS"] == {"RAW.CUSTOMERS.REGION"}


def test_unconditional_insert_all_has_no_filter() -> None:
    got = _filters(f"INSERT ALL INTO mart.a (id) VALUES (id) INTO mart.b (id) VALUES (id) {CUSTOMERS}")
    assert got == {"MART.A": set(), "MART.B": set()}
