"""What the log teaches about its tables, as the harvest goes: the catalog (tables created,
copied with LIKE, renamed, swapped or dropped change it from the next statement on), the names
made as temp tables, and whether a lineage parsed earlier still holds for today's catalog.

A lineage is parsed with the catalog entries of the tables it names; it records a digest of
each (``depends``). When one of them has changed since, the lineage is stale and is parsed
again (``holds``), so a CREATE TABLE and an INSERT into it in one batch give the same columns
as in two runs, and the statement cache never keeps an answer the catalog has outgrown.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import replace
from hashlib import blake2b
from typing import Mapping

from .extract import Catalog
from .extract.catalog import UNKNOWN, defined_columns, display_name, name_parts, typed
from .extract.script import TEMP_TYPES
from .model import WRITE_KINDS, ColumnLineage, ColumnRef, DatasetRef, Fingerprinted, IndirectRef, StatementLineage
from .model_functions import ModelFunctions
from .stages import Stages

MAX_TEMP_NAMES = 10_000
MAX_WRITTEN = 100_000  # tables whose written columns are remembered
_TABLES = ("table", "view")
_DEPENDED = (*_TABLES, "model")  # a model's columns (from its training) feed what it predicts
_MADE_FROM_QUERY = ("create_table_as", "create_view", "select_into", "train")  # train: the model's columns
# Kinds whose learning can change the catalog: the rest teach only which columns were written.
TEACHING_KINDS = frozenset({"drop", "rename", "ddl", *_MADE_FROM_QUERY})


def _digest(columns: Mapping[str, str] | None) -> str | None:
    if columns is None:
        return None
    return blake2b(json.dumps(list(columns.items())).encode(), digest_size=8).hexdigest()


class Learning:
    """The catalog of one namespace and the temp table names seen in it, kept in the store
    (under ``catalog:NS`` and ``temps:NS`` in the statement cache) with the batch that changed them."""

    def __init__(self, namespace: str, kept: Mapping[str, str], given: Catalog | None) -> None:
        self.catalog_key, self.temps_key = f"catalog:{namespace}", f"temps:{namespace}"
        self.written_key = f"written:{namespace}"
        self.stages_key = f"stages:{namespace}"  # named stages' URLs (CREATE STAGE .. URL = ..)
        self.stages = Stages(json.loads(kept.get(self.stages_key) or "{}"))
        self.stages_version = 0
        self.models_key = f"models:{namespace}"  # prediction functions' models (CREATE MODEL .. FUNCTION f)
        self.functions = ModelFunctions(json.loads(kept.get(self.models_key) or "{}"))
        self.functions_version = 0
        # A model's settings (hyperparameters) are kept with its training operation, in the store's
        # model tables (stores/ml_rows.py); version 3 stores kept them here, under hyperparameters:NS.
        self.shards_key = f"shards:{namespace}"
        # The shards seen of each date-sharded family (shards.py): family -> suffixes, sorted.
        self.shards: dict[str, list[str]] = json.loads(kept.get(self.shards_key) or "{}")
        # Columns the log was seen writing, per table: not a catalog (a write may name some
        # columns only), but enough to carry a rename of a table the catalog does not know.
        self.written: dict[str, list[str]] = json.loads(kept.get(self.written_key) or "{}")
        stored = kept.get(self.catalog_key)
        # What earlier runs learned, with the catalog given (a file, a live source's) over it: a
        # view the log made in an earlier run is known whether or not a catalog is given.
        self.catalog = Catalog.load(json.loads(stored)) if stored else Catalog()
        if given is not None:
            self.catalog.update(given)
        self.temp_names: list[str] = json.loads(kept.get(self.temps_key) or "[]")
        self._temp_set = set(self.temp_names)
        self.generation = 0  # moves on with every change of the catalog
        self.version = 0  # moves on with every change of anything learned
        self.temps_version = 0  # moves on with every temp name learned
        self.removals = 0  # moves on whenever a table's written columns are forgotten (renamed away, evicted)
        self._learned: dict[str, int] = {}  # statement key -> the version its learning left
        self._changed = {self.catalog_key} if given is not None else set()
        self._defined: dict[str, dict[str, str] | None] = {}  # statement key -> what its CREATE TABLE defines

    # -- is a parsed lineage still right? ---------------------------------------------------
    def depends(self, results: Iterable[StatementLineage], schemas: str | None = None,
                catalog: Catalog | None = None) -> dict[str, str | None]:
        """Each table the lineage names, with the digest of its catalog entry now (or in ``catalog``,
        the one it was parsed with; None: unknown); with a search path (``schemas`` "stg,raw"),
        each place on it a bare name could have gone."""
        names = {d.name for r in results for d in (*r.inputs, *r.outputs, *r.objects) if d.type in _DEPENDED}
        path = (schemas or "").split(",")
        if len(path) > 1:
            for name in list(names):
                database, schema, table = name_parts(name)
                if schema in path:
                    names |= {display_name((database, s, table)) for s in path}
        return {name: self._digest(name, catalog) for name in sorted(names)}

    def holds(self, depends: Mapping[str, str | None] | None) -> bool:
        """Whether a lineage with these dependencies would be parsed the same today."""
        if depends is None:  # a cache entry from before dependencies were recorded
            return False
        return all(self._digest(n) == d for n, d in depends.items())

    def _digest(self, name: str, catalog: Catalog | None = None) -> str | None:
        return _digest((self.catalog if catalog is None else catalog).columns(name_parts(name)))

    @property
    def lineage_state(self) -> tuple[int, int]:
        """What a statement's stored lineage depends on of what is learned: the catalog and the
        temp names (the columns seen written only carry renames)."""
        return self.generation, self.temps_version + self.stages_version + self.functions_version  # each only grows

    def learned(self, key: str) -> bool:
        """Whether learning from the statement again would change nothing."""
        return self._learned.get(key) == self.version

    # -- learning -----------------------------------------------------------------------------
    def learn(self, item: Fingerprinted, key: str, results: list[StatementLineage], dialect: str | None) -> None:
        """What the statement teaches; nothing when nothing changed since it last taught it."""
        if self._learned.get(key) == self.version:
            return
        for r in results:
            if r.error:
                continue
            self._temps(r)
            self._written(r)
            self._model_function(r)
            if r.kind == "drop":
                for ref in r.objects:
                    self._set(ref.name, None)
            elif r.kind == "rename":
                self._rename(r)
            elif r.kind in _MADE_FROM_QUERY:
                for ref in r.outputs:
                    names = [c.target.column for c in r.columns if c.target.dataset == ref.name]
                    if (ref.type in _TABLES or r.kind == "train") and names and "*" not in names:
                        self._set(ref.name, dict.fromkeys(names, UNKNOWN))
            elif r.kind == "ddl":
                if self.stages.learn(item.entry.sql, item.entry.dialect or dialect, [o.name for o in r.objects]):
                    self.stages_version += 1
                    self._touch(self.stages_key)
                self._ddl(item, key, r, results, dialect)
        if len(self._learned) > 200_000:
            self._learned.clear()
        self._learned[key] = self.version

    def _model_function(self, r: StatementLineage) -> None:
        function = dict(r.settings).get("function") if r.kind == "train" else None
        model = next((o.name for o in r.outputs if o.type == "model"), None)
        model = model or next((o.name for o in r.objects if o.type == "model"), None)
        if function and model and self.functions.learn(model, function):
            self.functions_version += 1
            self._touch(self.models_key)

    def _ddl(self, item: Fingerprinted, key: str, r: StatementLineage, results: list[StatementLineage],
             dialect: str | None) -> None:
        made = [o for o in r.outputs if o.type in _TABLES and o in r.objects]
        if len(made) != 1:
            return
        if r.inputs:  # CREATE TABLE new (LIKE cur), CREATE TABLE new LIKE cur, CREATE .. CLONE cur
            columns = self.catalog.columns(name_parts(r.inputs[0].name))
        elif len(results) == 1:
            if key not in self._defined:  # parsed once per distinct statement
                self._defined[key] = defined_columns(item.entry.sql, item.entry.dialect or dialect)
            columns = self._defined[key]
        else:
            return
        if columns:
            self._set(made[0].name, dict(columns))

    def _rename(self, r: StatementLineage) -> None:
        """``ALTER TABLE a RENAME TO b`` moves a's columns to b; a swap exchanges them."""
        moved = {i.name: self.catalog.columns(name_parts(i.name)) for i in r.inputs}
        pairs = list(zip(r.inputs, r.outputs))
        written = {old.name: self.written.pop(old.name, None) for old, _ in pairs}
        self.removals += any(w is not None for w in written.values())
        for old, new in pairs:
            if written[old.name] is not None:
                self.written[new.name] = written[old.name]  # type: ignore[assignment]
        if any(w is not None for w in written.values()):
            self._touch(self.written_key)
        for old, _ in pairs:
            if old.name not in {new.name for _, new in pairs}:
                self._set(old.name, None)
        for old, new in pairs:
            columns = moved[old.name]
            self._set(new.name, dict(columns) if columns is not None else None)

    def _set(self, name: str, columns: dict[str, str] | None) -> None:
        parts = name_parts(name)
        if columns is None:
            changed = self.catalog.drop(parts)
        elif self.catalog.columns(parts) != typed(columns):
            self.catalog.add(parts, columns)
            changed = True
        else:
            changed = False
        if changed:
            self.generation += 1
            self._touch(self.catalog_key)

    def _temps(self, r: StatementLineage) -> None:
        for ref in r.outputs:
            if ref.type in TEMP_TYPES and ref.name not in self._temp_set:
                self._temp_set.add(ref.name)
                self.temp_names.append(ref.name)
                self.temps_version += 1
                if len(self.temp_names) > MAX_TEMP_NAMES:
                    self._temp_set.discard(self.temp_names.pop(0))
                self._touch(self.temps_key)

    def _written(self, r: StatementLineage) -> None:
        if r.kind not in WRITE_KINDS or r.kind == "rename":
            return
        for c in r.columns:
            if not c.target.dataset or c.target.column == "*":
                continue
            known = self.written.get(c.target.dataset)
            if known is None:
                if len(self.written) >= MAX_WRITTEN:
                    self.written.pop(next(iter(self.written)))
                    self.removals += 1
                known = self.written[c.target.dataset] = []
            if c.target.column not in known:
                known.append(c.target.column)
                self._touch(self.written_key)

    def carry(self, r: StatementLineage, text: str = "", alone: bool = True) -> StatementLineage:
        """A stage the log defined is read as its URL (``@landing/x`` -> ``s3://bucket/x``); a call of
        a model's prediction function in ``text`` (the entry's redacted text) reads the model, when the
        statement is ``alone`` in it (else a warning: which statement calls it is not known); a rename
        of a table the catalog does not know (``new.* <- old.*``) carries each column the log was
        seen writing into the old table."""
        r = self._through_stages(r)
        r = self._through_functions(r, text, alone)
        if r.kind != "rename" or r.error or not any(c.target.column == "*" for c in r.columns):
            return r
        columns = []
        for c in r.columns:
            names = self.written.get(c.sources[0].dataset) if c.target.column == "*" and len(c.sources) == 1 else None
            if not names:
                columns.append(c)
                continue
            columns += [ColumnLineage(ColumnRef(c.target.dataset, n), (ColumnRef(c.sources[0].dataset, n),), c.transform)
                        for n in names]
        return replace(r, columns=tuple(columns))

    def _through_functions(self, r: StatementLineage, text: str, alone: bool) -> StatementLineage:
        if r.error or r.kind == "train" or not text:
            return r
        models = [DatasetRef(m, "model") for m in self.functions.called(text)]
        models = [m for m in models if m not in r.inputs]
        if not models:
            return r
        if not alone:
            note = "a model's prediction function is called in this script; which statement reads the model is not known"
            return replace(r, warnings=tuple(dict.fromkeys((*r.warnings, note))))
        return self._predicted(replace(r, inputs=(*r.inputs, *models)), text, {m.name for m in models})

    def _predicted(self, r: StatementLineage, text: str, models: set[str]) -> StatementLineage:
        """The written column a call ``f(a, b)`` makes (the one column made from a and b, at least)
        comes from the model's columns too; where it cannot be told, a warning says so."""
        columns, warnings = list(r.columns), list(r.warnings)
        for model, calls in self.functions.arguments(text).items():
            known = self.catalog.columns(name_parts(model)) if model in models else None
            for names in calls if known else ():
                made = [i for i, c in enumerate(columns) if c.transform != "IDENTITY" and c.target.dataset
                        and names and names <= {s.column.lower() for s in c.sources}]
                if len(made) != 1:
                    warnings.append(f"which written column {model}'s prediction makes is not known: "
                                    "the model is an input of the statement")
                    continue
                c = columns[made[0]]
                sources = {*c.sources, *(ColumnRef(model, n) for n in known)}
                columns[made[0]] = replace(c, sources=tuple(sorted(sources)))
        return replace(r, columns=tuple(columns), warnings=tuple(dict.fromkeys(warnings)))

    def _through_stages(self, r: StatementLineage) -> StatementLineage:
        if not self.stages.urls or r.error:
            return r
        urls = {d.name: url for d in (*r.inputs, *r.outputs) if d.type == "stage" and (url := self.stages.resolve(d.name))}
        if not urls:
            return r

        def ds(d: DatasetRef) -> DatasetRef:
            return DatasetRef(urls[d.name], "file") if d.name in urls else d

        def col(c: ColumnRef) -> ColumnRef:
            return ColumnRef(urls.get(c.dataset, c.dataset), c.column)

        return replace(r, inputs=tuple(ds(d) for d in r.inputs), outputs=tuple(ds(d) for d in r.outputs),
                       columns=tuple(replace(c, target=col(c.target), sources=tuple(col(s) for s in c.sources),
                                             indirect=tuple(IndirectRef(col(i.source), i.type) for i in c.indirect),
                                             masked=tuple(col(m) for m in c.masked))
                                     for c in r.columns),
                       indirect=tuple(IndirectRef(col(i.source), i.type) for i in r.indirect))

    def saw_shards(self, seen: Iterable[tuple[str, str]]) -> None:
        """Keep the shards a statement named on their family (first, last and how many follow)."""
        for family, suffix in seen:
            known = self.shards.setdefault(family, [])
            at = bisect_left(known, suffix)
            if at == len(known) or known[at] != suffix:
                known.insert(at, suffix)
                self._changed.add(self.shards_key)  # not a change of the catalog: repeats stay as they are

    def is_temp(self, name: str) -> bool:
        """A name the log made as a temp table and never as a table the catalog knows."""
        return name in self._temp_set and self.catalog.columns(name_parts(name)) is None

    def _touch(self, key: str) -> None:
        self.version += 1
        self._changed.add(key)

    def changes(self) -> dict[str, str]:
        """The entries to keep with this batch (statement-cache rows); then starts afresh."""
        out = {}
        if self.catalog_key in self._changed:
            out[self.catalog_key] = json.dumps(self.catalog.dump(), separators=(",", ":"))
        if self.temps_key in self._changed:
            out[self.temps_key] = json.dumps(self.temp_names, separators=(",", ":"))
        if self.stages_key in self._changed:
            out[self.stages_key] = self.stages.dump()
        if self.models_key in self._changed:
            out[self.models_key] = self.functions.dump()
        if self.shards_key in self._changed:
            out[self.shards_key] = json.dumps(self.shards, separators=(",", ":"), sort_keys=True)
        if self.written_key in self._changed:
            out[self.written_key] = json.dumps(self.written, separators=(",", ":"), sort_keys=True)
        self._changed.clear()
        return out
