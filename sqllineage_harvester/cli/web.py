"""`serve`: the lineage view in a browser, a local web app over any store."""

from __future__ import annotations

import click

from ..errors import ConfigError, HarvesterError
from . import _fail, main
from .query import _open_store, store_option


@main.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default answers this machine only).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free one, printed).")
def serve(store_url: str | None, host: str, port: int) -> None:
    """The lineage view in a browser: search tables and columns, open one to see its graph (tables
    as boxes with their columns), expand it table by table, click a column for its impact and an
    edge for its statement (redacted SQL, users, runs). Reads the store, never writes it. Ctrl-C stops.

    \b
    Example:
      sqllineage-harvester serve --store sqlite:///demo-lineage.db
      sqllineage-harvester serve --store postgresql://lineage@db/lineage --port 9000
    """
    from ..stores import safe_url
    from ..web.serve import make_server

    try:
        store = _open_store(store_url, read_only=True)
        try:
            server = make_server(store, host, port, quiet=False)
        except OSError as e:
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"serving the lineage of {safe_url(store.url)} at http://{shown}:{server.server_port}/ "
                   f"(Ctrl-C stops)", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
            store.close()
    except HarvesterError as e:
        _fail(e)
