"""Tokenizing text where ``$1`` parameters sit next to dollar quoting.

In PostgreSQL, Redshift, DuckDB (every dialect whose sqlglot tokenizer reads ``$``
as a dollar quote and falls back to a parameter) ``$tag$ ... $tag$`` is a string.
sqlglot tells a parameter from a tag by the whitespace it finds before the next
``$``, so ``VALUES ($1,$2)`` (pg_stat_statements keeps the application's spacing)
opens a string tagged ``1,`` and fails. A lexer-aware pass puts a space after each
such parameter, never inside a string literal, quoted name, comment or real
dollar-quoted body, and the tokens are mapped back onto the text as written.

>>> from sqlglot.dialects.dialect import Dialect
>>> spaced("INSERT INTO t VALUES ($1,$2) -- ($3,$4)", Dialect.get_or_raise("postgres"))
'INSERT INTO t VALUES ($1 ,$2) -- ($3,$4)'
>>> [t.text for t in tokenize(Dialect.get_or_raise("postgres"), "f($1,$2)")]
['f', '(', '$', '1', ',', '$', '2', ')']
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

from .glot import dialect_of, parser_of, tokenize_with

__all__ = ["parse_one", "spaced", "tokenize"]


def tokenize(dialect: Dialect, text: str) -> list[Token]:
    """The dialect's tokens of ``text``; their offsets point into ``text`` as given."""
    inserted = _insertions(dialect, text)
    if not inserted:
        return tokenize_with(dialect, text)
    tokens = tokenize_with(dialect, _with_spaces(text, inserted))
    moved = [position + k for k, position in enumerate(inserted)]  # where the spaces sit
    return [_shift(token, bisect_left(moved, token.start), bisect_left(moved, token.end)) for token in tokens]


def parse_one(text: str, dialect: str | None) -> exp.Expr:
    """The first statement of ``text`` (``sqlglot.parse_one`` with the tokenizing above)."""
    glot = dialect_of(dialect)
    parsed = [e for e in parser_of(glot).parse(tokenize(glot, text), text) if e is not None]
    if not parsed:
        raise SqlglotError("no statement")
    return parsed[0]


def spaced(text: str, dialect: Dialect) -> str:
    """``text`` with a space after every parameter the tokenizer would take for a tag."""
    return _with_spaces(text, _insertions(dialect, text))


def _insertions(dialect: Dialect, text: str) -> list[int]:
    """Offsets in ``text`` before which a space goes."""
    if "$" not in text:
        return []
    lexer = _pattern(dialect.tokenizer_class)
    return [m.end() for m in lexer.finditer(text) if m.lastgroup == "param"] if lexer else []


def _with_spaces(text: str, inserted: list[int]) -> str:
    pieces, previous = [], 0
    for position in inserted:
        pieces += [text[previous:position], " "]
        previous = position
    return "".join(pieces) + text[previous:]


def _shift(token: Token, before_start: int, before_end: int) -> Token:
    if not before_end:
        return token
    return Token(token.token_type, token.text, token.line, token.col, token.start - before_start,
                 token.end - before_end, token.comments)


@lru_cache(maxsize=None)
def _pattern(tokenizer: type) -> re.Pattern[str] | None:
    """Comments, dollar-quoted bodies, strings and quoted names (skipped), then ``$n`` / ``$name``
    parameters the tokenizer would take for a tag; None where ``$`` never quotes."""
    heredoc = "$" in tokenizer.HEREDOC_STRINGS and tokenizer.HEREDOC_STRING_ALTERNATIVE == TokenType.PARAMETER
    if not heredoc:
        return None
    skip = [_comment(c) for c in tokenizer.COMMENTS]
    skip.append(r"\$(?P<tag>(?:[A-Za-z_]\w*)?)\$[\s\S]*?(?:\$(?P=tag)\$|\Z)")
    for start, end in _pairs(getattr(tokenizer, "BYTE_STRINGS", [])):  # E'it\'s'
        skip.append(_quoted(start, end, "\\" in getattr(tokenizer, "BYTE_STRING_ESCAPES", [])))
    for start, end in _pairs(tokenizer.QUOTES):
        skip.append(_quoted(start, end, "\\" in tokenizer.STRING_ESCAPES))
    for start, end in _pairs(tokenizer.IDENTIFIERS):
        skip.append(_quoted(start, end, False))
    # a parameter with no whitespace between it and the next $: read as a tag without a space
    param = r"(?P<param>(?<![\w$])\$(?:\d+(?!\w)|[A-Za-z_]\w*))(?=[^\s$]*\$)"
    return re.compile("|".join([f"(?:{s})" for s in skip] + [param]))


def _pairs(items: list) -> list[tuple[str, str]]:
    return [(i, i) if isinstance(i, str) else (i[0], i[1]) for i in items]


def _comment(marker: str | tuple[str, str]) -> str:
    if isinstance(marker, str):
        return re.escape(marker) + r"[^\n]*"
    return re.escape(marker[0]) + r"[\s\S]*?(?:" + re.escape(marker[1]) + r"|\Z)"


def _quoted(start: str, end: str, backslash: bool) -> str:
    close = re.escape(end)
    body = [re.escape(end * 2) if len(end) == 1 else None, r"\\[\s\S]" if backslash else None,
            f"(?!{close})" + (r"[^\\]" if backslash else r"[\s\S]")]
    return re.escape(start) + "(?:" + "|".join(b for b in body if b) + f")*(?:{close}|\\Z)"
