"""Generators in a select list (Hive, Spark): one item, several columns, named as the engine names them.

``SELECT explode(m) AS (k, v)`` yields k and v (``LATERAL VIEW stack(..) s AS x, y``: each column
its own arguments); an unaliased ``explode(arr)`` yields ``col`` (a map:
``key``, ``value``), ``posexplode`` ``pos`` first, ``inline`` its structs' fields, ``stack(n, ..)``
``col0``, ``col1`` .., ``json_tuple(js, ..)`` ``c0``, ``c1`` ..., ``TRANSFORM (..) USING 'script'
AS (a, b)`` a and b (unnamed ``key`` and ``value``), each from every column the script is given. Each becomes an item of its own,
computed from the generator's arguments. A collection's type comes from the catalog; unknown, it
is taken for an array (a map's columns then go by ``col``), and ``inline``'s fields are a ``*``.

>>> from sqllineage_harvester.extract import extract
>>> r = extract("CREATE TABLE d.kv AS SELECT explode(props) AS (k, v) FROM s.t", "hive")[0]
>>> [(c.target.column, [str(s) for s in c.sources]) for c in r.columns]
[('k', ['s.t.props']), ('v', ['s.t.props'])]
"""

from __future__ import annotations

from typing import Callable, Mapping

from sqlglot import exp

from .nested import element_type

ColumnsOf = Callable[[exp.Table], "Mapping[str, str] | None"]

GENERATORS = (exp.Explode, exp.Inline, exp.Stack, exp.QueryTransform)
# The node types a generator can be, to look for in a walk (an Anonymous one only when json_tuple).
GENERATOR_TYPES = (*GENERATORS, exp.Anonymous)


def is_generator(item: exp.Expr) -> bool:
    return isinstance(item, GENERATORS) or (isinstance(item, exp.Anonymous) and item.name.lower() == "json_tuple")


def expand_generators(query: exp.Expr, columns_of: ColumnsOf) -> None:
    """Give each column a select-list generator yields an item of its own (in place)."""
    for lateral in list(query.find_all(exp.Lateral)):
        _stack_view(lateral)
    for select in list(query.find_all(exp.Select)):
        items = select.expressions
        if not any(is_generator(i) or (isinstance(i, exp.Aliases) and is_generator(i.this)) for i in items):
            continue
        spread: list[exp.Expr] = []
        for item in items:
            if isinstance(item, exp.Aliases) and is_generator(item.this):
                names = [i.name for i in item.expressions]
                spread += [exp.alias_(item.this.copy(), exp.to_identifier(n), copy=False) for n in names]
            elif is_generator(item):
                names = _names(item, select, columns_of)
                spread += [exp.alias_(_column_of(item, i, len(names)), exp.to_identifier(n), copy=False)
                           for i, n in enumerate(names)] or [item]
            else:
                spread.append(item)
        select.set("expressions", spread)


def _stack_view(lateral: exp.Lateral) -> None:
    """``LATERAL VIEW stack(2, a, b, c, d) s AS x, y``: x from a and c, y from b and d, as a
    lateral subquery with an item per column (any other generator's columns read all it is given)."""
    generator, alias = lateral.this, lateral.args.get("alias")
    if not isinstance(generator, exp.Stack) or alias is None or not alias.columns:
        return
    names = [c.name for c in alias.columns]
    items = [exp.alias_(_column_of(generator, i, len(names)), exp.to_identifier(n), copy=False) for i, n in enumerate(names)]
    lateral.set("this", exp.Subquery(this=exp.Select(expressions=items)))
    lateral.set("view", None)
    alias.set("columns", None)


def _column_of(generator: exp.Expr, index: int, width: int) -> exp.Expr:
    """What the generator's ``index``-th column is computed from: stack(2, a, b, c, d) yields
    a, c in its first and b, d in its second; the others' every column reads all they are given."""
    if isinstance(generator, exp.Stack):
        values = [e.copy() for i, e in enumerate(generator.expressions) if i % width == index]
        return exp.Anonymous(this="stack", expressions=values)
    return generator.copy()


def _names(generator: exp.Expr, select: exp.Select, columns_of: ColumnsOf) -> list[str]:
    """The columns an unaliased generator yields, as Hive and Spark name them."""
    if isinstance(generator, exp.Stack):
        count = generator.this.to_py() if isinstance(generator.this, exp.Literal) and generator.this.is_int else 0
        width = -(-len(generator.expressions) // count) if count else 0
        return [f"col{i}" for i in range(width)]
    if isinstance(generator, exp.QueryTransform):  # TRANSFORM (..) USING 'script' [AS (a, b)]: key, value unnamed
        schema = generator.args.get("schema")
        return [c.name for c in schema.expressions] if isinstance(schema, exp.Schema) else ["key", "value"]
    if isinstance(generator, exp.Anonymous):  # json_tuple(js, 'a', 'b'): c0, c1
        return [f"c{i}" for i in range(len(generator.expressions) - 1)]
    element = element_type(_type_of(generator.this, select, columns_of))
    if isinstance(generator, exp.Inline):  # its structs' fields; unknown, a * stands for them
        return [n for n in element if n not in ("item", "pos", "key", "value")] or ["*"]
    names = ["key", "value"] if element[0] == "key" else ["col"]
    return (["pos"] if isinstance(generator, exp.Posexplode) else []) + names


def _type_of(argument: exp.Expr | None, select: exp.Select, columns_of: ColumnsOf) -> str | None:
    """The catalog's type of a generator's argument, when it is a column of a FROM table."""
    if not isinstance(argument, exp.Column) or select.args.get("from_") is None:
        return None
    items = [select.args["from_"].this] + [j.this for j in select.args.get("joins") or []]
    for table in items:
        if isinstance(table, exp.Table) and (not argument.table or argument.table == table.alias_or_name):
            known = columns_of(table)
            if known and argument.name in known:
                return known[argument.name]
    return None
