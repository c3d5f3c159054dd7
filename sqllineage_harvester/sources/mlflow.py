"""MLflow tracking as a source: each finished run that logged a model is a training operation, and
each that evaluated a model logged before (MLflow 3) an evaluation of that model.

Read through MLflow's own client (``pip install 'sqllineage-harvester[mlflow]'``), from

* a tracking server: ``mlflow://host:5000`` (plain HTTP), ``mlflow+http://…``, ``mlflow+https://…``
  (a password in the URL is sent as HTTP basic auth; a token is read from ``MLFLOW_TRACKING_TOKEN``);
* a tracking database: ``mlflow+sqlite:///path/mlflow.db``, ``mlflow+postgresql://user@host/db``,
  ``mlflow+mysql://…`` (the ``mlflow+`` prefix tells it from a live PostgreSQL or MySQL source).
  A database that holds no MLflow tables is refused, never created or upgraded.

One entry per (run, model) the run produced, carrying its lineage (nothing is parsed):

* the model: its registered name and version where a model version was registered from the run,
  else ``EXPERIMENT/NAME``: the logged model's name (MLflow 3) or artifact path (MLflow 2's
  ``mlflow.log-model.history`` tag) within its experiment, so every retraining in an experiment
  is a run of one model;
* the inputs: the run's dataset inputs, the split each served in from its ``mlflow.data.context``
  tag (training -> train, eval -> evaluation, validation, test ...), their source resolved to the
  names a query-log harvest gives (``dataset_place``);
* hyperparameters from the params (none whose name says credential), the latest metrics, the
  run's user and times, the model's architecture (the logged model's type, autologging's
  ``estimator_class``, else the flavor) and status.

One entry per (run, model) the run evaluated: a model among its model inputs (MLflow 3:
``log_metric(model_id=...)``, ``log_input(model=...)``, ``mlflow.evaluate``) that it did not log
itself, named as its training run names it (registered name and version, else ``EXPERIMENT/NAME``)
so the two meet; an ``evaluate`` operation that writes nothing, reading the model and the run's
datasets (split from the context, ``evaluation`` where none is said), with the metrics logged
for the model in the run (else, in a run that trained nothing, the run's).

The cursor is the entry's time (the run's end; a version's registration where later) with the
run id and model: a run is harvested once, when it has finished (running runs wait for the next
pass; failed and killed ones are counted and left out), and a version registered after its run
was harvested is picked up as an entry of its own.

A table a dataset names (Spark / Delta ``table_name``, or a bare ``DB.SCHEMA.TABLE`` source) says
no warehouse: ``?warehouse=NAMESPACE[/DATABASE[.SCHEMA]]`` on the URL places such names, e.g.
``?warehouse=snowflake://acme/ANALYTICS.RAW`` (a name with fewer parts takes the leading ones
from there). Without it they stay in the source's own namespace, and a note says so.

>>> tracking_uri("mlflow://ml.example:5000?warehouse=snowflake://acme")
('http://ml.example:5000', 'mlflow://ml.example:5000', 'snowflake://acme')
>>> split_of("training"), split_of("eval"), split_of(None)
('train', 'evaluation', None)
"""

from __future__ import annotations

import json
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import ConfigError, HarvesterError, hide_secrets, secret_name
from ..extract.ml import SECRET_SETTING
from ..graph import encode
from ..model import EVALUATION_SPLIT, TRAIN_SPLIT, DatasetRef, LogEntry, ModelFacts, StatementLineage
from ..naming import OBJECT_STORES, event_place, place, qualified
from . import SourceStats

EXTRA = "pip install 'sqllineage-harvester[mlflow]'"
SERVER_SCHEMES = {"mlflow": "http", "mlflow+http": "http", "mlflow+https": "https"}
DATABASES = ("sqlite", "postgresql", "postgres", "mysql", "mssql")
OUR_PARAMS = ("warehouse",)  # query parameters of the source URL that are the harvester's, not MLflow's
SPLITS = {"training": TRAIN_SPLIT, "train": TRAIN_SPLIT, "evaluation": EVALUATION_SPLIT, "eval": EVALUATION_SPLIT,
          "validation": "validation", "valid": "validation", "val": "validation", "test": "test", "testing": "test"}
FINISHED, FAILED = "FINISHED", ("FAILED", "KILLED")
HISTORY_TAG = "mlflow.log-model.history"  # MLflow 2: one JSON object per model the run logged
# A bare dotted name is a table (DB.SCHEMA.TABLE), unless its last part is a file's suffix.
_TABLE = re.compile(r"^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*){0,3}$")
_FILE_SUFFIXES = {"csv", "tsv", "json", "jsonl", "ndjson", "parquet", "orc", "avro", "txt", "xlsx", "xls", "feather",
                  "pkl", "pickle", "npy", "npz", "h5", "hdf5", "arrow", "gz", "zip", "delta", "tfrecord", "xml"}
PAGE = 1000
TWO_LEVELS = {"mysql": 2, "mariadb": 2, "hive": 2, "impala": 2}  # database.table; the others database.schema.table


class SourceError(HarvesterError):
    """The tracking server or database cannot be reached or read (exit code 1)."""


def tracking_uri(url: str) -> tuple[str, str, str | None]:
    """(MLflow's tracking URI, the harvest's namespace, the ``warehouse`` option) of a source URL."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    base, _, query = rest.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    warehouse = next((v for k, v in reversed(params) if k == "warehouse"), None) or None
    kept = urlencode([(k, v) for k, v in params if k not in OUR_PARAMS])
    tail = base + (f"?{kept}" if kept else "")  # a database's own parameters (sslmode, ...) stay
    if scheme in SERVER_SCHEMES:
        parts = urlsplit(f"{SERVER_SCHEMES[scheme]}://{base}")
        try:
            port = parts.port or (5000 if scheme == "mlflow" else None)
        except ValueError as e:
            raise ConfigError(f"not a port in {hide_secrets(url)!r}") from e
        netloc = parts.netloc if parts.port or not port else f"{parts.netloc}:{port}"
        uri = f"{SERVER_SCHEMES[scheme]}://{netloc}{parts.path.rstrip('/')}" + (f"?{kept}" if kept else "")
        return uri, f"mlflow://{parts.hostname or 'localhost'}" + (f":{port}" if port else ""), warehouse
    database = scheme.removeprefix("mlflow+")
    if not scheme.startswith("mlflow+") or database.split("+", 1)[0] not in DATABASES:
        raise ConfigError(f"not an MLflow source: {url!r}; use mlflow://HOST:PORT, mlflow+https://HOST, "
                          "mlflow+sqlite:///PATH or mlflow+postgresql://USER@HOST/DB")
    if database in ("postgresql", "postgres"):
        database = "postgresql" if _has("psycopg2") else "postgresql+psycopg"  # the harvester's own driver
    elif database == "mysql" and not _has("MySQLdb"):
        database = "mysql+pymysql"  # the [mysql] extra's driver
    return f"{database}://{tail}", "mlflow://default", warehouse


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def split_of(context: str | None) -> str | None:
    """The split a dataset served in, from its ``mlflow.data.context`` tag (None: not said)."""
    if not context or not context.strip():
        return None
    word = context.strip().lower()
    return SPLITS.get(word, word)


def kept_params(params: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """A run's params as hyperparameters: none whose name says credential, no password in a value.

    >>> kept_params({"lr": "0.1", "db_password": "x", "api_token": "t", "uri": "postgresql://a:pw@h/d"})
    (('lr', '0.1'), ('uri', 'postgresql://a:***@h/d'))
    """
    return tuple(sorted((str(k), hide_secrets(str(v))) for k, v in params.items()
                        if not SECRET_SETTING.search(str(k)) and not secret_name(str(k))))


def moment(ms: int | None) -> str | None:
    """Milliseconds since the epoch (MLflow's times) as the harvest keeps times: UTC ISO-8601."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- datasets --------------------------------------------------------------------------------------
class Warehouse:
    """Where table names that say no warehouse live: ``NAMESPACE[/DATABASE[.SCHEMA]]``."""

    def __init__(self, text: str | None) -> None:
        self.namespace: str | None = None
        self.prefix: list[str] = []
        if text and text.strip().lower() == "bigquery":  # the spec's namespace: names carry their project
            self.namespace = "bigquery"
        elif text:
            head, sep, rest = text.partition("://")
            if not sep:
                raise ConfigError(f"?warehouse={text!r} is not a namespace such as snowflake://ACCOUNT or "
                                  "postgres://HOST:5432/DATABASE.SCHEMA")
            authority, _, path = rest.partition("/")
            self.namespace = f"{head}://{authority}" if head.lower() != "bigquery" or authority else "bigquery"
            self.prefix = [p for p in path.strip("/").split(".") if p]

    def table(self, name: str) -> DatasetRef | None:
        """A table's dataset, named as the harvest of its warehouse names it; None without a warehouse."""
        if self.namespace is None:
            return None
        parts = name.split(".")
        levels = TWO_LEVELS.get(self.namespace.split("://", 1)[0].lower(), 3)  # database.schema.table
        full = ".".join(self.prefix[:max(levels - len(parts), 0)] + parts)
        return DatasetRef(qualified(*event_place(self.namespace, full)), "table")


def dataset_place(source_type: str, source: str, warehouse: Warehouse) -> tuple[DatasetRef | None, str | None]:
    """(the dataset an MLflow dataset source names, or None; a table name no warehouse placed).

    >>> w = Warehouse("snowflake://acme/SHOP.RAW")
    >>> dataset_place("spark", '{"table_name": "orders"}', w)[0]
    DatasetRef(name='snowflake://acme/SHOP.RAW.ORDERS', type='table')
    >>> dataset_place("delta_table", '{"delta_table_name": "public.orders"}', Warehouse("postgres://db:5432/app"))[0]
    DatasetRef(name='postgres://db:5432/app.public.orders', type='table')
    >>> dataset_place("spark", '{"table_name": "raw.orders"}', Warehouse("bigquery://shop-prod"))[0]
    DatasetRef(name='bigquery:///shop-prod.raw.orders', type='table')
    >>> dataset_place("s3", '{"uri": "s3a://bucket/churn/train.parquet"}', w)[0]
    DatasetRef(name='s3://bucket/churn/train.parquet', type='file')
    >>> dataset_place("local", '{"uri": "ANALYTICS.RAW.ORDERS"}', Warehouse(None))
    (DatasetRef(name='ANALYTICS.RAW.ORDERS', type='table'), 'ANALYTICS.RAW.ORDERS')
    """
    try:
        fields = json.loads(source) if source else {}
    except ValueError:
        fields = {}
    if not isinstance(fields, dict):
        fields = {}
    kind = (source_type or "").lower()
    table = fields.get("table_name") or fields.get("delta_table_name")
    if kind == "huggingface" and fields.get("path"):
        return _located(f"https://huggingface.co/datasets/{str(fields['path']).strip('/')}"), None
    location = fields.get("uri") or fields.get("url") or fields.get("path") or fields.get("dbfs_path")
    if not table and isinstance(location, str) and "://" not in location and _bare_table(location):
        table = location
    if isinstance(table, str) and table.strip():
        if "://" in table:
            return _located(table), None
        placed = warehouse.table(table.strip())
        return (placed, None) if placed else (DatasetRef(table.strip(), "table"), table.strip())
    if isinstance(location, str) and location.strip():
        return _located(location.strip()), None
    return None, None


def _bare_table(text: str) -> bool:
    return bool(_TABLE.match(text)) and "." in text and text.rsplit(".", 1)[1].lower() not in _FILE_SUFFIXES


def _located(location: str) -> DatasetRef:
    """A path or URL as the dataset the query logs and OpenLineage events name it; a relative path
    (or a ``dbfs:/`` one, whose workspace is not said) as written, in the source's own namespace.

    >>> _located("/data/valid.csv"), _located("data/valid.csv")
    (DatasetRef(name='file:///data/valid.csv', type='file'), DatasetRef(name='data/valid.csv', type='file'))
    """
    if "://" not in location:
        if location.startswith("/"):
            return DatasetRef(qualified("file", os.path.normpath(location)), "file")
        return DatasetRef(location, "file")
    ns, name = event_place(*place("file", location))
    scheme = ns.split("://", 1)[0].lower()
    return DatasetRef(qualified(ns, name), "file" if scheme in OBJECT_STORES or scheme == "file" else "table")


# -- the source ------------------------------------------------------------------------------------
class MlflowSource:
    """The runs of an MLflow tracking server or database that logged a model, as log entries."""

    def __init__(self, url: str, dialect: Any = None, columns: Any = None, **options: Any) -> None:
        self.stats = SourceStats()
        self._given = url  # its secrets are hidden wherever MLflow or a driver quotes them
        self.tracking_uri, self.namespace, warehouse = tracking_uri(url)
        # The cursor's name: a server's is its namespace (mlflow:// and mlflow+http:// of one server, with or
        # without a password, share one cursor), a database's its URL; with the warehouse, which names datasets.
        self.url = (self.namespace + urlsplit(self.tracking_uri).path.rstrip("/") if self.tracking_uri.startswith("http")
                    else url.split("?", 1)[0]) + (f"?warehouse={warehouse}" if warehouse else "")
        self.warehouse = Warehouse(warehouse)
        if self.tracking_uri.startswith("sqlite:///"):
            path = Path(self.tracking_uri[len("sqlite:///"):].split("?", 1)[0])
            if str(path) != ":memory:" and not path.is_file():
                raise ConfigError(f"no such MLflow tracking database: {path}")
        self._unplaced: set[str] = set()
        self._registered_at: dict[tuple[str, str], int] = {}

    def read(self, after_cursor: str | None = None) -> Iterator[LogEntry]:
        with _quiet():
            client = self._client()
            entries = sorted(self._entries(client, after_cursor), key=lambda e: e.cursor or "")
        unplaced = sorted(self._unplaced)
        if unplaced:
            self.stats.notes.append(
                f"{len(unplaced)} table{'s' * (len(unplaced) > 1)} named by MLflow datasets say no warehouse "
                f"({', '.join(unplaced[:3])}{', ...' if len(unplaced) > 3 else ''}): kept in {self.namespace}; "
                "add ?warehouse=NAMESPACE to the source URL (e.g. ?warehouse=snowflake://ACCOUNT) to join "
                "that warehouse's graph")
        for entry in entries:
            if after_cursor is not None and (entry.cursor or "") <= after_cursor:
                self.stats.before_cursor += 1
                continue
            self.stats.entries += 1
            yield entry

    # -- reading -----------------------------------------------------------------------------------
    def _client(self) -> Any:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as e:
            raise ConfigError(f"the MLflow source needs MLflow's client: {EXTRA}") from e
        if not self.tracking_uri.startswith("http"):
            self._check_database()
        try:
            return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        except Exception as e:  # MlflowException, driver errors
            raise self._failure(e) from e

    def _check_database(self) -> None:
        """Refuse a database without MLflow's tables (MLflow would create them)."""
        import sqlalchemy

        try:
            engine = sqlalchemy.create_engine(self.tracking_uri)
            try:
                with engine.connect() as conn:
                    names = set(sqlalchemy.inspect(conn).get_table_names())
            finally:
                engine.dispose()
        except ImportError as e:
            raise SourceError(f"{self.url}: the database driver is not installed ({e.name})") from e
        except Exception as e:
            raise self._failure(e) from e
        if not {"runs", "experiments"} <= names:
            raise SourceError(f"{self.url}: not an MLflow tracking database (it has no runs and experiments "
                              "tables); nothing was created in it")

    def _failure(self, e: Exception) -> SourceError:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        return SourceError(hide_secrets(f"{self.url}: {lines[0] if lines else type(e).__name__}", self._given))

    def _entries(self, client: Any, after_cursor: str | None) -> Iterable[LogEntry]:
        self._unplaced.clear()
        since = _cursor_ms(after_cursor)
        try:
            experiments = {e.experiment_id: e.name for e in _pages(client.search_experiments)}
            versions = [v for v in _pages(client.search_model_versions) if getattr(v, "run_id", None)]
            logged = self._logged_models(client, list(experiments))
            filter_string = f"attributes.end_time >= {since}" if since is not None else ""
            runs = {r.info.run_id: r for chunk in _chunks(list(experiments), 100)
                    for r in _pages(client.search_runs, experiment_ids=chunk, filter_string=filter_string)}
            for version in versions:  # a version registered since, from a run harvested before
                if version.run_id not in runs and (since is None or (version.creation_timestamp or 0) >= since):
                    try:
                        runs[version.run_id] = client.get_run(version.run_id)
                    except Exception:  # the run was deleted for good
                        self.stats.skip("version_run_missing", f"{version.name} v{version.version}")
        except HarvesterError:
            raise
        except Exception as e:
            raise self._failure(e) from e
        for version in versions:
            self._registered_at[(version.name, str(version.version))] = version.creation_timestamp or 0
        index = _Index.of(experiments, versions, logged)
        for run in runs.values():
            self.stats.rows_read += 1
            where = f"run {run.info.run_id}"
            if run.info.lifecycle_stage != "active" or run.info.experiment_id not in experiments:
                self.stats.skip("run_deleted", where)
                continue
            if run.info.status in FAILED:
                self.stats.failed += 1
                continue
            if run.info.status != FINISHED:  # running or scheduled: harvested once it has finished
                self.stats.skip("run_unfinished", where)
                continue
            own_versions, own_models = index.by_run.get(run.info.run_id, []), index.made_by.get(run.info.run_id, [])
            made = list(self._models(run, experiments[run.info.experiment_id], own_versions, own_models))
            evaluated = list(self._evaluated(client, run, bool(made), _produced(run, own_versions, own_models), index))
            if not made and not evaluated:
                self.stats.skip("run_without_model", where)
            yield from (self._entry(run, *model) for model in made)
            yield from (self._evaluation(run, model, name, version, trained=bool(made))
                        for model, name, version in evaluated)

    def _logged_models(self, client: Any, experiment_ids: list[str]) -> dict[str, Any]:
        """MLflow 3's logged models by id ({} from an MLflow 2 client or server)."""
        search = getattr(client, "search_logged_models", None)
        found: dict[str, Any] = {}
        if search is None or not experiment_ids:
            return found
        try:
            for chunk in _chunks(experiment_ids, 100):
                found.update((model.model_id, model) for model in _pages(search, experiment_ids=chunk))
        except Exception as e:  # an MLflow 2 server has no logged models
            if "ENDPOINT_NOT_FOUND" in str(e) or "404" in str(e) or "not found" in str(e).lower():
                return {}
            raise
        return found

    def _model_inputs(self, client: Any, run: Any) -> list[str]:
        """The ids of the models a run names as its inputs (``log_input(model=...)``, ``mlflow.evaluate``).
        A search leaves them out of the runs it gives, so the run is read again (one request to a
        server): only a finished run since the last pass that logged no model and no metric for one."""
        try:
            full = client.get_run(run.info.run_id)
        except Exception as e:
            raise self._failure(e) from e
        return [i.model_id for i in getattr(full.inputs, "model_inputs", None) or [] if i.model_id]

    def _evaluated(self, client: Any, run: Any, trained: bool, produced: set[str], index: _Index
                   ) -> Iterator[tuple[Any, str, str | None]]:
        """(logged model, name, version) of each model the run evaluated, under each name its training
        gives it (its registered versions, else ``EXPERIMENT/NAME``): the models it logged metrics
        for, else (a run that trained nothing, where the store holds MLflow 3 models) those it names
        as inputs; never one it produced. A model the store no longer holds is counted and left out."""
        ids = index.measured_in.get(run.info.run_id) or (
            [] if trained or not index.logged else self._model_inputs(client, run))
        for model_id in dict.fromkeys(m for m in ids if m not in produced):
            model = index.logged.get(model_id)
            if model is None or model.experiment_id not in index.experiments:
                self.stats.skip("evaluated_model_missing", f"run {run.info.run_id} model {model_id}")
                continue
            registered = sorted(index.versions_of.get(model_id, []), key=lambda v: (v.name, int(v.version)))
            yield from ((model, v.name, str(v.version)) for v in registered)
            if not registered:
                yield model, f"{index.experiments[model.experiment_id]}/{model.name}", None

    def _models(self, run: Any, experiment: str, versions: list[Any], logged: list[Any]
                ) -> Iterator[tuple[str, str | None, str | None, str | None]]:
        """(model name, version, architecture, status) of each model the run produced: its registered
        versions, then the models it logged that no version names."""
        history = _history(run)
        architecture = run.data.tags.get("estimator_class") or next(
            (f for h in history for f in h.get("flavors", {}) if f != "python_function"), None)
        registered = set()
        for v in sorted(versions, key=lambda v: (v.name, int(v.version))):
            registered |= {getattr(v, "model_id", None), _version_source(v.source or "", run.info.run_id)}
            yield v.name, str(v.version), architecture, str(getattr(v.status, "name", v.status) or "") or None
        for model in sorted(logged, key=lambda m: m.name):
            if model.model_id not in registered:
                yield f"{experiment}/{model.name}", None, model.model_type or architecture, "READY"
                registered.add(model.name)
        for h in history:
            path = h.get("artifact_path")
            if path and path not in registered and h.get("model_id") not in registered:
                yield f"{experiment}/{path}", None, architecture, run.info.status
                registered.add(path)

    def _entry(self, run: Any, model: str, version: str | None, architecture: str | None, status: str | None
               ) -> LogEntry:
        """The training of ``model`` by ``run``; its cursor is the later of the run's end and the
        version's registration, so a version registered since the run was harvested is read anew."""
        inputs, splits = self._datasets(run, None)
        facts = ModelFacts(model=model, version=version, architecture=architecture, status=status,
                           splits=splits, metrics=_metric_texts(run.data.metrics), run=run.info.run_id)
        lineage = StatementLineage(index=0, kind="train", inputs=inputs, outputs=(DatasetRef(model, "model"),),
                                   columns=(), settings=kept_params(run.data.params), ml=facts)
        key = max(run.info.end_time or 0, self._registered_at.get((model, version), 0)) if version else None
        return self._log_entry(run, lineage, key)

    def _evaluation(self, run: Any, logged: Any, model: str, version: str | None, trained: bool) -> LogEntry:
        """The evaluation of ``model`` (the logged model ``logged``) by ``run``: the metrics logged for
        the model in the run and the datasets they name (all the run's where they name none); a
        run that trained nothing and logged none for the model gives its own metrics."""
        own = sorted((m for m in getattr(logged, "metrics", None) or [] if m.run_id == run.info.run_id),
                     key=lambda m: (m.step or 0, m.timestamp or 0))
        named = {(m.dataset_name, m.dataset_digest) for m in own if m.dataset_name}
        inputs, splits = self._datasets(run, named or None, EVALUATION_SPLIT)
        measured = {m.key: m.value for m in own} if own else ({} if trained else run.data.metrics)
        facts = ModelFacts(model=model, version=version, splits=splits, metrics=_metric_texts(measured),
                           run=run.info.run_id)
        lineage = StatementLineage(index=0, kind="evaluate", inputs=(DatasetRef(model, "model"), *inputs),
                                   columns=(), ml=facts)
        return self._log_entry(run, lineage, None)

    def _datasets(self, run: Any, named: set[tuple[str, str]] | None, unsaid: str | None = None
                  ) -> tuple[tuple[DatasetRef, ...], tuple[tuple[str, str], ...]]:
        """The run's dataset inputs (those ``named`` by (name, digest), when given) and the split each
        served in (``unsaid`` where its context says none)."""
        inputs: dict[DatasetRef, None] = {}
        splits: list[tuple[str, str]] = []
        for item in getattr(run.inputs, "dataset_inputs", None) or []:
            d = item.dataset
            if named is not None and (d.name, d.digest) not in named:
                continue
            ref, unplaced = dataset_place(d.source_type, d.source, self.warehouse)
            if ref is None:
                self.stats.skip("dataset_without_location", f"run {run.info.run_id} dataset {d.name}")
                continue
            if unplaced:
                self._unplaced.add(unplaced)
            inputs.setdefault(ref)
            split = split_of(next((t.value for t in item.tags if t.key == "mlflow.data.context"), None)) or unsaid
            if split and (ref.name, split) not in splits:
                splits.append((ref.name, split))
        return tuple(inputs), tuple(splits)

    def _log_entry(self, run: Any, lineage: StatementLineage, key_ms: int | None) -> LogEntry:
        """The run as the log entry of one model's lineage; its cursor the run's end (``key_ms`` where
        given), the run id and the model with its version."""
        assert lineage.ml is not None
        at = moment(run.info.end_time)
        key = moment(key_ms) if key_ms is not None else at
        return LogEntry(sql="", query_id=run.info.run_id, user=run.info.user_id or run.data.tags.get("mlflow.user"),
                        system="mlflow", start_time=moment(run.info.start_time), end_time=at,
                        cursor=f"{key} {run.info.run_id} {lineage.ml.model}#{lineage.ml.version or ''}",
                        lineage=encode([lineage]))


def _metric_texts(metrics: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Metrics as the harvest keeps them: (name, value as text), sorted; a float as Python writes it.

    >>> _metric_texts({"auc": 0.91, "n": 3})
    (('auc', '0.91'), ('n', '3'))
    """
    return tuple(sorted((k, repr(v) if isinstance(v, float) else str(v)) for k, v in metrics.items()))


@dataclass(frozen=True)
class _Index:
    """The store's experiments, versions and MLflow 3 logged models, looked up by run and by model."""

    experiments: dict[str, str]  # id -> name
    logged: dict[str, Any]  # logged model id -> the model
    by_run: dict[str, list[Any]]  # run id -> the versions registered from it
    versions_of: dict[str, list[Any]]  # logged model id -> the versions registered from it
    made_by: dict[str, list[Any]]  # run id -> the (ready) models it logged
    measured_in: dict[str, list[str]]  # run id -> the models it logged metrics for (``model_id=``)

    @classmethod
    def of(cls, experiments: dict[str, str], versions: list[Any], logged: dict[str, Any]) -> _Index:
        """A metric logged with ``model_id=`` is kept with the model, naming its run: the runs that
        evaluated a model are found without reading them one by one."""
        index = cls(experiments, logged, {}, {}, {}, {})
        for version in versions:
            index.by_run.setdefault(version.run_id, []).append(version)
            made_from = _model_of(version)
            if made_from:
                index.versions_of.setdefault(made_from, []).append(version)
        for model in logged.values():
            if model.source_run_id and str(getattr(model.status, "name", model.status)) == "READY":
                index.made_by.setdefault(model.source_run_id, []).append(model)
            for run_id in dict.fromkeys(m.run_id for m in getattr(model, "metrics", None) or [] if m.run_id):
                index.measured_in.setdefault(run_id, []).append(model.model_id)
        return index


def _produced(run: Any, versions: list[Any], logged: list[Any]) -> set[str]:
    """The ids of the logged models the run made: an evaluation of one of them in the same run is
    part of its training, not an evaluation of its own."""
    outputs = getattr(getattr(run, "outputs", None), "model_outputs", None) or []
    made = {o.model_id for o in outputs} | {m.model_id for m in logged} | {_model_of(v) for v in versions}
    made |= {h.get("model_id") for h in _history(run)}
    return {m for m in made if m}


def _model_of(version: Any) -> str | None:
    """The logged model a version was registered from (MLflow 3: its ``model_id``, which a local
    store leaves empty, else the ``models:/ID`` of its source); None for MLflow 2's run artifacts."""
    given = getattr(version, "model_id", None)
    if given:
        return str(given)
    source = version.source or ""
    return _version_source(source, version.run_id or "") if source.startswith("models:/") else None


def _history(run: Any) -> list[dict[str, Any]]:
    try:
        items = json.loads(run.data.tags.get(HISTORY_TAG) or "[]")
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _version_source(source: str, run_id: str) -> str | None:
    """What a version's source names: a logged model's id (``models:/m-…``, MLflow 3) or the artifact
    path of ``runs:/RUN/PATH`` / ``…/RUN/artifacts/PATH`` (MLflow 2).

    >>> _version_source("models:/m-123", "r"), _version_source("s3://b/1/r/artifacts/model", "r")
    ('m-123', 'model')
    """
    if source.startswith("models:/"):
        return source[len("models:/"):].strip("/").split("/", 1)[0] or None
    for mark in (f"runs:/{run_id}/", f"/{run_id}/artifacts/"):
        if mark in source:
            return source.split(mark, 1)[1].strip("/") or None
    return None


def _cursor_ms(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        moment_ = datetime.fromisoformat(cursor.split(" ", 1)[0].replace("Z", "+00:00"))
    except ValueError as e:
        raise ConfigError(f"the stored cursor {cursor[:40]!r} is not an MLflow source's") from e
    return int(moment_.timestamp() * 1000)


def _pages(search: Any, **kwargs: Any) -> Iterator[Any]:
    token = None
    while True:
        page = search(max_results=PAGE, page_token=token, **kwargs)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# MLflow retries a server that does not answer for about four minutes; a harvest gives up after
# about ten seconds, unless the environment says otherwise.
RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
           "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}


@contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's own INFO lines (a database's tables being checked) are not the harvest's output, and
    its retries are the harvest's (``RETRIES``, where the environment sets none) while it reads."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    added = [name for name in RETRIES if name not in os.environ]
    os.environ.update({name: RETRIES[name] for name in added})
    try:
        yield
    finally:
        logger.setLevel(level)
        for name in added:
            os.environ.pop(name, None)
