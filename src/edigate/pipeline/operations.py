"""Operator actions on stored documents: reprocess and resend.

A reprocess is a new attempt linked to the original (``reprocess_of_id``): the stored bytes
run again with today's profiles and maps. Nothing is deleted or overwritten; the original
keeps its status and gains an audit event pointing at the new attempt.

A large file that died after some of its pieces were committed (``meta["inbound_progress"]``,
see ``inbound.py``) already put those pieces' orders in the ERP outbox and their 855s and
completed interchanges' 997s in the partner's. Running it from the start would send them
all again, so its reprocess **resumes**: the attempt carries the original's progress and
commits only the transactions after it. The interchange that was cut short is still
acknowledged once, by a 997 built from all of its transactions (the committed ones are read
again only to feed the ack builder). ``from_start=True`` is the deliberate exception, for
when the committed orders were wrong and have been withdrawn from the ERP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..errors import EdigateError
from ..store import BlobRef, Direction, Document, Status, Store
from ..store.queries import DocumentFilter, superseded
from ..store.schema import AuditEvent, utcnow
from ..store.statuses import ERP_CHANNEL
from .inbound import DELIVERED_KEY, PROGRESS_KEY, Progress
from .partner_files import FILE_POSITION_KEY

#: Where a resumed attempt started: the document whose progress it took over, and where.
RESUMED_KEY = "resumed_from"
#: An original in these states is still the worker's: it resumes from its progress itself.
_IN_HAND = (Status.RECEIVED.value, Status.PROCESSING.value, Status.FAILED.value)
#: What a selection by partner or age reprocesses when it names no status.
PROBLEM_STATUSES = (Status.REJECTED.value, Status.DEAD.value)


class ReprocessRefused(EdigateError):
    """Reprocessing this document now would send what was already sent (the message says
    what was committed and what the operator can do)."""


@dataclass(frozen=True, slots=True)
class Committed:
    """What the pieces of a file committed before it stopped."""

    doc: int
    pieces: int
    transactions: int  # split children of this document
    orders: int  # their orders in the ERP outbox
    interchange: int  # 0-based: interchanges before it are done, with their acks
    transaction: int  # in that interchange, transactions before this index are committed
    #: The document whose progress this one took over when it was itself a resumed attempt.
    resumed_from: int | None = None

    def describe(self) -> str:
        took = f", after the pieces of document {self.resumed_from}" if self.resumed_from else ""
        return (
            f"{self.pieces} piece(s) of document {self.doc} were committed{took}: "
            f"{self.transactions} transaction(s), {self.orders} order(s) already in the ERP "
            f"outbox; the file stopped in interchange {self.interchange + 1} after its first "
            f"{self.transaction} transaction(s)"
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """A document an earlier run of a file sent (an order in the ERP outbox; for an ERP
    file, the 855, 856 or 810 it made for the partner) that a run from the start makes and
    sends again."""

    doc: int
    doc_type: str | None
    po_number: str | None
    #: An order for the ERP, not a document for the partner.
    to_erp: bool


@dataclass(frozen=True, slots=True)
class Attempt:
    original: int
    attempt: int
    #: Set when the attempt resumes after the original's committed pieces.
    resumed: Committed | None = None
    #: Set when the operator restarted a partly committed file from the beginning.
    restarted: Committed | None = None
    #: Transactions acknowledged again but not sent again: their orders reached the ERP
    #: from an earlier run of the file.
    skipped: int = 0
    #: From the start: what earlier runs of the file sent that this attempt sends again.
    sent_again: tuple[Sent, ...] = ()


def select_for_reprocess(store: Store, flt: DocumentFilter) -> list[int]:
    """Top-level inbound documents matching the filter (children are reprocessed via their
    file: the whole interchange runs again), each the latest attempt of its file: an
    original that was reprocessed already is represented by its attempt. Without a status
    in the filter, only files that ended rejected or dead are chosen.

    The status is the file's own or one of its transactions' (orders'): a file whose other
    orders went through has a rejected one to run again too (the attempt leaves out the
    orders that reached the ERP)."""
    statuses = [flt.status] if flt.status else list(PROBLEM_STATUSES)
    child = aliased(Document)
    child_has_status = (
        select(child.id)
        .where(
            child.parent_id == Document.id,
            child.direction == Direction.INBOUND.value,
            child.status.in_(statuses),
        )
        .exists()
    )
    with store.reading() as session:
        query = replace(flt, status=None).apply(
            select(Document.id).where(
                Document.direction == Direction.INBOUND.value,
                Document.parent_id.is_(None),
                ~superseded(),
                or_(Document.status.in_(statuses), child_has_status),
            )
        )
        return list(session.scalars(query.order_by(Document.id).limit(flt.limit)))


def plan_reprocess(
    store: Store, doc_id: int, *, from_start: bool = False
) -> tuple[Committed | None, int]:
    """What ``reprocess`` would do, changing nothing: the committed pieces an attempt would
    resume after (None: it runs from the start) and how many transactions it would not
    send again (their orders are in the ERP outbox). Raises ReprocessRefused like
    ``reprocess``."""
    with store.reading() as session:
        doc = _top(store, session, doc_id)
        committed = _decide(store, session, doc, from_start)
        return committed, len(_skips(session, doc, from_start))


def sent_before(store: Store, doc_id: int) -> list[Sent]:
    """What ``reprocess(doc_id, from_start=True)`` sends again, changing nothing: the orders
    every run of the file (the original and each attempt) put in the ERP outbox, or for a
    file from the ERP the documents they made for the partner. Dead ones never went out.
    (The partner's 997s, TA1s and automatic 855s are made anew too, as for any run.)"""
    with store.reading() as session:
        return _sent_before(session, _top(store, session, doc_id))


def _sent_before(session: Session, doc: Document) -> list[Sent]:
    runs = _every_run(session, doc)
    if doc.channel == ERP_CHANNEL:
        made = session.execute(
            _answers_made(runs, Document.id, Document.doc_type, Document.po_number)
        )
        return [Sent(i, t, po, to_erp=False) for i, t, po in made]
    transaction = aliased(Document)
    orders = session.execute(
        select(Document.id, Document.doc_type, Document.po_number)
        .join(transaction, Document.parent_id == transaction.id)
        .where(
            transaction.parent_id.in_(runs),
            Document.direction == Direction.OUTBOUND.value,
            Document.channel == ERP_CHANNEL,
            Document.status != Status.DEAD.value,
        )
        .order_by(Document.id)
    )
    return [Sent(i, t, po, to_erp=True) for i, t, po in orders]


def _every_run(session: Session, doc: Document) -> list[int]:
    """Every run of ``doc``'s bytes: the original it is an attempt of, and every attempt
    of that (an attempt of an attempt included)."""
    runs = [_earlier_runs(session, doc)[-1]]
    found = set(runs)
    next_ids = list(runs)
    while next_ids:
        next_ids = [
            i
            for i in session.scalars(
                select(Document.id).where(Document.reprocess_of_id.in_(next_ids))
            )
            if i not in found
        ]
        found.update(next_ids)
        runs += next_ids
    return runs


def reprocess(store: Store, doc_id: int, *, from_start: bool = False) -> Attempt:
    """Queue the stored bytes of ``doc_id`` (or of its file, for a split child) again.

    A file with committed pieces is resumed after them, unless ``from_start`` (its orders
    are then sent again). Raises ReprocessRefused when that cannot be done safely.
    """
    with store.session() as session:
        doc = _top(store, session, doc_id)
        if store.engine.dialect.name == "postgresql":
            # Two operators reprocessing one file: the second waits, then sees the first's
            # attempt (SQLite's writer lock already serialises them).
            session.execute(select(Document.id).where(Document.id == doc.id).with_for_update())
        committed = _decide(store, session, doc, from_start)
        skip = _skips(session, doc, from_start)
        again = tuple(_sent_before(session, doc)) if from_start else ()
        meta = {
            k: v
            for k, v in (doc.meta or {}).items()
            if k not in (PROGRESS_KEY, RESUMED_KEY, DELIVERED_KEY)
        }
        if skip:
            meta[DELIVERED_KEY] = [list(pair) for pair in skip]
        attempt = store.add_document(
            session,
            BlobRef(doc.blob_sha256, doc.size),
            direction=Direction.INBOUND,
            status=Status.RECEIVED,
            channel=doc.channel,
            partner_id=_channel_partner(store, session, doc),
            filename=doc.filename,
            reprocess_of_id=doc.id,
            correlation_id=doc.correlation_id,
            meta={**meta, "reprocess_of": doc.id},
            # What the file is, as found when it was taken (an ERP file's type and PO: its
            # lane does not set them again): 'docs list --po' finds the attempt too.
            **{name: getattr(doc, name) for name in _KEPT_BY_ATTEMPTS},
        )
        detail: dict[str, object] = {"attempt": attempt.id}
        if committed is not None:
            # The attempt's own progress: the inbound processor resumes it like a file
            # whose worker died between pieces (the counts make its final status the
            # file's; the earlier pieces' errors stay on it).
            progress = Progress.of(doc.id, doc.meta)
            progress.doc = attempt.id
            attempt.meta = {
                **(attempt.meta or {}),
                PROGRESS_KEY: progress.to_dict(),
                RESUMED_KEY: {
                    "doc": doc.id,
                    "interchange": committed.interchange,
                    "transaction": committed.transaction,
                },
            }
            attempt.errors = list(doc.errors or [])
            attempt.interchange_control = doc.interchange_control
            detail["resumed_after"] = _detail(committed)
        restarted = None
        if from_start:
            restarted = _committed(session, doc) if _has_progress(doc) else None
            if restarted is not None:
                detail["from_start"] = _detail(restarted)
        if skip:
            detail["skipped_delivered"] = len(skip)
        if again:
            detail["sent_again"] = [sent.doc for sent in again]
        store.audit(session, doc, "reprocessed", doc.status, doc.status, detail)
        return Attempt(
            doc.id,
            attempt.id,
            resumed=committed,
            restarted=restarted,
            skipped=len(skip),
            sent_again=again,
        )


def resendable(store: Store, session: Session, doc_id: int, lease_seconds: float) -> Document:
    """``doc_id``, if it can be resent (else EdigateError): it exists, is outbound, and is
    neither still queued for its delivery nor being delivered by a worker now (a resend
    would then send it twice, and the worker's outcome would land on the resent row). A
    claim past its lease (``[worker] lease_seconds``) is a dead worker's: the resend takes
    the document from it."""
    doc = store.get(session, doc_id)
    if doc.direction != Direction.OUTBOUND.value:
        raise EdigateError(f"document {doc_id} is inbound: use 'edigate reprocess {doc_id}'")
    claimed = doc.claimed_at
    if doc.claimed_by is not None and (
        claimed is None or utcnow() - claimed < dt.timedelta(seconds=lease_seconds)
    ):
        raise EdigateError(
            f"document {doc_id} is being delivered now (by worker {doc.claimed_by}): "
            "resend it once that delivery has ended"
        )
    if doc.status == Status.CREATED.value:
        raise EdigateError(
            f"document {doc_id} is queued for delivery already (created): a worker sends it "
            "('edigate worker --until-idle' does now)"
        )
    return doc


#: What one delivery left on a document's meta: its detail, its proof (a signed MDN), a
#: partner's rejection, an async MDN. A resend files them under ``earlier_deliveries``.
_DELIVERY_KEYS = ("delivery", "evidence_sha256", "rejection", "rejection_evidence_sha256")
_AS2_KEYS = ("as2_pending", "as2_mdn")


def resend(store: Store, doc_id: int, lease_seconds: float) -> None:
    """Deliver an outbound document again (its bytes and control numbers unchanged).

    The earlier delivery's record and proof are kept, under ``earlier_deliveries``, not
    overwritten by the next; and ``resends`` counts the resends, which gives an AS2
    message a new Message-ID (a receiver drops a Message-ID it has seen: RFC 4130 resends
    of one message keep theirs, but an operator's resend is a new message)."""
    with store.session() as session:
        doc = resendable(store, session, doc_id, lease_seconds)
        meta = dict(doc.meta or {})
        earlier = {k: meta.pop(k) for k in (*_DELIVERY_KEYS, *_AS2_KEYS) if k in meta}
        if earlier:
            meta["earlier_deliveries"] = [*meta.get("earlier_deliveries", []), earlier]
        meta["resends"] = int(meta.get("resends", 0)) + 1
        doc.meta = meta
        doc.attempts = 0
        doc.next_attempt_at = None
        store.transition(session, doc, Status.CREATED, "resend")


def answers_of_superseded(store: Store, doc_ids: Sequence[int]) -> set[int]:
    """The outbound documents of ``doc_ids`` made for a file that was reprocessed since:
    the attempt made its own (its order, its acks), so sending the old one again would
    give the ERP an order twice. Only named by ID are they resent."""
    if not doc_ids:
        return set()
    parent = aliased(Document)
    with store.reading() as session:
        rows = session.scalars(
            select(Document.id)
            .join(parent, parent.id == Document.parent_id)
            .where(Document.id.in_(list(doc_ids)), superseded(parent))
        )
        return set(rows)


def _top(store: Store, session: Session, doc_id: int) -> Document:
    """The inbound file that ``doc_id`` is (or is a split child of)."""
    doc = store.get(session, doc_id)
    if doc.direction != Direction.INBOUND.value:
        raise EdigateError(f"document {doc_id} is outbound: use 'edigate resend {doc_id}'")
    while doc.parent_id is not None:
        doc = store.get(session, doc.parent_id)
    return doc


def _channel_partner(store: Store, session: Session, doc: Document) -> str | None:
    """The partner the channel authenticated when the file (or the original it is an
    attempt of) came in: None for a folder or a mailbox that names none.

    Not ``doc.partner_id``: processing fills that in from the file's first interchange, and
    an attempt carrying it would check another partner's interchanges in the same file
    against that partner's account, and refuse them. Files received before the receipt
    recorded the partner fall back to ``partner_id``.
    """
    while doc.reprocess_of_id is not None:
        doc = store.get(session, doc.reprocess_of_id)
    detail = session.scalar(
        select(AuditEvent.detail)
        .where(AuditEvent.document_id == doc.id, AuditEvent.event == "received")
        .order_by(AuditEvent.id)
        .limit(1)
    )
    if isinstance(detail, dict) and "partner" in detail:
        partner: str | None = detail["partner"]
        return partner
    return doc.partner_id


def _has_progress(doc: Document) -> bool:
    return Progress.of(doc.id, doc.meta).started


def _skips(session: Session, doc: Document, from_start: bool) -> list[tuple[str, int]]:
    """The transactions an attempt must not send again (see ``_rerun_plan``): none when it
    resumes (the resume point covers them) or runs from the start on purpose."""
    if from_start or _has_progress(doc):
        return []
    return _rerun_plan(session, doc)


def _decide(store: Store, session: Session, doc: Document, from_start: bool) -> Committed | None:
    """None: run from the start; else the committed pieces to resume after. Refuses what
    would process a committed transaction twice, and a duplicate (its orders came through
    the file it repeats; run again, it would be held as a duplicate once more)."""
    if doc.status == Status.DUPLICATE.value and doc.duplicate_of_id is not None:
        raise ReprocessRefused(_duplicate_refusal(store, session, doc, doc.duplicate_of_id))
    if not _has_progress(doc):
        return None  # nothing committed yet, or the file finished: the usual reprocess
    committed = _committed(session, doc)
    if doc.status in _IN_HAND:
        raise ReprocessRefused(
            f"document {doc.id} is {doc.status} and still in the worker's hands "
            f"(attempt {doc.attempts or 0}): {committed.describe()}; the worker resumes it "
            "from there by itself. Wait until it is done or dead, then reprocess it"
        )
    if from_start:
        return None
    taken = _resumed_by(session, doc.id)
    if taken is not None:
        attempt_id, status = taken
        raise ReprocessRefused(
            f"document {doc.id}: {committed.describe()}; the rest of the file was already "
            f"handed to attempt {attempt_id} ({status}). Reprocess {attempt_id} instead, or "
            f"'edigate reprocess --from-start {doc.id}' to run the whole file again (its "
            "orders, 855s and 997s are sent again)"
        )
    return committed


def _duplicate_refusal(store: Store, session: Session, doc: Document, first: int) -> str:
    """Why a duplicate is not run again: the same bytes, or the same ISA13 with others."""
    same_bytes = store.get(session, first).blob_sha256 == doc.blob_sha256
    if same_bytes:
        why = f"the same bytes were processed as document {first}"
        then = f"reprocess {first} if that is what must run again"
    else:
        why = (
            f"its interchange control number (ISA13) was processed in document {first}, "
            "within the partner's duplicate window"
        )
        then = (
            "if the partner reused the number for a new interchange, ask for it again with "
            "a new ISA13 (X12 control numbers are not reused)"
        )
    return f"document {doc.id} is a duplicate: {why}; {then}"


def _rerun_plan(session: Session, doc: Document) -> list[tuple[str, int]]:
    """For a finished file: the X12 transactions whose orders this file (or an earlier
    attempt of it) put in the ERP outbox, which the new attempt acknowledges with the rest
    but does not send again. Refuses a file the worker still has, an original that was
    reprocessed already (its latest attempt is the one to run), and a file with nothing
    left to deliver or whose delivered orders cannot be told apart (a CSV or XML order
    recorded without its place in the file). A CSV or XML order is ("", its place)."""
    if doc.status in _IN_HAND:
        raise ReprocessRefused(
            f"document {doc.id} is {doc.status}: the worker still has it and retries it by "
            "itself. Wait until it is done or dead, then reprocess it"
        )
    later = session.execute(
        select(Document.id, Document.status)
        .where(Document.reprocess_of_id == doc.id)
        .order_by(Document.id.desc())
        .limit(1)
    ).first()
    if later is not None:
        attempt_id, status = later
        raise ReprocessRefused(
            f"document {doc.id} was reprocessed already: its attempt {attempt_id} is {status}. "
            f"Reprocess {attempt_id} instead (or use --from-start to run {doc.id} once more, "
            "sending again whatever it and its attempts sent)"
        )
    chain = _earlier_runs(session, doc)
    if doc.channel == ERP_CHANNEL:
        _refuse_answer_sent(session, doc, chain)
        return []
    leaf = aliased(Document)
    has_order = (
        select(leaf.id)
        .where(
            leaf.parent_id == Document.id,
            leaf.direction == Direction.OUTBOUND.value,
            leaf.channel == ERP_CHANNEL,
        )
        .exists()
    )
    # Every transaction these runs recorded, and whether its order reached the ERP outbox.
    rows = session.execute(
        select(
            Document.format,
            Document.interchange_control,
            Document.meta,
            Document.po_number,
            has_order,
        )
        .where(Document.parent_id.in_(chain), Document.direction == Direction.INBOUND.value)
        .order_by(Document.id)
    ).all()
    delivered: set[tuple[str, int]] = set()
    undelivered: set[tuple[str | None, Any]] = set()
    orders: list[str] = []
    for fmt, isa13, meta, po_number, ordered in rows:
        index = (meta or {}).get("index")
        if fmt != "x12":
            # A CSV or XML order: known by its place in the file (FILE_POSITION_KEY), which
            # orders recorded before that key existed do not have.
            isa13, index = "", (meta or {}).get(FILE_POSITION_KEY)
        if not ordered:
            undelivered.add((isa13, index))
            continue
        orders.append(po_number or "?")
        if isa13 is None or index is None:
            raise ReprocessRefused(
                f"document {doc.id} already put order(s) in the ERP outbox (PO "
                f"{', '.join(orders[:5])} ...); running it again would deliver them a second "
                "time. Use --from-start only if those orders were withdrawn from the ERP"
            )
        delivered.add((isa13, int(index)))
    if delivered and not undelivered - delivered:
        raise ReprocessRefused(
            f"document {doc.id}: every transaction's order is in the ERP outbox already "
            f"(PO {', '.join(orders[:5])}{' ...' if len(orders) > 5 else ''}); nothing to "
            "run again. Use --from-start only if those orders were withdrawn from the ERP"
        )
    return sorted(delivered)


#: Columns an attempt takes from the file it runs again.
_KEPT_BY_ATTEMPTS = ("doc_type", "format", "po_number", "invoice_number", "shipment_id")


def _answers_made(runs: Iterable[int], *columns: Any) -> Select[Any]:
    """``columns`` of the answers (855, 856, 810) the runs ``runs`` of an ERP file made for
    the partner and that are not dead, oldest first."""
    return (
        select(*columns)
        .where(
            Document.parent_id.in_(list(runs)),
            Document.direction == Direction.OUTBOUND.value,
            Document.status != Status.DEAD.value,
        )
        .order_by(Document.id)
    )


def _refuse_answer_sent(session: Session, doc: Document, chain: list[int]) -> None:
    """An ERP answer (855, 856, 810) that this file or an earlier attempt of it made for the
    partner and that was not dead: running the file again would send the partner another
    one (a third 855 for one PO). ``resend`` sends that document again; ``--from-start``
    builds it anew from the ERP's file."""
    made = session.execute(
        _answers_made(chain, Document.id, Document.doc_type, Document.status)
    ).first()
    if made is not None:
        made_id, doc_type, status = made
        raise ReprocessRefused(
            f"document {doc.id}: its {doc_type or 'document'} for the partner is document "
            f"{made_id} ({status}); running it again would send another. To send that one "
            f"again: 'edigate resend {made_id}'; to build it anew from the ERP's file: "
            f"--from-start"
        )


def _earlier_runs(session: Session, doc: Document) -> list[int]:
    """``doc`` and every document it is an attempt of (each earlier run of its bytes)."""
    chain = [doc.id]
    previous = doc.reprocess_of_id
    while previous is not None and previous not in chain:
        chain.append(previous)
        previous = session.scalar(select(Document.reprocess_of_id).where(Document.id == previous))
    return chain


def _committed(session: Session, doc: Document) -> Committed:
    progress = Progress.of(doc.id, doc.meta)
    pieces = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.document_id == doc.id, AuditEvent.event == "piece_committed")
    )
    child = aliased(Document)
    transactions = session.scalar(
        select(func.count())
        .select_from(Document)
        .where(Document.parent_id == doc.id, Document.direction == Direction.INBOUND.value)
    )
    orders = session.scalar(
        select(func.count())
        .select_from(Document)
        .join(child, Document.parent_id == child.id)
        .where(
            child.parent_id == doc.id,
            Document.direction == Direction.OUTBOUND.value,
            Document.channel == ERP_CHANNEL,
        )
    )
    took = (doc.meta or {}).get(RESUMED_KEY)
    return Committed(
        doc.id,
        int(pieces or 0),
        int(transactions or 0),
        int(orders or 0),
        progress.interchange,
        progress.transaction,
        took.get("doc") if isinstance(took, dict) else None,
    )


def _resumed_by(session: Session, doc_id: int) -> tuple[int, str] | None:
    """The attempt that took over this document's progress, if one did (and its status)."""
    attempts = session.execute(
        select(Document.id, Document.status, Document.meta)
        .where(Document.reprocess_of_id == doc_id)
        .order_by(Document.id)
    )
    for attempt_id, status, meta in attempts:
        if isinstance(meta, dict) and (meta.get(RESUMED_KEY) or {}).get("doc") == doc_id:
            return attempt_id, status
    return None


def _detail(committed: Committed) -> dict[str, int]:
    return {
        "pieces": committed.pieces,
        "transactions": committed.transactions,
        "orders": committed.orders,
        "interchange": committed.interchange,
        "transaction": committed.transaction,
    }
