"""The SQL store's tables (SQLAlchemy Core): the seed design's graph in rows, plus the
harvest's bookkeeping. Raise ``SCHEMA_VERSION`` and add an upgrade in sql.py with any change.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, PrimaryKeyConstraint, Table, Text

SCHEMA_VERSION = 4  # 4: models (model_versions, hyperparameters, metrics, used_in_training, predictions)

metadata = MetaData()
schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))
datasets = Table(
    "datasets", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False, unique=True),  # namespace + "/" + name
    Column("namespace", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("short", Text, nullable=False),  # lower-cased last part: finds partial names
    Column("type", Text, nullable=False),
    Index("ix_datasets_short", "short"),
)
columns = Table(
    "columns", metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Index("ux_columns_dataset_name", "dataset_id", "name", unique=True),
    Index("ix_columns_name", "name"),
)
users = Table("users", metadata, Column("id", Integer, primary_key=True),
              Column("name", Text, nullable=False, unique=True))
systems = Table("systems", metadata, Column("id", Integer, primary_key=True),
                Column("name", Text, nullable=False, unique=True))
operations = Table(
    "operations", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False, unique=True),  # Operation.id
    Column("type", Text, nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("sql", Text),
    Column("namespace", Text, nullable=False),
    Column("first_seen", Text),
    Column("last_seen", Text),
    Column("executions", BigInteger, nullable=False),
    Column("time_basis", Text, nullable=False, server_default="execution"),  # execution | harvest | mixed
)
input_to = Table(  # dataset INPUT_TO operation; type DIRECT, or JOIN/FILTER/.. if only read indirectly
    "input_to", metadata,
    Column("dataset_id", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    Column("type", Text, nullable=False),
    PrimaryKeyConstraint("dataset_id", "operation_id"),
    Index("ix_input_to_operation", "operation_id", "dataset_id"),
)
produces = Table(  # operation PRODUCES dataset
    "produces", metadata,
    Column("operation_id", Integer, nullable=False),
    Column("dataset_id", Integer, nullable=False),
    PrimaryKeyConstraint("operation_id", "dataset_id"),
    Index("ix_produces_dataset", "dataset_id", "operation_id"),
)
performed = Table(  # user PERFORMED operation: when, and how often, this user ran it
    "performed", metadata,
    Column("user_id", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    Column("first_seen", Text),
    Column("last_seen", Text),
    Column("executions", BigInteger, nullable=False, server_default="0"),  # 0: harvested before version 2
    PrimaryKeyConstraint("user_id", "operation_id"),
    Index("ix_performed_operation", "operation_id"),
)
hosted = Table(  # system HOSTED operation: when, and how often, it ran there
    "hosted", metadata,
    Column("system_id", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    Column("first_seen", Text),
    Column("last_seen", Text),
    Column("executions", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("system_id", "operation_id"),
    Index("ix_hosted_operation", "operation_id"),
)
column_edges = Table(
    "column_edges", metadata,
    Column("src", Integer, nullable=False),
    Column("dst", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("first_seen", Text),
    Column("last_seen", Text),
    Column("masked", Integer, nullable=False, server_default="0"),  # 1: through a masking function (v3)
    PrimaryKeyConstraint("src", "dst", "operation_id", "type"),
    Index("ix_column_edges_dst", "dst", "src"),
    Index("ix_column_edges_operation", "operation_id"),
    sqlite_with_rowid=False,
)
usage = Table(
    "usage", metadata,
    Column("dataset_id", Integer, nullable=False),
    Column("user", Text, nullable=False),  # "" when the log has no user
    Column("day", Text, nullable=False),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("dataset_id", "user", "day"),
)
parse_failures = Table(
    "parse_failures", metadata,
    Column("fingerprint", Text, nullable=False),
    Column("dialect", Text, nullable=False),  # "" when unknown
    Column("reason", Text, nullable=False),
    Column("sql", Text),
    Column("executions", BigInteger, nullable=False),
    Column("first_seen", Text),
    Column("last_seen", Text),
    PrimaryKeyConstraint("fingerprint", "dialect"),
)
statement_cache = Table("statement_cache", metadata, Column("key", Text, primary_key=True),
                        Column("lineage", Text, nullable=False))
counters = Table("counters", metadata, Column("name", Text, primary_key=True),
                 Column("value", BigInteger, nullable=False))
sources = Table("sources", metadata, Column("name", Text, primary_key=True),
                Column("cursor", Text), Column("updated_at", Text, nullable=False))
sessions = Table(  # the state of a source's open log sessions (temp tables, USE / search_path)
    "sessions", metadata,
    Column("source", Text, nullable=False),
    Column("session_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    PrimaryKeyConstraint("source", "session_id"),
)
column_tags = Table(  # a column's own tags (pii:email, ...): by hand, from rules or the catalog (v3)
    "column_tags", metadata,
    Column("column_id", Integer, nullable=False),
    Column("tag", Text, nullable=False),
    Column("origin", Text, nullable=False),  # hand | rules | catalog
    PrimaryKeyConstraint("column_id", "tag"),
)
# Models (v4): a model is a dataset typed ``model``; each of its training operations is a version.
model_versions = Table(
    "model_versions", metadata,
    Column("model_id", Integer, nullable=False),  # datasets.id
    Column("operation_id", Integer, nullable=False),  # the training operation
    Column("version", Text),  # a registered version (MLflow); NULL: the model as that statement trains it
    Column("architecture", Text),
    Column("status", Text),
    Column("run", Text),
    Column("first_seen", Text),
    Column("last_seen", Text),
    Column("user", Text),  # who ran its earliest known run
    PrimaryKeyConstraint("model_id", "operation_id"),
    Index("ix_model_versions_operation", "operation_id"),
)
hyperparameters = Table(  # Hyperparameters CONFIGURED_WITH Model: a training operation's settings
    "hyperparameters", metadata,
    Column("model_id", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "operation_id", "name"),
)
metrics = Table(  # Metrics EVALUATED_WITH Model: what a training or evaluation operation measured
    "metrics", metadata,
    Column("model_id", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "operation_id", "name"),
)
used_in_training = Table(  # dataset USED_IN_TRAINING model {split}, by a training or evaluation operation
    "used_in_training", metadata,
    Column("dataset_id", Integer, nullable=False),
    Column("model_id", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    Column("split", Text, nullable=False),  # train | evaluation | validation | test | ...
    Column("version", Text),
    PrimaryKeyConstraint("dataset_id", "model_id", "operation_id", "split"),
    Index("ix_used_in_training_model", "model_id", "dataset_id"),
)
predictions = Table(  # prediction dataset GENERATED_BY model, written by an operation reading the model
    "predictions", metadata,
    Column("dataset_id", Integer, nullable=False),
    Column("model_id", Integer, nullable=False),
    Column("operation_id", Integer, nullable=False),
    PrimaryKeyConstraint("dataset_id", "model_id", "operation_id"),
    Index("ix_predictions_model", "model_id", "dataset_id"),
)
ML_TABLES = (model_versions, hyperparameters, metrics, used_in_training, predictions)
# Settings kept for later queries (``retire_after``). Made on first use (stores.sql.SQLStore.set_setting)
# and read as empty where missing, so a store of this version without it needs no upgrade.
settings = Table("settings", metadata, Column("name", Text, primary_key=True), Column("value", Text, nullable=False))
batches = Table("batches", metadata, Column("key", Text, primary_key=True),
                Column("written_at", Text, nullable=False))

# Upgrades from version n to n + 1, applied in order inside one transaction.
