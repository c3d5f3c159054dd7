"""A whole store (or one namespace) written out in another form, one module a format.

>>> sorted(FORMATS)
['html']
"""

from __future__ import annotations

import importlib
from typing import Callable

from ..stores import Store

# One line per format: name -> "module:function(store, namespace) -> text".
FORMATS: dict[str, str] = {
    "html": "sqllineage_harvester.export.html:export",
}


def exporter(fmt: str) -> Callable[[Store, str | None], str]:
    module, function = FORMATS[fmt].split(":")
    found: Callable[[Store, str | None], str] = getattr(importlib.import_module(module), function)
    return found
