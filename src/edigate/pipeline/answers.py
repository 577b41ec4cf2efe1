"""The automatic 855: what we tell a partner about an order the map has seen.

Every accepted line is IA as ordered; a line the map rejected (unknown item, impossible unit)
is IR; an order the map rejected as a whole is RJ. Used for X12 and for partner-format
(CSV/XML) orders alike.
"""

from __future__ import annotations

import datetime as dt

from ..model import Order, OrderAck
from ..partners.apply import MappedOrder
from ..translate import auto_ack


def answer_order(order: Order, mapped: MappedOrder, today: dt.date) -> OrderAck:
    """Accept what the map accepted; lines it rejected are IR, a rejected order is RJ."""
    ack = auto_ack(order, ack_date=today)
    if mapped.order is not None and not mapped.rejected_lines:
        return ack
    data = ack.model_dump(exclude_none=True)
    data.pop("ack_type", None)  # the friendly name follows the code we set
    if mapped.order is None:
        data.update(ack_type_code="RJ", lines=[])
        return OrderAck.model_validate(data)
    for index in mapped.rejected_lines:
        for status in data["lines"][index]["statuses"]:
            status.pop("status", None)
            status["status_code"] = "IR"
    data["ack_type_code"] = "AC"
    return OrderAck.model_validate(data)
