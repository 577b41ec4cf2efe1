"""``erp_json`` is the ERP's order JSON, byte for byte, however it is produced."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from edigate.model import Order, erp_json
from edigate.translate import translate_850
from edigate.x12 import TransactionSet, X12Reader

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "x12"


def sample_orders() -> list[Order]:
    orders = []
    for path in sorted(SAMPLES.glob("850-*.edi")):
        for event in X12Reader(str(path)).events():
            if isinstance(event, TransactionSet):
                result = translate_850(event)
                assert result.document is not None, path
                orders.append(result.document)
    return orders


def test_erp_json_is_model_dump_json_encoded() -> None:
    orders = sample_orders()
    assert len(orders) >= 3
    for order in orders:
        assert erp_json(order) == order.model_dump_json(exclude_none=True, indent=2).encode()


def test_erp_json_keeps_empty_lists_and_non_ascii_text() -> None:
    order = Order.model_validate(
        {
            "po_number": "PO-É1",
            "po_date": "2026-11-20",
            "lines": [{"quantity": Decimal("1.50"), "descriptions": [{"text": "Crème brûlée"}]}],
        }
    )
    data = erp_json(order)
    assert data == order.model_dump_json(exclude_none=True, indent=2).encode()
    assert '"text": "Crème brûlée"'.encode() in data
    assert b'"quantity": "1.50"' in data and b'"prices": []' in data and b"null" not in data
