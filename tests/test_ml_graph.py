"""The ML part of the lineage graph, harvested from the warehouses' own ML history exports
(fixtures/logs/*/ml_*: raw data -> features -> model -> prediction table), answered on SQLite,
PostgreSQL and the Bolt server: which datasets contributed to a model (through any number of
steps, with split), what a change to a dataset affects (models and predictions included, with
levels), which source data a prediction traces back to. The README's Cypher runs as written on the
Bolt store, the `model` / `upstream` / `impact` commands give the same answers, a version-3 store
is upgraded in place, and harvesting again changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sqllineage_harvester import queries
from sqllineage_harvester.cli import main
from sqllineage_harvester.dialects import get_dialect
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.ml_query import NotAModelError, model
from sqllineage_harvester.model import DatasetRef, ModelFacts, Operation
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import Batch, StoreUnusableError, open_store

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "fixtures" / "logs"
EXPORTS = (("bigquery", "bigquery/ml_jobs.jsonl"), ("redshift", "redshift/ml_query_history.csv"),
           ("snowflake", "snowflake/ml_query_history.csv"))
MODEL, FEATURES, RAW = "shop-prod.ml.churn_model", "shop-prod.ml.customer_features", "shop-prod.raw.customers"
HOLDOUT, PREDICTIONS, SCORED = "shop-prod.ml.holdout", "shop-prod.marts.churn_predictions", "shop-prod.raw.new_customers"
# (model, training data as `model` gives it, architecture, hyperparameters, prediction tables)
MODELS = [
    (MODEL, {(FEATURES, "train", 1), (HOLDOUT, "evaluation", 1), (RAW, "train", 2)}, "logistic_reg",
     {"model_type": "logistic_reg", "input_label_cols": '["churned"]', "max_iterations": "20", "l2_reg": "0.1"},
     (PREDICTIONS,)),
    ("dev.ml.customer_churn", {("dev.ml.customer_features", "train", 1), ("dev.raw.customers", "train", 2)}, None,
     {"function": "predict_churn", "max_runtime": "1800", "s3_bucket": "shop-ml", "target": "churned"},
     ("dev.marts.churn_predictions",)),
    ("ANALYTICS.ML.CHURN_CLASSIFIER", {("ANALYTICS.ML.CUSTOMER_FEATURES", "train", 1),
                                       ("ANALYTICS.RAW.CUSTOMERS", "train", 2)}, "classification",
     {"model_type": "classification", "target": "CHURNED"}, ("ANALYTICS.MARTS.CHURN_PREDICTIONS",)),
]


def harvest_all(url: str, batch_size: int = 1) -> None:
    store = open_store(url)
    try:
        for dialect, export in EXPORTS:
            report = harvest(open_source(LOGS / export, dialect), store,
                             Options(dialect=get_dialect(dialect).sqlglot, namespace=f"{dialect}://test",
                                     batch_size=batch_size))
            assert report.failed == 0
    finally:
        store.close()


def depths(graph) -> dict[str, int]:
    return {n.node.name: n.depth for n in graph.nodes}


def answers(url: str) -> dict:
    """Everything the three questions give, for comparing two stores."""
    store = open_store(url, read_only=True)
    try:
        out = {}
        for name, *_ in MODELS:
            a = model(store, name)
            out[name] = (a.versions, a.training, a.hyperparameters, a.metrics, a.predictions, a.users)
        out["impact"] = depths(queries.impact(store, RAW + ".monthly_spend"))
        out["upstream"] = depths(queries.upstream(store, PREDICTIONS))
        return out
    finally:
        store.close()


def test_the_three_questions_on_every_store(store_url):
    harvest_all(store_url)
    store = open_store(store_url, read_only=True)
    try:
        # 1. which datasets contributed to a model, through any number of steps, with their split
        for name, training, architecture, settings, made in MODELS:
            a = model(store, name)
            assert {(c.dataset, c.split, c.depth) for c in a.training} == training, name
            assert a.hyperparameters == settings
            assert a.predictions == made
            assert len(a.versions) == 1 and a.versions[0]["architecture"] == architecture
            assert a.versions[0]["executions"] == 3 and a.users and a.first_seen < a.last_seen
        # 2. what a change to a dataset affects: the model trained on it and the predictions made with it
        assert depths(queries.impact(store, RAW)) == {RAW: 0, FEATURES: 1, MODEL: 2, PREDICTIONS: 3}
        columns = depths(queries.impact(store, RAW + ".monthly_spend"))
        assert columns[MODEL + ".monthly_spend"] == 2 and columns[PREDICTIONS + ".predicted_churned"] == 3
        assert depths(queries.impact(store, "dev.raw.customers.age"))["dev.marts.churn_predictions.will_churn"] == 3
        # 3. which source data a prediction traces back to: the training data's sources, through the model
        assert depths(queries.upstream(store, PREDICTIONS)) == {PREDICTIONS: 0, MODEL: 1, SCORED: 1, FEATURES: 2,
                                                                RAW: 3}
        assert depths(queries.upstream(store, PREDICTIONS + ".predicted_churned"))[RAW + ".monthly_spend"] == 3
        assert MODEL in depths(queries.path(store, RAW, PREDICTIONS))
        with pytest.raises(NotAModelError):
            model(store, RAW)
        # stats counts the models and the prediction datasets, in every store alike
        counts = dict(queries.stats(store).counts)
        assert (counts["models"], counts["predictions"]) == (len(MODELS), len({p for *_, made in MODELS for p in made}))
    finally:
        store.close()


def test_harvesting_again_and_in_other_batches_gives_the_same_store(tmp_path, store_url):
    harvest_all(store_url)
    once = answers(store_url)
    harvest_all(store_url, batch_size=7)  # the same logs again: every batch known or every operation known
    assert answers(store_url) == once
    other = f"sqlite:///{tmp_path}/other.db"
    harvest_all(other, batch_size=20_000)
    assert answers(other) == once


def test_the_sqlite_store_is_the_same_row_for_row_whatever_the_batch_size(tmp_path):
    from storedump import differences, dump

    dumps = []
    for size in (1, 20_000):
        harvest_all(f"sqlite:///{tmp_path}/b{size}.db", size)
        dumps.append(dump(tmp_path / f"b{size}.db"))
    assert dumps[0]["used_in_training"] and dumps[0]["predictions"] and dumps[0]["model_versions"]
    assert dumps[0] == dumps[1], "\n".join(differences(*dumps))


def test_the_commands_answer_the_three_questions(tmp_path):
    url = f"sqlite:///{tmp_path}/ml.db"
    harvest_all(url)
    run = lambda *args: CliRunner().invoke(main, [*args, "--store", url])  # noqa: E731
    got = run("model", "ml.churn_model", "--format", "json")
    assert got.exit_code == 0, got.output
    data = json.loads(got.output)
    assert {"model", "versions", "training", "hyperparameters", "metrics", "predictions"} <= set(data)
    assert data["model"] == MODEL and data["predictions"] == [PREDICTIONS]
    assert {"dataset": RAW, "split": "train", "depth": 2} in [
        {k: t[k] for k in ("dataset", "split", "depth")} for t in data["training"]]
    assert data["hyperparameters"]["l2_reg"] == "0.1" and data["versions"][0]["users"] == ["mlops@shop.example.com"]
    table = run("model", MODEL)
    assert table.exit_code == 0 and "evaluation" in table.output and "l2_reg = 0.1" in table.output
    up = json.loads(run("upstream", PREDICTIONS, "--format", "json").output)
    assert {(n["name"], n["depth"]) for n in up["nodes"]} >= {(MODEL, 1), (RAW, 3)}
    models = json.loads(run("impact", RAW, "--format", "json").output)
    assert [(n["name"], n["depth"]) for n in models["nodes"] if n["type"] == "model"] == [(MODEL, 2)]
    assert "train" in {o["type"] for o in models["operations"]}
    impact = json.loads(run("impact", RAW + ".monthly_spend", "--format", "json").output)
    assert {(n["name"], n["depth"]) for n in impact["nodes"]} >= {(MODEL + ".monthly_spend", 2),
                                                                  (PREDICTIONS + ".predicted_churned", 3)}
    route = run("path", RAW + ".monthly_spend", PREDICTIONS + ".predicted_churned")
    assert route.exit_code == 0 and "ml.churn_model.monthly_spend" in route.output and "TRAIN churn_model" in route.output
    typo = run("model", "churn_modle")
    assert typo.exit_code == 2 and "did you mean" in typo.output and MODEL in typo.output
    assert run("model", RAW).exit_code == 2


SETTINGS = {"input_label_cols": '["churned"]', "l2_reg": "0.1", "max_iterations": "20", "model_type": "logistic_reg"}
ML_TABLES = ("model_versions", "hyperparameters", "metrics", "used_in_training", "predictions")


def as_version_3(url: str) -> None:
    """The store as version 3 left it: no model tables or nodes, evaluations only read, each
    model's settings in the statement cache under hyperparameters:NS."""
    cached = json.dumps({MODEL: SETTINGS})
    if url.startswith("bolt"):
        from sqllineage_harvester.stores.neo4j import Neo4jStore

        store = Neo4jStore(url)
        try:
            with store.driver.session(database=store.database) as session:
                for statement in ("MATCH (n) WHERE n:Hyperparameters OR n:Metrics DETACH DELETE n",
                                  "MATCH ()-[e:USED_IN_TRAINING|GENERATED_BY]->() DELETE e",
                                  "MATCH (o:Operation {type: 'evaluate'}) DETACH DELETE o",
                                  "MATCH (v:SchemaVersion) SET v.version = 3"):
                    session.run(statement).consume()
                session.run("CREATE (:StatementCache {id: 'hyperparameters:bigquery://test', lineage: $l})",
                            l=cached).consume()
        finally:
            store.close()
        return
    from sqlalchemy import create_engine, text

    from sqllineage_harvester.stores.sql import engine_url

    engine = create_engine(engine_url(url))
    with engine.begin() as con:
        for table in ML_TABLES:
            con.execute(text(f"DROP TABLE {table}"))
        for table in ("input_to", "produces", "performed", "hosted"):
            con.execute(text(f"DELETE FROM {table} WHERE operation_id IN "
                             f"(SELECT id FROM operations WHERE type = 'evaluate')"))
        con.execute(text("DELETE FROM operations WHERE type = 'evaluate'"))
        con.execute(text("INSERT INTO statement_cache VALUES ('hyperparameters:bigquery://test', :l)"), {"l": cached})
        con.execute(text("UPDATE schema_version SET version = 3"))
    engine.dispose()


def test_a_version_3_store_is_upgraded_with_its_models(store_url):
    store = open_store(store_url)
    harvest(open_source(LOGS / "bigquery/ml_jobs.jsonl", "bigquery"), store,
            Options(dialect="bigquery", namespace="bigquery://test"))
    store.close()
    as_version_3(store_url)
    if not store_url.startswith("bolt"):  # a reader never upgrades an SQL store; a harvester does
        with pytest.raises(StoreUnusableError, match="older"):
            open_store(store_url, read_only=True)
    store = open_store(store_url)
    try:
        a = model(store, MODEL)
        assert {(c.dataset, c.split, c.depth) for c in a.training} == {(FEATURES, "train", 1), (RAW, "train", 2)}
        assert a.hyperparameters == SETTINGS and a.predictions == (PREDICTIONS,)
        assert a.versions[0]["architecture"] == "logistic_reg" and a.versions[0]["users"] == ["mlops@shop.example.com"]
        assert store.cache_get(["hyperparameters:bigquery://test"]) == {}
        # harvesting the log again after the upgrade adds its evaluations and nothing twice
        harvest(open_source(LOGS / "bigquery/ml_jobs.jsonl", "bigquery"), store,
                Options(dialect="bigquery", namespace="bigquery://test-again"))
        assert len(model(store, MODEL).versions) == 1
    finally:
        store.close()


def run_of(run: str, version: str, when: str, lr: str, auc: str) -> Operation:
    """A training run as the MLflow source and the Python API hand it over: a registered version,
    its status, metrics and the split each dataset served in."""
    return Operation(
        id=f"run-{run}", type="train", fingerprint=f"mlflow-{run}", sql=None,
        inputs=(DatasetRef("lake.churn_train"), DatasetRef("lake.churn_valid")),
        outputs=(DatasetRef("registry.churn", "model"),), columns=(), indirect=(), namespace="mlflow://test",
        user="ann", system=None, first_seen=when, last_seen=when, settings=(("lr", lr),),
        ml=ModelFacts(model="registry.churn", version=version, architecture="sklearn", status="READY",
                      splits=(("lake.churn_train", "train"), ("lake.churn_valid", "validation")),
                      metrics=(("auc", auc),), run=run))


def test_registered_versions_metrics_and_splits_as_the_mlflow_source_gives_them(store):
    late, early = run_of("b", "4", "2024-05-02T00:00:00.000000Z", "0.05", "0.93"), \
        run_of("a", "3", "2024-05-01T00:00:00.000000Z", "0.1", "0.91")
    store.write_batch(Batch(operations=(late,)))
    store.write_batch(Batch(operations=(early, late)))  # the later run seen again: nothing twice
    a = model(store, "registry.churn")
    assert [(v["version"], v["status"], v["run"], v["metrics"], v["hyperparameters"]) for v in a.versions] == [
        ("3", "READY", "a", {"auc": "0.91"}, {"lr": "0.1"}), ("4", "READY", "b", {"auc": "0.93"}, {"lr": "0.05"})]
    assert a.hyperparameters == {"lr": "0.05"} and a.metrics == {"auc": "0.93"} and a.users == ("ann",)
    assert {(c.dataset, c.split, c.depth) for c in a.training} == {("lake.churn_train", "train", 1),
                                                                    ("lake.churn_valid", "validation", 1)}
    if store.url.startswith("bolt"):
        with store.driver.session(database=store.database) as session:
            assert session.run("MATCH (m:Model {name: 'registry.churn'}) RETURN m.version, m.versions, "
                               "m.architecture, m.status").values() == [["4", ["3", "4"], "sklearn", "READY"]]


def cypher_block() -> list[str]:
    """The README's ML Cypher, statement by statement, comments left out."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### ML lineage", 1)[1].split("```cypher\n", 1)[1].split("```", 1)[0]
    return ["\n".join(line for line in s.splitlines() if not line.startswith("//")).strip()
            for s in block.split(";") if s.strip()]


def test_the_readme_cypher_answers_the_three_questions_on_the_bolt_store(bolt_server):
    from sqllineage_harvester.stores.neo4j import Neo4jStore

    url = bolt_server.create_database()
    harvest_all(url)
    statements = cypher_block()
    assert len(statements) == 3
    store = Neo4jStore(url)
    try:
        with store.driver.session(database=store.database) as session:
            got = [[tuple(r.values()) for r in session.run(s)] for s in statements]
            labels = {tuple(sorted(r[0])) for r in session.run(
                "MATCH (d:Dataset) WHERE d.name IN [$m, $p] RETURN labels(d)", m=MODEL, p=PREDICTIONS)}
            configured = session.run("MATCH (h:Hyperparameters)-[:CONFIGURED_WITH]->(m:Model {name: $m}) "
                                     "RETURN h.l2_reg, m.architecture", m=MODEL).values()
    finally:
        store.close()
    assert labels == {("Dataset", "Model"), ("Dataset", "Prediction")}
    assert configured == [["0.1", "logistic_reg"]]
    assert set(got[0]) == {(FEATURES, "train", 1), (HOLDOUT, "evaluation", 1), (RAW, "train", 2)}
    assert set(got[1]) >= {(FEATURES, 1, False, False), (MODEL, 2, True, False), (PREDICTIONS, 3, False, True)}
    assert set(got[2]) == {(MODEL, RAW)}
