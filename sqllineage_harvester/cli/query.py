"""The query commands over a store: upstream, downstream, impact, path, stats."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typing import Any, Callable

import click

from ..errors import ConfigError, HarvesterError
from ..render_graph import FORMATS
from . import _fail, format_option, main, output_option, write_output


def store_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--store", "store_url", default=None, envvar="SQLLINEAGE_STORE", show_envvar=True,
                        help="Lineage store URL: sqlite:///path.db (default: sqlite:///lineage.db), "
                             "postgresql://user@host/db, or neo4j://user:pass@host:7687/db (also bolt://, "
                             "neo4j+s://).")(func)


def _time_option(end_of_day: bool) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A --since / --as-of value checked as the queries read it (``queries.moment``): exit 2 when it is no time."""
    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        from ..queries import moment

        try:
            moment(value, end_of_day)
        except ConfigError as e:
            raise click.BadParameter(str(e), ctx, param) from e
        return value

    return check


def query_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--namespace, --depth, --direct-only, --since, --as-of, --format, --output: written once for every query."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option("--namespace", default=None, metavar="NS",
                     help="Only names in this namespace, e.g. postgres://db:5432, when a name is in several "
                          "(prod and staging; two sources of one server). A name may also be given as NS/NAME."),
        click.option("--depth", type=click.IntRange(min=0), default=None, help="Levels to follow (default: all)."),
        click.option("--direct-only", is_flag=True, help="Leave out JOIN/FILTER/GROUP_BY/... (indirect) edges."),
        click.option("--since", default=None, callback=_time_option(end_of_day=False),
                     help="Only lineage last seen at or after this time: a date (YYYY-MM-DD, from the start of "
                          "that day) or ISO-8601 (2024-03-01T12:00:00+02:00; no offset means UTC)."),
        click.option("--as-of", default=None, callback=_time_option(end_of_day=True),
                     help="Only lineage first seen at or before this time, the graph as it was then: a date "
                          "(YYYY-MM-DD, up to the end of that day) or ISO-8601 (2024-03-01T12:00:00+02:00; no "
                          "offset means UTC)."),
        click.option("--include-retired", is_flag=True,
                     help="Also edges whose statements have not run within harvest --retire-after (left out "
                          "by default)."),
        format_option(*FORMATS, "html"),
        output_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _open_store(url: str | None, read_only: bool = False) -> Any:
    """The store to harvest into (made when new), or, ``read_only``, the one a query reads: that
    one must exist and is never written."""
    from ..stores import DEFAULT_URL, open_store

    return open_store(url or DEFAULT_URL, read_only=read_only)


def wide_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--wide", is_flag=True,
                        help="Table: everything, uncut (full names and times, users, operation ids). Without it "
                             "the table fits the terminal; output to a pipe or file is never cut.")(func)


def _render(store: Any, graph: Any, fmt: str, since: str | None, as_of: str | None, wide: bool = False,
            title: str = "", to_file: bool = False) -> str:
    """An answer in ``fmt``; html is the lineage view's page with the answer in it (export.html); a
    table fits the terminal unless ``wide``, written to a file or not to a terminal."""
    import shutil

    from ..render_graph import graph_table, render_graph

    if fmt == "html":
        from ..export.html import answer

        return answer(store, graph, since, as_of)
    if fmt != "table":
        return render_graph(graph, fmt)
    cut = sys.stdout.isatty() and not wide and not to_file
    return graph_table(graph, shutil.get_terminal_size().columns if cut else None, wide, title)


def _graph_command(kind: str) -> Callable[..., None]:
    def command(name: str, store_url: str | None, namespace: str | None, depth: int | None, direct_only: bool,
                since: str | None, as_of: str | None, include_retired: bool, fmt: str, output: Path | None,
                wide: bool, tag: str | None = None) -> None:
        from .. import queries

        # VIA names operations; JSON fills users as impact does
        details = {"details": True} if kind != "impact" and fmt in ("table", "json") else {}
        try:
            store = _open_store(store_url, read_only=True)
            graph = getattr(queries, kind)(store, name, depth=depth, direct_only=direct_only, since=since, as_of=as_of,
                                           namespace=namespace, include_retired=include_retired, **details)
            if tag:
                from ..pii import only_tagged

                graph = only_tagged(store, graph, tag)
            if graph.note:
                click.echo(f"note: {graph.note}", err=True)
            write_output(_render(store, graph, fmt, since, as_of, wide, kind, output is not None), output)
        except HarvesterError as e:
            _fail(e)

    return command


_QUERY_HELP = {
    "upstream": ("Where NAME comes from: the tables or columns it is derived from.", "upstream marts.customer_value.value"),
    "downstream": ("Where NAME flows to: every table or column derived from it.", "downstream users.email"),
    "impact": ("What breaks if NAME changes: downstream with each node's distance, the operations "
               "and users on the way, and when the lineage was last seen.", "impact raw.payments.amount --depth 3"),
}

_NAMES_HELP = ("NAME is a table (db.schema.table) or a column (db.schema.table.column); a partial name such as "
               "orders.amount works when it is unambiguous, otherwise the candidates are listed (exit 2). A name "
               "in several namespaces is chosen with --namespace NS or written NS/NAME, e.g. "
               "snowflake://acme/raw.payments.amount or snowflake://acme/payments.amount.")

_TAG_OPTION = click.option("--tag", default=None, metavar="TAG",
                           help="Only columns that hold data tagged TAG (a prefix: pii finds pii:email and "
                                "masked:pii:email), as `pii` finds them.")

for _kind, (_summary, _example) in _QUERY_HELP.items():
    _doc = (f"{_summary}\n\n{_NAMES_HELP}\n\n\b\nExample:\n  sqllineage-harvester {_example}\n"
            f"  sqllineage-harvester {_kind} raw.payments.amount --namespace snowflake://acme")
    _cmd = _graph_command(_kind)
    _cmd.__doc__ = _doc
    main.command(name=_kind, help=_doc)(click.argument("name")(store_option(query_options(wide_option(
        _TAG_OPTION(_cmd))))))


@main.command()
@click.argument("source_name")
@click.argument("target_name")
@store_option
@query_options
@wide_option
@click.option("--with-indirect", is_flag=True, help="Also routes through JOIN/FILTER/GROUP_BY/... (indirect) edges.")
def path(source_name: str, target_name: str, store_url: str | None, namespace: str | None, depth: int | None,
         direct_only: bool, since: str | None, as_of: str | None, include_retired: bool, fmt: str,
         output: Path | None, wide: bool, with_indirect: bool) -> None:
    """How data gets from SOURCE_NAME to TARGET_NAME: every shortest route, one line each, every
    hop with its kind. Only routes along values (IDENTITY, TRANSFORMATION, AGGREGATION; DIRECT for
    tables) unless --with-indirect. Exit 1 when there is no route (the message says when data flows
    the other way, from TARGET_NAME to SOURCE_NAME).

    Names are read as for `impact`: partial names when unambiguous; --namespace NS applies to
    both, or either may be written NS/NAME.

    \b
    Example:
      sqllineage-harvester path raw.orders marts.customer_value
      sqllineage-harvester path raw.orders marts.customer_value --namespace postgres://db:5432
    """
    from .. import queries

    try:
        store = _open_store(store_url, read_only=True)
        graph = queries.path(store, source_name, target_name, depth=depth,
                             direct_only=not with_indirect, since=since, as_of=as_of, namespace=namespace,
                             include_retired=include_retired)
        if graph.note:
            click.echo(f"note: {graph.note}", err=True)
        if not graph.nodes and fmt == "table":
            wider = _wider_finds(store, graph, source_name, target_name, depth, not with_indirect, since, as_of,
                                 namespace, include_retired)
            hint = (f" ({wider})" if wider else "" if with_indirect
                    else " along values (--with-indirect for JOIN / FILTER / ... too)")
            back = queries.path(store, target_name, source_name, depth=depth, direct_only=not with_indirect,
                                since=since, as_of=as_of, namespace=namespace, include_retired=include_retired)
            if back.nodes and back.target is not None:
                options = (f" --namespace {namespace}" if namespace else "") + (" --with-indirect" if with_indirect
                                                                                else "")
                hint += (f"; it flows the other way: sqllineage-harvester path {back.root.name} {back.target.name}"
                         + options)
            click.echo(f"no lineage from {graph.root.name} to {graph.target.name}: no route{hint}", err=True)
            sys.exit(1)
        write_output(_render(store, graph, fmt, since, as_of, wide, to_file=output is not None), output)
    except HarvesterError as e:
        _fail(e)
    if not graph.nodes:
        sys.exit(1)


def _wider_finds(store: Any, graph: Any, source: str, target: str, depth: int | None, direct_only: bool,
                 since: str | None, as_of: str | None, namespace: str | None, include_retired: bool) -> str | None:
    """Which option would find the route a ``path`` found none of, said before --with-indirect: the
    walk left edges out (``graph.hidden``), so --include-retired, or no --since / --as-of, may reach
    the target. Asked only then, each a walk of its own."""
    from .. import queries

    if graph.hidden is None:  # nothing was left out: a wider walk reaches the same nodes
        return None
    tries = [] if include_retired else [(since, as_of, True, "--include-retired finds it")]
    if since or as_of:
        tries += [(None, None, include_retired, "without --since/--as-of it is found")]
        tries += [] if include_retired else [(None, None, True, "without --since/--as-of, --include-retired finds it")]
    for wide_since, wide_as_of, retired_too, said in tries:
        found = queries.path(store, source, target, depth=depth, direct_only=direct_only, since=wide_since,
                             as_of=wide_as_of, namespace=namespace, include_retired=retired_too)
        if found.nodes:
            return said
    return None


@main.command()
@store_option
@format_option("table", "json")
def stats(store_url: str | None, fmt: str) -> None:
    """Counts, coverage (share of log rows whose lineage was extracted, by statement kind) and the
    top reasons statements failed to parse.

    \b
    Example:
      sqllineage-harvester stats --store sqlite:///lineage.db --format json
    """
    from .. import queries
    from ..render_graph import stats_dict, stats_table

    try:
        result = queries.stats(_open_store(store_url, read_only=True))
        click.echo(json.dumps(stats_dict(result)) if fmt == "json" else stats_table(result))
    except HarvesterError as e:
        _fail(e)


# The port a server listens on when its URL gives none: part of its namespace (postgres://host:port).
