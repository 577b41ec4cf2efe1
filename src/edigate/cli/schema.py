"""``edigate schema MODEL``: print the JSON Schema of a canonical document."""

from __future__ import annotations

import json

import click

from ..model.schema import MODELS, json_schema


@click.command("schema")
@click.argument("model", type=click.Choice(list(MODELS)))
@click.option(
    "--mode",
    type=click.Choice(["validation", "serialization"]),
    default="validation",
    show_default=True,
    help="What we accept (validation) or what we emit (serialization: decimals as strings).",
)
def schema(model: str, mode: str) -> None:
    """Print the JSON Schema of MODEL (order, order-ack, shipment, invoice)."""
    click.echo(
        json.dumps(
            json_schema(model, "serialization" if mode == "serialization" else "validation"),
            indent=2,
        )
    )
