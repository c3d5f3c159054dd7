"""Prediction functions the log defines (Redshift ML: ``CREATE MODEL m .. FUNCTION f``): a later
statement that calls ``f(..)``, in another entry, batch or run, reads the model ``m``, named by
its CREATE MODEL name, never by the function.

>>> f = ModelFunctions({})
>>> f.learn("ml.customer_churn", "predict_churn")
True
>>> f.called("INSERT INTO s SELECT id, PREDICT_CHURN(age) FROM t"), f.called("SELECT predict_churn_v2(a) FROM t")
(['ml.customer_churn'], [])
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

MAX_FUNCTIONS = 10_000


class ModelFunctions:
    """Function name (lower case) -> the model it predicts with."""

    def __init__(self, kept: Mapping[str, str]) -> None:
        self.models: dict[str, str] = dict(kept)
        self._pattern: re.Pattern[str] | None = None

    def learn(self, model: str, function: str) -> bool:
        """Whether the function was new or now names another model."""
        function = function.lower()
        if self.models.get(function) == model or (function not in self.models and len(self.models) >= MAX_FUNCTIONS):
            return False
        self.models[function] = model
        self._pattern = None
        return True

    def called(self, text: str) -> list[str]:
        """The models whose functions ``text`` calls (redacted text: no literal, no comment)."""
        if not self.models:
            return []
        if self._pattern is None:
            names = "|".join(re.escape(f) for f in sorted(self.models, key=len, reverse=True))
            self._pattern = re.compile(rf"(?<![\w.$\"])(?:[\w$]+\.)?({names})\s*\(", re.IGNORECASE)
        return list(dict.fromkeys(self.models[m.group(1).lower()] for m in self._pattern.finditer(text)))

    def arguments(self, text: str) -> dict[str, list[set[str]]]:
        """Each model whose function ``text`` calls, with the column names each call passes."""
        self.called("")  # compiles the pattern
        found: dict[str, list[set[str]]] = {}
        for match in self._pattern.finditer(text) if self._pattern is not None else ():
            inside = _inside(text, match.end() - 1)
            names = {part.strip().rsplit(".", 1)[-1].strip('"').lower() for part in inside.split(",")} if inside else set()
            found.setdefault(self.models[match.group(1).lower()], []).append(
                {n for n in names if re.fullmatch(r"[\w$]+", n) and not n.isdigit()})
        return found

    def dump(self) -> str:
        return json.dumps(self.models, separators=(",", ":"), sort_keys=True)


def _inside(text: str, start: int) -> str | None:
    """The text between the bracket at ``start`` and its match (None: no match, or nested calls)."""
    end = text.find(")", start)
    inside = text[start + 1 : end] if end > 0 else None
    return None if inside is None or "(" in inside else inside
