"""What a store holds, read straight from its tables or its graph: the contract tests
ask one question and each store answers it in its own language (SQL or Cypher).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from sqllineage_harvester.stores.neo4j import Neo4jStore

QUESTIONS: dict[str, tuple[str, str]] = {  # name: (SQL, Cypher)
    "schema_version": ("SELECT version FROM schema_version",
                       "MATCH (v:SchemaVersion) RETURN v.version"),
    "input_types": ("SELECT d.name, i.type FROM input_to i JOIN datasets d ON d.id = i.dataset_id",
                    "MATCH (d:Dataset)-[i:INPUT_TO]->(:Operation) RETURN d.name, i.type"),
    "performers": ("SELECT u.name FROM performed p JOIN users u ON u.id = p.user_id",
                   "MATCH (u:User)-[:PERFORMED]->(:Operation) RETURN u.name"),
    "hosts": ("SELECT s.name FROM hosted h JOIN systems s ON s.id = h.system_id",
              "MATCH (s:System)-[:HOSTED]->(:Operation) RETURN s.name"),
    "runs": ("SELECT 'user', u.name, p.first_seen, p.last_seen, p.executions FROM performed p "
             "JOIN users u ON u.id = p.user_id UNION ALL "
             "SELECT 'system', s.name, h.first_seen, h.last_seen, h.executions FROM hosted h "
             "JOIN systems s ON s.id = h.system_id",
             "MATCH (u:User)-[p:PERFORMED]->(:Operation) "
             "RETURN 'user' AS k, u.name AS n, p.first_seen AS f, p.last_seen AS l, p.executions AS x "
             "UNION ALL MATCH (s:System)-[h:HOSTED]->(:Operation) "
             "RETURN 'system' AS k, s.name AS n, h.first_seen AS f, h.last_seen AS l, h.executions AS x"),
    "dataset": ("SELECT key, namespace FROM datasets WHERE name = :name",
                "MATCH (d:Dataset {name: $name}) RETURN d.id, d.namespace"),
    "operation_windows": ("SELECT first_seen, last_seen, executions FROM operations",
                          "MATCH (o:Operation) RETURN o.first_seen, o.last_seen, o.executions"),
    "edge_windows": ("SELECT first_seen, last_seen FROM column_edges",
                     "MATCH (:Column)-[e:FEEDS]->(:Column) RETURN e.first_seen, e.last_seen"),
    "executions": ("SELECT DISTINCT executions FROM operations",
                   "MATCH (o:Operation) RETURN DISTINCT o.executions"),
    "usage": ('SELECT "user", "count" FROM usage', "MATCH (u:Usage) RETURN u.user, u.count"),
    "usage_counts": ('SELECT "count" FROM usage', "MATCH (u:Usage) RETURN u.count"),
    "set_schema_version": ("UPDATE schema_version SET version = :version",
                           "MATCH (v:SchemaVersion) SET v.version = $version"),
}


def peek(store: Any, question: str, **params: Any) -> list[tuple]:
    """The rows answering ``question`` (a key of QUESTIONS) in ``store``."""
    sql, cypher = QUESTIONS[question]
    if isinstance(store, Neo4jStore):
        with store.driver.session(database=store.database) as session:
            return [tuple(r.values()) for r in session.run(cypher, params)]
    with store.engine.begin() as conn:
        result = conn.execute(text(sql), params)
        return [tuple(r) for r in result] if result.returns_rows else []
