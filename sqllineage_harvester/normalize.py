"""Redact literals and fingerprint statements, cheaply enough to run on every log row.

Each text is redacted by its dialect's own lexical rules (``redact.py``): string literals of
every quoting style the dialect has become ``'?'``, numbers ``?``, comments go; identifiers,
quoted identifiers and ``$1`` / ``:1`` placeholders stay. The fingerprint is a BLAKE2b hash of
that text with whitespace and case folded (outside quoted identifiers), ``IN (?, ?, ...)``
lists collapsed and repeated ``VALUES`` rows folded: statements that differ only in literals,
comments, spacing or keyword case share it. Where the log has its own statement hash
(``LogEntry.source_hash``) it keys a cache that skips the work, but the fingerprint is always
ours, so a statement keeps one fingerprint across rows and runs. An exact-text cache sits in
front: real logs repeat the very same text most of the time.

Speed: most statements take the fast path (``str.split`` on quotes, then one regular
expression for numbers, a few µs for a 400-character statement); text with the dialect's
comments, other quotes, quoted identifiers, dollar quotes or backslashes takes one pass of the
complete scanner.

Redacted text is for storing and printing; lineage is best extracted from the
original text (``GROUP BY 1`` and ``VARCHAR(10)`` lose their numbers here).

>>> redact("SELECT * FROM t1 WHERE email = 'jane.doe@example.com' AND id > 42 -- note")
"SELECT * FROM t1 WHERE email = '?' AND id > ?  "
>>> fingerprint("select a FROM t where x IN (1, 2)") == fingerprint("SELECT a\\n  from t WHERE x in (3,4,5);")
True
>>> fingerprint('SELECT a FROM t WHERE b = "x" # jane', dialect="mysql") == fingerprint("SELECT a FROM t WHERE b = 'y'", dialect="mysql")
True
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from hashlib import blake2b
from typing import Callable, Iterable, Iterator

from .model import Fingerprinted, LogEntry
from .redact import Lexicon, lexicon, redact, redact_with

__all__ = ["Normalizer", "NormalizeStats", "fingerprint", "fingerprint_of", "fold", "normalize", "redact"]


class _FullScanner:
    """The complete scanner of the dialect-less rules, without the fast path: what it must agree with."""

    def __init__(self, backslash_escapes: bool) -> None:
        self.backslash_escapes = backslash_escapes

    def sub(self, _replace: object, sql: str) -> str:
        return redact_with(sql, lexicon(None, self.backslash_escapes), fast=False)


_SCANNERS = {flag: _FullScanner(flag) for flag in (False, True)}
_replace = None


_QUOTED_IDENTIFIER = re.compile(r'("[^"]*(?:""[^"]*)*"|`[^`]*`)')
_IN_LIST = re.compile(r"in(?<![\w$]in) ?\( ?\?(?: ?, ?\?)* ?\)")
_VALUES_ROWS = re.compile(r"(\((?: ?\? ?,)* ?\? ?\))(?: ?, ?\1)+")


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


def fingerprint(sql: str, backslash_escapes: bool | None = None, dialect: str | None = None) -> str:
    """The fingerprint of a statement: equal for statements that differ only in literals."""
    return fingerprint_of(redact(sql, dialect, backslash_escapes))


@dataclass
class NormalizeStats:
    entries: int = 0
    text_cache_hits: int = 0
    source_hash_hits: int = 0
    computed: int = 0


class Normalizer:
    """Log entries in, fingerprinted entries out, remembering recent texts.

    Each entry is read by the lexical rules of its own dialect (``LogEntry.dialect``, else
    ``dialect``); ``backslash_escapes``, when given, overrides the dialect's word on backslashes.
    The caches are bounded (``cache_size`` entries each and ``max_bytes`` together, about;
    emptied when full) and texts longer than ``max_cached_chars`` are never kept.
    """

    def __init__(self, backslash_escapes: bool | None = None, cache_size: int = 200_000,
                 max_cached_chars: int = 100_000, dialect: str | None = None, max_bytes: int = 400 << 20):
        self.backslash_escapes = backslash_escapes
        self.dialect = dialect
        self.cache_size = cache_size
        self.max_cached_chars = max_cached_chars
        self.max_bytes = max_bytes
        self.cached_bytes = 0
        self.stats = NormalizeStats()
        self._by_text: dict[tuple[str | None, str], tuple[str, str]] = {}
        self._by_source_hash: dict[str, tuple[str, str]] = {}
        # Redacted text -> its fingerprint: texts that differ only in literals (most of a log's
        # texts that are not exact repeats) redact alike, and fold and hash once.
        self._by_redacted: dict[str, str] = {}
        self._lexicons: dict[str | None, Lexicon] = {}  # dialect -> its rules (a dict: cheaper than lexicon's cache)

    def __call__(self, entry: LogEntry) -> Fingerprinted:
        self.stats.entries += 1
        sql = entry.sql
        dialect = entry.dialect or self.dialect
        known = self._by_text.get((dialect, sql))
        if known is None:
            known = self._work(entry, sql, dialect)
        else:
            self.stats.text_cache_hits += 1
        if _SETTERS is None:
            return Fingerprinted(entry, *known)
        made = _new(Fingerprinted)  # (see _setters)
        _set_entry(made, entry)
        _set_fingerprint(made, known[0])
        _set_redacted(made, known[1])
        return made

    def _work(self, entry: LogEntry, sql: str, dialect: str | None) -> tuple[str, str]:
        """(fingerprint, redacted text) of a text not in the text cache: by the log's own hash
        where it has one seen before, else worked out (and remembered)."""
        stats = self.stats
        source_hash = entry.source_hash
        if source_hash:
            known = self._by_source_hash.get(source_hash)
            if known is not None:
                stats.source_hash_hits += 1
                return known
        stats.computed += 1
        lex = self._lexicons.get(dialect)
        if lex is None:
            lex = self._lexicons[dialect] = lexicon(dialect, self.backslash_escapes)
        redacted = redact_with(sql, lex)
        # Our own fingerprint always: the log's hash only saves work, so one statement
        # keeps one fingerprint whether or not a row (or an earlier run) carried the hash.
        fingerprint = self._by_redacted.get(redacted)
        if fingerprint is None:
            fingerprint = fingerprint_of(redacted)
            if len(redacted) <= self.max_cached_chars:
                self._remember(self._by_redacted, redacted, fingerprint, len(redacted) + 150)
        known = (fingerprint, redacted)
        # What an entry costs, about: the texts (one byte a character for most SQL) and the
        # dictionary slot, key tuple and fingerprint around them.
        size = len(redacted) + 300
        if source_hash:
            self._remember(self._by_source_hash, source_hash, known, size + len(source_hash))
        if len(sql) <= self.max_cached_chars:  # last: what is just remembered stays
            self._remember(self._by_text, (dialect, sql), known, size + len(sql))
        return known

    def _remember(self, cache: dict, key: object, value: object, size: int) -> None:
        if size > self.max_bytes:
            return
        if len(cache) >= self.cache_size or self.cached_bytes + size > self.max_bytes:
            self._by_text.clear()
            self._by_source_hash.clear()
            self._by_redacted.clear()
            self.cached_bytes = 0
        cache[key] = value
        self.cached_bytes += size


def _setters() -> tuple[Callable[[Fingerprinted, object], None], ...] | None:
    """The setters of ``Fingerprinted``'s slots, entry, fingerprint and redacted text, where it is
    a slotted dataclass of these three fields without ``__post_init__``: one is made for every
    log row, and setting its slots directly costs less than its frozen ``__init__`` (an
    ``object.__setattr__`` call a field). Else None: it is made by its ``__init__``."""
    names = ("entry", "fingerprint", "redacted_sql")
    if not dataclasses.is_dataclass(Fingerprinted) or hasattr(Fingerprinted, "__post_init__") \
            or getattr(Fingerprinted, "__slots__", None) != names \
            or tuple(f.name for f in dataclasses.fields(Fingerprinted)) != names:
        return None
    return tuple(vars(Fingerprinted)[name].__set__ for name in names)


_SETTERS = _setters()
_new = object.__new__
_set_entry, _set_fingerprint, _set_redacted = _SETTERS or (None, None, None)


def normalize(entries: Iterable[LogEntry], backslash_escapes: bool | None = None) -> Iterator[Fingerprinted]:
    """Redact and fingerprint a stream of log entries (see :class:`Normalizer`)."""
    return map(Normalizer(backslash_escapes), entries)
