"""sqllineage-harvester: column-level lineage from the query logs databases already keep."""

from .extract import extract
from .model import ColumnLineage, ColumnRef, DatasetRef, IndirectRef, StatementLineage

__version__ = "0.1.0"
__all__ = ["extract", "ColumnLineage", "ColumnRef", "DatasetRef", "IndirectRef", "StatementLineage", "__version__"]
