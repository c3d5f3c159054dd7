"""The command line: a thin skin over the library.

Exit codes: 0 the run completed (statement errors are reported, not fatal),
1 a source or store failed, 2 a usage or configuration error; harvest also 3 (a file
not read whole), 75 (another harvest is running), 130 / 143 (stopped by a signal).
A reader that stops early (`... | head`) ends any command quietly with 0 (``closed_pipe_ends_quietly``).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from .. import __version__
from ..errors import ConfigError, HarvesterError
from ..extract import Catalog



EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# A reader that went away (`demo | head -3`) is no failure of ours: 0, as ripgrep or fd end. Not 141
# (128 + SIGPIPE, coreutils' death by the signal): CPython cannot always tell, since a write cut
# short as the reader closes returns early without an error, and the code must not depend on timing.
EXIT_CLOSED_PIPE = EXIT_OK


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


def stdout_closed() -> bool:
    """Whether the reader of stdout went away: the OS says so of the pipe (POLLERR). Without
    poll (Windows) a broken pipe is taken to be stdout's, as click takes it."""
    import select

    if not hasattr(select, "poll"):
        return True
    try:
        poller = select.poll()
        poller.register(sys.__stdout__.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):
        return True


@contextmanager
def closed_pipe_ends_quietly() -> Iterator[None]:
    """A reader that stops early (`demo | head -3`) ends the command with exit 0 and no message.
    stdout is pointed at /dev/null first, so the interpreter's own flush at exit finds nothing to
    complain about. A broken pipe that is not stdout's (a socket, a worker) is an error (exit 1)."""
    try:
        yield
    except BrokenPipeError as e:
        if not stdout_closed():
            click.echo(f"error: {HarvesterError(str(e))}", err=True)
            sys.exit(EXIT_FAILED)
        quiet_stdout()
        sys.exit(EXIT_CLOSED_PIPE)


def quiet_stdout() -> None:
    """Point stdout, whose reader went away, at /dev/null: what is printed later (and the
    interpreter's flush at exit) goes nowhere instead of failing."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    except (AttributeError, OSError, ValueError):
        pass


class Harvester(click.Group):
    """The command group, with a closed stdout pipe handled once for every command (click's own
    handling exits 1, a failure code, which a scheduler would take for a failed store)."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with closed_pipe_ends_quietly():  # --help and --version print while the arguments are read
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with closed_pipe_ends_quietly():
            result = super().invoke(ctx)
            sys.stdout.flush()  # what print() left in the buffer fails here, not at the interpreter's exit
            return result


@click.group(cls=Harvester, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sqllineage-harvester")
def main() -> None:
    """Column-level lineage from the query logs your databases already keep.

    Exit codes: 0 completed (unparseable statements are counted, not fatal),
    1 a source or store failed, 2 usage or configuration error; harvest also
    3 a file not read whole, 75 another harvest is running, 130 / 143 stopped
    by Ctrl-C / SIGTERM after the batch in hand. A reader that stops early
    (`... | head`) ends a command quietly, with 0.
    """


# The commands, one module per group, register themselves on ``main``.

from . import demo, explore, export, harvest, model, parse, query, retire, tags, validate, web  # noqa: E402,F401  (each registers its commands)
