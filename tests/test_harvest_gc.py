"""The harvest keeps each chunk's row objects out of the cyclic garbage collector's view (it
freezes them once read): nothing unreachable may be frozen with them, or it would stay in
memory until the run ends."""

from __future__ import annotations

import gc

import pytest

from sqllineage_harvester import harvest as harvesting

from test_store_identity import LOGS  # every dialect's fixture log
from test_store_identity import run as harvest_log


class Watched:
    """The ``gc`` module as the harvest sees it, with a ``freeze`` that first finds what is
    unreachable (what a freeze would keep for good)."""

    def __init__(self) -> None:
        self.freezes = 0
        self.unreachable: list[str] = []

    def __getattr__(self, name: str):
        return getattr(gc, name)

    def freeze(self) -> None:
        self.freezes += 1
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
        finally:
            gc.set_debug(0)
        self.unreachable += sorted({type(o).__name__ + (":" + o.__qualname__ if isinstance(o, type) else "") for o in gc.garbage})
        gc.garbage.clear()
        gc.freeze()


@pytest.mark.parametrize("dialect", sorted(LOGS))
def test_no_garbage_is_frozen_with_a_chunk(tmp_path, monkeypatch, dialect):
    monkeypatch.setattr(harvesting, "READ_CHUNK", 4)
    watched = Watched()
    for run in ("warm", "watched"):  # the first imports what the dialect needs (a class made once)
        if run == "watched":
            monkeypatch.setattr(harvesting, "gc", watched)
        report = harvest_log(tmp_path / f"{run}.db", dialect, batch_size=10)
    assert report.parsed > 3 and watched.freezes > report.entries // 4, (report.parsed, watched.freezes)
    assert not watched.unreachable, watched.unreachable
