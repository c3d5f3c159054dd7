"""The local web app: the standard library's HTTP server over one store, a page, its assets
(package data) and a few JSON endpoints that each answer a small piece (``view``):

    GET /                       the app
    GET /assets/NAME            app.js, app.css, dagre.min.js, the license
    GET /api/namespaces         {"namespaces": [...]}
    GET /api/search?q=&namespace=                      {"results": [node, ...]} (and a shard's "note")
    GET /api/graph?key=&direction=&depth=&direct_only=&since=&as_of=&include_retired=  view.open_graph (depth=all: every level)
    GET /api/expand?key=&direction=&direct_only=&since=&as_of=&include_retired=        view.expand
    GET /api/impact?key=&depth=&direct_only=&since=&as_of=&include_retired=            view.impact
    (lineage a harvest's --retire-after retired is left out unless include_retired=1, as the commands do)
    GET /api/operation?id=        view.operation: an id or a unique prefix of one, as `show` takes

A bad parameter is 400 and an unknown key 404, each ``{"error": "..."}`` (an operation id prefix that
starts several ids is 400 with ``"candidates"``: how many); the store's own failures are 500 with
its one-line message (never a password: stores print URLs safely).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigError, HarvesterError
from ..stores import Store
from . import view
from .page import ASSETS, LICENSES, asset, served_page
from .reader import reader_for

TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".txt": "text/plain; charset=utf-8"}
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


class Params:
    """A request's query string, read as the endpoints want it."""

    def __init__(self, query: str) -> None:
        self.values = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.values.get(name) or None
        if required and value is None:
            raise ConfigError(f"parameter {name!r} is missing")
        return value

    def depth(self, default: int | None = None) -> int | None:
        value = self.values.get("depth")
        if value is None:
            return default
        if value in ("", "all"):
            return None
        if not value.isdigit():
            raise ConfigError(f"depth must be a whole number of levels, not {value!r}")
        return int(value)

    def flag(self, name: str) -> bool:
        return self.values.get(name, "") not in ("", "0", "false")

    def window(self) -> dict[str, Any]:
        return {"direct_only": self.flag("direct_only"), "since": self.text("since"), "as_of": self.text("as_of"),
                "include_retired": self.flag("include_retired")}


def routes(store: Store) -> dict[str, Callable[[Params], Any]]:
    """Path -> what answers it (a JSON-ready value)."""
    reader = reader_for(store)
    return {
        "/api/namespaces": lambda p: {"namespaces": reader.namespaces()},
        "/api/search": lambda p: view.search(store, p.text("q", required=True) or "", p.text("namespace")),
        "/api/graph": lambda p: view.open_graph(store, p.text("key", required=True) or "",
                                                p.text("direction") or "both", p.depth(2), **p.window()),
        "/api/expand": lambda p: view.expand(store, p.text("key", required=True) or "",
                                             p.text("direction", required=True) or "", **p.window()),
        "/api/impact": lambda p: view.impact(store, p.text("key", required=True) or "", p.depth(), **p.window()),
        "/api/operation": lambda p: view.operation(store, p.text("id", required=True) or ""),
    }


def make_server(store: Store, host: str = "127.0.0.1", port: int = 8765, quiet: bool = True) -> ThreadingHTTPServer:
    """A server for ``store`` bound to (host, port); port 0 takes a free one (``server.server_port``).
    Each request is answered in a thread of its own: the stores' engines and drivers hand each
    thread a connection of its own (reads only)."""
    answer = routes(store)
    files = {f"/assets/{name}": name for name in ASSETS + LICENSES}

    class Handler(BaseHTTPRequestHandler):
        server_version = "sqllineage-harvester"

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            url = urlsplit(self.path)
            if url.path in ("/", "/index.html"):
                return self.send("text/html; charset=utf-8", served_page().encode())
            if url.path == "/favicon.ico":
                return self.send("image/x-icon", b"", 204)
            if url.path in files:
                name = files[url.path]
                return self.send(TYPES[name[name.rfind("."):]], asset(name).encode())
            if url.path not in answer:
                return self.json(404, {"error": f"no such page: {url.path}"})
            try:
                result = answer[url.path](Params(url.query))
            except view.NotFoundError as e:
                return self.json(404, {"error": str(e)})
            except HarvesterError as e:
                body = {"error": str(e)}
                if isinstance(getattr(e, "candidates", None), int):
                    body["candidates"] = e.candidates  # type: ignore[attr-defined]
                return self.json(400 if isinstance(e, ConfigError) else 500, body)
            self.json(200, result)

        def json(self, code: int, body: Any) -> None:
            self.send("application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode(), code)

        def send(self, kind: str, body: bytes, code: int = 200) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", POLICY)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the standard library's name)
            if not quiet:
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return ThreadingHTTPServer((host, port), Handler)
