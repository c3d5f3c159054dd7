"""A backfill gives one graph whoever parses it and however it is split: local worker
processes, a Dask cluster, or time windows harvested apart into one store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from storedump import differences, dump

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    """A Snowflake history of 3,000 rows, 150 distinct statements, written by the benchmark's generator."""
    path = tmp_path_factory.mktemp("history") / "history.csv"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_history.py"), str(path), "--rows", "3000",
                    "--distinct", "0.05"], check=True, capture_output=True)
    return path


def harvest(log: Path, db: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(log),
                           "--dialect", "snowflake", "--store", f"sqlite:///{db}", "--format", "json", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def one_process(history, tmp_path_factory) -> dict:
    db = tmp_path_factory.mktemp("one") / "one.db"
    harvest(history, db, "--workers", "1")
    return dump(db)


def test_worker_processes_and_batch_sizes_give_the_same_store(history, one_process, tmp_path):
    for workers, batch in (("2", "20000"), ("auto", "333"), ("3", "1")):
        db = tmp_path / f"w{workers}-{batch}.db"
        harvest(history, db, "--workers", workers, "--batch-size", batch)
        assert dump(db) == one_process, "\n".join(differences(dump(db), one_process))


def test_a_dask_cluster_gives_the_same_store(history, one_process, tmp_path):
    import distributed  # a test extra: its absence fails the test
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        db = tmp_path / "dask.db"
        harvest(history, db, "--executor", address, "--batch-size", "700")
        with distributed.Client(cluster) as client:  # the cluster did the parsing
            parsed = sum(len(v) for v in client.run(lambda dask_worker: list(dask_worker.data)).values())
            done = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.total_occupancy)
    assert dump(db) == one_process, "\n".join(differences(dump(db), one_process))
    assert parsed == 0 and done == 0  # nothing left behind on the cluster


def test_an_unreachable_scheduler_is_a_clear_error(history, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(history),
                           "--dialect", "snowflake", "--store", f"sqlite:///{tmp_path / 'x.db'}",
                           "--executor", "dask://127.0.0.1:9"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 1 and "Dask scheduler" in proc.stderr and "Traceback" not in proc.stderr


def _times(log: Path) -> list[str]:
    import csv
    with log.open(newline="") as f:
        return sorted(row["START_TIME"] for row in csv.DictReader(f))


def test_time_windows_harvested_apart_give_the_store_of_one_run(history, one_process, tmp_path):
    """Three slices that share their bounds, run at once into one store, each with its own
    cursor; then each run again finds nothing new."""
    from sqllineage_harvester.sources.files import parse_time
    from datetime import timezone

    times = [parse_time(t, (), timezone.utc) for t in _times(history)]
    cuts = [times[len(times) // 3], times[2 * len(times) // 3]]
    bounds = [("2000-01-01", cuts[0]), (cuts[0], cuts[1]), (cuts[1], "2100-01-01")]
    db = tmp_path / "split.db"
    harvest(history, db, "--workers", "1", "--until", "2000-01-02")  # makes the store's tables; reads no row
    procs = [subprocess.Popen([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(history),
                               "--dialect", "snowflake", "--store", f"sqlite:///{db}", "--workers", "1",
                               "--batch-size", "500", "--since", since, "--until", until],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for since, until in bounds]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    split, whole = dump(db), dict(one_process)
    cursors = split.pop("sources")
    whole.pop("sources")
    counted = split.pop("source_rows")
    assert sum(dict(r)["value"] for r in counted) == sum(dict(r)["value"] for r in whole.pop("source_rows"))
    assert len(cursors) == 3 and all("#window=" in dict(c)["name"] for c in cursors)  # one per slice
    assert split == whole, "\n".join(differences(split, whole))
    for since, until in bounds:
        again = json.loads(harvest(history, db, "--workers", "1", "--since", since, "--until", until).stdout)
        assert again["operations"] == 0 and again["distinct"] == 0
    assert dump(db) == {**whole, "sources": cursors, "source_rows": counted}


def test_a_memory_budget_far_below_the_logs_statements_gives_the_same_store(history, one_process, tmp_path):
    """With 1 MB the harvest forgets the statements it knows many times over (the store has them)."""
    db = tmp_path / "small.db"
    harvest(history, db, "--workers", "1", "--memory", "1M", "--batch-size", "250")
    assert dump(db) == one_process, "\n".join(differences(dump(db), one_process))


def test_worker_processes_parse_with_the_catalog_given_and_the_one_learned(tmp_path):
    """``SELECT *`` needs the catalog: the one given (--catalog) and the tables the log creates
    reach the worker processes (sent to them once, as a file), and the store is the one-process one."""
    header = "QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,USER_NAME,START_TIME,END_TIME,EXECUTION_STATUS\n"
    rows = [f"c{n},\"CREATE TABLE m.made{n} (id INT, v{n} INT)\",DB,PUBLIC,ETL,2024-03-01 10:00:{n:02}.000 +0000,,SUCCESS\n"
            for n in range(20)]
    rows += [f"i{n},INSERT INTO m.out{n} SELECT * FROM raw.src{n % 5},DB,PUBLIC,ETL,2024-03-01 10:01:{n:02}.000 +0000,,"
             "SUCCESS\n" for n in range(20)]
    rows += [f"j{n},INSERT INTO m.copy{n} SELECT * FROM m.made{n},DB,PUBLIC,ETL,2024-03-01 10:02:{n:02}.000 +0000,,"
             "SUCCESS\n" for n in range(20)]
    log = tmp_path / "star.csv"
    log.write_text(header + "".join(rows))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({f"DB.RAW.SRC{k}": {"ID": "INT", f"AMOUNT{k}": "NUMBER"} for k in range(5)}))
    stores = {}
    for workers in ("1", "2"):
        db = tmp_path / f"star{workers}.db"
        harvest(log, db, "--workers", workers, "--catalog", str(catalog), "--batch-size", "25")
        stores[workers] = dump(db)
    assert stores["2"] == stores["1"], "\n".join(differences(stores["2"], stores["1"]))
    columns = {dict(row)["name"] for row in stores["2"]["columns"]}
    assert {"AMOUNT3", "V7"} <= columns  # from the catalog given, and from the log's own CREATE TABLE


def test_batches_read_ahead_stay_within_a_quarter_of_the_memory_budget(tmp_path, monkeypatch):
    """While parses are not done the harvest reads ahead, but never more than a quarter of
    --memory of log text (nor more than READ_AHEAD batches)."""
    from sqllineage_harvester import harvest as harvesting
    from sqllineage_harvester.executors import extract_job
    from sqllineage_harvester.sources import open_source
    from sqllineage_harvester.stores import open_store

    class Later:  # a cluster that is always still busy: the harvest reads ahead as far as it may
        workers = 2

        def submit(self, job):
            return type("Handle", (), {"done": lambda self: False, "result": lambda self: extract_job(job)})()

        def flush(self):
            pass

        def close(self, abort=False):
            pass

    monkeypatch.setattr(harvesting, "make_executor", lambda workers, address=None: Later())
    header = "QUERY_ID,QUERY_TEXT,DATABASE_NAME,SCHEMA_NAME,USER_NAME,START_TIME,END_TIME,EXECUTION_STATUS\n"
    padding = " ".join(f"c{k} * 2 AS d{k}" for k in range(1000))  # about 17 KB a statement
    log = tmp_path / "wide.csv"
    log.write_text(header + "".join(
        f'w{n},"INSERT INTO m.t{n} SELECT {padding} FROM raw.s{n}",DB,PUBLIC,ETL,'
        f"2024-03-01 10:{n // 60:02}:{n % 60:02}.000 +0000,,SUCCESS\n" for n in range(120)))
    held, most = [0], [0]
    read, work = harvesting.Harvester._send, harvesting.Harvester._harvest

    def reading(self, chunk):
        held[0] += 1
        most[0] = max(most[0], held[0])
        return read(self, chunk)

    def working(self, batch, wait=True):
        done = work(self, batch, wait)  # a chunk may be left part-way (its parses not done) and taken up again
        held[0] -= done
        return done

    monkeypatch.setattr(harvesting.Harvester, "_send", reading)
    monkeypatch.setattr(harvesting.Harvester, "_harvest", working)
    results = {}
    for memory in (1 << 20, 1 << 30):
        store = open_store(f"sqlite:///{tmp_path / f'wide{memory}.db'}")
        most[0] = 0
        try:
            harvesting.Harvester(open_source(log, "snowflake"), store, harvesting.Options(
                dialect="snowflake", namespace="snowflake://t", batch_size=10, workers=2, memory=memory)).run()
        finally:
            store.close()
        results[memory] = most[0]
    # 10 statements of ~17 KB a batch: 1 MB (a quarter: 256 KB) holds one batch and reads the next, 1 GB
    # reads READ_AHEAD batches beyond the one in hand
    assert results[1 << 20] == 2 and results[1 << 30] == harvesting.READ_AHEAD + 1, results


def test_parse_workers_yield_the_cpu_to_the_harvest():
    """Workers run at a lower priority than the harvest's own process, which everything waits for."""
    import os

    from sqllineage_harvester.executors import WORKER_NICENESS, Processes, extract_job

    executor = Processes(1)
    job = ("INSERT INTO a SELECT x FROM b", "postgres", None, None, None, 5.0)
    try:
        handle = executor.submit(job)
        executor.flush()
        assert handle.result() == extract_job(job)
        assert executor._pool is not None
        assert executor._pool.submit(os.nice, 0).result() == min(19, os.nice(0) + WORKER_NICENESS)
    finally:
        executor.close()


def _die(jobs: list) -> list:
    import os

    os._exit(9)  # a worker killed (out of memory, a crash in a compiled extension)


def test_a_parse_worker_that_dies_stops_the_run_with_nothing_of_its_batch_written(history, one_process, tmp_path,
                                                                                   monkeypatch):
    from sqllineage_harvester import executors
    from sqllineage_harvester.errors import HarvesterError
    from sqllineage_harvester.harvest import Harvester, Options
    from sqllineage_harvester.sources import open_source
    from sqllineage_harvester.stores import open_store

    db = tmp_path / "died.db"
    options = Options(dialect="snowflake", namespace="snowflake://default", workers=2)
    monkeypatch.setattr(executors, "parse_many", _die)  # the forked workers inherit it
    store = open_store(f"sqlite:///{db}")
    try:
        with pytest.raises(HarvesterError, match="a parse worker died .*run again"):
            Harvester(open_source(history, "snowflake"), store, options).run()
        assert store.cursor(open_source(history, "snowflake").url) is None  # nothing committed
    finally:
        store.close()
    monkeypatch.undo()
    harvest(history, db, "--workers", "2")  # run again: the whole log, once
    assert dump(db) == one_process, "\n".join(differences(dump(db), one_process))


def test_a_run_without_a_window_after_windowed_ones_is_refused_until_told_where_to_start(history, tmp_path):
    """Windows keep cursors of their own; a plain run (the schedule after a backfill) has none, and
    would count every row the windows harvested again. It is refused, saying the --since to give;
    with --since given it runs."""
    from sqllineage_harvester.sources.files import parse_time
    from datetime import timezone

    times = sorted(parse_time(t, (), timezone.utc) for t in _times(history))
    cut = times[len(times) // 2]
    db = tmp_path / "w.db"
    harvest(history, db, "--workers", "1", "--since", "2000-01-01", "--until", cut)
    plain = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "harvest", "--source", str(history),
                            "--dialect", "snowflake", "--store", f"sqlite:///{db}", "--format", "json"],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert plain.returncode == 2 and plain.stdout == "", plain
    assert "--since " + cut[:19] in plain.stderr and "twice" in plain.stderr and len(plain.stderr.splitlines()) == 1
    rest = json.loads(harvest(history, db, "--workers", "1", "--since", cut).stdout)
    before = len([t for t in times if t < cut])
    assert 0.9 * before <= rest["skipped"]["before_since"] <= before, rest  # the windows' rows left to them
