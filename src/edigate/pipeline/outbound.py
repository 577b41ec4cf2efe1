"""Outbound processing: the ERP's acks, shipments and invoices become the partner's 855, 856
and 810, enveloped with the partner's control numbers and queued for the dispatcher.

The ERP inbox (``erp_inbox.py``) stores each ERP file as an inbound document on channel
``erp``; this lane takes those. Two phases, like the inbound lane:

1. **plan** (reads only): parse the stored JSON; find the orders the ERP is answering (the
   mapped orders we gave it, by PO number); run the partner's map backwards
   (:func:`~edigate.partners.apply.apply_outbound`: their item IDs, their units, their exact
   figures, their codes); translate to X12; write it once in a trial envelope and read it
   back through our own validator with the partner's overlay. Anything wrong rejects the
   ERP document with the findings; it can be reprocessed once fixed.
2. **commit** (one transaction, fenced by the claim): envelope again with ISA13/GS06/ST02
   taken from the partner's sequences in this same transaction, store the outbound document
   (status ``created``, so the dispatcher delivers it) with its control numbers, for the
   partner's 997/999 to find, and mark the ERP document ``translated``.

A partner whose map is not X12 (CSV, cXML) gets the document in its own format from the
map's templates instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import EdigateError
from ..model import Invoice, Order, OrderAck, Shipment
from ..model.codes import Purpose
from ..partners import Partner, Registry
from ..partners.apply import apply_outbound
from ..partners.rules import MapIssue
from ..store import BlobRef, Direction, Document, Status, Store
from ..store.statuses import ERP_CHANNEL
from ..translate import build_810, build_855, build_856
from ..x12 import Finding, TechnicalAck, TransactionSet, X12Reader, validate_transaction
from ..x12.writer import Element
from .envelope import OutboundTransaction, write_envelope, write_for_partner
from .erp import TEST_KEY, ErpFolder
from .erp_inbox import ErpInputError, read_erp_document
from .sent import as_replacement_855, earlier_sent, replaces_855, take_turns

log = logging.getLogger("edigate.outbound")

#: Our doc_type of an ERP document -> (its inbox folder, X12 set, functional ID).
SETS: dict[str, tuple[str, str, str]] = {
    "order_ack": ("acks", "855", "PR"),
    "shipment": ("shipments", "856", "SH"),
    "invoice": ("invoices", "810", "IN"),
}
_KIND_OF = {"order-ack": "order_ack", "shipment": "shipment", "invoice": "invoice"}

Segments = list[list[Element]]


@dataclass(frozen=True, slots=True)
class ErpReceived:
    """The facts of a stored ERP document that planning needs (read before planning)."""

    id: int
    blob: BlobRef
    partner_id: str | None
    doc_type: str | None
    filename: str | None
    meta: dict[str, Any]


@dataclass
class OutboundPlan:
    """What an ERP document becomes: an outbound document to store, or a rejection."""

    status: Status
    errors: list[dict[str, Any]] = field(default_factory=list)
    partner: Partner | None = None
    doc_type: str | None = None  # 855 / 856 / 810, or the kind for a templated partner
    functional_id: str | None = None
    version: str | None = None
    body: Sequence[Sequence[Element]] | None = None  # X12 between ST and SE
    rendered: bytes | None = None  # a templated partner's own format
    fmt: str = "x12"
    po_number: str | None = None
    invoice_number: str | None = None
    shipment_id: str | None = None
    #: BIG08/BSN01 says it replaces an earlier document (not "00" original).
    replaces: bool = False
    #: ISA15: "T" when every PO it answers came in a test interchange, else the profile's.
    usage: str = "P"


class OutboundProcessor:
    """Turns ERP documents into partner documents; ``process`` is the worker lane's callable."""

    def __init__(
        self,
        store: Store,
        registry: Callable[[], Registry],
        *,
        clock: Callable[[], dt.datetime] | None = None,
        erp: ErpFolder | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.erp = erp

    # ------------------------------------------------------------------ the lane
    def process(self, doc_id: int, worker: str) -> None:
        received = self.received(doc_id)
        plan = self.plan(received)
        with self.store.claimed(doc_id, worker) as held:
            if held is None:
                return  # the lease passed to another worker; it will do the work
            session, doc = held
            self.commit(session, doc, plan)
            refused = doc.status in (Status.REJECTED.value, Status.DUPLICATE.value)
            why = "; ".join(e["message"] for e in doc.errors or [] if e["severity"] == "error")
            # A reprocess attempt's file was taken care of by its first run (sent, or moved
            # to rejected/ then): the attempt only reports.
            first_run = doc.reprocess_of_id is None
        if refused and self.erp is not None and received.meta.get("erp_file"):
            try:  # after the commit: the store says it first; the folder tells the ERP
                self.erp.refused_later(
                    doc_id, received.meta["erp_file"], why or doc.status, move=first_run
                )
            except OSError as exc:
                log.warning("ERP document %s: cannot move it to rejected/: %s", doc_id, exc)

    def received(self, doc_id: int) -> ErpReceived:
        """What planning needs of the ERP's document, read in a short transaction."""
        with self.store.reading() as session:
            doc = self.store.get(session, doc_id)
            return ErpReceived(
                doc.id,
                BlobRef(doc.blob_sha256, doc.size),
                doc.partner_id,
                doc.doc_type,
                doc.filename,
                dict(doc.meta or {}),
            )

    # ------------------------------------------------------------------ phase 1
    def plan(self, doc: ErpReceived) -> OutboundPlan:
        shown = doc.meta.get("erp_file") or doc.filename or f"document {doc.id}"
        doc_type = doc.doc_type or doc.meta.get("doc_type")
        if doc_type not in SETS:
            return _reject(f"{shown}: {doc_type!r} is not an ERP document type we send")
        kind, set_id, functional_id = SETS[doc_type]
        registry = self.registry()
        partner = registry.get(doc.partner_id) if doc.partner_id else None
        if partner is None:
            return _reject(f"{shown}: partner {doc.partner_id} is not configured")
        try:
            parsed = read_erp_document(
                self.store.blob_bytes(doc.blob.sha256, doc.blob.size), kind, shown
            )
        except ErpInputError as exc:
            return _reject(str(exc), code="erp.invalid")
        document = parsed.document
        plan = OutboundPlan(
            Status.REJECTED,
            partner=partner,
            po_number=parsed.po_numbers[0] if parsed.po_numbers else None,
            invoice_number=parsed.invoice_number,
            shipment_id=parsed.shipment_id,
            replaces=getattr(document, "purpose_code", "00") != "00",
        )
        refusal = _refusal(partner, doc_type, set_id)
        if refusal is not None:
            plan.errors.append(_error("erp.not_sent", f"{shown}: {refusal}"))
            return plan
        with self.store.reading() as session:  # planning only reads: no write lock
            orders, tests = stored_orders(self.store, session, partner.id, parsed.po_numbers)
            if isinstance(document, OrderAck):
                document = _as_replacement(session, partner.id, document, plan)
        plan.usage = partner.profile.envelope.usage
        if parsed.po_numbers and tests.issuperset(parsed.po_numbers):
            plan.usage = "T"  # an answer to a test order is a test, whatever the profile says
        mapped = apply_outbound(document, partner, orders)
        plan.errors += [_map_issue(i, shown) for i in mapped.issues]
        if mapped.document is None:
            return plan
        if partner.map.format != "x12":
            return self._plan_templated(plan, mapped.document, partner, shown, doc_type, orders)
        version = partner.profile.envelope.version
        try:
            body = _build(mapped.document, version)
            trial = write_envelope(
                partner,
                functional_id,
                [OutboundTransaction(set_id, body)],
                isa13=1,
                gs06=1,
                first_st=1,
                version=version,
                timestamp=self.clock(),
            )
        except (EdigateError, ValueError) as exc:
            plan.errors.append(_error("x12.write", f"{shown}: cannot write the {set_id}: {exc}"))
            return plan
        findings = check_written(trial.data, partner)
        plan.errors += [_finding(f) for f in findings]
        if any(f.is_error for f in findings):
            plan.errors.append(
                _error(
                    "x12.invalid",
                    f"{shown}: the {set_id} for {partner.id} fails our validator "
                    f"({sum(f.is_error for f in findings)} error(s)); nothing was sent",
                )
            )
            return plan
        plan.status = Status.TRANSLATED
        plan.doc_type, plan.functional_id, plan.version, plan.body = (
            set_id,
            functional_id,
            version,
            body,
        )
        return plan

    def _plan_templated(
        self,
        plan: OutboundPlan,
        document: OrderAck | Shipment | Invoice,
        partner: Partner,
        shown: str,
        doc_type: str,
        orders: Mapping[str, Order],
    ) -> OutboundPlan:
        """A partner that is not X12 gets the document from its map's template (which may
        echo what the partner's ``orders`` carried and the ERP left out)."""
        from ..formats.mentions import unmentioned_for  # only templated partners need them
        from ..formats.templates import render_outbound

        try:
            data, suffix = render_outbound(document, partner, now=self.clock(), orders=orders)
        except EdigateError as exc:
            plan.errors.append(_error("template", f"{shown}: {exc}"))
            return plan
        for message in unmentioned_for(document, partner):
            plan.errors.append(
                _error("template.unmentioned", f"{shown}: {message}", severity="warning")
            )
        plan.status = Status.TRANSLATED
        plan.doc_type, plan.rendered, plan.fmt = doc_type, data, suffix.lstrip(".") or "dat"
        return plan

    # ------------------------------------------------------------------ phase 2
    def commit(self, session: Session, doc: Document, plan: OutboundPlan) -> None:
        store = self.store
        if plan.status is not Status.TRANSLATED or plan.partner is None:
            store.transition(
                session,
                doc,
                Status.REJECTED,
                "rejected",
                detail={"errors": sum(1 for e in plan.errors if e["severity"] == "error")},
                errors=plan.errors,
            )
            return
        partner = plan.partner
        earlier = _sent_before(session, partner.id, plan)
        if earlier is not None:
            store.transition(
                session, doc, Status.DUPLICATE, "duplicate", errors=[*plan.errors, earlier]
            )
            return
        keys: dict[str, Any] = {
            "po_number": plan.po_number,
            "invoice_number": plan.invoice_number,
            "shipment_id": plan.shipment_id,
        }
        if plan.body is not None:
            assert plan.doc_type is not None and plan.functional_id is not None
            body = _as_late_replacement(session, partner.id, plan)
            enveloped = write_for_partner(
                store,
                session,
                partner,
                plan.functional_id,
                [OutboundTransaction(plan.doc_type, body)],
                version=plan.version,
                usage=plan.usage,
                timestamp=self.clock(),
            )
            data = enveloped.data
            keys.update(
                interchange_control=enveloped.interchange_control,
                group_control=enveloped.group_control,
                transaction_control=enveloped.transaction_controls[0],
            )
        else:
            assert plan.rendered is not None
            data = plan.rendered
        out = store.add_document(
            session,
            data,
            direction=Direction.OUTBOUND,
            status=Status.CREATED,
            channel=partner.profile.outbound.type if partner.profile.outbound else "none",
            parent=doc,
            partner_id=partner.id,
            format=plan.fmt,
            doc_type=plan.doc_type,
            meta={
                "functional_id": plan.functional_id,
                "erp_document": doc.id,
                **({TEST_KEY: True} if plan.usage == "T" else {}),  # see _sent_before
            },
            **keys,
        )
        store.transition(
            session,
            doc,
            Status.TRANSLATED,
            "translated",
            detail={"outbound": out.id, "type": plan.doc_type},
            errors=plan.errors,
        )


def _as_replacement(
    session: Session, partner_id: str, ack: OrderAck, plan: OutboundPlan
) -> OrderAck:
    """An original 855 for a PO the partner already has an 855 for (the automatic one, or
    an earlier one from the ERP) goes out as a replacement (BAK01 05): a second original
    for one PO is a duplicate to the buyer's system, which refuses it or keeps the first.
    The ERP's ack is the whole current answer, which is what a replacement says."""
    if ack.purpose_code != "00":
        return ack
    found = earlier_sent(session, partner_id, "855", ack.po_number)
    if found is None:
        return ack
    plan.errors.append(_replaces(partner_id, ack.po_number, found[0]))
    return ack.model_copy(update={"purpose_code": "05", "purpose": Purpose.REPLACE})


def _as_late_replacement(
    session: Session, partner_id: str, plan: OutboundPlan
) -> Sequence[Sequence[Element]]:
    """The X12 855's segments, as a replacement after all (BAK01 05) when its PO got an 855
    after this one was planned: another worker's, committed meanwhile. Checked in the
    commit, taking turns with that worker as the invoice check does."""
    body = plan.body
    assert body is not None
    po_number = plan.po_number
    if plan.doc_type != "855" or po_number is None:
        return body
    replaced, earlier = as_replacement_855(session, partner_id, po_number, body)
    if earlier is not None:
        plan.errors.append(_replaces(partner_id, po_number, earlier))
    return replaced


def _replaces(partner_id: str, po_number: str, earlier: int) -> dict[str, Any]:
    return _error("erp.replaces", replaces_855(partner_id, po_number, earlier), severity="warning")


#: The documents a partner must not get twice under one number: the X12 set, or the kind
#: a templated (CSV, cXML) partner's document is stored as.
_NUMBERED = {"810": "invoice", "invoice": "invoice", "856": "shipment", "shipment": "shipment"}


def _sent_before(session: Session, partner_id: str, plan: OutboundPlan) -> dict[str, Any] | None:
    """The error that holds an original invoice or ship notice whose number this partner
    was sent already: retail AP systems reject a second invoice with a number they know, or
    pay it twice. Test interchanges (ISA15 T) are compared with test ones only. Sending
    one again is ``edigate resend``; a correction says it replaces (BIG08 / BSN01 not 00).
    Checked in the commit, so two workers take turns on it: SQLite's write lock, or on
    PostgreSQL a lock on the number held until the commit, after which the second
    worker's check sees the first one's document."""
    doc_type = plan.doc_type
    if plan.replaces or doc_type is None or doc_type not in _NUMBERED:
        return None
    field, number, what = (
        (Document.invoice_number, plan.invoice_number, "invoice")
        if _NUMBERED[doc_type] == "invoice"
        else (Document.shipment_id, plan.shipment_id, "ship notice")
    )
    if not number:
        return None
    take_turns(session, partner_id, doc_type, number)
    # Any PO: the partner's AP knows the number, whichever order it came with; but a test
    # interchange reaches its test system only, so tests are compared with tests.
    row = earlier_sent(session, partner_id, doc_type, None, field == number, test=plan.usage == "T")
    if row is None:
        return None
    earlier_id, status, earlier_po = row
    po = "" if earlier_po in (None, plan.po_number) else f", for PO {earlier_po}"
    return _error(
        "erp.duplicate",
        f"{what} {number} was already sent to {partner_id} as document {earlier_id} "
        f"({status}{po}); this one is held, not sent. To send that document again: "
        f"'edigate resend {earlier_id}'; for a corrected {what}, set purpose_code 05 "
        "(replace)",
    )


def stored_orders(
    store: Store, session: Session, partner_id: str, po_numbers: Iterable[str]
) -> tuple[dict[str, Order], set[str]]:
    """The latest mapped order we gave the ERP for each PO number of ``partner_id`` (its
    lines hold the partner's item IDs and, where the map converted them, their figures),
    a production one where there is any, and the PO numbers that only test interchanges
    (ISA15 T) brought: a test copy of a production PO does not make its answers tests."""
    wanted = list(dict.fromkeys(po_numbers))
    if not wanted:
        return {}, set()
    rows = session.scalars(
        select(Document)
        .where(
            Document.channel == ERP_CHANNEL,
            Document.direction == Direction.OUTBOUND.value,
            Document.doc_type == "order",
            Document.partner_id == partner_id,
            Document.po_number.in_(wanted),
        )
        .order_by(Document.id.desc())
    ).all()
    latest: dict[str, Document] = {}
    tests: set[str] = set()
    for row in rows:  # newest first
        po = row.po_number
        if po is None:
            continue
        test = bool((row.meta or {}).get(TEST_KEY))
        if po not in latest:
            latest[po] = row
            if test:
                tests.add(po)
        elif po in tests and not test:
            latest[po] = row  # the latest production order wins over later test copies
            tests.discard(po)
    found: dict[str, Order] = {}
    for po, row in latest.items():
        try:
            found[po] = Order.model_validate_json(store.content(row))
        except (ValidationError, EdigateError):
            continue  # an order today's model cannot read: answer without it
    return found, tests


def check_written(data: bytes, partner: Partner | None) -> list[Finding]:
    """Every finding our reader and validator (with the partner's overlay, if a partner is
    given) have on ``data``."""
    overlays = partner.overlays if partner is not None else {}
    findings: list[Finding] = []
    for event in X12Reader(data).events():
        if isinstance(event, Finding):
            findings.append(event)
        elif isinstance(event, TransactionSet):
            findings += event.findings
            findings += validate_transaction(event, overlays.get(event.set_id))
        elif not isinstance(event, TechnicalAck):
            findings += event.findings
    return findings


# --- helpers -----------------------------------------------------------------------------------


def _build(document: OrderAck | Shipment | Invoice, version: str) -> Segments:
    if isinstance(document, OrderAck):
        return build_855(document, version=version)
    if isinstance(document, Shipment):
        return build_856(document, version=version)
    return build_810(document, version=version)


def _refusal(partner: Partner, doc_type: str, set_id: str) -> str | None:
    """Why this partner gets no such document from us, if it does not."""
    profile = partner.profile
    if profile.outbound is None:
        return (
            f"{partner.id} has no outbound channel in its profile: nothing can carry the {set_id}"
        )
    if doc_type == "order_ack" and profile.ack.po_ack == "none":
        return f'{partner.id} takes no 855 (ack "855": none in its profile)'
    if partner.map.format == "x12" and (profile.identity is None or profile.us is None):
        return f"{partner.id} has no X12 identity (identity/us) to address the {set_id} to"
    return None


def _reject(message: str, *, code: str = "erp.unknown") -> OutboundPlan:
    return OutboundPlan(Status.REJECTED, [_error(code, message)])


def _error(code: str, message: str, *, severity: str = "error") -> dict[str, Any]:
    return {"code": code, "message": message, "severity": severity}


def _finding(finding: Finding) -> dict[str, Any]:
    """A validator finding on the trial write; its control numbers are the trial's, so they
    are left out (the segment positions are those of the document that would be sent)."""
    data = finding.to_dict()
    location = dict(data.get("location") or {})
    for key in ("interchange_control", "group_control", "transaction_control"):
        location.pop(key, None)
    data["location"] = location
    return data


def _map_issue(issue: MapIssue, shown: str) -> dict[str, Any]:
    return {
        "code": f"map.{issue.code}",
        "message": f"{shown}: {issue.message}",
        "severity": issue.severity,
        "path": issue.path,
        "origin": issue.origin,
    }
