"""``validate``'s answer as a table for people or one JSON object for machines."""

from __future__ import annotations

from typing import Any

from .validate import TOP, Validation


def validation_dict(v: Validation, failures: bool = False, broken: list[str] | None = None) -> dict[str, Any]:
    """The JSON contract: these field names are read by schedulers and CI jobs."""
    out: dict[str, Any] = {
        "ok": not broken,
        "failed_thresholds": broken or [],
        "scores": {k: (round(s, 2) if s is not None else None) for k, s in v.scores},
        "coverage": {
            "executions": [{"kind": k.kind, "full": k.full, "warnings": k.warned, "failed": k.failed}
                           for k in v.kinds],
            "statements": dict(v.statements),
        },
        "failed_writes": [{"table": w.table, "kind": w.kind, "statements": w.statements,
                           "executions": w.executions, "reasons": list(w.reasons)}
                          for w in (v.failed_writes if failures else v.failed_writes[:TOP])],
        "columns": {"written": v.written_columns, "with_source": v.sourced_columns,
                    "without_source": list(v.unsourced), "wildcard_edges": v.wildcard_edges,
                    "catalog": v.catalog, "tables_not_in_catalog": list(v.not_in_catalog),
                    "unknown_names": list(v.unknown_names)},
        "agreement": dict(v.agreement),
        "sources": [{"name": s.name, "cursor": s.cursor, "last_harvest": s.last_harvest,
                     "lag_seconds": s.lag_seconds, "rows": s.rows} for s in v.sources],
        "graph": {"cycles": [list(c) for c in v.cycles], "orphan_temp_tables": list(v.orphan_temps),
                  "read_never_written": list(v.dangling_reads)},
        "retired_edges": v.retired_edges,
    }
    if failures:
        out["failures"] = [{"fingerprint": f.fingerprint, "reason": f.reason, "executions": f.executions,
                            "last_seen": f.last_seen, "sql": f.sql} for f in v.failures]
    return out


def _pct(score: float | None) -> str:
    return "-" if score is None else f"{score:.1f} %"


def validation_table(v: Validation, failures: bool = False, broken: list[str] | None = None) -> str:
    scores = dict(v.scores)
    lines = ["COVERAGE BY EXECUTIONS", f"{'KIND':<18} {'FULL':>10} {'WARNINGS':>10} {'FAILED':>10}"]
    lines += [f"{k.kind:<18} {k.full:>10,} {k.warned:>10,} {k.failed:>10,}" for k in v.kinds]
    lines += [f"{'coverage':<18} {_pct(scores['coverage']):>10}", "",
              "DISTINCT WRITE STATEMENTS  " + "  ".join(f"{k} {n:,}" for k, n in v.statements)
              + f"  ({_pct(scores['statements'])} full)"]
    shown = v.failed_writes if failures else v.failed_writes[:TOP]
    lines += ["", f"WRITES THAT DID NOT PARSE ({len(v.failed_writes)} table{'s' * (len(v.failed_writes) != 1)})"]
    lines += [f"{w.executions:>8,}  {w.table}  {w.kind}, {w.statements} statement(s): {'; '.join(w.reasons)}"
              for w in shown] or ["       -  none"]
    lines += ["", f"COLUMNS  {v.sourced_columns:,} of {v.written_columns:,} written columns have a source "
              f"({_pct(scores['columns'])}); {v.wildcard_edges:,} wildcard edges left"]
    lines += [f"  no source: {name}" for name in v.unsourced[:TOP]]
    if len(v.unsourced) > TOP:
        lines.append(f"  ... and {len(v.unsourced) - TOP} more")
    if v.catalog:
        lines += [f"  written, not in the catalog: {n}" for n in v.not_in_catalog]
        lines += [f"  unknown to the catalog: {n}" for n in v.unknown_names[:TOP]]
    else:
        lines.append("  (no --catalog given: names are not checked against one)")
    lines += ["", "AGAINST THE DATABASE'S OWN LINEAGE " + (_pct(scores["agreement"]) + " agree" if v.agreement else "(none in the log)")]
    lines += [f"  {k.replace('_', ' '):<20} {n:>8,}" for k, n in v.agreement]
    lines += ["", "SOURCES"] + [f"  {s.name}  cursor {_short(s.cursor)}  last harvest {s.last_harvest}  lag "
                                f"{_lag(s.lag_seconds)}  rows {'?' if s.rows is None else f'{s.rows:,}'}"
                                for s in v.sources]
    lines += ["", "GRAPH"]
    lines += [f"  cycle: {' -> '.join(c)}" for c in v.cycles]
    lines += [f"  orphan temp table: {n}" for n in v.orphan_temps]
    lines += [f"  read, never written, not in the catalog: {n}" for n in v.dangling_reads]
    if not (v.cycles or v.orphan_temps or v.dangling_reads):
        lines.append("  no cycles, orphan temp tables or dangling reads")
    if v.retired_edges is not None:
        lines += ["", f"RETIRED EDGES {v.retired_edges:,}"]
    if failures:
        lines += ["", "FAILED STATEMENTS (redacted)"]
        lines += [f"{f.executions:>8,}  {f.reason}\n          {f.sql or '(SQL not stored)'}" for f in v.failures]
    lines += ["", "FAILED: " + "; ".join(broken) if broken else "OK: every threshold holds"]
    return "\n".join(lines)


def _lag(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _short(text: str | None, width: int = 40) -> str:
    return "-" if text is None else text if len(text) <= width else text[: width - 3] + "..."
