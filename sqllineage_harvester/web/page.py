"""The HTML page of the lineage view: served (assets by URL, data asked of the server) or one
self-contained file (assets inline, the data embedded as JSON, a Content-Security-Policy that
lets the page itself fetch, load or connect to nothing).

Everything from the store reaches the page as JSON inside ``<script type="application/json">``
with ``<``, ``>`` and ``&`` escaped, and the script puts it in as text: a dataset named
``</script><script>alert(1)</script>`` is shown, never run.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from importlib import resources
from typing import Any

ASSETS = ("dagre.min.js", "app.js", "app.css")
LICENSES = ("LICENSE.dagre.txt",)


def asset(name: str) -> str:
    return (resources.files("sqllineage_harvester.web") / "assets" / name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    r"""JSON that cannot end the ``<script>`` element it sits in.

    >>> script_json({"name": "</script><b>&"})
    '{"name": "\\u003c/script\\u003e\\u003cb\\u003e\\u0026"}'
    """
    text = json.dumps(data, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


BODY = """<header>
  <h1>Lineage</h1>
  <input id="search" type="search" placeholder="search tables and columns (* as wildcard)" aria-label="search">
  <label class="served">direction <select id="direction"><option value="both">both</option>
    <option value="upstream">upstream</option><option value="downstream">downstream</option></select></label>
  <label>depth <input id="depth" type="number" min="0" step="1"></label>
  <label><input id="indirect" type="checkbox" checked> indirect edges</label>
  <label>as of <input id="asof" type="date"></label>
  <label>namespace <select id="namespace"><option value="">all</option></select></label>
  <button id="fit" type="button">fit</button>
</header>
<aside><ul id="results"></ul><section id="details"><h2>Details</h2></section></aside>
<main>
  <svg id="canvas" role="img" aria-label="lineage graph"><g id="viewport"><g id="edges"></g><g id="labels"></g><g id="tables"></g></g></svg>
  <div class="legend"><svg width="28" height="8"><line x1="0" y1="4" x2="28" y2="4" stroke="#627d98" stroke-width="1.5"/></svg> direct
    <svg width="28" height="8"><line x1="0" y1="4" x2="28" y2="4" stroke="#c65d7b" stroke-width="1.5" stroke-dasharray="5 4"/></svg> indirect (JOIN, FILTER, GROUP_BY, ...)</div>
</main>
<footer id="status"></footer>"""


def served_page(title: str = "sqllineage-harvester") -> str:
    """The app's page as the server sends it: assets by URL, data by ``api/...``."""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            '<link rel="stylesheet" href="assets/app.css"></head>\n<body>\n' + BODY +
            '\n<script src="assets/dagre.min.js"></script>\n<script src="assets/app.js"></script>\n</body></html>\n')


def file_page(data: dict[str, Any], title: str) -> str:
    """One HTML file that needs nothing else: assets inline, ``data`` embedded, no network at all."""
    scripts = [asset("dagre.min.js"), asset("app.js")]
    style = asset("app.css")
    for text in scripts:
        if "</script" in text.lower():  # an asset must not end its own element
            raise ValueError("an inline asset contains </script")
    policy = ("default-src 'none'; img-src data:; style-src " + sha256(style) + "; script-src "
              + " ".join(sha256(t) for t in scripts) + "; base-uri 'none'; form-action 'none'")
    notice = "\n".join(asset(name) for name in LICENSES).replace("--", "- -")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">\n'
        f"<title>{html.escape(title)}</title>\n<style>{style}</style></head>\n<body>\n{BODY}\n"
        f'<script id="lineage-data" type="application/json">{script_json(data)}</script>\n'
        f"<!-- dagre (graph layout), vendored unchanged:\n{notice}\n-->\n"
        + "".join(f"<script>{t}</script>\n" for t in scripts) + "</body></html>\n")
