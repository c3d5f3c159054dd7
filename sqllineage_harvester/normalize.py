"""Redact literals and fingerprint statements, cheaply enough to run on every log row.

One compiled regular expression walks a statement once: string literals
(quoted, dollar-quoted) become ``'?'``, numbers become ``?``, comments go, and
quoted identifiers, ``$1`` placeholders and type sizes such as ``NUMBER(38, 2)``
stay. The fingerprint is a BLAKE2b hash of that text with whitespace and case
folded (outside quoted identifiers), lists of ``IN (?, ?, ...)`` collapsed and
repeated ``VALUES`` rows folded, so statements that differ only in their
literals share it. Where the log has its own statement hash
(``LogEntry.source_hash``) it is used as is. An exact-text cache sits in front:
real logs repeat the very same text most of the time.

>>> redact("SELECT * FROM t WHERE email = 'jane.doe@example.com' AND id > 42 -- note")
"SELECT * FROM t WHERE email = '?' AND id > ?  "
>>> fingerprint("select a FROM t where x IN (1, 2)") == fingerprint("SELECT a\\n  from t WHERE x in (3,4,5);")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from hashlib import blake2b
from typing import Iterable, Iterator

from .model import Fingerprinted, LogEntry

def _compile(backslash_escapes: bool) -> re.Pattern[str]:
    # Groups: 1 comment, 2 string (3 its dollar-quote tag), 4 number; the rest is kept.
    if backslash_escapes:
        string = r"'[^'\\]*(?:(?:\\[\s\S]|'')[^'\\]*)*(?:'|\Z)"
    else:  # only E'...' strings have backslash escapes
        string = r"[eE]'[^'\\]*(?:(?:\\[\s\S]|'')[^'\\]*)*(?:'|\Z)|'[^']*(?:''[^']*)*(?:'|\Z)"
    return re.compile(
        r"(--[^\n]*|/\*[\s\S]*?(?:\*/|\Z))"  # 1: comments, dropped
        r"|((?:\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*|)\$[\s\S]*?(?:\$(?P=tag)\$|\Z))|" + string + ")"  # 2: strings
        r"|(?<![\w$:.])((?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))(?![\w$])"  # 4: numbers
        r'|"[^"]*(?:""[^"]*)*"|`[^`]*`'  # quoted identifiers, kept
    )


_SCANNERS = {flag: _compile(flag) for flag in (False, True)}
_NUMBER_GROUP = 4

# Sizes of types (VARCHAR(255), NUMBER(38, 2)) are not data: keep them.
_TYPE_SIZE = re.compile(
    r"(?:char|varchar|character|varying|nchar|nvarchar|string|text|binary|varbinary|bit|number|numeric|decimal|dec"
    r"|float|double|real|time|timestamp|timestamp_ntz|timestamp_ltz|timestamp_tz|datetime|interval|vector)"
    r"\s*\(\s*(?:\d+\s*,\s*)?$",
    re.IGNORECASE,
)
_QUOTED_IDENTIFIER = re.compile(r'("[^"]*(?:""[^"]*)*"|`[^`]*`)')
_IN_LIST = re.compile(r"\bin ?\( ?\?(?: ?, ?\?)+ ?\)")
_VALUES_ROWS = re.compile(r"(\((?: ?\? ?,)* ?\? ?\))(?: ?, ?\1)+")


def _replace(match: re.Match[str]) -> str:
    group = match.lastindex
    if group == 1:
        return " "
    if group == _NUMBER_GROUP:
        text, start = match.string, match.start()
        before = text[max(0, start - 8) : start].rstrip()[-1:]
        if before in ("(", ",") and _TYPE_SIZE.search(text, max(0, start - 40), start):
            return match.group()
        return "?"
    if group == 2:
        return "'?'"
    return match.group()


def redact(sql: str, backslash_escapes: bool = True) -> str:
    """``sql`` with its string and number literals replaced and its comments removed."""
    return _SCANNERS[backslash_escapes].sub(_replace, sql)


def fold(redacted: str) -> str:
    """The text a fingerprint hashes: whitespace and case folded outside quoted identifiers."""
    if '"' in redacted or "`" in redacted:
        parts = _QUOTED_IDENTIFIER.split(redacted)
        key = " ".join(p if i % 2 else " ".join(p.lower().split()) for i, p in enumerate(parts) if p.strip())
    else:
        key = " ".join(redacted.lower().split())
    key = key.rstrip("; ")
    if "?" in key:
        key = key.replace("'?'", "?")
        key = _IN_LIST.sub("in (?+)", key)
        if "values" in key:
            key = _VALUES_ROWS.sub(r"\1", key)
    return key


def fingerprint_of(redacted: str) -> str:
    """The fingerprint of already redacted text: 32 hex digits."""
    return blake2b(fold(redacted).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def fingerprint(sql: str, backslash_escapes: bool = True) -> str:
    """The fingerprint of a statement: equal for statements that differ only in literals."""
    return fingerprint_of(redact(sql, backslash_escapes))


@dataclass
class NormalizeStats:
    entries: int = 0
    text_cache_hits: int = 0
    source_hash_hits: int = 0
    computed: int = 0


class Normalizer:
    """Turns log entries into fingerprinted ones, remembering recent texts.

    The caches are bounded (``cache_size`` entries each; emptied when full) and
    texts longer than ``max_cached_chars`` are never kept.
    """

    def __init__(self, backslash_escapes: bool = True, cache_size: int = 200_000, max_cached_chars: int = 100_000):
        self.backslash_escapes = backslash_escapes
        self.cache_size = cache_size
        self.max_cached_chars = max_cached_chars
        self.stats = NormalizeStats()
        self._by_text: dict[str, tuple[str, str]] = {}
        self._by_source_hash: dict[str, tuple[str, str]] = {}

    def __call__(self, entry: LogEntry) -> Fingerprinted:
        stats = self.stats
        stats.entries += 1
        sql = entry.sql
        known = self._by_text.get(sql)
        if known is not None:
            stats.text_cache_hits += 1
            return Fingerprinted(entry, known[0], known[1])
        source_hash = entry.source_hash
        if source_hash:
            known = self._by_source_hash.get(source_hash)
            if known is not None:
                stats.source_hash_hits += 1
                return Fingerprinted(entry, known[0], known[1])
        stats.computed += 1
        redacted = _SCANNERS[self.backslash_escapes].sub(_replace, sql)
        known = (source_hash or fingerprint_of(redacted), redacted)
        if source_hash:
            self._remember(self._by_source_hash, source_hash, known)
        if len(sql) <= self.max_cached_chars:
            self._remember(self._by_text, sql, known)
        return Fingerprinted(entry, known[0], known[1])

    def _remember(self, cache: dict[str, tuple[str, str]], key: str, value: tuple[str, str]) -> None:
        if len(cache) >= self.cache_size:
            cache.clear()
        cache[key] = value


def normalize(entries: Iterable[LogEntry], backslash_escapes: bool = True) -> Iterator[Fingerprinted]:
    """Redact and fingerprint a stream of log entries (see :class:`Normalizer`)."""
    return map(Normalizer(backslash_escapes), entries)
