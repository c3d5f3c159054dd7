"""UPDATE, DELETE, MERGE and upserts.

Each is rewritten as one synthetic SELECT over the same tables, joins and
conditions, whose projections are the written values; the column walker then
answers it like any query. The node standing for the target inside that SELECT
is passed on, so the target counts as an input only where it is really read.
"""

from __future__ import annotations

from sqlglot import exp

from ..model import ColumnLineage, ColumnRef, DatasetRef
from .base import Context, Partial, dataset, inputs_of, lineage, name_copy, traced, write_query
from .columns import per_target


def _with(select: exp.Select, node: exp.Expr) -> exp.Select:
    """Carry a statement's WITH clause over to its synthetic SELECT."""
    with_ = node.args.get("with_")
    if with_ is not None:
        select.set("with_", with_)
    return select


def _assignments(node: exp.Expr) -> list[tuple[exp.Column, exp.Expr]]:
    """SET pairs, with ``(a, b) = (SELECT x, y ...)`` and ``(a, b) = (x, y)`` spread out."""
    pairs: list[tuple[exp.Column, exp.Expr]] = []
    for eq in node.expressions:
        if not isinstance(eq, exp.EQ):
            continue
        left, right = eq.this, eq.expression
        if isinstance(left, (exp.Tuple, exp.Paren)) and not isinstance(left, exp.Column):
            columns = left.expressions if isinstance(left, exp.Tuple) else [left.this]
            inner = right.this if isinstance(right, exp.Subquery) else None
            if isinstance(inner, exp.Select):
                for i, column in enumerate(columns):
                    one = inner.copy()
                    one.set("expressions", [one.expressions[i]] if i < len(one.expressions) else [])
                    pairs.append((column, exp.Subquery(this=one)))
            elif isinstance(right, exp.Tuple):
                pairs.extend(zip(columns, right.expressions))
            continue
        if isinstance(left, exp.Column):
            pairs.append((left, right))
    return pairs


def _aliases(items: list[exp.Expr]) -> dict[str, exp.Table]:
    return {t.alias_or_name: t for t in items if isinstance(t, exp.Table)}


def handle_update(node: exp.Expr, ctx: Context) -> Partial:
    target = node.this
    if not isinstance(target, exp.Table):
        return Partial("update")
    from_ = node.args.get("from_")
    joins = list(target.args.get("joins") or [])
    # UPDATE .. FROM a JOIN b ON ..: sqlglot hangs the joins on the FROM's first table. The
    # statement's parts move into the synthetic SELECT: the UPDATE is not looked at again.
    from_table = from_.this if from_ is not None else None
    from_joins = (list(from_.args.get("joins") or []) + list(from_table.args.get("joins") or [])
                  if from_table is not None else [])
    if from_table is not None:
        from_table.set("joins", None)
    from_items = [from_table] + [j.this for j in from_joins] if from_table is not None else []
    named = _aliases([target] + [j.this for j in joins] + from_items)
    main = target
    # T-SQL: UPDATE o SET ... FROM dbo.orders AS o -- the target is an alias of a FROM table.
    if not target.db and target.name in named and named[target.name] is not target and from_items:
        main = named[target.name]
    same = [t for t in from_items if t.name == target.name and t.db == target.db and t.catalog == target.catalog]
    if main is target and not target.alias and len(same) == 1:  # UPDATE dbo.t SET .. FROM dbo.t AS x JOIN ..
        main = same[0]
    pairs = _assignments(node)
    owners: list[exp.Table] = []
    for column, _ in pairs:
        owner = named.get(column.table) if column.table else None
        owners.append(owner if owner is not None else main)
    names_out = {id(t): dataset(ctx, name_copy(t)) for t in set(owners) | {main}}
    head = target  # main, or a stand-in for the table aliased (left out of the query)
    head.set("joins", None)
    select = exp.Select(expressions=[exp.alias_(value, f"__c{i}", copy=False) for i, (_, value) in enumerate(pairs)])
    if main is target:
        select.set("from_", exp.From(this=head))
        # FROM a JOIN b ON ..: a joins the target bare, b keeps its ON condition (JOIN inputs)
        select.set("joins", joins + ([exp.Join(this=from_table)] + from_joins if from_table is not None else []))
    else:
        select.set("from_", exp.From(this=from_table))
        select.set("joins", from_joins + joins)
    if node.args.get("where") is not None:
        select.set("where", node.args["where"])
    _with(select, node)
    trace = traced(ctx, select)
    exclude = head if main is target else from_table
    partial = Partial("update", inputs=inputs_of(ctx, trace, exclude=exclude), indirect=trace.indirect,
                      warnings=trace.warnings)
    written = {ref.name for ref in names_out.values()}
    merged = per_target([(ColumnRef(names_out[id(owner)].name, column.name), source)
                      for (column, _), owner, (_, source) in zip(pairs, owners, trace.outputs)])
    partial.columns = [lineage(ref, t) for ref, t in merged.items()]
    partial.outputs = list(dict.fromkeys(names_out[id(o)] for o in owners)) or [names_out[id(main)]]
    read = {s.dataset for c in partial.columns for s in c.sources}
    for out in partial.outputs:
        if out.name in read and out not in partial.inputs:
            partial.inputs.append(out)
    partial.indirect = {r for r in partial.indirect if r.source.dataset not in written}
    return partial


def handle_delete(node: exp.Expr, ctx: Context) -> Partial:
    target = node.this
    if not isinstance(target, exp.Table):  # BigQuery: DELETE `p.d.t` WHERE .. (no FROM)
        tables = [t for t in node.args.get("tables") or [] if isinstance(t, exp.Table)]
        if len(tables) != 1:
            return Partial("delete")
        target = tables[0]
    head = target  # moves into the synthetic SELECT
    own_joins = list(head.args.get("joins") or [])  # DELETE o FROM t o JOIN c ON .. (T-SQL, MySQL)
    head.set("joins", None)
    select = exp.Select(expressions=[exp.Star()], from_=exp.From(this=head))
    using, joined = [], []
    for table in node.args.get("using") or []:
        table = table.copy()  # USING a JOIN b ON ..: sqlglot hangs the joins on the table
        joined += list(table.args.get("joins") or [])
        table.set("joins", None)
        using.append(table)
    named = _aliases(using + [j.this for j in joined])
    if not target.db and target.name in named:  # DELETE t FROM big_table AS t JOIN ...
        head = named[target.name]
        select.set("from_", exp.From(this=head))
        using = [u for u in using if u is not head]
        joined = [j for j in joined if j.this is not head]
    select.set("joins", own_joins + [exp.Join(this=t) for t in using] + joined)
    if node.args.get("where") is not None:
        select.set("where", node.args["where"])
    _with(select, node)
    out = dataset(ctx, name_copy(head))
    trace = traced(ctx, select)
    indirect = {r for r in trace.indirect if r.source.dataset != out.name}
    return Partial("delete", inputs=inputs_of(ctx, trace, exclude=head), outputs=[out], indirect=indirect,
                   warnings=trace.warnings)


def _merge_values(then: exp.Expr, ctx: Context, target: exp.Table, using: exp.Expr, with_: exp.Expr | None,
                  warnings: list[str]) -> list[tuple[str, exp.Expr]]:
    """(target column, value) pairs of one WHEN branch."""
    if isinstance(then, exp.Update):
        if any(isinstance(e, exp.Star) for e in then.expressions):
            return _star_pairs(ctx, target, using, with_)
        return [(column.name, value) for column, value in _assignments(then)]
    if not isinstance(then, exp.Insert):
        return []
    columns = then.this.expressions if isinstance(then.this, exp.Tuple) else []
    values = then.expression.expressions if isinstance(then.expression, exp.Tuple) else []
    if isinstance(then.this, exp.Star) or (isinstance(then.this, exp.Var) and then.this.name.upper() == "ROW"):
        return _star_pairs(ctx, target, using, with_)
    if len(columns) == 1 and isinstance(columns[0], exp.Anonymous) and columns[0].name.upper() == "VALUES":
        values, columns = columns[0].expressions, []  # BigQuery: INSERT VALUES (...) with no column list
    names = [c.name for c in columns]
    if not names and values:
        names = list(ctx.catalog.columns(ctx.parts(name_copy(target))) or {})
        if len(names) != len(values):
            return _unplaced_values(values, len(names), warnings)
    return list(zip(names, values))


def _unplaced_values(values: list[exp.Expr], known: int, warnings: list[str]) -> list[tuple[str, exp.Expr]]:
    """INSERT VALUES (..) with no column list whose target columns the catalog cannot give: the
    values still flow into the table, so they are a wildcard edge (``t.* <- ..``) and a warning,
    as a COPY without a column list is, rather than columns that vanish. Values read from no
    column (``1``, ``now()``) carry no lineage to lose."""
    read = [("*", value) for value in values if value.find(exp.Column) is not None]
    if read:
        why = (f"the catalog's target has {known} columns" if known
               else "the target columns are unknown without a catalog")
        warnings.append(f"MERGE INSERT VALUES without a column list: {len(values)} values, but {why}")
    return read


def _star_pairs(ctx: Context, target: exp.Table, using: exp.Expr,
                with_: exp.Expr | None) -> list[tuple[str, exp.Expr]]:
    """UPDATE SET * / INSERT * / INSERT ROW: every source column by name."""
    alias = using.alias_or_name
    known = ctx.catalog.columns(ctx.parts(name_copy(using))) if isinstance(using, exp.Table) else None
    names = list(known or _query_names(using, with_) or ctx.catalog.columns(ctx.parts(name_copy(target))) or [])
    if names:
        return [(name, exp.column(name, table=alias)) for name in names]
    return [("*", exp.Column(this=exp.Star(), table=exp.to_identifier(alias)))]


def _query_names(using: exp.Expr, with_: exp.Expr | None) -> list[str]:
    """The columns a MERGE's source subquery, or the CTE it names, yields, where they are all
    named (no ``*``): ``INSERT *`` writes each to the target column of its name."""
    source: exp.Expr = using
    if isinstance(using, exp.Table) and not using.db and isinstance(with_, exp.With):
        ctes = [c for c in with_.expressions if c.alias_or_name.lower() == using.name.lower()]
        source = ctes[-1] if ctes else using
    alias = source.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:  # USING (..) AS s (a, b), WITH c (a, b) AS (..)
        return [c.name for c in alias.columns]
    query = source.this if isinstance(source, (exp.Subquery, exp.CTE)) else None
    if not isinstance(query, exp.Query):
        return []
    names = query.named_selects
    return [] if not names or "*" in names or "" in names else names


def _qualifier(table: exp.Expr, other: exp.Expr) -> dict[str, exp.Identifier] | None:
    """How the synthetic SELECT names ``table``: its alias, else its name (with its schema and
    database when ``other`` has the same name); None for a subquery without an alias."""
    alias = table.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.this is not None:
        return {"table": alias.this}
    if not isinstance(table, exp.Table) or not isinstance(table.this, exp.Identifier):
        return None
    parts = {"table": table.this}
    if isinstance(other, exp.Table) and not other.alias and other.name == table.name:
        parts.update({key: table.args[key] for key in ("db", "catalog") if table.args.get(key) is not None})
    return parts


def _own_columns(node: exp.Expr) -> list[exp.Column]:
    """The unqualified columns of a MERGE branch's expression, not those of a subquery in it."""
    return [n for n in node.walk(prune=lambda n: isinstance(n, exp.Query))
            if isinstance(n, exp.Column) and not n.table and not isinstance(n.this, exp.Star)]


def _branch_reads(when: exp.Expr) -> list[exp.Expr]:
    """The parts of a WHEN branch whose names read a row: its condition and written values."""
    then = when.args.get("then")
    parts = [when.args["condition"]] if when.args.get("condition") is not None else []
    if isinstance(then, exp.Update):
        parts += [eq.expression for eq in then.expressions if isinstance(eq, exp.EQ)]
    elif isinstance(then, exp.Insert):
        parts += [then.expression] if isinstance(then.expression, exp.Expr) else []
        listed = then.this.expressions if isinstance(then.this, exp.Tuple) else []  # not the column list, but
        parts += [c for c in listed if isinstance(c, exp.Anonymous)]  # BigQuery's INSERT VALUES (..) in it
    return parts


def _qualify_unmatched(when: exp.Expr, target: exp.Table, using: exp.Expr) -> None:
    """Qualify the bare names of a NOT MATCHED branch with the only row there is: WHEN NOT
    MATCHED [BY TARGET] has no target row, so ``INSERT (a) VALUES (a)`` (dbt's merges and
    snapshots) reads the source; WHEN NOT MATCHED BY SOURCE has only the target's. Without
    this, a name both tables may hold cannot be placed (a warning, no source)."""
    if when.args.get("matched"):
        return
    row, other = (target, using) if when.args.get("source") else (using, target)
    parts = _qualifier(row, other)
    if parts is None:
        return
    for part in _branch_reads(when):
        for column in _own_columns(part):
            for key, identifier in parts.items():
                column.set(key, identifier.copy())


def handle_merge(node: exp.Expr, ctx: Context) -> Partial:
    target, using = node.this, node.args.get("using")
    if not isinstance(target, exp.Table) or using is None:
        return Partial("merge")
    pairs: list[tuple[str, exp.Expr]] = []
    conditions: list[exp.Expr] = []
    warnings: list[str] = []
    for when in node.args["whens"].expressions:
        _qualify_unmatched(when, target, using)
        if when.args.get("condition") is not None:
            conditions.append(when.args["condition"])
        pairs += _merge_values(when.args.get("then"), ctx, target, using, node.args.get("with_"), warnings)
    head, target = target, name_copy(target)  # the table moves into the query, its name is the target
    values = [exp.alias_(v, f"__c{i}", copy=False) for i, (_, v) in enumerate(pairs)] or [exp.Literal.number(1)]
    select = exp.Select(expressions=values, from_=exp.From(this=head))
    select.set("joins", [exp.Join(this=using, on=node.args["on"])])
    if conditions:
        select.set("where", exp.Where(this=exp.or_(*conditions, copy=False)))
    _with(select, node)
    partial = write_query(ctx, "merge", target, [n for n, _ in pairs] if pairs else [], select, reads_target=head)
    partial.warnings += warnings
    if not pairs:
        partial.columns = []
    return partial


def add_upsert(node: exp.Insert, ctx: Context, partial: Partial) -> Partial:
    """ON CONFLICT DO UPDATE / ON DUPLICATE KEY UPDATE: the update clause is lineage too."""
    conflict = node.args.get("conflict")
    if conflict is None or not partial.outputs:
        return partial
    out = partial.outputs[0]
    inserted = {c.target.column: c for c in partial.columns}
    by_target = dict(inserted)
    for eq in conflict.expressions or []:
        if not isinstance(eq, exp.EQ) or not isinstance(eq.this, exp.Column):
            continue
        name = eq.this.name
        sources: set[ColumnRef] = set()
        for column in eq.expression.find_all(exp.Column, exp.Identifier):
            if isinstance(column, exp.Identifier) and not isinstance(column.parent, exp.Anonymous):
                continue
            col_name = column.name
            via_values = isinstance(column.parent, exp.Anonymous) and column.parent.name.upper() == "VALUES"
            if via_values or (isinstance(column, exp.Column) and column.table.upper() == "EXCLUDED"):
                sources |= set(inserted[col_name].sources) if col_name in inserted else set()
            elif isinstance(column, exp.Column):
                sources.add(ColumnRef(out.name, col_name))
        previous = by_target.get(name)
        value = eq.expression
        bare = isinstance(value, exp.Column) or (isinstance(value, exp.Anonymous) and value.name.upper() == "VALUES")
        transform = "IDENTITY" if bare else ("AGGREGATION" if value.find(exp.AggFunc) else "TRANSFORMATION")
        if not sources:  # SET n = 0, SET at = now(): written from no column
            by_target.setdefault(name, ColumnLineage(ColumnRef(out.name, name), (), transform))
            continue
        for used in (inserted.get(c.name) for c in eq.expression.find_all(exp.Column, exp.Identifier)):
            if used is not None and used.sources:
                transform = _strongest(transform, used.transform)
        if previous is not None:
            transform = _strongest(transform, previous.transform)
        merged = set(previous.sources) if previous else set()
        by_target[name] = ColumnLineage(ColumnRef(out.name, name), tuple(sorted(merged | sources)), transform,
                                        previous.indirect if previous else ())
        if any(s.dataset == out.name for s in sources) and out not in partial.inputs:
            partial.inputs.append(out)
    partial.columns = list(by_target.values())
    return partial


def _strongest(a: str, b: str) -> str:
    order = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")
    return max(a, b, key=order.index)


def export_data(node: exp.Expr, ctx: Context) -> Partial:
    """BigQuery EXPORT DATA OPTIONS(uri=...) AS SELECT: a query written to files."""
    uri = None
    for prop in (node.args.get("options").expressions if node.args.get("options") else []):
        if isinstance(prop, exp.Property) and prop.name.lower() == "uri":
            uri = prop.args["value"].name
    query = node.this
    partial = Partial("copy", outputs=[DatasetRef(uri, "file")] if uri else [])
    if isinstance(query, (exp.Select, exp.SetOperation)):
        trace = traced(ctx, query)
        partial.inputs = inputs_of(ctx, trace)
    return partial
