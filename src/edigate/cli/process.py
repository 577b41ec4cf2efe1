"""Processing commands: ``edigate worker``, ``edigate reprocess``, ``edigate resend``."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import click

from ..app import Gateway
from ..errors import EdigateError
from ..key_checks import key_checks, require_keys
from ..pipeline.operations import (
    Attempt,
    Committed,
    ReprocessRefused,
    Sent,
    answers_of_superseded,
    plan_reprocess,
    reprocess,
    resend,
    resendable,
    select_for_reprocess,
    sent_before,
)
from ..pipeline.runs import original_of
from ..store import Direction, Document, Status, Store
from ..store.queries import DocumentFilter, document_detail, list_documents
from ..worker_processes import LOG_FORMAT
from .context import LOG_LEVEL, pass_existing_gateway, pass_gateway
from .docs import (
    FILTER_TEXT,
    ROW_NUMBER,
    SINCE,
    STATUS,
    UNDELIVERED,
    refuse_broken_config,
    went_through,
)

#: What a reprocess would do for a document: the pieces it resumes after, the skipped count.
Plan = tuple[Committed | None, int]
#: How a resent document ends when it did not reach the partner.
#: More IDs than this get a progress bar (on a terminal).
BAR_AFTER = 20


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
@click.option("--log-level", type=LOG_LEVEL, default="INFO", show_default=True)
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
@click.argument("doc_ids", nargs=-1, type=ROW_NUMBER)
@click.option("--status", type=STATUS, help="Select by status, e.g. rejected.")
@click.option("--partner", type=FILTER_TEXT, help="Select by partner.")
@click.option(
    "--since",
    type=SINCE,
    help="Select by age: 30m, 2h, 7d or an ISO date (UTC unless it has an offset).",
)
@click.option("--limit", type=ROW_NUMBER, default=1000, show_default=True)
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
    since: dt.datetime | None,
    limit: int,
    dry_run: bool,
    no_process: bool,
    from_start: bool,
) -> None:
    """Run stored documents again with today's profiles and maps, as new linked attempts.

    Transactions whose orders an earlier run of the file put in the ERP outbox are not
    delivered again; a file with nothing left to deliver, or an original already
    reprocessed (run its latest attempt), is refused. A selection without --status takes
    the files that are rejected or dead, or hold a transaction or order that is (--status
    matches a file's own status or one of its transactions'). A large file that went dead
    after some of its pieces (500 transactions each) were committed is resumed: the new
    attempt skips the transactions whose orders are already in the ERP outbox, and the
    interchange they belong to is still acknowledged by one 997 naming every transaction.
    A file the worker
    is still retrying is refused (it resumes by itself); --from-start runs a file from the
    beginning instead, sending what it sent before again.

    Every document is checked before any runs: with one named ID missing, outbound or
    refused, none runs; they are all listed, with exit status 1. Files a selection found
    that cannot run are listed (exit status 1) and the rest of the selection runs.
    """
    ids = list(doc_ids)
    if status or partner or since:
        flt = DocumentFilter(partner=partner, status=status, since=since, limit=limit)
        selected = select_for_reprocess(gateway.store, flt)
        if not selected and not ids:
            click.echo(
                "no document matches (a file reprocessed already is represented by its "
                "latest attempt; without --status, only files that are, or hold an order "
                "that is, rejected or dead are chosen)"
            )
            return
        ids += selected
    if not ids:
        raise click.UsageError("name document IDs or select with --status/--partner/--since")
    if not dry_run:
        refuse_broken_config(
            gateway, None, deliveries=not no_process, nothing="nothing reprocessed"
        )
    plans, problems = _check_reprocess(gateway.store, ids, from_start=from_start)
    named = set(doc_ids)
    if any(doc_id in named for doc_id in problems):
        # An ID the operator typed is wrong: run none, rather than some of what was meant.
        for line in problems.values():
            click.echo(line, err=True)
        refused = (
            f"{len(problems)} document(s) {'would be refused' if dry_run else 'not reprocessed'}"
        )
        if not plans:  # nothing else was named: there is no rest to run
            raise click.ClickException(refused)
        what = "nothing would be" if dry_run else "nothing was"
        raise click.ClickException(
            f"{refused}, so {what} reprocessed: leave them out to run the rest"
        )
    # What a selection found but cannot run is reported; the rest of the selection runs.
    refusals = list(problems.values())
    if dry_run:
        _show_plans(gateway.store, plans, from_start=from_start)
        for line in refusals:
            click.echo(line, err=True)
        if refusals:
            raise click.ClickException(f"{len(refusals)} document(s) would be refused")
        return
    attempts: list[Attempt] = []
    for doc_id in _progress(list(plans)):
        try:
            attempts.append(reprocess(gateway.store, doc_id, from_start=from_start))
        except EdigateError as exc:  # changed since the check (another operator, the worker)
            refusals.append(_problem(doc_id, exc))
    if attempts and not no_process:
        gateway.worker().run(until_idle=True)
    short = 0  # attempts that did not go through (rejected again, a transaction rejected)
    with gateway.store.session() as session:
        for attempt in attempts:
            doc = gateway.store.get(session, attempt.attempt)
            detail = document_detail(session, doc)
            through = no_process or went_through(detail)
            counts = "" if through else _transaction_counts(detail)
            click.echo(
                f"document {attempt.original}: attempt {attempt.attempt} is {doc.status}{counts}"
            )
            if not through:
                short += 1
            if attempt.resumed is not None:
                click.echo(f"  resumed: {attempt.resumed.describe()}")
            if attempt.restarted is not None:
                click.echo(f"  from the start, sending again: {attempt.restarted.describe()}")
            if attempt.sent_again:
                click.echo(f"  from the start, sending again: {_sent(attempt.sent_again)}")
            if attempt.skipped:
                click.echo(f"  not sent again: {_skipped(attempt.skipped)}")
    for line in refusals:
        click.echo(line, err=True)
    if refusals:
        raise click.ClickException(f"{len(refusals)} document(s) not reprocessed")
    if short:
        raise click.ClickException(
            f"{short} attempt(s) did not go through: 'edigate docs show ID' says why"
        )


def _check_reprocess(
    store: Store, ids: Sequence[int], *, from_start: bool
) -> tuple[dict[int, Plan], dict[int, str]]:
    """Each file's plan, by the ID named, and what is wrong with the others, before any
    runs: a half-done command would leave some files reprocessed and others not. A file
    named twice (or with one of its transactions) is planned once: a second attempt of it
    would be refused as reprocessed already."""
    plans: dict[int, Plan] = {}
    problems: dict[int, str] = {}
    files: set[int] = set()
    for doc_id in ids:
        file_id = _file_of(store, doc_id)
        if file_id in files:
            continue
        files.add(file_id)
        try:
            plans[doc_id] = plan_reprocess(store, doc_id, from_start=from_start)
        except EdigateError as exc:
            problems[doc_id] = _problem(doc_id, exc)
    return plans, problems


def _file_of(store: Store, doc_id: int) -> int:
    """The received file an inbound document belongs to, as first received (an attempt is
    the same file: two of them in one command would deliver its orders twice); any other
    ID as it is (the plan says what is wrong with it)."""
    with store.reading() as session:
        doc = session.get(Document, doc_id)
        if doc is None or doc.direction != Direction.INBOUND.value:
            return doc_id
        while doc.parent_id is not None:
            doc = store.get(session, doc.parent_id)
        return original_of(session, doc.id, doc.reprocess_of_id)


def _problem(doc_id: int, exc: EdigateError) -> str:
    """A refusal says which document; the other errors name it already."""
    return f"document {doc_id}: refused: {exc}" if isinstance(exc, ReprocessRefused) else str(exc)


def _show_plans(store: Store, plans: dict[int, Plan], *, from_start: bool) -> None:
    """What a dry run would do, and from the start what it would send again. With nothing
    to run (every document found is refused), nothing is said here: the refusals follow,
    as in a real run."""
    if not plans:
        return
    named = []
    for doc_id in plans:  # a transaction runs as part of its file: name the file too
        file_id = _file_of(store, doc_id)
        named.append(str(doc_id) if file_id == doc_id else f"{doc_id} (file {file_id})")
    click.echo(f"would reprocess {len(plans)} document(s): {' '.join(named)}")
    for doc_id, (committed, skipped) in plans.items():
        if committed is not None:
            click.echo(f"document {doc_id}: would resume: {committed.describe()}")
        if skipped:
            click.echo(f"document {doc_id}: would not send again: {_skipped(skipped)}")
        again = sent_before(store, doc_id) if from_start else []
        if again:
            click.echo(f"document {doc_id}: from the start, would send again: {_sent(again)}")


def _progress(ids: list[int]) -> Iterator[int]:
    """A bar only for a person watching a long selection (a script's output stays clean)."""
    if len(ids) <= BAR_AFTER or not sys.stderr.isatty():
        yield from ids
        return
    with click.progressbar(ids, label="queueing", show_pos=True, file=sys.stderr) as bar:
        yield from bar


def _skipped(count: int) -> str:
    return (
        f"{count} transaction(s) whose orders an earlier run put in the ERP outbox "
        "(acknowledged with the rest, not delivered twice)"
    )


#: POs (or documents) named in what a run from the start sends again; the rest are counted.
SHOWN_SENT = 5


def _sent(sent: Sequence[Sent]) -> str:
    """``2 order(s) already in the ERP outbox (PO 4500012347, 4500012348)``; for an ERP
    file, ``its 855 for the partner (document 12)``."""
    parts = []
    orders = [s for s in sent if s.to_erp]
    if orders:
        pos = list(dict.fromkeys(s.po_number or "?" for s in orders))
        more = " ..." if len(pos) > SHOWN_SENT else ""
        parts.append(
            f"{len(orders)} order(s) already in the ERP outbox "
            f"(PO {', '.join(pos[:SHOWN_SENT])}{more})"
        )
    made = [s for s in sent if not s.to_erp]
    parts += [f"its {s.doc_type} for the partner (document {s.doc})" for s in made[:SHOWN_SENT]]
    if len(made) > SHOWN_SENT:
        parts.append(f"and {len(made) - SHOWN_SENT} more")
    return "; ".join(parts)


@click.command("resend")
@click.argument("doc_ids", nargs=-1, type=ROW_NUMBER)
@click.option(
    "--dead", is_flag=True, help="Also every outbound document that is dead (after an outage)."
)
@click.option("--partner", type=FILTER_TEXT, help="With --dead: only this partner's.")
@click.option("--since", type=SINCE, help="With --dead: only those made since: 2h, 7d, a date.")
@click.option("--limit", type=ROW_NUMBER, default=1000, show_default=True)
@click.option("--no-process", is_flag=True, help="Only queue them for the worker.")
@pass_existing_gateway
def resend_command(
    gateway: Gateway,
    doc_ids: tuple[int, ...],
    dead: bool,
    partner: str | None,
    since: dt.datetime | None,
    limit: int,
    no_process: bool,
) -> None:
    """Deliver outbound documents again: those named, and with --dead every dead one (a
    partner's endpoint down for longer than the delivery retries, now back).

    Every ID is checked first: with one missing, inbound, queued for delivery already or
    being delivered by a worker now, none is resent. Exit status 1 when one is not
    delivered (delivery_failed: the worker tries again later; dead).
    """
    if (partner or since) and not dead:
        raise click.UsageError("--partner and --since select with --dead")
    ids = list(dict.fromkeys(doc_ids))
    if dead:
        flt = DocumentFilter(
            partner=partner,
            status=Status.DEAD.value,
            direction=Direction.OUTBOUND.value,
            since=since,
            limit=limit,
        )
        with gateway.store.reading() as session:
            found = [row["id"] for row in list_documents(session, flt)]
        stale = answers_of_superseded(gateway.store, found)
        if stale:
            click.echo(
                f"left out {len(stale)} made for a file reprocessed since (its attempt made "
                f"its own; name the ID to send one anyway): {', '.join(map(str, sorted(stale)))}"
            )
        ids += [i for i in reversed(found) if i not in ids and i not in stale]
        if not ids:
            click.echo("no dead outbound document matches")
            return
    if not ids:
        raise click.UsageError("name document IDs, or select with --dead")
    refuse_broken_config(gateway, None, deliveries=True, nothing="nothing resent")
    lease = gateway.config.worker.lease_seconds
    problems = _check_resend(gateway.store, ids, lease)
    if problems:
        for line in problems:
            click.echo(line, err=True)
        if len(problems) == len(ids):  # nothing else was named: there is no rest to send
            raise click.ClickException(f"{len(problems)} document(s) not resent")
        raise click.ClickException(
            f"{len(problems)} document(s) not resent, so none was: leave them out to resend "
            "the rest"
        )
    for doc_id in ids:
        resend(gateway.store, doc_id, lease)
    if not no_process:
        gateway.worker().run(until_idle=True)
    undelivered = 0
    with gateway.store.session() as session:
        for doc_id in ids:
            doc = gateway.store.get(session, doc_id)
            click.echo(f"document {doc_id}: {doc.status}")
            if doc.status in UNDELIVERED:
                undelivered += 1
                click.echo(f"  error: {doc.last_error}")
    if undelivered:
        raise click.ClickException(
            f"{undelivered} document(s) not delivered (delivery_failed: the worker tries "
            "again later; dead: resend it once the cause is fixed)"
        )


def _check_resend(store: Store, ids: Sequence[int], lease_seconds: float) -> list[str]:
    """What is wrong with each ID, before any is resent (see :func:`resendable`)."""
    problems: list[str] = []
    with store.reading() as session:
        for doc_id in ids:
            try:
                resendable(store, session, doc_id, lease_seconds)
            except EdigateError as exc:
                problems.append(str(exc))
    return problems


def _transaction_counts(detail: dict[str, Any]) -> str:
    """ ", its transactions: 1 delivered, 5 rejected": why a file that is itself translated
    did not go through."""
    counts = Counter(c["status"] for c in detail["children"] if c["direction"] == Direction.INBOUND)
    if not counts:
        return ""
    return ", its transactions: " + ", ".join(
        f"{n} {status}" for status, n in sorted(counts.items())
    )
