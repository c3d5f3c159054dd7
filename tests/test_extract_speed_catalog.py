"""extract() borrows the caller's catalog (copied only when a statement changes it): the
caller's catalog never changes, and the script still sees what its own statements teach."""

from sqllineage_harvester.extract import Catalog, extract


def _given() -> Catalog:
    return Catalog.from_mapping({"raw.orders": {"id": "int", "amount": "int"},
                                 "raw.users": {"id": "int", "name": "text"}}, "postgres")


def test_a_script_that_changes_the_catalog_leaves_the_callers_alone() -> None:
    given = _given()
    before = given.dump()
    sql = ("CREATE TABLE stg.t (x INT, y INT); DROP TABLE raw.users; ALTER TABLE raw.orders RENAME TO orders2; "
           "INSERT INTO mart.m SELECT * FROM stg.t; INSERT INTO mart.n SELECT * FROM raw.orders2")
    results = extract(sql, "postgres", catalog=given)
    assert given.dump() == before
    assert [str(c.target) for c in results[3].columns] == ["mart.m.x", "mart.m.y"]  # learned in the script
    assert [str(c.target) for c in results[4].columns] == ["mart.n.id", "mart.n.amount"]  # moved by the rename


def test_a_script_that_only_reads_sees_the_callers_catalog() -> None:
    given = _given()
    results = extract("INSERT INTO mart.m SELECT * FROM raw.users", "postgres", catalog=given)
    assert [str(c.target) for c in results[0].columns] == ["mart.m.id", "mart.m.name"]
    again = extract("DROP TABLE raw.users; INSERT INTO mart.m SELECT * FROM raw.users", "postgres", catalog=given)
    assert [str(c.target) for c in again[1].columns] == ["mart.m.*"]
    assert given.columns(("__nodb__", "raw", "users")) == {"id": "int", "name": "text"}


def test_a_borrowed_catalog_is_copied_once_changed() -> None:
    given = _given()
    borrowed = given.borrow()
    assert borrowed.drop(("nope", "t")) is False
    assert borrowed.drop(("raw", "users")) is True
    borrowed.add(("raw", "more"), {"a": ""})
    assert [k for k, _ in given.dump()] == [["raw", "orders"], ["raw", "users"]]
    assert [k for k, _ in borrowed.dump()] == [["raw", "more"], ["raw", "orders"]]
