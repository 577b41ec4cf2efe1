"""Processing commands: ``edigate worker``, ``edigate reprocess``, ``edigate resend``."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import click

from ..app import Gateway
from ..key_checks import key_checks, require_keys
from ..pipeline.operations import (
    Attempt,
    ReprocessRefused,
    plan_reprocess,
    reprocess,
    resend,
    select_for_reprocess,
)
from ..store.queries import DocumentFilter, parse_since
from ..worker_processes import LOG_FORMAT
from .context import pass_existing_gateway, pass_gateway


class WorkerNameType(click.ParamType):  # type: ignore[type-arg]
    """A worker name as given: what a claim records (``claimed_by``, 100 characters, room
    left for serve's ``/N``). No colons: those mark default names (``host:pidns:pid:tag``),
    which a starting worker judges by their process. No slashes: ``NAME/N`` are the names
    of ``serve --name NAME``'s worker processes, which serve alone takes back."""

    name = "NAME"
    PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,89}")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not self.PATTERN.fullmatch(text):
            self.fail(
                f"{text!r}: expected 1 to 90 letters, digits and . _ @ - (starting with a "
                "letter or digit)",
                param,
                ctx,
            )
        return text


WORKER_NAME = WorkerNameType()


@click.command()
@click.option("--until-idle", is_flag=True, help="Stop when nothing is left to do.")
@click.option(
    "--name",
    type=WORKER_NAME,
    help="Worker name in claims and the audit trail (default host:pidns:pid:tag); one per "
    "worker, stable across restarts to take its claims back at once.",
)
@click.option("--log-level", default="INFO", show_default=True)
@pass_gateway
def worker(gateway: Gateway, until_idle: bool, name: str | None, log_level: str) -> None:
    """Claim and process pending documents (inbound and outbound) until stopped.

    Several may run on one database (on SQLite, on its host). At start it takes back the
    claims of this host's dead workers and of its own --name; other claims wait out their
    lease ([worker] lease_seconds).

    Like 'edigate serve', it first checks the keys its deliveries will use (sftp_push client
    keys, our AS2 private key toward AS2 partners): a missing, unreadable or group-readable
    one stops it now, naming the partner and the file. --log-level as serve's.
    """
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    # The checks load the partner registry: the long-running heap is set up after them.
    require_keys(key_checks(gateway.config, gateway.registry(), listeners=False))
    stats = gateway.worker(name).run_process(until_idle=until_idle)
    click.echo(f"processed {stats.processed} document(s), {stats.failed} failed attempt(s)")


@click.command("reprocess")
@click.argument("doc_ids", nargs=-1, type=int)
@click.option("--status", help="Select by status, e.g. rejected.")
@click.option("--partner", help="Select by partner.")
@click.option("--since", help="Select by age: 30m, 2h, 7d or an ISO date.")
@click.option("--limit", type=int, default=1000, show_default=True)
@click.option("--dry-run", is_flag=True, help="Show what would run again; change nothing.")
@click.option("--no-process", is_flag=True, help="Only queue the attempts for the worker.")
@click.option(
    "--from-start",
    is_flag=True,
    help="Run the whole file again: the orders, 855s and 997s it (or its committed pieces, "
    "for a dead large file) already sent are SENT AGAIN. Only when those orders were "
    "withdrawn from the ERP.",
)
@pass_existing_gateway
def reprocess_command(
    gateway: Gateway,
    doc_ids: tuple[int, ...],
    status: str | None,
    partner: str | None,
    since: str | None,
    limit: int,
    dry_run: bool,
    no_process: bool,
    from_start: bool,
) -> None:
    """Run stored documents again with today's profiles and maps, as new linked attempts.

    Transactions whose orders an earlier run of the file put in the ERP outbox are not
    delivered again; a file with nothing left to deliver, or an original already
    reprocessed (run its latest attempt), is refused. A selection without --status takes
    the rejected and dead files. A large file that went dead after some of its pieces
    (500 transactions each) were committed is resumed: the new attempt skips the
    transactions whose orders are already in the ERP outbox, and the interchange they
    belong to is still acknowledged by one 997 naming every transaction. A file the worker
    is still retrying is refused (it resumes by itself); --from-start runs a file from the
    beginning instead, sending what it sent before again. Refused documents are listed and
    make the exit status 1.
    """
    ids = list(doc_ids)
    if status or partner or since:
        flt = DocumentFilter(
            partner=partner,
            status=status,
            since=parse_since(since) if since else None,
            limit=limit,
        )
        selected = select_for_reprocess(gateway.store, flt)
        if not selected and not ids:
            click.echo(
                "no document matches (a file reprocessed already is represented by its "
                "latest attempt; without --status, only rejected and dead files are chosen)"
            )
            return
        ids += selected
    if not ids:
        raise click.UsageError("name document IDs or select with --status/--partner/--since")
    if dry_run:
        click.echo(f"would reprocess {len(ids)} document(s): {' '.join(map(str, ids))}")
        refused = 0
        for doc_id in ids:
            try:
                committed, skipped = plan_reprocess(gateway.store, doc_id, from_start=from_start)
            except ReprocessRefused as exc:
                refused += 1
                click.echo(f"document {doc_id}: refused: {exc}", err=True)
                continue
            if committed is not None:
                click.echo(f"document {doc_id}: would resume: {committed.describe()}")
            if skipped:
                click.echo(f"document {doc_id}: would not send again: {_skipped(skipped)}")
        if refused:
            raise click.ClickException(f"{refused} document(s) would be refused")
        return
    attempts: list[Attempt] = []
    refusals: list[str] = []
    # A bar only for a person watching a long selection (a script's output stays clean).
    shown = len(ids) > 20 and sys.stderr.isatty()
    with click.progressbar(ids, label="queueing", show_pos=True, file=sys.stderr) as bar:
        for doc_id in bar if shown else ids:
            try:
                attempts.append(reprocess(gateway.store, doc_id, from_start=from_start))
            except ReprocessRefused as exc:
                refusals.append(f"document {doc_id}: refused: {exc}")
    if attempts and not no_process:
        gateway.worker().run(until_idle=True)
    with gateway.store.session() as session:
        for attempt in attempts:
            doc = gateway.store.get(session, attempt.attempt)
            click.echo(f"document {attempt.original}: attempt {attempt.attempt} is {doc.status}")
            if attempt.resumed is not None:
                click.echo(f"  resumed: {attempt.resumed.describe()}")
            if attempt.restarted is not None:
                click.echo(f"  from the start, sending again: {attempt.restarted.describe()}")
            if attempt.skipped:
                click.echo(f"  not sent again: {_skipped(attempt.skipped)}")
    for line in refusals:
        click.echo(line, err=True)
    if refusals:
        raise click.ClickException(f"{len(refusals)} document(s) not reprocessed")


def _skipped(count: int) -> str:
    return (
        f"{count} transaction(s) whose orders an earlier run put in the ERP outbox "
        "(acknowledged with the rest, not delivered twice)"
    )


@click.command("resend")
@click.argument("doc_ids", nargs=-1, type=int, required=True)
@click.option("--no-process", is_flag=True, help="Only queue them for the worker.")
@pass_existing_gateway
def resend_command(gateway: Gateway, doc_ids: tuple[int, ...], no_process: bool) -> None:
    """Deliver outbound documents again."""
    for doc_id in doc_ids:
        resend(gateway.store, doc_id)
    if not no_process:
        gateway.worker().run(until_idle=True)
    with gateway.store.session() as session:
        for doc_id in doc_ids:
            click.echo(f"document {doc_id}: {gateway.store.get(session, doc_id).status}")
