"""The ``prune`` command: delete lineage that stopped running, and say what went."""

from __future__ import annotations

import click

from ..errors import HarvesterError
from . import _fail, main
from .query import _open_store, _time_option, store_option


@main.command()
@store_option
@click.option("--before", required=True, callback=_time_option(end_of_day=False),
              help="Delete operations last seen before this time (YYYY-MM-DD or ISO-8601), with their edges.")
def prune(store_url: str | None, before: str) -> None:
    """Delete the operations whose statements last ran before --before, with their table and
    column edges and their users' runs; datasets and columns stay. Says what it removed (stderr).
    Retired edges (harvest --retire-after) are only hidden; this removes.

    \b
    Example:
      sqllineage-harvester prune --before 2024-01-01 --store sqlite:///lineage.db
    """
    from ..queries import moment
    from ..retire import prune as remove

    try:
        click.echo(remove(_open_store(store_url), moment(before) or before), err=True)
    except HarvesterError as e:
        _fail(e)
