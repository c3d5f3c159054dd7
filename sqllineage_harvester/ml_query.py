"""``model NAME``: a model's versions, the data it was trained and evaluated on (with split), every
dataset upstream of that data through any number of steps, its hyperparameters, metrics, the
predictions made with it, who trained it and when, on top of any ``Store`` (``model_links``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .model import LineageNode, ModelLinks
from .queries import AmbiguousNameError, UnknownNameError, find
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
    node = find_model(store, name, namespace)
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
    # The latest version's own hyperparameters and metrics (empty when it has none), never an older
    # version's beside it; metrics of evaluations (no version of their own) seen since it was trained count.
    newest = versions[-1] if versions else None
    latest = dict(newest["hyperparameters"]) if newest else {}
    trained_ops = {v["operation"] for v in versions}
    evaluated = sorted((op for op in measured if op not in trained_ops and op in info
                        and (newest is None or (info[op].last_seen or "") >= (newest["first_seen"] or ""))),
                       key=lambda op: (info[op].last_seen or "", op))
    metrics: dict[str, str] = {}
    for op in evaluated:
        metrics.update(measured[op])
    if newest:
        metrics.update(newest["metrics"])
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


def is_model(store: Store, node: LineageNode) -> bool:
    if node.kind != "dataset":
        return False
    if node.type == "model":
        return True
    links: ModelLinks = store.model_links(node.key)  # type: ignore[attr-defined]
    return bool(links.versions or links.used)


def find_model(store: Store, name: str, namespace: str | None = None) -> LineageNode:
    """The model ``name`` means (read as ``find`` reads names): among several nodes of that name the
    one model; an unknown name gets the models closest to it first in "did you mean"."""
    try:
        return find(store, name, namespace)
    except AmbiguousNameError as e:
        models = [n for n in e.candidates if is_model(store, n)]
        if len(models) == 1:
            return models[0]
        if models:
            raise AmbiguousNameError(name, models) from None
        where = f"namespace {namespace!r}" if namespace else "any namespace"
        raise NotAModelError(f"{name!r} is not a model in {where}: it names {len(e.candidates)} datasets or columns "
                             f"that no training writes") from None
    except UnknownNameError as e:
        close = near_models(store, name, namespace)
        if not close:
            raise
        whole = len({n.namespace for n in close}) > 1
        shown = [f"{n.namespace}/{n.name}" if whole else n.name for n in close]
        raise UnknownNameError(f"no model, dataset or column named {name!r}"
                               f"{f' in namespace {namespace!r}' if namespace else ''} in the store; "
                               f"did you mean the model {', '.join(shown)}?") from e


def near_models(store: Store, name: str, namespace: str | None = None, n: int = 5) -> list[LineageNode]:
    """The models whose names hold what was typed (or come close to it), best first."""
    import difflib

    from .explore import fragments, suggest
    from .queries import readings

    typed = readings(name, namespace)[-1][1].lower() if readings(name, namespace) else name.lower()
    pool = {node.key: node for part in fragments(typed) | {typed} for node in store.search([part], 500)
            if node.kind == "dataset" and node.type == "model" and (namespace is None
                                         or node.namespace.lower() == namespace.strip().rstrip("/").lower())}
    pool.update({node.key: node for node in suggest(store, name, namespace)
                 if node.kind == "dataset" and node.type == "model"})

    def score(node: LineageNode) -> tuple[bool, float]:
        tail = node.name.lower().rsplit(".", 1)[-1]
        return typed in node.name.lower(), difflib.SequenceMatcher(None, typed, tail).ratio()

    ranked = sorted(pool.values(), key=lambda node: (tuple(-x for x in score(node)), node.name, node.namespace))
    return [node for node in ranked if score(node)[0] or score(node)[1] >= 0.6][:n]


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
