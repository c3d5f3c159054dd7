"""UPDATE, DELETE, MERGE and upserts.

Each is rewritten as one synthetic SELECT over the same tables, joins and
conditions, whose projections are the written values; the column walker then
answers it like any query. The node standing for the target inside that SELECT
is passed on, so the target counts as an input only where it is really read.
"""

from __future__ import annotations

from typing import Callable

from sqlglot import exp

from ..model import ColumnLineage, ColumnRef, DatasetRef
from .base import Context, Partial, dataset, inputs_of, lineage, name_copy, target_table, traced, write_query
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


def _cte_table(table: exp.Table, node: exp.Expr) -> exp.Table:
    """What a write to ``table`` writes: T-SQL's ``WITH d AS (SELECT .. FROM t ..) DELETE FROM d``
    / ``UPDATE d SET ..`` writes the one table the CTE selects from (through CTEs over CTEs);
    any other table is itself."""
    with_ = node.args.get("with_")
    seen: set[str] = set()
    while with_ is not None and not table.db and table.name not in seen:
        seen.add(table.name)
        cte = next((c for c in with_.expressions if c.alias_or_name == table.name), None)
        body = cte.this if cte is not None else None
        from_ = body.args.get("from_") if isinstance(body, exp.Select) else None
        if from_ is None or body.args.get("joins") or not isinstance(from_.this, exp.Table) or not from_.this.name:
            break
        table = from_.this
    return table


def _aliases(items: list[exp.Expr]) -> dict[str, exp.Table]:
    return {t.alias_or_name: t for t in items if isinstance(t, exp.Table)}


def _set_column(column: exp.Column, named: dict[str, exp.Table], main: exp.Table) -> tuple[exp.Table, str]:
    """The table and column a SET item writes: ``t.col`` col of the table named or aliased t;
    ``info.status`` / ``t.info.status`` (BigQuery, a field of a struct) the struct column info."""
    parts = [p.name for p in column.parts]
    if len(parts) == 1:
        return main, parts[0]
    if column.table in named:
        return named[column.table], column.name
    if parts[0] in named:
        return named[parts[0]], parts[1]
    return main, parts[0]


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
    written_names: list[str] = []
    for column, _ in pairs:
        owner, name = _set_column(column, named, main)
        owners.append(owner)
        written_names.append(name)
    names_out = {id(t): dataset(ctx, name_copy(_cte_table(t, node))) for t in set(owners) | {main}}
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
    merged = per_target([(ColumnRef(names_out[id(owner)].name, name), source)
                         for name, owner, (_, source) in zip(written_names, owners, trace.outputs)])
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
    listed = [t for t in node.args.get("tables") or [] if isinstance(t, exp.Table)]
    if node.args.get("using") and own_joins and not any(j.args.get("on") or j.args.get("using") for j in own_joins):
        # MySQL DELETE FROM o, i USING orders o JOIN items i ..: the list names the targets, USING joins
        listed, own_joins = [head] + [j.this for j in own_joins], []
    select = exp.Select(expressions=[exp.Star()], from_=exp.From(this=head))
    using, joined = [], []
    for table in node.args.get("using") or []:
        table = table.copy()  # USING a JOIN b ON ..: sqlglot hangs the joins on the table
        joined += list(table.args.get("joins") or [])
        table.set("joins", None)
        using.append(table)
    named = _aliases(using + [j.this for j in joined])
    if len(listed) > 1 and using and target.db:  # DELETE FROM s.a, s.b USING s.a JOIN s.b ..
        named.update({target.name: t for t in using + [j.this for j in joined] if _names(target, t)})
    if target.name in named and (not target.db or len(listed) > 1):  # DELETE t FROM big_table AS t JOIN ...
        head = named[target.name]
        select.set("from_", exp.From(this=head))
        using = [u for u in using if u is not head]
        joined = [j for j in joined if j.this is not head]
    select.set("joins", own_joins + [exp.Join(this=t) for t in using] + joined)
    if node.args.get("where") is not None:
        select.set("where", node.args["where"])
    _with(select, node)
    deleted = _deleted(listed, [head] + [j.this for j in own_joins + joined] + using) or [head]
    outputs = list(dict.fromkeys(dataset(ctx, name_copy(_cte_table(t, node))) for t in deleted))
    trace = traced(ctx, select)
    written = {out.name for out in outputs}
    indirect = {r for r in trace.indirect if r.source.dataset not in written}
    skip = {id(t) for t in deleted}
    inputs = list(dict.fromkeys(dataset(ctx, t) for t in trace.tables if id(t) not in skip))
    return Partial("delete", inputs=inputs, outputs=outputs, indirect=indirect, warnings=trace.warnings)


def _deleted(listed: list[exp.Table], tables: list[exp.Expr]) -> list[exp.Table]:
    """MySQL / T-SQL ``DELETE o, i FROM orders o JOIN items i ..`` (MySQL also ``DELETE FROM o, i
    USING ..``): the tables listed (by alias, or by name) are the ones rows are deleted from; the
    others are only read. Empty when none is listed, or one that is not among ``tables``."""
    found: list[exp.Table] = []
    for name in listed:
        match = [t for t in tables if isinstance(t, exp.Table) and _names(name, t)]
        if not match:
            return []
        found.append(match[0])
    return found


def _names(name: exp.Table, table: exp.Table) -> bool:
    """Whether ``name`` (of a multi-table DELETE's list) is ``table``: its alias, or its name."""
    if table.alias and not name.db and name.name == table.alias:
        return True
    return name.name == table.name and name.db in ("", table.db) and name.catalog in ("", table.catalog)


def _merge_values(then: exp.Expr, ctx: Context, target: exp.Table, using: exp.Expr, with_: exp.Expr | None,
                  warnings: list[str]) -> list[tuple[str, exp.Expr]]:
    """(target column, value) pairs of one WHEN branch."""
    if isinstance(then, exp.Update):
        if any(isinstance(e, exp.Star) for e in then.expressions):
            return _star_pairs(ctx, target, using, with_)
        named = {target.alias_or_name: target}
        return [(_set_column(column, named, target)[1], value) for column, value in _assignments(then)]
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
    parts = [c for c in (when.args.get("condition"), _branch_where(when)) if c is not None]
    if isinstance(then, exp.Update):
        parts += [eq.expression for eq in then.expressions if isinstance(eq, exp.EQ)]
    elif isinstance(then, exp.Insert):
        parts += [then.expression] if isinstance(then.expression, exp.Expr) else []
        listed = then.this.expressions if isinstance(then.this, exp.Tuple) else []  # not the column list, but
        parts += [c for c in listed if isinstance(c, exp.Anonymous)]  # BigQuery's INSERT VALUES (..) in it
    return parts


def _branch_where(when: exp.Expr) -> exp.Expr | None:
    """Oracle's ``WHEN MATCHED THEN UPDATE SET .. WHERE cond`` / ``INSERT .. VALUES (..) WHERE
    cond``: the branch's own filter, as ``WHEN MATCHED AND cond`` is elsewhere."""
    then = when.args.get("then")
    where = then.args.get("where") if isinstance(then, (exp.Update, exp.Insert)) else None
    return where.this if isinstance(where, exp.Where) else None


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
        conditions += [c for c in (when.args.get("condition"), _branch_where(when)) if c is not None]
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
    names = _UpsertNames(node)
    for eq in conflict.expressions or []:
        if not isinstance(eq, exp.EQ) or not isinstance(eq.this, exp.Column):
            continue
        name = eq.this.name
        value = eq.expression
        bare = isinstance(value, exp.Column) or (isinstance(value, exp.Anonymous) and value.name.upper() == "VALUES")
        transform = "IDENTITY" if bare else ("AGGREGATION" if value.find(exp.AggFunc) else "TRANSFORMATION")
        sources: set[ColumnRef] = set()
        from_query: list[exp.Column] = []
        for column in value.find_all(exp.Column, exp.Identifier):
            if isinstance(column, exp.Identifier) and not isinstance(column.parent, exp.Anonymous):
                continue
            role, col_name = names.role(column)
            if role == "inserted":
                used = inserted.get(col_name)
                if used is not None and used.sources:
                    sources |= set(used.sources)
                    transform = _strongest(transform, used.transform)
            elif role == "target":
                sources.add(ColumnRef(out.name, col_name))
            elif isinstance(column, exp.Column):
                from_query.append(column)
        for trace in _query_values(ctx, node.expression, from_query):
            sources |= set(trace.sources)
            transform = _strongest(transform, trace.transform)
        previous = by_target.get(name)
        if not sources:  # SET n = 0, SET at = now(): written from no column
            by_target.setdefault(name, ColumnLineage(ColumnRef(out.name, name), (), transform))
            continue
        if previous is not None:
            transform = _strongest(transform, previous.transform)
        merged = set(previous.sources) if previous else set()
        by_target[name] = ColumnLineage(ColumnRef(out.name, name), tuple(sorted(merged | sources)), transform,
                                        previous.indirect if previous else ())
        if any(s.dataset == out.name for s in sources) and out not in partial.inputs:
            partial.inputs.append(out)
    partial.columns = list(by_target.values())
    return partial


class _UpsertNames:
    """What a name in an upsert's update clause stands for: the row the INSERT tried
    (``EXCLUDED.c``, ``VALUES(c)``, MySQL's row alias ``new.c`` / ``new(a, b)``), the target's
    row (a bare name, or one qualified by the target's name or alias), or a column of the
    INSERT's own SELECT (``dt.c``: MySQL lets the update read the query's tables)."""

    def __init__(self, node: exp.Insert) -> None:
        table, self.columns = target_table(node.this)
        self.target = {n for n in (table.name, table.alias) if n} if table is not None else set()
        query = node.expression
        alias = query.args.get("alias") if isinstance(query, exp.Values) else None
        self.row = alias.name if isinstance(alias, exp.TableAlias) else ""
        self.renamed = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []

    def role(self, column: exp.Expr) -> tuple[str, str]:
        """("inserted" | "target" | "query", the column's name in the target or the query)."""
        name = column.name
        if isinstance(column.parent, exp.Anonymous) and column.parent.name.upper() == "VALUES":
            return "inserted", name
        qualifier = column.table if isinstance(column, exp.Column) else ""
        if qualifier.upper() == "EXCLUDED" or (self.row and qualifier == self.row):
            if name in self.renamed and len(self.renamed) == len(self.columns):
                name = self.columns[self.renamed.index(name)]
            return "inserted", name
        return ("target" if not qualifier or qualifier in self.target else "query"), name


def _query_values(ctx: Context, query: exp.Expr | None, columns: list[exp.Column]) -> list:
    """The lineage of columns of the INSERT's SELECT that the update clause names (``dt.c``):
    that SELECT, asked for those columns instead of its own."""
    if not columns or not isinstance(query, exp.Select) or query.args.get("from_") is None:
        return []
    select = query.copy()
    select.set("expressions", [exp.alias_(c.copy(), f"__u{i}", copy=False) for i, c in enumerate(columns)])
    return [trace for _, trace in traced(ctx, select).outputs]


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


_MODIFYING = (exp.Insert, exp.Update, exp.Delete)


def with_modifying_ctes(node: exp.Expr, ctx: Context, dispatch: Callable[[exp.Expr, Context], Partial]) -> Partial:
    """PostgreSQL ``WITH d AS (DELETE .. RETURNING ..) INSERT .. SELECT .. FROM d``: each
    data-modifying CTE is a write of its own, and what the statement reads from it is what
    RETURNING gives: the rows of the table it wrote (``RETURNING id`` of an INSERT is the id
    just written, so ``t.id``; of an UPDATE, the new value). The CTE's body becomes that query,
    so the statement reads the real table, not a dataset named after the CTE; the writes join
    the statement's. A SELECT whose only writes are in its CTEs is of their kind."""
    with_ = node.args.get("with_")
    ctes = with_.expressions if isinstance(with_, exp.With) else []
    if not any(isinstance(cte.this, _MODIFYING) for cte in ctes):
        return dispatch(node, ctx)
    ctx.walk = None  # a walk made of the statement is of the CTE bodies replaced here
    writes: list[Partial] = []
    modifying: set[int] = set()
    for i, cte in enumerate(ctes):
        body = cte.this
        if not isinstance(body, _MODIFYING):
            continue
        modifying.add(id(cte))
        returned = _returned_rows(body)
        statement = body.copy()
        if i:  # a CTE sees the ones before it, the data-modifying ones as the rows they return
            statement.set("with_", exp.With(expressions=[c.copy() for c in ctes[:i]]))
        writes.append(dispatch(statement, ctx))
        cte.set("this", returned)
    # RETURNING rows nobody reads are not read: the CTE goes (its write stays)
    read = {t.name for t in node.find_all(exp.Table) if not t.db}
    with_.set("expressions", [c for c in ctes if id(c) not in modifying or c.alias_or_name in read])
    if not with_.expressions:
        node.set("with_", None)
    partial = dispatch(node, ctx)
    if not partial.outputs and writes:  # a SELECT's result columns name no dataset of a write
        partial.kind = writes[0].kind
        partial.columns = [c for c in partial.columns if c.target.dataset]
    for write in writes:
        partial.outputs += [o for o in write.outputs if o not in partial.outputs]
        partial.inputs += [i for i in write.inputs if i not in partial.inputs]
        partial.columns += write.columns
        partial.indirect |= write.indirect
        partial.warnings += write.warnings
    return partial


def _returned_rows(statement: exp.Expr) -> exp.Select:
    """What a data-modifying statement's RETURNING yields, as a query over the table it wrote
    (and, for DELETE .. USING / UPDATE .. FROM, the tables it joined, under its WHERE): the
    rows it touched. An UPDATE returns the new values: a column it sets is its SET value."""
    returning = statement.args.get("returning")
    items = [e.copy() for e in returning.expressions] if isinstance(returning, exp.Returning) else []
    table, _ = target_table(statement.this)
    if table is None:
        tables = [t for t in statement.args.get("tables") or [] if isinstance(t, exp.Table)]
        table = tables[0] if tables else exp.Table(this=exp.to_identifier("__unknown__"))
    head = table.copy()
    joins = [exp.Join(this=j.copy()) for j in head.args.get("joins") or []]
    head.set("joins", None)
    if isinstance(statement, exp.Update):
        values = {column.name: value for column, value in _assignments(statement) if column.name}
        items = [_new_value(item, values, head) for item in items]
    select = exp.Select(expressions=items or [exp.Star()], from_=exp.From(this=head))
    others = statement.args.get("using") or []
    from_ = statement.args.get("from_")
    if isinstance(from_, exp.From):
        others = [from_.this, *[j.this for j in from_.args.get("joins") or []]]
    select.set("joins", joins + [exp.Join(this=t.copy()) for t in others])
    if not isinstance(statement, exp.Insert) and statement.args.get("where") is not None:
        select.set("where", statement.args["where"].copy())
    if not select.args["joins"]:
        # one table: its bare names are its columns, not the outputs (WHERE qty > 0 RETURNING qty - 1 AS qty)
        for part in [*select.expressions, select.args.get("where")]:
            for column in _own_columns(part) if part is not None else []:
                column.set("table", exp.to_identifier(head.alias_or_name))
    return select


def _new_value(item: exp.Expr, values: dict[str, exp.Expr], target: exp.Table) -> exp.Expr:
    """An UPDATE's RETURNING item with the target's columns it sets replaced by their SET value."""
    own = {"", target.alias_or_name}
    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.table in own and node.name in values:
            return values[node.name].copy()
        return node
    if isinstance(item, exp.Alias):
        return exp.alias_(item.this.transform(swap), item.alias)
    if isinstance(item, exp.Column) and item.table in own and item.name in values:
        return exp.alias_(values[item.name].copy(), item.name)  # RETURNING qty: still qty, now qty - 1
    return item.transform(swap)
