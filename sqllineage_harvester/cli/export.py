"""`export`: the store's lineage in another system's format (OpenLineage RunEvents)."""

from __future__ import annotations

import click

from ..errors import ConfigError, HarvesterError
from . import _fail, main
from .query import _open_store, store_option


@main.command()
@click.option("--format", "fmt", type=click.Choice(["openlineage"]), required=True,
              help="openlineage: one RunEvent (COMPLETE) per operation, JSON lines.")
@store_option
@click.option("--namespace", default=None, metavar="NS",
              help="Only operations of this namespace, e.g. snowflake://acme.")
@click.option("--since", default=None, metavar="T",
              help="Only operations last seen at or after this time (YYYY-MM-DD or ISO-8601).")
@click.option("--output", "-o", default="-", metavar="FILE", show_default=True,
              help="Where to write the events (- for stdout).")
def export(fmt: str, store_url: str | None, namespace: str | None, since: str | None, output: str) -> None:
    """Export the lineage store.

    --format openlineage writes one OpenLineage RunEvent per operation, built with
    the openlineage-python client (pip install 'sqllineage-harvester[openlineage]'):
    datasets named by OpenLineage's conventions, schema and columnLineage facets,
    the redacted SQL, the users who ran it; run ids stable per operation and window.

    \b
    Example:
      sqllineage-harvester export --format openlineage --since 2024-04-01 \\
        --store sqlite:///lineage.db --output events.jsonl
    """
    from ..queries import moment

    try:
        start = moment(since, False) if since else None
        try:
            from ..openlineage.events import as_json
            from ..openlineage.export import export_events
        except ImportError as e:
            raise ConfigError("--format openlineage needs the OpenLineage client: "
                              "pip install 'sqllineage-harvester[openlineage]'") from e
        store = _open_store(store_url, read_only=True)
        with click.open_file(output, "w", encoding="utf-8") as out:
            for event in export_events(store, start, namespace):
                out.write(as_json(event) + "\n")
    except HarvesterError as e:
        _fail(e)
