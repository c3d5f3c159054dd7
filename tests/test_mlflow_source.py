"""The MLflow source: a tracking store made by MLflow's own library, harvested into a lineage store.

One tracking database per module (MLflow is slow to import and to log models): runs with params,
metrics, dataset inputs of several kinds, logged and registered models, a failed run, a running one,
and evaluation runs of models logged before (MLflow 3's model inputs).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers import server_missing
from sqllineage_harvester.graph import decode
from sqllineage_harvester.sources import open_source
from test_openlineage_out import cli, harvest as harvest_log, write_log

mlflow = pytest.importorskip("mlflow", reason="the [mlflow] extra is not installed")
pd = pytest.importorskip("pandas")

WAREHOUSE = "snowflake://acme/SHOP"  # the Snowflake fixture log's account; names lacking a database take SHOP
SECRET = "hunter2-very-secret"


class Model(mlflow.pyfunc.PythonModel):  # the smallest model MLflow logs for real
    def predict(self, context, model_input):  # noqa: ANN001
        return model_input


def log_datasets(name: str, inputs: list) -> list:
    """The run's dataset inputs: (source, context) pairs, a source a path or URL or an MLflow dataset source."""
    from mlflow.data.meta_dataset import MetaDataset

    logged = []
    for n, (source, context) in enumerate(inputs):  # MLflow keeps one dataset per experiment, name and digest
        label = f"{name}-{n}"
        dataset = (mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), source=source, name=label)
                   if isinstance(source, str) else MetaDataset(source, name=label))
        mlflow.log_input(dataset, context=context)
        logged.append(dataset)
    return logged


def train(name: str, user: str, params: dict, metrics: list[tuple[str, float]], inputs: list, *,
          registered: str | None = None, model: str = "model", status: str = "FINISHED",
          checked: bool = False) -> str:
    """One training run as a pipeline records it: params, metrics, dataset inputs, a logged model
    (``checked``: then evaluated in the same run, as ``mlflow.evaluate`` of the new model records it)."""
    from mlflow.entities import LoggedModelInput

    with mlflow.start_run(run_name=name, tags={"mlflow.user": user}) as run:
        mlflow.log_params(params)
        for key, value in metrics:
            mlflow.log_metric(key, value)
        log_datasets(name, inputs)
        if model:
            info = mlflow.pyfunc.log_model(name=model, python_model=Model(), registered_model_name=registered,
                                           pip_requirements=[])  # no requirement inference: a subprocess per model
            if checked:
                mlflow.log_input(model=LoggedModelInput(info.model_id))
                mlflow.log_metric("self_check", 1.0, model_id=info.model_id)
        if status != "FINISHED":
            mlflow.end_run(status=status)
    return run.info.run_id


def evaluate(name: str, user: str, model_id: str, metrics: list[tuple[str, float]], inputs: list, *,
             scoped: bool = True) -> str:
    """An evaluation run of a model logged before: its data, and metrics logged for the model
    (``log_metric(model_id=..., dataset=...)``, which makes the model an input of the run), or
    (``scoped=False``) the model given as an input (``log_input(model=...)``) and plain run metrics."""
    from mlflow.entities import LoggedModelInput

    with mlflow.start_run(run_name=name, tags={"mlflow.user": user}) as run:
        datasets = log_datasets(name, inputs)
        if not scoped:
            mlflow.log_input(model=LoggedModelInput(model_id))
        for key, value in metrics:
            if scoped:
                mlflow.log_metric(key, value, model_id=model_id, dataset=datasets[0] if datasets else None)
            else:
                mlflow.log_metric(key, value)
    return run.info.run_id


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The tracking database, and the ids of its runs."""
    from mlflow.data.http_dataset_source import HTTPDatasetSource
    from mlflow.data.spark_dataset_source import SparkDatasetSource

    root = tmp_path_factory.mktemp("mlflow")
    db = root / "mlflow.db"
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    mlflow.create_experiment("churn", artifact_location=(root / "artifacts").as_uri())  # not under the cwd
    mlflow.set_experiment("churn")
    runs = {
        "v1": train("v1", "ann", {"learning_rate": "0.1", "max_depth": "6", "db_password": SECRET},
                    [("auc", 0.80), ("auc", 0.91), ("log_loss", 0.25)],
                    [("s3://lake/churn/train.parquet", "training"),
                     (SparkDatasetSource(table_name="raw.orders"), "evaluation"),
                     (HTTPDatasetSource("https://data.example.com/holdout.csv"), "test")],
                    registered="churn_model"),
        "v2": train("v2", "bob", {"learning_rate": "0.05", "aws_secret_access_key": SECRET},
                    [("auc", 0.93)], [("s3://lake/churn/train.parquet", "training"), ("/data/valid.csv", "validation")],
                    registered="churn_model"),
        "clf": train("clf", "ann", {"C": "1.0"}, [("f1", 0.7)], [("ANALYTICS.RAW.EVENTS", "training")], model="clf",
                     checked=True),
        "no_model": train("no_model", "ann", {"x": "1"}, [("m", 1.0)], [], model=""),
        "failed": train("failed", "ann", {"x": "1"}, [], [], model="broken", status="FAILED"),
    }
    client = mlflow.MlflowClient()
    runs["eval_clf"] = evaluate("eval_clf", "eve", _logged(client, "clf"), [("eval_accuracy", 0.88)],
                                [("s3://lake/churn/holdout.parquet", None)])
    runs["eval_v2"] = evaluate("eval_v2", "eve", _version_model(client, "churn_model", "2"),
                               [("backtest_auc", 0.89)], [("https://data.example.com/backtest.csv", "test")],
                               scoped=False)
    running = client.create_run(client.get_experiment_by_name("churn").experiment_id, tags={"mlflow.user": "cy"})
    client.create_registered_model("fraud_model")  # registered from a run still running
    client.create_model_version("fraud_model", f"runs:/{running.info.run_id}/model", run_id=running.info.run_id)
    runs["running"] = running.info.run_id
    return {"db": db, "root": root, "runs": runs}


def source_url(db: Path, warehouse: str | None = WAREHOUSE) -> str:
    return f"mlflow+sqlite:///{db}" + (f"?warehouse={warehouse}" if warehouse else "")


def harvest(source: str, store: Path) -> dict:
    """``harvest --source SOURCE --store sqlite:///STORE``, in this process (MLflow is imported already)."""
    from dataclasses import asdict

    from sqllineage_harvester.harvest import Options, harvest as run
    from sqllineage_harvester.stores import open_store

    opened = open_store(f"sqlite:///{store}")
    try:
        found = open_source(source, None)
        return asdict(run(found, opened, Options(dialect=None, namespace=found.namespace, workers=1)))
    finally:
        opened.close()


def harvest_cli(source: str, store: Path) -> dict:
    done = cli("harvest", "--source", source, "--store", f"sqlite:///{store}", "--workers", "1", "--format", "json")
    return json.loads(done.stdout)


def operations(store: Path) -> dict[str, dict]:
    """Each model's training operations, as the store keeps them: inputs, users, times."""
    with sqlite3.connect(store) as conn:
        rows = conn.execute(
            "SELECT o.id, o.type, o.namespace, o.first_seen, o.last_seen, o.executions, d.name, u.name "
            "FROM operations o JOIN produces p ON p.operation_id = o.id JOIN datasets d ON d.id = p.dataset_id "
            "LEFT JOIN performed pf ON pf.operation_id = o.id LEFT JOIN users u ON u.id = pf.user_id").fetchall()
        found: dict[str, dict] = {}
        for op, kind, ns, first, last, runs, model, user in rows:
            inputs = sorted(f"{n}/{name}" for n, name in conn.execute(
                "SELECT d.namespace, d.name FROM input_to i JOIN datasets d ON d.id = i.dataset_id "
                "WHERE i.operation_id = ?", (op,)))
            found.setdefault(model, []).append({"type": kind, "namespace": ns, "first": first, "last": last,
                                                "executions": runs, "inputs": inputs, "user": user})
    return found


def evaluations(store: Path) -> list[list[str]]:
    """The inputs (the model, then its data) of each evaluation operation the store keeps, sorted."""
    with sqlite3.connect(store) as conn:
        ops = [op for op, in conn.execute("SELECT id FROM operations WHERE type = 'evaluate'")]
        return sorted(sorted((f"{t}:" if t == "model" else "") + f"{n}/{name}" for n, name, t in conn.execute(
            "SELECT d.namespace, d.name, d.type FROM input_to i JOIN datasets d ON d.id = i.dataset_id "
            "WHERE i.operation_id = ?", (op,))) for op in ops)


def test_each_finished_run_that_logged_a_model_is_a_training_entry_with_its_facts(tracking):
    source = open_source(source_url(tracking["db"]), None)
    read = [(e, r) for e in source.read() for r in decode(e.lineage)]
    found = {(r.ml.model, r.ml.version): (e, r) for e, r in read if r.kind == "train"}
    assert sorted(found) == [("churn/clf", None), ("churn_model", "1"), ("churn_model", "2")]
    entry, v1 = found[("churn_model", "1")]
    assert v1.kind == "train" and [(d.name, d.type) for d in v1.outputs] == [("churn_model", "model")]
    assert sorted((d.name, d.type) for d in v1.inputs) == [
        ("https://data.example.com/holdout.csv", "table"), ("s3://lake/churn/train.parquet", "file"),
        ("snowflake://acme/SHOP.RAW.ORDERS", "table")]
    assert dict(v1.ml.splits) == {"s3://lake/churn/train.parquet": "train", "snowflake://acme/SHOP.RAW.ORDERS":
                                  "evaluation", "https://data.example.com/holdout.csv": "test"}
    assert dict(v1.settings) == {"learning_rate": "0.1", "max_depth": "6"}  # no db_password
    assert dict(v1.ml.metrics) == {"auc": "0.91", "log_loss": "0.25"}  # the latest value of each
    assert (v1.ml.status, v1.ml.run) == ("READY", tracking["runs"]["v1"])
    run = mlflow.MlflowClient().get_run(tracking["runs"]["v1"])
    assert (entry.user, entry.query_id, entry.system) == ("ann", run.info.run_id, "mlflow")
    assert entry.start_time < entry.end_time and entry.end_time.endswith("Z")
    assert entry.start_time[:19] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(run.info.start_time / 1000))
    _, v2 = found[("churn_model", "2")]
    assert dict(v2.settings) == {"learning_rate": "0.05"} and dict(v2.ml.splits)["file:///data/valid.csv"] == "validation"
    _, clf = found[("churn/clf", None)]
    assert clf.ml.status == "READY" and [d.name for d in clf.inputs] == ["snowflake://acme/ANALYTICS.RAW.EVENTS"]
    assert dict(clf.ml.metrics) == {"f1": "0.7", "self_check": "1.0"}  # it evaluated its own model: still training
    assert source.stats.failed == 1  # the FAILED run
    assert source.stats.skipped == {"run_without_model": 1, "run_unfinished": 1}
    assert SECRET not in "".join(e.lineage for e, _ in read)


def test_a_run_that_evaluates_a_model_logged_before_is_an_evaluation_of_it_named_as_its_training_names_it(tracking):
    source = open_source(source_url(tracking["db"]), None)
    found = {r.ml.run: (e, r) for e in source.read() for r in decode(e.lineage) if r.kind == "evaluate"}
    assert sorted(found) == sorted([tracking["runs"]["eval_clf"], tracking["runs"]["eval_v2"]])  # not clf's own check
    entry, clf = found[tracking["runs"]["eval_clf"]]
    assert (clf.ml.model, clf.ml.version, clf.outputs) == ("churn/clf", None, ())
    assert sorted((d.name, d.type) for d in clf.inputs) == [("churn/clf", "model"),
                                                            ("s3://lake/churn/holdout.parquet", "file")]
    assert dict(clf.ml.splits) == {"s3://lake/churn/holdout.parquet": "evaluation"}  # no context: an evaluation
    assert dict(clf.ml.metrics) == {"eval_accuracy": "0.88"}  # the metrics logged for the model
    assert (entry.user, entry.query_id, entry.system) == ("eve", tracking["runs"]["eval_clf"], "mlflow")
    _, v2 = found[tracking["runs"]["eval_v2"]]
    assert (v2.ml.model, v2.ml.version) == ("churn_model", "2")  # the registered version it evaluated
    assert dict(v2.ml.splits) == {"https://data.example.com/backtest.csv": "test"}  # its context
    assert dict(v2.ml.metrics) == {"backtest_auc": "0.89"}  # the run's, none being the model's own


@pytest.fixture(scope="module")
def harvested(tracking) -> dict:
    """A Snowflake query-log harvest (snowflake://acme: SHOP.RAW.ORDERS, ...) and the tracking database's
    harvest, in one store."""
    store = tracking["root"] / "lineage.db"
    harvest_log(write_log(tracking["root"] / "history.csv"), store)
    return {"store": store, "first": harvest_cli(source_url(tracking["db"]), store)}


def model_json(store_url: str, name: str) -> dict:
    """The `model` command's JSON answer for the harvested store."""
    proc = subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "model", name, "--store", store_url,
                           "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_harvest_writes_training_operations_into_the_store_and_a_rerun_adds_nothing(tracking, harvested):
    store, first = harvested["store"], harvested["first"]
    assert (first["entries"], first["operations"], first["failed_executions"]) == (5, 5, 1)  # 3 trainings, 2 evaluations
    ops = operations(store)
    assert sorted(ops) == ["SHOP.MART.DAILY", "SHOP.MART.RANKED", "SHOP.RAW.ORDERS", "churn/clf", "churn_model"]
    assert sorted(o["user"] for o in ops["churn_model"]) == ["ann", "bob"]
    assert {o["type"] for m in ("churn/clf", "churn_model") for o in ops[m]} == {"train"}
    assert {o["namespace"] for m in ("churn/clf", "churn_model") for o in ops[m]} == {"mlflow://default"}
    v1 = next(o for o in ops["churn_model"] if o["user"] == "ann")
    assert v1["inputs"] == ["https://data.example.com/holdout.csv", "s3://lake/churn/train.parquet",
                            "snowflake://acme/SHOP.RAW.ORDERS"]
    assert v1["first"] < v1["last"] and v1["executions"] == 1
    with sqlite3.connect(store) as conn:
        kept = dict(conn.execute("SELECT key, lineage FROM statement_cache"))
        everything = "\n".join(str(row) for table in ("operations", "datasets", "statement_cache", "sources")
                               for row in conn.execute(f"SELECT * FROM {table}"))
    model = model_json(f"sqlite:///{store}", "churn_model")
    assert model["hyperparameters"] == {"learning_rate": "0.05"}  # the latest version's params, no secret
    assert [v["version"] for v in model["versions"]] == ["1", "2"] and model["metrics"]
    assert {(t["namespace"], t["dataset"], t["split"]) for t in model["training"] if t["depth"] == 1} == {
        ("s3://lake", "churn/train.parquet", "train"), ("snowflake://acme", "SHOP.RAW.ORDERS", "evaluation"),
        ("https://data.example.com", "holdout.csv", "test"), ("file", "/data/valid.csv", "validation"),
        ("https://data.example.com", "backtest.csv", "test")}  # the last from the evaluation run of v2
    assert model["metrics"]["backtest_auc"] == "0.89" and model["metrics"]["auc"] == "0.93"
    clf = model_json(f"sqlite:///{store}", "churn/clf")
    assert [v["run"] for v in clf["versions"]] == [tracking["runs"]["clf"]]  # its own check made no second one
    assert ("s3://lake", "churn/holdout.parquet", "evaluation", 1) in {
        (t["namespace"], t["dataset"], t["split"], t["depth"]) for t in clf["training"]}
    assert clf["metrics"] == {"f1": "0.7", "self_check": "1.0", "eval_accuracy": "0.88"}
    assert ("s3://bucket", "orders", 2) in {(t["namespace"], t["dataset"], t["depth"]) for t in model["training"]}
    assert SECRET not in everything
    again = harvest(source_url(tracking["db"]), store)
    assert (again["entries"], again["operations"]) == (0, 0)  # runs ended before the cursor are not even read
    assert operations(store) == ops and evaluations(store) == [
        ["https://data.example.com/backtest.csv", "model:mlflow://default/churn_model"],
        ["model:mlflow://default/churn/clf", "s3://lake/churn/holdout.parquet"]]


def test_a_model_trained_on_a_warehouse_table_joins_the_warehouse_graph(harvested):
    store = harvested["store"]
    with sqlite3.connect(store) as conn:
        orders = conn.execute("SELECT count(*) FROM datasets WHERE namespace = 'snowflake://acme' "
                              "AND name = 'SHOP.RAW.ORDERS'").fetchone()
    assert orders == (1,)  # one node: the log's table is the MLflow dataset
    down = json.loads(cli("downstream", "snowflake://acme/SHOP.RAW.ORDERS", "--store", f"sqlite:///{store}",
                          "--format", "json").stdout)
    assert ("mlflow://default", "churn_model") in {(n.get("namespace"), n["name"]) for n in down["nodes"]}
    up = json.loads(cli("upstream", "mlflow://default/churn_model", "--store", f"sqlite:///{store}",
                        "--format", "json").stdout)
    assert {("snowflake://acme", "SHOP.RAW.ORDERS"), ("s3://bucket", "orders")} <= {
        (n.get("namespace"), n["name"]) for n in up["nodes"]}  # the COPY that loaded the table, two steps up


def test_without_a_warehouse_tables_stay_in_the_sources_namespace_with_a_note(tracking):
    source = open_source(source_url(tracking["db"], None), None)
    inputs = {d.name for e in source.read() for r in decode(e.lineage) for d in r.inputs}
    assert {"raw.orders", "ANALYTICS.RAW.EVENTS"} <= inputs  # plain names: the harvest's namespace takes them
    assert any("?warehouse=" in note and "raw.orders" in note for note in source.stats.notes)


def test_incremental_runs_pick_up_new_runs_finished_runs_and_later_registrations(tracking, tmp_path):
    db = tmp_path / "mlflow.db"
    shutil.copy(tracking["db"], db)
    store = tmp_path / "lineage.db"
    assert harvest(source_url(db), store)["operations"] == 5
    mlflow.set_tracking_uri(f"sqlite:///{db}")
    try:
        client = mlflow.MlflowClient()
        client.set_terminated(tracking["runs"]["running"])  # finished since: picked up now
        client.create_registered_model("churn_clf")  # the run's model, harvested already, registered since
        client.create_model_version("churn_clf", f"models:/{_logged(client, 'clf')}", run_id=tracking["runs"]["clf"])
        train("v3", "dan", {"learning_rate": "0.01"}, [("auc", 0.95)], [("s3://lake/churn/train.parquet", "training")],
              registered="churn_model")
        evaluate("eval_v3", "eve", _version_model(client, "churn_model", "3"), [("auc", 0.94)],
                 [("s3://lake/churn/holdout.parquet", "eval")])
    finally:
        mlflow.set_tracking_uri(f"sqlite:///{tracking['db']}")
    second = harvest(source_url(db), store)
    assert (second["entries"], second["operations"]) == (4, 4)
    evals = evaluations(store)
    assert len(evals) == 3 and ["model:mlflow://default/churn_model", "s3://lake/churn/holdout.parquet"] in evals
    ops = operations(store)
    assert sorted(o["user"] for o in ops["churn_model"]) == ["ann", "bob", "dan"]
    assert [o["user"] for o in ops["fraud_model"]] == ["cy"]
    assert [o["inputs"] for o in ops["churn_clf"]] == [["snowflake://acme/ANALYTICS.RAW.EVENTS"]]
    assert harvest(source_url(db), store)["operations"] == 0
    assert operations(store) == ops and evaluations(store) == evals


def _logged(client, name: str) -> str:
    experiment = client.get_experiment_by_name("churn").experiment_id
    return next(m.model_id for m in client.search_logged_models([experiment]) if m.name == name)


def _version_model(client, name: str, version: str) -> str:
    """The logged model a version was registered from (a local store keeps it only in the source)."""
    found = client.get_model_version(name, version)
    return found.model_id or found.source.removeprefix("models:/")


def test_a_password_in_the_url_is_never_printed_and_the_missing_extra_is_one_line(tmp_path):
    url = f"mlflow+postgresql://ann:{SECRET}@127.0.0.1:1/mlflow"
    done = cli("harvest", "--source", url, "--store", f"sqlite:///{tmp_path}/l.db", check=False)
    assert done.returncode == 1 and SECRET not in done.stdout + done.stderr
    assert "127.0.0.1" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    started = time.monotonic()  # a server that does not answer: MLflow's own retries would take four minutes
    done = cli("harvest", "--source", f"mlflow+http://ann:{SECRET}@127.0.0.1:1", "--store", f"sqlite:///{tmp_path}/l.db",
               check=False)
    assert done.returncode == 1 and time.monotonic() - started < 60
    assert SECRET not in done.stdout + done.stderr and len(done.stderr.strip().splitlines()) == 1
    hide = tmp_path / "nomlflow"
    hide.mkdir()
    (hide / "mlflow.py").write_text("raise ImportError('no mlflow here', name='mlflow')\n")
    done = cli("harvest", "--source", f"mlflow://127.0.0.1:1?token={SECRET}", "--store", f"sqlite:///{tmp_path}/l.db",
               env={"PYTHONPATH": str(hide)}, check=False)
    assert done.returncode == 2 and "sqllineage-harvester[mlflow]" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and SECRET not in done.stderr
    done = cli("harvest", "--source", f"mlflow+sqlite:///{tmp_path}/none.db", "--store", f"sqlite:///{tmp_path}/l.db",
               check=False)
    assert done.returncode == 2 and "no such MLflow tracking database" in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_tracking_database_in_postgresql_is_read_with_the_harvesters_own_driver(pg_cluster, tmp_path):
    """mlflow+postgresql:// (MLflow itself would want psycopg2; the harvester brings psycopg 3)."""
    from mlflow.entities import Dataset, DatasetInput, InputTag

    url = pg_cluster.create_database("mlflow_tracking")
    client = mlflow.MlflowClient(url.replace("postgresql://", "postgresql+psycopg://", 1))
    experiment = client.create_experiment("fraud", artifact_location=(tmp_path / "artifacts").as_uri())
    run = client.create_run(experiment, tags={"mlflow.user": "eve"})
    client.log_param(run.info.run_id, "n_estimators", "200")
    client.log_metric(run.info.run_id, "precision", 0.88)
    source = json.dumps({"table_name": "app.public.payments"})
    client.log_inputs(run.info.run_id, [DatasetInput(Dataset("payments", "d1", "spark", source),
                                                     [InputTag("mlflow.data.context", "training")])])
    client.create_registered_model("fraud_model")
    client.create_model_version("fraud_model", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_terminated(run.info.run_id)
    store = tmp_path / "lineage.db"
    found = harvest_cli(f"mlflow+{url}?warehouse=postgres://db:5432", store)
    assert (found["entries"], found["operations"]) == (1, 1)
    ops = operations(store)
    assert [(o["user"], o["inputs"]) for o in ops["fraud_model"]] == [("eve", ["postgres://db:5432/app.public.payments"])]
    empty = pg_cluster.create_database("not_mlflow")
    done = cli("harvest", "--source", f"mlflow+{empty}", "--store", f"sqlite:///{store}", check=False)
    assert done.returncode == 1 and "not an MLflow tracking database" in done.stderr
    import sqlalchemy

    engine = sqlalchemy.create_engine(empty.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        assert sqlalchemy.inspect(conn).get_table_names() == []  # MLflow was not let create its tables
    engine.dispose()


# -- a tracking server --------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tracking):
    """``mlflow server`` on a copy of the tracking database."""
    db = tracking["root"] / "served.db"
    shutil.copy(tracking["db"], db)
    port = _free_port()
    log = (tracking["root"] / "server.log").open("w")
    command = [str(Path(sys.executable).parent / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{db}",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    import urllib.request

    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                text = (tracking["root"] / "server.log").read_text()[-600:]
                server_missing("an MLflow tracking server is", f"mlflow server did not start: {text}")
            time.sleep(0.5)
    yield port
    os.killpg(process.pid, 15)
    process.wait(timeout=30)
    log.close()


def test_a_tracking_server_gives_what_its_database_gives_and_its_password_is_never_kept(harvested, server, tmp_path):
    from_db, from_server = harvested["store"], tmp_path / "server.db"
    url = f"mlflow+http://ann:{SECRET}@127.0.0.1:{server}?warehouse={WAREHOUSE}"
    done = cli("harvest", "--source", url, "--store", f"sqlite:///{from_server}", "--workers", "1")
    assert SECRET not in done.stdout + done.stderr and "5 operations written" in done.stderr
    served = operations(from_server)
    assert {o["namespace"] for os_ in served.values() for o in os_} == {f"mlflow://127.0.0.1:{server}"}
    strip = lambda ops: {m: sorted((o["user"], o["inputs"], o["first"], o["last"]) for o in os_)  # noqa: E731
                         for m, os_ in ops.items() if not m.startswith("SHOP.")}
    assert strip(served) == strip(operations(from_db))
    with sqlite3.connect(from_server) as conn:
        everything = "\n".join(str(row) for table in ("sources", "operations", "statement_cache", "datasets")
                               for row in conn.execute(f"SELECT * FROM {table}"))
    assert SECRET not in everything and "127.0.0.1" in everything
    served_clf = model_json(f"sqlite:///{from_server}", "churn/clf")
    assert served_clf["metrics"]["eval_accuracy"] == "0.88" and {
        (t["dataset"], t["split"]) for t in served_clf["training"]} >= {("churn/holdout.parquet", "evaluation")}
    again = harvest(f"mlflow://127.0.0.1:{server}?warehouse={WAREHOUSE}", from_server)  # mlflow:// is the same server
    assert (again["entries"], again["operations"]) == (0, 0)
