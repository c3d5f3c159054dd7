"""Models read through function calls: a prediction (a learned Redshift function, Snowflake
``m!PREDICT``, the dialect file's ML functions such as ``pgml.predict`` and ``ai_query``, BigQuery's
``ML.PREDICT`` family) adds the model to a statement's inputs, and the model's columns to the
columns it makes; a training function (``pgml.train``) makes the statement a ``train``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from ..model import ColumnRef, DatasetRef
from .base import Context, Partial, dataset, name_copy
from .glot import dialect_of
from .ml import MlFacts, MlFunction, facts, named, settings_of, train
from .parameters import parse_one


def _function_name(node: exp.Expr) -> str:
    name = node.name if isinstance(node, exp.Anonymous) else (node.sql_name() if isinstance(node, exp.Func) else "")
    parent = node.parent
    if isinstance(parent, exp.Dot) and parent.expression is node:
        return f"{parent.this.sql()}.{name}".lower()
    if isinstance(parent, exp.Table) and node.arg_key == "this" and parent.db:
        return f"{parent.db}.{name}".lower()
    return name.lower()


def _argument(node: exp.Expr, position: int) -> str | None:
    items = [a for a in node.expressions if not isinstance(a, exp.Kwarg)]
    if position < 1 or position > len(items):
        return None
    item = items[position - 1]
    return item.name if isinstance(item, exp.Literal) and item.is_string else None


def _named_settings(node: exp.Expr, keep: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in node.expressions:
        if not isinstance(item, exp.Kwarg) or item.this.name.lower() not in keep:
            continue
        value = item.expression.name if isinstance(item.expression, exp.Literal) else item.expression.sql()
        if value.lstrip().startswith("{"):
            try:
                pairs += [(str(k), json.dumps(v) if isinstance(v, list) else str(v)) for k, v in json.loads(value).items()]
            except (ValueError, AttributeError):
                pass
        else:
            pairs.append((item.this.name, value))
    return pairs


def calls(node: exp.Expr, ctx: Context, partial: Partial) -> Partial:
    """The models a parsed statement reads through functions, added to its inputs; a statement
    that trains through a function (``pgml.train``) becomes a ``train`` operation."""
    known = facts(ctx.dialect)
    if not _may_call(ctx, known):
        return partial
    models: list[DatasetRef] = []
    for call in node.find_all(exp.Func, exp.ModelAttribute):
        if isinstance(call, exp.ModelAttribute):  # Snowflake m!PREDICT(..), m!FORECAST(..)
            model_table = named(call.this.sql(), ctx)
        else:
            name = _function_name(call)
            spec = known.function(name)
            if spec is None and name.rsplit(".", 1)[-1] in ctx.ml_functions:
                model_table = named(ctx.ml_functions[name.rsplit(".", 1)[-1]], ctx)
            elif spec is not None and (model := _argument(call, spec.model)) is not None:
                if spec.role == "train":
                    return _function_train(ctx, call, spec, model, partial)
                model_table = named(model, ctx)
            elif isinstance(call, BIGQUERY_MODEL_READERS) and isinstance(call.this, exp.Table):
                _fed_by_table_function(ctx, node, call, partial)  # read by columns.py already
                continue
            else:
                continue
        models.append(dataset(ctx, model_table.copy(), "model"))
        _fed(ctx, node, partial, model_table, _projection_of(node, call), wildcard=_wildcard_input(ctx, node, call))
    if models:
        partial.inputs = [*partial.inputs, *(m for m in dict.fromkeys(models) if m not in partial.inputs)]
    return partial


def _may_call(ctx: Context, known: MlFacts) -> bool:
    """Whether the text may call a model at all: most statements are not walked again."""
    text = ctx.text.lower()
    return ("!" in text or "ml." in text or any(name.rsplit(".", 1)[-1] in text for name, _ in known.functions)
            or any(name in text for name in ctx.ml_functions))


# BigQuery ML table functions that make rows from a model (the model's columns feed the ones they add).
BIGQUERY_MODEL_READERS = (exp.Predict, exp.MLForecast, exp.GenerateText)


def _outer_select(node: exp.Expr) -> exp.Select | None:
    query = node.args.get("expression") if isinstance(node, (exp.Insert, exp.Create)) else node
    while isinstance(query, exp.Subquery):
        query = query.this
    return query if isinstance(query, exp.Select) else None


def _projection_of(node: exp.Expr, call: exp.Expr) -> list[int]:
    """The position of the statement's outermost select item holding ``call`` (none: nested deeper)."""
    select = _outer_select(node)
    for index, item in enumerate(select.expressions if select is not None else []):
        if any(part is call for part in item.walk()):
            return [index]
    return []


def _fed_by_table_function(ctx: Context, node: exp.Expr, call: exp.Expr, partial: Partial) -> None:
    """``SELECT .. FROM ML.PREDICT(MODEL m, (SELECT a, b ..))``: the items that are not the input
    query's columns passed through (``predicted_x``, ``forecast_value``) are made by the model."""
    select = _outer_select(node)
    table = call.parent
    if select is None or not isinstance(table, exp.Table) or table.parent is not select.args.get("from_", select.args.get("from")):
        return
    query = call.args.get("expression")
    passed = set(query.unnest().named_selects) if isinstance(query, exp.Subquery) else set()
    if any(isinstance(item, exp.Star) for item in select.expressions):
        return
    items = [item.this if isinstance(item, exp.Alias) else item for item in select.expressions]
    made = [i for i, item in enumerate(items) if not (isinstance(item, exp.Column) and item.name in passed)]
    # predicted_<label>, predicted_<label>_probs: the label is what the model makes, never a feature
    labels = {m.group(1) for item in items if isinstance(item, exp.Column)
              if (m := re.match(r"predicted_(\w+?)(?:_probs?)?$", item.name, re.IGNORECASE))}
    _fed(ctx, node, partial, call.this, made, data=passed or None, labels=labels, only_features=bool(passed))


def _wildcard_input(ctx: Context, node: exp.Expr, call: exp.Expr) -> tuple[str, list[str] | None] | None:
    """``m!PREDICT(INPUT_DATA => OBJECT_CONSTRUCT(*))``: the table the ``*`` stands for (the outermost
    select's one table) and its columns where the catalog knows them; None when no ``*`` is passed."""
    if not any(isinstance(n, exp.Star) for n in call.walk()):
        return None
    select = _outer_select(node)
    source = select.args.get("from_", select.args.get("from")) if select is not None else None
    table = source.this if isinstance(source, exp.From) else None
    if not isinstance(table, exp.Table) or select.args.get("joins") or not table.name:
        return None
    columns = ctx.catalog.columns(ctx.parts(name_copy(table)))
    return ctx.qualify(name_copy(table)), [c for c in columns or () if c != "*"] or None


def _fed(ctx: Context, node: exp.Expr, partial: Partial, model: exp.Table, positions: list[int],
         data: set[str] | None = None, labels: set[str] = frozenset(), only_features: bool = False,
         wildcard: tuple[str, list[str] | None] | None = None) -> None:
    """The written columns at ``positions`` of the outermost select come from the model too: from
    its features, the model's columns the prediction's input holds (``data``, the input's column
    names; else the names the written column reads), never its label; all its columns when the
    input's names match none. With ``only_features``, the input's columns that are no feature
    (an id passed through) stop feeding the prediction. When the written columns do not line up
    with the select's items one to one, a warning says so and no column is guessed. A ``*`` passed
    to the model (``wildcard``) is its table's columns where known, else a wildcard left, warned."""
    columns = (ctx.catalog.columns(ctx.parts(model.copy())) if positions else None) or {}
    if not positions or (not columns and wildcard is None):
        return
    name = ctx.qualify(model.copy())
    targets = [c for c in partial.columns if partial.outputs or not c.target.dataset]
    select = _outer_select(node)
    items = select.expressions if select is not None else []
    if len(targets) != len(items) or any(isinstance(i, exp.Star) for i in items):
        partial.warnings.append("which written column the model makes is not known: the model is an input of the statement")
        return
    labels = {n.lower() for n in labels}
    if wildcard is not None and wildcard[1] is not None:
        data = set(wildcard[1])
    elif wildcard is not None:
        partial.warnings.append(f"a wildcard is passed to the model {name} over columns of {wildcard[0]} that are "
                                "not known: its columns feed the prediction as a wildcard (*)")
    known = [c for c in columns if c != "*" and c.lower() not in labels]
    for p in positions:
        column = targets[p]
        names = {n.lower() for n in data} if data is not None else {
            s.column.lower() for s in column.sources if s.dataset != name}
        hit = [c for c in known if c.lower() in names]
        features, matched = hit or known, {c.lower() for c in hit}
        kept = [s for s in column.sources if s.dataset != name and (not only_features or not matched
                                                                     or s.column.lower() in matched)]
        sources = {*kept, *(ColumnRef(name, c) for c in features)}
        if wildcard is not None:
            sources |= {ColumnRef(wildcard[0], c) for c in wildcard[1] or ("*",) if c == "*" or c.lower() in matched}
        partial.columns[partial.columns.index(column)] = replace(
            column, sources=tuple(sorted(sources)), transform=_stronger(column.transform))


def _stronger(transform: str) -> str:
    return "AGGREGATION" if transform == "AGGREGATION" else "TRANSFORMATION"


def _function_train(ctx: Context, call: exp.Expr, spec: MlFunction, model: str, partial: Partial) -> Partial:
    relation = _argument(call, spec.relation)
    target = _argument(call, spec.target)
    settings = settings_of(_named_settings(call, spec.settings))
    query = parse_one(f"SELECT * FROM {relation}", ctx.dialect) if relation else None
    if query is not None:
        normalize_identifiers(query, dialect=dialect_of(ctx.dialect))
    trained = train(ctx, named(model, ctx), query, settings, target)
    trained.warnings = partial.warnings
    return trained
