"""Tags on columns and where tagged data flows: ``tag add|remove|list|apply`` and ``pii``."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import ConfigError, HarvesterError
from . import _fail, format_option, main, output_option, write_output
from .query import _open_store, store_option, wide_option

_AGGREGATION = click.option("--through-aggregation", "aggregation", is_flag=True,
                            help="Tags also flow through aggregates (sum(salary) holds pii:salary); "
                                 "by default only IDENTITY and TRANSFORMATION edges carry them.")



NO_TAGS = ("no column of this store has a tag yet: tag them by hand (tag add NAME TAG), from a rules file "
           "(tag apply RULES.toml, or harvest --tag-rules RULES.toml), or from the database's own tags "
           "(read with its catalog)")

@main.group()
def tag() -> None:
    """Tags on columns (pii:email, pii:card, ...): by hand, from a rules file, or from the database's
    catalog at harvest. Tags flow downstream along direct edges; `pii` shows where.

    \b
    Example:
      sqllineage-harvester tag add raw.customers.email pii:email
      sqllineage-harvester tag apply pii-rules.toml
    """


def _column(store: Any, name: str, namespace: str | None) -> Any:
    from ..queries import find

    node = find(store, name, namespace)
    if node.kind != "column":
        raise ConfigError(f"{node.name} is a dataset: tags go on columns (NAME.column)")
    return node


@tag.command("add")
@click.argument("name")
@click.argument("tag_name", metavar="TAG")
@click.option("--namespace", default=None, metavar="NS", help="The namespace of NAME, when it is in several.")
@store_option
def tag_add(name: str, tag_name: str, namespace: str | None, store_url: str | None) -> None:
    """Tag a column by hand (a hand tag is never replaced by a rule's).

    \b
    Example:
      sqllineage-harvester tag add raw.customers.email pii:email
    """
    from ..tags import HAND, check_tag

    try:
        _open_store(store_url, read_only=True).close()  # a store that does not exist is not made here
        store = _open_store(store_url)
        node = _column(store, name, namespace)
        store.tag_columns([(node.key, check_tag(tag_name), HAND)])
        click.echo(f"tagged {node.name} {tag_name}", err=True)
    except HarvesterError as e:
        _fail(e)


@tag.command("remove")
@click.argument("name")
@click.argument("tag_name", metavar="TAG")
@click.option("--namespace", default=None, metavar="NS", help="The namespace of NAME, when it is in several.")
@store_option
def tag_remove(name: str, tag_name: str, namespace: str | None, store_url: str | None) -> None:
    """Remove a column's own tag, whoever gave it (exit 1 when it had none). A rule that matches the
    column gives it again at its next `tag apply`.

    \b
    Example:
      sqllineage-harvester tag remove raw.customers.email pii:email
    """
    try:
        _open_store(store_url, read_only=True).close()
        store = _open_store(store_url)
        node = _column(store, name, namespace)
        if not store.untag_column(node.key, tag_name):
            click.echo(f"error: {node.name} has no tag {tag_name!r} of its own", err=True)
            raise SystemExit(1)
        click.echo(f"untagged {node.name} {tag_name}", err=True)
    except HarvesterError as e:
        _fail(e)


@tag.command("list")
@store_option
@format_option("table", "json")
def tag_list(store_url: str | None, fmt: str) -> None:
    """Every column's own tags and where each came from (hand, rules, catalog).

    \b
    Example:
      sqllineage-harvester tag list --format json
    """
    try:
        store = _open_store(store_url, read_only=True)
        own = store.column_tags()
        names = store.describe(sorted({key for key, _, _ in own}))
        rows = [{"name": names[k].name, "namespace": names[k].namespace, "tag": t, "origin": o}
                for k, t, o in own if k in names]
        rows.sort(key=lambda r: (r["name"], r["tag"]))
        if not rows:
            click.echo(f"note: {NO_TAGS}", err=True)
        if fmt == "json":
            write_output(json.dumps({"tags": rows}, ensure_ascii=False), None)
        else:
            write_output("\n".join(f"{r['name']}  {r['tag']}  ({r['origin']})" for r in rows), None)
    except HarvesterError as e:
        _fail(e)


@tag.command("apply")
@click.argument("rules", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None, help='JSON {"db.schema.table": {"column": "type"}}: what rules with types = [...] match.')
@store_option
def tag_apply(rules: Path, catalog_path: Path | None, store_url: str | None) -> None:
    """Tag every column of the store a rule of RULES (TOML) matches; run it after each harvest, or
    give the rules to `harvest --tag-rules`. Tags already given stay.

    \b
    RULES holds one [[rule]] a tag:
      [[rule]]
      tag = "pii:email"
      columns = ["*email*", "*e_mail*"]   # column names, shell patterns, any case
      tables = ["raw.*"]                  # optional: the tables they are in
      types = ["varchar", "text"]         # optional: catalog types (with --catalog)

    \b
    Example:
      sqllineage-harvester tag apply pii-rules.toml --store sqlite:///lineage.db
    """
    try:
        _open_store(store_url, read_only=True).close()
        store = _open_store(store_url)
        added = apply_rules_to(store, rules, catalog_path)
        click.echo(f"{added} column tags from {rules}", err=True)
    except HarvesterError as e:
        _fail(e)


def apply_rules_to(store: Any, rules: Path, catalog_path: Path | None = None) -> int:
    """Tag the store's columns by the rules file; how many (column, tag) the rules match."""
    from ..tags import apply_rules, load_rules

    types: dict[str, str] = {}
    if catalog_path is not None:
        try:
            data = json.loads(catalog_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ConfigError(f"cannot read catalog {catalog_path}: {e}") from e
        types = {f"{t}.{c}".lower(): str(v) for t, cols in data.items() for c, v in cols.items()}
    columns = [n for n in store.search([""], limit=10**9) if n.kind == "column"]
    found = apply_rules(load_rules(rules), columns, types)
    store.tag_columns(found)
    return len(found)


@main.command()
@click.argument("tag_prefix", metavar="[TAG]", required=False)
@store_option
@_AGGREGATION
@format_option("table", "json")
@output_option
@wide_option
def pii(tag_prefix: str | None, store_url: str | None, aggregation: bool, fmt: str, output: Path | None,
        wide: bool) -> None:
    """Every column that holds tagged data (TAG: a prefix, pii finds pii:email and masked:pii:email;
    none: every tag): its tags, the origin, the route and operations that carried it, who ran them,
    and when data last arrived. Tags flow along IDENTITY and TRANSFORMATION edges, never through a
    JOIN, FILTER or other indirect use, and become masked:TAG through a masking function (sha2, md5,
    ...: the dialect file's masking_functions).

    The table gives operation ids by their first characters (`show ID` takes them) and fits the
    terminal; --wide prints everything whole.

    \b
    Example:
      sqllineage-harvester pii pii:email
      sqllineage-harvester pii pii:email --format json
    """
    from ..pii import table, tagged_columns

    try:
        store = _open_store(store_url, read_only=True)
        found = tagged_columns(store, tag_prefix, aggregation)
        if not found:
            click.echo(f"note: {NO_TAGS if not store.column_tags() else f'no column holds data tagged {tag_prefix!r}'}",
                       err=True)
        if fmt == "json":
            write_output(json.dumps({"columns": [c.as_dict() for c in found]}, ensure_ascii=False), output)
        else:
            cut = sys.stdout.isatty() and not wide and output is None  # a pipe or a file gets lines whole
            write_output(table(found, shutil.get_terminal_size().columns if cut else None, wide, tag_prefix), output)
    except HarvesterError as e:
        _fail(e)
