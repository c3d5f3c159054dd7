"""Why a statement could not be analysed, in words a person reads: ``could not parse: unexpected
WHERE at line 1, column 23``, never sqlglot's ``<Token token_type: ...>`` or ``Required keyword:
'this' missing for <class ...>``. The token sqlglot stopped at is named by what it is (a keyword,
a name, a string, a number), never by a literal's text; the column is where the token starts.

>>> describe(_parse_error("SELECT a FROM t WHERE WHERE b = 1"), "SELECT a FROM t WHERE WHERE b = 1")
'could not parse: unexpected WHERE at line 1, column 23: the WHERE clause is incomplete'
>>> describe(_parse_error("SELECT a FROM WHERE x = 1"), "SELECT a FROM WHERE x = 1")
'could not parse: expected a table name, found WHERE at line 1, column 15'
"""

from __future__ import annotations

import re

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.tokens import Token, TokenType

from ..redact import redact_message, unclosed

# sqlglot's descriptions -> ours: {found} is the token stopped at, {at} where it is, {0}, {1} the
# description's groups, {clause} a class sqlglot names, in words.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Invalid expression / Unexpected token"), "unexpected {found}{at}"),
    (re.compile(r"Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>"),
     "unexpected {found}{at}: the {clause} is incomplete"),
    (re.compile(r"Expecting (.+)"), "expected {0}, found {found}{at}"),
    (re.compile(r"Expected (\w+) name but got .*"), "expected a {0} name, found {found}{at}"),
    (re.compile(r"Expected (.+?) after (\w+)"), "expected {0} after {1}, found {found}{at}"),
    (re.compile(r"Failed to parse any statement following CTE"), "no statement after the WITH clause{at}"),
    (re.compile(r"Found multiple '(\w+)' clauses"), "a second {0} clause{at}"),
    (re.compile(r"Unexpected token.*"), "unexpected {found}{at}"),
)
END = "end of the statement"
_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+)[\s\S]*")
_CLASS_REPR = re.compile(r"<class 'sqlglot\.[\w.]*?(\w+)'>")
_LITERALS = {TokenType.STRING: "string", TokenType.NATIONAL_STRING: "string", TokenType.NUMBER: "number",
             TokenType.HEX_STRING: "string", TokenType.BIT_STRING: "string", TokenType.BYTE_STRING: "string",
             TokenType.RAW_STRING: "string", TokenType.HEREDOC_STRING: "string"}
_NAMES = {TokenType.VAR, TokenType.IDENTIFIER}
_CLAUSES = {"Where": "WHERE clause", "Whens": "WHEN clause of the MERGE", "Table": "table name", "From": "FROM clause",
            "Join": "JOIN", "Group": "GROUP BY", "Order": "ORDER BY", "Having": "HAVING clause"}


def plain(message: str) -> str:
    """sqlglot's reprs of tokens and classes in a message, as their kind and name."""
    return _CLASS_REPR.sub(r"\1", _TOKEN_REPR.sub(r"\1", message))


def _tokens(text: str, dialect: str | None) -> list[Token]:
    try:
        return list(Dialect.get_or_raise(dialect).tokenize(text))
    except (SqlglotError, ValueError):
        return []


def _at(tokens: list[Token], line: int, col: int) -> Token | None:
    """The token sqlglot stopped at (it reports a token's last line and column)."""
    return next((t for t in tokens if t.line == line and t.col == col), None)


def _found(token: Token | None) -> str:
    if token is None:
        return END
    if token.token_type in _LITERALS:
        return _LITERALS[token.token_type]
    if token.token_type in _NAMES:
        return f"name {token.text}" if re.fullmatch(r"[\w$]+", token.text) else "a quoted name"
    if token.text.replace("_", "").isalpha():
        return token.text.upper()
    return token.text if len(token.text) <= 3 else token.token_type.name


def _where(text: str, token: Token | None, line: int, col: int) -> str:
    """`` at line L, column C``: where ``token`` starts (sqlglot's own place without it)."""
    if token is None:
        return f" at line {line}, column {col}" if line else ""
    first = text.rfind("\n", 0, token.start) + 1
    return f" at line {text.count(chr(10), 0, token.start) + 1}, column {token.start - first + 1}"


def _past(text: str, token: Token) -> str:
    """`` at line L, column C``: just after ``token``, where the statement ends."""
    first = text.rfind("\n", 0, token.end + 1) + 1
    return f" at line {text.count(chr(10), 0, token.end + 1) + 1}, column {token.end + 2 - first}"


def _words(description: str, found: str, at: str) -> str:
    for rule, words in _RULES:
        match = rule.match(description)
        if match:
            groups = [g.lower() if g.isalpha() and g.istitle() else g for g in match.groups()]
            clause = _CLAUSES.get(match.group(1), match.group(1)) if match.groups() else ""
            return words.format(*groups, found=found, at=at, clause=clause)
    return re.sub(r"'(\w+)'", r"\1", plain(description))[:300].rstrip(".") + at  # quotes would read as strings


def parse_reason(error: ParseError, text: str, dialect: str | None = None) -> str:
    """A ParseError in words: what was found where, and what was expected."""
    first = error.errors[0]
    line, col = first.get("line") or 0, first.get("col") or 0
    description = str(first.get("description") or "syntax error")
    tokens = _tokens(text, dialect) if line else []
    token = _at(tokens, line, col)
    if token is not None and token is tokens[-1] and not description.startswith("Invalid expression"):
        found, at = END, _past(text, token)  # what was missing comes after the last token
    else:
        found, at = _found(token), _where(text, token, line, col)
    return "could not parse: " + redact_message(_words(description, found, at), dialect)


def describe(error: BaseException, text: str = "", dialect: str | None = None) -> str:
    """Why ``text`` could not be parsed, with none of its literals."""
    if isinstance(error, TokenError):  # its message quotes the text around the spot, literals and all
        open_ = unclosed(text, dialect)
        if open_ is None:
            return "could not parse: the text could not be split into tokens"
        kind, line, col = open_
        return f"could not parse: unterminated {kind} at line {line}, column {col}"
    if isinstance(error, ParseError) and error.errors:
        return parse_reason(error, text, dialect)
    message = str(error).strip().splitlines()
    first_line = plain(message[0]) if message else type(error).__name__
    return f"could not parse: {redact_message(first_line[:300], dialect)}"


def _parse_error(text: str) -> ParseError:
    """The error sqlglot raises for ``text`` (for the examples above)."""
    import sqlglot

    try:
        sqlglot.parse_one(text)
    except ParseError as e:
        return e
    raise AssertionError(text)
