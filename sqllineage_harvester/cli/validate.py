"""The ``validate`` command: is the lineage in a store complete and trustworthy?"""

from __future__ import annotations

import json
import sys

import click

from ..errors import HarvesterError
from . import EXIT_FAILED, EXIT_OK, _fail, format_option, load_catalog, main
from .query import _open_store, _time_option, store_option


@main.command()
@store_option
@click.option("--namespace", default=None, metavar="NS", help="Only operations and columns of this namespace.")
@format_option("table", "json")
@click.option("--fail-under", "fail_under", default=None, metavar="NAME=PCT,...",
              help="Exit 1 when a measure is under its percentage: coverage (executions with full column "
                   "lineage), statements (distinct writes with it), columns (written columns with a source), "
                   "agreement (with the database's own lineage). E.g. coverage=95,columns=90.")
@click.option("--since", default=None, callback=_time_option(end_of_day=False),
              help="Only statements last seen at or after this time (YYYY-MM-DD or ISO-8601; executions by kind "
                   "stay the whole store's).")
@click.option("--failures", is_flag=True, help="List every failed write table, and every failed statement with "
                                              "its redacted SQL.")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None,
              help='JSON file {"db.schema.table": {"column": "type"}}: check written tables and names against it.')
def validate(store_url: str | None, namespace: str | None, fmt: str, fail_under: str | None, since: str | None,
             failures: bool, catalog_path: str | None) -> None:
    """Check the lineage: coverage by statement kind (full column lineage, with warnings, failed),
    the tables whose writes did not parse, column coverage, agreement with the database's own
    lineage, each source's lag, and the graph (cycles, orphan temp tables, dangling reads).

    Exit codes: 0 every --fail-under threshold holds, 1 one does not (or the store failed),
    2 usage or configuration error.

    \b
    Example:
      sqllineage-harvester validate --store sqlite:///lineage.db --fail-under coverage=95,columns=90
    """
    from ..queries import moment
    from ..render_validate import validation_dict, validation_table
    from ..validate import failed, thresholds
    from ..validate import validate as check

    try:
        limits = thresholds(fail_under)
        result = check(_open_store(store_url, read_only=True), namespace=namespace, since=moment(since),
                       catalog=load_catalog(catalog_path, None))
    except HarvesterError as e:
        _fail(e)
        return
    broken = failed(result, limits)
    if fmt == "json":
        click.echo(json.dumps(validation_dict(result, failures, broken)))
    else:
        click.echo(validation_table(result, failures, broken))
    if broken:
        click.echo("validate: " + "; ".join(broken), err=True)
    sys.exit(EXIT_FAILED if broken else EXIT_OK)
