"""`model`: what a model was trained on, how, and what was made with it."""

from __future__ import annotations

import click

from ..errors import HarvesterError
from . import _fail, format_option, main
from .query import _open_store, store_option


@main.command()
@click.argument("name")
@store_option
@click.option("--namespace", default=None, metavar="NS", help="Only names in this namespace.")
@click.option("--include-retired", is_flag=True,
              help="Also lineage whose statements have not run within harvest --retire-after.")
@format_option("table", "json")
def model(name: str, store_url: str | None, namespace: str | None, include_retired: bool, fmt: str) -> None:
    """What the model NAME is made of: its versions (architecture, status, who trained it, when),
    the datasets it was trained and evaluated on (with split) and every dataset upstream of them
    through any number of steps (with depth), its hyperparameters and metrics, and the prediction
    tables made with it.

    Names are read as for `show`: a partial name when unambiguous; an unknown one gets "did you
    mean" suggestions; a name that is not a model is a usage error (exit 2). Exit 1: the store failed.

    \b
    Example:
      sqllineage-harvester model ml.churn_model
      sqllineage-harvester model shop-prod.ml.churn_model --store sqlite:///lineage.db --format json
    """
    from ..ml_query import model as model_query
    from ..render_ml import model_json, model_table

    try:
        answer = model_query(_open_store(store_url, read_only=True), name, namespace, include_retired)
        click.echo(model_json(answer) if fmt == "json" else model_table(answer))
    except HarvesterError as e:
        _fail(e)
