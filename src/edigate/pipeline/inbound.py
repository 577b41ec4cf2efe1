"""Inbound processing of one received document: detect, identify, split, validate,
translate, map; then canonical orders for the ERP and acknowledgements for the partner.

Two phases, so SQLite's single writer is held only briefly:

1. **plan** (no database writes): stream the stored bytes; for each transaction run the
   validator with the partner's overlay, the 850 translator and the partner's map; feed the
   ack builder for the 997/999/TA1 verdicts; render the auto-855 bodies.
2. **commit** (one transaction, fenced by the worker's claim): a child document per
   transaction (pointing into the parent's bytes), the canonical order and the acks as
   outbound documents enveloped with control numbers taken from the partner's sequences
   in this same transaction, and every state change with its audit event.

One bad transaction rejects only itself (its AK2 says so); the others go on. A partner's
997/999 or TA1 is not translated but reconciled with what we sent (``reconcile.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..model import Order, OrderAck
from ..partners import Partner, Registry
from ..partners.apply import apply_inbound
from ..partners.rules import MapIssue
from ..store import BlobRef, Direction, Document, Status, Store
from ..translate import build_855, translate_850
from ..x12 import (
    Finding,
    InterchangeHeader,
    InterchangeTrailer,
    TechnicalAck,
    TransactionSet,
    X12Reader,
    validate_transaction,
)
from ..x12.acks import (
    AckBuilder,
    AckOptions,
    AckOutput,
    CounterControlNumbers,
    GroupAck,
    InterchangeAck,
    group_segments,
    parse_acks,
)
from ..x12.events import Event
from .answers import answer_order
from .detect import Format, detect_format
from .envelope import Enveloped, OutboundTransaction, write_for_partner, write_ta1_for_partner
from .partner_files import PartnerFilePlan, commit_partner_file, plan_partner_file
from .reconcile import ACK_SETS, settle_group, settle_technical

#: Outbound document types that carry a partner's answer, and the ERP's order feed.
ERP_CHANNEL = "erp"
PROCESSED = (Status.TRANSLATED.value, Status.DELIVERED.value, Status.SPLIT.value)


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
    ack_855: OrderAck | None = None
    #: A partner's 997/999: what its AK1 group says (reconciled on commit).
    ack: GroupAck | None = None


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


@dataclass
class FilePlan:
    format: Format
    interchanges: list[InterchangePlan] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    duplicate_of: int | None = None
    partner_file: PartnerFilePlan | None = None  # a CSV/XML file in the partner's format

    @property
    def translated(self) -> int:
        return sum(
            1 for ic in self.interchanges for t in ic.transactions if t.status is Status.TRANSLATED
        )


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


class InboundProcessor:
    """Processes received documents; ``process`` is the worker lane's callable."""

    def __init__(
        self,
        store: Store,
        registry: Callable[[], Registry],
        *,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # ------------------------------------------------------------------ the lane
    def process(self, doc_id: int, worker: str) -> None:
        with self.store.session() as session:
            doc = self.store.get(session, doc_id)
            received = Received(
                doc.id,
                BlobRef(doc.blob_sha256, doc.size),
                doc.channel,
                doc.partner_id,
                doc.filename,
                doc.reprocess_of_id,
                doc.created_at,
            )
        plan = self.plan(received)
        with self.store.claimed(doc_id, worker) as held:
            if held is None:
                return  # the lease passed to another worker; it will do the work
            session, doc = held
            self.commit(session, doc, plan)

    # ------------------------------------------------------------------ phase 1
    def plan(self, doc: Received) -> FilePlan:
        with self.store.blobs.open(doc.blob.sha256) as stream:
            head = stream.read(4096)
        fmt = detect_format(head)
        plan = FilePlan(fmt)
        if fmt in (Format.CSV, Format.XML):
            partner = self.registry().get(doc.partner_id) if doc.partner_id else None
            if partner is not None and doc.reprocess_of_id is None:
                plan.duplicate_of = self._same_content(doc, partner)
                if plan.duplicate_of is not None:
                    plan.errors.append(
                        _error(
                            "duplicate_file",
                            f"{doc.filename or 'document'} from {partner.id} was already "
                            f"processed (document {plan.duplicate_of})",
                        )
                    )
                    return plan
            plan.partner_file = plan_partner_file(
                self.registry(),
                doc.partner_id,
                doc.filename,
                self.store.blobs.get(doc.blob.sha256),
                fmt,
                self.clock().date(),
            )
            return plan
        if fmt is not Format.X12:
            plan.errors.append(
                _error(
                    "unsupported_format",
                    f"{doc.filename or 'document'}: {fmt.value} documents are not translated; "
                    "expected an X12 interchange (ISA), or a partner's CSV or XML orders",
                )
            )
            return plan
        registry = self.registry()
        with self.store.blobs.open(doc.blob.sha256) as stream:
            for item in _interchanges(X12Reader(stream).events()):
                if isinstance(item, Finding):
                    plan.errors.append(item.to_dict())
                    continue
                plan.interchanges.append(self._plan_interchange(doc, registry, item))
        if not plan.interchanges and not plan.errors:
            plan.errors.append(_error("empty", "no interchange in the document"))
        if any(ic.acks_in for ic in plan.interchanges):
            self._read_acks(doc, plan)
        return plan

    def _read_acks(self, doc: Received, plan: FilePlan) -> None:
        """Parse the partner's 997/999/TA1 for reconciliation: one more read of the file,
        only when it holds acks. Same reader, same bytes: interchanges come in the same
        order, and each 997/999 is found by its ST02."""
        with self.store.blobs.open(doc.blob.sha256) as stream:
            received = parse_acks(stream)
        noted: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
        for finding in received.findings:
            loc = finding.location
            noted.setdefault((loc.interchange_control, loc.transaction_control), []).append(
                finding.to_dict()
            )
        for ic, found in zip(plan.interchanges, received.interchanges, strict=False):
            if not ic.acks_in or found.control_number != ic.header.control_number:
                continue
            ic.technical = list(found.technical)
            groups: dict[str, list[GroupAck]] = {}
            for group in found.groups:
                groups.setdefault(group.ack_control_number, []).append(group)
            for tx in ic.transactions:
                if tx.set_id not in ACK_SETS:
                    continue
                if groups.get(tx.control_number):
                    tx.ack = groups[tx.control_number].pop(0)
                else:
                    tx.status = Status.REJECTED  # no AK1 to read: nothing it could settle
                for problem in noted.get((ic.header.control_number, tx.control_number), []):
                    if problem not in tx.errors:
                        tx.errors.append(problem)

    def _plan_interchange(
        self, doc: Received, registry: Registry, events: list[Event]
    ) -> InterchangePlan:
        header = events[0]
        assert isinstance(header, InterchangeHeader)
        found = registry.identify(
            isa=(header.sender.qualifier, header.sender.id, header.usage),
            receiver=(header.receiver.qualifier, header.receiver.id),
        )
        reason = found.reason
        if found.partner is not None and doc.partner_id not in (None, found.partner.id):
            # The channel authenticated another partner: never process under a wrong one.
            reason = (
                f"{found.seen} is {found.partner.id}, but it arrived on the {doc.channel} "
                f"account of {doc.partner_id}"
            )
        ic = InterchangePlan(header, found.partner if reason is None else None)
        if ic.partner is None:
            ic.rejection.append(
                _error(
                    "unknown_partner",
                    reason or f"unknown sender {found.seen}",
                    segment=header.position,
                )
            )
            return ic
        partner = ic.partner
        if doc.reprocess_of_id is None:
            ic.duplicate_of = self._duplicate(doc, partner, header)
            if ic.duplicate_of is not None:
                ic.rejection.append(
                    _error(
                        "duplicate_interchange",
                        f"interchange {header.control_number} from {partner.id} was already "
                        f"processed (document {ic.duplicate_of})",
                        segment=header.position,
                    )
                )
                return ic
        policy = partner.profile.ack
        kind = None if policy.functional == "none" else policy.functional
        builder = AckBuilder(kind, CounterControlNumbers(), AckOptions(ta1=policy.ta1))
        index = 0
        for event in events:
            syntax: list[Finding] = []
            if isinstance(event, TransactionSet):
                tx_plan, syntax = self._plan_transaction(partner, event, index)
                ic.transactions.append(tx_plan)
                ic.acks_in = ic.acks_in or event.set_id in ACK_SETS
                index += 1
            elif isinstance(event, TechnicalAck):
                ic.acks_in = True
            output = builder.feed(event, syntax)
            if output is not None:
                ic.acks = output
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
        )
        syntax = validate_transaction(tx, partner.overlays.get(tx.set_id))
        found = tx.findings + syntax
        if tx.set_id in ACK_SETS:
            # Their answer to what we sent: reconciled on commit, never acknowledged.
            plan.errors = [f.to_dict() for f in found]
            plan.status = Status.TRANSLATED
            return plan, syntax
        if tx.set_id != "850":
            plan.errors = [f.to_dict() for f in found]
            plan.errors.append(
                _error(
                    "not_translated",
                    f"transaction set {tx.set_id} is not translated inbound (only 850)",
                    segment=tx.position,
                )
            )
            return plan, syntax
        result = translate_850(tx)
        # The translator re-checks what it converts; report a position only once.
        named = {(f.location.segment, f.location.element) for f in syntax}
        syntax += [
            f
            for f in result.findings
            if (f.location.segment, f.location.element) not in named or not f.is_error
        ]
        found = tx.findings + syntax
        plan.errors = [f.to_dict() for f in found]
        if any(f.is_error for f in found) or result.document is None:
            return plan, syntax
        order = result.document
        plan.po_number = order.po_number
        mapped = apply_inbound(order, partner)
        plan.errors += [_map_issue(i, order) for i in mapped.issues]
        if mapped.order is not None:
            plan.status = Status.TRANSLATED
            plan.order_json = mapped.order.model_dump_json(exclude_none=True, indent=2).encode()
        if partner.profile.ack.po_ack == "auto":
            plan.ack_855 = answer_order(order, mapped, self.clock().date())
        return plan, syntax

    def _duplicate(self, doc: Received, partner: Partner, header: InterchangeHeader) -> int | None:
        """An earlier, processed interchange with this ISA13 or these bytes, in the window."""
        since = self.clock() - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
        with self.store.session() as session:
            same_isa = session.scalars(
                select(Document.parent_id)
                .where(
                    Document.partner_id == partner.id,
                    Document.direction == Direction.INBOUND.value,
                    Document.interchange_control == header.control_number,
                    Document.parent_id != doc.id,
                    Document.status.in_(PROCESSED),
                    Document.created_at >= since,
                )
                .limit(1)
            ).first()
        if same_isa is not None:
            return same_isa
        return self._same_content(doc, partner)

    def _same_content(self, doc: Received, partner: Partner) -> int | None:
        """An earlier, processed file with exactly these bytes, in the partner's window."""
        since = self.clock() - dt.timedelta(days=partner.profile.ack.duplicate_window_days)
        with self.store.session() as session:
            return session.scalars(
                select(Document.id)
                .where(
                    Document.blob_sha256 == doc.blob.sha256,
                    Document.id != doc.id,
                    Document.parent_id.is_(None),
                    Document.direction == Direction.INBOUND.value,
                    Document.status.in_(PROCESSED),
                    Document.created_at >= since,
                )
                .limit(1)
            ).first()

    # ------------------------------------------------------------------ phase 2
    def commit(self, session: Session, doc: Document, plan: FilePlan) -> None:
        store = self.store
        if plan.partner_file is not None:
            commit_partner_file(store, session, doc, plan.partner_file)
            return
        if plan.duplicate_of is not None:
            doc.duplicate_of_id = plan.duplicate_of
            store.transition(session, doc, Status.DUPLICATE, "duplicate", errors=plan.errors)
            return
        errors = list(plan.errors)
        blob = BlobRef(doc.blob_sha256, doc.size)
        duplicate_of = None
        for ic in plan.interchanges:
            errors += ic.rejection
            duplicate_of = duplicate_of or ic.duplicate_of
            if ic.partner is None:
                continue
            partner = ic.partner
            if doc.partner_id is None:
                doc.partner_id = partner.id
            doc.interchange_control = doc.interchange_control or ic.header.control_number
            for tx in ic.transactions:
                if tx.status is Status.REJECTED:
                    errors.append(_rejection_summary(tx))
                child = store.add_document(
                    session,
                    blob,
                    direction=Direction.INBOUND,
                    status=tx.status,
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
                    errors=tx.errors,
                    meta={
                        "segment": tx.position,
                        "segment_count": tx.segment_count,
                        "index": tx.index,
                    },
                )
                if tx.order_json is not None:
                    store.add_document(
                        session,
                        tx.order_json,
                        direction=Direction.OUTBOUND,
                        status=Status.CREATED,
                        channel=ERP_CHANNEL,
                        parent=child,
                        format="json",
                        doc_type="order",
                        po_number=tx.po_number,
                    )
                if tx.ack_855 is not None:
                    self._store_855(session, child, partner, ic.header, tx.ack_855)
                if tx.ack is not None:
                    settle_group(store, session, partner.id, tx.ack, child)
            if ic.technical:
                settle_technical(store, session, partner.id, ic.technical, doc)
            self._store_acks(session, doc, partner, ic)
        if plan.interchanges and all(ic.duplicate_of for ic in plan.interchanges):
            doc.duplicate_of_id = duplicate_of
            store.transition(session, doc, Status.DUPLICATE, "duplicate", errors=errors)
            return
        rejected = sum(
            1 for ic in plan.interchanges for t in ic.transactions if t.status is Status.REJECTED
        )
        detail = {"translated": plan.translated, "rejected": rejected}
        technical = any(ic.technical for ic in plan.interchanges if ic.partner is not None)
        status = Status.TRANSLATED if plan.translated or technical else Status.REJECTED
        store.transition(session, doc, status, "processed", detail=detail, errors=errors)

    def _store_acks(
        self, session: Session, doc: Document, partner: Partner, ic: InterchangePlan
    ) -> None:
        acks = ic.acks
        if acks is None:
            return
        usage = ic.header.usage if ic.header.usage in ("P", "T") else "P"
        if acks.groups:
            kind = acks.groups[0].kind
            version = "005010X231A1" if kind == "999" else "004010"
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
    ) -> None:
        version = partner.profile.envelope.version
        usage = header.usage if header.usage in ("P", "T") else "P"
        enveloped = write_for_partner(
            self.store,
            session,
            partner,
            "PR",
            [OutboundTransaction("855", build_855(ack, version=version))],
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
    ) -> Document:
        """Store what we send, with its ISA13/GS06/ST02: a partner's ack names them."""
        return self.store.add_document(
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


def _interchanges(events: Iterator[Event]) -> Iterator[list[Event] | Finding]:
    """Group the reader's events by interchange (header .. trailer); file findings alone.

    An interchange's events are small except its transactions, which the plan reduces as
    it goes; the list holds one interchange at a time.
    """
    current: list[Event] | None = None
    for event in events:
        if isinstance(event, InterchangeHeader):
            current = [event]
        elif current is not None:
            current.append(event)
            if isinstance(event, InterchangeTrailer):
                yield current
                current = None
        elif isinstance(event, Finding):
            yield event
    if current is not None:
        yield current


def _rejection_summary(tx: TxPlan) -> dict[str, Any]:
    """One line on the file for each rejected transaction, with its first reason."""
    first = next((e for e in tx.errors if e.get("severity", "error") == "error"), None)
    why = first.get("message", "") if first else "rejected"
    if first and first.get("line"):
        why = f"line {first['line']}: {why}"
    po = f" (PO {tx.po_number})" if tx.po_number else ""
    return _error(
        "transaction_rejected",
        f"{tx.set_id} {tx.control_number}{po} rejected: {why}",
        segment=tx.position,
    )


def _error(code: str, message: str, *, segment: int | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "segment": segment, "severity": "error"}


def _map_issue(issue: MapIssue, order: Order) -> dict[str, Any]:
    line = None
    if issue.line_index is not None and issue.line_index < len(order.lines):
        line = order.lines[issue.line_index].line_number
    return {
        "code": f"map.{issue.code}",
        "message": issue.message,
        "severity": issue.severity,
        "line": line,
        "path": issue.path,
        "origin": issue.origin,
    }
