"""Models in the SQL store: each training operation a version of its model (``model_versions``),
its ``hyperparameters`` and ``metrics``, the datasets ``used_in_training`` it (with split) and the
``predictions`` made with it. Written with the operation that says them, the first time the store
sees it (its id says what it is), so a harvest run again or resumed adds nothing twice; a version's
window widens with its operation's."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, literal, select, union, update
from sqlalchemy.engine import Connection

from ..model import TRAIN_SPLIT, ModelLinks, ModelVersionRow, Operation, architecture_of
from .common import chunks, placed
from .ml_rows import MODEL, ml_rows
from .schema import (
    datasets, hyperparameters, input_to, metrics, model_versions, operations, performed, predictions, produces,
    statement_cache, used_in_training, users,
)

HYPERPARAMETERS_KEY = "hyperparameters:"  # + namespace: where version 3 kept each model's latest settings


def earliest_users(ran: Sequence[Operation]) -> dict[str, str]:
    """Operation id -> the user of its earliest run among ``ran``."""
    best: dict[str, tuple[str, str]] = {}
    for op in ran:
        if op.user and (op.id not in best or (op.first_seen or "", op.user) < best[op.id]):
            best[op.id] = (op.first_seen or "", op.user)
    return {k: v[1] for k, v in best.items()}


class SQLModels:
    """The model tables of ``SQLStore`` (a mixin: it uses the store's upserts and id lookups)."""

    _upsert: Any
    _dataset_ids: Any
    _window: Any
    _read: Any

    def _write_ml(self, conn: Connection, ops: Sequence[Operation], op_ids: Mapping[str, int],
                  dataset_ids: dict[tuple[str, str], int], ran: Sequence[Operation]) -> None:
        found = [(op, rows) for op in ops if (rows := ml_rows(op)).model or rows.predictions]
        if not found:
            return
        wanted = {placed(op.namespace, name): kind for op, rows in found for name, kind in rows.datasets().items()}
        missing = {ref: kind for ref, kind in wanted.items() if ref not in dataset_ids}
        if missing:
            dataset_ids.update(self._dataset_ids(conn, missing))
        who = earliest_users(ran)
        versions, settings, measured, used, made = [], [], [], [], []
        for op, rows in found:
            oid, ds = op_ids[op.id], (lambda name, ns=op.namespace: dataset_ids[placed(ns, name)])
            made += [{"dataset_id": ds(d), "model_id": ds(m), "operation_id": oid} for d, m in rows.predictions]
            if rows.model is None:
                continue
            model = ds(rows.model)
            number = rows.version[0] if rows.version else None
            if rows.version is not None:
                versions.append({"model_id": model, "operation_id": oid, "version": number,
                                 "architecture": rows.version[1], "status": rows.version[2], "run": rows.version[3],
                                 "first_seen": op.first_seen, "last_seen": op.last_seen, "user": who.get(op.id)})
            settings += [{"model_id": model, "operation_id": oid, "name": n, "value": v} for n, v in rows.hyperparameters]
            measured += [{"model_id": model, "operation_id": oid, "name": n, "value": v} for n, v in rows.metrics]
            used += [{"dataset_id": ds(d), "model_id": model, "operation_id": oid, "split": s, "version": number}
                     for d, s in rows.used]
        key = lambda *names: (lambda row: tuple(row[n] for n in names))  # noqa: E731
        self._upsert(conn, model_versions, ["model_id", "operation_id"],
                     sorted(versions, key=key("model_id", "operation_id")))
        for table, rows_ in ((hyperparameters, settings), (metrics, measured)):
            self._upsert(conn, table, ["model_id", "operation_id", "name"],
                         sorted(rows_, key=key("model_id", "operation_id", "name")))
        self._upsert(conn, used_in_training, ["dataset_id", "model_id", "operation_id", "split"],
                     sorted(used, key=key("dataset_id", "model_id", "operation_id", "split")))
        self._upsert(conn, predictions, ["dataset_id", "model_id", "operation_id"],
                     sorted(made, key=key("dataset_id", "model_id", "operation_id")))

    def model_links(self, key: str) -> ModelLinks:
        """The versions, hyperparameters, metrics, training data and predictions of the model with
        node ``key`` (empty for a dataset no operation trained, evaluated or predicted with)."""
        if not key.startswith("d"):
            return ModelLinks()
        mid, o, v = int(key[1:]), operations, model_versions
        with self._read() as conn:
            rows = conn.execute(select(o.c.key, v.c.version, v.c.architecture, v.c.status, v.c.run, v.c.first_seen,
                                       v.c.last_seen, v.c.user).join(o, o.c.id == v.c.operation_id)
                                .where(v.c.model_id == mid).order_by(v.c.last_seen, o.c.key))
            versions = tuple(ModelVersionRow(*r) for r in rows)
            found = []
            for table in (hyperparameters, metrics):
                found.append(tuple((op, n, val) for op, n, val in conn.execute(
                    select(o.c.key, table.c.name, table.c.value).join(o, o.c.id == table.c.operation_id)
                    .where(table.c.model_id == mid).order_by(o.c.key, table.c.name))))
            u, p = used_in_training, predictions
            used = tuple((f"d{d}", s, op, ver) for d, s, op, ver in conn.execute(
                select(u.c.dataset_id, u.c.split, o.c.key, u.c.version).join(o, o.c.id == u.c.operation_id)
                .where(u.c.model_id == mid).order_by(u.c.dataset_id, u.c.split, o.c.key)))
            made = tuple((f"d{d}", op) for d, op in conn.execute(
                select(p.c.dataset_id, o.c.key).join(o, o.c.id == p.c.operation_id)
                .where(p.c.model_id == mid).order_by(p.c.dataset_id, o.c.key)))
        return ModelLinks(versions, found[0], found[1], used, made)

    def model_counts(self, conn: Connection) -> tuple[tuple[str, int], ...]:
        """For ``stats``: the datasets that are models (trained, configured, measured, trained on or
        predicted with: the Neo4j store's ``:Model``) and those that are predictions (``:Prediction``)."""
        ids = union(*(select(t.c.model_id) for t in (model_versions, hyperparameters, metrics, used_in_training,
                                                      predictions))).subquery()
        made = select(predictions.c.dataset_id).distinct().subquery()
        return (("models", conn.scalar(select(func.count()).select_from(ids)) or 0),
                ("predictions", conn.scalar(select(func.count()).select_from(made)) or 0))


def v3_to_v4(conn: Connection) -> None:
    """Version 4: models. The tables (made by ``create_all``) are filled from the lineage kept: each
    training operation writing a model is a version of it, trained on its other inputs (split
    ``train``); each dataset written by an operation reading a model is a prediction of it. The
    settings version 3 kept in the statement cache (``hyperparameters:NS``, each model's latest)
    become the hyperparameters of the model's latest training, and leave the cache. Evaluations
    were reads then: their data is known once their statements are harvested again into a new store."""
    o, p, i, d = operations, produces, input_to, datasets
    model, data = d.alias("model"), d.alias("data")
    trained = (select(p.c.dataset_id, o.c.id, o.c.first_seen, o.c.last_seen).select_from(o)
               .join(p, p.c.operation_id == o.c.id).join(model, and_(model.c.id == p.c.dataset_id, model.c.type == MODEL))
               .where(o.c.type == "train"))
    conn.execute(model_versions.insert().from_select(["model_id", "operation_id", "first_seen", "last_seen"], trained))
    earliest = (select(users.c.name).join(performed, performed.c.user_id == users.c.id)
                .where(performed.c.operation_id == model_versions.c.operation_id)
                .order_by(performed.c.first_seen, users.c.name).limit(1).scalar_subquery())
    conn.execute(update(model_versions).values(user=earliest))
    conn.execute(used_in_training.insert().from_select(
        ["dataset_id", "model_id", "operation_id", "split"],
        select(i.c.dataset_id, p.c.dataset_id, o.c.id, literal(TRAIN_SPLIT)).select_from(o)
        .join(p, p.c.operation_id == o.c.id).join(model, and_(model.c.id == p.c.dataset_id, model.c.type == MODEL))
        .join(i, i.c.operation_id == o.c.id).join(data, and_(data.c.id == i.c.dataset_id, data.c.type != MODEL))
        .where(o.c.type == "train")))
    conn.execute(predictions.insert().from_select(
        ["dataset_id", "model_id", "operation_id"],
        select(p.c.dataset_id, i.c.dataset_id, o.c.id).distinct().select_from(o)
        .join(i, i.c.operation_id == o.c.id).join(model, and_(model.c.id == i.c.dataset_id, model.c.type == MODEL))
        .join(p, p.c.operation_id == o.c.id).join(data, and_(data.c.id == p.c.dataset_id, data.c.type != MODEL))))
    kept = conn.execute(select(statement_cache.c.key, statement_cache.c.lineage)
                        .where(statement_cache.c.key.like(HYPERPARAMETERS_KEY + "%"))).all()
    for cache_key, text in kept:
        namespace = cache_key[len(HYPERPARAMETERS_KEY):]
        for name, values in sorted(json.loads(text or "{}").items()):
            latest = conn.execute(
                select(model_versions.c.model_id, model_versions.c.operation_id)
                .join(d, d.c.id == model_versions.c.model_id)
                .where(d.c.namespace == namespace, d.c.name == name)
                .order_by(model_versions.c.last_seen.desc(), model_versions.c.operation_id.desc()).limit(1)).first()
            if latest is None or not isinstance(values, dict):
                continue
            pairs = sorted((str(k), str(v)) for k, v in values.items())
            for part in chunks(pairs):
                conn.execute(hyperparameters.insert(), [{"model_id": latest[0], "operation_id": latest[1],
                                                          "name": k, "value": v} for k, v in part])
            conn.execute(update(model_versions).where(model_versions.c.model_id == latest[0],
                                                      model_versions.c.operation_id == latest[1])
                         .values(architecture=architecture_of(tuple(pairs))))
    if kept:
        conn.execute(delete(statement_cache).where(statement_cache.c.key.like(HYPERPARAMETERS_KEY + "%")))
