"""Document directions and states (see docs/architecture.md for the life cycle)."""

from __future__ import annotations

import enum

#: The channel of the documents the ERP gets and sends (the ERP connector).
ERP_CHANNEL = "erp"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class Status(enum.StrEnum):
    """Every state a document row can be in.

    Inbound: received -> (rejected | translated | duplicate) -> delivered.
    Outbound: created -> sent -> (acknowledged | ack_rejected | overdue);
    delivery_failed -> retry with backoff -> dead. ``failed`` is a processing error that
    will be retried; ``dead`` is final until an operator acts.
    """

    RECEIVED = "received"
    PROCESSING = "processing"
    TRANSLATED = "translated"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DELIVERED = "delivered"
    SPLIT = "split"
    CREATED = "created"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    ACK_REJECTED = "ack_rejected"
    OVERDUE = "overdue"
    DELIVERY_FAILED = "delivery_failed"
    FAILED = "failed"
    DEAD = "dead"


#: States a worker picks up: inbound to process, outbound to deliver.
PENDING_INBOUND = (Status.RECEIVED, Status.FAILED)
PENDING_OUTBOUND = (Status.CREATED, Status.DELIVERY_FAILED)
