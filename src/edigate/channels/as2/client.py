"""The ``as2`` outbound channel: build the message, POST it, and judge the MDN.

Retryability (``DeliveryError.retryable``):

- retryable: network and TLS errors, timeouts, HTTP 408/429/5xx, and a negative MDN whose
  modifier is not one of the permanent ones (e.g. unexpected-processing-error).
- not retryable: a configuration problem (no URL, expired certificate), other HTTP 4xx,
  a negative MDN saying authentication-failed, decryption-failed, integrity-check-failed,
  insufficient-message-security or decompression-failed (the same bytes would fail again),
  and an MDN that cannot be trusted (bad or missing signature, wrong Original-Message-ID,
  MIC mismatch, unreadable): the partner may hold the document, so a person decides.

The Message-ID is stable per document and payload, so a retry after a lost answer is seen by
the partner as a duplicate rather than a second order.

    channel = As2Channel(partner)
    delivery = channel.send(outbound)      # Delivery(evidence=<signed MDN>) or DeliveryError
"""

from __future__ import annotations

import hashlib
import logging
import ssl
from dataclasses import dataclass

from ..base import Delivery, DeliveryError, Outbound
from .asyncmdn import MemoryPendingMdns, PendingMdn, PendingMdnLog
from .crypto import check_cert_dates
from .errors import MdnError, ProcessingError, TransportError
from .mdn import judge, parse_mdn
from .message import OutgoingMessage, build_message, new_message_id
from .mime import entity_from_http
from .partner import As2Partner
from .transport import DEFAULT_TIMEOUT, post

log = logging.getLogger("edigate.channels.as2")

USER_AGENT = "edigate-AS2/1.0"


class MdnRejected(DeliveryError):
    """The partner answered with a negative or untrustworthy MDN; ``evidence`` keeps it."""

    def __init__(
        self, message: str, *, retryable: bool, evidence: bytes, disposition: str | None
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.evidence = evidence
        self.disposition = disposition


@dataclass(frozen=True, slots=True)
class _Sent:
    message: OutgoingMessage
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class As2Channel:
    """Send documents to one AS2 partner (an ``OutboundChannel``)."""

    def __init__(
        self,
        partner: As2Partner,
        *,
        pending: PendingMdnLog | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
        message_id_domain: str | None = None,
    ) -> None:
        self.partner = partner
        self.pending = pending or MemoryPendingMdns()
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.user_agent = user_agent
        self.domain = message_id_domain or partner.our_as2_id

    def message_id_for(self, document: Outbound) -> str:
        """Stable per document and content: retries reuse it (RFC 4130 §9.6 resends). An
        operator's resend (``meta["resend"]``, counted) is a new message with a new one."""
        if document.meta.get("as2_message_id"):
            return str(document.meta["as2_message_id"])
        resend = document.meta.get("resend")
        which = f"resend {resend}\0" if resend else ""
        digest = hashlib.sha256(
            f"{self.partner.partner_id}\0{document.filename}\0{which}".encode() + document.data
        ).hexdigest()[:16]
        return new_message_id(self.domain, f"edigate-{document.document_id}-{digest}")

    def _preflight(self) -> str:
        partner = self.partner
        if not partner.url:
            raise DeliveryError(f"partner {partner.partner_id} has no AS2 URL", retryable=False)
        if partner.encrypt:
            problem = check_cert_dates(partner.their_certs[0])
            if problem:
                raise DeliveryError(
                    f"cannot encrypt for {partner.their_as2_id}: {problem}", retryable=False
                )
        if partner.sign:
            problem = check_cert_dates(partner.our_cert)
            if problem:
                raise DeliveryError(
                    f"cannot sign as {partner.our_as2_id}: {problem}", retryable=False
                )
        return partner.url

    def build(self, document: Outbound) -> OutgoingMessage:
        return build_message(
            document.data,
            self.partner,
            message_id=self.message_id_for(document),
            filename=document.filename,
            content_type=document.meta.get("content_type"),
            subject=document.meta.get("subject"),
        )

    def send(self, document: Outbound) -> Delivery:
        url = self._preflight()
        partner = self.partner
        message = self.build(document)
        if partner.mdn_mode == "async":
            self.pending.add(
                PendingMdn(
                    message_id=message.message_id,
                    document_id=document.document_id,
                    partner_id=partner.partner_id,
                    our_as2_id=partner.our_as2_id,
                    their_as2_id=partner.their_as2_id,
                    mics=message.mics,
                    mic_digest=message.mic_digest,
                    signed_mdn=partner.mdn_signed,
                )
            )
        sent = self._post(url, message)
        meta = {
            "as2_message_id": message.message_id,
            "mic": message.mic,
            "mic_alg": message.mic_digest,
            "http_status": sent.status,
        }
        if partner.mdn_mode == "none":
            return Delivery(f"HTTP {sent.status} from {url}; no MDN requested", meta=meta)
        if partner.mdn_mode == "async":
            meta["mdn"] = "pending"
            return Delivery(
                f"HTTP {sent.status} from {url}; async MDN pending for <{message.message_id}>",
                meta=meta,
            )
        return self._settle_sync(sent, meta)

    def _post(self, url: str, message: OutgoingMessage) -> _Sent:
        headers = [*message.headers, ("User-Agent", self.user_agent)]
        try:
            answer = post(
                url, headers, message.body, timeout=self.timeout, ssl_context=self.ssl_context
            )
        except TransportError as exc:
            raise DeliveryError(str(exc), retryable=True) from exc
        status = answer.status
        if not 200 <= status < 300:
            retryable = status in (408, 425, 429) or status >= 500
            snippet = answer.body[:200].decode("utf-8", "replace").strip()
            raise DeliveryError(
                f"HTTP {status} {answer.reason} from {url}: {snippet}", retryable=retryable
            )
        return _Sent(message, status, answer.headers, answer.body)

    def _settle_sync(self, sent: _Sent, meta: dict[str, object]) -> Delivery:
        message = sent.message
        entity = entity_from_http(sent.headers, sent.body)
        try:
            mdn = parse_mdn(entity, self.partner.their_certs)
        except (MdnError, ProcessingError) as exc:
            raise MdnRejected(
                f"unusable MDN for <{message.message_id}>: {exc}",
                retryable=False,
                evidence=entity.raw,
                disposition=None,
            ) from exc
        verdict = judge(
            mdn, message.message_id, message.mics, require_signed=self.partner.mdn_signed
        )
        meta.update(
            mdn="positive" if verdict.delivered else "negative", disposition=mdn.disposition
        )
        if not verdict.delivered:
            raise MdnRejected(
                f"<{message.message_id}>: {verdict.detail}",
                retryable=verdict.retryable,
                evidence=mdn.raw,
                disposition=mdn.disposition,
            )
        return Delivery(verdict.detail, evidence=mdn.raw, meta=meta)

    def close(self) -> None:
        """Nothing to release: every send opens and closes its own connection."""
