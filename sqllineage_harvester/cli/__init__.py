"""The command line: a thin skin over the library.

Exit codes: 0 the run completed (statement errors are reported, not fatal),
1 a source or store failed, 2 a usage or configuration error; harvest also 3 (a file
not read whole), 75 (another harvest is running), 130 / 143 (stopped by a signal).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from .. import __version__
from ..errors import ConfigError, HarvesterError
from ..extract import Catalog



EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True,
        help="table for people; json for machines (one JSON document)"
             + ("; dot / mermaid / html: a drawing" if {"dot", "mermaid", "html"} & set(choices) else "") + ".",
    )


def output_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Write to this file instead of stdout.")(func)


def write_output(text: str, output: Path | None) -> None:
    """``text`` to stdout, or to ``output`` (a usage error when it cannot be written)."""
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot write {output}: {e.strerror or e}") from e


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
    1 a source or store failed, 2 usage or configuration error; harvest also
    3 a file not read whole, 75 another harvest is running, 130 / 143 stopped
    by Ctrl-C / SIGTERM after the batch in hand.
    """


# The commands, one module per group, register themselves on ``main``.

from . import demo, explore, export, harvest, model, parse, query, retire, tags, validate, web  # noqa: E402,F401  (each registers its commands)
