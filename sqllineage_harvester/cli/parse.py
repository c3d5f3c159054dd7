"""`parse`: SQL text -> per-statement lineage, no store."""

from __future__ import annotations

import json
import sys

from typing import Any, Iterator, TextIO

import click

from ..errors import ConfigError, HarvesterError
from ..extract import DEFAULT_TIMEOUT, Catalog, extract, resolve_dialect
from ..render import statement_json, statements_table
from . import _fail, format_option, load_catalog, main, naming_options


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
@click.option("--redact", is_flag=True,
              help="Replace the literals and comments that reach the output (names made from expressions, "
                   "errors, warnings), as the harvest does: for sharing the output.")
def parse(file: Any, dialect: str | None, catalog_path: str | None, default_database: str | None,
          default_schema: str | None, fmt: str, input_format: str, timeout: float, collapse_temp: bool,
          level: str, redact: bool) -> None:
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
      sqllineage-harvester parse --dialect mysql --redact query.sql > to_share.txt
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
            _emit(_redacted(extract(text, dialect, **options), dialect, redact), fmt, sys.stdout)
        else:
            for line_no, record in _jsonl(data):
                _parse_record(line_no, record, dialect, options, fmt, redact)
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


def _redacted(results: list, dialect: str | None, redact: bool) -> list:
    """With --redact, the results as the harvest keeps them: no literal in a name or a message."""
    from ..graph import sanitize

    return [sanitize(r, dialect) for r in results] if redact else results


def _parse_record(line_no: int, record: Any, dialect: str | None, options: dict, fmt: str,
                  redact: bool = False) -> None:
    from ..model import StatementLineage

    ident = record.get("id", line_no) if isinstance(record, dict) else line_no
    problem = None
    if isinstance(record, Exception):
        problem = f"line {line_no} is not JSON: {record}"
    elif not isinstance(record, dict) or not isinstance(record.get("sql"), str):
        problem = f"line {line_no} has no 'sql' text"
    else:
        problem = _wrong_type(record, line_no)
    if problem is None:
        try:
            own = resolve_dialect(record.get("dialect")) or dialect
            local = dict(options)
            if record.get("catalog") is not None:
                local["catalog"] = Catalog.from_mapping(record["catalog"], own)
            for key in ("default_database", "default_schema"):
                if record.get(key):
                    local[key] = record[key]
            _emit(_redacted(extract(record["sql"], own, **local), own, redact), fmt, sys.stdout, ident=ident)
            return
        except ConfigError as e:
            problem = f"line {line_no}: {e}"
    _emit([StatementLineage(index=0, kind="other", error=problem)], fmt, sys.stdout, ident=ident)


# The optional fields of a jsonl record and the JSON type each must have when given.
RECORD_FIELDS = {"catalog": (dict, "a JSON object of tables"), "dialect": (str, "text"),
                 "default_database": (str, "text"), "default_schema": (str, "text")}
JSON_TYPES = {dict: "an object", list: "a list", str: "text", bool: "true or false", int: "a number",
              float: "a number"}


def _wrong_type(record: dict, line_no: int) -> str | None:
    """Why a record's optional field cannot be used (its JSON type), or None."""
    for name, (kind, wanted) in RECORD_FIELDS.items():
        value = record.get(name)
        if value is not None and not isinstance(value, kind):
            return f"line {line_no}: {name!r} must be {wanted}, not {JSON_TYPES.get(type(value), 'that')}"
    return None


def _emit(results: list, fmt: str, out: TextIO, ident: Any = None) -> None:
    extra = {"id": ident} if ident is not None else {}
    if fmt == "json":
        for r in results:
            out.write(statement_json(r, **extra) + "\n")
    else:
        out.write(statements_table(results, label=None if ident is None else f"id {ident}") + "\n")
    out.flush()


# -- harvesting and queries ---------------------------------------------------
