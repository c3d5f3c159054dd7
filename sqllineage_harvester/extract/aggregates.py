"""Aggregate functions sqlglot does not know, which it parses as plain (anonymous) calls.

sqlglot files the aggregates it knows under ``exp.AggFunc``; the others (Impala's ``ndv``,
Trino's ``map_agg``, T-SQL's ``VARP``, Postgres's ``jsonb_agg``...) parse as ``exp.Anonymous``
and would read as a row-by-row TRANSFORMATION of their argument. Names used by more than one
engine for different things are only aggregates in the dialect listed (T-SQL's ``CHECKSUM`` is
a row hash, Trino's an aggregate).
"""

from __future__ import annotations

from functools import lru_cache

from sqlglot import exp

_ANYWHERE = frozenset({
    # Impala / Hive
    "ndv", "appx_median", "histogram_numeric", "compute_stats",
    # Trino / Presto / Athena
    "map_agg", "multimap_agg", "map_union", "histogram", "numeric_histogram", "approx_set",
    "reduce_agg", "geometric_mean", "approx_most_frequent", "set_agg", "set_union",
    # Spark / Databricks
    "try_sum", "try_avg", "every", "hll_sketch_agg", "hll_union_agg", "count_min_sketch",
    # MySQL / Oracle
    "json_arrayagg", "stats_mode", "approx_median", "xmlagg",
    # T-SQL
    "varp", "stdevp", "checksum_agg", "approx_percentile_cont", "approx_percentile_disc",
    # Postgres
    "jsonb_agg", "range_agg", "range_intersect_agg",
    # Snowflake
    "hll_accumulate", "hll_combine", "approx_top_k_accumulate", "approx_top_k_combine",
    "approx_percentile_accumulate", "approx_percentile_combine",
})

_BY_DIALECT = {
    "trino": frozenset({"checksum", "merge"}),
    "presto": frozenset({"checksum", "merge"}),
    "athena": frozenset({"checksum", "merge"}),
    "tsql": frozenset({"var"}),
    "oracle": frozenset({"collect"}),
}

# BigQuery's sketch aggregates are called through a namespace: HLL_COUNT.INIT(x).
_NAMESPACED = {"hll_count": ("init", "merge", "merge_partial"), "kll_quantiles": ("init_", "merge_")}


@lru_cache(maxsize=None)
def aggregate_names(dialect: str | None) -> frozenset[str]:
    """The lower-case names of the anonymous calls that aggregate in ``dialect``."""
    return _ANYWHERE | _BY_DIALECT.get(dialect or "", frozenset())


def is_unknown_aggregate(node: exp.Anonymous, names: frozenset[str]) -> bool:
    """Whether the anonymous call ``node`` is an aggregate: by its name, or as BigQuery's
    ``HLL_COUNT.INIT`` / ``KLL_QUANTILES.MERGE_INT64``."""
    name = node.name.lower()
    if name in names:
        return True
    parent = node.parent
    if isinstance(parent, exp.Dot) and parent.expression is node:
        prefixes = _NAMESPACED.get(parent.this.name.lower())
        return bool(prefixes) and name.startswith(prefixes)
    return False
