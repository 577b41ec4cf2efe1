"""Receiving AS2 messages: identify, unpack, store, then answer with an MDN.

The order is the channel contract: the handler stores the payload (or, when unpacking
failed, the raw request marked ``failed``) *before* any MDN leaves. HTTP status codes:

- 400: not an AS2 request (AS2-From, AS2-To or Message-ID missing); nothing stored.
- 403: AS2-From/AS2-To is no configured relationship. Nothing is stored and no MDN is sent:
  we cannot sign as an identity we do not have, and strangers get no receipts.
- 503 (Retry-After): the handler could not store; the sender should retry later.
- 200: everything else. A message that fails decryption, signature, policy or
  decompression gets a negative MDN (``processed/error: <modifier>``) with HTTP 200, as
  RFC 4130 expects; its raw request is stored with ``meta["failed"]``.

Duplicates (same partner, same Message-ID and the same payload, already stored successfully)
get the positive MDN again and the handler is not called twice. A Message-ID reused for
another payload is no duplicate: nothing is dropped, the payload is stored as a new document
whose ``meta["reuses_message_id_of"]`` names the earlier one, and a warning is logged.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import traceback
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from ...store import Receipt
from ..base import Handler, Inbound
from .crypto import DEFAULT_MAX_DECOMPRESSED
from .errors import UNEXPECTED_ERROR, ProcessingError, TransportError
from .mdn import MdnRequest, build_mdn, build_report, parse_request
from .mdnpost import MdnPoster, MdnTarget
from .message import bare_message_id, new_message_id, unpack, unquote_as2_id
from .mime import MimeEntity, entity_from_http
from .partner import As2Partner, PartnerLookup
from .transport import HttpAnswer, check_url

log = logging.getLogger("edigate.channels.as2")

MAX_ID_LENGTH = 998  # RFC 5322 line limit: longer header values are not from an AS2 product

# ---------------------------------------------------------------- duplicate detection


@dataclass(frozen=True, slots=True)
class Earlier:
    """What a :class:`MessageIdLog` holds for one Message-ID of a partner.

    ``same``: the document stored with the same payload (a resend: answer, store nothing);
    ``other``: the latest one with another payload (a reused Message-ID: store it anyway).
    """

    same: Receipt | None = None
    other: Receipt | None = None


class MessageIdLog(Protocol):
    """Message-IDs already stored, per partner (a store-backed one replaces the memory one).

    Several documents may share a Message-ID when a partner reuses one for new content;
    ``seen`` tells them apart by the sha256 of the stored payload (``Receipt.sha256``).
    """

    def seen(self, partner_id: str, message_id: str, sha256: str) -> Earlier: ...

    def record(self, partner_id: str, message_id: str, receipt: Receipt) -> None: ...


def earlier_of(receipts: Sequence[Receipt], sha256: str) -> Earlier:
    """The first receipt of ``receipts`` (oldest first) with this payload, and the latest other."""
    same = next((r for r in receipts if r.sha256 == sha256), None)
    other = next((r for r in reversed(receipts) if r.sha256 != sha256), None)
    return Earlier(same, other)


class MemoryMessageIdLog:
    """The last ``capacity`` Message-IDs, in memory, each with its last ``per_id`` documents."""

    def __init__(self, capacity: int = 100_000, per_id: int = 8) -> None:
        self.capacity = capacity
        self.per_id = per_id
        self._ids: OrderedDict[tuple[str, str], tuple[Receipt, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, partner_id: str, message_id: str, sha256: str) -> Earlier:
        with self._lock:
            return earlier_of(self._ids.get((partner_id, message_id), ()), sha256)

    def record(self, partner_id: str, message_id: str, receipt: Receipt) -> None:
        key = (partner_id, message_id)
        with self._lock:
            kept = self._ids.pop(key, ())
            self._ids[key] = (*kept, receipt)[-self.per_id :]
            while len(self._ids) > self.capacity:
                self._ids.popitem(last=False)


class _KeyedLocks:
    """One lock per key while in use: two copies of one message never race past ``seen``."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: tuple[str, str]) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        with lock:
            try:
                yield
            finally:
                with self._guard:
                    lock, users = self._locks[key]
                    if users == 1:
                        del self._locks[key]
                    else:
                        self._locks[key] = (lock, users - 1)


# ---------------------------------------------------------------- the receiver


class As2Receiver:
    """The transport-independent core of the AS2 endpoint: request in, answer out."""

    def __init__(
        self,
        partners: PartnerLookup,
        handler: Handler,
        *,
        message_ids: MessageIdLog | None = None,
        mdn_poster: MdnPoster | None = None,
        max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
        reporting_ua: str = "edigate AS2",
    ) -> None:
        self.partners = partners
        self.handler = handler
        self.message_ids = message_ids or MemoryMessageIdLog()
        self.mdn_poster = mdn_poster or MdnPoster()
        self.max_decompressed = max_decompressed
        self.reporting_ua = reporting_ua
        self._locks = _KeyedLocks()

    def receive(
        self, headers: Sequence[tuple[str, str]], body: bytes, *, remote: str | None = None
    ) -> HttpAnswer:
        """Process one POSTed message and return the HTTP answer (a sync MDN or a status)."""
        return self.receive_entity(entity_from_http(headers, body), remote=remote)

    def receive_entity(self, entity: MimeEntity, *, remote: str | None = None) -> HttpAnswer:
        lower = {k.lower(): v for k, v in reversed(entity.headers)}
        missing = [h for h in ("as2-from", "as2-to", "message-id") if not lower.get(h, "").strip()]
        if missing:
            return HttpAnswer.text(400, f"not an AS2 message: missing {', '.join(missing)}\n")
        as2_from = unquote_as2_id(lower["as2-from"])
        as2_to = unquote_as2_id(lower["as2-to"])
        message_id = bare_message_id(lower["message-id"])
        if len(message_id) > MAX_ID_LENGTH or len(lower["as2-from"]) > MAX_ID_LENGTH:
            return HttpAnswer.text(400, f"Message-ID or AS2-From longer than {MAX_ID_LENGTH}\n")
        partner = self.partners.partner_for(as2_from, as2_to)
        if partner is None:
            log.warning(
                "AS2 message <%s> refused: no partner %r -> %r", message_id, as2_from, as2_to
            )
            return HttpAnswer.text(
                403, f"unknown AS2 relationship: AS2-From {as2_from!r}, AS2-To {as2_to!r}\n"
            )
        request = parse_request(lower)
        meta: dict[str, Any] = {
            "message_id": message_id,
            "as2_from": as2_from,
            "as2_to": as2_to,
            "subject": lower.get("subject"),
        }
        if remote:
            meta["remote"] = remote
        with self._locks.hold((partner.partner_id, message_id)):
            try:
                unpacked = unpack(
                    entity,
                    partner,
                    requested_micalgs=request.micalgs,
                    max_decompressed=self.max_decompressed,
                )
            except ProcessingError as exc:
                return self._failed(entity, partner, request, meta, exc)
            except Exception as exc:  # anything unforeseen still gets a stored copy and an MDN
                log.error("AS2 message <%s>: %s", message_id, traceback.format_exc())
                error = ProcessingError(UNEXPECTED_ERROR, f"{type(exc).__name__}: {exc}")
                return self._failed(entity, partner, request, meta, error)
            meta.update(
                mic=unpacked.mic,
                mic_alg=unpacked.mic_digest,
                signed=unpacked.signed,
                encrypted=unpacked.encrypted,
                compressed=unpacked.compressed,
                content_type=unpacked.content_type,
                layers=list(unpacked.layers),
            )
            digest = hashlib.sha256(unpacked.payload).hexdigest()  # what the store keeps
            try:
                earlier = self.message_ids.seen(partner.partner_id, message_id, digest)
            except Exception as exc:  # the store is down: 503, the partner retries
                return self._unavailable(message_id, exc)
            receipt = earlier.same
            duplicate = receipt is not None
            if receipt is None:
                if earlier.other is not None:  # a reused Message-ID, not a resend
                    meta["reuses_message_id_of"] = earlier.other.document_id
                inbound = Inbound(
                    data=unpacked.payload,
                    channel="as2",
                    partner_id=partner.partner_id,
                    filename=unpacked.filename,
                    meta=meta,
                )
                try:
                    receipt = self.handler(inbound)
                except Exception as exc:
                    return self._unavailable(message_id, exc)
                self.message_ids.record(partner.partner_id, message_id, receipt)
        if not duplicate and earlier.other is not None:
            log.warning(
                "AS2 message <%s> from %s reuses the Message-ID of document %s for other "
                "content: stored as a new document %s",
                message_id,
                as2_from,
                earlier.other.document_id,
                receipt.document_id,
            )
        log.info(
            "AS2 message <%s> from %s %s (document %s, %s)",
            message_id,
            as2_from,
            "was a duplicate" if duplicate else "stored",
            receipt.document_id,
            "+".join(unpacked.layers) or "plain",
        )
        text = None
        if duplicate:
            text = (
                f"The AS2 message <{message_id}> had already been received and processed "
                f"(document {receipt.document_id}); it was not processed again."
            )
        report = build_report(
            original_message_id=message_id,
            recipient=partner.our_as2_id,
            mic=unpacked.mic,
            mic_digest=unpacked.mic_digest,
            text=text,
            reporting_ua=self.reporting_ua,
        )
        return self._answer(
            partner, request, message_id, report, trusted=True, document_id=receipt.document_id
        )

    def _failed(
        self,
        entity: MimeEntity,
        partner: As2Partner,
        request: MdnRequest,
        meta: dict[str, Any],
        error: ProcessingError,
    ) -> HttpAnswer:
        message_id = meta["message_id"]
        log.warning("AS2 message <%s> from %s failed: %s", message_id, meta["as2_from"], error)
        failed_meta = {**meta, "failed": error.reason, "disposition": error.modifier}
        raw = Inbound(
            data=entity.raw, channel="as2", partner_id=partner.partner_id, meta=failed_meta
        )
        try:
            self.handler(raw)
        except Exception as exc:
            return self._unavailable(message_id, exc)
        report = build_report(
            original_message_id=message_id,
            recipient=partner.our_as2_id,
            modifier=error.modifier,
            reason=error.reason,
            reporting_ua=self.reporting_ua,
        )
        return self._answer(partner, request, message_id, report, trusted=False)

    def _unavailable(self, message_id: str, exc: Exception) -> HttpAnswer:
        log.error("AS2 message <%s> could not be stored: %s", message_id, exc)
        answer = HttpAnswer.text(503, "cannot store the message now; retry later\n")
        answer.headers.append(("Retry-After", "60"))
        return answer

    def _answer(
        self,
        partner: As2Partner,
        request: MdnRequest,
        message_id: str,
        report: MimeEntity,
        *,
        trusted: bool,
        document_id: int | None = None,
    ) -> HttpAnswer:
        """The MDN asked for: posted to the async URL the message names only when the
        message passed the partner's checks (``trusted``: its signature verified where the
        profile requires one). A message that failed them may come from anyone who knows
        the partner's AS2 ids, and its URL could make us POST to any address: its negative
        MDN is the HTTP answer, as it is for a mailto: URL. A posted MDN trusts the
        partner's ``tls_ca`` over HTTPS; its outcome names ``document_id``."""
        if not request.wanted:
            return HttpAnswer.text(200, f"AS2 message <{message_id}> received\n")
        mdn_id = new_message_id(partner.our_as2_id)
        headers, body = build_mdn(report, partner, request, message_id=mdn_id)
        url = request.async_url
        if url and not trusted:
            log.warning(
                "AS2 message <%s> failed the partner's checks: its MDN is the HTTP answer, "
                "not posted to %r",
                message_id,
                url,
            )
        elif url and not url.lower().startswith("mailto:"):
            try:
                check_url(url)
            except TransportError:
                log.warning("AS2 message <%s>: bad Receipt-Delivery-Option %r", message_id, url)
            else:
                target = MdnTarget(message_id, partner.partner_id, document_id, partner.tls_ca)
                self.mdn_poster.post(url, headers, body, target)
                return HttpAnswer.text(200, f"AS2 message <{message_id}> received; MDN follows\n")
        # No usable async URL (mailto: is not supported over HTTP): answer synchronously.
        return HttpAnswer(200, headers, body)

    def close(self) -> None:
        self.mdn_poster.close()
