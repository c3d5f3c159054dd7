"""MATCH_RECOGNIZE (Snowflake, Oracle, Trino): rows made of the matches of a row pattern.

Its MEASURES are new columns computed from the input's (``FIRST(down.price) AS start_price``),
its pattern variables qualify input columns (``down.price``: the input's price, on the rows
``down`` matched), and ONE ROW PER MATCH (the default) gives only the PARTITION BY columns and
the measures. Read as a plain table, a measure is a column of the input it does not have and a
``*`` its every column. The partition groups the rows, the order sorts them and DEFINE's
conditions pick the rows a match is made of.
"""

from __future__ import annotations

import re

from sqlglot import exp

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def match_of(select: exp.Expr) -> exp.MatchRecognize | None:
    match = select.args.get("match") if isinstance(select, exp.Select) else None
    return match if isinstance(match, exp.MatchRecognize) else None


def measures(match: exp.MatchRecognize) -> dict[str, exp.Expr]:
    """Each measure's name and its expression (aliased)."""
    found: dict[str, exp.Expr] = {}
    for measure in match.args.get("measures") or []:
        item = measure.this if isinstance(measure, exp.MatchRecognizeMeasure) else measure
        if isinstance(item, exp.Alias):
            found[item.alias] = item
    return found


def pattern_variables(match: exp.MatchRecognize) -> set[str]:
    """The names of the pattern's variables (lower case): DEFINE's and those only in PATTERN."""
    names = {d.alias.lower() for d in match.args.get("define") or [] if isinstance(d, exp.Alias)}
    pattern = match.args.get("pattern")
    if pattern is not None:
        names |= {w.lower() for w in _WORD.findall(pattern.name)}
    return names


def one_row_per_match(match: exp.MatchRecognize) -> bool:
    rows = match.args.get("rows")
    return rows is None or "ONE ROW" in rows.name.upper()


def output_names(match: exp.MatchRecognize) -> list[str]:
    """What ``*`` stands for over ONE ROW PER MATCH: the partition columns, then the measures."""
    keys = [c.name for c in match.args.get("partition_by") or [] if isinstance(c, exp.Column)]
    return keys + [n for n in measures(match) if n not in keys]


def clauses(match: exp.MatchRecognize, group: str, sort: str, filter_: str) -> list[tuple[exp.Expr, str]]:
    """The parts that decide rows, with how: the partition, the order, DEFINE's conditions."""
    parts: list[tuple[exp.Expr, str]] = [(c, group) for c in match.args.get("partition_by") or []]
    if match.args.get("order") is not None:
        parts.append((match.args["order"], sort))
    parts += [(d, filter_) for d in match.args.get("define") or []]
    return parts
