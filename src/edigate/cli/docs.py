"""Operations: ``edigate receive``, ``edigate docs list|show``, ``edigate stats``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..app import Gateway
from ..store.queries import DocumentFilter, document_detail, list_documents, parse_since, stats
from .context import pass_gateway
from .table import render_table


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--partner", help="Partner the file comes from (else identified from content).")
@click.option("--no-process", is_flag=True, help="Only store; leave processing to the worker.")
@pass_gateway
def receive(
    gateway: Gateway, files: tuple[str, ...], partner: str | None, no_process: bool
) -> None:
    """Store FILES durably as received documents, as a channel would, then process them."""
    receipts = []
    for name in files:
        path = Path(name)
        with path.open("rb") as stream:
            receipt = gateway.store.receive(
                stream, channel="cli", partner_id=partner, filename=path.name
            )
        receipts.append(receipt)
        click.echo(f"received {path} as document {receipt.document_id} ({receipt.size} bytes)")
    if no_process:
        return
    gateway.worker().run(until_idle=True)
    with gateway.store.session() as session:
        for receipt in receipts:
            detail = document_detail(session, gateway.store.get(session, receipt.document_id))
            click.echo(render_outcome(detail))


def render_outcome(detail: dict[str, Any]) -> str:
    """One line per document and its children: what became of a received file."""
    lines = [f"document {detail['id']}: {detail['status']}"]
    for err in detail["errors"]:
        lines.append(f"  error: {err.get('message', '')}")
    for child in detail["children"]:
        lines.append(
            f"  {child['direction']:3} {child['type'] or '-':6} {child['status']:12} "
            f"{child['po_number'] or ''} (document {child['id']})"
        )
    return "\n".join(lines)


@click.group()
def docs() -> None:
    """Find and inspect documents."""


@docs.command("list")
@click.option("--partner", help="Only this partner.")
@click.option("--status", help="Only this status (received, rejected, translated, dead, ...).")
@click.option("--type", "doc_type", help="Only this type (interchange, 850, 997, 855, ...).")
@click.option("--direction", type=click.Choice(["in", "out"]), help="Inbound or outbound.")
@click.option("--since", help="Window: 30m, 2h, 7d or an ISO date.")
@click.option("--po", "po_number", help="PO (or invoice or shipment) number.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_gateway
def list_command(
    gateway: Gateway,
    partner: str | None,
    status: str | None,
    doc_type: str | None,
    direction: str | None,
    since: str | None,
    po_number: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List documents, newest first."""
    flt = DocumentFilter(
        partner=partner,
        status=status,
        doc_type=doc_type,
        direction=direction,
        since=parse_since(since) if since else None,
        po_number=po_number,
        limit=limit,
    )
    with gateway.store.session() as session:
        rows = list_documents(session, flt)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    columns = ["id", "created_at", "direction", "partner", "type", "status", "po_number"]
    columns += ["errors", "filename"]
    click.echo(render_table(rows, columns))


@docs.command("show")
@click.argument("doc_id", type=int)
@click.option("--raw", is_flag=True, help="Print the stored bytes instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_gateway
def show(gateway: Gateway, doc_id: int, raw: bool, as_json: bool) -> None:
    """Show one document: metadata, errors with positions, audit trail, lineage."""
    with gateway.store.session() as session:
        doc = gateway.store.get(session, doc_id)
        if raw:
            sys.stdout.buffer.write(gateway.store.content(doc))
            return
        detail = document_detail(session, doc)
    if as_json:
        click.echo(json.dumps(detail, indent=2, default=str))
        return
    click.echo(render_detail(detail))


def render_detail(detail: dict[str, Any]) -> str:
    lines = [f"document {detail['id']}  {detail['direction']}  {detail['status']}"]
    for key in (
        "partner",
        "channel",
        "type",
        "format",
        "filename",
        "size",
        "po_number",
        "interchange_control",
        "group_control",
        "transaction_control",
        "correlation_id",
        "parent_id",
        "reprocess_of_id",
        "duplicate_of_id",
        "reprocessed_as",
        "attempts",
        "last_error",
        "created_at",
        "updated_at",
    ):
        value = detail.get(key)
        if value not in (None, "", []):
            lines.append(f"  {key:20} {value}")
    errors = detail["errors"]
    lines.append(f"errors ({len(errors)}):")
    for err in errors:
        if err.get("segment"):
            where = f"segment {err['segment']}"
            if err.get("element"):
                where += f" element {err['element']}"
        elif err.get("line"):
            where = f"line {err['line']}"
        else:
            where = "document"
        lines.append(f"  {where}: [{err.get('code', '')}] {err.get('message', '')}")
    if detail["children"]:
        lines.append("children:")
        for child in detail["children"]:
            lines.append(
                f"  {child['id']}  {child['type']}  {child['status']}  {child['po_number'] or ''}"
            )
    lines.append("audit:")
    for event in detail["audit"]:
        change = f"{event['from'] or '-'} -> {event['to'] or '-'}"
        extra = json.dumps(event["detail"], default=str) if event["detail"] else ""
        lines.append(f"  {event['at']}  {event['event']:18} {change:28} {extra}")
    return "\n".join(lines)


@click.command("stats")
@click.option("--since", default="24h", show_default=True, help="Window: 30m, 2h, 7d, ...")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_gateway
def stats_command(gateway: Gateway, since: str, as_json: bool) -> None:
    """Counts by partner, type and status over a window."""
    with gateway.store.session() as session:
        rows = stats(session, parse_since(since))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(render_table(rows, ["partner", "direction", "type", "status", "count"]))
