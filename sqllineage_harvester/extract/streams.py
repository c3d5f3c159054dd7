"""Databricks / Spark sources written as functions: ``STREAM(t)``, ``STREAM t``, ``LIVE.t`` and
``read_files('path', ..)``. Each is rewritten to the table or path it reads before the statement
is analysed, so a streaming table's query reads its tables as any query does.
"""

from __future__ import annotations

from sqlglot import exp

# Dialects whose SQL has these forms (Delta Live Tables, Auto Loader).
STREAM_DIALECTS = frozenset({"databricks", "spark", "spark2"})
# Table functions whose first argument is the path of the files they read.
FILE_FUNCTIONS = frozenset({"read_files", "cloud_files"})
# Delta Live Tables' schema of the pipeline's own datasets: LIVE.t is the t the pipeline defines
# (Databricks only: elsewhere a schema may be named live).
LIVE = "live"
LIVE_DIALECTS = frozenset({"databricks"})


def may_read_streams(sql: str, dialect: str | None) -> bool:
    """Whether ``sql`` may hold one of the forms: a cheap test that passes most statements over."""
    if (dialect or "") not in STREAM_DIALECTS:
        return False
    lowered = sql.lower()
    return "stream" in lowered or "live." in lowered or any(f in lowered for f in FILE_FUNCTIONS)


def unwrap_streams(node: exp.Expr, dialect: str | None) -> list[str]:
    """``STREAM(t) [AS a]`` / ``STREAM t a`` -> ``t a``; ``LIVE.t`` -> ``t``; ``read_files('s3://..')``
    -> the path, read as a location (a dataset, as COPY's files are). Returns the warnings: files
    read at a path built at run time (a parameter, an expression) cannot be named."""
    warnings: list[str] = []
    for stream in list(node.find_all(exp.Stream)):
        inner = stream.this
        table = inner.this if isinstance(inner, exp.Subquery) else inner
        if not isinstance(table, exp.Table):
            continue
        if isinstance(inner, exp.Subquery) and inner.args.get("alias") is not None:
            table.set("alias", inner.args["alias"])
        stream.replace(table)
    for table in list(node.find_all(exp.Table)):
        function = table.this
        if isinstance(function, exp.Anonymous) and str(function.this).lower() in FILE_FUNCTIONS:
            path = function.expressions[0] if function.expressions else None
            if isinstance(path, exp.Literal) and path.is_string:
                table.set("this", exp.Var(this=path.name))
            else:
                warnings.append(f"files read by {str(function.this).lower()}(..) at a path built at run time are left out")
        elif table.db.lower() == LIVE and not table.catalog and dialect in LIVE_DIALECTS:
            table.set("db", None)
    return warnings
