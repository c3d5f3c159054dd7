"""OpenLineage out and in: events from the store's operations (events.py, export.py), sent as a
harvest writes them (emit.py); events read as a source (sources/openlineage.py, lineage.py).

Needs the official client: ``pip install 'sqllineage-harvester[openlineage]'``.
"""
