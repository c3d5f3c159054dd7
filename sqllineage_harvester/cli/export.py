"""`export`: a whole store, or one namespace, written out in another form (``export.FORMATS``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import HarvesterError
from ..export import FORMATS
from . import _fail, main, output_option, write_output
from .query import _open_store, store_option


@main.command()
@store_option
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), required=True,
              help="html: one self-contained page (no network request) with the graph of every table.")
@click.option("--namespace", default=None, metavar="NS", help="Only the datasets of this namespace.")
@output_option
def export(store_url: str | None, fmt: str, namespace: str | None, output: Path | None) -> None:
    """Write the whole store, or one namespace, in another form.

    `--format html` is one HTML file that opens from disk (or an email attachment) with every table
    as a box with its columns, the edges between them, and each statement's details: no network
    request, no server.

    \b
    Example:
      sqllineage-harvester export --format html --namespace snowflake://demo --output lineage.html
    """
    from ..export import exporter

    try:
        write_output(exporter(fmt)(_open_store(store_url, read_only=True), namespace), output)
    except HarvesterError as e:
        _fail(e)
