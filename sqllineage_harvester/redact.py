"""Literals and comments out of text, read the way the dialect's own lexer reads it.

A dialect's :class:`Lexicon` comes from sqlglot's tokenizer settings for that dialect (its
string quotes and their escapes, prefixed strings such as ``E'..'``, ``r"..."``, ``N'..'``,
``$$..$$``, quoted-name delimiters, comment forms and whether block comments nest, dollar-quoted
strings) and from the dialect file (``backslash_escapes``, which wins over sqlglot's default).
One regular expression finds where each token may open; a few lines of Python find where it
closes (block comments that nest, a dollar quote's own tag). Strings become ``'?'`` (a prefix
such as ``N`` stays), numbers ``?``, comments a space; quoted names stay as written. An
unterminated string or comment runs to the end of the text; an unterminated quoted name is no
name (its quote is read as plain text, so a string inside it is still found).

Most texts take a fast path: with none of the dialect's other marks in them (comment openers,
other quotes, quoted names, backslashes, dollar quotes), splitting on ``'`` gives the same answer.

>>> redact(r"SELECT 'C:\\', 'jane@example.com' FROM t", "postgres")
"SELECT '?', '?' FROM t"
>>> redact('SELECT concat(name, "jane") FROM t # by jane', "mysql")
"SELECT concat(name, '?') FROM t  "
>>> redact('SELECT "jane" /* a /* nested */ comment */ FROM t', "postgres")
'SELECT "jane"   FROM t'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator, Mapping

from sqlglot.dialects.dialect import Dialect as GlotDialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

# A number not inside a name (t1), a placeholder ($1, :1); hexadecimal and binary too.
NUMBER = r"[0-9](?<![\w$:][0-9])(?:[xX][0-9a-fA-F]+|[bB][01]+\b|[0-9]*(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)"
NUMBERS = re.compile(NUMBER)
# The letters of an unquoted name: ASCII letters, digits and underscore, and any non-ASCII character
# (PostgreSQL's ident_start / ident_cont, MySQL's U+0080..); a dollar-quote tag is one without a $.
_NAME_START = "A-Za-z_\x80-\U0010ffff"
_NAME_CHAR = "A-Za-z0-9_\x80-\U0010ffff"
DOLLAR_QUOTE = f"\\$(?<![{_NAME_CHAR}$]\\$)(?:[{_NAME_START}][{_NAME_CHAR}]*)?\\$"

STRING, NAME, COMMENT, NUMBER_KIND = "string", "name", "comment", "number"
_RAW_TYPES = (TokenType.RAW_STRING, TokenType.NATIONAL_RAW_STRING)


@dataclass(frozen=True)
class Rule:
    """What a token opened by one opener is, and where it closes."""

    kind: str  # STRING | NAME | COMMENT
    close: str  # "" for a line comment (closes at the line's end)
    backslash: bool = False  # a backslash escapes the next character
    doubled: bool = False  # the closer written twice is one character of the token
    nested: bool = False  # a block comment holding comments of its own form
    prefix: str = ""  # letters kept in front of a redacted string: N'..' -> N'?'


@dataclass(frozen=True)
class Lexicon:
    """One dialect's lexical rules, compiled."""

    rules: Mapping[str, Rule]  # opener -> rule
    dollar_quotes: bool  # $tag$ .. $tag$ strings
    dash_needs_space: bool  # "--" opens a comment only before whitespace (MySQL)
    line_ends: str  # the characters that end a line comment
    plain_doubled: bool  # '' inside '..' is a quote, not two strings
    marks: tuple[str, ...]  # any of these in a text: the full scanner, not the fast path
    pattern: re.Pattern[str]  # where a token may open
    whole: re.Pattern[str]  # each token, opener to closer, in one expression with no group (fast)
    replacements: Mapping[str, str]  # opener -> what its token becomes ("" keeps it)
    nesting: tuple[str, ...]  # openers of nested comments: a text with two of one takes the loop
    longest: int  # the longest opener
    # ``marks`` by their first character: looking for one character is a memchr, for a longer
    # mark a slower search, done only where its first character is in the text.
    mark_starts: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @staticmethod
    def build(rules: Mapping[str, Rule], dollar_quotes: bool, dash_needs_space: bool, line_ends: str) -> "Lexicon":
        openers, tokens, replacements = [], [], {}
        for opener in sorted(rules, key=len, reverse=True):
            text = re.escape(opener)
            if opener[0].isalpha() or opener[0] == "$":  # not the end of a name: N'..', not an'..'
                first = re.escape(opener[0])  # (checked after the first character: the engine
                text = f"{first}(?<![{_NAME_CHAR}$]{first}){re.escape(opener[1:])}"  # skips on it)
            if opener == "--" and dash_needs_space:
                text += r"(?=[\x00-\x20]|\Z)"
            openers.append(text)
            rule = rules[opener]
            tokens.append(text + _whole_body(rule, line_ends))
            replacements[opener] = "" if rule.kind == NAME else _replacement(rule.kind, rule)
        alternatives = [f"(?P<open>{'|'.join(openers)})"]
        if dollar_quotes:  # (a text with one takes the loop)
            alternatives.append(f"(?P<dollar>{DOLLAR_QUOTE})")
        alternatives.append(f"(?P<number>{NUMBER})")
        tokens.append(NUMBER)
        nesting = tuple(sorted({o[:2] for o, r in rules.items() if r.nested}))
        plain = rules.get("'", Rule(STRING, "'"))
        marks = {o for o, r in rules.items() if not _fast_safe(o, r, plain)}
        if any(r.backslash for r in rules.values()):
            marks.add("\\")
        marks = {m for m in marks if not any(o != m and o in m for o in marks)}  # '"' covers '"""'
        ordered = tuple(sorted(marks))
        starts = tuple((first, tuple(m for m in ordered if m[0] == first)) for first in sorted({m[0] for m in ordered}))
        return Lexicon(rules, dollar_quotes, dash_needs_space, line_ends, plain.doubled, ordered,
                       re.compile("|".join(alternatives)), re.compile("|".join(tokens)), replacements, nesting,
                       max(map(len, rules)), starts)

    def marked(self, text: str) -> bool:
        """Whether any of ``marks`` is in ``text`` (then the fast path does not read it)."""
        for first, marks in self.mark_starts:
            if first in text:
                for mark in marks:
                    if mark in text:
                        return True
        return False

    def substitute(self, match: re.Match[str]) -> str:
        """What a token ``whole`` found becomes: told by its opener (the longest that starts it,
        as the expression tries the longest first)."""
        token = match.group()
        if "0" <= token[0] <= "9":
            return "?"
        get = self.replacements.get
        for size in range(min(self.longest, len(token)), 0, -1):
            replacement = get(token[:size])
            if replacement is not None:
                return replacement or token
        return token  # unreachable: every token starts with an opener


def _whole_body(rule: Rule, line_ends: str) -> str:
    """A token's text after its opener as one expression (block comments unnested); a quoted
    name must close, a string or comment may run to the end."""
    if not rule.close:
        return f"[^{re.escape(line_ends)}]*"
    close = re.escape(rule.close)
    return _inner(rule.close, rule.backslash, rule.doubled) + (close if rule.kind == NAME else f"(?:{close}|\\Z)")


def _fast_safe(opener: str, rule: Rule, plain: Rule) -> bool:
    """Whether splitting on ' reads this opener's strings as the scanner does (backslashes aside)."""
    return rule.kind == STRING and rule.close == "'" and opener == rule.prefix + "'" and rule.doubled == plain.doubled


def _string(close: str, escapes: frozenset[str] | set[str], prefix: str = "") -> Rule:
    return Rule(STRING, close, backslash="\\" in escapes, doubled=len(close) == 1 and close in escapes, prefix=prefix)


def _from_sqlglot(name: str | None, backslash_escapes: bool | None) -> tuple[dict[str, Rule], bool, bool, str]:
    tokenizer = GlotDialect.get_or_raise(name).tokenizer_class
    escapes = set(tokenizer._STRING_ESCAPES)
    if backslash_escapes is not None:  # the dialect file's word on backslashes wins
        escapes = escapes - {"\\"} | ({"\\"} if backslash_escapes else set())
    rules: dict[str, Rule] = {}
    for opener, close in tokenizer._COMMENTS.items():
        rules[opener] = Rule(COMMENT, close or "", nested=bool(close) and tokenizer.NESTED_COMMENTS)
    for opener, close in tokenizer._IDENTIFIERS.items():
        rules[opener] = Rule(NAME, close, backslash="\\" in tokenizer._IDENTIFIER_ESCAPES, doubled=True)
    for opener, close in tokenizer._QUOTES.items():
        rules.setdefault(opener, _string(close, escapes))  # a quoted name wins, as in sqlglot
    heredocs = set(getattr(tokenizer, "HEREDOC_STRINGS", ()))
    for opener, (close, kind) in tokenizer._FORMAT_STRINGS.items():
        if not close or opener in heredocs:  # 0x1F (a number), $tag$ (below)
            continue
        prefix = opener[: len(opener) - len(opener.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz&"))]
        if kind == TokenType.BYTE_STRING:
            own = set(tokenizer._BYTE_STRING_ESCAPES)
        elif kind in _RAW_TYPES:
            own = escapes if tokenizer.STRING_ESCAPES_ALLOWED_IN_RAW_STRINGS else set()
        else:
            own = escapes
        plain = opener[len(prefix):] == close and close in tokenizer._QUOTES.values()
        rules[opener] = _string(close, own if plain else set(), prefix)
    line_ends = "\n" if tokenizer.COMMENTS_TERMINATE_AT_NEWLINE_ONLY else "\n\r"
    return rules, "$" in heredocs, tokenizer.DASH_COMMENT_REQUIRES_BOUNDARY, line_ends


def _dialect_file(name: str) -> tuple[str, bool | None]:
    """The sqlglot dialect and backslash rule of a dialect file named ``name`` or reading ``name``."""
    from .dialects import get_dialect, list_dialects
    from .errors import ConfigError

    try:
        found = get_dialect(name)
    except ConfigError:
        found = next((d for d in map(get_dialect, list_dialects()) if d.sqlglot == name.lower()), None)
    return (found.sqlglot, found.backslash_escapes) if found else (name, None)


@lru_cache(maxsize=None)
def lexicon(dialect: str | None = None, backslash_escapes: bool | None = None) -> Lexicon:
    """The lexical rules of ``dialect`` (a dialect file's name or a sqlglot dialect's).

    Without one (or for a name sqlglot does not know): ANSI quoting, with what the common
    databases add (backticks for names, dollar quotes, ``E'..'``, backslash escapes unless told).
    """
    if dialect:
        glot, filed = _dialect_file(dialect)
        try:
            rules, dollar, dash, ends = _from_sqlglot(glot, filed if backslash_escapes is None else backslash_escapes)
            return Lexicon.build(rules, dollar, dash, ends)
        except (SqlglotError, ValueError):
            pass
    backslash = True if backslash_escapes is None else backslash_escapes
    rules, _, _, ends = _from_sqlglot(None, backslash)
    rules["`"] = Rule(NAME, "`", doubled=True)
    for e in ("E'", "e'"):  # PostgreSQL's escape strings; redacted whole, E and all
        rules[e] = Rule(STRING, "'", backslash=True, doubled=True)
    return Lexicon.build(rules, True, False, ends)


def spans(text: str, lex: Lexicon) -> Iterator[tuple[int, int, str, Rule | None, bool]]:
    """Every literal, comment and quoted name: (start, end, kind, rule, closed)."""
    pos, search, rules = 0, lex.pattern.search, lex.rules
    while (m := search(text, pos)) is not None:
        start, pos = m.start(), m.end()
        if m.lastgroup == "number":
            yield start, pos, NUMBER_KIND, None, True
            continue
        opener = m.group()
        if m.lastgroup == "dollar":
            end = text.find(opener, pos)
            closed = end >= 0
            pos = end + len(opener) if closed else len(text)
            yield start, pos, STRING, None, closed
            continue
        rule = rules[opener]
        end, closed = _close(text, pos, opener, rule, lex.line_ends)
        if rule.kind == NAME and not closed:  # no name after all: read on after its quote
            end = pos
        yield start, end, rule.kind, rule, closed
        pos = end


def _close(text: str, pos: int, opener: str, rule: Rule, line_ends: str) -> tuple[int, bool]:
    """Where the token that ``opener`` opened before ``pos`` ends, and whether it was closed."""
    close = rule.close
    if not close:  # a line comment: up to (not including) the line's end
        ends = [i for i in (text.find(c, pos) for c in line_ends) if i >= 0]
        return (min(ends), True) if ends else (len(text), True)
    if rule.nested:
        return _nested_end(text, pos, opener, close)
    match = _body(close, rule.backslash, rule.doubled).match(text, pos)
    assert match is not None  # every body pattern matches the empty tail
    return match.end(), match.group(1) is not None


def _inner(close: str, backslash: bool, doubled: bool) -> str:
    """The text between a token's opener and its closer."""
    c = re.escape(close)
    if len(close) == 1:
        stop = c + ("\\\\" if backslash else "")
        escape = "|".join(filter(None, ["\\\\[\\s\\S]" if backslash else "", c + c if doubled else ""]))
        return f"[^{stop}]*(?:(?:{escape})[^{stop}]*)*" if escape else f"[^{stop}]*"
    if backslash:
        return f"(?:\\\\[\\s\\S]|(?!{c})[^\\\\])*"
    return "[\\s\\S]*?"


@lru_cache(maxsize=None)
def _body(close: str, backslash: bool, doubled: bool) -> re.Pattern[str]:
    """A token's text after its opener, to its closer (group 1) or the end of the text."""
    return re.compile(f"{_inner(close, backslash, doubled)}({re.escape(close)})|[\\s\\S]*")


def _nested_end(text: str, pos: int, opener: str, close: str) -> tuple[int, bool]:
    depth = 1
    for m in _pair(opener[:2], close).finditer(text, pos):  # /*+ (a hint) nests as /*
        depth += 1 if m.group() == opener[:2] else -1
        if depth == 0:
            return m.end(), True
    return len(text), False


@lru_cache(maxsize=None)
def _pair(opener: str, close: str) -> re.Pattern[str]:
    return re.compile(f"{re.escape(opener)}|{re.escape(close)}")


def _replacement(kind: str, rule: Rule | None) -> str:
    if kind == NUMBER_KIND:
        return "?"
    if kind == COMMENT:
        return " "
    return (rule.prefix if rule else "") + "'?'"


def redact_with(text: str, lex: Lexicon, keep_positions: bool = False, fast: bool = True) -> str:
    """``text`` with its literals and comments replaced; ``keep_positions`` keeps the numbers of
    sqlglot's ``Line 3, Col: 14`` and our ``at line 3, column 14`` (in a message, not in SQL); ``fast=False`` never takes the
    fast path (to compare the two)."""
    if fast and not keep_positions:
        dollar = lex.dollar_quotes and "$" in text and _DOLLAR.search(text)
        if not dollar and not lex.marked(text):
            return _fast(text, lex)
        if not dollar and not any(text.count(opener) > 1 for opener in lex.nesting):  # no comment in a comment
            return lex.whole.sub(lex.substitute, text)
    out, last = [], 0
    for start, end, kind, rule, _ in spans(text, lex):
        if kind == NAME or (keep_positions and kind == NUMBER_KIND and _is_position(text, start)):
            continue
        out.append(text[last:start])
        out.append(_replacement(kind, rule))
        last = end
    out.append(text[last:])
    return "".join(out)


_DOLLAR = re.compile(DOLLAR_QUOTE)


def _fast(text: str, lex: Lexicon) -> str:
    if "'" in text:
        parts = text.split("'")
        if not len(parts) % 2:  # an unterminated string runs to the end
            parts.append("")
        text = "'?'".join(parts[::2])
        if lex.plain_doubled:
            while "'?''?'" in text:  # 'it''s' is one string
                text = text.replace("'?''?'", "'?'")
    return NUMBERS.sub("?", text)


def _is_position(text: str, start: int) -> bool:
    return (text.endswith("Line ", 0, start) or text.endswith(", Col: ", 0, start)
            or text.endswith(" at line ", 0, start) or text.endswith(", column ", 0, start))


def redact(text: str, dialect: str | None = None, backslash_escapes: bool | None = None) -> str:
    """``text`` with string and number literals replaced and comments removed, as ``dialect`` reads it."""
    return redact_with(text, lexicon(dialect, backslash_escapes))


def redact_message(text: str, dialect: str | None = None) -> str:
    """A message that may quote SQL (a parse error, a warning): its literals out, its line and
    column numbers kept."""
    return redact_with(text, lexicon(dialect), keep_positions=True)


# -- text whose dialect is not known --------------------------------------------
@lru_cache(maxsize=1)
def _lexicons() -> tuple[Lexicon, ...]:
    """The dialect-less rules (backslashes escaping or not) and every dialect file's."""
    from .dialects import list_dialects

    return (lexicon(None), lexicon(None, False), *map(lexicon, list_dialects()))


_ANY_MARKS = re.compile(r"[0-9'\"`$#/{\\-]")


def redact_any(text: str, keep_positions: bool = False) -> str:
    """``text`` with everything that any known dialect would read as a literal or a comment
    replaced: for names and messages whose dialect is not known. A quoted name of one dialect
    that another reads as a string (``"x"``: PostgreSQL's name, MySQL's string) goes too."""
    if not _ANY_MARKS.search(text):
        return text
    cuts: list[tuple[int, int, str]] = []
    for lex in _lexicons():
        for start, end, kind, _, _ in spans(text, lex):
            if kind != NAME and not (keep_positions and kind == NUMBER_KIND and _is_position(text, start)):
                cuts.append((start, end, kind))
    out, last, merged = [], 0, _merge(sorted(cuts))
    for start, end, kinds in merged:
        out.append(text[last:start])
        out.append("?" if kinds == {NUMBER_KIND} else " " if kinds == {COMMENT} else "'?'")
        last = end
    out.append(text[last:])
    return "".join(out)


def _merge(cuts: list[tuple[int, int, str]]) -> list[tuple[int, int, set[str]]]:
    merged: list[tuple[int, int, set[str]]] = []
    for start, end, kind in cuts:
        if merged and start < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), last[2] | {kind})
        else:
            merged.append((start, end, {kind}))
    return merged


def unclosed(text: str, dialect: str | None = None) -> tuple[str, int, int] | None:
    """The first string, comment or quoted name ``text`` leaves open, as (kind, line, column)."""
    lex = lexicon(dialect)
    for start, _, kind, _, closed in spans(text, lex):
        if not closed:
            line = text.count("\n", 0, start) + 1
            return ("quoted name" if kind == NAME else kind), line, start - (text.rfind("\n", 0, start) + 1) + 1
    return None
