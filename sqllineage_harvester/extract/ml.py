"""ML statements: training, evaluation and prediction, read at the depth sqlglot leaves them.

A model is a dataset typed ``model``, named by its ``CREATE MODEL`` name. Training is an
operation ``train`` from the training query's inputs to the model, the features and label
columns feeding the model's columns; a prediction is a read of the model beside its input
(``ML.PREDICT``, a learned Redshift function, ``m!PREDICT``, ``pgml.predict``, ``ai_query``), so a
table written from it is made from the model; an evaluation reads the model and its data.

Which shapes a database has, and the roles of its ML functions' arguments, are dialect facts
(``[ml]`` in ``dialects/*.toml``); this module holds one reader per shape.

Settings (BigQuery OPTIONS, Redshift SETTINGS, Snowflake and PostgresML named arguments) are the
model's hyperparameters, kept as ``(name, value)`` pairs: numbers, names and lists of names.
Values naming credentials (``IAM_ROLE``, keys, passwords, secrets, tokens) are never kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from ..model import EVALUATION_SPLIT, TRAIN_SPLIT, DatasetRef, IndirectRef, ModelFacts, architecture_of
from .base import Context, Partial, dataset, write_query
from .glot import dialect_of
from .parameters import parse_one

# Settings whose values are never kept: a word of their name (``kms_key_id``, ``role_arn``) names a credential.
SECRET_SETTING = re.compile(r"(?:^|_)(?:iam|role|arn|keys?|password|passwd|pwd|secrets?|tokens?|credentials?|auth\w*|"
                            r"private|sas|signature)(?:_|$)", re.IGNORECASE)
# A kept value: a number, a name (letters, digits, _ . - /), an objective such as binary:logistic.
_PLAIN_VALUE = re.compile(r"^-?\d+(?:\.\d+)?(?:e-?\d+)?$|^[A-Za-z_][\w.\-/]*$|^[A-Za-z_]+:[A-Za-z_]+$", re.IGNORECASE)

_NAME = r'(?:"(?:[^"]|"")*"|`[^`]*`|[\w$]+)(?:\.(?:"(?:[^"]|"")*"|`[^`]*`|[\w$]+))*'


@dataclass(frozen=True)
class MlFunction:
    """An ML function's argument roles (1-based positions; 0: none)."""

    role: str  # train | predict
    model: int = 1
    relation: int = 0
    target: int = 0
    settings: tuple[str, ...] = ()  # named arguments kept as settings (a JSON object's keys too)


@dataclass(frozen=True)
class MlFacts:
    statements: tuple[str, ...] = ()
    functions: tuple[tuple[str, MlFunction], ...] = ()

    def function(self, name: str) -> MlFunction | None:
        return dict(self.functions).get(name.lower())


NO_FACTS = MlFacts()


@lru_cache(maxsize=None)
def facts(dialect: str | None) -> MlFacts:
    """The ML facts of the dialect files read with sqlglot dialect ``dialect``."""
    if not dialect:
        return NO_FACTS
    from ..dialects import get_dialect, list_dialects

    for name in list_dialects():
        spec = get_dialect(name)
        if dialect in (spec.name, spec.sqlglot) and spec.ml != NO_FACTS:
            return spec.ml
    return NO_FACTS


# -- settings ------------------------------------------------------------------------------------
def setting(name: str, value: str) -> tuple[str, str] | None:
    """A setting as kept, or None: a credential, or a value that is no number, name or list.

    >>> setting("input_label_cols", "['churned']"), setting("MAX_RUNTIME", "1800"), setting("IAM_ROLE", "'arn:x'")
    (('input_label_cols', '["churned"]'), ('max_runtime', '1800'), None)
    """
    name = name.strip().lower()
    if not name or SECRET_SETTING.search(name):
        return None
    value = value.strip()
    items = [v.strip().strip("'\"") for v in value.strip("[]()").split(",")] if value[:1] in "[(" else [value.strip("'\"")]
    if not any(items) or not all(_PLAIN_VALUE.match(v) for v in items if v):
        return None  # empty, or free text
    return name, (json.dumps([v for v in items if v]) if value[:1] in "[(" else items[0])


def settings_of(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(dict(kept for n, v in pairs if (kept := setting(n, v))).items()))


def _split_top(text: str) -> list[str]:
    """``text`` cut at commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _bracketed(text: str, start: int) -> tuple[str, int] | None:
    """The text inside the bracket opening at ``start`` and the position after it."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    return None


# -- model facts ---------------------------------------------------------------------------------
def model_facts(kind: str, inputs: Iterable[DatasetRef], outputs: Iterable[DatasetRef],
                settings: tuple[tuple[str, str], ...] = ()) -> ModelFacts | None:
    """What a training or evaluation statement says of its model: a ``train`` statement's data
    (every input that is no model) served split ``train``, an ``evaluate`` one's split
    ``evaluation``; the architecture is the first of ``model.ARCHITECTURE_SETTINGS`` it sets.
    None for other statements, and for a statement that names no model.

    >>> model_facts("train", [DatasetRef("f")], [DatasetRef("m", "model")], (("model_type", "logistic_reg"),))
    ModelFacts(model='m', version=None, architecture='logistic_reg', status=None, splits=(('f', 'train'),), metrics=(), run=None)
    >>> model_facts("evaluate", [DatasetRef("m", "model"), DatasetRef("h")], []).splits
    (('h', 'evaluation'),)
    """
    if kind not in ("train", "evaluate"):
        return None
    inputs, outputs = list(inputs), list(outputs)
    side = outputs if kind == "train" else inputs
    model = next((d.name for d in side if d.type == "model"), None)
    if model is None:
        return None
    split = TRAIN_SPLIT if kind == "train" else EVALUATION_SPLIT
    data = tuple(dict.fromkeys((d.name, split) for d in inputs if d.type != "model"))
    return ModelFacts(model=model, architecture=architecture_of(settings), splits=data)


# -- training ------------------------------------------------------------------------------------
def named(text: str, ctx: Context) -> exp.Table:
    return normalize_identifiers(exp.to_table(text.strip(), dialect=ctx.dialect), dialect=dialect_of(ctx.dialect))


def train(ctx: Context, model: exp.Table, query: exp.Expr | None, settings: tuple[tuple[str, str], ...],
          target: str | None = None) -> Partial:
    """An operation ``train``: the query's inputs to the model, its columns to the model's."""
    if query is None:
        partial = Partial("train", outputs=[dataset(ctx, model, "model")])
    else:
        partial = write_query(ctx, "train", model, [], query, "model")
        partial.kind = "train"
    partial.settings = tuple(sorted(settings + ((("target", target),) if target and setting("target", target) else ())))
    _split_columns_filter(partial)
    return partial


# Settings naming the column that splits training rows from evaluation rows (BigQuery data_split_col).
SPLIT_SETTINGS = ("data_split_col",)


def _split_columns_filter(partial: Partial) -> None:
    """A split column chooses which rows train the model: it is no feature (no column of the
    model), it influences the model as a FILTER."""
    split = {v.lower() for k, v in partial.settings if k in SPLIT_SETTINGS}
    for column in [c for c in partial.columns if c.target.column.lower() in split]:
        partial.columns.remove(column)
        partial.indirect |= {IndirectRef(s, "FILTER") for s in column.sources}


def _query_of(ctx: Context, source: str) -> exp.Expr:
    """``(SELECT ..)`` or a table name, as a query."""
    source = source.strip()
    if source.startswith("("):
        return parse_one(source[1:-1], ctx.dialect)
    return parse_one(f"SELECT * FROM {source}", ctx.dialect)


_REDSHIFT_MODEL = re.compile(
    rf"^\s*MODEL\s+(?P<name>{_NAME})\s+FROM\s+(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_REDSHIFT_AFTER = re.compile(
    rf"\s*(?:TARGET\s+(?P<target>{_NAME})\s+)?FUNCTION\s+(?P<function>{_NAME})", re.IGNORECASE)
# Training choices outside SETTINGS, kept with them; HYPERPARAMETERS DEFAULT EXCEPT (..) are pairs too.
_REDSHIFT_CHOICE = re.compile(r"\b(MODEL_TYPE|PROBLEM_TYPE|OBJECTIVE|AUTO)\s+('[^']*'|\w+)", re.IGNORECASE)
_HYPERPARAMETERS = re.compile(r"\bHYPERPARAMETERS\s+DEFAULT\s+EXCEPT\s*\(", re.IGNORECASE)
_SETTINGS = re.compile(r"\bSETTINGS\s*\(", re.IGNORECASE)
_REDSHIFT_PAIR = re.compile(r"^\s*(\w+)\s+(.+?)\s*$", re.DOTALL)


def create_model_target_function(ctx: Context, word: str, text: str) -> Partial | None:
    """Redshift ``CREATE MODEL m FROM (SELECT ..) | t TARGET c FUNCTION f .. SETTINGS (..)``.
    ``f`` is learned: later calls of it read ``m``. ``FROM 'job_name'`` (a model trained elsewhere,
    brought in) reads no data of ours."""
    match = _REDSHIFT_MODEL.match(text) if word == "CREATE" else None
    if match is None:
        return None
    rest = match.group("rest").lstrip()
    if rest.startswith("("):
        inside = _bracketed(rest, 0)
        if inside is None:
            return None
        source, after = "(" + inside[0] + ")", rest[inside[1]:]
    else:
        source, _, after = rest.partition(" ")
        after = " " + after
    tail = _REDSHIFT_AFTER.match(after)
    if tail is None:
        return None
    pairs = [(m.group(1), m.group(2)) for m in _REDSHIFT_CHOICE.finditer(after)]
    for found in (_SETTINGS.search(after), _HYPERPARAMETERS.search(after)):
        inside = _bracketed(after, found.end() - 1) if found else None
        pairs += [(p.group(1), p.group(2)) for item in (_split_top(inside[0]) if inside else [])
                  if (p := _REDSHIFT_PAIR.match(item))]
    model = named(match.group("name"), ctx)
    function = named(tail.group("function"), ctx)
    ctx.ml_functions[function.name.lower()] = ctx.qualify(model.copy())
    target = named(tail.group("target"), ctx).name if tail.group("target") else None
    pairs.append(("function", function.name.lower()))  # what later statements call it by (learn.py)
    query = None if source.startswith("'") else _query_of(ctx, source)
    return train(ctx, model, query, settings_of(pairs), target)


_SNOWFLAKE_CLASS = re.compile(
    rf"^\s*(?:OR\s+REPLACE\s+)?SNOWFLAKE\.ML\.(?P<cls>\w+)\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})\s*\(",
    re.IGNORECASE | re.DOTALL)
_KWARG = re.compile(r"^\s*(\w+)\s*=>\s*(.+?)\s*$", re.DOTALL)
_TABLE_ARG = re.compile(rf"^TABLE\s*\(\s*(?P<name>{_NAME})\s*\)$", re.IGNORECASE)
_QUERY_ARG = re.compile(r"^SYSTEM\$QUERY_REFERENCE\s*\(\s*'((?:[^']|'')*)'\s*\)$", re.IGNORECASE | re.DOTALL)
_REFERENCE_ARG = re.compile(r"^SYSTEM\$(?:QUERY_)?REFERENCE\s*\(\s*'(?:TABLE|VIEW)'\s*,\s*'([^']+)'", re.IGNORECASE)


def create_snowflake_ml_class(ctx: Context, word: str, text: str) -> Partial | None:
    """Snowflake ``CREATE SNOWFLAKE.ML.FORECAST | ANOMALY_DETECTION | CLASSIFICATION m
    (INPUT_DATA => TABLE(t) | SYSTEM$REFERENCE('TABLE', 't'), TARGET_COLNAME => 'c', ..)``."""
    match = _SNOWFLAKE_CLASS.match(text) if word == "CREATE" else None
    inside = _bracketed(text, match.end() - 1) if match else None
    if inside is None:
        return None
    arguments = {k.group(1).lower(): k.group(2) for item in _split_top(inside[0]) if (k := _KWARG.match(item))}
    data = arguments.pop("input_data", "")
    reference = _TABLE_ARG.match(data) or _REFERENCE_ARG.match(data)
    asked = _QUERY_ARG.match(data)
    query = parse_one(f"SELECT * FROM {reference.group(1)}", ctx.dialect) if reference else (
        parse_one(asked.group(1).replace("''", "'"), ctx.dialect) if asked else None)
    target = arguments.pop("target_colname", "").strip("'") or None
    pairs = [("model_type", match.group("cls").lower()), *((k, v) for k, v in arguments.items() if k != "config_object")]
    if query is not None:
        normalize_identifiers(query, dialect=dialect_of(ctx.dialect))
    partial = train(ctx, named(match.group("name"), ctx), query, settings_of(pairs), target)
    if query is None:
        partial.warnings.append("the model's training data (INPUT_DATA) was not read: a table, a SYSTEM$REFERENCE "
                                "or a SYSTEM$QUERY_REFERENCE is")
    return partial


def bigquery_options(node: exp.Create) -> tuple[tuple[str, str], ...]:
    """``CREATE MODEL .. OPTIONS (model_type = 'x', input_label_cols = ['y'], ..)``."""
    pairs = []
    for prop in node.find_all(exp.Property):
        key = prop.name if prop.args.get("this") is not None else ""
        value = prop.args.get("value")
        if not key or value is None:
            continue
        if isinstance(value, exp.Array):
            pairs.append((key, "[" + ",".join(v.name for v in value.expressions) + "]"))
        elif isinstance(value, (exp.Literal, exp.Column, exp.Identifier, exp.Boolean, exp.Var)):
            pairs.append((key, value.name if not isinstance(value, exp.Boolean) else str(value.this).lower()))
    return settings_of(pairs)


def imported_model(ctx: Context, node: exp.Create, model: exp.Table) -> Partial:
    """BigQuery ``CREATE MODEL m OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://..')``: a model
    made from files (``train`` from the path); a remote model (``REMOTE WITH CONNECTION``) is DDL."""
    settings = bigquery_options(node)
    path = next((p.args["value"].name for p in node.find_all(exp.Property)
                 if p.name.lower() == "model_path" and isinstance(p.args.get("value"), exp.Literal)), "")
    made = dataset(ctx, model, "model")
    if "://" not in path:
        partial = Partial("ddl", outputs=[made], objects=[made])
    else:
        partial = Partial("train", inputs=[DatasetRef(path.split("?", 1)[0], "file")], outputs=[made])
    partial.settings = settings
    return partial


# -- evaluation ----------------------------------------------------------------------------------
_ML_READ = re.compile(rf"\bML\.(?P<fn>\w+)\s*\(\s*MODEL\s+(?P<name>{_NAME})", re.IGNORECASE)
# The ones that tell how good a model is (the rest, ML.DETECT_ANOMALIES, ML.EXPLAIN_PREDICT, ..., read
# the model and data as a prediction does).
EVALUATIONS = frozenset({"EVALUATE", "TRAINING_INFO", "CONFUSION_MATRIX", "ROC_CURVE", "FEATURE_INFO", "WEIGHTS",
                         "ARIMA_EVALUATE", "GLOBAL_EXPLAIN", "ADVANCED_WEIGHTS", "CENTROIDS", "PRINCIPAL_COMPONENTS",
                         "EXPLAIN_FORECAST", "ARIMA_COEFFICIENTS"})
_PLAIN_READ = re.compile(r"^\s*\(?\s*(?:SELECT|WITH)\b", re.IGNORECASE)
_WRITES = re.compile(r"\b(?:INSERT|CREATE|MERGE|UPDATE|DELETE|EXPORT)\b", re.IGNORECASE)


def ml_table_function(ctx: Context, text: str) -> Partial | None:
    """BigQuery ``SELECT .. FROM ML.EVALUATE(MODEL m [, (SELECT ..) | TABLE t])`` and the other
    functions that read a model which sqlglot cannot read: in a plain SELECT, a read of the model
    and its data (``evaluate`` for the evaluations). In a write it stays a parse failure: its
    output is not guessed."""
    match = _ML_READ.search(text)
    if match is None or not _PLAIN_READ.match(text) or _WRITES.search(text):
        return None
    kind = "evaluate" if match.group("fn").upper() in EVALUATIONS else "select"
    inside = _bracketed(text, text.index("(", match.start()))
    rest = _split_top(inside[0])[1:] if inside else []
    partial = Partial(kind, inputs=[dataset(ctx, named(match.group("name"), ctx), "model")])
    for item in rest:
        if item.startswith("("):
            query = parse_one(item[1:-1], ctx.dialect)
            normalize_identifiers(query, dialect=dialect_of(ctx.dialect))
            partial.inputs += [dataset(ctx, t) for t in query.find_all(exp.Table) if t.name]
        elif item.upper().startswith("TABLE "):
            partial.inputs.append(dataset(ctx, named(item[6:], ctx)))
    return partial


_METHOD = re.compile(rf"^\s*(?P<name>{_NAME})!(?P<method>\w+)\s*\(", re.IGNORECASE)


def model_method(ctx: Context, word: str, text: str) -> Partial | None:
    """Snowflake ``CALL m!SHOW_EVALUATION_METRICS()`` (and other methods called alone)."""
    match = _METHOD.match(text) if word == "CALL" else None
    if match is None:
        return None
    kind = "evaluate" if "EVALUATION" in match.group("method").upper() or "METRIC" in match.group("method").upper() \
        else "select"
    return Partial(kind, inputs=[dataset(ctx, named(match.group("name"), ctx), "model")])


_SHOW_MODEL = re.compile(rf"^\s*MODEL\s+(?P<name>{_NAME})\s*$", re.IGNORECASE)


def show_model(ctx: Context, word: str, text: str) -> Partial | None:
    """Redshift ``SHOW MODEL m``: the model's state and validation metrics, an evaluation read."""
    match = _SHOW_MODEL.match(text) if word == "SHOW" else None
    if match is None or match.group("name").upper() == "ALL":
        return None
    return Partial("evaluate", inputs=[dataset(ctx, named(match.group("name"), ctx), "model")])


_CREATES_MODEL = re.compile(r"^\s*(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?(?:MODEL|SNOWFLAKE\.ML\.\w+)\s",
                            re.IGNORECASE)


def creates_model(text: str) -> bool:
    """Whether the text after ``CREATE`` makes a model (``MODEL m``, ``SNOWFLAKE.ML.CLASSIFICATION m``):
    one no shape of the dialect read is a failure, not a statement that does nothing."""
    return bool(_CREATES_MODEL.match(text))


COMMAND_SHAPES: dict[str, Callable[[Context, str, str], Partial | None]] = {
    "create_model_target_function": create_model_target_function,
    "show_model": show_model,
    "create_snowflake_ml_class": create_snowflake_ml_class,
    "model_method": model_method,
}


def command(ctx: Context, word: str, text: str) -> Partial | None:
    """A command sqlglot could not read, as the dialect's ML shapes read it, or None."""
    for shape in facts(ctx.dialect).statements:
        reader = COMMAND_SHAPES.get(shape)
        try:
            found = reader(ctx, word, text) if reader else None
        except SqlglotError:
            found = None
        if found is not None:
            return found
    return None


def unparsed(ctx: Context, text: str) -> Partial | None:
    """A statement sqlglot failed on, as the dialect's ML shapes read it, or None."""
    if "ml_table_function" not in facts(ctx.dialect).statements:
        return None
    try:
        return ml_table_function(ctx, text)
    except SqlglotError:
        return None


# The shapes a dialect file's ml.statements may name.
ML_SHAPES = frozenset({*COMMAND_SHAPES, "ml_table_function"})
