"""A store remembers what its process committed, so an operation seen again costs little: these
check that what it remembers never changes what the store holds -- after a failed batch, beside
another writer, or against a store opened anew for every batch."""

from __future__ import annotations

import pytest

from sqllineage_harvester.stores import Batch, StoreError, open_store

from peek import peek
from storedump import differences, dump

DAY = "2024-01-0{}T00:00:00"


def lineage(store, name="m.t"):
    """Every column edge into ``name``'s columns and every dataset edge into ``name``."""
    keys = [n.key for n in store.resolve(name)]
    cols = [n.key for n in store.resolve(f"{name}.a")] + [n.key for n in store.resolve(f"{name}.b")]
    edges = store.neighbors(keys + cols, "upstream")
    names = store.describe({k for e in edges for k in (e.source, e.target)})
    return sorted((names[e.source].name, names[e.target].name, e.operation, e.type, e.first_seen, e.last_seen)
                  for e in edges)


def test_a_batch_that_failed_is_written_whole_when_retried(store, op, monkeypatch):
    """Nothing the failed transaction wrote is taken as stored: its operation is written again
    with all its lineage."""
    store.write_batch(Batch(operations=(op("o1", "m.s", ("raw.s",), {"a": "raw.s.a"}),)))
    calls = []

    def fail_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("injected: the batch fails after its operations were written")
        return original(*args)

    original = store._write_failures
    monkeypatch.setattr(store, "_write_failures", fail_once)
    batch = Batch(operations=(op("o1", "m.s", ("raw.s",), {"a": "raw.s.a"}, seen=(DAY.format(2), DAY.format(2))),
                              op("o2", "m.t", ("m.s", "raw.u"), {"a": "m.s.a", "b": "raw.u.b"},
                                 seen=(DAY.format(3), DAY.format(3)))))
    with pytest.raises(StoreError):
        store.write_batch(batch)
    assert len(peek(store, "operation_windows")) == 1  # rolled back
    store.write_batch(batch)
    assert lineage(store) == [
        ("m.s", "m.t", "o2", "DIRECT", DAY.format(3), DAY.format(3)),
        ("m.s.a", "m.t.a", "o2", "IDENTITY", DAY.format(3), DAY.format(3)),
        ("raw.u", "m.t", "o2", "DIRECT", DAY.format(3), DAY.format(3)),
        ("raw.u.b", "m.t.b", "o2", "IDENTITY", DAY.format(3), DAY.format(3)),
    ]
    assert sorted(peek(store, "operation_windows")) == [(DAY.format(1), DAY.format(2), 2),
                                                        (DAY.format(3), DAY.format(3), 1)]
    assert sorted(peek(store, "edge_windows")) == [(DAY.format(1), DAY.format(2)), (DAY.format(3), DAY.format(3)),
                                                   (DAY.format(3), DAY.format(3))]


def test_another_writer_of_the_same_operation_is_not_hidden(store_url, op):
    """Each store knows only what it wrote itself: windows widen whoever wrote last."""
    one, two = open_store(store_url), open_store(store_url)
    try:
        seen = lambda first, last: op("o1", "m.t", ("raw.s",), {"a": "raw.s.a"}, seen=(DAY.format(first),  # noqa: E731
                                                                                         DAY.format(last)))
        one.write_batch(Batch(operations=(seen(4, 5),)))
        two.write_batch(Batch(operations=(seen(2, 8),)))
        one.write_batch(Batch(operations=(seen(3, 6),)))  # within the store's window, outside what one wrote
        assert peek(one, "operation_windows") == [(DAY.format(2), DAY.format(8), 3)]
        assert peek(one, "edge_windows") == [(DAY.format(2), DAY.format(8))]
        one.write_batch(Batch(operations=(seen(1, 9),)))
        assert peek(two, "operation_windows") == [(DAY.format(1), DAY.format(9), 4)]
        assert peek(two, "edge_windows") == [(DAY.format(1), DAY.format(9))]
        assert lineage(two) == [("raw.s", "m.t", "o1", "DIRECT", DAY.format(1), DAY.format(9)),
                                ("raw.s.a", "m.t.a", "o1", "IDENTITY", DAY.format(1), DAY.format(9))]
    finally:
        one.close()
        two.close()


def test_a_known_operation_still_counts_its_new_users_and_systems(store, op):
    store.write_batch(Batch(operations=(op("o1", "m.t", ("raw.s",), {"a": "raw.s.a"}),)))
    store.write_batch(Batch(operations=(
        op("o1", "m.t", ("raw.s",), {"a": "raw.s.a"}, user="ann", system="lake", seen=(DAY.format(2), DAY.format(3))),
        op("o1", "m.t", ("raw.s",), {"a": "raw.s.a"}, seen=(DAY.format(4), DAY.format(4)), executions=2))))
    assert sorted(peek(store, "runs")) == [
        ("system", "lake", DAY.format(2), DAY.format(3), 1),
        ("system", "warehouse", DAY.format(1), DAY.format(4), 3),
        ("user", "ann", DAY.format(2), DAY.format(3), 1),
        ("user", "etl", DAY.format(1), DAY.format(4), 3),
    ]
    assert peek(store, "operation_windows") == [(DAY.format(1), DAY.format(4), 4)]
    assert peek(store, "edge_windows") == [(DAY.format(1), DAY.format(4))]


def batches(op):
    s = lambda d: (DAY.format(d), DAY.format(d))  # noqa: E731
    return [
        Batch(operations=(op("o1", "m.s", ("raw.s",), {"a": "raw.s.a"}, seen=s(3)),
                          op("o2", "m.t", ("m.s",), {"a": "m.s.a", "b": ["m.s.a", "raw.u.b"]},
                             indirect={"raw.u.k": "JOIN"}, seen=s(3), user="ann"))),
        Batch(operations=(op("o1", "m.s", ("raw.s",), {"a": "raw.s.a"}, seen=s(2)),
                          op("o3", "m.u", ("m.t",), {"a": "m.t.a"}, seen=s(4)))),
        Batch(operations=(op("o2", "m.t", ("m.s",), {"a": "m.s.a", "b": ["m.s.a", "raw.u.b"]},
                             indirect={"raw.u.k": "JOIN"}, seen=s(5), user="bob", system=None),
                          op("o1", "m.s", ("raw.s",), {"a": "raw.s.a"}, seen=(None, None)),
                          op("o3", "m.u", ("m.t",), {"a": "m.t.a"}, seen=s(1), system="lake"))),
        Batch(operations=(op("o3", "m.u", ("m.t",), {"a": "m.t.a"}, seen=s(4)),)),
    ]


def test_a_store_that_remembers_holds_what_stores_opened_anew_hold(tmp_path, op):
    kept = open_store(f"sqlite:///{tmp_path}/kept.db")
    for batch in batches(op):
        kept.write_batch(batch)
        anew = open_store(f"sqlite:///{tmp_path}/anew.db")
        anew.write_batch(batch)
        anew.close()
    kept.close()
    a, b = dump(tmp_path / "kept.db"), dump(tmp_path / "anew.db")
    assert a["column_edges"] and a == b, "\n".join(differences(a, b))


def test_the_same_on_every_store(store_url, op, tmp_path):
    """The remembering store answers as the SQLite store opened anew for every batch."""
    store = open_store(store_url)
    for batch in batches(op):
        store.write_batch(batch)
        anew = open_store(f"sqlite:///{tmp_path}/anew.db")
        anew.write_batch(batch)
        anew.close()
    anew = open_store(f"sqlite:///{tmp_path}/anew.db")
    try:
        for question in ("operation_windows", "edge_windows", "runs", "input_types"):
            assert sorted(peek(store, question), key=repr) == sorted(peek(anew, question), key=repr), question
        for name in ("m.t", "m.u"):
            assert lineage(store, name) == lineage(anew, name)
    finally:
        store.close()
        anew.close()
