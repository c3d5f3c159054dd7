"""Golden lineage cases: a readable text format, a loader, and a scorer.

A file holds cases one after another; each starts with ``-- title:``::

    -- title: insert with a column list decides target names
    -- dialect: postgres
    -- catalog: {"raw.s": {"x": "int", "y": "int"}}
    INSERT INTO t (a, b) SELECT x, y FROM raw.s;
    -- kind: insert
    -- inputs: raw.s
    -- outputs: t
    -- column: t.a <- raw.s.x IDENTITY
    -- column: t.b <- raw.s.y IDENTITY

Optional headers before the SQL: ``dialect``, ``catalog`` (JSON on one line),
``default_database``, ``default_schema``, ``collapse_temp`` (true/false),
``known_gap`` (why we do not get it right yet). Expectations after the SQL:
``kind`` (comma-separated, one per statement, or one for all), ``inputs``,
``outputs`` (comma-separated, union over the script's statements), ``column``
lines (``target <- source, source TRANSFORM``; no sources: ``target <-``),
``indirect`` lines (``source TYPE``, checked only when present), ``error``
(a word the error must contain, for statements that must fail), ``models`` (the datasets typed
model read or written) and ``setting`` lines (``name = value``: a trained model's settings), both
checked only when present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .extract import extract
from .model import StatementLineage

_HEADERS = ("dialect", "catalog", "default_database", "default_schema", "collapse_temp", "known_gap")


@dataclass
class Case:
    title: str
    path: str
    line: int
    sql: str = ""
    dialect: str | None = None
    catalog: dict | None = None
    default_database: str | None = None
    default_schema: str | None = None
    collapse_temp: bool = False
    known_gap: str | None = None
    kinds: list[str] = field(default_factory=list)
    inputs: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    columns: dict[str, tuple[set[str], str]] = field(default_factory=dict)
    indirect: set[tuple[str, str]] | None = None
    error: str | None = None
    models: set[str] | None = None  # the datasets typed model read or written (checked when given)
    settings: dict[str, str] | None = None  # a trained model's settings (checked when given)

    @property
    def id(self) -> str:
        return f"{Path(self.path).stem}:{self.line}:{self.title}"


def _names(value: str) -> set[str]:
    return {v.strip() for v in value.split(",") if v.strip()}


def load_file(path: Path) -> list[Case]:
    cases: list[Case] = []
    case: Case | None = None
    sql_lines: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.rstrip()
        if line.startswith("-- title:"):
            if case is not None:
                case.sql = "\n".join(sql_lines).strip()
                cases.append(case)
            case, sql_lines = Case(line.split(":", 1)[1].strip(), str(path), number), []
            continue
        if case is None:
            continue
        if _is_directive(line):
            key, value = (p.strip() for p in line[3:].split(":", 1))
            _apply(case, key, value)
            continue
        if line.strip() or sql_lines:
            sql_lines.append(raw)
    if case is not None:
        case.sql = "\n".join(sql_lines).strip()
        cases.append(case)
    return cases


_KEYS = _HEADERS + ("kind", "inputs", "outputs", "column", "indirect", "error", "models", "setting")


def _is_directive(line: str) -> bool:
    if not line.startswith("-- ") or ":" not in line:
        return False
    return line[3:].split(":", 1)[0].strip() in _KEYS


def _apply(case: Case, key: str, value: str) -> None:
    if key == "dialect":
        case.dialect = value or None
    elif key == "catalog":
        case.catalog = json.loads(value)
    elif key in ("default_database", "default_schema", "known_gap"):
        setattr(case, key, value or None)
    elif key == "collapse_temp":
        case.collapse_temp = value.lower() in ("1", "true", "yes")
    elif key == "kind":
        case.kinds = [k.strip() for k in value.split(",")]
    elif key == "inputs":
        case.inputs = _names(value)
    elif key == "outputs":
        case.outputs = _names(value)
    elif key == "column":
        target, _, rest = value.partition("<-")
        words = rest.strip().rsplit(" ", 1)
        transform = "IDENTITY"
        if words and words[-1] in ("IDENTITY", "TRANSFORMATION", "AGGREGATION"):
            transform = words[-1]
            rest = words[0] if len(words) > 1 else ""
        case.columns[target.strip()] = (_names(rest), transform)
    elif key == "indirect":
        source, _, kind = value.rpartition(" ")
        case.indirect = (case.indirect or set()) | {(source.strip(), kind.strip())}
    elif key == "error":
        case.error = value
    elif key == "models":
        case.models = _names(value)
    elif key == "setting":
        name, _, setting = value.partition("=")
        case.settings = {**(case.settings or {}), name.strip(): setting.strip()}
    else:
        raise ValueError(f"{case.path}:{case.line}: unknown key {key!r}")


def load(folder: Path) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(folder.glob("*.sql")):
        cases.extend(load_file(path))
    return cases


@dataclass
class Observed:
    kinds: list[str]
    inputs: set[str]
    outputs: set[str]
    columns: dict[str, tuple[set[str], str]]
    indirect: set[tuple[str, str]]
    errors: list[str]
    models: set[str] = field(default_factory=set)
    settings: dict[str, str] = field(default_factory=dict)


def run(case: Case) -> Observed:
    results = extract(
        case.sql,
        case.dialect,
        catalog=case.catalog,
        default_database=case.default_database,
        default_schema=case.default_schema,
        collapse_temp=case.collapse_temp,
    )
    return observe(results)


def observe(results: Iterable[StatementLineage]) -> Observed:
    seen = Observed([], set(), set(), {}, set(), [])
    for r in results:
        seen.kinds.append(r.kind)
        if r.error:
            seen.errors.append(r.error)
        seen.inputs |= {str(d) for d in r.inputs}
        seen.outputs |= {str(d) for d in r.outputs}
        seen.models |= {str(d) for d in (*r.inputs, *r.outputs) if d.type == "model"}
        seen.settings.update(r.settings)
        seen.indirect |= {(str(i.source), i.type) for i in r.indirect}
        for c in r.columns:
            if not c.target.dataset and r.kind != "select":
                continue
            sources, transform = seen.columns.get(str(c.target), (set(), "IDENTITY"))
            order = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")
            seen.columns[str(c.target)] = (sources | {str(s) for s in c.sources}, max(transform, c.transform, key=order.index))
            seen.indirect |= {(str(i.source), i.type) for i in c.indirect}
    return seen


def mismatches(case: Case, seen: Observed) -> list[str]:
    """Human-readable differences between a case's expectations and a run."""
    problems = []
    if case.error is not None:
        if not any(case.error.lower() in e.lower() for e in seen.errors):
            problems.append(f"expected an error containing {case.error!r}, got {seen.errors}")
        return problems
    if seen.errors:
        problems.append(f"unexpected errors: {seen.errors}")
    if case.kinds:
        kinds = case.kinds * len(seen.kinds) if len(case.kinds) == 1 else case.kinds
        if kinds != seen.kinds:
            problems.append(f"kinds: want {case.kinds}, got {seen.kinds}")
    for label, want, got in (("inputs", case.inputs, seen.inputs), ("outputs", case.outputs, seen.outputs)):
        if want != got:
            problems.append(f"{label}: missing {sorted(want - got)}, extra {sorted(got - want)}")
    for target in sorted(set(case.columns) | set(seen.columns)):
        want_col, got_col = case.columns.get(target), seen.columns.get(target)
        if want_col is None:
            if got_col and got_col[0]:
                problems.append(f"column {target}: not expected, got {sorted(got_col[0])} {got_col[1]}")
        elif got_col is None:
            if want_col[0]:
                problems.append(f"column {target}: missing, want {sorted(want_col[0])} {want_col[1]}")
        elif want_col != got_col:
            problems.append(f"column {target}: want {sorted(want_col[0])} {want_col[1]}, got {sorted(got_col[0])} {got_col[1]}")
    if case.models is not None and case.models != seen.models:
        problems.append(f"models: missing {sorted(case.models - seen.models)}, extra {sorted(seen.models - case.models)}")
    if case.settings is not None and case.settings != seen.settings:
        problems.append(f"settings: want {case.settings}, got {seen.settings}")
    if case.indirect is not None and case.indirect != seen.indirect:
        problems.append(f"indirect: missing {sorted(case.indirect - seen.indirect)}, extra {sorted(seen.indirect - case.indirect)}")
    return problems


@dataclass
class Score:
    """Micro-averaged precision / recall counts."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, want: set, got: set) -> None:
        self.tp += len(want & got)
        self.fp += len(got - want)
        self.fn += len(want - got)

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 100.0 * 2 * self.tp / denominator if denominator else 100.0


def column_pairs(columns: dict[str, tuple[set[str], str]]) -> set[tuple[str, str]]:
    return {(target, source) for target, (sources, _) in columns.items() for source in sources}


def score(cases: Iterable[Case]) -> dict[str, tuple[Score, Score, int]]:
    """Table and column F1 by the case's first expected statement kind."""
    by_kind: dict[str, tuple[Score, Score, int]] = {}
    for case in cases:
        if case.error is not None:
            continue
        seen = run(case)
        kind = (case.kinds or seen.kinds or ["other"])[-1]
        tables, columns, count = by_kind.get(kind, (Score(), Score(), 0))
        tables.add({("in", n) for n in case.inputs} | {("out", n) for n in case.outputs},
                   {("in", n) for n in seen.inputs} | {("out", n) for n in seen.outputs})
        columns.add(column_pairs(case.columns), column_pairs(seen.columns))
        by_kind[kind] = (tables, columns, count + 1)
    return by_kind
