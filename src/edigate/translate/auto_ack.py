"""The automatic 855: accept every line of an order exactly as ordered.

Used for the partner policy ``po_ack: auto``. BAK02 is AD (acknowledge with detail, no
change) with one ``ACK*IA`` per line carrying the ordered quantity and unit; an order
without lines gets AK (acknowledge, no detail). Parties, references (not N9 notes) and the
line data are echoed so the buyer can match the acknowledgment to the order line by line.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..model.order import Order
from ..model.order_ack import OrderAck


def auto_ack(
    order: Order,
    *,
    ack_date: dt.date | None = None,
    seller_order_number: str | None = None,
) -> OrderAck:
    """An OrderAck accepting ``order`` in full (``ack_date`` defaults to today)."""
    lines: list[dict[str, Any]] = []
    for line in order.lines:
        status: dict[str, Any] = {"status_code": "IA", "quantity": line.quantity, "unit": line.unit}
        lines.append(
            {
                "line_number": line.line_number,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "price_basis": line.price_basis,
                "identifiers": line.identifiers,
                "descriptions": line.descriptions,
                "statuses": [status],
            }
        )
    return OrderAck.model_validate(
        {
            "ack_type_code": "AD" if lines else "AK",
            "po_number": order.po_number,
            "po_date": order.po_date,
            "release_number": order.release_number,
            "contract_number": order.contract_number,
            "seller_order_number": seller_order_number,
            "ack_date": ack_date or dt.date.today(),
            "currency": order.currency,
            "references": [r for r in order.references if not r.messages],
            "parties": order.parties,
            "lines": lines,
        }
    )
