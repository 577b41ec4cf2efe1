"""The automatic 855: accept every line of an order exactly as ordered.

Used for the partner policy ``po_ack: auto``. BAK02 is AD (acknowledge with detail, no
change) with one ``ACK*IA`` per line carrying the ordered quantity and unit; an order
without lines gets AK (acknowledge, no detail). Parties, references (not N9 notes) and the
line data are echoed so the buyer can match the acknowledgment to the order line by line.

The OrderAck is assembled without validating it again (:func:`~edigate.model.base.constructor`):
every value is either a constant valid by inspection (``00``, ``AD``/``AK``, ``IA``) or a
field of the validated Order whose OrderAck counterpart has the same type and constraints
(``Text``, ``Code``, ``NonNegative``, ``date``; the same Identifier, Description, Reference
and Party instances, which validation would pass through as they are). The two values
from the caller are checked first; anything unusual goes through ``OrderAck.model_validate``.
The ack is consistent by construction (AD only with lines, every line status IA).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..model.base import constructor
from ..model.codes import AckType, LineStatusCode, Purpose
from ..model.order import Order
from ..model.order_ack import AckLine, LineStatus, OrderAck

_new_status = constructor(LineStatus)
_new_line = constructor(AckLine)
_new_ack = constructor(OrderAck)
_IA = LineStatusCode.ACCEPTED
#: The fields validation reports as set (for ``model_fields_set`` and ``exclude_unset``).
_STATUS_SET = frozenset({"status", "status_code", "quantity", "unit"})
_LINE_SET = frozenset(
    {
        "line_number",
        "quantity",
        "unit",
        "unit_price",
        "price_basis",
        "identifiers",
        "descriptions",
        "statuses",
    }
)
_ACK_SET = frozenset(
    {
        "purpose",
        "purpose_code",
        "ack_type",
        "ack_type_code",
        "po_number",
        "po_date",
        "release_number",
        "contract_number",
        "seller_order_number",
        "ack_date",
        "currency",
        "references",
        "parties",
        "lines",
    }
)


def auto_ack(
    order: Order,
    *,
    ack_date: dt.date | None = None,
    seller_order_number: str | None = None,
) -> OrderAck:
    """An OrderAck accepting ``order`` in full (``ack_date`` defaults to today)."""
    if ack_date is None:
        ack_date = dt.date.today()
    plain = type(ack_date) is dt.date and (
        seller_order_number is None or (type(seller_order_number) is str and seller_order_number)
    )
    if not plain:
        return _validated(order, ack_date, seller_order_number)
    lines: list[AckLine] = []
    for line in order.lines:
        quantity = line.quantity
        unit = line.unit
        status = _new_status(
            set(_STATUS_SET), status=_IA, status_code="IA", quantity=quantity, unit=unit
        )
        lines.append(
            _new_line(
                set(_LINE_SET),
                line_number=line.line_number,
                quantity=quantity,
                unit=unit,
                unit_price=line.unit_price,
                price_basis=line.price_basis,
                identifiers=list(line.identifiers),
                descriptions=list(line.descriptions),
                statuses=[status],
            )
        )
    return _new_ack(
        set(_ACK_SET),
        purpose=Purpose.ORIGINAL,
        purpose_code="00",
        ack_type=AckType.ACCEPTED if lines else AckType.ACCEPTED_NO_DETAIL,
        ack_type_code="AD" if lines else "AK",
        po_number=order.po_number,
        po_date=order.po_date,
        release_number=order.release_number,
        contract_number=order.contract_number,
        seller_order_number=seller_order_number,
        ack_date=ack_date,
        currency=order.currency,
        references=[r for r in order.references if not r.messages],
        parties=list(order.parties),
        lines=lines,
    )


def _validated(order: Order, ack_date: Any, seller_order_number: Any) -> OrderAck:
    """The same OrderAck, validated in full (for caller values of unusual types)."""
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
            "ack_date": ack_date,
            "currency": order.currency,
            "references": [r for r in order.references if not r.messages],
            "parties": order.parties,
            "lines": lines,
        }
    )
