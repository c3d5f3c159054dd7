"""The Python API (api.py) for what no log records, on every store: a recorded operation is lineage
the queries walk, a training links the model to its data so a prediction table's ``upstream`` reaches
the training data's sources, a call recorded again adds nothing, literals in a context's SQL and
credentials among hyperparameters never reach the store, and bad input is a one-line error that
queues nothing."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sqllineage_harvester import LineageCollector, MLLineageTracker, RecordError, ml_query, queries
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import Batch, open_store

ROOT = Path(__file__).resolve().parent.parent
NS = "postgres://warehouse:5432"
SECRET_SQL = "INSERT INTO shop.marts.daily SELECT day, sum(amount) FROM shop.raw.orders WHERE email = 'jane.doe@example.com' GROUP BY day"


def names(graph) -> dict[str, int]:
    return {n.node.name: n.depth for n in graph.nodes}


def record_pipeline(store_url: str, metrics: dict | None = None) -> None:
    """Features from raw data (with its SQL), a model trained on them (a run of a scheduler), a
    prediction table made with the model."""
    with MLLineageTracker(store=store_url, namespace=NS, user="mlops", system="airflow") as ml:
        ml.capture_operation("create_table_as", ["shop.raw.customers"],
                             [{"name": "shop.ml.features", "columns": ["tenure", "spend", "churned"]}],
                             columns={"tenure": "tenure_months", "spend": "monthly_spend", "churned": "churned"},
                             context={"time": "2024-04-01T10:00:00Z", "job": "features",
                                      "sql": "CREATE TABLE shop.ml.features AS SELECT tenure_months AS tenure, "
                                             "monthly_spend AS spend, churned FROM shop.raw.customers "
                                             "WHERE country <> 'jane@example.com'"})
        ml.track_model_training(
            {"name": "shop.ml.churn_model", "version": "3", "architecture": "xgboost", "status": "READY"},
            [{"name": "shop.ml.features", "columns": ["tenure", "spend", "churned"]},
             {"name": "shop.ml.holdout", "split": "evaluation"}],
            {"max_depth": 6, "eta": 0.1, "objective": "binary:logistic", "db_password": "Hunter2!x"},
            metrics or {"auc": 0.91}, context={"time": "2024-04-01T11:00:00Z"}, run_id="train-2024-04-01")
        ml.track_prediction("shop.ml.churn_model", ["shop.raw.new_customers"], "shop.marts.churn_predictions",
                            columns={"churn_score": ["shop.ml.churn_model.tenure", "shop.ml.churn_model.spend"],
                                     "customer_id": "shop.raw.new_customers.id"},
                            context={"time": "2024-04-01T12:00:00Z"}, run_id="score-2024-04-01")


def test_a_recorded_operation_shows_in_upstream_and_impact(store_url):
    with LineageCollector(store=store_url, namespace=NS, user="etl") as lineage:
        lineage.capture_operation("insert", [{"name": "shop.raw.orders", "columns": ["amount", "day"]}],
                                  ["shop.marts.daily"], {"sql": SECRET_SQL, "time": "2024-04-01T06:00:00Z"},
                                  columns={"revenue": "amount", "day": "day"})
    store = open_store(store_url, read_only=True)
    try:
        up = names(queries.upstream(store, "shop.marts.daily.revenue"))
        assert up == {"shop.marts.daily.revenue": 0, "shop.raw.orders.amount": 1}
        impact = names(queries.impact(store, "shop.raw.orders"))
        assert impact == {"shop.raw.orders": 0, "shop.marts.daily": 1}
        graph = queries.upstream(store, "shop.marts.daily", details=True)
        assert [(o.type, o.users, o.executions, o.last_seen) for o in graph.operations] == [
            ("insert", ("etl",), 1, "2024-04-01T06:00:00.000000Z")]
    finally:
        store.close()


def test_a_prediction_reaches_the_training_data_s_sources_through_the_model(store_url):
    record_pipeline(store_url)
    store = open_store(store_url, read_only=True)
    try:
        up = names(queries.upstream(store, "shop.marts.churn_predictions"))
        assert up["shop.ml.churn_model"] == 1 and up["shop.ml.features"] == 2
        assert "shop.ml.holdout" not in up  # evaluation data feeds no value of the model (README, ML)
        assert up["shop.raw.customers"] == 3 and up["shop.raw.new_customers"] == 1
        columns = names(queries.upstream(store, "shop.marts.churn_predictions.churn_score"))
        assert columns["shop.ml.churn_model.tenure"] == 1 and columns["shop.raw.customers.tenure_months"] == 3
        assert "shop.raw.new_customers.id" not in columns
        impact = names(queries.impact(store, "shop.raw.customers.monthly_spend"))
        assert impact["shop.ml.churn_model.spend"] == 2 and impact["shop.marts.churn_predictions.churn_score"] == 3
        model = queries.find(store, "shop.ml.churn_model")
        assert model.type == "model"
        answer = ml_query.model(store, "shop.ml.churn_model")
        assert answer.hyperparameters == {"eta": "0.1", "max_depth": "6", "objective": "binary:logistic"}
        assert "shop.marts.churn_predictions" in answer.predictions
    finally:
        store.close()


def test_recording_again_adds_nothing_and_a_run_without_identity_is_another_run(store_url):
    record_pipeline(store_url)
    record_pipeline(store_url)  # the same calls: run ids, or the same times and content
    with LineageCollector(store=store_url, namespace=NS) as lineage:  # no run id, no time: each call a run
        lineage.capture_operation("insert", ["shop.raw.orders"], ["shop.marts.audit"])
        lineage.capture_operation("insert", ["shop.raw.orders"], ["shop.marts.audit"])
    store = open_store(store_url, read_only=True)
    try:
        runs = sorted((r.type, r.executions) for r in store.operation_rows())
        assert runs == [("create_table_as", 1), ("insert", 1), ("insert", 2), ("train", 1)]
    finally:
        store.close()


def test_literals_in_the_context_sql_and_credentials_never_reach_the_store(store_url):
    record_pipeline(store_url)
    with LineageCollector(store=store_url, namespace=NS) as lineage:
        lineage.capture_operation("insert", ["shop.raw.orders"], ["shop.marts.daily"], {"sql": SECRET_SQL})
    store = open_store(store_url, read_only=True)
    try:
        texts = [r.sql for r in store.operation_rows() if r.sql]
        assert len(texts) == 2 and all("'?'" in t for t in texts)
        assert not [t for t in texts if "jane" in t]
        if store_url.startswith("sqlite"):
            dump = "\n".join(sqlite3.connect(store_url.removeprefix("sqlite:///")).iterdump())
            assert "jane" not in dump and "Hunter2" not in dump and "db_password" not in dump
    finally:
        store.close()


class Recording:
    """A real store, with the batches written to it kept for the test to read."""

    def __init__(self, store):
        self.store, self.batches = store, []

    def write_batch(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.store.write_batch(batch)

    def __getattr__(self, name):
        return getattr(self.store, name)


def test_a_training_s_model_facts_reach_the_operation_the_stores_write(tmp_path):
    store = Recording(open_store(f"sqlite:///{tmp_path}/l.db"))
    with MLLineageTracker(store=store, namespace="snowflake://acme") as ml:
        run = ml.track_model_training({"name": "analytics.ml.churn", "type": "classification", "version": 2},
                                      ["analytics.ml.features", {"name": "analytics.ml.test", "split": "test"}],
                                      {"target": "churned", "api_token": "abc"}, {"f1": 0.8, "rows": 1200})
    [op] = [op for b in store.batches for op in b.operations]
    assert op.type == "train" and op.settings == (("target", "churned"),)
    facts = op.ml
    assert (facts.model, facts.version, facts.architecture, facts.run) == ("ANALYTICS.ML.CHURN", "2", "classification", None)
    assert facts.splits == (("ANALYTICS.ML.FEATURES", "train"), ("ANALYTICS.ML.TEST", "test"))
    assert facts.metrics == (("f1", "0.8"), ("rows", "1200"))
    assert run == op.id  # the stored operation's id
    store.close()


def test_an_api_model_joins_the_graph_harvested_from_the_warehouse_log(tmp_path):
    """The Snowflake ML export is harvested; a model trained outside the warehouse, recorded with
    names spelled in lower case, meets the same nodes (Snowflake's names are upper case)."""
    url = f"sqlite:///{tmp_path}/l.db"
    store = open_store(url)
    harvest(open_source(ROOT / "fixtures/logs/snowflake/ml_query_history.csv", "snowflake"), store,
            Options(dialect="snowflake", namespace="snowflake://acme"))
    with MLLineageTracker(store=store, namespace="snowflake://acme") as ml:
        ml.track_model_training({"name": "analytics.ml.churn_xgb"}, [{"name": "analytics.ml.customer_features",
                                                                       "columns": ["monthly_spend"]}], run_id="r1")
        ml.track_prediction("analytics.ml.churn_xgb", ["analytics.raw.new_customers"], "analytics.marts.xgb_scores",
                            run_id="r1", columns={"score": "analytics.ml.churn_xgb.monthly_spend"})
    up = names(queries.upstream(store, "ANALYTICS.MARTS.XGB_SCORES.SCORE"))
    assert up["ANALYTICS.ML.CUSTOMER_FEATURES.MONTHLY_SPEND"] == 2 and up["ANALYTICS.RAW.CUSTOMERS.MONTHLY_SPEND"] == 3
    store.close()
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "upstream", "ANALYTICS.MARTS.XGB_SCORES",
                           "--store", url, "--format", "json"], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert "ANALYTICS.RAW.CUSTOMERS" in {n["name"] for n in json.loads(proc.stdout)["nodes"]}


@pytest.mark.parametrize("call, message", [
    (lambda c: c.capture_operation("upsert", ["a"], ["b"]), "unknown operation type 'upsert'; known: copy"),
    (lambda c: c.capture_operation("insert", ["a"], [" "]), "an output has an empty name"),
    (lambda c: c.capture_operation("insert", ["a"], []), "outputs is empty"),
    (lambda c: c.capture_operation("insert", [""], ["b"]), "an input has an empty name"),
    (lambda c: c.capture_operation("insert", ["a"], ["b"], {"when": "now"}), "context: unknown key 'when'"),
    (lambda c: c.capture_operation("insert", ["a"], ["b"], {"time": "yesterday"}), "not an ISO-8601 time"),
    (lambda c: c.capture_operation("insert", ["a", "c"], ["b"], columns={"x": "y"}), "source column 'y': name its dataset"),
    (lambda c: c.capture_operation("train", ["a"], ["b"]), "track_model_training"),
    (lambda c: c.track_model_training({"name": "m"}, []), "training_data is empty"),
    (lambda c: c.track_model_training({"name": ""}, ["a"]), "a model has an empty name"),
    (lambda c: c.track_model_training({"name": "m", "owner": "x"}, ["a"]), "unknown key 'owner'"),
    (lambda c: c.track_model_training({"name": "m"}, ["a"], metrics={"auc": "high"}), "metric 'auc' must be a number, got str"),
])
def test_bad_input_is_a_one_line_error_and_queues_nothing(tmp_path, call, message):
    with MLLineageTracker(store=f"sqlite:///{tmp_path}/l.db", namespace=NS) as ml:
        with pytest.raises(RecordError) as raised:
            call(ml)
        assert message in str(raised.value) and "\n" not in str(raised.value)
        assert ml.flush() is None  # nothing was queued


def test_a_closed_collector_refuses_calls_and_writes_what_it_held_on_close(tmp_path):
    url = f"sqlite:///{tmp_path}/l.db"
    lineage = LineageCollector(store=url, namespace=NS, flush_every=1000)
    lineage.capture_operation("copy", ["s3://bucket/orders/"], ["shop.raw.orders"])
    lineage.close()
    with pytest.raises(RecordError, match="closed"):
        lineage.capture_operation("copy", ["s3://bucket/orders/"], ["shop.raw.orders"])
    store = open_store(url, read_only=True)
    try:
        found = {(n.node.namespace, n.node.name) for n in queries.upstream(store, "shop.raw.orders").nodes}
        assert found == {(NS, "shop.raw.orders"), ("s3://bucket", "orders")}  # the object store's own namespace
    finally:
        store.close()


def test_the_demo_shows_a_model_s_lineage_and_records_it_once(tmp_path):
    from sqllineage_harvester.cli.demo import DEMO_MODEL

    def demo():
        proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "demo"], cwd=tmp_path,
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout, proc.stderr

    out, err = demo()
    trained_on = out.split(f"What {DEMO_MODEL} was trained on")[1]
    assert "ML.CUSTOMER_FEATURES" in trained_on and "RAW.CUSTOMERS" in trained_on
    assert "max_depth = 6" in out and "objective = binary:logistic" in out  # the model's hyperparameters
    assert "ANALYTICS.MARTS.CHURN_SCORES" in out.split("predictions made with it")[1]
    assert "sqllineage-harvester model " + DEMO_MODEL in out
    demo()  # again: the harvests find nothing new, the API's runs are not recorded twice
    store = open_store(f"sqlite:///{tmp_path}/demo-lineage.db", read_only=True)
    try:
        runs = {r.type: r.executions for r in store.operation_rows() if r.sql == "" and r.users == ("ML_PIPELINE",)}
        assert runs == {"train": 1, "insert": 1}
        up = names(queries.upstream(store, "ANALYTICS.MARTS.CHURN_PREDICTIONS"))  # the log's own model
        assert up["ANALYTICS.ML.CHURN_CLASSIFIER"] == 1 and up["ANALYTICS.RAW.CUSTOMERS"] == 3
    finally:
        store.close()


def test_the_readme_example_runs_and_records_once(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Recording what no log records"):]
    code = section[section.index("```python\n") + 10:section.index("```\n", section.index("```python\n") + 10)]
    command = section[section.index("after which `") + 13:].split("`", 1)[0].replace("\n", " ")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    exec(compile(code, "README.md", "exec"), {})  # again: every call has its run id or its time
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", *command.split()[1:], "--format", "json"],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert {"ANALYTICS.ML.CHURN", "ANALYTICS.RAW.CUSTOMERS"} <= {n["name"] for n in json.loads(proc.stdout)["nodes"]}
    dump = "\n".join(sqlite3.connect(tmp_path / "lineage.db").iterdump())
    assert "'EU'" not in dump and "never stored" not in dump and "db_password" not in dump
    store = open_store("sqlite:///lineage.db", read_only=True)
    try:
        assert sorted(r.executions for r in store.operation_rows()) == [1, 1, 1]
    finally:
        store.close()


class FailingOnce(Recording):
    """A real store whose second write fails once, as a store that goes away mid-flush does."""

    def __init__(self, store):
        super().__init__(store)
        self.writes = 0

    def write_batch(self, batch: Batch) -> None:
        self.writes += 1
        if self.writes == 2:
            raise OSError("the store went away")
        super().write_batch(batch)


def test_a_flush_that_fails_keeps_its_calls_and_the_next_writes_each_once(tmp_path):
    store = FailingOnce(open_store(f"sqlite:///{tmp_path}/l.db"))
    lineage = LineageCollector(store=store, namespace=NS)
    for day in ("01", "02", "03"):
        lineage.capture_operation("insert", ["shop.raw.orders"], ["shop.marts.daily"],
                                  {"time": f"2024-04-{day}T06:00:00Z"})
    with pytest.raises(OSError):
        lineage.flush()
    lineage.close()  # the first call was written before the failure: its batch key leaves it out now
    [op] = store.operation_rows()
    assert op.executions == 3 and op.last_seen == "2024-04-03T06:00:00.000000Z"
    store.close()


def test_column_lineage_says_how_a_column_is_made(tmp_path):
    store = Recording(open_store(f"sqlite:///{tmp_path}/l.db"))
    with LineageCollector(store=store, namespace=NS) as lineage:
        lineage.capture_operation("insert", ["shop.raw.orders"], ["shop.marts.daily"], columns={
            "day": "day", "revenue": "amount", "total": {"sources": ["amount"], "transform": "aggregation"}})
        with pytest.raises(RecordError, match="transform 'SUMMED' is not one of IDENTITY"):
            lineage.capture_operation("insert", ["a"], ["b"], columns={"x": {"sources": "y", "transform": "summed"}})
    [op] = [op for b in store.batches for op in b.operations]
    assert {(c.target.column, c.transform) for c in op.columns} == {
        ("day", "IDENTITY"), ("revenue", "TRANSFORMATION"), ("total", "AGGREGATION")}
    store.close()


# -- what a new user's calls recorded wrongly ------------------------------------------------------
def _column_names(store) -> set[str]:
    rows = [op for b in store.batches for op in b.operations]
    return {f"{c.target.dataset}.{c.target.column}" for r in rows for c in r.columns} | {
        f"{s.dataset}.{s.column}" for r in rows for c in r.columns for s in c.sources}


def test_a_column_source_resolves_to_one_declared_input_or_is_refused(tmp_path):
    store = Recording(open_store(f"sqlite:///{tmp_path}/l.db"))
    with LineageCollector(store=store, namespace="snowflake://acme") as lineage:
        with pytest.raises(RecordError) as raised:  # customer is not customers: nothing invented
            lineage.capture_operation("insert", ["analytics.raw.customers"],
                                      [{"name": "analytics.ml.f", "columns": ["t", "u"]}],
                                      columns={"t": "customers.tenure_months", "u": "analytics.raw.customer.tenure_months"})
        assert str(raised.value) == ("source 'analytics.raw.customer.tenure_months': ANALYTICS.RAW.CUSTOMER is not "
                                     "among the inputs (ANALYTICS.RAW.CUSTOMERS)")
        with pytest.raises(RecordError) as raised:
            lineage.capture_operation("insert", ["a.b.c"], ["a.b.d"], columns={"x": "zz.q.y"})
        assert str(raised.value) == "source 'zz.q.y': ZZ.Q is not among the inputs (A.B.C)"
        with pytest.raises(RecordError, match=r"^source 'b\.y': B matches several inputs \(A\.B, C\.B\)"):
            lineage.capture_operation("insert", ["a.b", "c.b"], ["d"], columns={"x": "b.y"})
        with pytest.raises(RecordError, match=r"^target 'v': V is not among the columns of ANALYTICS\.ML\.F \(T, U\)$"):
            lineage.capture_operation("insert", ["analytics.raw.customers"],
                                      [{"name": "analytics.ml.f", "columns": ["t", "u"]}], columns={"v": "tenure_months"})
        assert lineage.flush() is None  # none of them queued
        lineage.capture_operation("copy", ["s3://bucket/orders/", "s3://bucket/refunds"], ["analytics.raw.orders"],
                                  columns={"amount": "orders.amount"})
        lineage.capture_operation("insert", ["analytics.raw.customers", "analytics.raw.orders"],
                                  [{"name": "analytics.ml.f", "columns": ["t", "u"]}],
                                  columns={"t": "customers.tenure_months", "u": "raw.orders.amount"})
    assert _column_names(store) == {"ANALYTICS.ML.F.T", "ANALYTICS.ML.F.U", "ANALYTICS.RAW.CUSTOMERS.TENURE_MONTHS",
                                    "ANALYTICS.RAW.ORDERS.AMOUNT", "s3://bucket/orders/.AMOUNT"}
    assert {d.name for b in store.batches for r in b.operations for d in r.inputs + r.outputs} == {
        "ANALYTICS.RAW.CUSTOMERS", "ANALYTICS.RAW.ORDERS", "ANALYTICS.ML.F", "s3://bucket/orders/", "s3://bucket/refunds"}
    store.close()


@pytest.mark.parametrize("namespace, dialect, given, column", [
    ("postgres://db:5432", "postgres", 'App.Public.B', "Amount"),
    ("redshift://cluster.us-east-1:5439", "redshift", 'App.Public.B', "Amount"),
    ("snowflake://acme", "snowflake", 'App.Public.B', "Amount"),
    ("bigquery", "bigquery", 'shop-prod.Raw.Orders', "Amount"),
    ("mysql://db:3306", "mysql", 'Shop.Orders', "Amount"),
    ("postgres://db:5432", "postgres", '"App".public."B"', '"Amount"'),
    ("mysql://db:3306", "mysql", '`Shop`.`Orders`', '`Amount`'),
])
def test_names_are_folded_as_the_namespace_s_harvest_folds_them(tmp_path, namespace, dialect, given, column):
    """The API's names are the names `parse -d DIALECT` gives the same table and column."""
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "parse", "-d", dialect, "--format", "json"],
                          input=f"INSERT INTO x.y.z SELECT {column} FROM {given}", capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    [statement] = [json.loads(line) for line in proc.stdout.splitlines()]
    [harvested] = statement["inputs"]
    [source] = [s for c in statement["columns"] for s in c["sources"]]
    harvested_column = source[len(harvested) + 1:]
    store = Recording(open_store(f"sqlite:///{tmp_path}/l.db"))
    with LineageCollector(store=store, namespace=namespace) as lineage:
        lineage.capture_operation("insert", [given], ["x.y.z"], columns={"c": column})
    [op] = [op for b in store.batches for op in b.operations]
    assert [d.name for d in op.inputs] == [harvested]
    assert [(s.dataset, s.column) for c in op.columns for s in c.sources] == [(harvested, harvested_column)]
    store.close()


@pytest.mark.parametrize("call, message", [
    (lambda c: c.track_model_training({"name": "m"}, ["a"], metrics={"auc": float("nan")}), "metric 'auc' must be a finite number, got nan"),
    (lambda c: c.track_model_training({"name": "m"}, ["a"], metrics={"auc": float("inf")}), "metric 'auc' must be a finite number, got inf"),
    (lambda c: c.track_model_training({"name": "m"}, ["a"], metrics={"auc": "high"}), "metric 'auc' must be a number, got str"),
    (lambda c: c.track_model_training({"name": "m"}, [{"name": "a", "split": "weird split!"}]),
     "split 'weird split!' of a: a split is one word"),
])
def test_a_metric_that_is_no_finite_number_and_a_split_that_is_no_word_are_refused(tmp_path, call, message):
    with MLLineageTracker(store=f"sqlite:///{tmp_path}/l.db", namespace=NS) as ml:
        with pytest.raises(RecordError) as raised:
            call(ml)
        assert message in str(raised.value) and "\n" not in str(raised.value)
        assert ml.flush() is None
        ml.track_model_training({"name": "m"}, [{"name": "a", "split": "hold-out_2"}], metrics={"auc": 0.5})


def test_a_collector_needs_a_namespace(tmp_path):
    with pytest.raises(RecordError) as raised:
        LineageCollector(store=f"sqlite:///{tmp_path}/l.db")
    message = str(raised.value)
    assert "namespace" in message and "snowflake://" in message and "postgres://" in message and "\n" not in message
    assert not (tmp_path / "l.db").exists()  # nothing opened


def test_the_returned_id_is_the_stored_operation_s_and_show_reads_it(tmp_path):
    url = f"sqlite:///{tmp_path}/l.db"
    with MLLineageTracker(store=url, namespace=NS) as ml:
        copied = ml.capture_operation("insert", ["shop.raw.orders"], ["shop.marts.daily"], run_id="r1")
        trained = ml.track_model_training({"name": "shop.ml.m"}, ["shop.marts.daily"], run_id="r1")
        scored = ml.track_prediction("shop.ml.m", ["shop.raw.new"], "shop.marts.scores")
    store = open_store(url, read_only=True)
    try:
        assert {copied, trained, scored} == {r.id for r in store.operation_rows()}
    finally:
        store.close()
    for wanted in (copied, trained):
        proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "show", wanted, "--store", url,
                               "--format", "json"], capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, proc.stderr
        assert wanted in proc.stdout


def test_a_collector_shared_by_threads_records_every_call_once(tmp_path):
    """Pipeline tasks in threads share one collector: every call is written, none twice, whatever
    flushes run meanwhile (flush_every=3 makes them many)."""
    import threading

    url = f"sqlite:///{tmp_path / 'l.db'}"
    threads, calls = 6, 40
    with LineageCollector(store=url, namespace=NS, flush_every=3) as lineage:
        def work(n: int) -> None:
            for i in range(calls):
                lineage.capture_operation("insert", [f"shop.raw.t{n}"], [f"shop.marts.m{n}"], run_id=f"{n}-{i}")

        started = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for t in started:
            t.start()
        for t in started:
            t.join()
    store = open_store(url, read_only=True)
    try:
        runs = sorted(r.executions for r in store.operation_rows())
        assert runs == [calls] * threads
    finally:
        store.close()
