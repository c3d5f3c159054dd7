"""Models in the Neo4j store, with the seed's labels and relationship types::

    (:Dataset:Model {name, version, versions, architecture, status})
    (:Hyperparameters {operation, version, architecture, status, run, first_seen, last_seen, user, <name>: value})
        -[:CONFIGURED_WITH]->(:Model)
    (:Metrics {operation, <name>: value})-[:EVALUATED_WITH]->(:Model)
    (:Dataset)-[:USED_IN_TRAINING {split, operation, version}]->(:Model)
    (:Dataset:Prediction)-[:GENERATED_BY {operation}]->(:Model)

A training operation is a version of its model: its ``Hyperparameters`` node (one per operation,
settings or none) holds the version's facts. The ``Model`` node says those of its latest training
(latest last seen, then operation id: the same whatever order the batches came in). Everything is
MERGEd by operation, the first time the store sees it, so a harvest run again adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..model import ModelLinks, ModelVersionRow, Operation
from ..naming import dataset_id
from .ml_rows import ml_rows
from .sql_ml import earliest_users

# Properties of a Hyperparameters / Metrics node that a setting or metric of that name does not replace.
FACTS = frozenset({"id", "operation", "model", "version", "architecture", "status", "run", "first_seen", "last_seen",
                   "user", "names", "texts"})

Tx = Any


def _version_order(version: str) -> tuple[int, int, str]:
    """Registered versions in number order (2 before 10), other names after them."""
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def _pairs(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"names": [n for n, _ in pairs], "values": [v for _, v in pairs],
            "props": {n: v for n, v in pairs if n not in FACTS}}


class Neo4jModels:
    """The model nodes of ``Neo4jStore`` (a mixin: it uses the store's ``_datasets`` and reads)."""

    _datasets: Callable[..., None]
    _read: Callable[..., list[list[Any]]]

    def _write_ml(self, tx: Tx, merged: Sequence[Operation], new: Sequence[Operation], ran: Sequence[Operation]) -> None:
        """The model nodes of the ``new`` operations; every training operation of ``merged`` (new or
        seen again, its window as wide as known) may be its model's latest."""
        from .neo4j import unwind

        found = [(op, rows) for op in new if (rows := ml_rows(op)).model or rows.predictions]
        if found:
            self._datasets(tx, {(op.namespace, name): kind for op, rows in found for name, kind in rows.datasets().items()})
        who = earliest_users(ran)
        versions, measured, used, made = [], [], [], []
        for op, rows in found:
            ds = (lambda name, ns=op.namespace: dataset_id(ns, name))
            made += [{"p": ds(d), "m": ds(m), "o": op.id} for d, m in rows.predictions]
            if rows.model is None:
                continue
            number = rows.version[0] if rows.version else None
            if rows.version is not None:
                versions.append({"id": f"{op.id}#hyperparameters", "m": ds(rows.model), "o": op.id, "v": number,
                                 "a": rows.version[1], "s": rows.version[2], "run": rows.version[3],
                                 "f": op.first_seen, "l": op.last_seen, "u": who.get(op.id),
                                 **_pairs(rows.hyperparameters)})
            if rows.metrics:
                measured.append({"id": f"{op.id}#metrics", "m": ds(rows.model), "o": op.id, **_pairs(rows.metrics)})
            used += [{"d": ds(d), "m": ds(rows.model), "o": op.id, "split": s, "v": number} for d, s in rows.used]
        unwind(tx, "MATCH (m:Dataset {id: r.m}) MERGE (h:Hyperparameters {id: r.id}) ON CREATE SET "
                   "h.operation = r.o, h.model = r.m, h.version = r.v, h.architecture = r.a, h.status = r.s, "
                   "h.run = r.run, h.first_seen = r.f, h.last_seen = r.l, h.user = r.u, h.names = r.names, "
                   "h.texts = r.values SET h += r.props MERGE (h)-[:CONFIGURED_WITH]->(m)",
               sorted(versions, key=lambda r: r["id"]))
        unwind(tx, "MATCH (m:Dataset {id: r.m}) MERGE (x:Metrics {id: r.id}) ON CREATE SET "
                   "x.operation = r.o, x.model = r.m, x.names = r.names, x.texts = r.values SET x += r.props "
                   "MERGE (x)-[:EVALUATED_WITH]->(m)", sorted(measured, key=lambda r: r["id"]))
        unwind(tx, "MATCH (d:Dataset {id: r.d}) MATCH (m:Dataset {id: r.m}) "
                   "MERGE (d)-[u:USED_IN_TRAINING {operation: r.o, split: r.split}]->(m) ON CREATE SET u.version = r.v",
               sorted(used, key=lambda r: (r["d"], r["m"], r["o"], r["split"])))
        unwind(tx, "MATCH (p:Dataset {id: r.p}) MATCH (m:Dataset {id: r.m}) "
                   "MERGE (p)-[:GENERATED_BY {operation: r.o}]->(m)", sorted(made, key=lambda r: (r["p"], r["m"], r["o"])))
        self._latest(tx, merged)
        # Labelled after the batch commits, in a transaction of their own (``label_models``): a Bolt server
        # that keeps labels as types (ArcadeDB) refuses to relabel a node written in the same transaction.
        self._ml_labels[0].update(r["m"] for r in (*versions, *measured, *used, *made))
        self._ml_labels[1].update(r["p"] for r in made)

    def _latest(self, tx: Tx, merged: Sequence[Operation]) -> None:
        """Each model's facts as its latest training gives them, and every version it has had; a
        version's window widens with its operation's."""
        from .neo4j import unwind

        rows = []
        for op in merged:
            found = ml_rows(op)
            if found.model is None or found.version is None:
                continue
            version, architecture, status, _ = found.version
            rows.append({"m": dataset_id(op.namespace, found.model), "id": f"{op.id}#hyperparameters",
                         "at": f"{op.last_seen or ''}\x1f{op.id}", "v": version, "a": architecture, "s": status,
                         "f": op.first_seen, "l": op.last_seen})
        unwind(tx, "MATCH (h:Hyperparameters {id: r.id}) SET "
                   "h.first_seen = CASE WHEN r.f IS NOT NULL AND (h.first_seen IS NULL OR r.f < h.first_seen) "
                   "THEN r.f ELSE h.first_seen END, "
                   "h.last_seen = CASE WHEN r.l IS NOT NULL AND (h.last_seen IS NULL OR r.l > h.last_seen) "
                   "THEN r.l ELSE h.last_seen END", rows)
        self._ml_labels[0].update(r["m"] for r in rows)
        # Every version a model has had, sorted (the same whatever order the runs came in).
        named = sorted({r["m"] for r in rows if r["v"] is not None})
        had = {m: set(v or []) for m, v in tx.run("UNWIND $ids AS i MATCH (m:Dataset {id: i}) RETURN m.id, m.versions",
                                                  ids=named).values()} if named else {}
        for r in rows:
            if r["v"] is not None:
                had.setdefault(r["m"], set()).add(r["v"])
        unwind(tx, "MATCH (m:Dataset {id: r.m}) SET m.versions = r.vs",
               [{"m": m, "vs": sorted(vs, key=_version_order)} for m, vs in sorted(had.items())])
        unwind(tx, "MATCH (m:Dataset {id: r.m}) WITH m, r WHERE m.trained IS NULL OR r.at >= m.trained "
                   "SET m.trained = r.at, m.version = r.v, m.architecture = r.a, m.status = r.s",
               sorted(rows, key=lambda r: r["at"]))

    _ml_labels: tuple[set[str], set[str]] = (set(), set())

    def label_models(self, tx: Tx) -> None:
        """``:Model`` and ``:Prediction`` on the datasets this batch made models or predictions."""
        for label, ids in zip(("Model", "Prediction"), self._ml_labels):
            for part in [sorted(ids)[i:i + 1000] for i in range(0, len(ids), 1000)]:
                tx.run(f"UNWIND $ids AS i MATCH (d:Dataset {{id: i}}) WHERE NOT d:{label} SET d:{label}", ids=part).consume()
        self._ml_labels = (set(), set())

    def relabel_models(self, tx: Tx) -> None:
        """Labels a batch committed without (the process stopped between the batch and its labels),
        put on when the store is next opened for writing: every model and prediction node has them."""
        tx.run("MATCH ()-[:CONFIGURED_WITH|EVALUATED_WITH|USED_IN_TRAINING|GENERATED_BY]->(m:Dataset) "
               "WHERE NOT m:Model WITH DISTINCT m SET m:Model").consume()
        tx.run("MATCH (p:Dataset)-[:GENERATED_BY]->() WHERE NOT p:Prediction WITH DISTINCT p SET p:Prediction").consume()

    def prune_models(self, tx: Tx, ids: Sequence[str]) -> None:
        """The model nodes and relationships of pruned operations (``ids``); models and predictions stay datasets."""
        for label, suffix in (("Hyperparameters", "#hyperparameters"), ("Metrics", "#metrics")):
            tx.run(f"UNWIND $ids AS i MATCH (n:{label} {{id: i}}) DETACH DELETE n",
                   ids=[i + suffix for i in ids]).consume()
        tx.run("UNWIND $ids AS i MATCH ()-[e:USED_IN_TRAINING|GENERATED_BY]->() WHERE e.operation = i DELETE e",
               ids=list(ids)).consume()

    def model_links(self, key: str) -> ModelLinks:
        """As ``SQLStore.model_links``."""
        if not key.startswith("d"):
            return ModelLinks()
        mid = key[1:]
        versions = sorted(self._read(
            "MATCH (h:Hyperparameters)-[:CONFIGURED_WITH]->(m:Dataset {id: $m}) RETURN h.operation, h.version, "
            "h.architecture, h.status, h.run, h.first_seen, h.last_seen, h.user, h.names, h.texts", m=mid),
            key=lambda r: (r[6] or "", r[0]))
        metrics = self._read("MATCH (x:Metrics)-[:EVALUATED_WITH]->(m:Dataset {id: $m}) "
                             "RETURN x.operation, x.names, x.texts", m=mid)
        used = self._read("MATCH (d:Dataset)-[u:USED_IN_TRAINING]->(m:Dataset {id: $m}) "
                          "RETURN d.id, u.split, u.operation, u.version", m=mid)
        made = self._read("MATCH (p:Dataset)-[g:GENERATED_BY]->(m:Dataset {id: $m}) RETURN p.id, g.operation", m=mid)

        def named(rows: list[list[Any]]) -> tuple[tuple[str, str, str], ...]:
            return tuple(sorted((op, n, v) for op, names, values in rows for n, v in zip(names or [], values or [])))

        return ModelLinks(
            tuple(ModelVersionRow(*r[:8]) for r in versions),
            named([[r[0], r[8], r[9]] for r in versions]),
            named(metrics),
            tuple(sorted((f"d{d}", s, op, v) for d, s, op, v in used)),
            tuple(sorted((f"d{p}", op) for p, op in made)),
        )


HYPERPARAMETERS_KEY = "hyperparameters:"  # + namespace: where version 3 kept each model's latest settings


def upgrade_models(store: Neo4jModels, tx: Tx) -> None:
    """Version 4 from an older graph: the model nodes of the training and prediction operations
    kept, as ``sql_ml.v3_to_v4`` fills the SQL store's tables (the settings kept under
    ``hyperparameters:NS`` go to each model's latest training, and leave the statement cache)."""
    import json

    from ..model import DatasetRef

    ops: dict[str, dict[str, Any]] = {}
    touches_model = "(o.type = 'train' OR EXISTS { MATCH (:Dataset {type: 'model'})-[:INPUT_TO]->(o) })"
    columns = ("o.id AS id, o.type AS kind, o.namespace AS ns, o.first_seen AS first, o.last_seen AS last, "
               "d.name AS name, d.type AS dtype")
    for oid, kind, ns, first, last, name, dtype, way in tx.run(
            f"MATCH (o:Operation)-[:PRODUCES]->(d:Dataset) WHERE {touches_model} RETURN {columns}, 'out' AS way "
            f"UNION ALL MATCH (d:Dataset)-[:INPUT_TO]->(o:Operation) WHERE {touches_model} "
            f"RETURN {columns}, 'in' AS way").values():
        op = ops.setdefault(oid, {"type": kind, "ns": ns, "first": first, "last": last, "in": [], "out": []})
        op[way].append(DatasetRef(name, dtype or "table"))
    kept: dict[tuple[str, str], dict[str, str]] = {}
    for key, text in tx.run("MATCH (s:StatementCache) WHERE s.id STARTS WITH $k RETURN s.id, s.lineage",
                            k=HYPERPARAMETERS_KEY).values():
        for model, values in json.loads(text or "{}").items():
            if isinstance(values, dict):
                kept[(key[len(HYPERPARAMETERS_KEY):], model)] = {str(k): str(v) for k, v in values.items()}
    latest: dict[tuple[str, str], str] = {}
    for oid, op in ops.items():
        for d in op["out"]:
            if op["type"] == "train" and d.type == "model":
                at = (op["last"] or "", oid)
                if (op["ns"], d.name) not in latest or at > latest[(op["ns"], d.name)]:  # type: ignore[operator]
                    latest[(op["ns"], d.name)] = at  # type: ignore[assignment]
    made = []
    for oid, op in sorted(ops.items()):
        model = next((d.name for d in op["out"] if d.type == "model"), None)
        settings = kept.get((op["ns"], model), {}) if model and latest.get((op["ns"], model)) == (op["last"] or "", oid) \
            else {}
        made.append(Operation(oid, op["type"], "", None, tuple(op["in"]), tuple(op["out"]), (), (), op["ns"], None,
                              None, op["first"], op["last"], settings=tuple(sorted(settings.items()))))
    users = [Operation(oid, "", "", None, (), (), (), (), "", user, None, first, None) for oid, user, first in tx.run(
        "MATCH (u:User)-[p:PERFORMED]->(o:Operation) WHERE o.type = 'train' RETURN o.id, u.name, p.first_seen").values()]
    store._ml_labels = (set(), set())
    store._write_ml(tx, made, made, users)  # labelled by the caller, in a transaction of its own
    tx.run("MATCH (s:StatementCache) WHERE s.id STARTS WITH $k DELETE s", k=HYPERPARAMETERS_KEY).consume()
