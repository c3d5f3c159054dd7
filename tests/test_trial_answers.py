"""What a new user's trial found misleading, on stores harvested from the fixture logs: names as
the tool lists them (NS/NAME) are taken back, `model` shows one version's facts as the latest,
suggests models and says "not a model"; upstream JSON has its users; --as-of shows no invented
times; ids are cut alike; a windowed harvest words out-of-window rows apart from damaged ones."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sqllineage_harvester.cli import main
from sqllineage_harvester.dialects import get_dialect
from sqllineage_harvester.harvest import Options, harvest
from sqllineage_harvester.ml_query import model
from sqllineage_harvester.model import DatasetRef, ModelFacts, Operation
from sqllineage_harvester.sources import open_source
from sqllineage_harvester.stores import Batch, open_store

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
EXPORTS = (("bigquery", "bigquery/ml_jobs.jsonl", "bigquery"), ("redshift", "redshift/ml_query_history.csv", None),
           ("snowflake", "snowflake/ml_query_history.csv", "snowflake://acct"))


@pytest.fixture(scope="module")
def ml_store(tmp_path_factory) -> str:
    """The three warehouses' ML logs; the BigQuery one in namespace ``bigquery`` (no ``://``)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('ml')}/ml.db"
    store = open_store(url)
    try:
        for dialect, export, space in EXPORTS:
            harvest(open_source(LOGS / export, dialect), store,
                    Options(dialect=get_dialect(dialect).sqlglot, namespace=space or "postgres://h:5432"))
    finally:
        store.close()
    return url


def run(url: str, *args: str):
    return CliRunner().invoke(main, [*args, "--store", url])


def test_every_listed_ns_name_form_is_taken_back(ml_store):
    ambiguous = run(ml_store, "upstream", "customer_features")
    assert ambiguous.exit_code == 2
    listed = re.findall(r"^  (\S+) \(dataset\)$", ambiguous.output, re.M)
    assert "bigquery/shop-prod.ml.customer_features" in listed and len(listed) == 3
    for name in listed:
        answer = run(ml_store, "upstream", name, "--format", "json")
        assert answer.exit_code == 0, answer.output
        assert json.loads(answer.output)["root"] == name.split("/", 1)[1] if "://" not in name \
            else json.loads(answer.output)["root"] == name.rsplit("/", 1)[1]
    shown = run(ml_store, "model", "bigquery/shop-prod.ml.churn_model", "--format", "json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["namespace"] == "bigquery"
    assert run(ml_store, "show", "snowflake://acct/ANALYTICS.ML.CHURN_CLASSIFIER").exit_code == 0


def test_upstream_json_names_the_users_as_impact_does(ml_store):
    up = json.loads(run(ml_store, "upstream", "bigquery/shop-prod.ml.customer_features", "--format", "json").output)
    reached = [n for n in up["nodes"] if n["depth"] == 1]
    assert reached and all(n["users"] == ["mlops@shop.example.com"] for n in reached)
    down = json.loads(run(ml_store, "downstream", "bigquery/shop-prod.raw.customers", "--format", "json").output)
    assert all(n["users"] for n in down["nodes"] if n["depth"] > 0)


def test_model_suggests_models_and_says_not_a_model_in_any_namespace(ml_store):
    typo = run(ml_store, "model", "churn")
    assert typo.exit_code == 2
    said = typo.output.split("did you mean", 1)[1]
    assert "shop-prod.ml.churn_model" in said and "CHURN_CLASSIFIER" in said and "customer_churn" in said
    assert "CHURNED" not in said and "churned" not in said
    features = run(ml_store, "model", "customer_features")
    assert features.exit_code == 2
    assert "not a model in any namespace" in features.output and "ambiguous" not in features.output


def test_model_table_cuts_operation_ids_as_pii_does(ml_store):
    table = run(ml_store, "model", "bigquery/shop-prod.ml.churn_model").output
    full = json.loads(run(ml_store, "model", "bigquery/shop-prod.ml.churn_model", "--format", "json").output)
    op = full["versions"][0]["operation"]
    assert f"  {op[:8]}\n" in table and op[:9] not in table


def version(run_id: str, when: str, settings: tuple, metrics: tuple, architecture: str | None) -> Operation:
    return Operation(
        id=f"run-{run_id}", type="train", fingerprint=f"mlflow-{run_id}", sql=None,
        inputs=(DatasetRef("lake.churn_train"),), outputs=(DatasetRef("registry.churn", "model"),), columns=(),
        indirect=(), namespace="mlflow://default", user="ann", system=None, first_seen=when, last_seen=when,
        settings=settings, ml=ModelFacts(model="registry.churn", version=run_id, architecture=architecture,
                                         status="READY", splits=(("lake.churn_train", "train"),), metrics=metrics,
                                         run=run_id))


def test_models_latest_facts_are_the_latest_versions_own(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    store = open_store(url)
    try:
        store.write_batch(Batch(operations=(
            version("1", "2024-05-01T00:00:00.000000Z", (("lr", "0.1"),), (("auc", "0.91"),), "sklearn"),
            version("2", "2024-05-02T00:00:00.000000Z", (), (("auc", "0.93"),), None))))
        a = model(store, "registry.churn")
        assert a.hyperparameters == {} and a.metrics == {"auc": "0.93"}
    finally:
        store.close()
    shown = json.loads(run(url, "model", "mlflow://default/registry.churn", "--format", "json").output)
    assert (shown["hyperparameters"], shown["metrics"], shown["architecture"], shown["latest_version"]) == \
        ({}, {"auc": "0.93"}, None, "2")
    assert shown["versions"][0]["hyperparameters"] == {"lr": "0.1"}  # the old version keeps its own
    table = run(url, "model", "registry.churn").output
    assert "hyperparameters (latest version, 2)\n  (none known)" in table


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> str:
    where = tmp_path_factory.mktemp("demo")  # the demo writes its store in the working directory
    subprocess.run([sys.executable, "-m", "sqllineage_harvester.cli", "demo"], cwd=where, check=True,
                   capture_output=True)
    return f"sqlite:///{where}/demo-lineage.db"


def test_as_of_shows_no_invented_last_seen_and_marks_counts_all_time(demo_store):
    cut = "2024-03-10"
    table = run(demo_store, "impact", "RAW.PAYMENTS.AMOUNT", "--as-of", cut).output
    assert "23:59" not in table.replace("by 2024-03-10 23:59", "")
    assert "×28 all-time" in table and "by 2024-03-10 23:59" in table
    data = json.loads(run(demo_store, "impact", "RAW.PAYMENTS.AMOUNT", "--as-of", cut, "--format", "json").output)
    times = [t for part in ("nodes", "edges", "operations") for x in data[part] for t in [x["last_seen"]] if t]
    assert all(t <= "2024-03-10T23:59:59.999999Z" for t in times)
    assert any(n.get("last_seen_before") for n in data["nodes"]) and data["executions_counted"] == "all time"
    everything = json.loads(run(demo_store, "impact", "RAW.PAYMENTS.AMOUNT", "--format", "json").output)
    assert "executions_counted" not in everything and all("last_seen_before" not in n for n in everything["nodes"])


def test_a_windowed_harvest_words_out_of_window_rows_apart_from_skipped(tmp_path):
    done = CliRunner().invoke(main, [
        "harvest", "--source", str(LOGS / "snowflake/ml_query_history.csv"), "--dialect", "snowflake",
        "--store", f"sqlite:///{tmp_path}/w.db", "--since", "2024-04-01T08:30:00Z"])
    assert done.exit_code == 0, done.output
    said = re.search(r"rows read \((\d+) failed executions, (\d+) skipped, (\d+) outside --since/--until\)",
                     done.output)
    assert said and said.group(2) == "0" and int(said.group(3)) > 0


def test_as_of_shows_the_real_last_run_and_count_by_then_where_the_store_knows_them(tmp_path):
    from conftest import make_op

    url = f"sqlite:///{tmp_path}/w.db"
    store = open_store(url)
    day = "2024-03-0{}T10:00:00.000000Z".format
    try:  # ALICE ran it 4 times on the 1st and 2nd, BOB twice on the 5th: by the 3rd, ALICE's runs only
        store.write_batch(Batch(operations=(
            make_op("load", "stg.payments", ("raw.payments",), {"amount": "raw.payments.amount"}, user="ALICE",
                    seen=(day(1), day(2)), executions=4),
            make_op("load", "stg.payments", ("raw.payments",), {"amount": "raw.payments.amount"}, user="BOB",
                    seen=(day(5), day(5)), executions=2))))
    finally:
        store.close()
    data = json.loads(run(url, "impact", "raw.payments.amount", "--as-of", "2024-03-03", "--format", "json").output)
    [reached] = [n for n in data["nodes"] if n["depth"] == 1]
    assert reached["last_seen"] == day(2) and "last_seen_before" not in reached
    assert [(o["executions"], o["last_seen"], o["users"]) for o in data["operations"]] == [(4, day(2), ["ALICE"])]
    assert "executions_counted" not in data
    table = run(url, "impact", "raw.payments.amount", "--as-of", "2024-03-03").output
    assert "×4" in table and "all-time" not in table and "2024-03-02 10:00" in table
