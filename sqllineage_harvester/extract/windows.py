"""Named windows: ``OVER w`` with ``WINDOW w AS (PARTITION BY g ORDER BY t)`` at the query's end.

The partition and order of such a window are in the query's WINDOW clause, not under the
window function, so the walk that finds a function's WINDOW inputs by their place in the tree
does not see them. Called only for a SELECT that has a WINDOW clause.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import find_all_in_scope


def named_window_columns(select: exp.Select, expression: exp.Expr) -> list[exp.Column]:
    """The partition and order columns of the named windows ``expression``'s window functions
    use (``OVER w``, ``OVER (w ROWS ...)``), following a window built on another (``w2 AS (w1
    ORDER BY x)``)."""
    defined = {w.name: w for w in select.args.get("windows") or []}
    columns: list[exp.Column] = []
    for window in find_all_in_scope(expression, exp.Window):
        ref, seen = window.args.get("alias"), set()
        while isinstance(ref, exp.Identifier) and ref.name in defined and ref.name not in seen:
            seen.add(ref.name)
            definition = defined[ref.name]
            for part in (*(definition.args.get("partition_by") or []), definition.args.get("order")):
                if part is not None:
                    columns += part.find_all(exp.Column)
            ref = definition.args.get("alias")
    return columns
