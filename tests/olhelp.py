"""OpenLineage test parts: the spec's JSON schemas as a validator, and a real HTTP receiver.

The schemas in fixtures_openlineage/ are our transcription of the OpenLineage spec's (the 2-0-2
event, the 1-2-0 columnLineage and schema facets, the 1-1-0 sql facet, the 1-0-0 tags facet that
the client adds): fixtures_openlineage/README.md says which spec file and version each one is,
what it was compared with and what is left out. Our own run facet's schema ships with the package.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource

SPEC = Path(__file__).parent / "fixtures_openlineage"
PACKAGE = Path(__file__).parent.parent / "sqllineage_harvester" / "openlineage"
EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json"


def _registry() -> Registry:
    resources = []
    for path in [*SPEC.glob("*.json"), *PACKAGE.glob("*.json")]:
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def validate(event: dict[str, Any]) -> None:
    """Raise unless the event is valid against the definition its ``schemaURL`` names (RunEvent,
    JobEvent or DatasetEvent of the 2-0-2 spec), and each facet against the schema its
    ``_schemaURL`` names. Not against the whole document: its root is a ``oneOf`` of the three,
    and a RunEvent is a JobEvent too (the spec's JobEvent asks for a job alone)."""
    url = str(event.get("schemaURL", ""))
    if not url.startswith(f"{EVENT}#/$defs/"):
        raise ValidationError(f"schemaURL {url!r} names no event of {EVENT}")
    Draft202012Validator({"$ref": url}, registry=REGISTRY, format_checker=FormatChecker()).validate(event)
    for facet in _facets(event):
        url = facet["_schemaURL"]
        Draft202012Validator({"$ref": url}, registry=REGISTRY, format_checker=FormatChecker()).validate(facet)


def _facets(event: dict[str, Any]) -> list[dict[str, Any]]:
    found = [*event.get("run", {}).get("facets", {}).values(), *event.get("job", {}).get("facets", {}).values()]
    static = [event["dataset"]] if "dataset" in event else []  # a DatasetEvent's
    for dataset in [*event.get("inputs", []), *event.get("outputs", []), *static]:
        found += dataset.get("facets", {}).values()
        found += dataset.get("inputFacets", {}).values()
        found += dataset.get("outputFacets", {}).values()
    return found


class Receiver:
    """An OpenLineage HTTP endpoint (Marquez's /api/v1/lineage) on a free local port: it keeps every
    event as received, with its path and Authorization header. ``hang_after`` = n: request n + 1
    is kept, then never answered (a target that stops answering mid-run)."""

    def __init__(self, hang_after: int | None = None, port: int = 0) -> None:
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str | None]] = []
        self.hanging = threading.Event()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.events.append(json.loads(body))
                receiver.requests.append((self.path, self.headers.get("Authorization")))
                if hang_after is not None and len(receiver.events) > hang_after:
                    receiver.hanging.set()
                    receiver._release.wait(60)
                    return
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "Receiver":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
