"""Reconcile a partner's 997/999/TA1 with what we sent them, and notice what they never answered.

An AK1 names one of our groups (GS01 functional ID, GS06 control number) and each AK2 one of
its transactions (ST01, ST02). Our outbound documents record those numbers, so the verdict
lands on the document it is about: AK5/IK5 ``A`` or ``E`` makes it ``acknowledged``, a
rejection makes it ``ack_rejected`` with the partner's AK3/AK4 errors as its errors. A TA1
``R`` rejects every document of the interchange it names. An ack about something we never
sent is a warning on the ack itself, not a failure: partners do send stray acks. Each code
is described by its X12 meaning (:mod:`edigate.x12.acks.codes`), not by our ``ErrorCode``,
where two finding kinds share AK5 ``5``.

Settling runs inside the transaction that stores the inbound ack (see ``inbound.py``), so
the ack and its effects commit together. :func:`mark_overdue` is the other half: documents
still ``sent`` after the partner's ``ack.expect_ack_within_hours`` become ``overdue``.

Usage::

    settled = settle_group(store, session, "acme-retail", group_ack, ack_document)
    mark_overdue(store, registry, now)      # periodically; one indexed SELECT when idle
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..partners import Registry
from ..partners.profile import AckPolicy
from ..store import Direction, Document, Status, Store
from ..x12.acks import ACCEPTED_CODES, GroupAck, InterchangeAck, TransactionAck
from ..x12.acks.codes import meaning as x12_meaning
from ..x12.findings import Level
from ..x12.spec import FUNCTIONAL_GROUP_OF_SET

#: Transaction sets that are a partner's functional acknowledgement.
ACK_SETS = frozenset({"997", "999"})
#: The documents a partner is expected to acknowledge.
EXPECTING_ACK = ("855", "856", "810")


def settle_group(
    store: Store, session: Session, partner_id: str, group: GroupAck, ack: Document
) -> list[dict[str, Any]]:
    """Apply one 997/999 transaction (one AK1 group) to our outbound documents.

    Returns what it settled (also written to ``ack.meta["settled"]``); problems become
    warnings in ``ack.errors``.
    """
    settled: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    sent = _sent_in_group(session, partner_id, group.control_number)
    where = f"{group.kind} AK1 {group.functional_id} {group.control_number}"
    if not sent:
        warnings.append(
            _warning(
                "ack.unknown_group",
                f"{where}: we sent {partner_id} no group {group.control_number}",
            )
        )
    for first in sent[:1]:
        expected = FUNCTIONAL_GROUP_OF_SET.get(first.doc_type or "")  # an AK101 names it
        if expected and group.functional_id and group.functional_id != expected:
            warnings.append(
                _warning(
                    "ack.functional_id",
                    f"{where}: group {group.control_number} was {expected} ({first.doc_type}), "
                    f"the ack says {group.functional_id}",
                )
            )
    if group.transactions:
        for tx in group.transactions:
            doc = next(
                (
                    d
                    for d in sent
                    if d.doc_type == tx.set_id and _same(d.transaction_control, tx.control_number)
                ),
                None,
            )
            if doc is None:
                if sent:
                    warnings.append(
                        _warning(
                            "ack.unknown_transaction",
                            f"{where} AK2 {tx.set_id} {tx.control_number}: group "
                            f"{group.control_number} to {partner_id} holds no such transaction",
                        )
                    )
                continue
            status = tx.status or group.status
            entry = _settle(store, session, doc, status, ack, group.kind, tx, group)
            if entry.get("status") is None:
                warnings.append(
                    _warning(
                        "ack.unknown_status",
                        f"{where} AK2 {tx.set_id} {tx.control_number}: status {status!r} is "
                        "neither accepted nor rejected; document left as it was",
                    )
                )
            settled.append(entry)
    elif sent:
        # An AK9 alone speaks for every transaction of the group.
        latest = sent[0].interchange_control
        for doc in (d for d in sent if d.interchange_control == latest):
            entry = _settle(store, session, doc, group.status, ack, group.kind, None, group)
            if entry.get("status") is None:
                warnings.append(
                    _warning(
                        "ack.unknown_status",
                        f"{where}: AK9 status {group.status!r} names no transaction; "
                        f"document {doc.id} left as it was",
                    )
                )
            settled.append(entry)
    _record(ack, settled, warnings)
    return settled


def settle_technical(
    store: Store,
    session: Session,
    partner_id: str,
    tas: Sequence[InterchangeAck],
    ack: Document,
) -> list[dict[str, Any]]:
    """Apply TA1s: ``R`` rejects our documents of that interchange; A/E is noted only (the
    envelope arrived; the 997/999 speaks for the content)."""
    settled: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for ta in tas:
        controls = {ta.control_number}
        if ta.control_number.isdigit():
            controls.add(f"{int(ta.control_number):09d}")
        docs = session.scalars(
            select(Document)
            .where(
                Document.partner_id == partner_id,
                Document.direction == Direction.OUTBOUND.value,
                Document.format == "x12",
                Document.interchange_control.in_(sorted(controls)),
            )
            .order_by(Document.id.desc())
        ).all()
        if not docs:
            warnings.append(
                _warning(
                    "ack.unknown_interchange",
                    f"TA1 {ta.control_number}: we sent {partner_id} no interchange "
                    f"{ta.control_number}",
                )
            )
            continue
        note = ta.note_code or ""
        meaning = x12_meaning(Level.INTERCHANGE, note) or "no reason given"
        for doc in docs:
            entry: dict[str, Any] = {
                "document": doc.id,
                "type": doc.doc_type,
                "interchange": ta.control_number,
                "ta1": ta.status,
            }
            if ta.status == "R":
                error = {
                    "code": f"TA1-{note}" if note else "TA1",
                    "message": f"{partner_id} rejected interchange {ta.control_number} (TA1): "
                    f"{meaning}",
                    "severity": "error",
                    "source": "TA1",
                    "ack_document": ack.id,
                }
                store.transition(
                    session,
                    doc,
                    Status.ACK_REJECTED,
                    "ack_rejected",
                    detail={"by": ack.id, "ta1": ta.status, "note": note},
                    errors=[*(doc.errors or []), error],
                )
                entry["status"] = Status.ACK_REJECTED.value
            else:
                store.audit(
                    session,
                    doc,
                    "interchange_accepted",
                    doc.status,
                    doc.status,
                    {"by": ack.id, "ta1": ta.status, "note": note},
                )
                entry["status"] = None
            settled.append(entry)
    _record(ack, settled, warnings)
    return settled


def mark_overdue(store: Store, registry: Registry, now: dt.datetime | None = None) -> int:
    """Mark our 855/856/810 still ``sent`` after the partner's window as ``overdue``.

    One SELECT over ``(status, ...)`` (indexed); partners that expect no acks (functional
    ``none`` or a window of 0) are skipped. Returns how many documents it marked.
    """
    moment = now or dt.datetime.now(dt.UTC)
    windows: dict[int, list[str]] = {}
    configured: list[str] = []
    for partner in registry:
        configured.append(partner.id)
        policy = partner.profile.ack
        if policy.functional != "none" and policy.expect_ack_within_hours > 0:
            windows.setdefault(policy.expect_ack_within_hours, []).append(partner.id)
    default = AckPolicy().expect_ack_within_hours
    due = [
        and_(Document.partner_id.in_(ids), Document.updated_at < moment - dt.timedelta(hours=h))
        for h, ids in sorted(windows.items())
    ]
    # A partner no longer configured keeps the default window.
    due.append(
        and_(
            Document.partner_id.not_in(configured) if configured else Document.id.is_not(None),
            Document.updated_at < moment - dt.timedelta(hours=default),
        )
    )
    hours = {pid: h for h, ids in windows.items() for pid in ids}
    query = (
        select(Document)
        .where(
            Document.status == Status.SENT.value,
            Document.direction == Direction.OUTBOUND.value,
            Document.doc_type.in_(EXPECTING_ACK),
            or_(*due),
        )
        .order_by(Document.id)
        .limit(500)
    )
    if store.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    count = 0
    with store.session() as session:
        for doc in session.scalars(query).all():
            window = hours.get(doc.partner_id or "", default)
            store.transition(
                session,
                doc,
                Status.OVERDUE,
                "overdue",
                detail={"sent_at": doc.updated_at.isoformat(), "window_hours": window},
            )
            count += 1
    return count


# --- helpers -----------------------------------------------------------------------------------


def _sent_in_group(session: Session, partner_id: str, control: str) -> list[Document]:
    """Our outbound X12 documents to ``partner_id`` in group ``control``, newest first."""
    controls = {control}
    if control.isdigit():
        controls.add(str(int(control)))
    return list(
        session.scalars(
            select(Document)
            .where(
                Document.partner_id == partner_id,
                Document.direction == Direction.OUTBOUND.value,
                Document.format == "x12",
                Document.group_control.in_(sorted(controls)),
            )
            .order_by(Document.id.desc())
        ).all()
    )


def _same(ours: str | None, theirs: str) -> bool:
    if ours is None:
        return False
    if ours == theirs:
        return True
    return ours.isdigit() and theirs.isdigit() and int(ours) == int(theirs)


def _settle(
    store: Store,
    session: Session,
    doc: Document,
    status: str,
    ack: Document,
    kind: str,
    tx: TransactionAck | None,
    group: GroupAck,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "document": doc.id,
        "type": doc.doc_type,
        "group": group.control_number,
        "transaction": tx.control_number if tx else None,
        "ack_status": status,
    }
    detail = {"by": ack.id, "kind": kind, "status": status}
    if status in ACCEPTED_CODES:
        store.transition(session, doc, Status.ACKNOWLEDGED, "acknowledged", detail=detail)
        entry["status"] = Status.ACKNOWLEDGED.value
    elif status in ("R", "M", "W", "X"):
        errors = _rejection(kind, doc.partner_id or "", group, tx, ack.id)
        store.transition(
            session,
            doc,
            Status.ACK_REJECTED,
            "ack_rejected",
            detail=detail,
            errors=[*(doc.errors or []), *errors],
        )
        entry["status"] = Status.ACK_REJECTED.value
    else:
        entry["status"] = None
    return entry


def _rejection(
    kind: str, partner_id: str, group: GroupAck, tx: TransactionAck | None, ack_id: int
) -> list[dict[str, Any]]:
    """The partner's AK3/AK4/AK5 (IK3/IK4/IK5) and AK9 codes as our error dicts."""
    base = {"severity": "error", "source": kind, "ack_document": ack_id}
    errors: list[dict[str, Any]] = []
    name = f"{tx.set_id} {tx.control_number}" if tx else f"group {group.control_number}"
    if tx is not None:
        for seg in tx.segment_errors:
            meaning = x12_meaning(Level.SEGMENT, seg.code or "") or "segment error"
            errors.append(
                {
                    **base,
                    "code": f"AK3-{seg.code}" if seg.code else "AK3",
                    "tag": seg.tag,
                    "segment": seg.position,
                    "loop": seg.loop_id,
                    "message": f"{partner_id}'s {kind} on {name}: segment {seg.tag} at position "
                    f"{seg.position}: {meaning}",
                }
            )
            for el in seg.elements:
                meaning = x12_meaning(Level.ELEMENT, el.code) or "element error"
                where = f"{seg.tag}{el.position:02d}" if el.position else seg.tag
                if el.component:
                    where += f"-{el.component}"
                shown = f" (value {el.value!r})" if el.value else ""
                errors.append(
                    {
                        **base,
                        "code": f"AK4-{el.code}",
                        "tag": seg.tag,
                        "segment": seg.position,
                        "element": el.position,
                        "component": el.component,
                        "data_element": el.data_element_ref,
                        "value": el.value,
                        "message": f"{partner_id}'s {kind} on {name}: {where} at segment "
                        f"{seg.position}: {meaning}{shown}",
                    }
                )
        for code in tx.codes:
            meaning = x12_meaning(Level.TRANSACTION, code) or "transaction error"
            errors.append(
                {
                    **base,
                    "code": f"AK5-{code}",
                    "message": f"{partner_id}'s {kind} rejected {name}: {meaning}",
                }
            )
    if not errors:
        for code in group.codes:
            meaning = x12_meaning(Level.GROUP, code) or "group error"
            errors.append(
                {
                    **base,
                    "code": f"AK9-{code}",
                    "message": f"{partner_id}'s {kind} rejected {name}: {meaning}",
                }
            )
    if not errors:
        errors.append({**base, "code": "AK5", "message": f"{partner_id}'s {kind} rejected {name}"})
    return errors


def _warning(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "severity": "warning"}


def _record(ack: Document, settled: list[dict[str, Any]], warnings: list[dict[str, Any]]) -> None:
    meta = dict(ack.meta or {})
    meta["settled"] = [*meta.get("settled", []), *settled]
    ack.meta = meta
    if warnings:
        ack.errors = [*(ack.errors or []), *warnings]
