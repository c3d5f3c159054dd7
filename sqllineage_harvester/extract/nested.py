"""Impala's nested collections read as what they are: a column of a table, not a table.

``FROM db.t t, t.int_array_col a`` joins each row of t with the elements of its array column;
``a.item`` / ``a.pos`` (an array), ``a.key`` / ``a.value`` (a map) or a struct element's fields
are computed from ``db.t.int_array_col``. A FROM item is such a collection when its name starts
with a FROM item before it (``t``, ``db.t``, another collection's alias, or an enclosing query's,
for a correlated subquery), or, with a catalog, when it names a known table's column. It is
rewritten as ``UNNEST(t.col) AS a(item, pos)`` before the query is qualified, which the column
walker answers like Hive's ``LATERAL VIEW explode``.

>>> from sqllineage_harvester.extract import extract
>>> r = extract("SELECT t.id, a.item FROM db.t t, t.tags a", "hive")[0]
>>> [str(d) for d in r.inputs], [(c.target.column, [str(s) for s in c.sources]) for c in r.columns]
(['db.t'], [('id', ['db.t.id']), ('item', ['db.t.tags'])])
"""

from __future__ import annotations

from typing import Callable, Mapping

from sqlglot import exp

ColumnsOf = Callable[[exp.Table], "Mapping[str, str] | None"]

ELEMENT_COLUMNS = {"array": ("item", "pos"), "map": ("key", "value")}
UNKNOWN_ELEMENT = ("item", "pos", "key", "value")


def unnest_collections(query: exp.Expr, columns_of: ColumnsOf, selects: list[exp.Select] | None = None,
                       may_know: Callable[[str], bool] = lambda name: True) -> bool:
    """Rewrite every collection among the FROM items of ``query``'s SELECTs (in place); whether
    one was. ``selects``: those SELECTs in walk order, when the caller's own walk found them already;
    ``may_know``: False for a table name ``columns_of`` has no columns for, whatever its schema."""
    rewritten = False
    for select in list(query.find_all(exp.Select)) if selects is None else selects:
        from_ = select.args.get("from_")
        if from_ is None:
            continue
        visible = _outer_names(select)
        items = [from_.this] + [j.this for j in select.args.get("joins") or []]
        for item in items:
            if isinstance(item, exp.Table) and item.args.get("db") is not None and isinstance(item.this, exp.Identifier):
                rewritten = _rewrite(select, item, visible, columns_of, may_know) or rewritten
            visible.update(_names(item))
    return rewritten


def _names(item: exp.Expr) -> dict[str, exp.Expr]:
    """The names a FROM item can be referred to by."""
    names = {item.alias_or_name: item} if item.alias_or_name else {}
    if isinstance(item, exp.Table) and not item.alias:
        names[".".join(p.name for p in item.parts)] = item
    return names


def _outer_names(select: exp.Select) -> dict[str, exp.Expr]:
    """FROM items of the queries around ``select`` (a correlated subquery sees them)."""
    names: dict[str, exp.Expr] = {}
    outer = select.parent
    while outer is not None:
        if isinstance(outer, exp.Select) and outer.args.get("from_") is not None:
            for item in [outer.args["from_"].this] + [j.this for j in outer.args.get("joins") or []]:
                names.update(_names(item))
        outer = outer.parent
    return names


def _rewrite(select: exp.Select, item: exp.Table, visible: dict[str, exp.Expr], columns_of: ColumnsOf,
             may_know: Callable[[str], bool]) -> bool:
    """Rewrite ``item`` when it is a collection; whether it was."""
    parts = [p.name for p in item.parts]
    for cut in range(len(parts) - 1, 0, -1):
        owner = visible.get(".".join(parts[:cut]))
        if owner is not None:
            if columns_of(item) is not None:  # a table the catalog knows
                return False
            element = _element_columns(owner, parts[cut], columns_of)
            # unknown elements read as item / key / value are scalars or map entries: no fields
            open_ = element is UNKNOWN_ELEMENT and not _reads_element(select, item.alias or item.name)
            item.replace(_unnest(owner.alias_or_name, parts[cut], item, element, open_))
            return True
    # FROM db.t.arr alone: the catalog knows arr as a column of db.t, and no table db.t.arr
    if not may_know(parts[-2]):  # most FROM items: no table to build and ask about
        return False
    table = exp.Table(this=exp.to_identifier(parts[-2]), db=exp.to_identifier(parts[-3]) if len(parts) > 2 else None)
    known = columns_of(table)
    if known and parts[-1] in known and columns_of(item) is None:
        element = element_type(known[parts[-1]])
        item.replace(_unnest(table.name, parts[-1], item, element, element is UNKNOWN_ELEMENT))
        _add_owner(select, table)
        return True
    return False


def _reads_element(select: exp.Select, alias: str) -> bool:
    """Whether the query reads a collection's ``item``, ``key`` or ``value``: its elements are
    then scalars or map entries, which have no other columns."""
    return any(c.name in ("item", "key", "value") and c.table in ("", alias) for c in select.find_all(exp.Column))


def _add_owner(select: exp.Select, table: exp.Table) -> None:
    """Put the collection's table first in the FROM, the collection joined to it."""
    from_ = select.args["from_"]
    first = from_.this
    from_.set("this", table)
    select.set("joins", [exp.Join(this=first)] + list(select.args.get("joins") or []))


def _element_columns(owner: exp.Expr, column: str, columns_of: ColumnsOf) -> tuple[str, ...]:
    known = columns_of(owner) if isinstance(owner, exp.Table) else None
    return element_type(known.get(column) if known else None)


def element_type(type_: str | None) -> tuple[str, ...]:
    """The columns an element of a collection of this type has (all names when unknown)."""
    text = (type_ or "").strip().lower()
    for kind, names in ELEMENT_COLUMNS.items():
        if text.startswith(kind):
            fields = _struct_fields(text[len(kind):]) if kind == "array" else ()
            return names + fields
    return UNKNOWN_ELEMENT


def _struct_fields(text: str) -> tuple[str, ...]:
    """``<struct<a:int,b:string>>``: the field names of an array's struct elements."""
    inner = text.strip()[1:-1].strip()
    if not inner.startswith("struct<"):
        return ()
    fields, depth, start = [], 0, len("struct<")
    for i, char in enumerate(inner):
        if char == "<":
            depth += 1
        elif char == ">":
            depth -= 1
        elif char == "," and depth == 1:
            fields.append(inner[start:i])
            start = i + 1
    fields.append(inner[start:-1])
    return tuple(f.split(":", 1)[0].strip() for f in fields if ":" in f)


def _unnest(owner: str, column: str, item: exp.Table, element: tuple[str, ...], open_: bool) -> exp.Unnest:
    alias = item.alias or item.name
    unnest = exp.Unnest(
        expressions=[exp.column(column, table=owner)],
        alias=exp.TableAlias(this=exp.to_identifier(alias), columns=[exp.to_identifier(n) for n in element]),
    )
    if open_:  # a struct element's fields may have any name: an unqualified name may be one
        unnest.meta["open"] = True
    return unnest
