"""Tags on columns (``pii:email``, ``pii:card``, ...) and where lineage carries them.

A column's own tags come from a rules file (name patterns), from the database's catalog, or by
hand; the store keeps them (``Store.tag_columns``). What a column *holds* is computed when asked:
a tag flows along direct edges (IDENTITY and TRANSFORMATION; AGGREGATION when asked), never along
indirect ones (a JOIN key carries nothing), and an edge whose value went through a masking
function turns ``TAG`` into ``masked:TAG``, which flows on as such.

>>> e = [LineageEdge("c1", "c2", "op1", "IDENTITY"), LineageEdge("c2", "c3", "op2", "TRANSFORMATION", masked=True),
...      LineageEdge("c1", "c4", "op3", "JOIN")]
>>> held = propagate({"c1": {"pii:email"}}, e)
>>> sorted((key, sorted(h)) for key, h in held.items())
[('c1', ['pii:email']), ('c2', ['pii:email']), ('c3', ['masked:pii:email'])]
>>> held["c3"]["masked:pii:email"].route
('c1', 'c2', 'c3')
"""

from __future__ import annotations

import fnmatch
import re
import sys
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .model import AGGREGATION, IDENTITY, TRANSFORMATION, LineageEdge, LineageNode

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MASKED = "masked:"
HAND, RULES, CATALOG = "hand", "rules", "catalog"
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:\-/]*$")


def check_tag(tag: str) -> str:
    """A tag as stored: letters, digits and ``_ . : - /``; ``masked:`` is the flow's own."""
    if not TAG_PATTERN.match(tag) or tag.startswith(MASKED):
        raise ConfigError(f"tag {tag!r} is not a tag: use letters, digits and _ . : - / (pii:email); "
                          f"masked: is given by lineage, never by hand")
    return tag


def base_tag(label: str) -> str:
    """``masked:pii:email`` -> ``pii:email``."""
    return label[len(MASKED):] if label.startswith(MASKED) else label


def matches(label: str, prefix: str | None) -> bool:
    """Whether a held label answers a question about ``prefix`` (``pii`` finds ``pii:email`` and
    ``masked:pii:email``; ``masked`` finds the masked ones)."""
    if not prefix:
        return True
    return label.startswith(prefix) or base_tag(label).startswith(prefix)


COMMENT_TAG = re.compile(r"(?<![\w/:])([a-z][a-z0-9_]*:[a-z0-9_][a-z0-9_.:\-]*[a-z0-9_])", re.IGNORECASE)


def comment_tags(text: str | None) -> list[str]:
    """The tags a column comment names: words of the form ``kind:what``, lower-cased.

    >>> comment_tags("Customer e-mail. PII:Email, gdpr:art9; see https://wiki/x")
    ['pii:email', 'gdpr:art9']
    """
    found = [m.group(1).lower() for m in COMMENT_TAG.finditer(text or "")]
    return [t for t in dict.fromkeys(found) if not t.startswith(MASKED)]


def normalize_tag(name: str, value: str | None = None) -> str:
    """A database's tag as ours: ``PII`` = ``Email Address`` -> ``pii:email_address``.

    >>> normalize_tag("SEMANTIC_CATEGORY", "EMAIL"), normalize_tag("policy_tag", "projects/p/taxonomies/1/policyTags/2")
    ('semantic_category:email', 'policy_tag:projects/p/taxonomies/1/policytags/2')
    """
    text = f"{name}:{value}" if value else name
    return re.sub(r"[^a-z0-9_.:\-/]+", "_", text.strip().lower()).strip("_")


def catalog_tags(rows: Iterable[tuple[Any, ...]]) -> list[tuple[str, str, str]]:
    """(db.schema.table, column, tag) from a ``tags_query``'s rows: (database, schema, table, column,
    tag name, tag value)."""
    found = set()
    for database, schema, table, column, name, value in rows:
        tag = normalize_tag(str(name), None if value is None else str(value))
        if tag and not tag.startswith(MASKED):
            found.add((".".join(str(p) for p in (database, schema, table) if p), str(column), tag))
    return sorted(found)


def tag_from_catalog(store: Any, namespace: str, rows: Iterable[tuple[str, str, str]]) -> int:
    """Tag the store's columns of ``namespace`` named by catalog rows (db.schema.table, column, tag);
    a column the store does not know yet waits for a later harvest. How many were tagged."""
    found = []
    for table, column, tag in rows:
        name = f"{table}.{column}"
        nodes = [n for n in store.resolve(name) if n.kind == "column" and n.namespace == namespace]
        if not nodes and name.count(".") > 3:  # the store may name it without its database
            nodes = [n for n in store.resolve(name.split(".", 1)[1]) if n.kind == "column" and n.namespace == namespace]
        found += [(n.key, tag, CATALOG) for n in nodes]
    store.tag_columns(sorted(set(found)))
    return len(set(found))


# -- rules ---------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """Columns whose name (and table) match get ``tag``. Patterns are shell-style, case-insensitive."""

    tag: str
    columns: tuple[str, ...]
    tables: tuple[str, ...] = ("*",)
    types: tuple[str, ...] = ()  # catalog types (prefix, case-insensitive); empty: any

    def match(self, table: str, column: str, type_: str | None = None) -> bool:
        if not any(fnmatch.fnmatchcase(column.lower(), p.lower()) for p in self.columns):
            return False
        if not any(fnmatch.fnmatchcase(table.lower(), p.lower()) or
                   fnmatch.fnmatchcase(table.lower(), "*." + p.lower()) for p in self.tables):
            return False
        return not self.types or (type_ is not None and type_.lower().startswith(tuple(t.lower() for t in self.types)))


def load_rules(path: str | Path) -> tuple[Rule, ...]:
    """The ``[[rule]]`` tables of a TOML rules file (see the README's *Personal data*)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read tag rules {path}: {e}") from e
    rules = []
    for i, item in enumerate(data.get("rule", [])):
        unknown = set(item) - {"tag", "columns", "tables", "types"}
        if unknown or not isinstance(item.get("columns"), list) or "tag" not in item:
            raise ConfigError(f"tag rules {path}: rule {i + 1} needs tag and columns = [patterns]"
                              + (f"; unknown keys {sorted(unknown)}" if unknown else ""))
        rules.append(Rule(check_tag(str(item["tag"])), tuple(map(str, item["columns"])),
                          tuple(map(str, item.get("tables", ["*"]))), tuple(map(str, item.get("types", [])))))
    if not rules:
        raise ConfigError(f"tag rules {path}: no [[rule]] in it")
    return tuple(rules)


def apply_rules(rules: Iterable[Rule], columns: Iterable[LineageNode],
                types: Mapping[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(column key, tag, ``rules``) for every column a rule matches; ``types``: column name -> type."""
    found = []
    for rule in rules:
        for col in columns:
            table, _, name = col.name.rpartition(".")
            if rule.match(table, name, (types or {}).get(col.name.lower())):
                found.append((col.key, rule.tag, RULES))
    return sorted(set(found))


# -- flow ----------------------------------------------------------------------
@dataclass(frozen=True)
class Holding:
    """How a column came to hold one label: from ``origin`` along ``route`` (node keys, origin
    first) through ``edges`` (one a hop)."""

    label: str
    origin: str
    route: tuple[str, ...]
    edges: tuple[LineageEdge, ...] = ()


def carries(edge: LineageEdge, aggregation: bool = False) -> bool:
    """Whether a value flows along the edge: direct edges only; AGGREGATION when asked."""
    return edge.type in (IDENTITY, TRANSFORMATION) or (aggregation and edge.type == AGGREGATION)


def propagate(seeds: Mapping[str, Iterable[str]], edges: Iterable[LineageEdge],
              aggregation: bool = False) -> dict[str, dict[str, Holding]]:
    """Column key -> label -> the shortest way it got there, for every column the seeds' tags reach."""
    out: dict[str, list[LineageEdge]] = {}
    for edge in edges:
        if carries(edge, aggregation) and edge.source != edge.target:
            out.setdefault(edge.source, []).append(edge)
    for found in out.values():
        found.sort(key=lambda e: (e.target, e.operation, e.type))
    held: dict[str, dict[str, Holding]] = {}
    todo: deque[Holding] = deque()
    for key in sorted(seeds):
        for tag in sorted(set(seeds[key])):
            first = Holding(tag, key, (key,))
            if tag not in held.setdefault(key, {}):
                held[key][tag] = first
                todo.append(first)
    while todo:  # breadth first: each label reaches each column by a shortest route
        at = todo.popleft()
        for edge in out.get(at.route[-1], ()):
            label = at.label if not edge.masked or at.label.startswith(MASKED) else MASKED + at.label
            if label in held.get(edge.target, {}):
                continue
            step = Holding(label, at.origin, at.route + (edge.target,), at.edges + (edge,))
            held.setdefault(edge.target, {})[label] = step
            todo.append(step)
    return held


__all__ = ["Holding", "Rule", "apply_rules", "base_tag", "carries", "catalog_tags", "check_tag", "comment_tags",
           "load_rules", "matches", "normalize_tag", "propagate", "tag_from_catalog"]
