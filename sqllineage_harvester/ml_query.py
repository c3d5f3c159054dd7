"""``model NAME``: a model's versions, the data it was trained and evaluated on (with split), every
dataset upstream of that data through any number of steps, its hyperparameters, metrics, the
predictions made with it, who trained it and when, on top of any ``Store`` (``model_links``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .model import LineageNode, ModelLinks
from .queries import find
from .retire import live_since
from .stores import UPSTREAM, Store


class NotAModelError(ConfigError):
    """The name is a dataset or column, but no model."""


@dataclass(frozen=True)
class Contributor:
    """A dataset that contributed to a model: ``depth`` 1 was used directly with ``split``; a
    deeper one is upstream of data used with that split."""

    dataset: str
    namespace: str
    split: str
    depth: int


@dataclass(frozen=True)
class ModelAnswer:
    model: LineageNode
    versions: tuple[dict[str, Any], ...] = ()
    training: tuple[Contributor, ...] = ()
    hyperparameters: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    predictions: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    first_seen: str | None = None
    last_seen: str | None = None


def model(store: Store, name: str, namespace: str | None = None, include_retired: bool = False) -> ModelAnswer:
    """What the store knows of the model NAME (read as ``show`` reads names)."""
    node = find(store, name, namespace)
    if node.kind != "dataset":
        raise NotAModelError(f"{node.name!r} is a column, not a model: give the model's name (a dataset a "
                             f"CREATE MODEL or a training run writes)")
    links: ModelLinks = store.model_links(node.key)  # type: ignore[attr-defined]
    if node.type != "model" and not (links.versions or links.used):
        raise NotAModelError(f"{node.namespace}/{node.name} is a {node.type or 'dataset'}, not a model: no training "
                             f"writes it (models are written by CREATE MODEL, ML functions or training runs)")
    ids = {v.operation for v in links.versions} | {op for *_, op, _ in links.used} | {op for _, op in links.predictions}
    ids |= {op for op, _, _ in links.metrics}
    info = store.operations(ids)
    settings: dict[str, dict[str, str]] = {}
    for op, key, value in links.hyperparameters:
        settings.setdefault(op, {})[key] = value
    measured: dict[str, dict[str, str]] = {}
    for op, key, value in links.metrics:
        measured.setdefault(op, {})[key] = value
    versions = []
    for v in links.versions:
        seen = info.get(v.operation)
        versions.append({"version": v.version, "architecture": v.architecture, "status": v.status, "run": v.run,
                         "operation": v.operation, "first_seen": seen.first_seen if seen else v.first_seen,
                         "last_seen": seen.last_seen if seen else v.last_seen,
                         "executions": seen.executions if seen else None,
                         "users": list(seen.users) if seen else ([v.user] if v.user else []),
                         "hyperparameters": settings.get(v.operation, {}), "metrics": measured.get(v.operation, {})})
    versions.sort(key=lambda v: (v["last_seen"] or "", v["operation"]))
    latest = next((v["hyperparameters"] for v in reversed(versions) if v["hyperparameters"]), {})
    by_time = sorted(measured, key=lambda op: ((info[op].last_seen or "") if op in info else "", op))
    metrics = measured[by_time[-1]] if by_time else {}
    since = live_since(store, None, None, include_retired)
    training = contributors(store, node.key, links, since)
    names = store.describe({key for key, _ in links.predictions})
    trained = [info[v.operation] for v in links.versions if v.operation in info]
    return ModelAnswer(
        node, tuple(versions), training, latest, metrics,
        tuple(sorted({names[k].name for k, _ in links.predictions if k in names})),
        tuple(sorted({u for op in trained for u in op.users})),
        min((op.first_seen for op in trained if op.first_seen), default=None),
        max((op.last_seen for op in trained if op.last_seen), default=None))


def contributors(store: Store, model_key: str, links: ModelLinks, since: str | None = None) -> tuple[Contributor, ...]:
    """Every dataset upstream of the model's training and evaluation data, breadth-first (a
    dataset's depth is its shortest distance: 1 for the data used directly), per split."""
    found: dict[tuple[str, str], int] = {}
    for split in sorted({s for _, s, _, _ in links.used}):
        frontier = {key for key, s, _, _ in links.used if s == split}
        depth = 1
        while frontier:
            for key in frontier:
                found.setdefault((key, split), depth)
            depth += 1
            step = store.neighbors(frontier, UPSTREAM, since=since)
            frontier = {e.source for e in step} - {k for k, s in found if s == split} - {model_key}
    nodes = store.describe({key for key, _ in found})
    return tuple(sorted((Contributor(nodes[k].name, nodes[k].namespace, s, d) for (k, s), d in found.items() if k in nodes),
                        key=lambda c: (c.depth, c.split != "train", c.split, c.dataset)))
