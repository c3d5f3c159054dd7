"""The deployment file: ``harvest --config harvester.toml`` harvests every source it names in turn.

One store, then one table per source, each with its URL and the settings ``harvest`` takes as
options (names as the options', with ``_`` for ``-``); ``[defaults]`` applies to every source.
Values may name environment variables, ``${PG_PASSWORD}``, and a secret must come that way: a
password or token written in the file is refused. The file is checked whole on load, and each
problem names its line and key.

>>> text = '''
... store = "sqlite:///lineage.db"
... [defaults]
... batch_size = 5000
... [sources.pg]
... url = "postgresql://harvester:${PG_PASSWORD}@db:5432/app"
... '''
>>> c = parse(text, "h.toml", {"PG_PASSWORD": "pw"})
>>> c.store, c.sources[0].name, c.sources[0].settings["batch_size"], c.sources[0].settings["source_url"]
('sqlite:///lineage.db', 'pg', 5000, 'postgresql://harvester:pw@db:5432/app')
>>> parse('[sources.pg]\\nurl = "x.csv"\\nbatchsize = 3\\n', "h.toml", {})
Traceback (most recent call last):
...
sqllineage_harvester.errors.ConfigError: h.toml:3: sources.pg.batchsize: unknown key (did you mean batch_size?)
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError, secret_name, split_userinfo

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# key -> (the harvest parameter it sets, the types it takes)
SETTINGS: dict[str, tuple[str, tuple[type, ...]]] = {
    "url": ("source_url", (str,)),
    "dialect": ("dialect", (str,)),
    "namespace": ("namespace", (str,)),
    "catalog": ("catalog_path", (str,)),
    "mapping": ("mapping", (str,)),
    "since": ("since", (str,)),
    "until": ("until", (str,)),
    "no_sql_text": ("no_sql_text", (bool,)),
    "batch_size": ("batch_size", (int,)),
    "workers": ("workers", (int, str)),
    "memory": ("memory", (str,)),
    "executor": ("executor", (str,)),
    "emit": ("emit", (str,)),
}
TOP = ("store", "defaults", "sources")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class SourceConfig:
    """One source of the deployment: its name and the harvest parameters it sets."""

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)  # parameter name -> value, ${ENV} filled in


@dataclass(frozen=True)
class Config:
    store: str | None
    sources: tuple[SourceConfig, ...]

    def only(self, name: str | None) -> tuple[SourceConfig, ...]:
        if name is None:
            return self.sources
        chosen = tuple(s for s in self.sources if s.name == name)
        if not chosen:
            raise ConfigError(f"--only {name}: no such source; the file has: "
                              + ", ".join(s.name for s in self.sources))
        return chosen


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """The deployment file at ``path``, checked."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from e
    return parse(text, str(path), os.environ if env is None else env)


def parse(text: str, where: str, env: Mapping[str, str]) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not TOML: {e}") from e
    lines = _Lines(text, where)
    for key in data:
        if key not in TOP:
            raise lines.error(None, key, f"unknown key (the file takes {', '.join(TOP)})")
    store = data.get("store")
    if store is not None and not isinstance(store, str):
        raise lines.error(None, "store", "must be a URL in quotes")
    defaults = _table(data.get("defaults", {}), "defaults", lines)
    sources = data.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise lines.error(None, "sources", "name at least one source: [sources.NAME] with url = \"...\"")
    out = []
    for name, table in sources.items():
        settings = {**defaults, **_table(table, f"sources.{name}", lines)}
        if "source_url" not in settings:
            raise lines.error(f"sources.{name}", "url", "missing: every source needs its url")
        out.append(SourceConfig(name, {k: _filled(v, k, name, lines, env) for k, v in settings.items()}))
    return Config(_filled(store, "store", None, lines, env) if store else None, tuple(out))


def _table(table: Any, path: str, lines: "_Lines") -> dict[str, Any]:
    if not isinstance(table, dict):
        raise lines.error(None, path, "must be a table: [" + path + "]")
    found = {}
    for key, value in table.items():
        if key not in SETTINGS:
            near = difflib.get_close_matches(key, SETTINGS, n=1)
            hint = f" (did you mean {near[0]}?)" if near else f" (known: {', '.join(SETTINGS)})"
            raise lines.error(path, key, "unknown key" + hint)
        parameter, types = SETTINGS[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            kinds = " or ".join({str: "text", int: "a number", bool: "true or false"}[t] for t in types)
            raise lines.error(path, key, f"must be {kinds}, not {value!r}")
        if isinstance(value, str) and _has_secret(value):
            raise lines.error(path, key, "holds a password or token: write it as ${ENV_VARIABLE} and set it "
                                         "in the environment")
        found[parameter] = value
    return found


def _filled(value: Any, parameter: str, source: str | None, lines: "_Lines", env: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m[1] not in env:
            key = next((k for k, (p, _) in SETTINGS.items() if p == parameter), parameter)
            raise lines.error(f"sources.{source}" if source else None, key,
                              f"${{{m[1]}}} is not set in the environment")
        return env[m[1]]

    return _ENV.sub(one, value)


def _has_secret(value: str) -> bool:
    """A password in a URL's user part, or a secret query parameter / DSN word, not from ${ENV}."""
    plain = _ENV.sub("", value)
    if "://" in plain:
        userinfo = split_userinfo(plain.split("://", 1)[1])
        if userinfo is not None and userinfo[1]:
            return True
        query = plain.partition("?")[2]
        return any(secret_name(k) and v for k, _, v in (p.partition("=") for p in query.split("&")))
    return False


class _Lines:
    """Where a key is written: ``FILE:LINE: table.key: message``."""

    def __init__(self, text: str, where: str) -> None:
        self.lines, self.where = text.splitlines(), where

    def error(self, table: str | None, key: str, message: str) -> ConfigError:
        line = self._find(table, key)
        place = f"{self.where}:{line}" if line else self.where
        return ConfigError(f"{place}: {table + '.' if table else ''}{key}: {message}")

    def _find(self, table: str | None, key: str) -> int | None:
        inside = table is None
        header = re.compile(r"\s*\[\s*" + re.escape(table or "") + r"\s*\]\s*(#.*)?$") if table else None
        for n, line in enumerate(self.lines, 1):
            if re.match(r"\s*\[", line):
                if table is None and re.match(r"\s*\[\s*" + re.escape(key) + r"[\].]", line):
                    return n
                inside = bool(header and header.match(line))
                continue
            if inside and re.match(r"\s*" + re.escape(key) + r"\s*=", line):
                return n
        return None
