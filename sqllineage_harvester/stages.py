"""Named stages the log defines (``CREATE STAGE landing URL = 's3://acme-landing/'``): a COPY from
``@landing/orders/`` then reads the object-store path itself, ``s3://acme-landing/orders``, the
dataset a Spark job writing that path names too.

>>> s = Stages({})
>>> s.learn("CREATE STAGE ANALYTICS.RAW.LANDING URL = 's3://acme-landing/in/?sig=x' FILE_FORMAT = (TYPE = CSV)",
...         "snowflake", ["ANALYTICS.RAW.LANDING"])
True
>>> s.resolve("@ANALYTICS.RAW.LANDING/orders/2024-03-01/"), s.resolve("@landing/orders"), s.resolve("@other/x")
('s3://acme-landing/in/orders/2024-03-01', 's3://acme-landing/in/orders', None)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

MAX_STAGES = 10_000


class Stages:
    """Stage name (lower case, qualified and bare) -> its URL (no query string: no signature kept)."""

    def __init__(self, kept: Mapping[str, str]) -> None:
        self.urls: dict[str, str] = dict(kept)

    def learn(self, sql: str, dialect: str | None, names: Iterable[str]) -> bool:
        """Learn from a DDL statement's text; whether a stage's URL was learned (or changed)."""
        if "STAGE" not in sql.upper() or "URL" not in sql.upper():
            return False
        url = _stage_url(sql, dialect)
        if url is None:
            return False
        changed = False
        for name in names:
            for key in {name.lower(), name.rsplit(".", 1)[-1].lower()}:
                if self.urls.get(key) != url and len(self.urls) < MAX_STAGES:
                    self.urls[key] = url
                    changed = True
        return changed

    def resolve(self, ref: str) -> str | None:
        """The object-store path a ``@stage/path`` reference reads, when the stage is known."""
        if not ref.startswith("@"):
            return None
        name, _, path = ref[1:].partition("/")
        url = self.urls.get(name.lower()) or self.urls.get(name.rsplit(".", 1)[-1].lower())
        if url is None:
            return None
        return "/".join(p for p in (url.rstrip("/"), path.strip("/")) if p)

    def dump(self) -> str:
        return json.dumps(self.urls, separators=(",", ":"), sort_keys=True)


def _stage_url(sql: str, dialect: str | None) -> str | None:
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read=dialect or None)
    except (sqlglot.errors.SqlglotError, ValueError):
        return None
    if not isinstance(tree, exp.Create) or str(tree.args.get("kind") or "").upper() != "STAGE":
        return None
    properties = tree.args.get("properties")
    for prop in properties.expressions if properties is not None else ():
        if isinstance(prop, exp.Property) and prop.name.upper() == "URL":
            value = prop.args.get("value")
            text = value.name if isinstance(value, exp.Literal) else None
            if text and "://" in text:
                return text.split("?", 1)[0]
    return None
