"""`harvest`: one source into one store, once or with --follow; its lock, namespace and catalog."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Callable

import click

from ..errors import ConfigError, HarvesterError
from ..stores import check_location
from . import _fail, format_option, load_catalog, main, quiet_stdout, stdout_closed
from .query import _open_store, store_option


DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306, "trino": 8080}
# Server log files do not say which server wrote them: ?host=HOST&port=PORT on their URL does.
LOG_SCHEMES = ("pglog", "mysqllog")
NAMESPACE_HELP = ("Where the datasets live, OpenLineage style. Default: the server's DIALECT://HOST:PORT for a "
                  "live database (postgres://HOST:PORT, the usual port when the URL gives none), and the same for "
                  "its server logs when their URL names the server (pglog:///var/log/postgresql?host=HOST&port=PORT, "
                  "mysqllog://...?host=HOST), so both sources of one server make one graph; as OpenLineage's naming "
                  "conventions write it where they have an entry (BigQuery: bigquery; Redshift: "
                  "redshift://CLUSTER.REGION:PORT; Snowflake: snowflake://ACCOUNT); DIALECT://default for exports "
                  "and logs that name no server.")


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="A deployment file (TOML): one store, every source with its settings; harvests each in turn. "
                   "Options given on the command line apply to every source and win over the file.")
@click.option("--only", default=None, metavar="NAME", help="With --config: harvest this source of the file alone.")
@click.option("--source", "source_url", default=None,
              help="A history export (CSV / JSON lines, .gz too) or a folder of them; a live database "
                   "(postgresql://, snowflake://, bigquery://, redshift://, databricks://, mysql://, mariadb://; "
                   "?log=general_log for the MySQL general log table); or server logs (pglog://, mysqllog://; "
                   "?host=HOST&port=PORT names the server that wrote them); OpenLineage events (openlineage://); "
                   "MLflow runs (mlflow://HOST:5000, mlflow+https://, mlflow+sqlite:///mlflow.db, mlflow+postgresql://).")
@click.option("--dialect", "-d", default=None, help="Database the log comes from: a file in dialects/ (see `dialects`).")
@store_option
@click.option("--since", default=None, help="Skip log rows that started before this time (ISO-8601).")
@click.option("--until", default=None,
              help="Skip log rows that started at or after this time (ISO-8601). A window with --until is a slice "
                   "of a backfill with its own cursor: slices such as --since 2024-01-01 --until 2024-02-01 and "
                   "--since 2024-02-01 --until 2024-03-01 can run apart, on several machines, into one store.")
@click.option("--mapping", default=None, help="Column mapping for an export: sql=QUERY_TEXT,user=USER_NAME,...")
@click.option("--namespace", default=None, help=NAMESPACE_HELP)
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False), default=None,
              help='JSON file {"db.schema.table": {"column": "type"}}: expands * and resolves columns.')
@click.option("--no-sql-text", is_flag=True, help="Store no SQL text at all (it is always redacted).")
@click.option("--batch-size", type=click.IntRange(min=1), default=250_000, show_default=True,
              help="Log rows per transaction (the cursor advances with each; a run killed mid-way "
                   "reads the batch it was in again).")
@click.option("--workers", default="auto", show_default=True, metavar="N|auto",
              help="Processes that parse new statements while the harvest reads and writes: auto is one per core "
                   "but the harvest's own (none on one core); 1 parses in the harvest's own process.")
@click.option("--memory", default="1G", show_default=True, metavar="SIZE",
              help="About how much memory the harvest may keep between batches (what it remembers of statements "
                   "seen); the process needs about 150 MB more. 512M, 2G, ...")
@click.option("--executor", default=None, metavar="dask://HOST:PORT",
              help="Parse on a Dask cluster instead of local processes (pip install 'sqllineage-harvester[dask]').")
@click.option("--follow", is_flag=True, help="Keep harvesting every --interval seconds until stopped "
              "(SIGTERM or Ctrl-C stops after the batch in hand); a timestamped line only for a pass that "
              "read something or met something new.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Seconds between passes with --follow.")
@click.option("--quiet", "-q", is_flag=True,
              help="Print only what makes the exit code non-zero: errors, files not read whole (for cron).")
@click.option("--progress-every", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="When stderr is not a terminal (cron, CI, kubectl logs): a timestamped progress line this "
                   "often (0: none). On a terminal a bar shows rows, bytes of the total, rate, ETA, statements "
                   "and the file being read.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="stderr as lines for people, or one JSON object a line (time, level, event, message) "
                   "for log collectors.")
@click.option("--date-shards", default=None, metavar="FORMS|off",
              help="Suffix forms of date-sharded tables (YYYYMMDD,YYYY_MM_DD,...): each family of shards and the "
                   "wildcard over it is one dataset. Default: the dialect file's (YYYYMMDD for BigQuery, off "
                   "for the others); off: every shard its own dataset.")
@click.option("--tag-rules", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="FILE", help="After each pass, tag the store's columns by this rules file (see `tag apply`); "
                                   "a live source's own column tags are always kept.")
@click.option("--emit", default=None, metavar="URL",
              help="Also send each batch's operations as OpenLineage RunEvents: http(s)://HOST:PORT (Marquez's "
                   "/api/v1/lineage; API key from $OPENLINEAGE_API_KEY), kafka://BROKER:PORT/TOPIC, file:///PATH. "
                   "At most once per operation and batch, even across a kill and a rerun.")
@click.option("--retire-after", default=None, metavar="AGE",
              help="Retire edges whose statements have not run within AGE (90d, 12w, 36h) of the newest time "
                   "harvested: kept in the store, queries leave them out (--include-retired shows them). "
                   "Nothing is deleted (see prune).")
@format_option("table", "json")
def harvest(source_url: str, dialect: str | None, store_url: str | None, since: str | None, until: str | None,
            mapping: str | None, namespace: str | None, catalog_path: str | None, no_sql_text: bool,
            batch_size: int, workers: str, memory: str, executor: str | None, follow: bool, interval: float, quiet: bool,
            progress_every: float, log_format: str, fmt: str, emit: str | None = None,
            config_path: str | None = None, only: str | None = None, date_shards: str | None = None,
            tag_rules: Path | None = None, retire_after: str | None = None) -> None:
    """Harvest a query log into the lineage store: one incremental pass.

    Reads the log after the cursor stored for it, parses each distinct statement
    once (repeats come from the cache), and writes operations, column lineage,
    usage and parse failures together with the new cursor, batch by batch. Run
    it again and it adds only what is new; kill it and it resumes where the last
    batch committed. A summary goes to stderr; --format json prints it on stdout.
    A file given that is not read whole (unreadable, cut short, not an export of
    --dialect) is named in a note; the rows read before the problem stay harvested.

    \b
    Exit codes:
      0    the run completed (unparseable statements and skipped rows are counted)
      1    the source or the store failed
      2    a usage or configuration error
      3    a file given was not read whole; what could be read is harvested
      75   another harvest of this source into this store is running (try later)
      130  stopped by SIGINT (Ctrl-C) after the batch in hand was written
      143  stopped by SIGTERM after the batch in hand was written

    \b
    Example:
      sqllineage-harvester harvest --source query_history.csv.gz --dialect snowflake \\
        --store sqlite:///lineage.db
      # one graph for a server's pg_stat_statements and its log files: postgres://db:5432
      sqllineage-harvester harvest --source postgresql://harvester@db:5432/app
      sqllineage-harvester harvest --source 'pglog:///var/log/postgresql?host=db&port=5432'
      # an engine's own log (trino, hive, impala): its lineage checked against ours
      sqllineage-harvester harvest --source /var/log/hive/hiveserver2.log --dialect hive
      # a month of a backfill (a slice with its own cursor), parsed on a Dask cluster
      sqllineage-harvester harvest --source /exports/ --dialect snowflake --since 2024-01-01 \\
        --until 2024-02-01 --executor dask://scheduler:8786 --store postgresql://lineage@db/lineage
      # crontab: silent when all is well; exit 3 and a note name a file not read whole
      */10 * * * * sqllineage-harvester harvest --source /exports/ --dialect snowflake --quiet
      # a service: one JSON line per pass that read something; exits 143 on SIGTERM
      sqllineage-harvester harvest --source mysql://harvester@db/performance_schema --follow \\
        --log-format json
      # every source of a deployment, secrets from the environment (see the README)
      PG_PASSWORD=... sqllineage-harvester harvest --config harvester.toml
    """
    if config_path:
        _run_config(click.get_current_context(), config_path, only)
    if not source_url:
        raise click.UsageError("give --source URL, or --config FILE")
    from ..harvest import harvest as run_harvest

    from .. import retire

    if retire_after:
        try:
            retire.window(retire_after)  # a bad age is a usage error before anything is read
        except ConfigError as e:
            _fail(e)  # one error: line, as every other bad value
    parse_workers = _workers(workers)
    shard_forms = _shard_forms(date_shards)
    budget = _size(memory)
    say = _Say(quiet=quiet, json_lines=log_format == "json", stamped=follow)
    stopping = _stop_on_signals(say)
    told: set[str] = set()  # with --follow, a note is told once
    whole = True
    try:
        check_location(source_url, "source")  # a malformed URL is one line before anything reads it
        note = _server_note(source_url, dialect, namespace)
        if note:
            say("info", "note", note)
        with _harvest_lock(source_url + (f"#window={since or ''}..{until}" if until else ""), store_url) as lock:
            if lock.note:
                say("warning", "note", lock.note)
            while True:
                notes: list[str] = []
                parts = _harvest_parts(source_url, dialect, store_url, since, until, mapping, namespace,
                                       catalog_path, no_sql_text, batch_size, parse_workers, notes, executor, budget,
                                       shard_forms)
                progress = None if quiet or log_format == "json" else _progress(progress_every)
                hook = _emitter(emit, parts)
                try:
                    report = run_harvest(*parts, progress=progress, stop=stopping.is_set, hook=hook)
                finally:
                    if progress is not None:
                        progress.close()
                    if hook is not None:
                        notes += hook.finish()
                notes += _default_namespace_note(parts[2].namespace, namespace)
                notes += tag_after_pass(parts, source_url, tag_rules)
                whole = whole and report.complete
                if retire_after:
                    notes.append(retire.keep(parts[1], retire_after))
                report.notes[:0] = notes  # the JSON report carries what stderr tells
                _tell(say, report, told if follow else None)
                if fmt == "json":
                    _print_report(report)
                if not follow or stopping.wait(interval):
                    break
    except HarvesterError as e:
        say("error", "error", str(e))
        sys.exit(e.exit_code)
    except KeyboardInterrupt:  # a second signal: stop now, inside the batch (its transaction is not committed)
        say("error", "stopped", "stopped at once by a second signal; the batch in hand was not written "
                                "(the next run reads it again)")
        sys.exit(128 + (stopping.signum or signal.SIGINT))
    if stopping.signum:
        sys.exit(128 + stopping.signum)
    if not whole:
        sys.exit(EXIT_NOT_WHOLE)


def _print_report(report: Any) -> None:
    """The JSON report on stdout. A reader gone by then (``| head -c 0``) changes nothing the run did:
    the exit code stays the run's (3 for a file not read whole), not the closed pipe's 0."""
    try:
        click.echo(json.dumps(report.as_dict()), nl=True)
        sys.stdout.flush()
    except BrokenPipeError:
        if not stdout_closed():
            raise
        quiet_stdout()


def _run_config(ctx: click.Context, path: str, only: str | None) -> None:
    """--config FILE: the harvest of each source of the file in turn (command-line options win);
    exits with the first non-zero code met, after all have run."""
    from ..config import load

    try:
        config = load(path)
        chosen = config.only(only)
        if ctx.params["follow"] and len(chosen) > 1:
            raise ConfigError("--follow keeps harvesting one source: add --only NAME (one service per source)")
    except ConfigError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    given = {n for n in ctx.params if ctx.get_parameter_source(n) is click.core.ParameterSource.COMMANDLINE}
    worst = 0
    for source in chosen:
        settings = {**({"store_url": config.store} if config.store else {}), **source.settings}
        params = {**ctx.params, "config_path": None, "only": None,
                  **{k: str(v) if k == "workers" else v for k, v in settings.items() if k not in given}}
        if not ctx.params["quiet"]:
            click.echo(f"harvest: [{source.name}]", err=True)
        try:
            ctx.invoke(harvest, **params)
        except SystemExit as e:
            worst = worst or (e.code if isinstance(e.code, int) else 1)
    sys.exit(worst)


def tag_after_pass(parts: tuple[Any, Any, Any], source_url: str, rules: Path | None) -> list[str]:
    """The live database's own column tags (PostgreSQL comments, a warehouse's ``tags_query``) and
    the rules file's, onto the store's columns; a catalog that cannot be read is a note."""
    from ..tags import tag_from_catalog
    from .tags import apply_rules_to

    source, store, options = parts
    notes = []
    scheme = source_url.split("://", 1)[0].lower() if "://" in source_url else ""
    try:
        if scheme in ("postgresql", "postgres"):
            from ..pgcatalog import read_catalog

            tag_from_catalog(store, options.namespace, read_catalog(source_url).tags)
        elif hasattr(source, "column_tags"):
            tag_from_catalog(store, options.namespace, source.column_tags())
    except HarvesterError as e:
        notes.append(f"the database's column tags were not read ({e})")
    if rules is not None:
        apply_rules_to(store, rules)
    return notes


def _emitter(url: str | None, parts: tuple[Any, Any, Any]) -> Any:
    """--emit URL: the harvest's hook that sends its batches as OpenLineage events."""
    if not url:
        return None
    from ..sources import source_identity

    try:
        from ..openlineage.emit import Emitter
    except ImportError as e:
        raise ConfigError("--emit needs the OpenLineage client: pip install 'sqllineage-harvester[openlineage]'") from e

    source, store, options = parts
    return Emitter(url, store, source_identity(source.url), options.dialect)


EXIT_NOT_WHOLE = 3  # the run went on past a file it could not read whole: a wrapper can tell it from 1
EXIT_BUSY = 75  # EX_TEMPFAIL (sysexits.h): another run holds the source; try again later


class HarvestBusy(HarvesterError):
    """Another harvest of the same source into the same store is running."""

    exit_code = EXIT_BUSY


def _tell(say: "_Say", report: Any, told: set[str] | None) -> None:
    """A pass's summary and notes (``report.notes``) on stderr. With --follow (``told`` given) a pass
    that read nothing and met nothing new says nothing, and each note is told once."""
    fresh = [n for n in report.notes if told is None or n not in told]
    if told is not None:
        if not report.rows_read and not fresh:
            return
        told.update(fresh)
    say("info", "summary", report.summary(), report=report.as_dict())
    for note in fresh:
        say(*(("error", "file_error") if note in report.file_errors else ("warning", "note")), note)


class _Say:
    """Lines for people on stderr, ``harvest: ...`` (after the UTC time with --follow), or one
    JSON object a line for log collectors; --quiet keeps errors only (what makes the exit non-zero)."""

    LABELS = {"summary": "harvest: ", "note": "harvest: note: ", "file_error": "harvest: note: ",
              "stopping": "harvest: ", "stopped": "harvest: ", "error": "error: "}

    def __init__(self, quiet: bool, json_lines: bool, stamped: bool) -> None:
        self.quiet, self.json_lines, self.stamped = quiet, json_lines, stamped
        self.at_line_start = not sys.stderr.isatty()  # a progress count may be on the line

    def __call__(self, level: str, event: str, message: str, **extra: Any) -> None:
        if self.quiet and level != "error":
            return
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        if self.json_lines:
            click.echo(json.dumps({"time": now, "level": level, "event": event, "message": message, **extra}),
                       err=True)
            return
        start = "" if self.at_line_start else "\r"
        click.echo(f"{start}{now + ' ' if self.stamped else ''}{self.LABELS[event]}{message}", err=True)


class _Stop:
    """Set by SIGTERM / SIGINT: the harvest stops after the batch in hand; a second one stops it now."""

    def __init__(self) -> None:
        import threading

        self.event, self.signum = threading.Event(), 0

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        return self.event.wait(seconds)


def _stop_on_signals(say: _Say) -> _Stop:
    stop = _Stop()

    def handler(signum: int, frame: Any) -> None:
        if stop.event.is_set():
            raise KeyboardInterrupt
        stop.signum = signum
        stop.event.set()
        say("info", "stopping", f"{signal.Signals(signum).name}: stopping after the batch in hand")

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    return stop


class _harvest_lock:
    """One harvester per (source, store) for each OS user on this machine: a second one exits 75.

    A courtesy, not a guard (each batch is written at most once whatever runs): a lock file that
    cannot be written is a note and the harvest goes on. The lock is a POSIX record lock, owned by
    this process alone: parse workers never hold it, and it ends with the process however it ends.
    """

    def __init__(self, source_url: str, store_url: str | None) -> None:
        import hashlib
        import tempfile

        key = hashlib.blake2b(f"{source_url}\x1f{store_url or ''}".encode(), digest_size=8).hexdigest()
        self.folder = Path(tempfile.gettempdir()) / f"sqllineage-harvester-{os.getuid()}"  # kept, one a user
        self.path = self.folder / f"{key}.lock"
        self.handle: Any = None
        self.note: str | None = None

    def __enter__(self) -> "_harvest_lock":
        import errno
        import fcntl

        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
            if self.folder.stat().st_uid != os.getuid():
                raise PermissionError(errno.EPERM, "the folder belongs to another user", str(self.folder))
            self.handle = self.path.open("a")
        except OSError as e:
            self.note = (f"no lock taken ({e.filename or self.path}: {e.strerror or e}); a second harvest of this "
                         f"source into this store would not be refused")
            return self
        try:
            fcntl.lockf(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            self.handle.close()
            if e.errno in (errno.EACCES, errno.EAGAIN):
                raise HarvestBusy("another harvest of this source into this store is running; not starting a "
                                  "second one (it would only repeat its work)") from e
            self.note = f"no lock taken ({self.path}: {e.strerror or e})"
            self.handle = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.handle is not None:
            self.handle.close()


EVENT_SCHEMES = ("openlineage", "openlineage+http")  # sources of OpenLineage events
# Sources whose entries carry their lineage (no dialect, nothing parsed) and name their own namespace.
LINEAGE_SCHEMES = EVENT_SCHEMES + ("mlflow", "mlflow+http", "mlflow+https", "mlflow+sqlite", "mlflow+postgresql",
                                   "mlflow+postgres", "mlflow+mysql")
# URL schemes whose database is plain from the scheme alone (a file needs --dialect).
SCHEME_DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "pglog": "postgres", "mysqllog": "mysql",
                   "snowflake": "snowflake",
                   "bigquery": "bigquery", "redshift": "redshift", "databricks": "databricks", "mysql": "mysql",
                   "mysql+pymysql": "mysql", "mariadb": "mariadb", "mariadb+pymysql": "mariadb", "trino": "trino"}


def _size(text: str) -> int:
    """--memory: bytes, or a number with K, M, G or T (powers of 1024).

    >>> _size("512M"), _size("1.5g"), _size("8388608")
    (536870912, 1610612736, 8388608)
    """
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = units.get(value[-1:], 1)
    try:
        size = int(float(value[:-1] if value[-1:] in units else value) * factor)
    except ValueError:
        size = 0
    if size < 1 << 20:
        raise click.BadParameter(f"{text!r} is not a memory size of 1M or more (512M, 2G, ...)", param_hint="--memory")
    return size


def _shard_forms(text: str | None) -> tuple[str, ...] | None:
    """--date-shards: suffix forms, comma-separated, or off (None: the dialect file's)."""
    if text is None:
        return None
    if text.strip().lower() in ("off", "none", ""):
        return ()
    from ..shards import ShardRule

    forms = tuple(f.strip() for f in text.split(",") if f.strip())
    try:
        ShardRule(forms)
    except ConfigError as e:
        raise click.BadParameter(str(e), param_hint="--date-shards") from e
    return forms


def _workers(text: str) -> int | None:
    """--workers: a count, or auto (None: one per core)."""
    if text.strip().lower() == "auto":
        return None
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise click.BadParameter(f"{text!r} is not a number of workers (1 or more, or auto)", param_hint="--workers")
    return count


def _harvest_parts(source_url: str, dialect: str | None, store_url: str | None, since: str | None,
                   until: str | None, mapping: str | None, namespace: str | None, catalog_path: str | None,
                   no_sql_text: bool, batch_size: int, workers: int | None, notes: list[str],
                   executor: str | None = None, memory: int | None = None,
                   date_shards: tuple[str, ...] | None = None) -> tuple[Any, Any, Any]:
    from ..dialects import get_dialect
    from ..harvest import Options
    from ..sources import open_source, window

    scheme = source_url.split("://", 1)[0].lower() if "://" in source_url else ""
    events = scheme in LINEAGE_SCHEMES  # OpenLineage events, MLflow runs carry their lineage: nothing parsed
    dialect = dialect or SCHEME_DIALECTS.get(scheme)
    if not dialect and not events:
        raise ConfigError("--dialect is required for a file source (see `sqllineage-harvester dialects`)")
    spec = get_dialect(dialect) if dialect else None
    source = open_source(_log_path(source_url), spec, mapping)
    own_namespace = getattr(source, "namespace", None)  # a source that names its own (mlflow://HOST:PORT)
    if since or until:
        if spec and getattr(spec.history, "kind", None) == "cumulative" and scheme in ("postgresql", "postgres"):
            raise ConfigError("--since / --until need a log with execution times; pg_stat_statements keeps "
                              "totals only (harvest the server's log files, pglog://, for a window)")
        source = window(source, since, until)
    store = _open_store(store_url)
    catalog = None if spec is None else _catalog(
        catalog_path, source_url if scheme in ("postgresql", "postgres") else None, spec.sqlglot, source, notes)
    options = Options(dialect=spec.sqlglot if spec else None,
                      namespace=namespace or own_namespace or _namespace(source_url, spec.name if spec else "openlineage"),
                      catalog=catalog, store_sql=not no_sql_text, batch_size=batch_size, workers=workers,
                      executor=executor, date_shards=date_shards if date_shards is not None else (spec.date_shards if spec else ()),
                      **({"memory": memory} if memory else {}))
    return source, store, options


def _catalog(path: str | None, live_url: str | None, dialect: str, source: Any = None,
             notes: list[str] | None = None) -> Any:
    """--catalog FILE.json or postgresql://...; a live source is its own catalog by default
    (PostgreSQL's information_schema, a warehouse's ``catalog_query``). A live catalog that
    cannot be read is a note, not a failure: the harvest then uses the copy the store keeps."""
    url = path if path and "://" in path else (live_url if not path else None)
    try:
        if url:
            from ..pgcatalog import read_catalog

            return read_catalog(url).tables
        if path is None and hasattr(source, "catalog"):
            return source.catalog()
    except HarvesterError as e:
        note = f"the catalog was not read ({e}); using the copy kept in the store"
        if notes is None:
            click.echo(f"harvest: note: {note}", err=True)
        else:
            notes.append(note)
        return None
    return load_catalog(path, dialect)


def _namespace(source_url: str, dialect_name: str) -> str:
    """OpenLineage's naming conventions (``naming.spec_namespace``): ``DIALECT://host:port`` of the
    server the log comes from (the database's usual port when the URL gives none), Redshift's
    ``redshift://CLUSTER.REGION:PORT``, Snowflake's account, BigQuery's ``bigquery`` (its names
    carry the project); ``DIALECT://default`` when the server is not known.

    >>> _namespace("pglog:///var/log/postgresql?host=db&port=5433", "postgres")
    'postgres://db:5433'
    """
    from ..naming import spec_namespace

    if dialect_name == "bigquery":  # the spec's namespace for every BigQuery table: its names carry the project
        return "bigquery"
    host, port = _server(source_url)
    if not host:
        return f"{dialect_name}://default"
    port = port or DEFAULT_PORTS.get(dialect_name)
    # the spec's form where it has one: Redshift's cluster.region:port, Snowflake's account identifier
    return spec_namespace(f"{dialect_name}://{host}:{port}" if port else f"{dialect_name}://{host}")


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


ENGINE_LOGS = ("hive", "trino", "impala")  # engines' own logs: no line of them names the server


def _default_namespace_note(used: str, given: str | None) -> list[str]:
    """For an engine's log harvested without --namespace (``given``) into DIALECT://default: where
    its datasets went and how to name the server (a note with the summary).

    >>> _default_namespace_note("hive://default", None)[0][:50]
    'the datasets went into namespace hive://default: t'
    >>> _default_namespace_note("hive://default", "hive://default"), _default_namespace_note("trino://t:8080", None)
    ([], [])
    """
    engine, _, server = used.partition("://")
    if given or engine not in ENGINE_LOGS or server != "default":
        return []
    return [f"the datasets went into namespace {used}: this log does not say which server wrote it; "
            f"name it with --namespace {engine}://HOST:PORT (the same on every harvest of it)"]


def _progress(every: float = 30.0) -> Any:
    """Where the harvest is, on stderr: a bar on a terminal, a timestamped line every ``every``
    seconds elsewhere (``progress.reporter``); None with ``every`` 0 off a terminal."""
    from ..progress import reporter

    if not every and not sys.stderr.isatty():
        return None
    return reporter(sys.stderr, every)
