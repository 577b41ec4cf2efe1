"""OrderAck consistency: what an 855 may not say at once (quantities that do not add up, a
price change without a price, BAK02 against the lines), and what stays valid."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from edigate.model import Order, OrderAck
from edigate.translate.auto_ack import auto_ack
from edigate.translate.x12_850 import iter_orders

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def ack(ack_type: str, *lines: dict[str, Any]) -> dict[str, Any]:
    return {"ack_type_code": ack_type, "po_number": "P1", "po_date": "2026-11-20", "lines": lines}


def line(*statuses: dict[str, Any], **fields: Any) -> dict[str, Any]:
    base = {"line_number": "1", "quantity": "10", "unit": "CA", "unit_price": "54.00"}
    return {**base, **fields, "statuses": statuses}


def st(code: str, quantity: str | None = None, unit: str | None = None, **more: Any) -> Any:
    return {"status_code": code, "quantity": quantity, "unit": unit, **more}


REFUSED = {
    # O: the ACK02s of a line share out its ordered quantity.
    "quantities-do-not-add-up": (
        ack("AC", line(st("IA", "4", "CA"), st("IB", "9", "CA"))),
        "line 1: the ACK quantities (4 IA + 9 IB = 13 CA) do not add up to the ordered 10 CA",
    ),
    "short-without-a-status-for-the-rest": (
        ack("AC", line(st("IA", "4"), st("IR", "0"), line_number="7")),
        "line 7: the ACK quantities (4 IA + 0 IR = 4 CA) do not add up to the ordered 10 CA",
    ),
    "part-rejected-with-nothing-for-the-rest": (
        ack("RD", line(st("IR", "4", "CA"))),
        "line 1: the ACK quantities (4 IR = 4 CA) do not add up to the ordered 10 CA (a line "
        "rejected in full states 0 or the ordered quantity)",
    ),
    # P: RJ (rejected, no detail) with lines that accept.
    "rejected-with-accepting-lines": (
        ack("RJ", line(st("IA", "10", "CA")), line(st("IB", "10", "CA"), line_number="2")),
        "ack type RJ (rejected) but line 1 has status IA (accepted): a rejected order has no "
        "lines, or every line rejected (IR); use AC (accepted_with_changes) for a partial one",
    ),
    "rejected-with-a-price-change": (
        ack("RJ", line(st("IR", "10")), line(st("IP", "10", unit_price="1"), line_number="2")),
        "ack type RJ (rejected) but line 2 has status IP (price_changed)",
    ),
    "rejected-line-without-status": (
        ack("RD", line()),
        "ack type RD (rejected_with_detail) but line 1 has no status",
    ),
    "no-detail-with-a-rejected-line": (
        ack("AK", line(st("IR", "10"))),
        "ack type AK (accepted_no_detail) but line 1 has status IR (rejected); use AC",
    ),
    # Q: IP without a new price leaves PO104 at the old one.
    "price-changed-without-a-price": (
        ack("AC", line(st("IP", "10", "CA"), line_number="3")),
        "line 3: ACK IP (price_changed) states no new price: give the new price in its unit_price",
    ),
    "price-changed-to-the-same-price": (
        ack("AC", line(st("IP", "10", unit_price="54.00"))),
        "line 1: ACK IP (price_changed) states the ordered price 54.00",
    ),
    # R: IA accepts as ordered, yet its price would replace PO104.
    "accepted-with-another-price": (
        ack("AD", line(st("IA", "10", "CA", unit_price="49.99"))),
        "line 1: ACK IA (accepted) states unit price 49.99, not the ordered 54.00: a new price "
        "is stated with IP (price_changed)",
    ),
    "backordered-with-another-price": (
        ack("AC", line(st("IA", "4"), st("IB", "6", unit_price="60"))),
        "line 1: ACK IB (backordered) states unit price 60, not the ordered 54.00",
    ),
    "two-new-prices-for-one-po104": (
        ack("AC", line(st("IP", "4", unit_price="50"), st("IP", "6", unit_price="52"))),
        "line 1: the statuses state different prices (50, 52); PO104 carries one",
    ),
    "quantity-changed-without-a-quantity": (
        ack("AC", line(st("IQ"))),
        "line 1: ACK IQ (quantity_changed) states no quantity: give the new quantity (ACK02)",
    ),
}


@pytest.mark.parametrize(("data", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_an_inconsistent_ack_is_refused_saying_why(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        OrderAck.model_validate(data)
    assert message in str(caught.value)


VALID = {
    "accepted-in-full": ack("AD", line(st("IA", "10", "CA"))),
    "accepted-unit-left-to-the-line": ack("AD", line(st("IA", "10"))),
    "split-with-a-backorder-date": ack(
        "AC", line(st("IA", "4", "CA", date="2026-11-26"), st("IB", "6", "CA", date="2026-12-10"))
    ),
    "statuses-in-another-unit": ack("AC", line(st("IA", "48", "EA"), st("IB", "72", "EA"))),
    "one-status-in-another-unit": ack("AC", line(st("IA", "4", "CA"), st("IB", "1", "PL"))),
    "status-without-quantity": ack("AC", line(st("IA", "4"), st("DR", date="2026-12-01"))),
    "line-without-ordered-quantity": ack("AD", line(st("IA", "7"), quantity=None)),
    "quantity-changed": ack("AC", line(st("IQ", "3", "CA"))),
    "quantity-changed-plus-backorder": ack("AC", line(st("IQ", "8"), st("IB", "5"))),
    "changes-made": ack("AC", line(st("IC", "12", unit_price="50"))),
    "rejected-at-zero": ack("RD", line(st("IR", "0"))),
    "rejected-at-the-ordered-quantity": ack("RJ", line(st("IR", "10", "CA"))),
    "rejected-not-available": ack("RD", line(st("R4", "10")), line(st("ID"), line_number="2")),
    "partly-rejected": ack("AC", line(st("IA", "6"), st("IR", "4"))),
    "rejected-without-lines": ack("RJ"),
    "accepted-without-detail": ack("AK"),
    "accepted-with-the-ordered-price": ack("AD", line(st("IA", "10", unit_price="54.00"))),
    "price-changed": ack("AC", line(st("IP", "10", "CA", unit_price="49.99"))),
    "price-for-a-line-without-one": ack(
        "AD", line(st("IA", "10", unit_price="3"), unit_price=None)
    ),
    "substituted-at-its-price": ack(
        "AC", line(st("IS", "10", unit_price="60", identifiers=[{"qualifier": "VN", "value": "X"}]))
    ),
    "unknown-status-code": ack("AC", line(st("ZZ", "3", unit_price="1"))),
    "unknown-status-under-rj": ack("RJ", line(st("ZZ", "10"))),
    "with-changes-all-accepted": ack("AC", line(st("IA", "10"))),  # the change may be elsewhere
}


@pytest.mark.parametrize("data", VALID.values(), ids=VALID.keys())
def test_legitimate_acks_stay_valid(data: dict[str, Any]) -> None:
    OrderAck.model_validate(data)


@pytest.mark.parametrize(
    "path", ["canonical/order-ack-changes.json", "erp/order-ack-4500012345.json"]
)
def test_the_sample_acks_are_consistent(path: str) -> None:
    OrderAck.model_validate(json.loads((SAMPLES / path).read_text()))


#: Every sample 850 that translates (the demo's file with errors does not).
SAMPLE_850S = [*sorted((SAMPLES / "x12").glob("*.edi")), SAMPLES / "demo" / "globex-dist-850.edi"]


@pytest.mark.parametrize("path", SAMPLE_850S, ids=lambda p: p.name)
def test_the_automatic_855_passes_the_rules_it_skips(path: Path) -> None:
    """auto_ack assembles its OrderAck without validation: what it builds must still be what
    validation accepts, rules included."""
    orders = [r.document for r in iter_orders(path) if r.document is not None]
    assert orders
    for order in orders:
        built = auto_ack(order, ack_date=dt.date(2026, 11, 21))
        assert OrderAck.model_validate(built.model_dump()) == built


def test_the_automatic_855_of_unusual_lines_passes_the_rules() -> None:
    order = Order.model_validate(
        {
            "po_number": "P1",
            "po_date": "2026-11-20",
            "lines": [
                {"line_number": "1", "quantity": "10", "unit": "CA", "unit_price": "54"},
                {"line_number": "2", "quantity": "0", "unit": "EA"},
                {"line_number": "3", "quantity": "2.5", "unit": "LB", "unit_price": "0"},
            ],
        }
    )
    for order_ in (order, order.model_copy(update={"lines": []})):
        built = auto_ack(order_, ack_date=dt.date(2026, 11, 21))
        assert OrderAck.model_validate(built.model_dump()) == built
