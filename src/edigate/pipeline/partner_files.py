"""Inbound CSV and XML (cXML, UBL) order files: the partner's own format, its own answers.

Such a file carries no envelope identity, so the partner is the account it arrived on
(SFTP user, email sender, or ``--partner``). The partner's map says how to read it; each
order becomes a child document, goes through the same map as X12 orders, and reaches the
ERP; an automatic 855 goes back rendered by the partner's own template (CSV, cXML...).
There is no 997 for these formats: a problem is reported with its line and column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ..errors import EdigateError
from ..formats import read_partner_orders, render_outbound
from ..formats.issues import FormatIssue
from ..model import Order, erp_json
from ..partners import Partner, Registry
from ..partners.apply import apply_inbound
from ..store import BlobRef, Direction, Document, Status, Store
from ..store.queries import location
from ..store.statuses import ERP_CHANNEL
from .answers import answer_order
from .detect import Format
from .repeated_orders import CODE, GivenOrders, held_message

#: The meta key of a CSV/XML order's place in its file (0, 1, ...): stable across runs of
#: the file, so a reprocess attempt can leave out the orders an earlier run delivered.
FILE_POSITION_KEY = "file_position"
#: Which map formats read which detected file formats.
READS = {"csv": {Format.CSV}, "xml": {Format.XML}, "cxml": {Format.XML}}


@dataclass
class OrderPlan:
    index: int
    po_number: str | None
    status: Status
    errors: list[dict[str, Any]] = field(default_factory=list)
    order_json: bytes | None = None
    answer: tuple[bytes, str] | None = None  # the 855 in the partner's format, and its suffix
    original: bool = False  # held if the ERP has its PO already (repeated_orders)


@dataclass
class PartnerFilePlan:
    format: Format
    partner: Partner | None
    errors: list[dict[str, Any]] = field(default_factory=list)
    orders: list[OrderPlan] = field(default_factory=list)
    #: Orders an earlier run of the file delivered, left out of this one (a reprocess).
    skipped: int = 0


def plan_partner_file(
    registry: Registry,
    partner_id: str | None,
    filename: str | None,
    data: bytes,
    fmt: Format,
    today: dt.date,
    delivered: frozenset[int] = frozenset(),
) -> PartnerFilePlan:
    """Read, map and answer a CSV/XML order file (no database writes). ``delivered``: the
    places in the file of orders an earlier run put in the ERP outbox (a reprocess
    attempt's): left out, as an X12 attempt leaves out its delivered transactions."""
    name = filename or "document"
    partner = registry.get(partner_id) if partner_id else None
    plan = PartnerFilePlan(fmt, partner)
    if partner is None:
        plan.errors.append(
            _error(
                "unknown_partner",
                f"{name}: a {fmt.value} file names no sender; it must arrive on a partner's "
                "account (SFTP user, email sender) or with --partner"
                + (f" (partner {partner_id!r} is not configured)" if partner_id else ""),
            )
        )
        return plan
    if fmt not in READS.get(partner.map.format, set()):
        plan.errors.append(
            _error(
                "unexpected_format",
                f"{name}: {partner.id} sends {partner.map.format} (its map), this is {fmt.value}",
            )
        )
        return plan
    try:
        result = read_partner_orders(data, partner.map)
    except EdigateError as exc:
        plan.errors.append(_error("unreadable", f"{name}: {exc}"))
        return plan
    for key, position in zip(result.rejected, result.rejected_indexes, strict=True):
        if position not in delivered:
            issues = _issues_of(result.issues, key, position)
            plan.orders.append(OrderPlan(position, key, Status.REJECTED, issues))
    plan.errors += [_issue(i) for i in result.issues if i.order is None and i.index is None]
    for i, (order, position) in enumerate(zip(result.orders, result.order_indexes, strict=True)):
        if position in delivered:
            continue
        issues = _issues_of(result.issues, order.po_number, position)
        lines = result.line_positions[i] if i < len(result.line_positions) else []
        plan.orders.append(_plan_order(partner, order, position, issues, today, lines))
    plan.orders.sort(key=lambda o: o.index)  # in file order
    if delivered:
        plan.skipped = len(delivered)
    if not plan.orders and not plan.errors and not delivered:
        plan.errors.append(_error("empty", f"{name}: no order in the file"))
    return plan


def _issues_of(issues: list[FormatIssue], key: str, position: int) -> list[dict[str, Any]]:
    """The issues of the order at ``position`` in the file: by position, not by PO number,
    which two orders of one file may share."""
    return [
        _issue(i)
        for i in issues
        if (i.index == position if i.index is not None else i.order == key)
    ]


def _plan_order(
    partner: Partner,
    order: Order,
    index: int,
    issues: list[dict[str, Any]],
    today: dt.date,
    lines: list[int | None],
) -> OrderPlan:
    """Map and answer one order; ``lines``: where in the file each of its lines was read
    (the map's issue about a line says so, as the reader's own issues do)."""
    plan = OrderPlan(index, order.po_number, Status.REJECTED)
    plan.errors = list(issues)
    mapped = apply_inbound(order, partner)
    plan.errors += [
        {
            "code": f"map.{i.code}",
            "message": i.message,
            "severity": i.severity,
            "path": i.path,
            "line": lines[i.line_index]
            if i.line_index is not None and i.line_index < len(lines)
            else None,
        }
        for i in mapped.issues
    ]
    if mapped.order is not None:
        plan.status = Status.TRANSLATED
        plan.order_json = erp_json(mapped.order)
        plan.original = mapped.order.purpose_code == "00"
    if partner.profile.ack.po_ack == "auto":
        try:
            plan.answer = render_outbound(answer_order(order, mapped, today), partner)
        except EdigateError as exc:  # the order still reaches the ERP; the answer is held
            plan.errors.append(
                _error("answer.not_sent", f"order {order.po_number}: no answer sent: {exc}")
            )
    return plan


def commit_partner_file(
    store: Store, session: Session, doc: Document, plan: PartnerFilePlan, given: GivenOrders
) -> None:
    """Store the children, ERP orders and answers of a planned CSV/XML file; set its status.
    An original order whose PO the ERP has already (see :mod:`.repeated_orders`) is held,
    with no order for the ERP and no answer (decided here, not written into the plan, which
    a failed batch commits again alone)."""
    errors = list(plan.errors)
    partner = plan.partner
    blob = BlobRef(doc.blob_sha256, doc.size)
    doc.format = plan.format.value
    translated = held = 0
    for order in plan.orders:
        # The PO of an original order for the ERP: the one a repeat of would be held.
        po = order.po_number if order.original and order.status is Status.TRANSLATED else None
        earlier = repeated = None
        if partner is not None and po:
            earlier = given.earlier(session, doc, partner, po, (None, order.index))
            if earlier is not None:
                repeated = _error(CODE, held_message(partner.id, po, earlier))
        status = Status.DUPLICATE if earlier is not None else order.status
        translated += status is Status.TRANSLATED
        held += status is Status.DUPLICATE
        if status is Status.REJECTED:
            first = next(iter(order.errors), None)
            where = location(first) if first is not None else ""
            why = "rejected" if first is None else first.get("message", "")
            why = f"{where}: {why}" if where else why
            errors.append(
                _error("order_rejected", f"order {order.po_number or order.index + 1}: {why}")
            )
        child = store.add_document(
            session,
            blob,
            direction=Direction.INBOUND,
            status=status,
            channel=doc.channel,
            parent=doc,
            format=plan.format.value,
            doc_type="order",
            filename=doc.filename,
            po_number=order.po_number,
            errors=order.errors if repeated is None else [*order.errors, repeated],
            duplicate_of_id=None if earlier is None else earlier.document_id,
            meta={"index": order.index, FILE_POSITION_KEY: order.index},
        )
        if earlier is not None:
            continue
        if partner is not None and po:
            given.note(partner, doc, po, child.id, f"order {order.index + 1}")
        if order.order_json is not None:
            store.add_leaf(
                session,
                order.order_json,
                direction=Direction.OUTBOUND,
                status=Status.CREATED,
                channel=ERP_CHANNEL,
                parent=child,
                format="json",
                doc_type="order",
                po_number=order.po_number,
            )
        if order.answer is not None and partner is not None:
            data, suffix = order.answer
            store.add_leaf(
                session,
                data,
                direction=Direction.OUTBOUND,
                status=Status.CREATED,
                channel=partner.profile.outbound.type if partner.profile.outbound else "none",
                parent=child,
                format=suffix.lstrip("."),
                doc_type="855",
                po_number=order.po_number,
            )
    detail = {"translated": translated, "rejected": len(plan.orders) - translated - held}
    if plan.skipped:
        detail["skipped"] = plan.skipped  # delivered by an earlier run of the file
    if held:
        detail["held"] = held
        if held == len(plan.orders):  # every order in it is one the ERP has
            # (each names the order it repeats; the file, no copy of one, names none)
            store.transition(
                session, doc, Status.DUPLICATE, "duplicate", detail=detail, errors=errors
            )
            return
    status = Status.TRANSLATED if translated else Status.REJECTED
    store.transition(session, doc, status, "processed", detail=detail, errors=errors)


def _issue(issue: FormatIssue) -> dict[str, Any]:
    """The issue as a document error: where it is goes in ``line`` and ``column`` (shown in
    front of the message), not into the message a second time."""
    return {
        "code": "format",
        "message": issue.message,
        "severity": issue.severity,
        "line": issue.line,
        "column": issue.column,
        "field": issue.field,
        "value": issue.value,
    }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "severity": "error"}
