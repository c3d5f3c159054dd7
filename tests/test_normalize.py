"""Redaction and fingerprints: what must fold together, what must not, and what must never survive."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqllineage_harvester.dialects import get_dialect
from sqllineage_harvester.model import LogEntry
from sqllineage_harvester.normalize import _SCANNERS, _replace, Normalizer, fingerprint, normalize, redact
from sqllineage_harvester.sources import open_source

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{3,4}|\d{15}")

SAME = [
    ("SELECT a FROM t WHERE id = 1", "SELECT a FROM t WHERE id = 99999"),
    ("SELECT a FROM t WHERE e = 'jane.doe@example.com'", "SELECT a FROM t WHERE e = 'x'"),
    ("select a from t where x = 1.5", "SELECT  a\n\tFROM t\nWHERE x = 2e10;"),
    ("SELECT a FROM t WHERE id IN (1, 2, 3)", "SELECT a FROM t WHERE id IN (7)"),
    ("SELECT a FROM t WHERE s IN ('a', 'b')", "SELECT a FROM t WHERE s IN ('c')"),
    ("INSERT INTO t VALUES (1, 'a'), (2, 'b')", "INSERT INTO t VALUES (3, 'c')"),
    ("SELECT a FROM t -- by jane\nWHERE b = 1", "/* dbt: {\"node\": \"x\"} */ SELECT a FROM t WHERE b = 2"),
    ("SELECT 'it''s' FROM t", "SELECT 'its' FROM t"),
    ("SELECT $$ a body $$ FROM t", "SELECT 'x' FROM t"),
    ('SELECT "Amount" FROM t WHERE x = 1', 'select "Amount" from T where X = 2'),
]
DIFFERENT = [
    ("SELECT a FROM t1", "SELECT a FROM t2"),
    ("SELECT a FROM t WHERE x = 1", "SELECT b FROM t WHERE x = 1"),
    ("SELECT a FROM t WHERE x = 1", "SELECT a FROM t WHERE x > 1"),
    ('SELECT "Amount" FROM t', 'SELECT "amount" FROM t'),
    ("SELECT a, 1 FROM t", "SELECT a FROM t"),
    ("INSERT INTO t VALUES (1, 2)", "INSERT INTO t VALUES (1, 2, 3)"),
    ("SELECT col1 FROM t", "SELECT col2 FROM t"),
    ("SELECT a FROM t WHERE x = $1", "SELECT a FROM t WHERE x = $2"),
]


@pytest.mark.parametrize("a, b", SAME)
def test_statements_differing_only_in_literals_whitespace_or_case_share_a_fingerprint(a: str, b: str) -> None:
    assert fingerprint(a) == fingerprint(b)


@pytest.mark.parametrize("a, b", DIFFERENT)
def test_statements_differing_otherwise_have_different_fingerprints(a: str, b: str) -> None:
    assert fingerprint(a) != fingerprint(b)


@pytest.mark.parametrize(
    "sql, redacted",
    [
        ("SELECT * FROM t WHERE email = 'jane.doe@example.com'", "SELECT * FROM t WHERE email = '?'"),
        ("SELECT * FROM p WHERE card = 4111111111111111", "SELECT * FROM p WHERE card = ?"),
        ("SELECT * FROM p WHERE card = '4111 1111 1111 1111'", "SELECT * FROM p WHERE card = '?'"),
        ("SELECT x FROM t WHERE y = $1 AND z = :2", "SELECT x FROM t WHERE y = $1 AND z = :2"),
        ('SELECT "col 1", t1.c2 FROM s3.t1 WHERE v > 0.5', 'SELECT "col 1", t1.c2 FROM s3.t1 WHERE v > ?'),
        ("SELECT 'a\\'b', 7 FROM t", "SELECT '?', ? FROM t"),
        ("SELECT $tag$ jane.doe@example.com $tag$, 0x1F", "SELECT '?', ?"),
        ("SELECT 'never closed jane.doe@example.com", "SELECT '?'"),
        ("SELECT 1 -- jane.doe@example.com\nFROM t", "SELECT ?  \nFROM t"),
        ("SELECT /* 4111 1111 1111 1111 */ a FROM t", "SELECT   a FROM t"),
    ],
)
def test_literals_are_redacted_and_names_and_placeholders_kept(sql: str, redacted: str) -> None:
    assert redact(sql) == redacted


def test_standard_strings_end_at_a_quote_even_after_a_backslash() -> None:
    assert redact(r"SELECT 'C:\', 'jane.doe@example.com'", backslash_escapes=False) == "SELECT '?', '?'"
    assert redact(r"SELECT E'it\'s jane', 1", backslash_escapes=False) == "SELECT '?', ?"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT a, b FROM analytics.marts.fct_orders o WHERE o.amount > 125.50 AND o.status IN ('x', 'y') LIMIT 100",
        "UPDATE t SET a = 'it''s', b = 2 WHERE id = 3",
        "INSERT INTO t2 SELECT col1, 'never closed",
        "SELECT x FROM t WHERE y = $1 AND z = :2 AND w = 4111111111111111",
    ],
)
def test_fast_path_and_full_scanner_agree(sql: str) -> None:
    assert redact(sql) == _SCANNERS[True].sub(_replace, sql)


def _fixture_entries() -> list[LogEntry]:
    entries = []
    for dialect, name in [("snowflake", "snowflake/query_history.csv"), ("postgres", "postgres/pg_stat_statements.csv")]:
        entries += list(open_source(FIXTURES / name, dialect).read())
    return entries


def test_no_email_or_card_number_from_the_fixture_logs_survives_redaction() -> None:
    raw = "".join(p.read_text(encoding="utf-8", errors="replace") for p in FIXTURES.glob("*/*.csv"))
    secrets = set(EMAIL.findall(raw)) | set(CARD.findall(raw))
    assert len(secrets) >= 8  # the fixtures do carry fake personal data
    normalizer = Normalizer(backslash_escapes=True)
    texts = [normalizer(entry).redacted_sql for entry in _fixture_entries()]
    leaks = {secret for secret in secrets for text in texts if secret in text}
    assert not leaks
    assert not any(EMAIL.search(text) or CARD.search(text) for text in texts)


def test_the_source_hash_saves_work_but_never_changes_the_fingerprint() -> None:
    normalizer = Normalizer()
    first = normalizer(LogEntry(sql="SELECT 1", source_hash="abc123"))
    again = normalizer(LogEntry(sql="SELECT 2", source_hash="abc123"))
    assert first.fingerprint == again.fingerprint == fingerprint("SELECT 1")
    assert normalizer.stats.source_hash_hits == 1
    # A fresh normalizer, and a row without the hash: the same statement, the same fingerprint.
    assert Normalizer()(LogEntry(sql="SELECT 3")).fingerprint == first.fingerprint


def test_the_exact_text_cache_answers_repeats_and_stays_bounded() -> None:
    normalizer = Normalizer(cache_size=10)
    results = [normalizer(LogEntry(sql=f"SELECT {i % 25} FROM t")) for i in range(100)]
    assert len({r.fingerprint for r in results}) == 1
    assert normalizer.stats.computed + normalizer.stats.text_cache_hits == 100
    assert len(normalizer._by_text) <= 10


def test_texts_differing_in_literals_are_folded_and_hashed_once() -> None:
    normalizer = Normalizer()
    texts = [f"SELECT a FROM t WHERE id = {i} AND b = 'jane{i}@example.com'" for i in range(50)]
    texts.append("SELECT a FROM t WHERE id = 7 AND b = \"x\"")  # another redacted text, another fingerprint
    results = [normalizer(LogEntry(sql=text, dialect="postgres")) for text in texts]
    assert [r.fingerprint for r in results] == [fingerprint(text, dialect="postgres") for text in texts]
    assert len({r.fingerprint for r in results}) == 2
    assert normalizer.stats.computed == 51 and len(normalizer._by_redacted) == 2


def test_normalize_streams_entries_to_fingerprinted_ones() -> None:
    entries = [LogEntry(sql="SELECT a FROM t WHERE b = 'jane.doe@example.com'", dialect="snowflake")]
    (result,) = normalize(iter(entries), get_dialect("snowflake").backslash_escapes)
    assert result.entry is entries[0]
    assert result.redacted_sql == "SELECT a FROM t WHERE b = '?'"
    assert re.fullmatch(r"[0-9a-f]{32}", result.fingerprint)


def test_a_10_mb_statement_is_redacted_in_one_pass() -> None:
    sql = "INSERT INTO t VALUES " + ", ".join(f"({i}, 'jane{i}@example.com')" for i in range(300_000))
    assert len(sql) > 10_000_000
    redacted = redact(sql)
    assert "@" not in redacted and not re.search(r"\d", redacted)
    assert fingerprint(sql) == fingerprint("INSERT INTO t VALUES (1, 'x')")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=400), min_size=1, max_size=60), st.integers(min_value=500, max_value=6000))
def test_the_caches_stay_within_their_byte_budget_and_never_change_a_fingerprint(texts, budget) -> None:
    normalizer = Normalizer(max_bytes=budget)
    for text in texts + texts:
        sql = f"SELECT {text!r}"
        got = normalizer(LogEntry(sql=sql, dialect="postgres"))
        assert normalizer.cached_bytes <= budget
        assert got.fingerprint == fingerprint(sql, dialect="postgres")
        hits = normalizer.stats.text_cache_hits
        assert normalizer(LogEntry(sql=sql, dialect="postgres")) == got.__class__(got.entry.__class__(
            sql=sql, dialect="postgres"), got.fingerprint, got.redacted_sql)
        fits = len(sql) + len(got.redacted_sql) + 300 <= budget  # a text and its redacted form, and what holds them
        assert normalizer.stats.text_cache_hits == hits + fits
