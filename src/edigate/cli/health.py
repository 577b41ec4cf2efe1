"""``edigate health``: can this gateway work? For container healthchecks and operators."""

from __future__ import annotations

import json

import click
from sqlalchemy import text

from ..app import Gateway
from .context import pass_gateway


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@pass_gateway
def health(gateway: Gateway, as_json: bool) -> None:
    """Check the database, the blob store and the partner configuration; exit 1 if not ok."""
    checks: dict[str, str] = {}
    try:
        with gateway.store.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure is the answer
        checks["database"] = f"failed: {exc}"
    blobs = gateway.store.blobs.root
    checks["blobs"] = "ok" if blobs.is_dir() else f"missing: {blobs}"
    try:
        checks["partners"] = f"ok ({len(gateway.registry())} partners)"
    except Exception as exc:
        checks["partners"] = f"failed: {exc}"
    healthy = all(v.startswith("ok") for v in checks.values())
    if as_json:
        click.echo(json.dumps({"healthy": healthy, "checks": checks}, indent=2))
    else:
        for name, result in checks.items():
            click.echo(f"{name:9} {result}")
    raise SystemExit(0 if healthy else 1)
