"""COPY: a table loaded from files or a stage, or written out to them."""

from __future__ import annotations

from sqlglot import exp

from ..model import DatasetRef
from .base import Context, Partial, dataset, inputs_of, traced


def location(node: exp.Expr, ctx: Context) -> DatasetRef | None:
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Literal):
        return DatasetRef(node.name, "file")
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Var):
        name = node.this.name
        return DatasetRef(name, "stage" if name.startswith("@") else "file")
    if isinstance(node, exp.Table):
        return dataset(ctx, node)
    return None


def handle_copy(node: exp.Expr, ctx: Context) -> Partial:
    this = node.this
    files = [f for f in (location(f, ctx) if not isinstance(f, exp.Subquery) else None for f in node.args.get("files") or []) if f]
    queries = [f.this for f in node.args.get("files") or [] if isinstance(f, exp.Subquery)]
    partial = Partial("copy")
    if isinstance(this, exp.Subquery):
        queries.append(this.this)
        target = None
    else:
        target = location(this, ctx)
    for query in queries:
        trace = traced(ctx, query)
        partial.inputs += inputs_of(ctx, trace)
    if node.args.get("kind"):  # COPY target FROM files
        partial.inputs = files + partial.inputs
        partial.outputs = [target] if target else []
    else:  # COPY table|query TO files
        partial.inputs = ([target] if target else []) + partial.inputs
        partial.outputs = files
    return partial


