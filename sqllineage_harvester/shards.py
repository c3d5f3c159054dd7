"""Date-sharded tables as one dataset: ``events_20260101``, ``events_20260102``, ... and the
wildcard ``events_*`` (or ``events_2026*``) that reads them are the family ``events_*``.

A dialect file names the suffix forms its shards take (``date_shards = ["YYYYMMDD"]``, on for
BigQuery, empty elsewhere); a form is made of ``YYYY``, ``MM``, ``DD``, ``HH`` and literal
characters (``YYYY_MM_DD``). A table name is a shard when it ends in a form that is a real date
(``20261399`` is none) after a prefix that does not end in a digit (``t_120260101`` is no shard
of ``t_1``): names that merely end in digits stay themselves. The family keeps the prefix and
every other part of the name (project, dataset), so shards of other datasets are other families.

>>> rule = ShardRule(("YYYYMMDD",))
>>> rule.family("p.d.events_20260101"), rule.family("p.d.events_2026*"), rule.family("p.d.orders_12345678")
(('p.d.events_*', '20260101'), ('p.d.events_*', None), None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from hashlib import blake2b

from .errors import ConfigError
from .model import ColumnLineage, ColumnRef, DatasetRef, Fingerprinted, IndirectRef, StatementLineage, merged_masks

TOKENS = {"YYYY": ("%Y", 4), "MM": ("%m", 2), "DD": ("%d", 2), "HH": ("%H", 2)}
NAMED = ("table", "view")  # dataset types whose names are table names (not files, stages, temps)
YEARS = (1900, 2199)
# Dates whose tails complete a partial one: every month and day digit that can follow another.
FILLERS = tuple(datetime(y, m, d) for y in (1900, 2000) for m, d in ((1, 1), (1, 10), (10, 10), (12, 31), (1, 20)))


@dataclass(frozen=True)
class _Form:
    template: str  # "d" where a digit goes, other characters as they are
    strptime: str

    def is_date(self, suffix: str) -> bool:
        """A real date of this form, in years 1900 to 2199 (``20261399``, ``00010101`` are none)."""
        if len(suffix) != len(self.template) or not self._digits_fit(suffix):
            return False
        try:
            return YEARS[0] <= datetime.strptime(suffix, self.strptime).year <= YEARS[1]
        except ValueError:
            return False

    def begins(self, text: str) -> bool:
        """Whether ``text`` begins a date of this form (a wildcard's partial date, ``2026`` of
        ``events_2026*``): at least the century, and some date goes on from it."""
        if len(text) < 2 or len(text) > len(self.template) or not self._digits_fit(text):
            return False
        return any(self.is_date(text + datetime.strftime(f, self.strptime)[len(text):]) for f in FILLERS)

    def _digits_fit(self, text: str) -> bool:
        return all(c.isdigit() if t == "d" else c == t for c, t in zip(text, self.template))


def _form(spec: str) -> _Form:
    template, pattern, rest = "", "", spec
    while rest:
        token = next((t for t in TOKENS if rest.startswith(t)), None)
        if token is None:
            if rest[0].isalnum() or rest[0] in "%*":
                raise ConfigError(f"date_shards: {spec!r}: {rest[0]!r} is neither YYYY, MM, DD, HH nor a separator")
            template, pattern, rest = template + rest[0], pattern + rest[0], rest[1:]
            continue
        fmt, width = TOKENS[token]
        template, pattern, rest = template + "d" * width, pattern + fmt, rest[len(token):]
    if "%Y" not in pattern:
        raise ConfigError(f"date_shards: {spec!r} has no YYYY")
    return _Form(template, pattern)


class ShardRule:
    """Which table names are shards, and of which family."""

    def __init__(self, forms: tuple[str, ...]) -> None:
        self.forms = tuple(sorted((_form(f) for f in forms), key=lambda f: -len(f.template)))

    def __bool__(self) -> bool:
        return bool(self.forms)

    def family(self, name: str) -> tuple[str, str | None] | None:
        """(family name, shard suffix) of a shard, (family name, None) of a wildcard over one,
        None for any other name."""
        return self._family(name)

    @lru_cache(maxsize=65536)
    def _family(self, name: str) -> tuple[str, str | None] | None:
        head, dot, table = name.rpartition(".")
        if table.endswith("*"):
            prefix = self._wildcard_prefix(table[:-1])
            return (f"{head}{dot}{prefix}*", None) if prefix is not None else None
        for form in self.forms:
            cut = len(table) - len(form.template)
            if cut > 0 and not table[cut - 1].isdigit() and form.is_date(table[cut:]):
                return f"{head}{dot}{table[:cut]}*", table[cut:]
        return None

    def _wildcard_prefix(self, stem: str) -> str | None:
        """``events_2026`` -> ``events_``: a wildcard's stem without the partial date it ends in."""
        if not stem:
            return None
        if not stem[-1].isdigit():
            return stem
        for cut in range(len(stem) - 1, 0, -1):
            partial = stem[cut:]
            if not stem[cut - 1].isdigit() and any(f.begins(partial) for f in self.forms):
                return stem[:cut]
        return None

    # -- lineage -------------------------------------------------------------------------------
    def fold(self, result: StatementLineage) -> StatementLineage:
        """The statement with each shard and wildcard named by its family."""
        refs = (*result.inputs, *result.outputs, *result.objects)
        names = {d.name: f[0] for d in refs if d.type in NAMED and (f := self.family(d.name)) is not None}
        if not names:
            return result

        def ds(items: tuple[DatasetRef, ...]) -> tuple[DatasetRef, ...]:
            return tuple(dict.fromkeys(DatasetRef(names.get(d.name, d.name), d.type) for d in items))

        def col(c: ColumnRef) -> ColumnRef:
            return ColumnRef(names[c.dataset], c.column) if c.dataset in names else c

        def ind(items: tuple[IndirectRef, ...]) -> tuple[IndirectRef, ...]:
            return tuple(dict.fromkeys(IndirectRef(col(i.source), i.type) for i in items))

        columns: dict[object, ColumnLineage] = {}
        for n, c in enumerate(result.columns):
            made = ColumnLineage(col(c.target), tuple(dict.fromkeys(map(col, c.sources))), c.transform, ind(c.indirect),
                                 tuple(dict.fromkeys(map(col, c.masked))))
            slot = (made.target, made.transform) if made.target.dataset else n
            same = columns.get(slot)
            if same is not None:  # two shards written alike: one column of the family
                made = replace(same, sources=tuple(dict.fromkeys(same.sources + made.sources)),
                               indirect=tuple(dict.fromkeys(same.indirect + made.indirect)),
                               masked=merged_masks(same, made))
            columns[slot] = made
        return replace(result, inputs=ds(result.inputs), outputs=ds(result.outputs), objects=ds(result.objects),
                       columns=tuple(columns.values()), indirect=ind(result.indirect))

    def shards(self, results: list[StatementLineage]) -> set[tuple[str, str]]:
        """The (family, suffix) of every shard the statements name."""
        out = set()
        for r in results:
            for d in (*r.inputs, *r.outputs, *r.objects):
                found = self.family(d.name) if d.type in NAMED else None
                if found is not None and found[1] is not None:
                    out.add((found[0], found[1]))
        return out


def family_text(text: str, shards: set[tuple[str, str]]) -> str:
    """A statement's text with each shard it names written as its family (``events_20260101``:
    ``events_*``).

    >>> family_text("INSERT INTO `p.d.ev_20260101` SELECT 1", {("p.d.ev_*", "20260101")})
    'INSERT INTO `p.d.ev_*` SELECT 1'
    """
    for family, suffix in sorted(shards):
        table = family.rpartition(".")[2][:-1]  # the prefix, without its *
        text = re.sub(rf"(?<![\w$]){re.escape(table + suffix)}(?![\w$])", table + "*", text)
    return text


def family_key(item: Fingerprinted, defaults: tuple[str | None, str | None], dialect: str | None,
               shards: set[tuple[str, str]], lineage: list[StatementLineage]) -> tuple[str, str]:
    """What names the operations of a statement that reads or writes shards, and their text: its
    text with each shard named by its family, and its lineage once folded. Each day's ``INSERT
    INTO events_<day>`` is then one operation (its runs added up), not one a day; statements alike
    but for their shards and with other lineage stay apart."""
    from .graph import encode

    text = family_text(item.redacted_sql, shards)
    material = f"{dialect or ''}\x1f{defaults[0] or ''}\x1f{defaults[1] or ''}\x1f{text}\x1f{encode(lineage)}"
    return "shards:" + blake2b(material.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest(), text


NO_RULE = ShardRule(())
# Suffix forms a shard not seen yet is recognised by (queries.shard_family), whatever the rule was.
COMMON_FORMS = ShardRule(("YYYYMMDD", "YYYYMMDDHH", "YYYYMM", "YYYY_MM_DD", "YYYY-MM-DD", "YYYY_MM", "YYYY-MM"))


def is_date_suffix(suffix: str) -> bool:
    """Whether ``suffix`` is a real date in a common shard suffix form (``20260101``, ``2026_01_01``)."""
    return any(f.is_date(suffix) for f in COMMON_FORMS.forms)


def rule_for(dialect: str | None, forms: tuple[str, ...] | None = None) -> ShardRule:
    """``forms`` if given (``()``: off), else the dialect files' named by ``dialect``."""
    if forms is None:
        forms = _dialect_forms(dialect.lower()) if dialect else ()
    return _rule(tuple(forms))


@lru_cache(maxsize=32)
def _rule(forms: tuple[str, ...]) -> ShardRule:
    return ShardRule(forms) if forms else NO_RULE


@lru_cache(maxsize=None)
def _dialect_forms(name: str) -> tuple[str, ...]:
    from .dialects import get_dialect, list_dialects

    specs = [get_dialect(n) for n in list_dialects()]
    return tuple(dict.fromkeys(f for s in specs if name in (s.name, s.sqlglot) for f in s.date_shards))
