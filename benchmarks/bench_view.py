"""How long the served web view takes to open a column with 1,000 downstream nodes, on a store
of 2,000,000 column edges.

    python benchmarks/bench_view.py [--store sqlite:////tmp/lineage-bench-view.db] [--rebuild] [--repeat 5]

The store is bench_queries.py's layered warehouse (100,000 datasets, 2,000,000 column edges,
written through ``Store.write_batch`` as a harvest would) plus a fan: ``fan.root.c0`` feeds every
column of 10 tables (100 columns), each of which feeds the same column of 9 tables more (900
columns): 1,000 columns downstream in 100 tables. Built once and reused.

Times, medians of ``--repeat`` runs:
- api: GET /api/graph for the column, downstream, all levels (the server's whole answer);
- browser: Debian's Chromium (Playwright) opening ``/#key=...`` until the graph is drawn (page,
  assets, the API call, layout and SVG; the page's own count of the last three is printed too),
  and a click on the column until its impact (1,000 columns listed and highlighted) is drawn.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_queries import NAMESPACE, build  # noqa: E402

from sqllineage_harvester.model import IDENTITY, ColumnLineage, ColumnRef, DatasetRef, Operation  # noqa: E402
from sqllineage_harvester.stores import Batch, Store, open_store, safe_url  # noqa: E402
from sqllineage_harvester.web.serve import make_server  # noqa: E402

ROOT, MIDS, LEAVES, COLUMNS = "fan.root", 10, 9, 10


def fan_op(target: str, sources: list[str]) -> Operation:
    cols = tuple(ColumnLineage(ColumnRef(target, f"c{j}"), (ColumnRef(*sources[j].rsplit(".", 1)),), IDENTITY)
                 for j in range(COLUMNS))
    inputs = tuple(DatasetRef(t) for t in sorted({s.rsplit(".", 1)[0] for s in sources}))
    return Operation(id=f"op-{target}", type="insert", fingerprint=f"fp-{target}", sql=f"INSERT INTO {target} SELECT ...",
                     inputs=inputs, outputs=(DatasetRef(target),), columns=cols, indirect=(), namespace=NAMESPACE,
                     user="etl_fan", system="wh_etl", first_seen="2024-05-01T00:00:00", last_seen="2024-05-02T00:00:00")


def build_fan(store: Store) -> None:
    ops = []
    for m in range(MIDS):
        mid = f"fan.mid{m:02d}"
        ops.append(fan_op(mid, [f"{ROOT}.c0"] * COLUMNS))
        ops += [fan_op(f"fan.leaf{m:02d}_{n}", [f"{mid}.c{j}" for j in range(COLUMNS)]) for n in range(LEAVES)]
    store.write_batch(Batch(operations=tuple(ops)))


def column_key(base: str) -> str:
    with urllib.request.urlopen(base + "api/search?" + urllib.parse.urlencode({"q": f"{ROOT}.c0"})) as r:
        return next(n["key"] for n in json.load(r)["results"] if n["name"] == f"{ROOT}.c0")


def time_api(base: str, key: str, repeat: int) -> tuple[list[float], dict]:
    times, body = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        with urllib.request.urlopen(base + "api/graph?" + urllib.parse.urlencode(
                {"key": key, "direction": "downstream", "depth": ""})) as r:
            body = json.load(r)
        times.append((time.perf_counter() - started) * 1000)
    return times, body


def time_browser(base: str, key: str, repeat: int,
                 shot: str | None) -> tuple[list[float], list[float], list[float], list[float], int]:
    from playwright.sync_api import sync_playwright

    opened, inside, draw, impact, drawn = [], [], [], [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("SQLLINEAGE_CHROMIUM", "/usr/bin/chromium"),
                                    args=["--no-sandbox"])
        for i in range(repeat):
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            started = time.perf_counter()
            page.goto(base + "#" + urllib.parse.urlencode({"key": key, "direction": "downstream", "depth": ""}))
            page.wait_for_selector("body[data-opened]", state="attached", timeout=120_000)
            opened.append((time.perf_counter() - started) * 1000)
            inside.append(float(page.get_attribute("body", "data-open-ms") or 0))  # request, layout, drawing
            draw.append(float(page.get_attribute("body", "data-draw-ms") or 0))  # layout, drawing
            drawn = page.locator("#tables g.column").count()
            started = time.perf_counter()
            page.locator(f'#tables g.table[data-name="{ROOT}"] g.column[data-name="c0"]').click()
            page.wait_for_selector("#details[data-impact]", timeout=120_000)
            impact.append((time.perf_counter() - started) * 1000)
            if shot and i == 0:  # the opened view with the column's impact drawn
                page.screenshot(path=shot)
            page.close()
        browser.close()
    return opened, inside, draw, impact, drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="sqlite:////tmp/lineage-bench-view.db")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--screenshot", default=None,
                        help="PNG of the first view with its impact drawn (keep it out of the repo)")
    args = parser.parse_args()
    path = args.store.removeprefix("sqlite:///")
    if args.rebuild and args.store.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    store = open_store(args.store)
    if dict(store.stats().counts)["datasets"] == 0:
        print(f"building {safe_url(args.store)} ...", file=sys.stderr)
        print(f"build: {build(store):.1f} s")
        build_fan(store)
    counts = dict(store.stats().counts)
    print(f"store: {counts['datasets']:,} datasets, {counts['columns']:,} columns, "
          f"{counts['column_edges']:,} column edges")
    store.close()
    reader = open_store(args.store, read_only=True)
    server = make_server(reader, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    key = column_key(base)
    times, body = time_api(base, key, args.repeat)
    reached = len(body["reached"]) - 1
    print(f"api /api/graph {ROOT}.c0 downstream: {reached:,} columns downstream in {len(body['tables'])} tables, "
          f"{len(body['edges']):,} edges; median {statistics.median(times):.0f} ms (first {times[0]:.0f} ms)")
    opened, inside, draw, impact, drawn = time_browser(base, key, args.repeat, args.screenshot)
    print(f"browser: navigation to graph drawn median {statistics.median(opened):.0f} ms (first {opened[0]:.0f} ms), "
          f"of which API request + layout + SVG {statistics.median(inside):.0f} ms, layout + SVG "
          f"{statistics.median(draw):.0f} ms; {len(body['tables'])} tables, "
          f"{drawn:,} column rows open; click on the column to its impact drawn median {statistics.median(impact):.0f} ms")
    server.shutdown()
    reader.close()


if __name__ == "__main__":
    main()
