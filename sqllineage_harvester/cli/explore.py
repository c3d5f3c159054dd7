"""`show` and `search`: what a name is, and which names hold some text."""

from __future__ import annotations

import json

import click

from ..errors import HarvesterError
from ..model import LineageNode
from . import _fail, format_option, main
from .query import _open_store, store_option


@main.command()
@click.argument("name")
@store_option
@click.option("--namespace", default=None, metavar="NS", help="Only names in this namespace.")
@format_option("table", "json")
def show(name: str, store_url: str | None, namespace: str | None, fmt: str) -> None:
    """What NAME is. A dataset: its columns, the operations writing and reading it, who queries it,
    when last seen. A column: the columns it is made from and those it feeds. An operation id (as
    listed by `impact --format json`, or its first characters): its SQL with literals redacted,
    what it reads and writes, who ran it how often.

    Names are read as for `impact`; an unknown one gets "did you mean" suggestions (exit 2).

    \b
    Example:
      sqllineage-harvester show raw.payments
      sqllineage-harvester show 9d03a3cd --format json
    """
    from .. import explore
    from ..render_explore import detail_json, detail_table

    try:
        detail, note = explore.show_noted(_open_store(store_url, read_only=True), name, namespace)
        if note:
            click.echo(f"note: {note}", err=True)
        click.echo(detail_json(detail) if fmt == "json" else detail_table(detail))
    except HarvesterError as e:
        _fail(e)


@main.command()
@click.argument("pattern")
@store_option
@click.option("--namespace", default=None, metavar="NS", help="Only names in this namespace.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="At most this many datasets, and as many columns.")
@format_option("table", "json")
def search(pattern: str, store_url: str | None, namespace: str | None, limit: int, fmt: str) -> None:
    """Datasets and columns whose name contains PATTERN (case-insensitive; * matches anything,
    alone everything), with their kind, type and namespace: datasets first.

    \b
    Example:
      sqllineage-harvester search payments
      sqllineage-harvester search 'raw*amount' --format json
    """
    from .. import explore
    from ..render_explore import search_dict, search_table

    try:
        store = _open_store(store_url, read_only=True)
        # One more than the limit of each kind: whether a kind was cut is then known, not estimated
        found, cut = _first(explore.search(store, pattern, namespace, limit + 1), limit)
        totals = {kind: sum(n.kind == kind for n in found) for kind in ("dataset", "column")}
        if cut:  # how many match in all (an estimate that may count a name twice: never below what was seen)
            counted = explore.search_totals(store, pattern, namespace)
            totals = {kind: max(counted.get(kind, 0), shown + (kind in cut)) for kind, shown in totals.items()}
            note = _left_out(found, totals)
            if note:
                click.echo(f"note: {note}", err=True)
        click.echo(json.dumps(search_dict(pattern, found, totals, bool(cut)), ensure_ascii=False) if fmt == "json"
                   else search_table(pattern, found))
    except HarvesterError as e:
        _fail(e)


def _first(found: list[LineageNode], limit: int) -> tuple[list[LineageNode], set[str]]:
    """The first ``limit`` of each kind, in order, and the kinds that had more."""
    kept: list[LineageNode] = []
    seen: dict[str, int] = {}
    cut: set[str] = set()
    for node in found:
        seen[node.kind] = seen.get(node.kind, 0) + 1
        if seen[node.kind] > limit:
            cut.add(node.kind)
        else:
            kept.append(node)
    return kept, cut


def _left_out(found: list[LineageNode], totals: dict[str, int]) -> str | None:
    """What a search cut at its limit left out ("showing the first 2 of 4 datasets ...; 7 more"), if anything."""
    shown = {kind: sum(n.kind == kind for n in found) for kind in totals}
    cut = [f"{shown[kind]} of {total} {kind}s" for kind, total in totals.items() if total > shown[kind]]
    more = sum(totals.values()) - len(found)
    if not cut:
        return None
    return f"showing the first {' and the first '.join(cut)}; {more} more (--limit N, or a longer pattern)"
