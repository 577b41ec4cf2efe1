"""A partner's 997/999/TA1 settles what we sent, on SQLite and on PostgreSQL; what they
never answer becomes overdue."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import select

from edigate.app import Gateway
from edigate.pipeline.reconcile import mark_overdue
from edigate.store import AuditEvent, Direction, Document, Status

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"
ACK = ROOT / "samples/erp/order-ack-4500012345.json"


def run(gw: Gateway) -> None:
    gw.worker("test").run(until_idle=True)


def docs(gw: Gateway, **where: str) -> list[Document]:
    with gw.store.session() as session:
        rows = session.scalars(select(Document).order_by(Document.id)).all()
    return [d for d in rows if all(getattr(d, k) == v for k, v in where.items())]


def doc(gw: Gateway, doc_id: int) -> Document:
    with gw.store.session() as session:
        return gw.store.get(session, doc_id)


def acme_855(gw: Gateway) -> Document:
    """ACME's 850 comes in; our automatic 855 goes out (status sent)."""
    gw.store.receive(RETAILER.read_bytes(), channel="sftp", partner_id="acme-retail")
    run(gw)
    (ack,) = docs(gw, doc_type="855")
    assert ack.status == "sent" and ack.group_control and ack.transaction_control
    return ack


def interchange(body: list[str], *, control: int = 7001, sender: str = "ACMERETAIL") -> bytes:
    """ACME's interchange to us: a 997 (body inside ST/SE) or, without one, TA1s."""
    lines = [
        f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*EDIGATEDIST    *261127*0900*U*00401*"
        f"{control:09d}*0*P*>"
    ]
    if body and body[0].startswith("TA1"):
        lines += [*body, f"IEA*0*{control:09d}"]
    else:
        lines += [
            f"GS*FA*{sender}*EDIGATEDIST*20261127*0900*{control}*X*004010",
            "ST*997*0001",
            *body,
            f"SE*{len(body) + 2}*0001",
            f"GE*1*{control}",
            f"IEA*1*{control:09d}",
        ]
    return ("~\n".join(lines) + "~\n").encode()


def receive_ack(gw: Gateway, data: bytes) -> int:
    doc_id = gw.store.receive(data, channel="sftp", partner_id="acme-retail").document_id
    run(gw)
    return doc_id


def audit(gw: Gateway, doc_id: int) -> list[AuditEvent]:
    with gw.store.session() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.document_id == doc_id).order_by(AuditEvent.id)
            )
        )


def test_a_997_from_acme_acknowledges_the_855_the_erp_sent(gateway: Gateway) -> None:
    auto = acme_855(gateway)
    shutil.copy(ACK, gateway.erp.inbox / "acks" / ACK.name)
    run(gateway)
    ours = next(d for d in docs(gateway, doc_type="855") if d.id != auto.id)
    assert ours.status == "sent"
    acks_before = len(docs(gateway, doc_type="997", direction="out"))

    file_id = receive_ack(
        gateway,
        interchange(
            [
                f"AK1*PR*{ours.group_control}",
                f"AK2*855*{ours.transaction_control}",
                "AK5*A",
                "AK9*A*1*1*1",
            ]
        ),
    )
    assert doc(gateway, ours.id).status == "acknowledged"
    assert doc(gateway, auto.id).status == "sent"  # another group: untouched
    (child,) = docs(gateway, parent_id=file_id)
    assert (child.doc_type, child.status, child.direction) == ("997", "translated", "in")
    assert child.meta["settled"] == [
        {
            "document": ours.id,
            "type": "855",
            "group": ours.group_control,
            "transaction": ours.transaction_control,
            "ack_status": "A",
            "status": "acknowledged",
        }
    ]
    assert doc(gateway, file_id).status == "translated"
    event = audit(gateway, ours.id)[-1]
    assert (event.event, event.from_status, event.to_status) == (
        "acknowledged",
        "sent",
        "acknowledged",
    )
    assert event.detail["by"] == child.id
    # An acknowledgement is never acknowledged back.
    assert len(docs(gateway, doc_type="997", direction="out")) == acks_before


def test_a_rejecting_997_marks_the_855_ack_rejected_with_acmes_errors(gateway: Gateway) -> None:
    ours = acme_855(gateway)
    receive_ack(
        gateway,
        interchange(
            [
                f"AK1*PR*{int(ours.group_control or 0):09d}",  # zero-padded: still ours
                f"AK2*855*{ours.transaction_control}",
                "AK3*PO1*14*PO1*8",
                "AK4*3*355*7*ZZ",
                "AK5*R*5",
                "AK9*R*1*1*0",
            ]
        ),
    )
    rejected = doc(gateway, ours.id)
    assert rejected.status == "ack_rejected"
    assert [e["code"] for e in rejected.errors] == ["AK3-8", "AK4-7", "AK5-5"]
    segment, element, transaction = rejected.errors
    assert segment["tag"] == "PO1" and segment["segment"] == 14
    assert "segment PO1 at position 14" in segment["message"]
    assert element["element"] == 3 and element["value"] == "ZZ"
    assert "PO103 at segment 14: invalid code value (value 'ZZ')" in element["message"]
    assert "acme-retail's 997 rejected 855" in transaction["message"]
    # AK5 5 is the X12 "one or more segments in error", not our size limit (same code).
    assert transaction["message"].endswith(": one or more segments in error")
    assert all(e["source"] == "997" for e in rejected.errors)


def test_a_ta1_rejecting_our_interchange_marks_its_documents(gateway: Gateway) -> None:
    ours = acme_855(gateway)
    (ack,) = docs(gateway, doc_type="997", direction="out")
    file_id = receive_ack(
        gateway,
        interchange(
            [
                f"TA1*{ours.interchange_control}*261127*0900*R*022",
                f"TA1*{ack.interchange_control}*261127*0900*A*000",
            ]
        ),
    )
    assert doc(gateway, file_id).status == "translated"
    rejected = doc(gateway, ours.id)
    assert rejected.status == "ack_rejected"
    (error,) = rejected.errors
    assert error["code"] == "TA1-022" and "invalid control structure" in error["message"]
    # TA1 A: the envelope arrived; the status waits for the 997, the trail says so.
    assert doc(gateway, ack.id).status == "sent"
    assert audit(gateway, ack.id)[-1].event == "interchange_accepted"
    settled = doc(gateway, file_id).meta["settled"]
    assert [(s["document"], s["ta1"]) for s in settled] == [(ours.id, "R"), (ack.id, "A")]


def test_a_997_about_something_we_never_sent_is_a_warning_not_a_crash(gateway: Gateway) -> None:
    ours = acme_855(gateway)
    file_id = receive_ack(
        gateway,
        interchange(
            [
                "AK1*PR*987654",
                "AK2*855*4321",
                "AK5*A",
                "AK9*A*1*1*1",
            ]
        )
        + interchange(
            [
                f"AK1*IN*{ours.group_control}",
                "AK2*855*9999",
                "AK5*R*5",
                "AK9*R*1*1*0",
            ],
            control=7002,
        )
        + interchange(["AK9*A*1*1*1"], control=7003),
    )
    assert doc(gateway, file_id).status == "translated"
    first, second, unreadable = docs(gateway, parent_id=file_id)
    assert unreadable.status == "rejected"
    assert any("no AK1" in e["message"] for e in unreadable.errors)
    assert first.status == second.status == "translated"
    assert first.meta["settled"] == []
    (warning,) = first.errors
    assert warning["severity"] == "warning" and "no group 987654" in warning["message"]
    codes = [e["code"] for e in second.errors]
    assert codes == ["ack.functional_id", "ack.unknown_transaction"]
    assert "was PR (855), the ack says IN" in second.errors[0]["message"]
    assert doc(gateway, ours.id).status == "sent"  # nothing it named was ours


def test_a_999_from_globex_acknowledges_our_856(gateway: Gateway) -> None:
    with gateway.store.session() as session:
        asn = gateway.store.add_document(
            session,
            b"ISA*...856 as sent",
            direction=Direction.OUTBOUND,
            status=Status.SENT,
            channel="sftp_push",
            partner_id="globex-dist",
            format="x12",
            doc_type="856",
            interchange_control="000000042",
            group_control="42",
            transaction_control="0042",
        )
        asn_id = asn.id
    body = [
        "AK1*SH*42*005010",
        "AK2*856*0042*005010",
        "IK5*E",
        "AK9*E*1*1*1",
    ]
    data = "~".join(
        [
            "ISA*00*          *00*          *ZZ*GLOBEXDIST     *ZZ*EDIGATEDIST    *261127*0900*^*"
            "00501*000000501*0*P*:",
            "GS*FA*GLOBEXDIST*EDIGATEDIST*20261127*0900*501*X*005010X231A1",
            "ST*999*0001*005010X231A1",
            *body,
            f"SE*{len(body) + 2}*0001",
            "GE*1*501",
            "IEA*1*000000501",
        ]
    )
    gateway.store.receive((data + "~").encode(), channel="email", partner_id="globex-dist")
    run(gateway)
    assert doc(gateway, asn_id).status == "acknowledged"  # E: accepted, errors noted
    (child,) = docs(gateway, doc_type="999", direction="in")
    assert child.status == "translated" and child.meta["settled"][0]["document"] == asn_id


def test_documents_unanswered_past_the_window_become_overdue(gateway: Gateway) -> None:
    ours = acme_855(gateway)
    (ack,) = docs(gateway, doc_type="997", direction="out")
    registry = gateway.registry()
    now = dt.datetime.now(dt.UTC)
    assert mark_overdue(gateway.store, registry, now + dt.timedelta(hours=23)) == 0
    assert mark_overdue(gateway.store, registry, now + dt.timedelta(hours=25)) == 1
    late = doc(gateway, ours.id)
    assert late.status == "overdue"
    event = audit(gateway, ours.id)[-1]
    assert (event.event, event.detail["window_hours"]) == ("overdue", 24)
    assert doc(gateway, ack.id).status == "sent"  # nobody acknowledges an acknowledgement
    assert mark_overdue(gateway.store, registry, now + dt.timedelta(hours=99)) == 0  # once

    # A late 997 still settles it.
    receive_ack(
        gateway,
        interchange(
            [
                f"AK1*PR*{ours.group_control}",
                f"AK2*855*{ours.transaction_control}",
                "AK5*A",
                "AK9*A*1*1*1",
            ]
        ),
    )
    assert doc(gateway, ours.id).status == "acknowledged"


def test_the_window_is_the_partners(gateway: Gateway) -> None:
    profile = gateway.config.config_dir / "partners/acme-retail.yaml"
    profile.write_text(
        profile.read_text().replace(
            "  duplicate_window_days: 30\n",
            "  duplicate_window_days: 30\n  expect_ack_within_hours: 48\n",
        )
    )
    ours = acme_855(gateway)
    registry = gateway.registry()
    assert registry.get("acme-retail").profile.ack.expect_ack_within_hours == 48  # type: ignore[union-attr]
    now = dt.datetime.now(dt.UTC)
    assert mark_overdue(gateway.store, registry, now + dt.timedelta(hours=25)) == 0
    assert mark_overdue(gateway.store, registry, now + dt.timedelta(hours=49)) == 1
    assert doc(gateway, ours.id).status == "overdue"
