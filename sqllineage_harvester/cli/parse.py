"""`parse`: SQL files, folders or standard input -> per-statement lineage, no store."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable

import click

from ..errors import HarvesterError
from ..extract import DEFAULT_TIMEOUT, resolve_dialect
from ..script_graph import Step, operation_details, owner, script_graph, separate_temps, steps, summarize
from ..sqlfiles import STDIN, FileResult, Settings, expand, parse_files
from . import _fail, load_catalog, main, naming_options

GRAPH_FORMATS = ("dot", "mermaid", "html")
PROGRESS_AFTER = 2.0  # seconds: a run longer than this shows its progress (on a terminal)


@main.command()
@click.argument("paths", nargs=-1, metavar="[FILE|FOLDER|-]...")
@naming_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", *GRAPH_FORMATS]), default="table",
              show_default=True,
              help="table for people; json for machines (one object per line); dot (Graphviz), mermaid or html "
                   "(the lineage view's page, one self-contained file): the files given drawn as one graph, "
                   "columns inside their tables.")
@click.option("--summary", is_flag=True,
              help="After each script (a file, or all of them with --shared-session): its source, target and "
                   "intermediate tables and the column chains through it (table and json formats).")
@click.option("--input-format", type=click.Choice(["sql", "jsonl"]), default="sql", show_default=True,
              help="sql: a script; jsonl: one object per line with sql and optional id, dialect, catalog, "
                   "default_database, default_schema.")
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds one statement may take before it is reported as timed out (0: no limit).")
@click.option("--collapse-temp", is_flag=True, help="Fold temp tables away: a -> tmp -> b reads a -> b.")
@click.option("--level", type=click.Choice(["column", "table"]), default="column", show_default=True,
              help="table: only what each statement reads and writes (several times faster).")
@click.option("--redact", is_flag=True,
              help="Replace the literals and comments that reach the output (names made from expressions, "
                   "errors, warnings), as the harvest does: for sharing the output.")
@click.option("--shared-session", is_flag=True,
              help="The files are one script, in the order given: USE, search_path and tables created in one "
                   "serve the next (by default each file is its own script).")
@click.option("--workers", default="auto", show_default=True, metavar="N|auto",
              help="Processes that parse files at once: auto is one per core; 1, a handful of files, or "
                   "--shared-session (files in order) parse in this process.")
def parse(paths: tuple[str, ...], dialect: str | None, catalog_path: str | None, default_database: str | None,
          default_schema: str | None, fmt: str, input_format: str, timeout: float, collapse_temp: bool,
          level: str, redact: bool, shared_session: bool, workers: str, summary: bool) -> None:
    """Print the table- and column-level lineage of SQL statements.

    Reads each FILE, each FOLDER's *.sql files (at any depth, in name order), or standard input
    ("-", the default). Each statement is reported with what it reads, what it writes, and for
    every written column its direct source columns and transform (IDENTITY, TRANSFORMATION,
    AGGREGATION); JOIN/FILTER/GROUP_BY/SORT/WINDOW/CONDITIONAL influences are listed apart as
    indirect. A statement that cannot be parsed carries an error; the others still run (exit 0).
    With files, every JSON object names its "file" and the table format has a heading per file;
    each file is its own script unless --shared-session. Runs over many files show their progress
    and close with a summary (files, statements, errors, time a file) on stderr. A file that
    cannot be read is an error object for it, and the run exits 1 once the others are parsed.

    --summary closes each script with what it does with tables: sources (read, never written),
    targets (written, never read after), intermediates (written, then read: temp tables, a CTAS
    chain's steps) and the column chains from source columns through them to target columns.
    --format dot|mermaid|html draws every file given as one graph instead of listing statements.

    \b
    Example:
      echo "INSERT INTO mart.t SELECT a, sum(b) AS s FROM raw.u GROUP BY a" \\
        | sqllineage-harvester parse --dialect postgres --format json
      sqllineage-harvester parse --dialect mysql --redact query.sql > to_share.txt
      sqllineage-harvester parse -d bigquery --workers auto --format json sql/ > lineage.jsonl
      sqllineage-harvester parse -d snowflake --shared-session --summary etl/*.sql
      sqllineage-harvester parse -d postgres --format html --redact etl/ > etl.html
    """
    try:
        dialect = resolve_dialect(dialect)
        notes: list[str] = []
        files = expand(list(paths), notes)
        for note in notes:
            click.echo(f"note: {note}", err=True)
        settings = Settings(dialect=dialect, catalog=load_catalog(catalog_path, dialect),
                            default_database=default_database, default_schema=default_schema, timeout=timeout,
                            collapse_temp=collapse_temp, columns=level == "column", redact=redact,
                            input_format=input_format, fmt=fmt, headings=files != [STDIN],
                            keep=summary or fmt in GRAPH_FORMATS)
        count = _workers(workers)
        failed = _run(files, settings, count, shared_session, many=len(files) > 1 or any(
            p != STDIN and not _is_file(p) for p in paths), summary=summary)
    except HarvesterError as e:
        _fail(e)
    if failed:
        sys.exit(1)


def _is_file(path: str) -> bool:
    import os

    return os.path.isfile(path)


def _workers(text: str) -> int:
    from ..executors import cpu_count
    from .harvest import _workers as workers

    return workers(text) or cpu_count()  # harvest's reading of --workers: None is auto


def _run(files: list[str], settings: Settings, workers: int, shared: bool, many: bool, summary: bool = False) -> bool:
    """Parse and print every file (with its summary, or drawn as one graph); whether one could
    not be read."""
    started = time.perf_counter()
    tick = _progress(len(files), started) if many else None
    done = statements = errors = 0
    unreadable = []
    drawn = settings.fmt in GRAPH_FORMATS
    script: list[Step] = []
    for result in parse_files(files, settings, workers, shared, stdin=sys.stdin.buffer.read):
        sys.stdout.write(result.output)
        if settings.keep:
            script += steps(result.path, result.results)
            if summary and not shared and not drawn:
                sys.stdout.write(_summary(script, settings.fmt, result.path))
                script = []
        sys.stdout.flush()
        for note in result.notes:
            click.echo(f"warning: {note}", err=True)
        if result.unreadable:
            unreadable.append(result.path)
        done, statements, errors = done + 1, statements + result.statements, errors + result.errors
        if tick:
            tick(done)
    if summary and shared and not drawn:
        sys.stdout.write(_summary(script, settings.fmt, None))
    if drawn:
        sys.stdout.write(_drawing(script, settings.fmt, files, shared))
    if many:
        seconds = time.perf_counter() - started
        click.echo(f"{_clear()}parse: {done:,} file{'s' * (done != 1)}, {statements:,} statement{'s' * (statements != 1)}, "
                   f"{errors:,} with an error"
                   f"{f', {len(unreadable)} files not read' if unreadable else ''}; {seconds:.1f} s "
                   f"({1000 * seconds / max(done, 1):.1f} ms a file)", err=True)
    for path in unreadable:
        click.echo(f"error: {path} could not be read (its error object says why)", err=True)
    return bool(unreadable)


def _summary(script: list[Step], fmt: str, path: str | None) -> str:
    """A script's summary: a JSON line (``script``, and the ``file`` of a one-file script) or a block."""
    from ..render import summary_dict, summary_table

    done = summarize(script)
    if fmt == "json":
        return json.dumps({"script": summary_dict(done), **({"file": path} if path else {})}, ensure_ascii=False) + "\n"
    return summary_table(done) + "\n\n"


def _drawing(script: list[Step], fmt: str, files: list[str], shared: bool) -> str:
    """Every file's statements as one graph, drawn by the renderers of query answers; files that
    are scripts of their own keep their temp tables apart."""
    title = f"lineage of {files[0] if files[0] != STDIN else 'standard input'}" if len(files) == 1 else \
        f"lineage of {len(files)} files"
    if not shared and len(files) > 1:
        script = separate_temps(script)
    graph = script_graph(script, title)
    if fmt != "html":
        from ..render_graph import render_graph

        return render_graph(graph, fmt) + "\n"
    from ..web.page import file_page
    from ..web.view import graph_data

    return file_page(graph_data(graph, owner, operation_details(script)), title)


def _clear() -> str:
    return "\r\033[K" if sys.stderr.isatty() else ""


def _progress(total: int, started: float) -> Callable[[int], None] | None:
    """A running count of files on stderr, when a person is watching a run that takes a while."""
    if not sys.stderr.isatty():
        return None

    def tick(done: int) -> None:
        spent = time.perf_counter() - started
        if spent >= PROGRESS_AFTER:
            click.echo(f"\rparse: {done:,} of {total:,} files ({done / spent:,.0f} files/s)", err=True, nl=False)

    return tick


__all__: list[Any] = ["parse"]
