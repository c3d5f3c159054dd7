"""Property: whatever literals a statement carries, in whatever lexical position and quoting style
its dialect has, none of them reaches the redacted text, the store, the harvest's output or
`stats`; quoted names survive, and statements that differ only in literal values share a
fingerprint.

Each generated literal hides a marker (``zq`` + 8 random letters and digits, or a number of 10 to
12 digits) inside random noise that is hard for a lexer: quotes, backslashes (a trailing one too),
dollar signs, comment marks, newlines, non-ASCII letters.
"""

from __future__ import annotations

import gc
import json
import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqllineage_harvester.cli import main
from sqllineage_harvester.dialects import get_dialect, list_dialects
from sqllineage_harvester.normalize import fingerprint, redact
from sqllineage_harvester.redact import lexicon, redact_with

@pytest.fixture(autouse=True, scope="module")
def _process_left_as_found():
    """What these tests change in the test process, put back: the harvest command's SIGTERM /
    SIGINT handlers, and the gc callback Hypothesis leaves installed to time collections (an
    alarm that fires inside a gc callback, such as extract's time limit, is swallowed by gc)."""
    callbacks = list(gc.callbacks)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    gc.callbacks[:] = callbacks
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


NOISE = st.text(alphabet="ab '\"\\$#-/*;\n\t{}éüß€1", max_size=6)
MARKER = st.from_regex(r"zq[a-z0-9]{8}", fullmatch=True)
NUMBER = st.integers(10**9, 10**12 - 1).map(str)


def _doubled(q: str, backslashes: bool = False) -> Callable[[str], str]:
    """q..q with q written twice inside (and a backslash too, where backslashes escape)."""
    return lambda v: q + (v.replace("\\", "\\\\") if backslashes else v).replace(q, q + q) + q


def _backslashed(q: str, prefix: str = "") -> Callable[[str], str]:
    return lambda v: prefix + q + v.replace("\\", "\\\\").replace(q, "\\" + q) + q


def _without(q: str, *bad: str, prefix: str = "") -> Callable[[str], str]:
    def quote(v: str) -> str:
        for b in bad:
            v = v.replace(b, "")
        return prefix + q + v + q[::-1] if q != "$$" else q + v + q
    return quote


def _dollar(tag: str) -> Callable[[str], str]:
    return lambda v: f"${tag}${v.replace('$', '')}${tag}$"


# Each dialect's string quoting styles: content -> literal; and its comment styles.
STRINGS: dict[str, list[Callable[[str], str]]] = {
    "postgres": [_doubled("'"), _backslashed("'", "E"), _without("$$", "$"), _dollar("é"), _dollar("ünï_1"), _dollar("tag")],
    "redshift": [_doubled("'")],
    "mysql": [_backslashed("'"), _backslashed('"'), _doubled("'", True), _doubled('"', True)],
    "bigquery": [_backslashed("'"), _backslashed('"'), _without('"""', '"', "\\"), _without("'''", "'", "\\"),
                 _without("'", "'", "\\", prefix="r")],
    "snowflake": [_backslashed("'"), _doubled("'", True), _without("$$", "$")],
    "databricks": [_backslashed("'"), _backslashed('"'), _without("'", "'", prefix="r")],
}
STRINGS["mariadb"] = STRINGS["mysql"]
STRINGS["trino"] = [_doubled("'")]
STRINGS["hive"] = STRINGS["impala"] = [_backslashed("'"), _backslashed('"')]
LINE_COMMENTS = {"mysql": ["# ", "-- "], "bigquery": ["# ", "-- "], "snowflake": ["// ", "-- "]}
NESTING = {"postgres", "redshift", "databricks"}
NAMES = {"postgres": '"Cust Name"', "redshift": '"Cust Name"', "snowflake": '"Cust Name"',
         "mysql": "`cust name`", "mariadb": "`cust name`", "bigquery": "`cust name`", "databricks": "`cust name`",
         "trino": '"Cust Name"', "hive": "`cust name`", "impala": "`cust name`"}

TEMPLATES = [
    "INSERT INTO mart.t{i} (a, b) SELECT {name}, {s} FROM raw.s WHERE y = {s} AND z > {n}",
    "CREATE TABLE mart.c{i} AS SELECT concat({name}, {s}), coalesce(y, {n}) {c}FROM raw.s",
    "{c}UPDATE raw.s SET x = {s} WHERE y IN ({s}, {n})",
    "INSERT INTO mart.v{i} VALUES ({s}, {n}, {s})",
    "SELECT {name} FROM raw.s {c}WHERE y = {s} OR z = {n}",
    "INSERT INTO mart.w{i} SELECT CASE WHEN x = {s} THEN {n} ELSE {s} END AS k FROM raw.s",
    "INSERT INTO mart.e{i} SELECT FROM WHERE {s} {n}",
]


@dataclass
class Statement:
    sql: str
    secrets: list[str]


def _comment_styles(dialect: str) -> list[str]:
    styles = ["/* {} */ ", "-- {}\n"] + [f"{mark}{{}}\n" for mark in LINE_COMMENTS.get(dialect, [])]
    return styles + (["/* a /* {} */ b */ "] if dialect in NESTING else [])


@st.composite
def _value(draw: st.DrawFn, secrets: list[str], comment: bool = False) -> str:
    secret = draw(MARKER)
    secrets.append(secret)
    noise = draw(NOISE), draw(NOISE)
    if comment:  # a comment's own closer and line end would end it early
        noise = tuple(n.replace("*", "").replace("/", "").replace("\n", " ") for n in noise)
    return noise[0] + secret + noise[1]


@st.composite
def statements(draw: st.DrawFn, dialect: str, i: int = 0) -> tuple[Statement, Statement]:
    """Two statements of one shape (template, quoting and comment styles) with different literals."""
    template = ("{c}" if draw(st.booleans()) else "") + draw(st.sampled_from(TEMPLATES))
    shape = []
    for part in re.split(r"(\{[a-z]+\})", template):
        if part == "{s}":
            shape.append(("s", draw(st.sampled_from(STRINGS[dialect]))))
        elif part == "{c}":
            shape.append(("c", draw(st.sampled_from(_comment_styles(dialect))).format))
        else:
            shape.append((part, None))
    return draw(_fill(dialect, shape, i)), draw(_fill(dialect, shape, i))


@st.composite
def _fill(draw: st.DrawFn, dialect: str, shape: list, i: int) -> Statement:
    secrets: list[str] = []
    out = []
    for part, style in shape:
        if part in ("s", "c"):
            out.append(style(draw(_value(secrets, comment=part == "c"))))
        elif part == "{n}":
            secrets.append(draw(NUMBER))
            out.append(secrets[-1])
        else:
            out.append(part.replace("{name}", NAMES[dialect]).replace("{i}", str(i)))
    return Statement("".join(out), secrets)


def _unterminated(dialect: str, secret: str) -> str:
    quote = STRINGS[dialect][0]("x")[0]
    return f"INSERT INTO mart.u SELECT x FROM raw.s WHERE y = {quote}open {secret} and on"


DIALECTS = list_dialects()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DIALECTS).flatmap(lambda d: st.tuples(st.just(d), statements(d))))
def test_no_literal_survives_redaction_names_do_and_the_fingerprint_ignores_values(case) -> None:
    dialect, (one, other) = case
    redacted = redact(one.sql, dialect)
    assert not [s for s in one.secrets if s in redacted], redacted
    assert redacted == redact_with(one.sql, lexicon(dialect), fast=False)  # shortcuts read as the scanner does
    if NAMES[dialect] in one.sql:
        assert NAMES[dialect] in redacted
    assert fingerprint(one.sql, dialect=dialect) == fingerprint(other.sql, dialect=dialect)


@st.composite
def log(draw: st.DrawFn) -> tuple[str, list[Statement]]:
    """A log of one dialect: pairs of statements alike but for their literals, and one left open."""
    dialect = draw(st.sampled_from(DIALECTS))
    entries = [s for i in range(draw(st.integers(2, 3))) for s in draw(statements(dialect, i))]
    secret = draw(MARKER)
    entries.append(Statement(_unterminated(dialect, secret), [secret]))
    return dialect, entries


def _write_log(path: Path, dialect: str, statements: list[Statement]) -> None:
    columns: dict[str, str] = {}
    for column, field in get_dialect(dialect).export.columns.items():
        columns.setdefault(field, column)
    records = get_dialect(dialect).export.records  # an event log: members nested, as its events have them
    rows = []
    for i, s in enumerate(statements):
        row: dict = {}
        values = {"sql": s.sql, "user": "jane", "start_time": f"2024-03-01 10:00:{i:02d}.000",
                  "end_time": f"2024-03-01 10:00:{i:02d}.000"}
        for field, value in values.items():
            if field in columns:
                *outer, name = columns[field].split(".") if records else [columns[field]]
                inner = row
                for part in outer:
                    inner = inner.setdefault(part, {})
                inner[name] = value
        for member in records.require if records else ():
            row.setdefault(member, [])
        rows.append(json.dumps(row))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(log())
def test_no_literal_reaches_the_store_the_harvest_output_or_stats(tmp_path_factory, case) -> None:
    dialect, statements = case
    folder = tmp_path_factory.mktemp("log")
    source, store = folder / "log.jsonl", f"sqlite:///{folder / 'lineage.db'}"
    _write_log(source, dialect, statements)
    runner = CliRunner()
    harvest = runner.invoke(main, ["harvest", "--source", str(source), "--dialect", dialect, "--store", store,
                                   "--format", "json"])
    assert harvest.exit_code == 0, harvest.output
    report = json.loads(harvest.stdout)
    assert report["rows_read"] == len(statements) and report["failed"] >= 1
    outputs = [harvest.stdout, harvest.stderr]
    for fmt in ("table", "json"):
        stats = runner.invoke(main, ["stats", "--store", store, "--format", fmt])
        assert stats.exit_code == 0, stats.output
        outputs += [stats.stdout, stats.stderr]
    stored = b"".join(p.read_bytes() for p in folder.glob("lineage.db*"))
    secrets = [s for st_ in statements for s in st_.secrets]
    assert not [s for s in secrets if s.encode() in stored]
    assert not [s for s in secrets for text in outputs if s in text]
    assert re.search(r"unterminated string at line 1, column \d+", outputs[2])  # the reason keeps its place
