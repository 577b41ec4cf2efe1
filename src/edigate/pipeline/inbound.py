"""Inbound processing of one received document: detect, identify, split, validate,
translate, map; then canonical orders for the ERP and acknowledgements for the partner.

Two phases, so SQLite's single writer is held only briefly:

1. **plan** (no database writes): stream the stored bytes; for each transaction run the
   validator with the partner's overlay, the 850 translator and the partner's map; feed the
   ack builder for the 997/999/TA1 verdicts; render the auto-855 bodies.
2. **commit** (a transaction fenced by the worker's claim): a child document per
   transaction (pointing into the parent's bytes), the canonical order and the acks as
   outbound documents enveloped with control numbers taken from the partner's sequences
   in this same transaction, and every state change with its audit event.

The plan is cut into **pieces** of at most ``chunk_transactions`` transactions, so memory
stays flat however large the file: each piece but the last is committed on its own, and
records on the parent how far the file got (``meta["inbound_progress"]``: interchange and
transaction reached, running counts). A worker that dies between pieces leaves that
position committed; the next one replans the committed transactions only to feed the ack
builder again (which keeps a small verdict per transaction), commits nothing twice, and
sends the interchange's 997 once, with the interchange's last piece.

Small files are committed several at a time (``process_batch``): one fenced transaction
for the claimed documents' pieces (when one fails, the others are committed again each
alone), and their blobs made durable together just before the commit.

One bad transaction rejects only itself (its AK2 says so); the others go on. A partner's
997/999 or TA1 is not translated but reconciled with what we sent (``reconcile.py``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeGuard

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from ..errors import StoreUnavailableError
from ..model import Order, OrderAck, erp_json
from ..partners import Partner, Registry
from ..partners.apply import apply_inbound
from ..partners.group_party import group_party_warnings
from ..partners.rules import MapIssue
from ..store import BlobRef, Direction, Document, Status, Store, inline_blobs
from ..store.schema import utcnow
from ..store.statuses import ERP_CHANNEL
from ..translate import build_855
from ..translate.x12_850 import checked_850, po_number_of
from ..x12 import (
    Finding,
    GroupHeader,
    InterchangeHeader,
    InterchangeTrailer,
    Level,
    TechnicalAck,
    TransactionSet,
    X12Reader,
    validate_transaction,
)
from ..x12.acks import (
    VERSIONS,
    AckBuilder,
    AckOutput,
    CounterControlNumbers,
    GroupAck,
    InterchangeAck,
    group_segments,
    parse_acks,
    salvage_isas,
    salvaged_header,
)
from ..x12.acks.parse import ReceivedAcks
from ..x12.reader import ReaderLimits
from ..x12.writer import Element
from .answers import answer_order
from .detect import Format, detect_format
from .envelope import (
    Enveloped,
    OutboundTransaction,
    partner_separators,
    write_for_partner,
    write_ta1_for_partner,
)
from .erp import TEST_KEY
from .partner_files import PartnerFilePlan, commit_partner_file, plan_partner_file
from .reconcile import ACK_SETS, settle_group, settle_technical
from .repeated_orders import CODE, EarlierOrder, GivenOrders, held_message
from .runs import family_of
from .sent import as_replacement_855, replaces_855, take_turns_in_order

#: Outbound document types that carry a partner's answer, and the ERP's order feed.
log = logging.getLogger("edigate.inbound")

PROCESSED = (Status.TRANSLATED.value, Status.DELIVERED.value, Status.SPLIT.value)
#: Transactions per committed piece of a file (and per multi-document commit).
CHUNK_TRANSACTIONS = 500
#: Rejected-transaction lines kept on a file's errors; more are counted in one last line.
MAX_REJECTION_LINES = 1_000
PROGRESS_KEY = "inbound_progress"
#: How much of a file's start is read again for the fields of an ISA the reader could not
#: use (to answer it with a TA1): the first interchange's, in practice.
SALVAGE_BYTES = 1 << 20
#: A reprocess attempt's meta: the transactions earlier attempts delivered (``Received``).
DELIVERED_KEY = "delivered_before"


@dataclass
class TxPlan:
    """What became of one transaction set."""

    index: int
    set_id: str
    control_number: str
    position: int
    segment_count: int
    group_control: str | None
    status: Status
    errors: list[dict[str, Any]] = field(default_factory=list)
    po_number: str | None = None
    order_json: bytes | None = None
    #: The order's blob once written (before the commit's transaction, see _commit_pieces).
    order_blob: BlobRef | None = None
    ack_855: OrderAck | None = None
    #: The 855's segments between ST and SE, built while planning (not under the lock).
    body_855: Sequence[Sequence[Element]] | None = None
    #: A partner's 997/999: what its AK1 group says (reconciled on commit).
    ack: GroupAck | None = None
    #: An original order (BEG01 00): held if the ERP has its PO already (repeated_orders).
    original: bool = False
    #: Its GS's place in the file: how our 997's verdict on its group is found.
    group_position: int | None = None


@dataclass
class InterchangePlan:
    header: InterchangeHeader
    partner: Partner | None
    rejection: list[dict[str, Any]] = field(default_factory=list)
    duplicate_of: int | None = None
    transactions: list[TxPlan] = field(default_factory=list)
    acks: AckOutput | None = None
    #: The partner's TA1s in this interchange, and whether it holds any ack to reconcile.
    technical: list[InterchangeAck] = field(default_factory=list)
    acks_in: bool = False
    #: Its place in the file (0, 1, ...); whether its trailer (or the file's end) was read,
    #: so its acks go out with this piece; whether this piece opens it (counts it once).
    ordinal: int = 0
    complete: bool = True
    opening: bool = True
    #: An ISA the reader could not use, answered with a TA1 only: nothing in it is read,
    #: so it is no duplicate of another file's interchange (nor checked for being one).
    unreadable: bool = False


@dataclass
class FilePlan:
    format: Format
    interchanges: list[InterchangePlan] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicate_of: int | None = None
    partner_file: PartnerFilePlan | None = None  # a CSV/XML file in the partner's format
    #: The file's last piece: its commit settles the file's status.
    final: bool = True

    @property
    def transaction_count(self) -> int:
        return sum(len(ic.transactions) for ic in self.interchanges)

    @property
    def translated(self) -> int:
        return sum(
            1 for ic in self.interchanges for t in ic.transactions if t.status is Status.TRANSLATED
        )


def delivered_before(meta: dict[str, Any] | None) -> frozenset[tuple[str, int]]:
    """The (ISA13, index) pairs of ``meta[DELIVERED_KEY]`` (see :class:`Received`)."""
    pairs = (meta or {}).get(DELIVERED_KEY) or []
    return frozenset((str(isa13), int(index)) for isa13, index in pairs)


@dataclass(frozen=True, slots=True)
class Received:
    """The facts of a received document that processing needs (read before planning)."""

    id: int
    blob: BlobRef
    channel: str
    partner_id: str | None
    filename: str | None
    reprocess_of_id: int | None
    created_at: dt.datetime
    #: Where an earlier worker's committed pieces got to (``meta["inbound_progress"]``).
    progress: dict[str, Any] | None = None
    #: A reprocess attempt's transactions whose orders an earlier attempt of the file put in
    #: the ERP outbox, as (ISA13, index in the interchange): fed to the acks, not sent again.
    delivered: frozenset[tuple[str, int]] = frozenset()
    #: The bytes, when the store keeps them in the database (read with the row): a small
    #: file is then read from memory, however many times planning looks at it.
    content: bytes | None = None

    @classmethod
    def of(cls, doc: Document, content: bytes | None = None) -> Received:
        return cls(
            doc.id,
            BlobRef(doc.blob_sha256, doc.size),
            doc.channel,
            doc.partner_id,
            doc.filename,
            doc.reprocess_of_id,
            doc.created_at,
            (doc.meta or {}).get(PROGRESS_KEY),
            content=content,
            delivered=delivered_before(doc.meta),
        )

    def open(self, store: Store) -> BinaryIO:
        """The document's bytes as a stream (a large file is read from its file)."""
        if self.content is not None:
            return io.BytesIO(self.content)
        return store.open_blob(self.blob.sha256, self.blob.size)

    def read(self, store: Store) -> bytes:
        """The document's bytes, whole (for formats read whole: a partner's CSV or XML)."""
        if self.content is not None:
            return self.content
        return store.blob_bytes(self.blob.sha256, self.blob.size)


@dataclass
class Progress:
    """How far a file's committed pieces got, and the counts its final status needs."""

    doc: int
    interchange: int = 0  # interchanges before this one are fully committed
    transaction: int = 0  # in that interchange, transactions before this index are
    interchanges: int = 0
    duplicates: int = 0
    duplicate_of: int | None = None
    translated: int = 0
    rejected: int = 0
    held: int = 0  # originals whose PO the ERP has already (repeated_orders)
    technical: bool = False
    rejection_lines: int = 0

    @classmethod
    def of(cls, doc_id: int, meta: dict[str, Any] | None) -> Progress:
        """The progress recorded for this document (a reprocess copies meta: ignore it)."""
        found = (meta or {}).get(PROGRESS_KEY)
        if not isinstance(found, dict) or found.get("doc") != doc_id:
            return cls(doc_id)
        return cls(**{k: v for k, v in found.items() if k in cls.__dataclass_fields__})

    @property
    def started(self) -> bool:
        return self.interchange > 0 or self.transaction > 0

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class InboundProcessor:
    """Processes received documents; ``process`` is the worker lane's callable."""

    def __init__(
        self,
        store: Store,
        registry: Callable[[], Registry],
        *,
        clock: Callable[[], dt.datetime] | None = None,
        chunk_transactions: int = CHUNK_TRANSACTIONS,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.chunk_transactions = chunk_transactions

    # ------------------------------------------------------------------ the lane
    def process(self, doc_id: int, worker: str) -> None:
        """Process one document; raises what made it fail (the worker retries it)."""
        failed = self.process_batch([doc_id], worker)
        if doc_id in failed:
            raise failed[doc_id]

    def process_batch(self, doc_ids: list[int], worker: str) -> dict[int, Exception]:
        """Process claimed documents, committing their results several at a time.

        Returns the documents that failed, with why (nothing of theirs is committed beyond
        their last recorded piece); the others are done, or were taken over by another
        worker (their lease passed). ``StoreUnavailableError`` propagates: nothing more
        can be recorded, and the leases bring the documents back.
        """
        failed: dict[int, Exception] = {}
        ready: list[tuple[int, FilePlan]] = []
        seen: dict[tuple[str, ...], int] = {}  # what this batch plans, by whom: _Deferred
        batch = self._load(doc_ids)
        earlier = self._earlier(batch)
        for received in batch:
            try:
                for piece in self.pieces(received, seen=seen, earlier=earlier):
                    if piece.final:
                        ready.append((received.id, piece))
                        if sum(p.transaction_count for _, p in ready) >= self.chunk_transactions:
                            failed.update(_failures(self._commit_pieces(ready, worker)))
                            ready = []
                        break
                    # A piece of a large file: committed now, so memory stays flat.
                    outcome = self._commit_pieces([(received.id, piece)], worker)
                    if outcome.get(received.id) is not None:
                        failed.update(_failures(outcome))
                        break
                    if outcome:  # the claim was lost: another worker goes on
                        break
            except _Deferred:
                # It may duplicate a document of this batch, not committed yet: it waits
                # for the next round, when the duplicate check can see that one.
                self.store.release(received.id, worker)
            except StoreUnavailableError:
                raise
            except Exception as exc:  # a planning failure is this document's alone
                failed[received.id] = exc
        if ready:
            failed.update(_failures(self._commit_pieces(ready, worker)))
        for doc_id in [i for i, exc in failed.items() if isinstance(exc, _Replan)]:
            log.info("document %s is planned again: %s", doc_id, failed.pop(doc_id))
            self.store.release(doc_id, worker)
        return failed

    def _load(self, doc_ids: list[int]) -> list[Received]:
        """The facts planning needs, for every document, in one short read transaction."""
        with self.store.reading() as session:
            rows = session.scalars(select(Document).where(Document.id.in_(doc_ids))).all()
            contents = inline_blobs.read_many(session, (doc.blob_sha256 for doc in rows))
            found = {doc.id: Received.of(doc, contents.get(doc.blob_sha256)) for doc in rows}
        return [found[i] for i in doc_ids if i in found]

    def _commit_pieces(
        self, items: list[tuple[int, FilePlan]], worker: str
    ) -> dict[int, Exception | None]:
        """Commit planned pieces in one transaction, each fenced by its document's claim.

        Returns, by document, the exception that failed it, or None when its claim was lost;
        documents absent from the result are committed. With several documents, one that
        fails gives up the transaction and the others are committed again each alone (a
        failure is rare: no savepoint per document is paid for on every commit).
        """
        outcome: dict[int, Exception | None] = {}
        # An order too large for the database is written to the blob store before the
        # transaction, so SQLite's write lock is not held for its fsyncs; the others are
        # inserted with their rows.
        with self.store.blobs.group():
            for _, piece in items:
                for ic in piece.interchanges:
                    for tx in ic.transactions:
                        if tx.order_json is not None and tx.order_blob is None:
                            tx.order_blob = self.store.put_large_blob(tx.order_json)
        try:
            with (
                self.store.claimed_many([i for i, _ in items], worker) as (session, held),
                self.store.blobs.group(),
            ):
                replans = self._committed_meanwhile(
                    session, [(held[i], piece) for i, piece in items if i in held]
                )
                given = self._given_orders(session, [piece for _, piece in items])
                for doc_id, piece in items:
                    doc = held.get(doc_id)
                    if doc is None:
                        outcome[doc_id] = None  # the lease passed to another worker
                        continue
                    if doc_id in replans:
                        outcome[doc_id] = replans[doc_id]  # released by process_batch
                        continue
                    try:
                        self.commit(session, doc, piece, given)
                    except StoreUnavailableError:
                        raise
                    except Exception as exc:
                        outcome[doc_id] = exc  # the culprit; the transaction is given up
                        raise
        except StoreUnavailableError:
            raise
        except Exception as exc:
            if len(items) > 1:
                # A document's commit, or the commit itself, failed: the others are tried
                # again each alone, so only the culprit fails.
                for doc_id, piece in items:
                    if doc_id not in outcome:
                        outcome.update(self._commit_pieces([(doc_id, piece)], worker))
                return outcome
            return {items[0][0]: exc}
        return outcome

    def _earlier(self, batch: list[Received]) -> Earlier | None:
        """What the batch's duplicate checks need, in one read instead of one per file:
        the processed files with the same bytes, and the processed interchanges with the
        same partner and ISA13 as each file's first interchange."""
        registry = self.registry()
        keys: set[tuple[str, str]] = set()
        contents: set[str] = set()
        windows: list[int] = []
        for doc in batch:
            if doc.reprocess_of_id is not None:
                continue  # checked on its own, without its own runs (see .runs)
            contents.add(doc.blob.sha256)
            header = self._first_header(doc)
            if header is None:
                continue
            found = registry.identify(
                isa=(header.sender.qualifier, header.sender.id, header.usage),
                receiver=(header.receiver.qualifier, header.receiver.id),
            )
            if found.partner is not None:
                keys.add((found.partner.id, header.control_number))
                windows.append(found.partner.profile.ack.duplicate_window_days)
        known = [registry.get(d.partner_id) for d in batch if d.partner_id]
        windows += [p.profile.ack.duplicate_window_days for p in known if p is not None]
        if not windows:
            return None
        since = self.clock() - dt.timedelta(days=max(windows))
        return Earlier.fetch(self.store, contents, keys, since)

    def _first_header(self, doc: Received) -> InterchangeHeader | None:
        """The file's first ISA, if it starts like X12 (reads only its first segments)."""
        with doc.open(self.store) as stream:
            if detect_format(stream.read(4096)) is not Format.X12:
                return None
            stream.seek(0)
            for event in X12Reader(stream).events():
                if isinstance(event, InterchangeHeader):
                    return event
                if isinstance(event, TransactionSet):
                    return None
        return None

    # ------------------------------------------------------------------ phase 1
    def plan(self, doc: Received) -> FilePlan:
        """The whole file's plan in one piece (for a file small enough to hold)."""
        return next(self.pieces(doc, chunk=None))

    def pieces(
        self,
        doc: Received,
        *,
        chunk: int | None = -1,
        seen: dict[tuple[str, ...], int] | None = None,
        earlier: Earlier | None = None,
    ) -> Iterator[FilePlan]:
        """The file's plan, in pieces of at most ``chunk`` transactions (None: one piece),
        resuming after ``doc.progress``. The last piece has ``final`` set.

        ``seen`` collects the contents and interchanges planned in one batch; a document
        that repeats one raises ``_Deferred`` (the duplicate check cannot see it yet).
        """
        size = self.chunk_transactions if chunk == -1 else chunk
        if seen is not None:
            _remember(seen, ("content", doc.blob.sha256), doc.id)
        with doc.open(self.store) as stream:
            head = stream.read(4096)
        fmt = detect_format(head)
        if fmt is Format.X12:
            yield from self._x12_pieces(doc, fmt, size, seen, earlier)
            return
        if fmt is Format.UNKNOWN:
            fmt = self._partner_format(doc)
        plan = FilePlan(fmt)
        if fmt in (Format.CSV, Format.XML):
            partner = self.registry().get(doc.partner_id) if doc.partner_id else None
            if partner is not None:
                plan.duplicate_of = self._same_content(doc, partner, earlier=earlier)
                if plan.duplicate_of is not None:
                    plan.errors.append(
                        _error(
                            "duplicate_file",
                            f"{doc.filename or 'document'} from {partner.id} was already "
                            f"processed (document {plan.duplicate_of})",
                        )
                    )
                    yield plan
                    return
            plan.partner_file = plan_partner_file(
                self.registry(),
                doc.partner_id,
                doc.filename,
                doc.read(self.store),
                fmt,
                self.clock().date(),
                frozenset(index for isa13, index in doc.delivered if isa13 == ""),
            )
            yield plan
            return
        expected = "expected an X12 interchange (ISA), or a partner's CSV or XML orders"
        found = (
            "the file is empty or blank"
            if not head.strip() and doc.blob.size <= len(head)
            else f"{fmt.value} documents are not translated"
        )
        plan.errors.append(
            _error("unsupported_format", f"{doc.filename or 'document'}: {found}; {expected}")
        )
        yield plan

    def _partner_format(self, doc: Received) -> Format:
        """What the partner the channel named sends, when the bytes did not say (a CSV
        file whose first rows are ragged): its reader then names the bad line."""
        partner = self.registry().get(doc.partner_id) if doc.partner_id else None
        if partner is not None and partner.map.format == Format.CSV.value:
            return Format.CSV
        return Format.UNKNOWN

    def _x12_pieces(
        self,
        doc: Received,
        fmt: Format,
        size: int | None,
        seen: dict[tuple[str, ...], int] | None = None,
        earlier: Earlier | None = None,
    ) -> Iterator[FilePlan]:
        """Stream the interchanges: one event at a time, never a whole interchange held."""
        registry = self.registry()
        # The partner the channel authenticated, if any, bounds what the reader holds.
        known = registry.get(doc.partner_id) if doc.partner_id else None
        limits = known.profile.reader_limits if known is not None else None
        resume = Progress.of(doc.id, {PROGRESS_KEY: doc.progress} if doc.progress else None)
        acks = _AckIndex(self.store, doc, limits)
        file_errors: list[dict[str, Any]] = []
        plan = FilePlan(fmt, final=False)
        ic: InterchangePlan | None = None  # the interchange being planned, if any
        builder: AckBuilder | None = None
        inside = False  # within an interchange (planned, rejected or already committed)
        ordinal = -1
        index = 0
        # This interchange's transactions taken in this run, and those an earlier attempt
        # delivered: one that only repeats delivered ones sends no acks again.
        fresh = skipped = 0
        # The interchanges opened in this file (partner, ISA13) -> the ISA's segment.
        opened: dict[tuple[str, ...], int] = {}
        # ISAs the reader could not use (their delimiters clash), by segment: answered last.
        unusable: dict[int, list[Finding]] = {}
        with doc.open(self.store) as stream:
            for event in X12Reader(stream, limits=limits).events():
                if isinstance(event, InterchangeHeader):
                    if ic is not None:
                        ic.complete = True  # the previous one had no trailer
                    ordinal += 1
                    inside, ic, builder, index = True, None, None, 0
                    fresh = skipped = 0
                    if ordinal < resume.interchange:
                        continue  # committed with its acks by an earlier worker
                    ic = self._open_interchange(doc, registry, event, ordinal, earlier)
                    if ic.partner is not None:
                        key = ("isa", ic.partner.id, event.control_number)
                        if seen is not None:
                            _remember(seen, key, doc.id)
                        if key in opened and ic.duplicate_of is None:
                            _again_in_file(ic, doc.id, opened[key])
                        opened.setdefault(key, event.position)
                    ic.opening = not (ordinal == resume.interchange and resume.transaction)
                    plan.interchanges.append(ic)
                    if ic.partner is None:
                        ic = None  # rejected whole: its events are not looked at
                        continue
                    builder = _ack_builder(ic.partner)
                    if ic.duplicate_of is None:
                        builder.feed(event, [])
                    else:  # not looked at either; a TA1 R 025, by the partner's policy
                        ic.acks = builder.duplicate_interchange(
                            event, f"document {ic.duplicate_of}"
                        )
                        ic, builder = None, None
                    continue
                if not inside:
                    if _unusable_isa(event):
                        unusable.setdefault(event.location.segment or 0, []).append(event)
                    elif isinstance(event, Finding):
                        file_errors.append(event.to_dict())
                    continue
                if ic is None or builder is None:
                    if isinstance(event, InterchangeTrailer):
                        inside = False
                    continue
                syntax: list[Finding] = []
                if isinstance(event, TransactionSet):
                    assert ic.partner is not None
                    tx_plan, syntax = self._plan_transaction(ic.partner, event, index)
                    if event.set_id in ACK_SETS:
                        ic.acks_in = True
                        acks.attach(ordinal, ic.header.control_number, tx_plan)
                    if ordinal == resume.interchange and index < resume.transaction:
                        pass  # committed already
                    elif (ic.header.control_number, index) in doc.delivered:
                        skipped += 1  # its order reached the ERP from an earlier attempt
                    else:
                        ic.transactions.append(tx_plan)
                        fresh += 1
                    index += 1
                elif isinstance(event, TechnicalAck):
                    ic.acks_in = True
                elif isinstance(event, GroupHeader):
                    assert ic.partner is not None
                    ic.rejection += group_party_warnings(ic.partner, ic.header, event)
                output = builder.feed(event, syntax)
                if output is not None:
                    ic.acks = output
                    # The envelope's own findings (what a TA1 R or E says, and warnings
                    # the partner's TA1 policy does not note), on the file's record.
                    ic.rejection += [f.to_dict() for f in output.findings]
                    # ... and those of the groups our 997/999 rejects (a GE that miscounts).
                    ic.rejection += [
                        f.to_dict() for found in output.group_errors.values() for f in found
                    ]
                    _reject_what_the_acks_reject(ic, output)
                if isinstance(event, InterchangeTrailer):
                    ic.complete = True
                    if skipped and not fresh:
                        ic.acks = None  # acknowledged when its orders were delivered
                    if ic.acks_in:
                        ic.technical = acks.technical(ordinal, ic.header.control_number)
                    ic, builder, inside = None, None, False
                elif size is not None and plan.transaction_count >= size:
                    yield plan
                    plan = FilePlan(fmt, final=False)
                    ic = _continued(ic)
                    plan.interchanges.append(ic)
        if ic is not None:
            ic.complete = True  # the file ended without its trailer
        if unusable:
            answered, unanswered = self._unusable_interchanges(doc, registry, unusable, ordinal)
            plan.interchanges += answered
            file_errors += unanswered
            ordinal += len(answered)
        if ordinal < 0 and not file_errors:
            file_errors.append(_error("empty", "no interchange in the document"))
        plan.errors = file_errors
        plan.final = True
        yield plan

    def _unusable_interchanges(
        self,
        doc: Received,
        registry: Registry,
        unusable: dict[int, list[Finding]],
        ordinal: int,
    ) -> tuple[list[InterchangePlan], list[dict[str, Any]]]:
        """Interchanges whose ISA the reader could not use (a terminator that is also a
        separator...): nothing in them can be read, but a partner the ISA's fixed fields
        identify gets the TA1 R its policy asks for, as ``x12 validate --ack`` builds it.
        Returns those plans (planned last, in the file's last piece, so a resumed file
        answers them once) and the findings of the ISAs that name no partner.

        The ISAs' fields are taken again from the file's first ``SALVAGE_BYTES``: an unusable
        ISA past them (rare: a file is one partner's, broken from its start) is reported only.
        """
        with doc.open(self.store) as stream:
            salvaged = salvage_isas(stream.read(SALVAGE_BYTES))
        plans: list[InterchangePlan] = []
        unanswered: list[dict[str, Any]] = []
        for position, findings in sorted(unusable.items()):
            elements = salvaged.pop(0) if salvaged else []
            header = salvaged_header(elements, position)
            partner = self._identify(doc, registry, header)[0] if header else None
            output = None
            if header is not None and partner is not None:
                output = _ack_builder(partner).unreadable_interchange(elements, findings, position)
            if header is None or partner is None or output is None:
                unanswered += [f.to_dict() for f in findings]
                continue
            ordinal += 1
            ic = InterchangePlan(header, partner, ordinal=ordinal, acks=output, unreadable=True)
            ic.rejection = [f.to_dict() for f in output.findings]
            plans.append(ic)
        return plans, unanswered

    def _identify(
        self, doc: Received, registry: Registry, header: InterchangeHeader
    ) -> tuple[Partner | None, str | None]:
        """The partner ``header`` names, or None and why (unknown, or not the partner the
        channel authenticated: never process under a wrong one)."""
        found = registry.identify(
            isa=(header.sender.qualifier, header.sender.id, header.usage),
            receiver=(header.receiver.qualifier, header.receiver.id),
        )
        reason = found.reason
        if found.partner is not None and doc.partner_id not in (None, found.partner.id):
            reason = (
                f"{found.seen} is {found.partner.id}, but it arrived on the {doc.channel} "
                f"account of {doc.partner_id}"
            )
        if reason is None and found.partner is None:
            reason = f"unknown sender {found.seen}"
        return (found.partner, None) if reason is None else (None, reason)

    def _open_interchange(
        self,
        doc: Received,
        registry: Registry,
        header: InterchangeHeader,
        ordinal: int,
        earlier: Earlier | None = None,
    ) -> InterchangePlan:
        """Identify the partner and check for a duplicate; a rejected interchange is
        complete at once."""
        partner, reason = self._identify(doc, registry, header)
        ic = InterchangePlan(header, partner, ordinal=ordinal, complete=False)
        if partner is None:
            ic.complete = True
            ic.rejection.append(_error("unknown_partner", reason or "", segment=header.position))
            return ic
        ic.duplicate_of = self._duplicate(doc, partner, header, earlier)
        if ic.duplicate_of is not None:
            ic.rejection.append(
                _error(
                    "duplicate_interchange",
                    f"interchange {header.control_number} from {partner.id} was already "
                    f"processed (document {ic.duplicate_of})",
                    segment=header.position,
                )
            )
            ic.complete = True
        return ic

    def _plan_transaction(
        self, partner: Partner, tx: TransactionSet, index: int
    ) -> tuple[TxPlan, list[Finding]]:
        """Validate, translate and map one transaction. Returns the plan and the findings the
        997/999 must name (syntax only: the map's business verdict goes into the 855)."""
        plan = TxPlan(
            index,
            tx.set_id,
            tx.control_number,
            tx.position,
            tx.segment_count,
            tx.group.control_number if tx.group else None,
            Status.REJECTED,
            group_position=tx.group.position if tx.group else None,
        )
        if tx.set_id == "850":
            return self._plan_850(plan, partner, tx)
        syntax = validate_transaction(tx, partner.overlays.get(tx.set_id))
        found = tx.findings + syntax
        if tx.set_id in ACK_SETS:
            # Their answer to what we sent: reconciled on commit, never acknowledged.
            plan.errors = [f.to_dict() for f in found]
            plan.status = Status.TRANSLATED
            return plan, syntax
        plan.errors = [f.to_dict() for f in found]
        plan.errors.append(
            _error(
                "not_translated",
                f"transaction set {tx.set_id} is not translated inbound (only 850)",
                segment=tx.position,
            )
        )
        return plan, syntax

    def _plan_850(
        self, plan: TxPlan, partner: Partner, tx: TransactionSet
    ) -> tuple[TxPlan, list[Finding]]:
        result, syntax = checked_850(tx, partner.overlays.get(tx.set_id))
        found = tx.findings + syntax
        plan.errors = [f.to_dict() for f in found]
        if any(f.is_error for f in found) or result.document is None:
            plan.po_number = po_number_of(tx)  # to find the rejected order by its PO
            return plan, syntax
        order = result.document
        plan.po_number = order.po_number
        mapped = apply_inbound(order, partner)
        if mapped.issues:
            po1 = [i for i, seg in enumerate(tx.segments) if seg[0] == "PO1"]
            plan.errors += [_map_issue(i, order, tx, po1) for i in mapped.issues]
        if mapped.order is not None:
            plan.status = Status.TRANSLATED
            plan.order_json = erp_json(mapped.order)
            plan.original = mapped.order.purpose_code == "00"
        if partner.profile.ack.po_ack == "auto":
            plan.ack_855 = answer_order(order, mapped, self.clock().date())
            plan.body_855 = build_855(
                plan.ack_855, version=partner.profile.envelope.version, echo=True
            )
        return plan, syntax

    def _duplicate(
        self,
        doc: Received,
        partner: Partner,
        header: InterchangeHeader,
        earlier: Earlier | None = None,
    ) -> int | None:
        """An earlier, processed interchange with this ISA13 or these bytes, in the window
        (the file's own runs aside: see :mod:`.runs`)."""
        since = self.clock() - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
        key = (partner.id, header.control_number)
        if doc.reprocess_of_id is not None:
            earlier = None  # the batch's reads exclude only the document itself
        if earlier is not None and key in earlier.interchange_keys:
            found = earlier.interchange(key, doc.id, since)
            if found is not None:
                return found
            return self._same_content(doc, partner, earlier=earlier)
        with self.store.reading() as session:  # one short transaction for both questions
            runs = family_of(session, doc.id, doc.reprocess_of_id)
            same_isa = _same_interchange(session, partner.id, header.control_number, runs, since)
            if same_isa is not None:
                return same_isa
            return self._same_content(doc, partner, session, runs=runs)

    def _committed_meanwhile(
        self, session: Session, items: Sequence[tuple[Document, FilePlan]]
    ) -> dict[int, _Replan]:
        """Planning looked for duplicates outside this transaction: another worker may have
        committed the same interchange since (two copies of one file, claimed at once).
        Asked again here, for the whole batch before anything is written (a query after
        the first writes would flush them one document at a time), after taking turns on
        every key in one sorted order on PostgreSQL (the other commit holds them until it
        ends; SQLite's write lock already orders commits). The documents found are
        returned, to be released and planned again: then they are duplicates."""
        opening = [
            (doc, ic.partner, ic.header.control_number)
            for doc, plan in items
            for ic in plan.interchanges
            if ic.partner is not None
            and ic.duplicate_of is None
            and ic.opening
            and not ic.unreadable
        ]
        # A CSV or XML file has no ISA13: two copies are the same bytes.
        files = [
            (doc, doc.partner_id)
            for doc, plan in items
            if plan.partner_file is not None and plan.duplicate_of is None and doc.partner_id
        ]
        # The batch's original orders' POs too (repeated_orders checks them in each commit),
        # all in one order: two workers' batches never hold one each the other waits for.
        take_turns_in_order(
            session,
            [
                *((p.id, "interchange", isa13) for _, p, isa13 in opening),
                *((partner_id, "content", doc.blob_sha256) for doc, partner_id in files),
                *(
                    (partner.id, "order", po)
                    for _, plan in items
                    for partner, po in _originals(plan)
                ),
            ],
        )
        found: dict[int, _Replan] = {}
        same_bytes = _content_rows(session, {doc.blob_sha256 for doc, _ in files})
        now = self.clock()
        for doc, partner_id in files:
            partner = self.registry().get(partner_id)
            copies = same_bytes.get(doc.blob_sha256)
            if partner is None or not copies:
                continue
            runs = family_of(session, doc.id, doc.reprocess_of_id)
            since = now - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
            other = _first(copies, runs, since)
            if other is not None:
                found[doc.id] = _Replan(f"this content of {partner_id} is document {other}'s now")
        if not opening:
            return found
        rows = _interchange_rows(session, {(p.id, isa13) for _, p, isa13 in opening})
        now = self.clock()
        for doc, partner, isa13 in opening:
            candidates = rows.get((partner.id, isa13))
            if not candidates or doc.id in found:
                continue
            runs = family_of(session, doc.id, doc.reprocess_of_id)
            since = now - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
            other = _processed_elsewhere(candidates, runs, since)
            if other is not None:
                found[doc.id] = _Replan(
                    f"interchange {isa13} of {partner.id} is document {other}'s now"
                )
        return found

    def _same_content(
        self,
        doc: Received,
        partner: Partner,
        session: Session | None = None,
        *,
        earlier: Earlier | None = None,
        runs: frozenset[int] | None = None,
    ) -> int | None:
        """An earlier, processed file with exactly these bytes, in the partner's window
        (the file's own ``runs`` aside, worked out here unless the caller has them)."""
        since = self.clock() - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
        if doc.reprocess_of_id is not None:
            earlier = None  # the batch's reads exclude only the document itself
        if earlier is not None and doc.blob.sha256 in earlier.content_keys:
            return earlier.content(doc.blob.sha256, doc.id, since)
        if session is None:
            with self.store.reading() as reading:
                return self._same_content(doc, partner, reading)
        if runs is None:
            runs = family_of(session, doc.id, doc.reprocess_of_id)
        copies = _content_rows(session, {doc.blob.sha256}, since).get(doc.blob.sha256, [])
        return _first(copies, runs, since)

    # ------------------------------------------------------------------ phase 2
    def _given_orders(self, session: Session, plans: Sequence[FilePlan]) -> GivenOrders:
        """The ERP orders of the POs these plans would give it (see :mod:`.repeated_orders`),
        read before the batch writes anything."""
        wanted = [(p.id, po) for plan in plans for p, po in _originals(plan)]
        return GivenOrders(session, wanted, self.clock())

    def commit(
        self, session: Session, doc: Document, plan: FilePlan, given: GivenOrders | None = None
    ) -> None:
        """Store one planned piece of ``doc``; ``given``: its batch's view of the POs the ERP
        has (read here for this piece alone when not given)."""
        store = self.store
        if given is None:
            take_turns_in_order(session, ((p.id, "order", po) for p, po in _originals(plan)))
            given = self._given_orders(session, [plan])
        if plan.partner_file is not None:
            commit_partner_file(store, session, doc, plan.partner_file, given)
            return
        if plan.duplicate_of is not None:
            doc.duplicate_of_id = plan.duplicate_of
            store.transition(session, doc, Status.DUPLICATE, "duplicate", errors=plan.errors)
            return
        progress = Progress.of(doc.id, doc.meta)
        # Errors of earlier pieces are on the document already; the file's own findings
        # (outside any interchange) come first, with the last piece.
        errors = list(doc.errors or []) if progress.started else []
        blob = BlobRef(doc.blob_sha256, doc.size)
        if doc.reprocess_of_id is not None:  # its 855s may replace earlier ones: see _replacing
            take_turns_in_order(
                session,
                (
                    (ic.partner.id, "855", tx.ack_855.po_number)
                    for ic in plan.interchanges
                    if ic.partner is not None
                    for tx in ic.transactions
                    if tx.ack_855 is not None
                ),
            )
        for ic in plan.interchanges:
            # A continued interchange's own findings (its trailer's, in its last piece) are
            # its file's too; the opening piece's were added with it.
            errors += ic.rejection
            if ic.opening:
                progress.interchanges += 1
                if ic.duplicate_of is not None:
                    progress.duplicates += 1
                    progress.duplicate_of = progress.duplicate_of or ic.duplicate_of
            progress.interchange, progress.transaction = ic.ordinal, 0
            if ic.partner is not None:
                self._commit_interchange(session, doc, blob, ic, progress, errors, given)
            if ic.complete:
                progress.interchange, progress.transaction = ic.ordinal + 1, 0
        if not plan.final:
            # Where the file got to, committed with the piece; the lease is renewed.
            doc.meta = {**(doc.meta or {}), PROGRESS_KEY: progress.to_dict()}
            doc.errors = errors
            doc.claimed_at = doc.updated_at = utcnow()
            store.audit(
                session,
                doc,
                "piece_committed",
                doc.status,
                doc.status,
                {
                    "transactions": plan.transaction_count,
                    "interchange": progress.interchange,
                    "transaction": progress.transaction,
                },
            )
            return
        if PROGRESS_KEY in (doc.meta or {}):
            doc.meta = {k: v for k, v in (doc.meta or {}).items() if k != PROGRESS_KEY}
        errors = list(plan.errors) + errors
        if progress.rejection_lines > MAX_REJECTION_LINES:
            more = progress.rejection_lines - MAX_REJECTION_LINES
            errors.append(_error("transaction_rejected", f"... and {more} more rejected"))
        if progress.interchanges and progress.duplicates == progress.interchanges:
            doc.duplicate_of_id = progress.duplicate_of
            store.transition(session, doc, Status.DUPLICATE, "duplicate", errors=errors)
            return
        detail = {"translated": progress.translated, "rejected": progress.rejected}
        translated = progress.translated or progress.technical
        if progress.held:
            detail["held"] = progress.held
            if not translated and not progress.rejected:
                # Every order in it is one the ERP has. Its transactions name the orders they
                # repeat; the file names none (it is no copy of one file), so a reprocess may
                # run it again: after ack.duplicate_po: deliver, that releases its orders.
                store.transition(
                    session, doc, Status.DUPLICATE, "duplicate", detail=detail, errors=errors
                )
                return
        status = Status.TRANSLATED if translated else Status.REJECTED
        store.transition(session, doc, status, "processed", detail=detail, errors=errors)

    def _commit_interchange(
        self,
        session: Session,
        doc: Document,
        blob: BlobRef,
        ic: InterchangePlan,
        progress: Progress,
        errors: list[dict[str, Any]],
        given: GivenOrders,
    ) -> None:
        """This piece's share of one interchange: its transactions; its acks once complete.

        An original order whose PO the ERP has already (see :mod:`.repeated_orders`) is
        held: no order, no 855; the 997 still accepts it, as it was received sound. This is
        decided here, not written into the plan: a batch that fails is committed again
        document by document, with the same plans and another view of the ERP.
        """
        store = self.store
        partner = ic.partner
        assert partner is not None
        test = ic.header.usage == "T"
        for tx in ic.transactions:
            # The PO of an original order for the ERP: the one a repeat of would be held.
            po = tx.po_number if tx.original and tx.status is Status.TRANSLATED else None
            earlier = None
            if po:
                source = (ic.header.control_number, tx.index)
                earlier = given.earlier(session, doc, partner, po, source, test=test)
            status = Status.DUPLICATE if earlier is not None else tx.status
            if status is Status.REJECTED:
                progress.rejected += 1
                progress.rejection_lines += 1
                if progress.rejection_lines <= MAX_REJECTION_LINES:
                    errors.append(_rejection_summary(tx))
            elif status is Status.TRANSLATED:
                progress.translated += 1
            elif status is Status.DUPLICATE:
                progress.held += 1
            child = store.add_document(
                session,
                blob,
                direction=Direction.INBOUND,
                status=status,
                channel=doc.channel,
                parent=doc,
                partner_id=partner.id,
                format="x12",
                doc_type=tx.set_id,
                filename=doc.filename,
                interchange_control=ic.header.control_number,
                group_control=tx.group_control,
                transaction_control=tx.control_number,
                po_number=tx.po_number,
                errors=tx.errors if earlier is None else [*tx.errors, _held(partner, tx, earlier)],
                duplicate_of_id=None if earlier is None else earlier.document_id,
                meta={
                    "segment": tx.position,
                    "segment_count": tx.segment_count,
                    "index": tx.index,
                },
            )
            progress.transaction = tx.index + 1
            if earlier is not None:
                continue
            if po:
                given.note(partner, doc, po, child.id, f"ST {tx.control_number}", test=test)
            if tx.order_json is not None:
                store.add_leaf(
                    session,
                    tx.order_blob or tx.order_json,
                    direction=Direction.OUTBOUND,
                    status=Status.CREATED,
                    channel=ERP_CHANNEL,
                    parent=child,
                    format="json",
                    doc_type="order",
                    po_number=tx.po_number,
                    # A test interchange's order (ISA15 T) goes to the ERP's test folder,
                    # and the ERP's answers to it go out as test interchanges.
                    meta={TEST_KEY: True} if test else {},
                )
            if tx.ack_855 is not None:
                body = tx.body_855
                if doc.reprocess_of_id is not None:
                    body = _replacing(session, partner, tx, body, child)
                self._store_855(session, child, partner, ic.header, tx.ack_855, body)
            if tx.ack is not None:
                settle_group(store, session, partner.id, tx.ack, child)
        # Set after the children are flushed: written with the file's own update.
        if doc.partner_id is None:
            doc.partner_id = partner.id
        doc.interchange_control = doc.interchange_control or ic.header.control_number
        if not ic.complete:
            return
        if ic.technical:
            progress.technical = True
            settle_technical(store, session, partner.id, ic.technical, doc)
        self._store_acks(session, doc, partner, ic)

    def _store_acks(
        self, session: Session, doc: Document, partner: Partner, ic: InterchangePlan
    ) -> None:
        acks = ic.acks
        if acks is None:
            return
        usage = ic.header.usage if ic.header.usage in ("P", "T") else "P"
        if acks.groups:
            kind = acks.groups[0].kind
            version = VERSIONS[kind][1]
            enveloped = write_for_partner(
                self.store,
                session,
                partner,
                "FA",
                [
                    OutboundTransaction(kind, group_segments(g), version if kind == "999" else None)
                    for g in acks.groups
                ],
                version=version,
                usage=usage,
            )
            self._outbound(session, doc, partner, kind, enveloped)
        if acks.technical is not None:
            ta1 = write_ta1_for_partner(self.store, session, partner, acks.ta1, usage=usage)
            self._outbound(session, doc, partner, "TA1", ta1)

    def _store_855(
        self,
        session: Session,
        child: Document,
        partner: Partner,
        header: InterchangeHeader,
        ack: OrderAck,
        body: Sequence[Sequence[Element]] | None = None,
    ) -> None:
        version = partner.profile.envelope.version
        usage = header.usage if header.usage in ("P", "T") else "P"
        enveloped = write_for_partner(
            self.store,
            session,
            partner,
            "PR",
            [OutboundTransaction("855", body or build_855(ack, version=version, echo=True))],
            version=version,
            usage=usage,
        )
        self._outbound(session, child, partner, "855", enveloped, ack.po_number)

    def _outbound(
        self,
        session: Session,
        parent: Document,
        partner: Partner,
        doc_type: str,
        enveloped: Enveloped,
        po_number: str | None = None,
    ) -> None:
        """Store what we send, with its ISA13/GS06/ST02: a partner's ack names them."""
        self.store.add_leaf(
            session,
            enveloped.data,
            direction=Direction.OUTBOUND,
            status=Status.CREATED,
            channel=partner.profile.outbound.type if partner.profile.outbound else "none",
            parent=parent,
            partner_id=partner.id,
            format="x12",
            doc_type=doc_type,
            interchange_control=enveloped.interchange_control,
            group_control=enveloped.group_control or None,
            transaction_control=(enveloped.transaction_controls or (None,))[0],
            po_number=po_number,
        )


@dataclass
class Earlier:
    """Processed inbound documents a batch's files might repeat, read once for the batch.

    ``content_keys`` / ``interchange_keys`` are what was asked; a key not asked is checked
    on its own. Rows are (document, created_at): files by their bytes, and by (partner,
    ISA13) the files whose children carry that interchange.
    """

    content_keys: set[str]
    interchange_keys: set[tuple[str, str]]
    by_content: dict[str, list[tuple[int, dt.datetime]]] = field(default_factory=dict)
    by_interchange: dict[tuple[str, str], list[tuple[int, dt.datetime]]] = field(
        default_factory=dict
    )

    @classmethod
    def fetch(
        cls, store: Store, contents: set[str], keys: set[tuple[str, str]], since: dt.datetime
    ) -> Earlier:
        found = cls(set(contents), set(keys))
        with store.reading() as session:
            found.by_content = _content_rows(session, contents, since)
            if keys:
                rows = session.execute(
                    select(
                        Document.partner_id,
                        Document.interchange_control,
                        Document.parent_id,
                        func.max(Document.created_at),
                    )
                    .where(
                        tuple_(Document.partner_id, Document.interchange_control).in_(sorted(keys)),
                        Document.direction == Direction.INBOUND.value,
                        Document.parent_id.is_not(None),
                        Document.status.in_(PROCESSED),
                        Document.created_at >= since,
                    )
                    .group_by(Document.partner_id, Document.interchange_control, Document.parent_id)
                )
                for partner_id, control, parent_id, created in rows:
                    if partner_id is None or control is None or parent_id is None:
                        continue  # the query excludes them; the types do not know
                    found.by_interchange.setdefault((partner_id, control), []).append(
                        (parent_id, _aware(created))
                    )
        return found

    def content(self, sha256: str, doc_id: int, since: dt.datetime) -> int | None:
        return _first(self.by_content.get(sha256, []), {doc_id}, since)

    def interchange(self, key: tuple[str, str], doc_id: int, since: dt.datetime) -> int | None:
        return _first(self.by_interchange.get(key, []), {doc_id}, since)


def _first(
    rows: list[tuple[int, dt.datetime]], excluded: Collection[int], since: dt.datetime
) -> int | None:
    """The oldest of ``rows`` (document, created_at) made since ``since``, ``excluded``
    (the file asking, and its runs) aside."""
    after = _aware(since)
    ids = [i for i, at in rows if i not in excluded and at >= after]
    return min(ids) if ids else None


def _aware(value: Any) -> dt.datetime:
    """An aggregate's datetime: SQLite may hand back its stored text, naive UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


_Row = tuple[Any, Any, Any, Any]  # (parent_id, direction, status, created_at)
#: (partner, ISA13) pairs asked in one query.
KEYS_PER_QUERY = 200


def _interchange_rows(
    session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], list[_Row]]:
    """Every document with one of these (partner, ISA13) pairs, by pair: one query per
    :data:`KEYS_PER_QUERY` pairs.

    Only the partner and ISA13 are asked of the database, the rest is sifted by the caller:
    with a window on ``created_at`` in the query, SQLite chose the (partner, created_at)
    index and read every document of the partner in the window, a millisecond per file
    at a few thousand documents and growing; (partner, ISA13) finds the handful at once."""
    found: dict[tuple[str, str], list[_Row]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), KEYS_PER_QUERY):
        chunk = ordered[start : start + KEYS_PER_QUERY]
        query = select(
            Document.partner_id,
            Document.interchange_control,
            Document.parent_id,
            Document.direction,
            Document.status,
            Document.created_at,
        ).where(  # as two INs (pairs are sifted below): an OR of pairs made SQLite scan
            Document.partner_id.in_(sorted({p for p, _ in chunk})),  # the partner's index
            Document.interchange_control.in_(sorted({i for _, i in chunk})),
        )
        for partner_id, isa13, parent_id, direction, status, created in session.execute(
            query.order_by(Document.id)
        ):
            key = (str(partner_id), str(isa13))
            if key not in keys:
                continue  # a partner of one pair with the ISA13 of another
            found.setdefault(key, []).append((parent_id, direction, status, created))
    return found


def _content_rows(
    session: Session, digests: set[str], since: dt.datetime | None = None
) -> dict[str, list[tuple[int, dt.datetime]]]:
    """The processed files with one of these contents (made since ``since``), by content:
    (id, created_at); one query per :data:`KEYS_PER_QUERY` contents (none for none)."""
    found: dict[str, list[tuple[int, dt.datetime]]] = {}
    ordered = sorted(digests)
    for start in range(0, len(ordered), KEYS_PER_QUERY):
        query = select(Document.blob_sha256, Document.id, Document.created_at).where(
            Document.blob_sha256.in_(ordered[start : start + KEYS_PER_QUERY]),
            Document.parent_id.is_(None),
            Document.direction == Direction.INBOUND.value,
            Document.status.in_(PROCESSED),
        )
        if since is not None:
            query = query.where(Document.created_at >= since)
        for digest, doc_id, created in session.execute(query):
            found.setdefault(digest, []).append((int(doc_id), _aware(created)))
    return found


def _processed_elsewhere(rows: list[_Row], runs: frozenset[int], since: dt.datetime) -> int | None:
    """The file among ``rows`` (of one partner and ISA13) that processed that interchange
    since ``since``, the files of ``runs`` (the one asking and its attempts) aside."""
    for parent_id, direction, status, created in rows:
        if (
            parent_id is not None
            and parent_id not in runs
            and direction == Direction.INBOUND.value
            and status in PROCESSED
            and _aware(created) >= since
        ):
            return int(parent_id)
    return None


def _same_interchange(
    session: Session, partner_id: str, isa13: str, runs: frozenset[int], since: dt.datetime
) -> int | None:
    """The file that processed this partner's interchange ``isa13`` since ``since`` (a
    file of ``runs``, the one asking and its attempts, aside)."""
    rows = _interchange_rows(session, {(partner_id, isa13)}).get((partner_id, isa13), [])
    return _processed_elsewhere(rows, runs, since)


class _Deferred(Exception):
    """A document of a batch repeats the content or an interchange of an earlier one."""


class _Replan(Exception):
    """Committing found what planning could not see yet: another worker committed the
    same interchange meanwhile. The document is released, to be planned again."""


def _remember(seen: dict[tuple[str, ...], int], key: tuple[str, ...], doc_id: int) -> None:
    """Note that ``doc_id`` plans ``key``; another document planning it waits (a file that
    repeats its own interchange is handled by :func:`_again_in_file`, never deferred: it
    would wait for itself forever)."""
    owner = seen.setdefault(key, doc_id)
    if owner != doc_id:
        raise _Deferred(key)


def _again_in_file(ic: InterchangePlan, doc_id: int, first: int) -> None:
    """An interchange whose ISA13 came earlier in the same file: a duplicate, not looked at
    (the partner gets TA1 025 by its policy; the first one is processed)."""
    ic.duplicate_of = doc_id
    ic.complete = True
    ic.rejection.append(
        _error(
            "duplicate_interchange",
            f"interchange {ic.header.control_number} appears again in this file (first at "
            f"segment {first}); only the first is processed",
            segment=ic.header.position,
        )
    )


def _failures(outcome: dict[int, Exception | None]) -> dict[int, Exception]:
    """The documents that failed (None marks a lost claim: not a failure)."""
    return {doc_id: exc for doc_id, exc in outcome.items() if exc is not None}


def _continued(ic: InterchangePlan) -> InterchangePlan:
    """The rest of an interchange, in the next piece: same header and partner, no
    transactions yet, already counted."""
    return InterchangePlan(
        ic.header,
        ic.partner,
        acks_in=ic.acks_in,
        ordinal=ic.ordinal,
        complete=False,
        opening=False,
    )


class _AckIndex:
    """The partner's 997/999/TA1 in a file, for reconciliation: parsed on first need (one
    more read of the file, only when it holds acks). Same reader, same bytes: interchanges
    come in the same order, and each 997/999 is found by its ST02."""

    def __init__(self, store: Store, doc: Received, limits: ReaderLimits | None) -> None:
        self.store = store
        self.doc = doc
        self.limits = limits
        self._parsed: ReceivedAcks | None = None
        self._noted: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
        self._groups: tuple[int, dict[str, list[GroupAck]]] | None = None

    def _received(self) -> ReceivedAcks:
        if self._parsed is None:
            with self.doc.open(self.store) as stream:
                self._parsed = parse_acks(stream, limits=self.limits)
            for finding in self._parsed.findings:
                loc = finding.location
                key = (loc.interchange_control, loc.transaction_control)
                self._noted.setdefault(key, []).append(finding.to_dict())
        return self._parsed

    def _interchange(self, ordinal: int, control: str) -> Any:
        found = self._received().interchanges
        if ordinal >= len(found) or found[ordinal].control_number != control:
            return None
        return found[ordinal]

    def attach(self, ordinal: int, control: str, tx: TxPlan) -> None:
        """Give a 997/999 transaction its AK1 group (or reject it: nothing to settle)."""
        found = self._interchange(ordinal, control)
        if found is None:
            return
        if self._groups is None or self._groups[0] != ordinal:
            groups: dict[str, list[GroupAck]] = {}
            for group in found.groups:
                groups.setdefault(group.ack_control_number, []).append(group)
            self._groups = (ordinal, groups)
        groups = self._groups[1]
        if groups.get(tx.control_number):
            tx.ack = groups[tx.control_number].pop(0)
        else:
            tx.status = Status.REJECTED  # no AK1 to read: nothing it could settle
        for problem in self._noted.get((control, tx.control_number), []):
            if problem not in tx.errors:
                tx.errors.append(problem)

    def technical(self, ordinal: int, control: str) -> list[InterchangeAck]:
        found = self._interchange(ordinal, control)
        return list(found.technical) if found is not None else []


def _reject_what_the_acks_reject(ic: InterchangePlan, output: AckOutput) -> None:
    """A transaction in a group our 997/999 rejects (AK9 R: a GE count or control number
    that does not match), or in an interchange our TA1 rejects (TA104 R, sent), is not
    delivered: the partner was told to send it again, and a resend would be a second
    order. Its 855 is dropped with it. (Transactions an earlier piece of a large
    interchange committed are delivered already; the acks still say what was wrong.)"""
    for tx in ic.transactions:
        if tx.status is Status.REJECTED or tx.ack is not None:
            continue
        rejection = output.rejection(tx.group_position)
        if rejection is None:
            continue
        why = f"{rejection}: the partner is asked to send it again"
        tx.status = Status.REJECTED
        tx.errors.append(_error("envelope_rejected", why, segment=tx.position))
        tx.order_json = None
        tx.ack_855 = None
        tx.body_855 = None


def _rejection_summary(tx: TxPlan) -> dict[str, Any]:
    """One line on the file for each rejected transaction, with its first reason."""
    first = next((e for e in tx.errors if e.get("severity", "error") == "error"), None)
    why = first.get("message", "") if first else "rejected"
    if first and first.get("order_line"):
        why = f"order line {first['order_line']}: {why}"
    elif first and first.get("line"):
        why = f"line {first['line']}: {why}"
    po = f" (PO {tx.po_number})" if tx.po_number else ""
    return _error(
        "transaction_rejected",
        f"{tx.set_id} {tx.control_number}{po} rejected: {why}",
        segment=tx.position,
    )


def _replacing(
    session: Session,
    partner: Partner,
    tx: TxPlan,
    body: Sequence[Sequence[Element]] | None,
    child: Document,
) -> Sequence[Sequence[Element]] | None:
    """An attempt's automatic 855 for a PO the partner already got an 855 for (the first
    run's, often a rejection) goes out as its replacement, BAK01 05."""
    ack = tx.ack_855
    assert ack is not None
    segments = body or build_855(ack, version=partner.profile.envelope.version, echo=True)
    replaced, earlier = as_replacement_855(session, partner.id, ack.po_number, segments)
    if earlier is not None:
        child.errors = [
            *(child.errors or []),
            {
                "code": "855.replaces",
                "message": replaces_855(partner.id, ack.po_number, earlier),
                "severity": "warning",
            },
        ]
    return replaced


def _unusable_isa(event: object) -> TypeGuard[Finding]:
    """A finding on an ISA the reader could not use (its delimiters): one of those that
    :func:`salvage_isas` pairs, in order, with the ISAs it finds unusable. Other findings
    outside an interchange (a segment too long before any ISA) are the file's own."""
    return (
        isinstance(event, Finding)
        and event.code.level is Level.INTERCHANGE
        and event.location.tag == "ISA"
    )


def _originals(plan: FilePlan) -> Iterator[tuple[Partner, str]]:
    """(partner, PO number) of each original order the piece would give the ERP."""
    for ic in plan.interchanges:
        if ic.partner is not None:
            for tx in ic.transactions:
                if tx.original and tx.po_number and tx.status is Status.TRANSLATED:
                    yield ic.partner, tx.po_number
    if plan.partner_file is not None and plan.partner_file.partner is not None:
        for order in plan.partner_file.orders:
            if order.original and order.po_number and order.status is Status.TRANSLATED:
                yield plan.partner_file.partner, order.po_number


def _ack_builder(partner: Partner) -> AckBuilder:
    """The 997/999/TA1 builder for one of ``partner``'s interchanges, by its ack policy."""
    policy = partner.profile.ack
    kind = None if policy.functional == "none" else policy.functional
    # Values the acks copy (AK404, AK202) are cleaned of the delimiters _store_acks writes
    # them with: the partner's, not the inbound file's.
    written = partner_separators(partner, VERSIONS[kind or "997"][0])
    options = dataclasses.replace(policy.ack_options(), separators=written)
    return AckBuilder(kind, CounterControlNumbers(), options)


def _held(partner: Partner, tx: TxPlan, earlier: EarlierOrder) -> dict[str, Any]:
    """The error of a transaction held because the ERP has its PO (``earlier``'s)."""
    return _error(CODE, held_message(partner.id, tx.po_number or "", earlier), segment=tx.position)


def _error(code: str, message: str, *, segment: int | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "segment": segment, "severity": "error"}


def _map_issue(issue: MapIssue, order: Order, tx: TransactionSet, po1: list[int]) -> dict[str, Any]:
    """A map issue as stored: one about a line names its PO1 segment (its place in the
    file, as every X12 error does) and its PO101 (``order_line``). ``po1``: the indexes of
    the PO1 segments in ``tx.segments``, found once per transaction."""
    line = segment = None
    if issue.line_index is not None and issue.line_index < len(order.lines):
        line = order.lines[issue.line_index].line_number
        if issue.line_index < len(po1):  # each PO1 loop is a line, in order
            segment = tx.position + po1[issue.line_index]
    return {
        "code": f"map.{issue.code}",
        "message": issue.message,
        "severity": issue.severity,
        "segment": segment,
        "order_line": line,
        "path": issue.path,
        "origin": issue.origin,
    }
