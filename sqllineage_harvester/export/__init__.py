"""A whole store (or one namespace) written out in another form, one line a format.

>>> sorted(FORMATS)
['html', 'openlineage']
"""

from __future__ import annotations

import importlib
from typing import Callable, Iterable, NamedTuple

from ..errors import ConfigError
from ..stores import Store

# An exporter: (store, namespace or None, since or None) -> the text, in pieces written in turn.
Exporter = Callable[[Store, "str | None", "str | None"], Iterable[str]]


class Format(NamedTuple):
    function: str           # "module:function", imported when the format is asked for
    extra: str | None       # the optional extra it needs, named when its import fails
    since: bool             # whether it reads --since


FORMATS: dict[str, Format] = {
    "html": Format("sqllineage_harvester.export.html:pieces", None, since=False),
    "openlineage": Format("sqllineage_harvester.openlineage.export:export_lines", "openlineage", since=True),
}


def check_namespace(store: Store, namespace: str | None) -> None:
    """ConfigError for a namespace the store holds no dataset of: every format refuses it alike,
    rather than one writing an empty file (a mistyped namespace is not an empty one)."""
    if namespace is None:
        return
    from ..web.reader import reader_for

    if not reader_for(store).datasets(namespace):
        raise ConfigError(f"no datasets in namespace {namespace!r}")


def exporter(fmt: str) -> Exporter:
    spec = FORMATS[fmt]
    module, function = spec.function.split(":")
    try:
        found: Exporter = getattr(importlib.import_module(module), function)
    except ImportError as e:
        raise ConfigError(f"--format {fmt} needs what the [{spec.extra}] extra installs: "
                          f"pip install 'sqllineage-harvester[{spec.extra}]' ({e})") from e
    return found
