"""`demo` (the bundled sample log, harvested and queried) and `dialects`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ConfigError, HarvesterError
from . import _fail, format_option, main
from .harvest import _progress
from .query import _open_store


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
    """Harvest the bundled sample query log into an embedded store and show an impact query.

    The sample is a month of a Snowflake account's QUERY_HISTORY (ETL from raw to
    staging to marts, ad-hoc queries, repeats, failures, fake PII in literals).
    Run it twice: the second harvest finds nothing new.

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
        log = demo_logs() / "snowflake" / "query_history.csv"
        store = _open_store(store_url)
        # what a person reads on stdout; stderr has the progress only
        click.echo(f"harvesting {log.name} (Snowflake QUERY_HISTORY export) into {safe_url(store_url)}")
        progress = _progress()
        try:
            report = run_harvest(open_source(log, "snowflake"), store,
                                 Options(dialect="snowflake", namespace="snowflake://demo"), progress=progress)
        finally:
            if progress is not None:
                progress.close()
        click.echo(("\r" if sys.stderr.isatty() and sys.stdout.isatty() else "") + "harvest: " + report.summary())
        click.echo(f"\nWhat breaks downstream if {column} changes (impact, 3 levels, direct lineage only):\n")
        graph = queries.impact(store, column, depth=3, direct_only=True)
        click.echo(graph_table(graph, title="impact"))
        click.echo(f"\nNext: sqllineage-harvester upstream ANALYTICS.MARTS.DAILY_REVENUE.REVENUE --store {store_url}")
    except HarvesterError as e:
        _fail(e)


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
