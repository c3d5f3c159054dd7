"""COPY and LOAD DATA: a table loaded from files or a stage, or written out to them."""

from __future__ import annotations

import re

from sqlglot import exp

from ..model import DatasetRef
from .base import Context, Partial, catalog_names, dataset, inputs_of, target_table, traced, write_query
from .parameters import parse_one


def location(node: exp.Expr, ctx: Context) -> DatasetRef | None:
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Literal):
        return DatasetRef(node.name, "file")
    if isinstance(node, exp.Table) and _written_path(node):  # COPY INTO 's3://bucket/dir/'
        return DatasetRef(node.name, "file")
    if isinstance(node, exp.Table):  # a table, or a stage (@stage/dir)
        return dataset(ctx, node)
    return None


def handle_copy(node: exp.Expr, ctx: Context) -> Partial:
    this = node.this
    query = next((f.this for f in node.args.get("files") or [] if isinstance(f, exp.Subquery)), None)
    target, names = target_table(this)
    if node.args.get("kind") and query is not None and target is not None and location(target, ctx).type == "table":
        return load_query(ctx, target, names, query)
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



def handle_load(node: exp.Expr, ctx: Context) -> Partial:
    """Hive / Spark ``LOAD DATA [LOCAL] INPATH 'path' [OVERWRITE] INTO TABLE t [PARTITION (..)]``,
    BigQuery ``LOAD DATA INTO|OVERWRITE t FROM FILES (uris = [..])``, MySQL ``LOAD DATA INFILE``:
    a ``copy`` of the files into t, the path a dataset as COPY's is."""
    table, _ = target_table(node.this)
    paths = [node.args["inpath"]] if isinstance(node.args.get("inpath"), exp.Literal) else _uris(node.args.get("files"))
    inputs = [ref for ref in (location(p, ctx) for p in paths) if ref]
    return Partial("copy", inputs=inputs, outputs=[dataset(ctx, table)] if table is not None else [])


def _uris(files: exp.Expr | None) -> list[exp.Expr]:
    """The ``uris`` (or ``uri``) of BigQuery's FROM FILES (..): the files loaded."""
    for prop in files.expressions if isinstance(files, exp.Properties) else []:
        if isinstance(prop, exp.Property) and prop.name.lower() in ("uris", "uri"):
            value = prop.args.get("value")
            return [v for v in (value.expressions if isinstance(value, exp.Array) else [value])
                    if isinstance(v, exp.Literal) and v.is_string]
    return []


# MySQL / MariaDB LOAD DATA | XML [LOW_PRIORITY | CONCURRENT] [LOCAL] INFILE 'file' [REPLACE | IGNORE]
# INTO TABLE t ..., which sqlglot cannot parse.
_INFILE = re.compile(r"^\s*LOAD\s+(?:DATA|XML)\s+(?:(?:LOW_PRIORITY|CONCURRENT)\s+)?(?:LOCAL\s+)?INFILE\s+"
                     r"(?P<q>['\"])(?P<path>(?:\\.|(?!(?P=q)).|(?P=q)(?P=q))*)(?P=q)\s+(?:(?:REPLACE|IGNORE)\s+)?"
                     r"INTO\s+TABLE\s+(?P<name>(?:`[^`]*`|[\w$]+)(?:\.(?:`[^`]*`|[\w$]+))?)", re.IGNORECASE | re.DOTALL)
# BigQuery LOAD DATA INTO|OVERWRITE [TEMP TABLE] t [(columns)] [PARTITION BY ..] [CLUSTER BY ..] [OPTIONS (..)]
# FROM FILES (..) [WITH PARTITION COLUMNS ..] [WITH CONNECTION ..]: what sqlglot cannot read around the files.
_FROM_FILES = re.compile(r"^\s*LOAD\s+DATA\s+(?P<mode>OVERWRITE|INTO)\s+(?:TEMP(?:ORARY)?\s+TABLE\s+)?"
                         r"(?P<name>`[^`]*`|[\w.-]+)(?=[\s(]).*?\bFROM\s+FILES\s*"
                         r"(?P<files>\((?:[^()'\"]|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")*\))",
                         re.IGNORECASE | re.DOTALL)


def unparsed_load(text: str, dialect: str | None) -> exp.Expr | None:
    """A LOAD DATA sqlglot cannot parse as the LoadData statement it reads (Hive's, BigQuery's
    plain FROM FILES), or None: MySQL's INFILE, BigQuery's with a column list or options."""
    match = _INFILE.match(text)
    if match:
        quote = match.group("q")
        path = re.sub(r"\\(.)", r"\1", match.group("path").replace(quote * 2, quote))
        return exp.LoadData(this=exp.to_table(match.group("name"), dialect=dialect), inpath=exp.Literal.string(path))
    match = _FROM_FILES.match(text)
    if match:
        plain = f"LOAD DATA {match.group('mode')} {match.group('name')} FROM FILES {match.group('files')}"
        return parse_one(plain, dialect)
    return None


def load_query(ctx: Context, target: exp.Table, names: list[str], query: exp.Expr) -> Partial:
    """COPY INTO t [(a, b)] FROM (SELECT $1, $2:x FROM @stage/path): the files' columns, as the query
    transforms them, land in t by position: in the listed columns, else in the catalog's, else in
    ``t.*`` (a wildcard: which column is which cannot be told)."""
    for table in query.find_all(exp.Table):
        if _written_path(table):  # FROM 's3://bucket/dir/': the files, like a stage
            table.set("this", exp.Var(this=table.name))
    select = query.this if isinstance(query, exp.Subquery) else query
    count = len(select.expressions) if isinstance(select, exp.Select) else 0
    names = names or catalog_names(ctx, target, count)
    partial = write_query(ctx, "copy", target, names or ["*"] * count, query)
    if not names:
        partial.warnings.append("COPY into a table of unknown columns: what each file column loads into is "
                                "written as the table's wildcard")
    return partial


_PATH = re.compile(r"^(?:\w+://|/)")


def _written_path(table: exp.Table) -> bool:
    """A path written as a quoted name: ``'s3://bucket/dir/'``, ``'/data/in/'``."""
    ident = table.this
    if isinstance(ident, exp.Literal):
        return ident.is_string
    return (isinstance(ident, exp.Identifier) and ident.quoted and not table.args.get("db")
            and bool(_PATH.match(ident.name)))
