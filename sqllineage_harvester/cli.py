"""The command line: a thin skin over the library.

Exit codes: 0 the run completed (statement errors are reported, not fatal),
1 a source or store failed, 2 a usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

import click

from . import __version__
from .errors import ConfigError, HarvesterError
from .extract import DEFAULT_TIMEOUT, Catalog, extract, resolve_dialect
from .render import statement_json, statements_table
from .render_graph import FORMATS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True,
        help="table for people; json for machines (one object per line).",
    )


def naming_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--dialect, --catalog, --default-database, --default-schema, written once."""
    for option in reversed([
        click.option("--dialect", "-d", default=None, help="sqlglot dialect name (postgres, snowflake, bigquery, ...)."),
        click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None,
                     help='JSON file {"db.schema.table": {"column": "type"}}: expands * and resolves columns.'),
        click.option("--default-database", default=None, help="Database for names that do not give one."),
        click.option("--default-schema", default=None, help="Schema for names that do not give one."),
    ]):
        func = option(func)
    return func


def load_catalog(path: str | None, dialect: str | None) -> Catalog | None:
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read catalog {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"catalog {path} must be a JSON object of tables")
    return Catalog.from_mapping(data, dialect)


def _fail(error: HarvesterError) -> None:
    click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sqllineage-harvester")
def main() -> None:
    """Column-level lineage from the query logs your databases already keep.

    Exit codes: 0 completed (unparseable statements are counted, not fatal),
    1 a source or store failed, 2 usage or configuration error.
    """


@main.command()
@click.argument("file", type=click.File("rb"), default="-")
@naming_options
@format_option("table", "json")
@click.option("--input-format", type=click.Choice(["sql", "jsonl"]), default="sql", show_default=True,
              help="sql: a script; jsonl: one object per line with sql and optional id, dialect, catalog, "
                   "default_database, default_schema.")
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds one statement may take before it is reported as timed out (0: no limit).")
@click.option("--collapse-temp", is_flag=True, help="Fold temp tables away: a -> tmp -> b reads a -> b.")
@click.option("--level", type=click.Choice(["column", "table"]), default="column", show_default=True,
              help="table: only what each statement reads and writes (several times faster).")
def parse(file: Any, dialect: str | None, catalog_path: str | None, default_database: str | None,
          default_schema: str | None, fmt: str, input_format: str, timeout: float, collapse_temp: bool,
          level: str) -> None:
    """Print the table- and column-level lineage of SQL statements.

    Reads FILE (or standard input, "-"). Each statement is reported with what it
    reads, what it writes, and for every written column its direct source columns
    and transform (IDENTITY, TRANSFORMATION, AGGREGATION); JOIN/FILTER/GROUP_BY/
    SORT/WINDOW/CONDITIONAL influences are listed apart as indirect. A statement
    that cannot be parsed carries an error; the others still run (exit 0).

    \b
    Example:
      echo "INSERT INTO mart.t SELECT a, sum(b) AS s FROM raw.u GROUP BY a" \\
        | sqllineage-harvester parse --dialect postgres --format json
    """
    try:
        dialect = resolve_dialect(dialect)
        catalog = load_catalog(catalog_path, dialect)
        data = file.read()
        options: dict[str, Any] = dict(catalog=catalog, default_database=default_database,
                                       default_schema=default_schema, timeout=timeout, collapse_temp=collapse_temp,
                                       columns=level == "column")
        if input_format == "sql":
            text = _decode(data)
            _emit(extract(text, dialect, **options), fmt, sys.stdout)
        else:
            for line_no, record in _jsonl(data):
                _parse_record(line_no, record, dialect, options, fmt)
    except HarvesterError as e:
        _fail(e)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        click.echo("warning: input is not UTF-8; undecodable bytes were replaced", err=True)
        return data.decode("utf-8", errors="replace")


def _jsonl(data: bytes) -> Iterator[tuple[int, Any]]:
    for line_no, line in enumerate(_decode(data).splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield line_no, json.loads(line)
        except json.JSONDecodeError as e:
            yield line_no, e


def _parse_record(line_no: int, record: Any, dialect: str | None, options: dict, fmt: str) -> None:
    from .model import StatementLineage

    ident = record.get("id", line_no) if isinstance(record, dict) else line_no
    problem = None
    if isinstance(record, Exception):
        problem = f"line {line_no} is not JSON: {record}"
    elif not isinstance(record, dict) or not isinstance(record.get("sql"), str):
        problem = f"line {line_no} has no 'sql' text"
    if problem is None:
        try:
            own = resolve_dialect(record.get("dialect")) or dialect
            local = dict(options)
            if record.get("catalog") is not None:
                local["catalog"] = Catalog.from_mapping(record["catalog"], own)
            for key in ("default_database", "default_schema"):
                if record.get(key):
                    local[key] = record[key]
            _emit(extract(record["sql"], own, **local), fmt, sys.stdout, ident=ident)
            return
        except ConfigError as e:
            problem = f"line {line_no}: {e}"
    _emit([StatementLineage(index=0, kind="other", error=problem)], fmt, sys.stdout, ident=ident)


def _emit(results: list, fmt: str, out: TextIO, ident: Any = None) -> None:
    extra = {"id": ident} if ident is not None else {}
    if fmt == "json":
        for r in results:
            out.write(statement_json(r, **extra) + "\n")
    else:
        out.write(statements_table(results, label=None if ident is None else f"id {ident}") + "\n")
    out.flush()


# -- harvesting and queries ---------------------------------------------------
def store_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--store", "store_url", default=None, envvar="SQLLINEAGE_STORE", show_envvar=True,
                        help="Lineage store URL: sqlite:///path.db (default: sqlite:///lineage.db), "
                             "postgresql://user@host/db, or neo4j://user:pass@host:7687/db (also bolt://, "
                             "neo4j+s://).")(func)


def _time_option(end_of_day: bool) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    """A --since / --as-of value checked as the queries read it (``queries.moment``): exit 2 when it is no time."""
    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        from .queries import moment

        try:
            moment(value, end_of_day)
        except ConfigError as e:
            raise click.BadParameter(str(e), ctx, param) from e
        return value

    return check


def query_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--namespace, --depth, --direct-only, --since, --as-of, --format: written once for every query."""
    for option in reversed([
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
        format_option(*FORMATS),
    ]):
        func = option(func)
    return func


def _open_store(url: str | None) -> Any:
    from .stores import DEFAULT_URL, open_store

    return open_store(url or DEFAULT_URL)


def _graph_command(kind: str) -> Callable[..., None]:
    def command(name: str, store_url: str | None, namespace: str | None, depth: int | None, direct_only: bool,
                since: str | None, as_of: str | None, fmt: str) -> None:
        from . import queries
        from .render_graph import render_graph

        try:
            store = _open_store(store_url)
            graph = getattr(queries, kind)(store, name, depth=depth, direct_only=direct_only, since=since, as_of=as_of,
                                           namespace=namespace)
            click.echo(render_graph(graph, fmt))
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

for _kind, (_summary, _example) in _QUERY_HELP.items():
    _doc = (f"{_summary}\n\n{_NAMES_HELP}\n\n\b\nExample:\n  sqllineage-harvester {_example}\n"
            f"  sqllineage-harvester {_kind} raw.payments.amount --namespace snowflake://acme")
    _cmd = _graph_command(_kind)
    _cmd.__doc__ = _doc
    main.command(name=_kind, help=_doc)(click.argument("name")(store_option(query_options(_cmd))))


@main.command()
@click.argument("source_name")
@click.argument("target_name")
@store_option
@query_options
def path(source_name: str, target_name: str, store_url: str | None, namespace: str | None, depth: int | None,
         direct_only: bool, since: str | None, as_of: str | None, fmt: str) -> None:
    """How data gets from SOURCE_NAME to TARGET_NAME: every shortest route.

    Names are read as for `impact`: partial names when unambiguous; --namespace NS applies to
    both, or either may be written NS/NAME.

    \b
    Example:
      sqllineage-harvester path raw.orders marts.customer_value
      sqllineage-harvester path raw.orders marts.customer_value --namespace postgres://db:5432
    """
    from . import queries
    from .render_graph import render_graph

    try:
        graph = queries.path(_open_store(store_url), source_name, target_name, depth=depth,
                             direct_only=direct_only, since=since, as_of=as_of, namespace=namespace)
        click.echo(render_graph(graph, fmt))
    except HarvesterError as e:
        _fail(e)


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
    from . import queries
    from .render_graph import stats_dict, stats_table

    try:
        result = queries.stats(_open_store(store_url))
        click.echo(json.dumps(stats_dict(result)) if fmt == "json" else stats_table(result))
    except HarvesterError as e:
        _fail(e)


# The port a server listens on when its URL gives none: part of its namespace (postgres://host:port).
DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306}
# Server log files do not say which server wrote them: ?host=HOST&port=PORT on their URL does.
LOG_SCHEMES = ("pglog", "mysqllog")
NAMESPACE_HELP = ("Where the datasets live, OpenLineage style. Default: the server's DIALECT://HOST:PORT for a "
                  "live database (postgres://HOST:PORT, the usual port when the URL gives none), and the same for "
                  "its server logs when their URL names the server (pglog:///var/log/postgresql?host=HOST&port=PORT, "
                  "mysqllog://...?host=HOST), so both sources of one server make one graph; DIALECT://default for "
                  "exports and logs that name no server.")


@main.command()
@click.option("--source", "source_url", required=True,
              help="A history export (CSV / JSON lines, .gz too) or a folder of them; a live database "
                   "(postgresql://, snowflake://, bigquery://, redshift://, databricks://, mysql://, mariadb://; "
                   "?log=general_log for the MySQL general log table); or server logs (pglog://, mysqllog://; "
                   "?host=HOST&port=PORT names the server that wrote them).")
@click.option("--dialect", "-d", default=None, help="Database the log comes from: a file in dialects/ (see `dialects`).")
@store_option
@click.option("--since", default=None, help="Skip log rows that started before this time (ISO-8601).")
@click.option("--until", default=None, help="Skip log rows that started after this time (ISO-8601): a bounded backfill.")
@click.option("--mapping", default=None, help="Column mapping for an export: sql=QUERY_TEXT,user=USER_NAME,...")
@click.option("--namespace", default=None, help=NAMESPACE_HELP)
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None,
              help='JSON file {"db.schema.table": {"column": "type"}}: expands * and resolves columns.')
@click.option("--no-sql-text", is_flag=True, help="Store no SQL text at all (it is always redacted).")
@click.option("--batch-size", type=click.IntRange(min=1), default=20000, show_default=True,
              help="Log rows per transaction (the cursor advances with each).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes that parse new statements in parallel.")
@click.option("--follow", is_flag=True, help="Keep harvesting every --interval seconds until stopped "
              "(SIGTERM or Ctrl-C stops after the batch in hand).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds between passes with --follow.")
@format_option("table", "json")
def harvest(source_url: str, dialect: str | None, store_url: str | None, since: str | None, until: str | None,
            mapping: str | None, namespace: str | None, catalog_path: str | None, no_sql_text: bool,
            batch_size: int, workers: int, follow: bool, interval: float, fmt: str) -> None:
    """Harvest a query log into the lineage store: one incremental pass.

    Reads the log after the cursor stored for it, parses each distinct statement
    once (repeats come from the cache), and writes operations, column lineage,
    usage and parse failures together with the new cursor, batch by batch. Run
    it again and it adds only what is new; kill it and it resumes where the last
    batch committed. A summary goes to stderr; --format json prints it on stdout.

    Exit codes: 0 the run completed (unparseable statements are counted), 1 the
    source or the store failed, 2 a usage or configuration error.

    \b
    Example:
      sqllineage-harvester harvest --source query_history.csv.gz --dialect snowflake \\
        --store sqlite:///lineage.db
      # one graph for a server's pg_stat_statements and its log files: postgres://db:5432
      sqllineage-harvester harvest --source postgresql://harvester@db:5432/app
      sqllineage-harvester harvest --source 'pglog:///var/log/postgresql?host=db&port=5432'
    """
    from .harvest import HarvestReport
    from .harvest import harvest as run_harvest

    stopping = _stop_on_signals()
    try:
        note = _server_note(source_url, dialect, namespace)
        if note:
            click.echo(f"harvest: note: {note}", err=True)
        with _harvest_lock(source_url, store_url):
            while True:
                parts = _harvest_parts(source_url, dialect, store_url, since, until, mapping, namespace,
                                       catalog_path, no_sql_text, batch_size, workers)
                report: HarvestReport = run_harvest(*parts, progress=_progress(), stop=stopping.is_set)
                click.echo(("\r" if sys.stderr.isatty() else "") + "harvest: " + report.summary(), err=True)
                for note in report.notes:
                    click.echo(f"harvest: note: {note}", err=True)
                if fmt == "json":
                    click.echo(json.dumps(report.as_dict()), nl=True)
                    sys.stdout.flush()
                if not follow or stopping.wait(interval):
                    break
    except HarvesterError as e:
        _fail(e)


def _stop_on_signals() -> Any:
    """An event set by SIGTERM / SIGINT: the harvest stops after the batch in hand."""
    import signal
    import threading

    event = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        if event.is_set():
            raise KeyboardInterrupt
        event.set()
        click.echo("\nharvest: stopping after the batch in hand", err=True)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    return event


class _harvest_lock:
    """One harvester per (source, store) on this machine: a second one exits with a clear line."""

    def __init__(self, source_url: str, store_url: str | None) -> None:
        import hashlib
        import tempfile

        key = hashlib.blake2b(f"{source_url}\x1f{store_url or ''}".encode(), digest_size=8).hexdigest()
        folder = Path(tempfile.gettempdir()) / "sqllineage-harvester-locks"  # one file per (source, store), kept
        folder.mkdir(exist_ok=True)
        self.path = folder / f"{key}.lock"
        self.handle: Any = None

    def __enter__(self) -> "_harvest_lock":
        import fcntl

        self.handle = self.path.open("a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self.handle.close()
            raise HarvesterError("another harvest of this source into this store is running; "
                                 "not starting a second one (it would only repeat its work)") from e
        return self

    def __exit__(self, *exc: Any) -> None:
        self.handle.close()


# URL schemes whose database is plain from the scheme alone (a file needs --dialect).
SCHEME_DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "pglog": "postgres", "mysqllog": "mysql",
                   "snowflake": "snowflake",
                   "bigquery": "bigquery", "redshift": "redshift", "databricks": "databricks", "mysql": "mysql",
                   "mysql+pymysql": "mysql", "mariadb": "mariadb", "mariadb+pymysql": "mariadb"}


def _harvest_parts(source_url: str, dialect: str | None, store_url: str | None, since: str | None,
                   until: str | None, mapping: str | None, namespace: str | None, catalog_path: str | None,
                   no_sql_text: bool, batch_size: int, workers: int) -> tuple[Any, Any, Any]:
    from .dialects import get_dialect
    from .harvest import Options
    from .sources import open_source, window

    scheme = source_url.split("://", 1)[0].lower() if "://" in source_url else ""
    dialect = dialect or SCHEME_DIALECTS.get(scheme)
    if not dialect:
        raise ConfigError("--dialect is required for a file source (see `sqllineage-harvester dialects`)")
    spec = get_dialect(dialect)
    source = open_source(_log_path(source_url), spec, mapping)
    if since or until:
        source = window(source, since, until)
    store = _open_store(store_url)
    catalog = _catalog(catalog_path, source_url if scheme in ("postgresql", "postgres") else None, spec.sqlglot,
                       source)
    options = Options(dialect=spec.sqlglot, namespace=namespace or _namespace(source_url, spec.name),
                      catalog=catalog, store_sql=not no_sql_text, batch_size=batch_size, workers=workers)
    return source, store, options


def _catalog(path: str | None, live_url: str | None, dialect: str, source: Any = None) -> Any:
    """--catalog FILE.json or postgresql://...; a live source is its own catalog by default
    (PostgreSQL's information_schema, a warehouse's ``catalog_query``). A live catalog that
    cannot be read is a note, not a failure: the harvest then uses the copy the store keeps."""
    url = path if path and "://" in path else (live_url if not path else None)
    try:
        if url:
            from .pgcatalog import read_catalog

            return read_catalog(url).tables
        if path is None and hasattr(source, "catalog"):
            return source.catalog()
    except HarvesterError as e:
        click.echo(f"harvest: note: the catalog was not read ({e}); using the copy kept in the store", err=True)
        return None
    return load_catalog(path, dialect)


def _namespace(source_url: str, dialect_name: str) -> str:
    """OpenLineage-style: ``DIALECT://host:port`` of the server the log comes from (the
    database's usual port when the URL gives none), ``DIALECT://default`` when it is not known.

    >>> _namespace("pglog:///var/log/postgresql?host=db&port=5433", "postgres")
    'postgres://db:5433'
    """
    host, port = _server(source_url)
    if not host:
        return f"{dialect_name}://default"
    port = port or DEFAULT_PORTS.get(dialect_name)
    return f"{dialect_name}://{host}:{port}" if port else f"{dialect_name}://{host}"


def _server(source_url: str) -> tuple[str | None, int | None]:
    """(host, port) of the server a source URL reads: a live database's own, a server log's
    ``?host=HOST&port=PORT``; (None, None) for a file."""
    from urllib.parse import parse_qs, urlsplit

    if "://" not in source_url or source_url.lower().startswith("file:"):
        return None, None
    parts = urlsplit(source_url)
    try:
        if parts.scheme.lower() not in LOG_SCHEMES:
            return parts.hostname, parts.port
        given = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(given) - {"host", "port"})
        if unknown:
            raise ConfigError(f"{parts.scheme}:// takes ?host=HOST&port=PORT (the server that wrote the log), "
                              f"not {unknown[0]!r}")
        host, port = given.get("host", [""])[-1].strip().lower(), given.get("port", [""])[-1].strip()
        return host or None, int(port) if port else None
    except ValueError as e:
        raise ConfigError(f"not a port in {source_url!r}: {e}") from e


def _log_path(source_url: str) -> str:
    """A server log's URL as its reader takes it: without the ``?host=..&port=..`` naming the server."""
    scheme = source_url.split("://", 1)[0].lower() if "://" in source_url else ""
    return source_url.split("?", 1)[0] if scheme in LOG_SCHEMES else source_url


def _server_note(source_url: str, dialect: str | None, namespace: str | None) -> str | None:
    """What to do when a server log's datasets go to DIALECT://default for want of its server's name."""
    scheme = source_url.split("://", 1)[0].lower() if "://" in source_url else ""
    if namespace or scheme not in LOG_SCHEMES or _server(source_url)[0]:
        return None
    name = dialect or SCHEME_DIALECTS[scheme]
    return (f"{scheme}:// files do not say which server wrote them: their datasets go to namespace "
            f"{name}://default. To share one graph with the live source of that server, add "
            f"?host=HOST&port=PORT to the URL (or give --namespace {name}://HOST:PORT).")


def _progress() -> Callable[[int], None] | None:
    """A running count on stderr, when a person is watching."""
    if not sys.stderr.isatty():
        return None
    import time

    started, seen = time.perf_counter(), [0]

    def tick(rows: int) -> None:
        seen[0] += rows
        rate = seen[0] / max(time.perf_counter() - started, 1e-9)
        click.echo(f"\rharvest: {seen[0]:,} rows ({rate:,.0f} rows/s)", err=True, nl=False)

    return tick


def demo_logs() -> Path:
    """The bundled sample logs: the checkout's fixtures/logs, else the copy installed in the package."""
    package = Path(__file__).resolve().parent
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
    from . import queries
    from .harvest import Options
    from .harvest import harvest as run_harvest
    from .render_graph import render_graph
    from .sources import open_source
    from .stores import safe_url

    try:
        log = demo_logs() / "snowflake" / "query_history.csv"
        store = _open_store(store_url)
        click.echo(f"harvesting {log.name} (Snowflake QUERY_HISTORY export) into {safe_url(store_url)}", err=True)
        report = run_harvest(open_source(log, "snowflake"), store,
                             Options(dialect="snowflake", namespace="snowflake://demo"), progress=_progress())
        click.echo(("\r" if sys.stderr.isatty() else "") + "harvest: " + report.summary(), err=True)
        click.echo(f"\nWhat breaks downstream if {column} changes (impact, 3 levels, direct lineage only):\n", err=True)
        graph = queries.impact(store, column, depth=3, direct_only=True)
        click.echo(render_graph(graph, "table"))
        click.echo(f"\nNext: sqllineage-harvester upstream ANALYTICS.MARTS.DAILY_REVENUE.REVENUE --store {store_url}",
                   err=True)
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
    from .dialects import get_dialect, list_dialects

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


if __name__ == "__main__":  # pragma: no cover
    main()
