"""The automatic 855: every line accepted exactly as ordered."""

from __future__ import annotations

import datetime as dt

import pytest

from edigate.model import AckType, LineStatusCode, Order
from edigate.translate.auto_ack import auto_ack
from edigate.translate.x12_850 import iter_orders
from edigate.translate.x12_855 import build_855

from .goldens import SAMPLES


@pytest.fixture(scope="module", params=["850-004010-retailer.edi", "850-005010-distributor.edi"])
def order(request: pytest.FixtureRequest) -> Order:
    (result,) = list(iter_orders(SAMPLES / "x12" / request.param))
    assert result.document is not None
    return result.document


def test_every_line_accepted_as_ordered(order: Order) -> None:
    ack = auto_ack(order, ack_date=dt.date(2026, 11, 21))
    assert ack.ack_type is AckType.ACCEPTED and ack.ack_type_code == "AD"
    assert (ack.po_number, ack.po_date, ack.ack_date) == (
        order.po_number,
        order.po_date,
        dt.date(2026, 11, 21),
    )
    assert len(ack.lines) == len(order.lines)
    for ordered, acked in zip(order.lines, ack.lines, strict=True):
        (status,) = acked.statuses
        assert status.status is LineStatusCode.ACCEPTED and status.status_code == "IA"
        assert (status.quantity, status.unit) == (ordered.quantity, ordered.unit)
        assert acked.identifiers == ordered.identifiers
        assert acked.unit_price == ordered.unit_price


def test_parties_and_references_are_echoed_not_notes(order: Order) -> None:
    ack = auto_ack(order, ack_date=dt.date(2026, 11, 21))
    assert ack.parties == order.parties
    assert [r.qualifier for r in ack.references] == [
        r.qualifier for r in order.references if not r.messages
    ]


def test_855_segments_pair_each_po1_with_its_ack(order: Order) -> None:
    segments = build_855(auto_ack(order, ack_date=dt.date(2026, 11, 21)))
    assert segments[0][2] == "AD"
    po1 = [i for i, s in enumerate(segments) if s[0] == "PO1"]
    acks = [i for i, s in enumerate(segments) if s[0] == "ACK"]
    assert len(po1) == len(acks) == len(order.lines)
    for line, p, a in zip(order.lines, po1, acks, strict=True):
        assert p < a and segments[p][2] == str(line.quantity) and segments[a][2] == segments[p][2]
        assert segments[a][3] == segments[p][3]
    assert segments[-1][1] == str(len(order.lines))


def test_order_without_lines_gets_ak_and_today() -> None:
    order = Order.model_validate({"po_number": "P", "po_date": "2026-11-20"})
    ack = auto_ack(order)
    assert ack.ack_type_code == "AK" and ack.lines == []
    assert ack.ack_date == dt.date.today()
