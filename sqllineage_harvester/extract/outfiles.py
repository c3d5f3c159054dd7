"""``SELECT .. INTO OUTFILE 'path'`` / ``INTO DUMPFILE`` (MySQL, MariaDB): a query's rows written to
a file on the server, which sqlglot cannot read. The clause, with its FIELDS / LINES / CHARACTER SET
options, is taken out wherever it stands (after the select list or at the end), the query analysed
as it is, and the file is what the statement writes (a ``copy``, as UNLOAD's)."""

from __future__ import annotations

import re
from dataclasses import replace

from ..model import DatasetRef, StatementLineage

_STRING = r"'(?:[^'\\]|\\.|'')*'"
# The clause, outside string literals and quoted names (matched whole first, and passed over).
_OUTFILE = re.compile(
    rf"""{_STRING}|"(?:[^"\\]|\\.|"")*"|`[^`]*`|"""
    rf"(?P<clause>\bINTO\s+(?:OUTFILE|DUMPFILE)\s+(?P<path>{_STRING})"
    rf"(?:\s+(?:CHARACTER\s+SET\s+\w+|FIELDS|COLUMNS|LINES|OPTIONALLY|(?:TERMINATED|ENCLOSED|ESCAPED|STARTING)\s+BY\s+{_STRING}))*)",
    re.IGNORECASE)


def split_outfile(text: str) -> tuple[str, str] | None:
    """The statement without its INTO OUTFILE clause, and the file's path; None when it has none."""
    if "FILE" not in text.upper():
        return None
    match = next((m for m in _OUTFILE.finditer(text) if m.group("clause")), None)
    if match is None:
        return None
    path = match.group("path")[1:-1].replace("''", "'")
    return text[: match.start()] + " " + text[match.end():], path


def to_file(result: StatementLineage, path: str) -> StatementLineage:
    """A SELECT's lineage as the copy of its rows into the file ``path``."""
    if not result.ok or result.kind != "select":
        return result
    return replace(result, kind="copy", outputs=(DatasetRef(path, "file"),), columns=())
