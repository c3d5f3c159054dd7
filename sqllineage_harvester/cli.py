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
        options = dict(catalog=catalog, default_database=default_database, default_schema=default_schema,
                       timeout=timeout, collapse_temp=collapse_temp, columns=level == "column")
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


if __name__ == "__main__":  # pragma: no cover
    main()
