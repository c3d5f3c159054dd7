"""ML jobs in the warehouses' own history exports (fixtures/logs/*/ml_*, made by
generate_warehouses.py): features built from raw data, a model trained on them, evaluated, and a
prediction table scored with it, each statement in its own session. Harvested one row a batch,
``impact`` of a training column reaches the prediction table through the model, ``upstream`` of
the prediction table reaches the training data's sources, the model keeps its settings with no
credential, and a Redshift prediction function is known from a CREATE MODEL of an earlier run."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from sqllineage_harvester import queries
from sqllineage_harvester.dialects import get_dialect
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.model import DatasetRef
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import open_store

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"

# (dialect, export, training column, its model column, prediction table, the prediction column
#  it reaches, the model, the training data's source, the model's settings)
CASES = [
    ("bigquery", "bigquery/ml_jobs.jsonl", "shop-prod.raw.customers.monthly_spend",
     "shop-prod.ml.churn_model.monthly_spend", "shop-prod.marts.churn_predictions",
     "shop-prod.marts.churn_predictions.predicted_churned", "shop-prod.ml.churn_model", "shop-prod.raw.customers",
     {"model_type": "logistic_reg", "input_label_cols": '["churned"]', "max_iterations": "20", "l2_reg": "0.1"}),
    ("redshift", "redshift/ml_query_history.csv", "dev.raw.customers.age", "dev.ml.customer_churn.age",
     "dev.marts.churn_predictions", "dev.marts.churn_predictions.will_churn", "dev.ml.customer_churn", "dev.raw.customers",
     {"function": "predict_churn", "max_runtime": "1800", "s3_bucket": "shop-ml", "target": "churned"}),
    ("snowflake", "snowflake/ml_query_history.csv", "ANALYTICS.RAW.CUSTOMERS.MONTHLY_SPEND",
     "ANALYTICS.ML.CHURN_CLASSIFIER.MONTHLY_SPEND", "ANALYTICS.MARTS.CHURN_PREDICTIONS",
     "ANALYTICS.MARTS.CHURN_PREDICTIONS.PREDICTION", "ANALYTICS.ML.CHURN_CLASSIFIER", "ANALYTICS.RAW.CUSTOMERS",
     {"model_type": "classification", "target": "CHURNED"}),
]
# What the exports hold that must never reach the store: the IAM role, the KMS key.
SECRETS = ("arn:aws", "123456789012", "RedshiftML", "kms-1234")


def harvested(path: Path, dialect: str, db: Path):
    store = open_store(f"sqlite:///{db}")
    report = harvest(open_source(path, dialect), store,
                     Options(dialect=get_dialect(dialect).sqlglot, namespace=f"{dialect}://test", batch_size=1))
    return store, report


def depths(graph) -> dict[str, int]:
    return {n.node.name: n.depth for n in graph.nodes}


@pytest.mark.parametrize("dialect, export, feature, model_column, predictions, predicted, model, source, settings",
                         CASES, ids=[c[0] for c in CASES])
def test_a_training_column_reaches_the_predictions_through_the_model(
        tmp_path, dialect, export, feature, model_column, predictions, predicted, model, source, settings):
    store, report = harvested(LOGS / export, dialect, tmp_path / "ml.db")
    assert report.failed == 0
    impact = depths(queries.impact(store, feature))
    assert impact[model_column] < impact[predicted], impact
    up = depths(queries.upstream(store, predictions))
    assert up[model] < up[source], up
    con = sqlite3.connect(tmp_path / "ml.db")
    try:
        assert con.execute("SELECT type FROM datasets WHERE name = ?", (model,)).fetchone() == ("model",)
        kinds = {k for (k,) in con.execute(
            "SELECT o.type FROM operations o JOIN produces p ON p.operation_id = o.id "
            "JOIN datasets d ON d.id = p.dataset_id WHERE d.name = ?", (model,))}
        assert kinds == {"train"}
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert not [s for s in SECRETS if s.lower() in dump.lower()]
    from sqllineage_harvester.ml_query import model as model_answer

    assert model_answer(store, model).hyperparameters == settings  # kept with the training, not in the cache


def test_a_prediction_function_is_known_from_a_create_model_harvested_in_an_earlier_run(tmp_path):
    with open(LOGS / "redshift" / "ml_query_history.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    text = header.index("query_text")
    cut = next(i for i, row in enumerate(body) if "predict_churn(" in row[text])
    for name, part in (("a", body[:cut]), ("b", body[cut:])):
        (tmp_path / name).mkdir()
        with open(tmp_path / name / "history.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *part])
    db = tmp_path / "ml.db"
    harvested(tmp_path / "a" / "history.csv", "redshift", db)
    store, _ = harvested(tmp_path / "b" / "history.csv", "redshift", db)
    assert "dev.ml.customer_churn" in depths(queries.upstream(store, "dev.marts.churn_predictions"))
    assert "dev.marts.churn_predictions.will_churn" in depths(queries.impact(store, "dev.ml.customer_churn.plan"))


def test_a_learned_function_called_in_a_text_of_several_statements_is_a_warning_not_a_guess():
    from sqllineage_harvester.extract import extract
    from sqllineage_harvester.learn import Learning

    learning = Learning("redshift://test", {}, None)
    trained = extract("CREATE MODEL ml.churn FROM (SELECT age, plan, churned FROM public.customers) "
                      "TARGET churned FUNCTION predict_churn IAM_ROLE default SETTINGS (S3_BUCKET 'b')", "redshift")
    learning.learn(None, "k1", trained, "redshift")  # type: ignore[arg-type]  # a train teaches no DDL
    script = "INSERT INTO s.a SELECT id FROM public.t; INSERT INTO s.b (id, p) SELECT id, predict_churn(age, plan) FROM public.u"
    several = [learning.carry(r, script, alone=False) for r in extract(script, "redshift")]
    assert all(DatasetRef("ml.churn", "model") not in r.inputs for r in several)
    assert all(any("prediction function" in w for w in r.warnings) for r in several)
    alone = "INSERT INTO s.b (id, p) SELECT id, predict_churn(age, plan) FROM public.u"
    (one,) = [learning.carry(r, alone) for r in extract(alone, "redshift")]
    assert DatasetRef("ml.churn", "model") in one.inputs
    made = {str(c.target): {str(s) for s in c.sources} for c in one.columns}
    assert made["s.b.p"] >= {"ml.churn.age", "ml.churn.plan", "ml.churn.churned", "public.u.age"}
    assert made["s.b.id"] == {"public.u.id"}


@pytest.mark.parametrize("name, value, kept", [
    ("model_type", "'logistic_reg'", ("model_type", "logistic_reg")),
    ("input_label_cols", "['churned', 'x']", ("input_label_cols", '["churned", "x"]')),
    ("max_runtime", "1800", ("max_runtime", "1800")),
    ("IAM_ROLE", "'arn:aws:iam::1:role/r'", None),
    ("kms_key_id", "'k'", None),
    ("api_token", "'t'", None),
    ("password", "'p'", None),
    ("secret_name", "'s'", None),
    ("description", "'Owner: jane.doe@example.com'", None),  # free text
    ("learn_rate", "0.1", ("learn_rate", "0.1")),  # a word of it is no credential's
    ("hparam_tuning_objectives", "['roc_auc']", ("hparam_tuning_objectives", '["roc_auc"]')),
    ("role_arn", "'arn:aws:iam::1:role/r'", None),
    ("aws_secret_access_key", "'x'", None),
])
def test_settings_keep_numbers_names_and_lists_never_credentials_or_free_text(name, value, kept):
    from sqllineage_harvester.extract.ml import setting

    assert setting(name, value) == kept


@pytest.mark.parametrize("dialect, export", [(c[0], c[1]) for c in CASES], ids=[c[0] for c in CASES])
def test_the_ml_store_is_the_same_whatever_the_batch_size(tmp_path, dialect, export):
    from storedump import differences, dump

    stores = {}
    for size in (1, 20_000):
        db = tmp_path / f"b{size}.db"
        store = open_store(f"sqlite:///{db}")
        try:
            harvest(open_source(LOGS / export, dialect), store,
                    Options(dialect=get_dialect(dialect).sqlglot, namespace=f"{dialect}://test", batch_size=size))
        finally:
            store.close()
        stores[size] = dump(db)
    assert stores[1]["operations"] and stores[1]["column_edges"]
    assert stores[1] == stores[20_000], "\n".join(differences(stores[1], stores[20_000]))


@pytest.mark.parametrize("dialect, export", [(c[0], c[1]) for c in CASES], ids=[c[0] for c in CASES])
def test_an_ml_export_agrees_with_its_own_sql_where_it_names_tables(tmp_path, dialect, export):
    """The exports' own lineage (BigQuery's referenced_tables) names what each job's SQL reads."""
    _, report = harvested(LOGS / export, dialect, tmp_path / "ml.db")
    assert not report.crosscheck.get("tables_differ"), report.summary() if hasattr(report, "summary") else report.crosscheck


def _made(result) -> dict[str, set[str]]:
    return {str(c.target): {str(s) for s in c.sources} for c in result.columns}


def test_a_prediction_column_is_fed_by_the_models_features_not_by_passthrough_split_or_label_columns():
    from sqllineage_harvester.extract import extract

    script = ("CREATE MODEL m OPTIONS(model_type='logistic_reg', input_label_cols=['y'], data_split_col='is_eval') AS "
              "SELECT a, b, is_eval, y FROM t; "
              "CREATE TABLE p AS SELECT id, predicted_y, a FROM ML.PREDICT(MODEL m, (SELECT id, a, b FROM new))")
    trained, predicted = extract(script, "bigquery")
    assert "m.is_eval" not in _made(trained)  # the split column chooses rows: no feature of the model
    assert any(str(i.source) == "t.is_eval" for i in trained.indirect)
    made = _made(predicted)
    assert made["p.predicted_y"] == {"m.a", "m.b", "new.a", "new.b"}
    assert made["p.id"] == {"new.id"} and made["p.a"] == {"new.a"}


def test_a_prediction_function_is_fed_by_the_model_columns_its_arguments_name_not_the_label():
    from sqllineage_harvester.extract import extract

    script = ("CREATE TABLE a.ml.features AS SELECT customer_id, spend, churned FROM a.raw.customers; "
              "CREATE SNOWFLAKE.ML.CLASSIFICATION a.ml.clf(INPUT_DATA => TABLE(a.ml.features), TARGET_COLNAME => 'churned'); "
              "CREATE TABLE a.raw.new_customers (customer_id INT, spend INT, signup_day INT); "
              "INSERT INTO a.marts.preds (customer_id, prediction) "
              "SELECT customer_id, a.ml.clf!PREDICT(INPUT_DATA => OBJECT_CONSTRUCT('spend', spend)) FROM a.raw.new_customers")
    *_, predicted = extract(script, "snowflake")
    made = _made(predicted)
    assert made["A.MARTS.PREDS.PREDICTION"] == {"A.ML.CLF.SPEND", "A.RAW.NEW_CUSTOMERS.SPEND"}
    assert made["A.MARTS.PREDS.CUSTOMER_ID"] == {"A.RAW.NEW_CUSTOMERS.CUSTOMER_ID"}


@pytest.mark.parametrize("known", [True, False], ids=["input known", "input unknown"])
def test_a_wildcard_passed_to_a_model_is_the_inputs_columns_or_a_wildcard_left_with_a_warning(known):
    from sqllineage_harvester.extract import extract

    script = ("CREATE TABLE a.ml.features AS SELECT customer_id, spend, churned FROM a.raw.customers; "
              "CREATE SNOWFLAKE.ML.CLASSIFICATION a.ml.clf(INPUT_DATA => TABLE(a.ml.features), TARGET_COLNAME => 'churned'); "
              + ("CREATE TABLE a.raw.new_customers (customer_id INT, spend INT, signup_day INT); " if known else "")
              + "INSERT INTO a.marts.preds (customer_id, prediction) "
              "SELECT customer_id, a.ml.clf!PREDICT(INPUT_DATA => OBJECT_CONSTRUCT(*)) FROM a.raw.new_customers")
    *_, predicted = extract(script, "snowflake")
    made = _made(predicted)["A.MARTS.PREDS.PREDICTION"]
    if known:
        assert made == {"A.ML.CLF.CUSTOMER_ID", "A.ML.CLF.SPEND", "A.RAW.NEW_CUSTOMERS.CUSTOMER_ID",
                        "A.RAW.NEW_CUSTOMERS.SPEND"}
        assert not predicted.warnings
    else:
        assert "A.RAW.NEW_CUSTOMERS.*" in made
        assert any("wildcard" in w for w in predicted.warnings)


@pytest.mark.parametrize("dialect, text", [
    ("snowflake", "CREATE MODEL ml.c FROM (SELECT a, y FROM t) TARGET y FUNCTION f IAM_ROLE default SETTINGS (S3_BUCKET 'b')"),
    ("snowflake", "CREATE OR REPLACE MODEL m OPTIONS(model_type='linear_reg') AS SELECT a, y FROM t"),
    ("postgres", "CREATE SNOWFLAKE.ML.FORECAST m(INPUT_DATA => TABLE(t), TIMESTAMP_COLNAME => 'd', TARGET_COLNAME => 'y')"),
    ("bigquery", "CREATE MODEL ml.c FROM (SELECT a, y FROM t) TARGET y FUNCTION f IAM_ROLE default SETTINGS (S3_BUCKET 'b')"),
], ids=["redshift-in-snowflake", "bigquery-in-snowflake", "snowflake-in-postgres", "redshift-in-bigquery"])
def test_a_model_created_in_a_form_the_dialect_does_not_know_is_a_failure_with_its_reason(dialect, text):
    from sqllineage_harvester.extract import extract

    (result,) = extract(text, dialect)
    assert result.error and "CREATE MODEL is not a form" in result.error and dialect in result.error, (result.kind, result.error)


def test_the_redshift_ml_log_read_as_snowflake_counts_its_create_model_as_failed(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'ml.db'}")
    report = harvest(open_source(LOGS / "redshift" / "ml_query_history.csv", "snowflake"), store,
                     Options(dialect="snowflake", namespace="snowflake://test", batch_size=20_000))
    assert report.failed >= 1


def test_evaluation_data_is_listed_by_the_model_and_feeds_none_of_its_values_from_the_log_and_the_api(tmp_path):
    """One rule: a holdout a model is evaluated on is no input of the model (not upstream of it, nor of
    its predictions); ``model`` lists it with split evaluation. The log's ML.EVALUATE and the Python
    API's ``{"split": "evaluation"}`` keep it alike."""
    from sqllineage_harvester import MLLineageTracker
    from sqllineage_harvester.ml_query import model as model_answer

    store, _ = harvested(LOGS / "bigquery" / "ml_jobs.jsonl", "bigquery", tmp_path / "log.db")
    with MLLineageTracker(store=store, namespace="bigquery://test") as ml:
        ml.track_model_training({"name": "shop-prod.ml.api_model"},
                                [{"name": "shop-prod.ml.customer_features", "columns": ["tenure_months", "churned"]},
                                 {"name": "shop-prod.ml.holdout", "split": "evaluation",
                                  "columns": ["tenure_months", "churned"]}])
    for name in ("shop-prod.ml.churn_model", "shop-prod.ml.api_model"):
        assert "shop-prod.ml.holdout" not in depths(queries.upstream(store, name)), name
        used = {(c.dataset, c.split) for c in model_answer(store, name).training if c.depth == 1}
        assert ("shop-prod.ml.holdout", "evaluation") in used and ("shop-prod.ml.customer_features", "train") in used
    store.close()
