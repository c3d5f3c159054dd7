"""sqlglot dialects by name, each built once.

``Dialect.get_or_raise(name)`` builds a new dialect object on every call, and sqlglot's
helpers (``normalize_identifiers(..., dialect="snowflake")``) look the name up on every
call too: tens of thousands of times in a harvest. A dialect object keeps no state of a
statement, so one per name serves every statement.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any, Callable

from sqlglot import exp
from sqlglot.dialects.dialect import ASCII_LOWER, ASCII_UPPER, Dialect, NormalizationStrategy
from sqlglot.expressions.core import SQLGLOT_META
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.parser import Parser
from sqlglot.tokens import Token, Tokenizer


@lru_cache(maxsize=64)
def dialect_of(name: str | None) -> Dialect:
    """The dialect named ``name`` (``None``: sqlglot's own); raises as ``Dialect.get_or_raise`` does."""
    return Dialect.get_or_raise(name)


# A tokenizer and a parser per dialect, reused: sqlglot builds both anew for every text (its
# tokenizer's keyword tables every time), and each starts every text from a clean state. One set
# per thread, as neither may serve two texts at once.
_local = threading.local()
_KEPT = 32


def _kept(kind: str, dialect: Dialect, make: Callable[[], Any]) -> Any:
    cache: dict[int, tuple[Dialect, Any]] | None = getattr(_local, kind, None)
    if cache is None:
        cache = {}
        setattr(_local, kind, cache)
    found = cache.get(id(dialect))
    if found is None or found[0] is not dialect:
        if len(cache) >= _KEPT:
            cache.clear()
        found = cache[id(dialect)] = (dialect, make())
    return found[1]


def tokenize_with(dialect: Dialect, text: str) -> list[Token]:
    """``dialect.tokenize(text)``, by this thread's tokenizer of the dialect."""
    tokenizer: Tokenizer = _kept("tokenizers", dialect, dialect.tokenizer)
    return tokenizer.tokenize(text)


def parser_of(dialect: Dialect) -> Parser:
    """``dialect.parser()``: this thread's parser of the dialect."""
    return _kept("parsers", dialect, dialect.parser)


def normalize_names(node: exp.Expr, dialect: Dialect, commented: bool = True,
                    keep: tuple[type, ...] = ()) -> list[exp.Expr]:
    """``normalize_identifiers(node, dialect=dialect)``, visiting only the identifiers when the
    text ``node`` was parsed from has no ``sqlglot.meta`` comment (``commented`` False). sqlglot's
    walks every node through a Python callback that looks for a ``/* sqlglot.meta
    case_sensitive */`` comment, which leaves a subtree as written: half of the walk's cost.
    The same walk picks out the nodes of the ``keep`` types (not Identifier), in walk order."""
    if commented:
        normalize_identifiers(node, dialect=dialect)
        return list(node.find_all(*keep)) if keep else []
    rule = _case_rule(dialect)
    normalize = dialect.normalize_identifier
    kept = []
    for found in node.find_all(exp.Identifier, *keep):
        if not isinstance(found, exp.Identifier):
            kept.append(found)
        elif rule is None:
            normalize(found)
        elif rule[1] or not found.quoted:
            found.set("this", rule[0](found.this))
    return kept


_UPPER = (NormalizationStrategy.UPPERCASE, NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE)
_QUOTED_TOO = (NormalizationStrategy.CASE_INSENSITIVE, NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE)


def _case_rule(dialect: Dialect) -> tuple[Callable[[str], str], bool] | None:
    """What sqlglot's ``Dialect.normalize_identifier`` does to an identifier's text, and whether to a
    quoted one too, for ``normalize_names`` to do it without a method call per identifier; None for
    a dialect with a rule of its own (BigQuery) or none (case-sensitive): the method is called.
    Read from the dialect object each time: one of the same class may be set another way."""
    if type(dialect).normalize_identifier is not Dialect.normalize_identifier:
        return None
    strategy = dialect.normalization_strategy
    if strategy is NormalizationStrategy.CASE_SENSITIVE:
        return None
    table = ASCII_UPPER if strategy in _UPPER else ASCII_LOWER
    if dialect.ASCII_ONLY_NORMALIZATION:
        return (lambda text: text.translate(table)), strategy in _QUOTED_TOO
    return (lambda text: text.upper()) if strategy in _UPPER else (lambda text: text.lower()), strategy in _QUOTED_TOO


def has_meta_comment(sql: str) -> bool:
    """Whether a text may hold a ``sqlglot.meta`` comment (see ``normalize_names``)."""
    return SQLGLOT_META in sql
