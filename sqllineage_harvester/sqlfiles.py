"""SQL files and folders -> lineage, file by file: what ``parse`` reads.

The paths a user gives (files, folders searched for ``*.sql`` at any depth, ``-`` for standard
input) become a list of files; each file is its own script (no state from the files before it)
unless they share one session, in order. Files are parsed on worker processes where asked (one
process per file would pay sqlglot's start-up each time); the answer comes back per file, in the
order the files were given, already rendered, so the output is the same whatever the workers.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .extract import Catalog, extract, new_session, resolve_dialect
from .model import StatementLineage
from .render import statement_json, statements_table

STDIN = "-"
CHUNK = 8  # files a worker task
FEW = 8  # files parsed in this process whatever the workers (as the harvest does a few statements)


@dataclass(frozen=True)
class Settings:
    """How every file is parsed and printed (the ``parse`` options)."""

    dialect: str | None
    catalog: Catalog | None = None
    default_database: str | None = None
    default_schema: str | None = None
    timeout: float | None = None
    collapse_temp: bool = False
    columns: bool = True
    redact: bool = False
    input_format: str = "sql"  # sql | jsonl
    fmt: str = "table"  # table | json | dot | mermaid | html (the last three: drawn by the caller, once)
    keep: bool = False  # each FileResult carries its statements' results (a summary or a graph is made of them)
    headings: bool = False  # a heading per file in the table format


@dataclass(frozen=True)
class FileResult:
    """One file's answer, rendered, and what it counts."""

    path: str
    output: str
    statements: int
    errors: int
    notes: tuple[str, ...] = ()  # for stderr: bytes that were not UTF-8
    unreadable: bool = False  # the file could not be read (reported as an error object too)
    results: tuple[StatementLineage, ...] = ()  # with Settings.keep


def expand(paths: list[str], notes: list[str] | None = None) -> list[str]:
    """The files the paths name, in the order given; a folder's ``*.sql`` files at any depth,
    sorted. A path that does not exist, or paths that name no file at all, are a usage error; a
    folder without SQL files is a note."""
    out: list[str] = []
    for path in paths or [STDIN]:
        if path == STDIN or os.path.isfile(path):
            out.append(path)
        elif os.path.isdir(path):
            found = sorted(str(p) for p in Path(path).rglob("*") if p.suffix.lower() == ".sql" and p.is_file())
            if not found and notes is not None:
                notes.append(f"{path}: no *.sql file in this folder")
            out += found
        else:
            raise ConfigError(f"no such file or folder: {path}")
    if not out:
        raise ConfigError(f"no *.sql file in {', '.join(paths)}")
    return out


def read(path: str, stdin: Callable[[], bytes] | None = None) -> bytes:
    if path == STDIN:
        if stdin is None:
            raise ConfigError("standard input (-) can only be read once, by the parse's own process")
        return stdin()
    with open(path, "rb") as f:
        return f.read()


def parse_one(path: str, settings: Settings, data: bytes | None = None, session: Any = None) -> FileResult:
    """One file, parsed and rendered (``data``: its bytes, read already)."""
    try:
        raw = read(path) if data is None else data
    except OSError as e:
        failure = StatementLineage(index=0, kind="other", error=f"cannot read file: {e.strerror or e}")
        return FileResult(path, _render(path, [(None, [failure])], settings), 1, 1, unreadable=True,
                          results=(failure,) if settings.keep else ())
    text, notes = _decode(raw, path)
    if settings.input_format == "jsonl":
        groups = [(ident, _record(line_no, record, settings)) for line_no, ident, record in _jsonl(text)]
    else:
        groups = [(None, _parsed(text, settings.dialect, settings, session=session))]
    count = sum(len(r) for _, r in groups)
    errors = sum(1 for _, r in groups for s in r if s.error)
    kept = tuple(r for _, rs in groups for r in rs) if settings.keep else ()
    return FileResult(path, _render(path, groups, settings), count, errors, notes, results=kept)


_settings: Settings | None = None  # in a worker: the settings every file is parsed with, sent once


def _start(parent: int | None, settings: Settings) -> None:
    from .executors import _worker_start

    global _settings
    _worker_start(parent)
    _settings = settings


def parse_many(paths: list[str]) -> list[FileResult]:
    """A chunk of files in one worker task."""
    assert _settings is not None
    return [parse_one(p, _settings) for p in paths]


def parse_files(paths: list[str], settings: Settings, workers: int = 1, shared_session: bool = False,
                stdin: Callable[[], bytes] | None = None) -> Iterator[FileResult]:
    """Every file's answer, in order. ``shared_session``: the files are one script (in this
    process); else each its own, on ``workers`` processes when there are more files than one."""
    if shared_session:
        session = new_session(settings.dialect, catalog=settings.catalog, default_database=settings.default_database,
                              default_schema=settings.default_schema, columns=settings.columns)
        for path in paths:
            yield parse_one(path, settings, read(path, stdin) if path == STDIN else None, session)
        return
    local = [p for p in paths if p == STDIN]
    if workers <= 1 or len(paths) - len(local) <= FEW:  # workers would cost more to start than they save
        for path in paths:
            yield parse_one(path, settings, read(path, stdin) if path == STDIN else None)
        return
    yield from _on_workers(paths, settings, workers, stdin)


def _on_workers(paths: list[str], settings: Settings, workers: int,
                stdin: Callable[[], bytes] | None) -> Iterator[FileResult]:
    parent = os.getpid() if multiprocessing.get_start_method() == "fork" else None  # see executors._worker_start
    with ProcessPoolExecutor(max_workers=workers, initializer=_start, initargs=(parent, settings)) as pool:
        pending = []
        todo = list(paths)
        while todo:
            if todo[0] == STDIN:  # standard input is this process's to read
                pending.append(("local", todo.pop(0)))
                continue
            chunk = []
            while todo and todo[0] != STDIN and len(chunk) < CHUNK:
                chunk.append(todo.pop(0))
            pending.append(("pool", pool.submit(parse_many, chunk)))
        for where, job in pending:
            if where == "local":
                yield parse_one(job, settings, read(job, stdin))
            else:
                yield from job.result()


def _parsed(sql: str, dialect: str | None, settings: Settings, catalog: Catalog | None = None,
            database: str | None = None, schema: str | None = None, session: Any = None) -> list[StatementLineage]:
    results = extract(sql, dialect, catalog=catalog or settings.catalog,
                      default_database=database or settings.default_database,
                      default_schema=schema or settings.default_schema, timeout=settings.timeout,
                      collapse_temp=settings.collapse_temp, columns=settings.columns, session=session)
    if settings.redact:
        from .graph import sanitize

        results = [sanitize(r, dialect) for r in results]
    return results


def _decode(data: bytes, path: str) -> tuple[str, tuple[str, ...]]:
    try:
        return data.decode("utf-8"), ()
    except UnicodeDecodeError:
        where = "input" if path == STDIN else path
        return data.decode("utf-8", errors="replace"), (f"{where} is not UTF-8; undecodable bytes were replaced",)


def _jsonl(text: str) -> Iterator[tuple[int, Any, Any]]:
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as e:
            record = e
        ident = record.get("id", line_no) if isinstance(record, dict) else line_no
        yield line_no, ident, record


# The optional fields of a jsonl record and the JSON type each must have when given.
RECORD_FIELDS = {"catalog": (dict, "a JSON object of tables"), "dialect": (str, "text"),
                 "default_database": (str, "text"), "default_schema": (str, "text")}
JSON_TYPES = {dict: "an object", list: "a list", str: "text", bool: "true or false", int: "a number",
              float: "a number"}


def _record(line_no: int, record: Any, settings: Settings) -> list[StatementLineage]:
    """One jsonl line's statements; a line that cannot be used is one error."""
    if isinstance(record, Exception):
        problem: str | None = f"line {line_no} is not JSON: {record}"
    elif not isinstance(record, dict) or not isinstance(record.get("sql"), str):
        problem = f"line {line_no} has no 'sql' text"
    else:
        problem = _wrong_type(record, line_no)
    if problem is None:
        try:
            own = resolve_dialect(record.get("dialect")) or settings.dialect
            catalog = Catalog.from_mapping(record["catalog"], own) if record.get("catalog") is not None else None
            return _parsed(record["sql"], own, settings, catalog, record.get("default_database"),
                           record.get("default_schema"))
        except ConfigError as e:
            problem = f"line {line_no}: {e}"
    return [StatementLineage(index=0, kind="other", error=problem)]


def _wrong_type(record: dict, line_no: int) -> str | None:
    """Why a record's optional field cannot be used (its JSON type), or None."""
    for name, (kind, wanted) in RECORD_FIELDS.items():
        value = record.get(name)
        if value is not None and not isinstance(value, kind):
            return f"line {line_no}: {name!r} must be {wanted}, not {JSON_TYPES.get(type(value), 'that')}"
    return None


def _render(path: str, groups: list[tuple[Any, list[StatementLineage]]], settings: Settings) -> str:
    """A file's output: JSON lines with ``file`` (and a jsonl line's ``id``), or readable blocks
    under a heading naming the file; nothing for a graph format (the whole run is one graph)."""
    if settings.fmt not in ("table", "json"):
        return ""
    if settings.fmt == "json":
        return "".join(statement_json(r, file=path, **({"id": ident} if ident is not None else {})) + "\n"
                       for ident, results in groups for r in results)
    blocks = [statements_table(results, label=None if ident is None else f"id {ident}") + "\n"
              for ident, results in groups]
    if not settings.headings:
        return "".join(blocks)
    return f"== {path} ==\n" + "".join(blocks) + "\n"


__all__ = ["FileResult", "Settings", "expand", "parse_files", "parse_one"]
