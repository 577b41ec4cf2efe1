"""``edigate health``: can this gateway work? For container healthchecks and operators."""

from __future__ import annotations

import json
from typing import NoReturn

import click
from sqlalchemy import text

from ..errors import EdigateError
from ..partners import load_registry
from .context import CliState


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def health(ctx: click.Context, as_json: bool) -> None:
    """Check the database, the blob store and the partner configuration; exit 1 if not ok.

    Never creates the embedded database: in the wrong folder, or with a data volume that
    was not mounted, the check says the database is missing instead of passing on a new,
    empty one."""
    checks: dict[str, str] = {}
    state = ctx.find_object(CliState) or CliState(None, None, None, None)
    ctx.call_on_close(state.close)
    gateway = None
    try:
        state.config()
    except EdigateError as exc:  # nothing else can be judged from a config that fails
        checks["config"] = f"failed: {exc}"
        _report(checks, as_json)
    checks["config"] = "ok"
    try:
        gateway = state.gateway(existing=True)
    except EdigateError as exc:
        checks["database"] = f"missing: {exc}"
    if gateway is not None:
        try:
            store = gateway.store  # opening it can fail too (a database that does not exist)
            with store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure is the answer
            checks["database"] = f"failed: {exc}"
        else:
            checks["database"] = "ok"
            blobs = store.blobs.root
            checks["blobs"] = "ok" if blobs.is_dir() else f"missing: {blobs}"
    try:
        partners = (
            gateway.registry() if gateway is not None else load_registry(state.config().config_dir)
        )
        checks["partners"] = f"ok ({len(partners)} partners)"
    except Exception as exc:
        checks["partners"] = f"failed: {exc}"
    _report(checks, as_json)


def _report(checks: dict[str, str], as_json: bool) -> NoReturn:
    """Print the checks and exit: 0 when every one is ok."""
    healthy = all(v.startswith("ok") for v in checks.values())
    if as_json:
        click.echo(json.dumps({"healthy": healthy, "checks": checks}, indent=2))
    else:
        for name, result in checks.items():
            click.echo(f"{name:9} {result}")
    raise SystemExit(0 if healthy else 1)
