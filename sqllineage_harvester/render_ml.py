"""``model NAME`` as JSON (the issue's shape, with more fields beside) and as a table for people."""

from __future__ import annotations

import json
from typing import Any

from .ml_query import ModelAnswer
from .pii import short_ids
from .render_explore import when


def model_dict(answer: ModelAnswer) -> dict[str, Any]:
    """``{"model", "versions", "training": [{"dataset", "split", "depth"}], "hyperparameters",
    "metrics", "predictions"}`` plus the model's namespace, architecture, users and times."""
    latest = answer.versions[-1] if answer.versions else {}
    return {
        "model": answer.model.name,
        "namespace": answer.model.namespace,
        "architecture": latest.get("architecture"),
        "latest_version": latest.get("version"),  # what architecture, hyperparameters and metrics are of
        "latest_operation": latest.get("operation"),
        "versions": list(answer.versions),
        "training": [{"dataset": c.dataset, "split": c.split, "depth": c.depth, "namespace": c.namespace}
                     for c in answer.training],
        "hyperparameters": answer.hyperparameters,
        "metrics": answer.metrics,
        "predictions": list(answer.predictions),
        "users": list(answer.users),
        "first_seen": answer.first_seen,
        "last_seen": answer.last_seen,
    }


def model_json(answer: ModelAnswer) -> str:
    return json.dumps(model_dict(answer), ensure_ascii=False)


def _rows(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    return ["  " + "  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in (header, *rows)]


def model_table(answer: ModelAnswer) -> str:
    d = model_dict(answer)
    lines = [f"model {d['model']}  ({d['namespace']})"]
    facts = [f"architecture {d['architecture']}" if d["architecture"] else "",
             (f"trained {when(d['first_seen'])}" if d["first_seen"] == d["last_seen"]
              else f"trained {when(d['first_seen'])} .. {when(d['last_seen'])}") if d["versions"] else "",
             f"by {', '.join(d['users'])}" if d["users"] else ""]
    if any(facts):
        lines.append("  " + ", ".join(f for f in facts if f))
    ids = short_ids({v["operation"] for v in d["versions"]})  # as `pii` and `show` give ids
    lines += ["", f"versions ({len(d['versions'])})"]
    lines += _rows(("VERSION", "ARCHITECTURE", "STATUS", "LAST SEEN", "RUNS", "USERS", "OPERATION"),
                   [(v["version"] or "-", v["architecture"] or "-", v["status"] or "-", when(v["last_seen"]),
                     str(v["executions"] if v["executions"] is not None else "-"), ", ".join(v["users"]) or "-",
                     ids[v["operation"]]) for v in d["versions"]]) if d["versions"] else ["  (none harvested)"]
    lines += ["", "training and evaluation data (depth 1: used directly; deeper: upstream of it)"]
    lines += _rows(("DEPTH", "SPLIT", "DATASET"), [(str(t["depth"]), t["split"], t["dataset"]) for t in d["training"]]) \
        if d["training"] else ["  (none known)"]
    which = (d["latest_version"] or ids[d["latest_operation"]]) if d["versions"] else ""
    for title, values in (("hyperparameters", d["hyperparameters"]), ("metrics", d["metrics"])):
        lines += ["", title + (f" (latest version, {which})" if which else "")]
        lines += [f"  {k} = {v}" for k, v in sorted(values.items())] or ["  (none known)"]
    lines += ["", "predictions made with it"]
    lines += [f"  {p}" for p in d["predictions"]] or ["  (none known)"]
    return "\n".join(lines)
