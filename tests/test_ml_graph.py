"""The ML part of the lineage graph, harvested from the warehouses' own ML history exports
(fixtures/logs/*/ml_*: raw data -> features -> model -> prediction table), answered on SQLite,
PostgreSQL and the Bolt server: which datasets contributed to a model (through any number of
steps, with split), what a change to a dataset affects (models and predictions included, with
levels), which source data a prediction traces back to. The README's Cypher runs as written on the
Bolt store, the `model` / `upstream` / `impact` commands give the same answers, a version-3 store
is upgraded in place, and harvesting again changes nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from sqllineage_harvester import queries
from sqllineage_harvester.cli import main
from sqllineage_harvester.dialects import get_dialect
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.ml_query import NotAModelError, model
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

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
    impact = json.loads(run("impact", RAW + ".monthly_spend", "--format", "json").output)
    assert {(n["name"], n["depth"]) for n in impact["nodes"]} >= {(MODEL + ".monthly_spend", 2),
                                                                  (PREDICTIONS + ".predicted_churned", 3)}
    typo = run("model", "churn_modle")
    assert typo.exit_code == 2 and "did you mean" in typo.output and MODEL in typo.output
    assert run("model", RAW).exit_code == 2


def test_a_version_3_store_is_upgraded_with_its_models(tmp_path):
    path = tmp_path / "v3.db"
    store = open_store(f"sqlite:///{path}")
    harvest(open_source(LOGS / "bigquery/ml_jobs.jsonl", "bigquery"), store,
            Options(dialect="bigquery", namespace="bigquery://test"))
    store.close()
    con = sqlite3.connect(path)  # as version 3 left it: no model tables, evaluations only read, settings cached
    for table in ("model_versions", "hyperparameters", "metrics", "used_in_training", "predictions"):
        con.execute(f"DROP TABLE {table}")
    for table in ("input_to", "produces", "performed", "hosted"):
        con.execute(f"DELETE FROM {table} WHERE operation_id IN (SELECT id FROM operations WHERE type = 'evaluate')")
    con.execute("DELETE FROM operations WHERE type = 'evaluate'")
    settings = {"input_label_cols": '["churned"]', "l2_reg": "0.1", "max_iterations": "20", "model_type": "logistic_reg"}
    con.execute("INSERT INTO statement_cache VALUES ('hyperparameters:bigquery://test', ?)",
                (json.dumps({MODEL: settings}),))
    con.execute("UPDATE schema_version SET version = 3")
    con.commit()
    con.close()
    store = open_store(f"sqlite:///{path}")
    try:
        a = model(store, MODEL)
        assert {(c.dataset, c.split, c.depth) for c in a.training} == {(FEATURES, "train", 1), (RAW, "train", 2)}
        assert a.hyperparameters == settings and a.predictions == (PREDICTIONS,)
        assert a.versions[0]["architecture"] == "logistic_reg" and a.versions[0]["users"] == ["mlops@shop.example.com"]
        assert store.cache_get(["hyperparameters:bigquery://test"]) == {}
    finally:
        store.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT version FROM schema_version").fetchall() == [(4,)]
    con.close()


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
