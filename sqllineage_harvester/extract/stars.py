"""``SELECT * EXCEPT / EXCLUDE / REPLACE / RENAME`` over a source whose columns are not known.

With the columns known the qualifier expands the star and applies its changes; without them the
star stays, and a name read through it (``SELECT name FROM (SELECT * REPLACE (UPPER(name) AS
name) FROM t)``) must be the replacing value, a renamed column's old one, and an excluded column
none, not the source's column of that name.
"""

from __future__ import annotations

from sqlglot import exp

_CHANGES = ("except_", "replace", "rename")


def star_of(node: exp.Expr) -> exp.Star | None:
    """The Star of a ``*`` / ``t.*`` select item that changes columns, else None."""
    star = node.this if isinstance(node, exp.Column) else node
    if isinstance(star, exp.Star) and any(star.args.get(k) for k in _CHANGES):
        return star
    return None


def changed_names(node: exp.Expr) -> list[str]:
    """The columns a ``*`` item names itself: its REPLACE and RENAME aliases, in order."""
    star = star_of(node)
    if star is None:
        return []
    return [a.alias for k in ("replace", "rename") for a in star.args.get(k) or [] if isinstance(a, exp.Alias)]


def through_changes(node: exp.Expr, name: str) -> tuple[str, exp.Expr | None] | None:
    """How the ``*`` item ``node`` gives column ``name``: ("value", the REPLACE item) to compute,
    ("column", the old column) a RENAME passes on, ("none", None) for a column it leaves out (an
    EXCEPT, or the old name of a RENAME); None when it passes the source's column unchanged."""
    star = star_of(node)
    if star is None:
        return None
    for item in star.args.get("replace") or []:
        if isinstance(item, exp.Alias) and item.alias == name:
            return "value", item
    for item in star.args.get("rename") or []:
        if isinstance(item, exp.Alias) and item.alias == name:
            return "column", item.this
    gone = {c.name for c in star.args.get("except_") or []}
    gone |= {a.this.name for a in star.args.get("rename") or [] if isinstance(a, exp.Alias)}
    return ("none", None) if name in gone else None
