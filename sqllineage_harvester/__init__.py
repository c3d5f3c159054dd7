"""sqllineage-harvester: column-level lineage from the query logs databases already keep."""

from typing import Any

from .extract import extract
from .model import ColumnLineage, ColumnRef, DatasetRef, IndirectRef, StatementLineage

__version__ = "0.1.0"
__all__ = ["extract", "ColumnLineage", "ColumnRef", "DatasetRef", "IndirectRef", "StatementLineage",
           "LineageCollector", "MLLineageTracker", "RecordError", "__version__"]

# Recording what no log records (api.py): imported when first asked for, so the command line does not
# load the stores' drivers and the harvest to start.
_API = ("LineageCollector", "MLLineageTracker", "RecordError")


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
