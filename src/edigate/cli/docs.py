"""Operations: ``edigate receive``, ``edigate docs list|show``, ``edigate stats``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from ..app import Gateway
from ..errors import ConfigError, EdigateError
from ..key_checks import key_checks
from ..store import Direction, Status
from ..store.queries import (
    MIN_CORRELATION_PREFIX,
    DocumentFilter,
    children,
    correlation_prefix,
    doc_types,
    document_detail,
    is_error,
    list_documents,
    location,
    parse_since,
    stats,
)
from .context import pass_existing_gateway, pass_gateway
from .table import render_table

#: Outbound statuses of a document that has not reached the partner.
UNDELIVERED = (Status.DELIVERY_FAILED.value, Status.DEAD.value, Status.FAILED.value)

#: How a received file ends well: processed, its transactions translated or delivered.
SUCCEEDED = (Status.TRANSLATED.value, Status.DELIVERED.value, Status.SPLIT.value)
#: Errors shown per document in ``receive``'s summary; ``docs show`` has them all.
SHOWN_ERRORS = 10

#: What --status takes (docs list, reprocess): every status a document can have.
STATUS = click.Choice([s.value for s in Status])
#: A document ID or a --limit: a positive signed 64-bit integer, what the database compares.
ROW_NUMBER = click.IntRange(1, 2**63 - 1)


class SinceType(click.ParamType):  # type: ignore[type-arg]
    """--since as the start of a window (``parse_since``): a value it cannot take is a usage
    error naming the option, as a bad --status or --limit is."""

    name = "SINCE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        try:
            return parse_since(str(value))
        except EdigateError as exc:
            self.fail(str(exc), param, ctx)


SINCE = SinceType()


class CorrelationType(click.ParamType):  # type: ignore[type-arg]
    """--correlation: a correlation ID (32 hex digits) or its first digits, as copied from a
    log line. Anything else matches no document: a usage error, not an empty list."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = correlation_prefix(str(value))
        if text is None:
            self.fail(
                f"{value!r} is not a correlation ID: expected its 32 hex digits, or the first "
                f"{MIN_CORRELATION_PREFIX} or more, as in a log line's correlation=...",
                param,
                ctx,
            )
        return text


CORRELATION = CorrelationType()


class TextType(click.ParamType):  # type: ignore[type-arg]
    """A filter's value (--po, --partner, --type): an empty one (``--po ''``, an unset
    shell variable) would filter nothing and list every document, so it is a usage error."""

    name = "TEXT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not text.strip():
            self.fail("must not be empty (leave the option out to list every document)", param, ctx)
        return text


FILTER_TEXT = TextType()


class ConfigRefused(click.ClickException):
    """The configuration is broken: nothing is stored. Exit 2, as a usage error, so a
    script tells it from exit 1, a document that was stored but did not go through."""

    exit_code = 2


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--partner", help="Partner the file comes from (else identified from content).")
@click.option("--no-process", is_flag=True, help="Only store; leave processing to the worker.")
@pass_gateway
def receive(
    gateway: Gateway, files: tuple[str, ...], partner: str | None, no_process: bool
) -> None:
    """Store FILES durably as received documents, as a channel would, then process them.

    The partner configuration (and the private keys deliveries need) is checked first:
    with a problem in it, nothing is stored.

    Exit status: 0 when every file ended translated and every transaction in it
    translated or delivered (with --no-process: stored); 1 when any was rejected, failed
    or a duplicate; 2 for usage errors, an unknown --partner or a broken configuration.
    """
    refuse_broken_config(gateway, partner, deliveries=not no_process)
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
    succeeded = True
    with gateway.store.reading() as session:
        for receipt in receipts:
            detail = document_detail(session, gateway.store.get(session, receipt.document_id))
            inbound = [c for c in detail["children"] if c["direction"] == Direction.INBOUND]
            errors = {c["id"]: gateway.store.get(session, c["id"]).errors or [] for c in inbound}
            answers = {c["id"]: children(session, c["id"]) for c in inbound}
            for entry in [*detail["children"], *(a for v in answers.values() for a in v)]:
                if entry["direction"] == Direction.OUTBOUND and entry["status"] in UNDELIVERED:
                    entry["last_error"] = gateway.store.get(session, entry["id"]).last_error
            click.echo(render_outcome(detail, errors, answers))
            succeeded &= went_through(detail)
    if not succeeded:
        raise SystemExit(1)


def went_through(detail: dict[str, Any]) -> bool:
    """A file (``document_detail``) and every transaction in it ended translated or
    delivered: what exit status 0 means for receive and reprocess."""
    inbound = [c for c in detail["children"] if c["direction"] == Direction.INBOUND]
    return detail["status"] in SUCCEEDED and all(c["status"] in SUCCEEDED for c in inbound)


def refuse_broken_config(
    gateway: Gateway, partner: str | None, *, deliveries: bool, nothing: str = "nothing received"
) -> None:
    """Refuse before storing or queueing anything, as ``serve`` and ``worker`` refuse to
    start: a broken profile or map would fail every document, a missing push key every
    delivery (and a delivery that cannot be configured is dead at once). ``nothing`` says
    what was not done."""
    try:
        registry = gateway.registry()
        checks = key_checks(gateway.config, registry, deliveries=deliveries, listeners=False)
    except ConfigError as exc:
        message = f"{nothing}: the partner configuration is broken:\n{exc}"
        raise ConfigRefused(message) from exc
    problems = [str(c.problem) for c in checks if c.severity == "error"]
    if problems:
        raise ConfigRefused(f"{nothing}: " + "\n".join(problems))
    if partner is not None and registry.get(partner) is None:
        known = ", ".join(sorted(registry.partners)) or "none"
        raise click.BadParameter(
            f"no partner {partner!r} in the config (known: {known})", param_hint="'--partner'"
        )


def render_outcome(
    detail: dict[str, Any],
    child_errors: dict[int, list[dict[str, Any]]] | None = None,
    answers: dict[int, list[dict[str, Any]]] | None = None,
) -> str:
    """What became of a received file: its status and errors, then each child's.

    The file's own errors summarise each rejected transaction by its first reason; the
    transaction's entries (``child_errors``, by document id) give every reason. Under a
    transaction, what it became (``answers``: the ERP order, the 855); an outbound document
    not delivered says why (its ``last_error``).
    """
    child_errors = child_errors or {}
    answers = answers or {}
    lines = [f"document {detail['id']}: {detail['status']}"]
    if detail["status"] == Status.FAILED and detail.get("last_error"):
        lines.append(f"  error: {detail['last_error']}")
    own = detail["errors"]
    if child_errors:  # the children's own entries replace the one-line summaries
        own = [e for e in own if e.get("code") != "transaction_rejected"]
    lines += _error_lines(own, "  ")
    for child in detail["children"]:
        lines += _row(child, "  ")
        lines += _error_lines(child_errors.get(child["id"], []), "    ")
        for answer in answers.get(child["id"], []):
            lines += _row(answer, "    ")
    return "\n".join(lines)


def _row(entry: dict[str, Any], indent: str) -> list[str]:
    row = (
        f"{indent}{entry['direction']:3} {entry['type'] or '-':6} {entry['status']:12} "
        f"{entry['po_number'] or ''} (document {entry['id']})"
    )
    why = entry.get("last_error")
    return [row, f"{indent}  error: {why}"] if why else [row]


def _error_lines(entries: list[dict[str, Any]], indent: str) -> list[str]:
    """The error entries (not warnings), the first SHOWN_ERRORS of them."""
    errors = [e for e in entries if is_error(e)]
    lines = [f"{indent}error: {_where(e)}{e.get('message', '')}" for e in errors]
    if len(lines) > SHOWN_ERRORS:
        more = len(lines) - SHOWN_ERRORS
        lines = [*lines[:SHOWN_ERRORS], f"{indent}... and {more} more (edigate docs show)"]
    return lines


def _where(entry: dict[str, Any]) -> str:
    where = location(entry)
    return f"{where}: " if where else ""


@click.group()
def docs() -> None:
    """Find and inspect documents."""


@docs.command("list")
@click.option("--partner", type=FILTER_TEXT, help="Only this partner.")
@click.option("--status", type=STATUS, help="Only this status.")
@click.option(
    "--type",
    "doc_type",
    type=FILTER_TEXT,
    help="Only this type, in any case: file (the files as received), 850, 855, 997, TA1, "
    "order, ...",
)
@click.option(
    "--direction", type=click.Choice([d.value for d in Direction]), help="Inbound or outbound."
)
@click.option(
    "--since", type=SINCE, help="Window: 30m, 2h, 7d or an ISO date (UTC unless it has an offset)."
)
@click.option("--po", "po_number", type=FILTER_TEXT, help="PO (or invoice or shipment) number.")
@click.option(
    "--correlation",
    type=CORRELATION,
    help="Everything that came of one file: the correlation ID of its log lines (docs show), "
    f"or its first {MIN_CORRELATION_PREFIX}+ digits.",
)
@click.option(
    "--open",
    "open_only",
    is_flag=True,
    help="Leave out files reprocessed since, and their transactions (REPROCESSED_AS "
    "names the attempt): with --status rejected, what is still to fix.",
)
@click.option("--limit", type=ROW_NUMBER, default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_existing_gateway
def list_command(
    gateway: Gateway,
    partner: str | None,
    status: str | None,
    doc_type: str | None,
    direction: str | None,
    since: dt.datetime | None,
    po_number: str | None,
    correlation: str | None,
    open_only: bool,
    limit: int,
    as_json: bool,
) -> None:
    """List documents, newest first.

    A received file that was reprocessed, and each of its transactions, names the
    attempts that ran it again (REPROCESSED_AS: the latest; JSON: all, oldest first).
    """
    flt = DocumentFilter(
        partner=partner,
        status=status,
        doc_type=doc_type,
        direction=direction,
        since=since,
        po_number=po_number,
        correlation=correlation,
        open_only=open_only,
        limit=limit,
    )
    with gateway.store.session() as session:
        rows = list_documents(session, flt)
    if not rows and partner is not None:
        _hint_unknown_partner(gateway, partner)
    if not rows and doc_type is not None:
        _hint_unknown_type(gateway, doc_type)
    if len(rows) == limit:  # there may be more: say so where a script's stdout stays clean
        click.echo(f"note: the newest {limit} shown; --limit for more", err=True)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    columns = ["id", "created_at", "direction", "partner", "type", "status", "reprocessed_as"]
    columns += ["po_number", "errors", "warnings", "filename"]
    latest = [{**row, "reprocessed_as": (row["reprocessed_as"] or [None])[-1]} for row in rows]
    click.echo(render_table(latest, columns))


def _hint_unknown_partner(gateway: Gateway, partner: str) -> None:
    """An empty list for a partner the config does not know is most likely a typo: say so
    on stderr (documents of a partner since removed from the config still list)."""
    try:
        known = sorted(gateway.registry().partners)
    except ConfigError:
        return  # the list answered what was asked; a broken config is not its business
    if partner not in known:
        click.echo(
            f"note: no partner {partner!r} in the config (known: {', '.join(known) or 'none'})",
            err=True,
        )


def _hint_unknown_type(gateway: Gateway, doc_type: str) -> None:
    """An empty list for a type no stored document has is most likely a typo (``--type
    855a``) or a name we do not use (``interchange``): name the types there are."""
    with gateway.store.reading() as session:
        present = doc_types(session)
    if doc_type.lower() not in {t.lower() for t in present}:
        click.echo(
            f"note: no document of type {doc_type!r} (types stored: "
            f"{', '.join(present) or 'none'})",
            err=True,
        )


@docs.command("show")
@click.argument("doc_id", type=ROW_NUMBER)
@click.option("--raw", is_flag=True, help="Print the stored bytes instead.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_existing_gateway
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
    for title in ("errors", "warnings"):
        entries = detail[title]
        lines.append(f"{title} ({len(entries)}):")
        for entry in entries:
            where = _where(entry) or "document: "
            lines.append(f"  {where}[{entry.get('code', '')}] {entry.get('message', '')}")
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
@click.option(
    "--since",
    type=SINCE,
    default="24h",
    show_default=True,
    help="Window: 30m, 2h, 7d, ... or an ISO date (UTC unless it has an offset).",
)
@click.option(
    "--open",
    "open_only",
    is_flag=True,
    help="Leave out files reprocessed since, and their transactions (as docs list --open).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_existing_gateway
def stats_command(gateway: Gateway, since: dt.datetime, open_only: bool, as_json: bool) -> None:
    """Counts by partner, type and status over a window."""
    with gateway.store.session() as session:
        rows = stats(session, since, open_only=open_only)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(render_table(rows, ["partner", "direction", "type", "status", "count"]))
