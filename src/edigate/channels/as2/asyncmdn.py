"""Async MDNs for what we sent: remember each message until its MDN arrives, then settle it.

``As2Channel.send`` records a :class:`PendingMdn` *before* posting (the MDN can arrive
before the POST returns); the server hands MDN requests to :class:`AsyncMdnReceiver`, which
verifies the MDN with the partner's certificates, matches Original-Message-ID and MIC, and
calls ``on_settled`` once per message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from .errors import MdnError, ProcessingError
from .mdn import judge, parse_mdn
from .message import unquote_as2_id
from .mime import MimeEntity
from .partner import PartnerLookup
from .transport import HttpAnswer

log = logging.getLogger("edigate.channels.as2")


@dataclass(frozen=True)
class PendingMdn:
    """A sent message waiting for its MDN."""

    message_id: str
    document_id: int
    partner_id: str
    our_as2_id: str
    their_as2_id: str
    mics: dict[str, str]
    mic_digest: str
    signed_mdn: bool
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class MdnOutcome:
    """How an async MDN settled a message: ``delivered`` or not, and the MDN as evidence."""

    message_id: str
    document_id: int
    partner_id: str
    delivered: bool
    detail: str
    retryable: bool
    evidence: bytes
    disposition: str | None = None


class PendingMdnLog(Protocol):
    """Sent messages awaiting an MDN (a store-backed one replaces the memory one)."""

    def add(self, pending: PendingMdn) -> None: ...

    def get(self, message_id: str) -> PendingMdn | None: ...

    def settle(self, message_id: str, outcome: MdnOutcome) -> bool:
        """Record the outcome; False when the message was already settled."""
        ...

    def outcome(self, message_id: str) -> MdnOutcome | None: ...


class MemoryPendingMdns:
    """The last ``capacity`` sent messages and their outcomes, in memory."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._pending: dict[str, PendingMdn] = {}
        self._outcomes: dict[str, MdnOutcome] = {}
        self._lock = threading.Lock()

    def add(self, pending: PendingMdn) -> None:
        with self._lock:
            self._pending.pop(pending.message_id, None)
            self._pending[pending.message_id] = pending
            self._outcomes.pop(pending.message_id, None)
            while len(self._pending) > self.capacity:
                oldest = next(iter(self._pending))
                del self._pending[oldest]
                self._outcomes.pop(oldest, None)

    def get(self, message_id: str) -> PendingMdn | None:
        with self._lock:
            return self._pending.get(message_id)

    def settle(self, message_id: str, outcome: MdnOutcome) -> bool:
        with self._lock:
            if message_id in self._outcomes or message_id not in self._pending:
                return False
            self._outcomes[message_id] = outcome
            return True

    def outcome(self, message_id: str) -> MdnOutcome | None:
        with self._lock:
            return self._outcomes.get(message_id)


SettledCallback = Callable[[MdnOutcome], None]


class AsyncMdnReceiver:
    """Verifies async MDNs POSTed to us and settles the pending messages they answer.

    Answers: 200 settled (or already settled); 400 not a readable MDN; 403 unknown
    relationship or an MDN whose signature does not verify; 404 no pending message with
    that Original-Message-ID (or one sent to another partner).
    """

    def __init__(
        self, partners: PartnerLookup, pending: PendingMdnLog, on_settled: SettledCallback
    ) -> None:
        self.partners = partners
        self.pending = pending
        self.on_settled = on_settled

    def receive_entity(self, entity: MimeEntity) -> HttpAnswer:
        lower = {k.lower(): v for k, v in reversed(entity.headers)}
        as2_from = unquote_as2_id(lower.get("as2-from", ""))
        as2_to = unquote_as2_id(lower.get("as2-to", ""))
        partner = self.partners.partner_for(as2_from, as2_to)
        if partner is None:
            return HttpAnswer.text(
                403, f"unknown AS2 relationship: AS2-From {as2_from!r}, AS2-To {as2_to!r}\n"
            )
        try:
            mdn = parse_mdn(entity, partner.their_certs)
        except MdnError as exc:
            log.warning("async MDN from %s rejected: %s", as2_from, exc)
            status = 403 if "signature" in str(exc) else 400
            return HttpAnswer.text(status, f"MDN rejected: {exc}\n")
        except ProcessingError as exc:
            return HttpAnswer.text(400, f"MDN rejected: {exc}\n")
        message_id = mdn.original_message_id or ""
        pending = self.pending.get(message_id)
        if pending is None or pending.partner_id != partner.partner_id:
            return HttpAnswer.text(
                404, f"no message <{message_id}> awaits an MDN from {as2_from}\n"
            )
        if self.pending.outcome(message_id) is not None:
            return HttpAnswer.text(200, f"MDN for <{message_id}> already received\n")
        verdict = judge(mdn, message_id, pending.mics, require_signed=pending.signed_mdn)
        outcome = MdnOutcome(
            message_id=message_id,
            document_id=pending.document_id,
            partner_id=pending.partner_id,
            delivered=verdict.delivered,
            detail=verdict.detail,
            retryable=verdict.retryable,
            evidence=mdn.raw,
            disposition=mdn.disposition,
        )
        if self.pending.settle(message_id, outcome):
            log.info("async MDN for <%s>: %s", message_id, verdict.detail)
            self.on_settled(outcome)
        return HttpAnswer.text(200, f"MDN for <{message_id}> received\n")
