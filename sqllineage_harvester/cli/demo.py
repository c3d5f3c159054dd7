"""`demo` (the bundled sample logs harvested, a model recorded through the Python API, both queried) and `dialects`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ConfigError, HarvesterError
from ..stores import Store
from . import _fail, format_option, main
from .harvest import _progress
from .query import _open_store

NAMESPACE = "snowflake://demo"
# The model the demo records through the Python API (a pipeline's training run, outside any log), trained
# on features the warehouse's ML log made; its lineage is shown after the impact query.
DEMO_MODEL = "ANALYTICS.ML.CHURN_XGB"


def demo_logs() -> Path:
    """The bundled sample logs: the checkout's fixtures/logs, else the copy installed in the package."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "fixtures" / "logs", package / "_demo"):
        if (candidate / "snowflake").is_dir():
            return candidate
    raise ConfigError("the bundled sample logs are missing from this installation")


@main.command()
@click.option("--store", "store_url", default="sqlite:///demo-lineage.db", show_default=True,
              help="Where the demo keeps its lineage (an embedded SQLite file by default).")
@click.option("--column", default="RAW.PAYMENTS.AMOUNT", show_default=True, help="The column whose impact is shown.")
def demo(store_url: str, column: str) -> None:
    """Harvest the bundled sample query logs into an embedded store and show an impact query and a model's lineage.

    The sample is a month of a Snowflake account's QUERY_HISTORY (ETL from raw to
    staging to marts, ad-hoc queries, repeats, failures, fake PII in literals) and
    its ML jobs (features, a classifier trained, evaluated and scored with); a model
    trained outside the warehouse is recorded through the Python API.
    Run it twice: the second harvest finds nothing new, the model is not recorded twice.

    \b
    Example:
      sqllineage-harvester demo && sqllineage-harvester stats --store sqlite:///demo-lineage.db
    """
    from .. import queries
    from ..harvest import Options
    from ..harvest import harvest as run_harvest
    from ..render_graph import graph_table
    from ..sources import open_source
    from ..stores import safe_url

    try:
        store = _open_store(store_url)
        # what a person reads on stdout; stderr has the progress only
        for name, what in (("query_history.csv", "Snowflake QUERY_HISTORY export"),
                           ("ml_query_history.csv", "its ML jobs")):
            log = demo_logs() / "snowflake" / name
            click.echo(f"harvesting {log.name} ({what}) into {safe_url(store_url)}")
            progress = _progress()
            try:
                report = run_harvest(open_source(log, "snowflake"), store,
                                     Options(dialect="snowflake", namespace=NAMESPACE), progress=progress)
            finally:
                if progress is not None:
                    progress.close()
            click.echo(("\r" if sys.stderr.isatty() and sys.stdout.isatty() else "") + "harvest: " + report.summary())
        click.echo(f"\nWhat breaks downstream if {column} changes (impact, 3 levels, direct lineage only):\n")
        graph = queries.impact(store, column, depth=3, direct_only=True)
        click.echo(graph_table(graph, title="impact"))
        record_model(store)
        show_model(store, DEMO_MODEL)
        hints = [f"sqllineage-harvester upstream ANALYTICS.MARTS.DAILY_REVENUE.REVENUE --store {store_url}",
                 f"sqllineage-harvester model {DEMO_MODEL} --store {store_url}"]
        click.echo("\nNext: " + "\n      ".join(hints))
    except HarvesterError as e:
        _fail(e)


def record_model(store: Store) -> None:
    """What a training pipeline outside the warehouse records through the Python API (api.py): an
    XGBoost churn model trained on the features the ML jobs built, and the scores it wrote. Its run
    ids make a second demo record nothing new."""
    from ..api import MLLineageTracker

    with MLLineageTracker(store=store, namespace=NAMESPACE, user="ML_PIPELINE", system="airflow") as ml:
        ml.track_model_training(
            {"name": DEMO_MODEL, "version": "1", "architecture": "xgboost", "status": "READY"},
            [{"name": "ANALYTICS.ML.CUSTOMER_FEATURES", "columns": ["TENURE_MONTHS", "MONTHLY_SPEND", "CHURNED"]}],
            {"max_depth": 6, "eta": 0.1, "objective": "binary:logistic"}, {"auc": 0.91, "logloss": 0.33},
            context={"time": "2024-04-02T06:00:00Z"}, run_id="churn_xgb/2024-04-02")
        ml.track_prediction(DEMO_MODEL, ["ANALYTICS.RAW.NEW_CUSTOMERS"], "ANALYTICS.MARTS.CHURN_SCORES",
                            columns={"CHURN_SCORE": [f"{DEMO_MODEL}.TENURE_MONTHS", f"{DEMO_MODEL}.MONTHLY_SPEND"],
                                     "CUSTOMER_ID": "ANALYTICS.RAW.NEW_CUSTOMERS.CUSTOMER_ID"},
                            context={"time": "2024-04-02T07:00:00Z"}, run_id="churn_xgb/2024-04-02")
    click.echo(f"\nrecorded through the Python API: {DEMO_MODEL}, trained on ANALYTICS.ML.CUSTOMER_FEATURES, "
               f"and the scores it wrote")


def show_model(store: Store, model: str) -> None:
    """A model's lineage as `model` gives it: versions, training data back to the sources, hyperparameters,
    metrics and the prediction tables made with it."""
    from ..ml_query import model as model_query
    from ..render_ml import model_table

    click.echo(f"\nWhat {model} was trained on, how, and what it predicted (model):\n")
    click.echo(model_table(model_query(store, model)))


@main.command("dialects")
@format_option("table", "json")
def dialects_command(fmt: str) -> None:
    """List the databases the harvester reads, with what it reads for each.

    \b
    Example:
      sqllineage-harvester dialects --format json
    """
    from ..dialects import get_dialect, list_dialects

    rows = []
    for name in list_dialects():
        spec = get_dialect(name)
        rows.append({"name": spec.name, "sqlglot": spec.sqlglot, "export_columns": sorted(spec.export.columns),
                     "history": bool(spec.history)})
    if fmt == "json":
        click.echo(json.dumps(rows))
        return
    for row in rows:
        history = "history table + exports" if row["history"] else "exports"
        click.echo(f"{row['name']:<12} sqlglot:{row['sqlglot']:<12} {history}: {', '.join(row['export_columns'])}")
