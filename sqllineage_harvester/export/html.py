"""Lineage as one self-contained HTML file: the lineage view's graph component with the data
embedded (``web.view``), for every table of a store or namespace (``export``) or for one query's
answer (``answer``: ``upstream`` / ``downstream`` / ``impact`` / ``path --format html``)."""

from __future__ import annotations

from ..model import LineageGraph
from ..stores import Store


def export(store: Store, namespace: str | None = None) -> str:
    from ..web.page import file_page
    from ..web.view import everything

    title = f"Lineage of {namespace}" if namespace else "Lineage: every dataset"
    return file_page(everything(store, namespace), title)


def answer(store: Store, graph: LineageGraph, since: str | None = None, as_of: str | None = None) -> str:
    from ..web.page import file_page
    from ..web.view import answer as answer_view

    what = (f"path from {graph.root.name} to {graph.target.name}" if graph.target is not None
            else f"{graph.direction} of {graph.root.name}")
    return file_page(answer_view(store, graph, since, as_of), f"Lineage: {what}")
