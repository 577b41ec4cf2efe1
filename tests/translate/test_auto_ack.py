"""The automatic 855: every line accepted exactly as ordered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from edigate.model import AckType, LineStatusCode, Order, OrderAck
from edigate.translate.auto_ack import _validated, auto_ack
from edigate.translate.x12_850 import iter_orders, translate_850
from edigate.translate.x12_855 import build_855
from edigate.x12 import TransactionSet, X12Reader

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


# --------------------------------------------------------------------------- not validated twice
def instances(model: BaseModel) -> list[BaseModel]:
    """``model`` and every model inside it, depth first."""
    out = [model]
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                out += instances(item)
    return out


def assert_same_as_validated(order: Order, **kwargs: object) -> None:
    """The assembled ack is what full validation makes, down to field order and fields set."""
    ack = auto_ack(order, **kwargs)  # type: ignore[arg-type]
    validated = _validated(order, kwargs.get("ack_date"), kwargs.get("seller_order_number"))
    assert ack == validated
    assert OrderAck.model_validate(ack.model_dump()) == ack
    assert ack.model_dump_json() == validated.model_dump_json()
    for made, checked in zip(instances(ack), instances(validated), strict=True):
        assert type(made) is type(checked)
        assert list(made.__dict__) == list(type(made).model_fields)
        assert made.model_fields_set == checked.model_fields_set
    # The ack's lists are its own: changing them leaves the order alone.
    for line, ordered in zip(ack.lines, order.lines, strict=True):
        assert line.identifiers is not ordered.identifiers
    assert ack.parties is not order.parties


def test_assembled_ack_equals_the_validated_one(order: Order) -> None:
    assert_same_as_validated(order, ack_date=dt.date(2026, 11, 21))
    assert_same_as_validated(order, ack_date=dt.date(2026, 11, 21), seller_order_number="SO-1")
    assert_same_as_validated(Order.model_validate({"po_number": "P", "po_date": "2026-11-20"}),
                             ack_date=dt.date(2026, 11, 21))  # fmt: skip


def test_every_corpus_order_gets_the_ack_validation_would_give(corpus_dir: Path) -> None:
    count = 0
    for path in sorted((corpus_dir / "x12-850").iterdir()):
        for event in X12Reader(path).events():
            if isinstance(event, TransactionSet) and event.set_id == "850":
                order = translate_850(event).document
                if order is not None:
                    assert_same_as_validated(order, ack_date=dt.date(2026, 11, 21))
                    count += 1
    assert count >= 40


def test_unusual_caller_values_are_validated(order: Order) -> None:
    with pytest.raises(ValidationError, match="seller_order_number"):
        auto_ack(order, seller_order_number="")
    ack = auto_ack(order, ack_date="2026-11-21")  # type: ignore[arg-type]
    assert ack.ack_date == dt.date(2026, 11, 21)
    with pytest.raises(ValidationError, match="ack_date"):
        auto_ack(order, ack_date=dt.datetime(2026, 11, 21, 10, 30))
