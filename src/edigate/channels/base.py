"""The one small interface all channels share.

Inbound: a listener builds an :class:`Inbound` and calls ``handler(inbound) -> Receipt``.
The handler stores the bytes durably (``Store.receive``) before it returns; only then may
the listener tell the sender "accepted" (SFTP close OK, AS2 MDN, SMTP 250). If the handler
raises, the listener must report failure to the sender.

Outbound: ``channel.send(Outbound) -> Delivery`` plus ``close()``; a failed delivery raises
:class:`DeliveryError` (retried with backoff by the dispatcher) or returns a Delivery whose
``evidence`` holds proof such as a signed MDN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import EdigateError
from ..store import Receipt, Store


class DeliveryError(EdigateError):
    """An outbound transport failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Inbound:
    """A file a partner sent, as one channel saw it."""

    data: bytes
    channel: str  # sftp | sftp_poll | as2 | email | folder | cli
    partner_id: str | None = None  # the account it arrived on, when the channel knows
    filename: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # remote address, AS2 ids, mail ids...


Handler = Callable[[Inbound], Receipt]


def store_handler(store: Store) -> Handler:
    """The production handler: durable receive into the store."""

    def handle(inbound: Inbound) -> Receipt:
        return store.receive(
            inbound.data,
            channel=inbound.channel,
            partner_id=inbound.partner_id,
            filename=inbound.filename,
            meta=inbound.meta,
        )

    return handle


@dataclass(frozen=True, slots=True)
class Outbound:
    """A stored outbound document on its way to a partner."""

    document_id: int
    partner_id: str
    filename: str
    data: bytes
    doc_type: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a transport reports after handing a document over."""

    detail: str
    evidence: bytes | None = None  # e.g. the signed MDN, kept as proof of delivery
    meta: dict[str, Any] = field(default_factory=dict)


class OutboundChannel(Protocol):
    def send(self, document: Outbound) -> Delivery: ...

    def close(self) -> None: ...


@runtime_checkable
class BatchChannel(Protocol):
    """A channel that takes a batch at once (folder channels: one folder fsync per batch)."""

    def send_many(self, documents: Sequence[Outbound]) -> list[Delivery | DeliveryError]: ...


def send_one(channel: BatchChannel, document: Outbound) -> Delivery:
    """``send`` of a batch channel: a batch of one, its failure raised."""
    result = channel.send_many([document])[0]
    if isinstance(result, DeliveryError):
        raise result
    return result


class MemoryChannel:
    """An outbound channel that keeps what it is sent: for tests and dry runs."""

    def __init__(self) -> None:
        self.sent: list[Outbound] = []

    def send(self, document: Outbound) -> Delivery:
        self.sent.append(document)
        return Delivery(f"kept in memory as #{len(self.sent)}")

    def close(self) -> None:
        pass
