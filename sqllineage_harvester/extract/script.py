"""Script-level rules: procedure bodies, and folding temp tables away."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..model import ColumnLineage, ColumnRef, DatasetRef, IndirectRef, StatementLineage, merged_masks

_I = re.IGNORECASE | re.DOTALL
_DOLLAR_BODY = re.compile(r"\$(\w*)\$(.*)\$\1\$", re.DOTALL)
_ROUTINE_HEAD = re.compile(r"^\s*(?:CREATE\s+(?:OR\s+(?:REPLACE|ALTER)\s+)?(?:PROCEDURE|PROC|FUNCTION)\b|DO\b)", _I)
# Wrappers around the statements of a routine or block, stripped one at a time:
# the routine itself is never reported as a table; what it runs is analysed.
_WRAPPERS = [
    re.compile(r"^\s*CREATE\s+(?:OR\s+(?:REPLACE|ALTER)\s+)?(?:PROCEDURE|PROC)\b.*?\b(?:AS|BEGIN)\b(?!\s*\$)", _I),
    re.compile(r"^\s*DECLARE\b.*?\bBEGIN\b", _I),
    re.compile(r"^\s*BEGIN(?:\s+(?:TRY|CATCH))?\b(?!\s*(?:TRANSACTION|TRAN|WORK|ISOLATION|DEFERRED|IMMEDIATE|EXCLUSIVE)\b)(?=\s*\S)", _I),
    re.compile(r"^\s*END\s+(?:TRY|CATCH|IF|LOOP|WHILE|FOR)\b", _I),
    re.compile(r"^\s*(?:ELS(?:E\s*)?IF|IF)\b[^;]*?\bTHEN\b", _I),
    re.compile(r"^\s*IF\b[^;]*?\bBEGIN\b(?!\s*(?:TRANSACTION|TRAN|DISTRIBUTED)\b)", _I),  # T-SQL IF <cond> BEGIN
    re.compile(r"^\s*END\s+(?=ELSE\b)", _I),  # T-SQL: END ELSE BEGIN ..
    re.compile(r"^\s*ELSE\b", _I),
    re.compile(r"^\s*(?:FOR|WHILE)\b[^;]*?\b(?:LOOP|DO)\b|^\s*LOOP\b", _I),
]
_END = re.compile(r"^\s*(?:END(?:\s+(?:IF|LOOP|WHILE|FOR|PROCEDURE|FUNCTION|TRY|CATCH))?\s*\w*|\$\w*\$\s*(?:LANGUAGE\s+\w+)?)\s*$", _I)
_GO = re.compile(r"^[ \t]*GO[ \t]*$", re.IGNORECASE | re.MULTILINE)
_SLASH = re.compile(r"^[ \t]*/[ \t]*$", re.MULTILINE)
_DELIMITER = re.compile(r"^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*$", re.IGNORECASE | re.MULTILINE)


def body_statements(text: str) -> list[str] | None:
    """The statements inside a routine or block, or None for an ordinary one."""
    if _END.match(text):
        return []
    if _ROUTINE_HEAD.match(text):
        dollar = _DOLLAR_BODY.search(text)
        if dollar:
            return [dollar.group(2)]
    head = block_head(text)
    if head is None:
        return None
    rest = text[len(head) :].strip()
    return [rest] if rest else []


def block_head(text: str) -> str | None:
    """The words that open a block's or routine's statements in ``text`` (``CREATE PROCEDURE
    p(..) BEGIN``, ``DECLARE .. BEGIN``, ``IF .. THEN``, ``END`` before ``ELSE``), or None."""
    for wrapper in _WRAPPERS:
        match = wrapper.match(text)
        if match:
            return text[: match.end()]
    return None


def separate_batches(sql: str) -> str:
    """T-SQL ``GO`` lines, Oracle SQL*Plus ``/`` lines and MySQL ``DELIMITER //`` blocks become
    plain semicolons."""
    if "go" in sql.lower():
        sql = _GO.sub(";", sql)
    if "/" in sql:
        sql = _SLASH.sub(";", sql)
    if "delimiter" not in sql.lower():
        return sql
    out: list[str] = []
    delimiter = ";"
    position = 0
    for match in _DELIMITER.finditer(sql):
        chunk = sql[position : match.start()]
        out.append(chunk.replace(delimiter, ";") if delimiter != ";" else chunk)
        delimiter, position = match.group(1), match.end()
    tail = sql[position:]
    out.append(tail.replace(delimiter, ";") if delimiter != ";" else tail)
    return "".join(out)


@dataclass
class _Temp:
    """What a temp table was made from, gathered over every write to it: its inputs, its
    columns' lineage, and what decided which rows it holds (its writes' JOIN / FILTER / ...)."""

    inputs: list[DatasetRef] = field(default_factory=list)
    columns: dict[str, ColumnLineage] = field(default_factory=dict)
    indirect: set[IndirectRef] = field(default_factory=set)

    def add(self, result: StatementLineage, columns: list[ColumnLineage]) -> None:
        if result.kind != "ddl":  # CREATE TEMP TABLE t (..) / LIKE m: a structure, no values
            self.inputs = list(dict.fromkeys(self.inputs + list(result.inputs)))
            self.indirect |= set(result.indirect)
        for col in self._by_position(columns):
            name = col.target.column
            old = self.columns.get(name)
            if old is not None:
                col = replace(col, sources=tuple(sorted(set(old.sources) | set(col.sources))),
                              transform=_strongest(old.transform, col.transform),
                              indirect=tuple(sorted(set(old.indirect) | set(col.indirect))),
                              masked=tuple(sorted(merged_masks(old, col))))
            self.columns[name] = col

    def _by_position(self, columns: list[ColumnLineage]) -> list[ColumnLineage]:
        """A write that names columns the temp table does not have (an INSERT without a column list,
        named after its select list) fills the table's columns in order."""
        known = [n for n in self.columns if n != "*"]
        names = [c.target.column for c in columns]
        if not known or set(names) <= set(known) or len(names) != len(known) or "*" in names:
            return columns
        return [replace(c, target=ColumnRef(c.target.dataset, n)) for c, n in zip(columns, known)]

    def column(self, name: str) -> tuple[set[ColumnRef], str, set[IndirectRef], set[ColumnRef]] | None:
        """Sources of one of its columns (through a ``SELECT *`` by name), its own indirect inputs,
        and the sources it reads only through a masking function."""
        col = self.columns.get(name)
        if col is not None:
            return set(col.sources), col.transform, set(col.indirect), set(col.masked)
        star = self.columns.get("*")
        if star is not None:
            named = lambda s: ColumnRef(s.dataset, name if s.column == "*" else s.column)  # noqa: E731
            return {named(s) for s in star.sources}, star.transform, set(star.indirect), {named(s) for s in star.masked}
        return None

    def as_statement(self, name: str) -> StatementLineage:
        """The temp table as one statement that writes it (how a session keeps it between runs)."""
        return StatementLineage(index=0, kind="temp", inputs=tuple(self.inputs), outputs=(DatasetRef(name, "temp_table"),),
                                columns=tuple(self.columns.values()), indirect=tuple(sorted(self.indirect)))

    @classmethod
    def from_statement(cls, result: StatementLineage) -> _Temp:
        return cls(list(result.inputs), {c.target.column: c for c in result.columns}, set(result.indirect))


_ORDER = ("IDENTITY", "TRANSFORMATION", "AGGREGATION")


def _strongest(a: str, b: str) -> str:
    return max(a, b, key=_ORDER.index)


TEMP_TYPES = ("temp_table", "temp_view")
_CREATES = ("create_table_as", "create_view", "select_into")  # a DROP forgets a temp table made by DDL


class TempState:
    """Temp tables seen so far in one script or one session, and what they hold."""

    def __init__(self, temps: dict[str, _Temp] | None = None) -> None:
        self.temps: dict[str, _Temp] = temps or {}

    def fold(self, result: StatementLineage) -> StatementLineage | None:
        """``result`` reading temp tables' sources instead; None when it only writes temp tables.
        What decided a temp table's rows (its writes' JOIN / FILTER / ... inputs) decides the
        rows of whatever is made from it, so the folded statement inherits it: folding never
        loses an edge the unfolded graph had."""
        temps = self.temps
        if result.kind == "drop":
            self.forget([o.name for o in result.objects])
            return result
        if temps:
            read = [temps[d.name] for d in result.inputs if d.name in temps]
            inherited = {i for temp in read for i in temp.indirect}
            result = replace(
                result,
                inputs=_expand_inputs(result.inputs, temps),
                columns=tuple(_expand_column(c, temps) for c in result.columns),
                indirect=tuple(sorted(set(_expand_indirect(result.indirect, temps)) | inherited)),
            )
        # a temp table made earlier is one whatever a later statement's parse says of it
        written = [o for o in result.outputs if o.type in TEMP_TYPES or o.name in temps]
        for temp in written:
            own = [c for c in result.columns if c.target.dataset == temp.name]
            if result.kind in _CREATES:  # made anew: what an earlier table of that name held is gone
                temps.pop(temp.name, None)
            temps.setdefault(temp.name, _Temp()).add(result, own)
        if written and len(written) == len(result.outputs):
            return None
        return result

    def forget(self, names: list[str]) -> None:
        for name in names:
            self.temps.pop(name, None)

    def as_statements(self) -> list[StatementLineage]:
        return [temp.as_statement(name) for name, temp in self.temps.items()]

    @classmethod
    def from_statements(cls, results: list[StatementLineage]) -> TempState:
        return cls({r.outputs[0].name: _Temp.from_statement(r) for r in results if r.outputs})


def collapse_temp_tables(results: list[StatementLineage]) -> list[StatementLineage]:
    """Fold temp tables away, so that ``a -> tmp -> b`` reads ``a -> b``.

    Statements whose only outputs are temp tables disappear; later statements
    that read a temp table read what it was made from instead, column for column
    (several writes to one temp table add up), and filters on its columns become
    filters on the columns they came from.
    """
    state = TempState()
    collapsed: list[StatementLineage] = []
    for result in results:
        folded = state.fold(result)
        if folded is not None:
            collapsed.append(replace(folded, index=len(collapsed)))
    return collapsed


def _expand_inputs(inputs: tuple[DatasetRef, ...], temps: dict[str, _Temp]) -> tuple[DatasetRef, ...]:
    out: list[DatasetRef] = []
    for ref in inputs:
        out += temps[ref.name].inputs if ref.name in temps else [ref]
    return tuple(dict.fromkeys(out))


def _expand_column(column: ColumnLineage, temps: dict[str, _Temp]) -> ColumnLineage:
    sources: set[ColumnRef] = set()
    hidden: set[ColumnRef] = set()  # reached through a masking function here or in the temp table
    clear: set[ColumnRef] = set()
    indirect = set(_expand_indirect(column.indirect, temps))
    transform = column.transform
    for source in column.sources:
        found = temps[source.dataset].column(source.column) if source.dataset in temps else None
        if found is None:
            if source.dataset not in temps:
                sources.add(source)
                (hidden if source in column.masked else clear).add(source)
            continue
        sources |= found[0]
        for ref in found[0]:
            (hidden if source in column.masked or ref in found[3] else clear).add(ref)
        indirect |= found[2]  # a windowed or CASE-decided temp column stays so downstream
        transform = _strongest(transform, found[1]) if found[0] else transform
    return replace(column, sources=tuple(sorted(sources)), transform=transform, indirect=tuple(sorted(indirect)),
                   masked=tuple(sorted(hidden - clear)))


def _expand_indirect(refs: tuple[IndirectRef, ...], temps: dict[str, _Temp]) -> tuple[IndirectRef, ...]:
    """A JOIN / FILTER / ... on a temp table's column is one on what that column came from:
    its sources, and the columns that decided its value (window, condition)."""
    out: set[IndirectRef] = set()
    for ref in refs:
        if ref.source.dataset not in temps:
            out.add(ref)
            continue
        found = temps[ref.source.dataset].column(ref.source.column)
        if found:
            out |= {IndirectRef(s, ref.type) for s in found[0]}
            out |= {IndirectRef(i.source, ref.type) for i in found[2]}
    return tuple(sorted(out))
