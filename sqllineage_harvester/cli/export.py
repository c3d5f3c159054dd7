"""`export`: a whole store, or one namespace, written out in another form (``export.FORMATS``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ConfigError, HarvesterError
from ..export import FORMATS
from . import _fail, main, output_option
from .query import _open_store, _time_option, store_option


@main.command()
@store_option
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), required=True,
              help="html: one self-contained page (no network request) with the graph of every table. "
                   "openlineage: one OpenLineage RunEvent (COMPLETE) per operation and window, JSON lines "
                   "(needs the [openlineage] extra).")
@click.option("--namespace", default=None, metavar="NS",
              help="Only the datasets (html) or operations (openlineage) of this namespace, e.g. snowflake://acme.")
@click.option("--since", default=None, metavar="T", callback=_time_option(end_of_day=False),
              help="openlineage: only operations last seen at or after this time (YYYY-MM-DD or ISO-8601).")
@output_option
def export(store_url: str | None, fmt: str, namespace: str | None, since: str | None, output: Path | None) -> None:
    """Write the whole store, or one namespace, in another form.

    `--format html` is one HTML file that opens from disk (or an email attachment) with every table
    as a box with its columns, the edges between them, and each statement's details: no network
    request, no server.

    `--format openlineage` writes one OpenLineage RunEvent per operation, built with the
    openlineage-python client (pip install 'sqllineage-harvester[openlineage]'): datasets named by
    OpenLineage's conventions, schema and columnLineage facets, the redacted SQL, the users who
    ran it; run ids stable per operation and window.

    \b
    Example:
      sqllineage-harvester export --format html --namespace snowflake://demo --output lineage.html
      sqllineage-harvester export --format openlineage --since 2024-04-01 --output events.jsonl
    """
    from ..export import check_namespace, exporter
    from ..queries import moment

    try:
        if since and not FORMATS[fmt].since:
            raise ConfigError(f"--since is not read by --format {fmt}")
        write = exporter(fmt)
        start = moment(since, False) if since else None
        store = _open_store(store_url, read_only=True)
        check_namespace(store, namespace)
        pieces = write(store, namespace, start)
        if output is None or str(output) == "-":
            for piece in pieces:
                sys.stdout.write(piece)
            sys.stdout.flush()
            return
        try:
            with output.open("w", encoding="utf-8") as out:
                for piece in pieces:
                    out.write(piece)
        except OSError as e:
            raise ConfigError(f"cannot write {output}: {e.strerror or e}") from e
    except HarvesterError as e:
        _fail(e)
