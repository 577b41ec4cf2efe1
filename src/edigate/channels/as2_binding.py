"""AS2 in the gateway: partner profiles become :class:`As2Partner` values, the store keeps
Message-IDs and pending MDNs, and a failed message is a document an operator can find.

The AS2 package knows nothing of profiles or the store; this module is the seam:

- :class:`As2Partners` builds the relationship of a partner from its profile
  (``inbound.as2`` ids and key files, ``outbound`` of type ``as2``), cached until the profile
  or one of its files changes; :class:`RegistryAs2Lookup` answers the server's
  AS2-From/AS2-To lookup from the registry, so an edited profile takes effect without a
  restart, and refuses an AS2-To that is not ours toward that partner.
- :class:`StoreMessageIds` finds a Message-ID among the partner's stored AS2 documents (their
  ``meta["message_id"]``) and compares payloads, so a resend after a restart gets its
  positive MDN again and is not stored twice, while a reused Message-ID with new content
  is stored.
- :class:`StorePendingMdns` keeps the async MDN state of an outbound document in its own
  ``meta`` (``as2_pending``, then ``as2_mdn``); :func:`apply_mdn_outcome` turns a negative
  MDN into a retry or ``dead``, whichever of the dispatcher and the MDN comes last.
- :func:`as2_handler` stores a message that failed unpacking as ``rejected`` with the reason.
- :func:`mdn_delivery_recorder` writes how posting an async MDN we owe ended (``mdn_sent``
  or ``mdn_not_delivered``) into the audit trail of the inbound document it answers.
- :func:`certificate_checks`: expired certificates (error) and those expiring within 30
  days (warning), at the profile line that names them.

Profile paths are relative to the config directory (the folder holding ``partners/``).
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ConfigError, EdigateError, StoreError
from ..events import Events, EventSink
from ..partners import Partner, Registry
from ..partners.profile import As2Out
from ..secret_files import check_private_file
from ..store import Direction, Document, Receipt, RetryBudget, Status, Store
from ..store.schema import utcnow
from .as2.asyncmdn import MdnOutcome, MemoryPendingMdns, PendingMdn, PendingMdnLog
from .as2.certs import (
    WARN_DAYS,
    check_key_matches,
    check_validity,
    load_certificates,
    load_private_key,
)
from .as2.client import As2Channel
from .as2.mdnpost import MdnDelivery, MdnDeliveryCallback
from .as2.partner import As2Partner
from .as2.receiver import Earlier, MemoryMessageIdLog, earlier_of
from .base import Delivery, Handler, Inbound, Outbound

log = logging.getLogger("edigate.as2")

AS2_CHANNEL = "as2"
_KEYS = ("partner_certificate", "our_certificate", "our_private_key")
#: What As2Channel.message_id_for makes: the document id is in the Message-ID.
_OUR_MESSAGE_ID = re.compile(r"^edigate-(\d+)-[0-9a-f]{16}@")
_CONTENT_TYPES = {
    ".edi": "application/edi-x12",
    ".x12": "application/edi-x12",
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".json": "application/json",
}


def config_dir_of(partner: Partner) -> Path:
    """The folder holding ``partners/``: profile file paths are relative to it."""
    return Path(partner.profile_source.path).parent.parent


# ---------------------------------------------------------------- profiles -> As2Partner


def _file(partner: Partner, key: str) -> Path | None:
    ids = partner.profile.inbound.as2
    ref = getattr(ids, key) if ids is not None else None
    return config_dir_of(partner) / ref if ref else None


def _stamp(path: Path | None) -> tuple[str, int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size)


def load_our_private_key(path: Path) -> rsa.RSAPrivateKey:
    """Our AS2 private key, refused when group or others can read the file."""
    check_private_file(path, "AS2 private key")
    return load_private_key(path)


def build_as2_partner(partner: Partner) -> As2Partner:
    """The AS2 relationship of ``partner``; ConfigError at the profile line when it cannot be.

    Inbound policy comes from ``inbound.as2``; how we send (URL, protection, MDN) from an
    ``outbound`` of type ``as2``. Without one we only receive: nothing is signed or encrypted
    toward them except our MDNs.
    """
    profile = partner.profile
    source = partner.profile_source
    ids = profile.inbound.as2
    if ids is None:
        raise source.error("no inbound.as2 section (AS2 ids and certificates)", ("inbound",))
    if ids.our_private_key is None or ids.our_certificate is None:
        raise source.error(
            "our_private_key and our_certificate are needed (to decrypt and sign MDNs)",
            ("inbound", "as2"),
        )

    def load(key: str, loader: Callable[[Path], Any]) -> Any:
        path = _file(partner, key)
        assert path is not None
        try:
            return loader(path)
        except ConfigError as exc:
            raise source.error(f"{path}: {exc.detail}", ("inbound", "as2", key)) from exc

    our_key: rsa.RSAPrivateKey = load("our_private_key", load_our_private_key)
    our_cert: x509.Certificate = load("our_certificate", lambda p: load_certificates(p)[0])
    if not check_key_matches(our_key, our_cert):
        raise source.error(
            f"{ids.our_private_key} is not the key of {ids.our_certificate}",
            ("inbound", "as2", "our_private_key"),
        )
    their: tuple[x509.Certificate, ...] = ()
    if ids.partner_certificate is not None:
        their = tuple(load("partner_certificate", load_certificates))
    out = profile.outbound if isinstance(profile.outbound, As2Out) else None
    options: dict[str, Any] = {"sign": False, "encrypt": False}
    if out is not None:
        options = {
            "url": out.url,
            "sign": out.sign,
            "encrypt": out.encrypt,
            "compress": out.compress,
            "digest": out.sign_algorithm,
            "mdn_digest": out.sign_algorithm,
            "cipher": out.encrypt_algorithm,
            "mdn_mode": out.mdn,
            "mdn_signed": out.mdn_signed,
            "async_mdn_url": out.mdn_url,
            "tls_ca": config_dir_of(partner) / out.tls_ca if out.tls_ca else None,
        }
    try:
        return As2Partner(
            partner_id=partner.id,
            our_as2_id=ids.our_id,
            their_as2_id=ids.partner_id,
            our_key=our_key,
            our_cert=our_cert,
            their_certs=their,
            require_signed=ids.require_signed,
            require_encrypted=ids.require_encrypted,
            subject=f"EDI document from {ids.our_id}",
            **options,
        )
    except ConfigError as exc:
        raise source.error(exc.detail, ("inbound", "as2")) from exc


class As2Partners:
    """:func:`build_as2_partner`, cached until the profile or one of its files changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[Any, ...], As2Partner]] = {}

    def get(self, partner: Partner) -> As2Partner:
        out = partner.profile.outbound
        key = (
            partner.profile.inbound.as2,
            out if isinstance(out, As2Out) else None,
            tuple(_stamp(_file(partner, k)) for k in _KEYS),
        )
        with self._lock:
            cached = self._cache.get(partner.id)
            if cached is not None and cached[0] == key:
                return cached[1]
        built = build_as2_partner(partner)
        with self._lock:
            self._cache[partner.id] = (key, built)
        return built


class RegistryAs2Lookup:
    """The server's ``PartnerLookup``: AS2-From names the partner (its ``inbound.as2``
    ``partner_id``), AS2-To must be our id toward that partner. Anything else is refused
    (HTTP 403) and recorded as an ``as2_refused`` event.
    """

    def __init__(
        self,
        registry: Callable[[], Registry],
        partners: As2Partners | None = None,
        *,
        on_event: EventSink | None = None,
    ) -> None:
        self.registry = registry
        self.partners = partners or As2Partners()
        self.events = Events(log, on_event)

    def partner_for(self, as2_from: str, as2_to: str) -> As2Partner | None:
        found = self.registry().identify_account("as2", as2_from)
        if found.partner is None:
            self._refuse(as2_from, as2_to, found.reason or f"unknown AS2-From {as2_from!r}")
            return None
        ids = found.partner.profile.inbound.as2
        assert ids is not None  # identify_account("as2") only finds partners with AS2 ids
        if ids.our_id != as2_to:
            self._refuse(
                as2_from,
                as2_to,
                f"AS2-To {as2_to!r} is not our AS2 id toward {found.partner.id} ({ids.our_id!r})",
            )
            return None
        try:
            return self.partners.get(found.partner)
        except ConfigError as exc:
            self._refuse(as2_from, as2_to, f"partner {found.partner.id} is misconfigured: {exc}")
            return None

    def _refuse(self, as2_from: str, as2_to: str, reason: str) -> None:
        self.events.emit(
            "as2_refused", logging.WARNING, as2_from=as2_from, as2_to=as2_to, reason=reason
        )


# ---------------------------------------------------------------- receiving


def as2_handler(store: Store, *, on_event: EventSink | None = None) -> Handler:
    """Store what the AS2 endpoint received. A message that failed unpacking (it carries
    ``meta["failed"]``) is stored ``rejected``, never processed, with the reason in its errors.
    """
    events = Events(log, on_event)

    def handle(inbound: Inbound) -> Receipt:
        meta = inbound.meta
        failed = meta.get("failed")
        if failed is None:
            receipt = store.receive(
                inbound.data,
                channel=inbound.channel,
                partner_id=inbound.partner_id,
                filename=inbound.filename,
                meta=meta,
            )
            events.emit(
                "as2_received",
                logging.INFO,
                partner=inbound.partner_id,
                message_id=meta.get("message_id"),
                document=receipt.document_id,
                layers="+".join(meta.get("layers") or []) or "plain",
            )
            if meta.get("reuses_message_id_of") is not None:
                events.emit(
                    "as2_message_id_reused",
                    logging.WARNING,
                    partner=inbound.partner_id,
                    message_id=meta.get("message_id"),
                    document=receipt.document_id,
                    earlier_document=meta["reuses_message_id_of"],
                )
            return receipt
        modifier = str(meta.get("disposition") or "unexpected-processing-error")
        receipt = store.receive(
            inbound.data,
            channel=inbound.channel,
            partner_id=inbound.partner_id,
            filename=inbound.filename or f"as2-{meta.get('message_id', 'message')}.failed",
            meta=meta,
            status=Status.REJECTED,
        )
        error = {
            "code": f"as2.{modifier}",
            "message": f"AS2 message <{meta.get('message_id')}> from {meta.get('as2_from')}: "
            f"{failed} (negative MDN: {modifier})",
            "severity": "error",
        }
        with store.session() as session:
            doc = store.get(session, receipt.document_id)
            store.transition(
                session,
                doc,
                Status.REJECTED,
                "as2_rejected",
                detail={"disposition": modifier, "reason": str(failed)},
                errors=[error],
            )
        events.emit(
            "as2_failed",
            logging.WARNING,
            partner=inbound.partner_id,
            message_id=meta.get("message_id"),
            document=receipt.document_id,
            disposition=modifier,
            reason=failed,
        )
        return receipt

    return handle


def mdn_delivery_recorder(store: Store) -> MdnDeliveryCallback:
    """``on_mdn_delivery`` of the server: an audit event on the document the MDN answers
    (for a resend, the document first stored), whatever that document's status."""

    def record(delivery: MdnDelivery) -> None:
        target = delivery.target
        if target.document_id is None:
            return
        event = "mdn_sent" if delivery.delivered else "mdn_not_delivered"
        detail = {
            "message_id": target.message_id,
            "url": delivery.url,
            "attempts": delivery.attempts,
            "detail": delivery.detail,
        }
        try:
            with store.session() as session:
                doc = session.get(Document, target.document_id)
                if doc is not None:
                    store.audit(session, doc, event, doc.status, doc.status, detail)
        except StoreError as exc:  # the log line of MdnPoster still says what happened
            log.warning("could not record %s on document %s: %s", event, target.document_id, exc)

    return record


class StoreMessageIds:
    """Message-IDs of AS2 documents already stored, per partner, looked up in the store.

    A message stored successfully within ``window_days`` counts; one stored as failed
    does not (its resend is processed). Its payload tells a resend (same blob sha256) from
    a reused Message-ID (another one). Resends seen lately are answered from memory; the
    store decides everything else, so both agree however many documents share an id.
    """

    def __init__(
        self, store: Store, *, window_days: int = 90, on_event: EventSink | None = None
    ) -> None:
        self.store = store
        self.window = dt.timedelta(days=window_days)
        self.events = Events(log, on_event)
        self._recent = MemoryMessageIdLog(capacity=10_000)

    def seen(self, partner_id: str, message_id: str, sha256: str) -> Earlier:
        found = self._recent.seen(partner_id, message_id, sha256)
        if found.same is None:
            found = self._lookup(partner_id, message_id, sha256)
        if found.same is not None:
            self.events.emit(
                "as2_duplicate",
                logging.INFO,
                partner=partner_id,
                message_id=message_id,
                document=found.same.document_id,
            )
        return found

    def _lookup(self, partner_id: str, message_id: str, sha256: str) -> Earlier:
        query = (
            select(Document)
            .where(
                Document.channel == AS2_CHANNEL,
                Document.direction == Direction.INBOUND.value,
                Document.partner_id == partner_id,
                Document.parent_id.is_(None),
                Document.created_at >= utcnow() - self.window,
                Document.meta["message_id"].as_string() == message_id,
            )
            .order_by(Document.id)
        )
        with self.store.session() as session:
            receipts = [
                Receipt(doc.id, doc.blob_sha256, doc.size, doc.correlation_id)
                for doc in session.scalars(query)
                if "failed" not in (doc.meta or {})
            ]
        return earlier_of(receipts, sha256)

    def record(self, partner_id: str, message_id: str, receipt: Receipt) -> None:
        """The document itself carries the Message-ID; remember it in memory too."""
        self._recent.record(partner_id, message_id, receipt)


# ---------------------------------------------------------------- async MDNs of what we send


class StorePendingMdns:
    """The ``PendingMdnLog`` of outbound documents, kept in each document's ``meta``.

    ``as2_pending`` is written before the message is posted (the MDN can come back before
    the POST returns); ``as2_mdn`` holds the outcome and the MDN's blob hash, once.
    """

    def __init__(self, store: Store, *, retry: RetryBudget) -> None:
        self.store = store
        self.retry = retry

    def _find(self, session: Session, message_id: str) -> Document | None:
        match = _OUR_MESSAGE_ID.match(message_id)
        if match is not None:
            query = select(Document).where(Document.id == int(match.group(1)))
        else:
            query = (
                select(Document)
                .where(
                    Document.direction == Direction.OUTBOUND.value,
                    Document.channel == AS2_CHANNEL,
                    Document.meta[("as2_pending", "message_id")].as_string() == message_id,
                )
                .order_by(Document.id.desc())
                .limit(1)
            )
        if self.store.engine.dialect.name == "postgresql":
            query = query.with_for_update()
        doc = session.scalars(query).first()
        pending = (doc.meta or {}).get("as2_pending") if doc is not None else None
        if doc is None or not pending or pending.get("message_id") != message_id:
            return None
        return doc

    def add(self, pending: PendingMdn) -> None:
        with self.store.session() as session:
            query = select(Document).where(Document.id == pending.document_id)
            if self.store.engine.dialect.name == "postgresql":
                query = query.with_for_update()
            doc = session.scalars(query).first()
            if doc is None:
                raise EdigateError(f"no document {pending.document_id} to await an MDN for")
            meta = copy.deepcopy(doc.meta or {})
            meta.pop("as2_mdn", None)
            meta["as2_pending"] = {
                "message_id": pending.message_id,
                "partner_id": pending.partner_id,
                "our_as2_id": pending.our_as2_id,
                "their_as2_id": pending.their_as2_id,
                "mics": pending.mics,
                "mic_digest": pending.mic_digest,
                "signed_mdn": pending.signed_mdn,
                "sent_at": pending.sent_at.isoformat(),
            }
            doc.meta = meta

    def get(self, message_id: str) -> PendingMdn | None:
        with self.store.session() as session:
            doc = self._find(session, message_id)
            if doc is None:
                return None
            p = (doc.meta or {})["as2_pending"]
            return PendingMdn(
                message_id=p["message_id"],
                document_id=doc.id,
                partner_id=p["partner_id"],
                our_as2_id=p["our_as2_id"],
                their_as2_id=p["their_as2_id"],
                mics=dict(p["mics"]),
                mic_digest=p["mic_digest"],
                signed_mdn=bool(p["signed_mdn"]),
                sent_at=dt.datetime.fromisoformat(p["sent_at"]),
            )

    def settle(self, message_id: str, outcome: MdnOutcome) -> bool:
        with self.store.session() as session:
            doc = self._find(session, message_id)
            if doc is None or "as2_mdn" in (doc.meta or {}):
                return False
            proof = self.store.put_blob(session, outcome.evidence)
            meta = copy.deepcopy(doc.meta or {})
            meta["as2_mdn"] = {
                "message_id": message_id,
                "delivered": outcome.delivered,
                "detail": outcome.detail,
                "retryable": outcome.retryable,
                "disposition": outcome.disposition,
                "evidence_sha256": proof.sha256,
                "applied": False,
            }
            doc.meta = meta
            apply_mdn_outcome(self.store, session, doc, self.retry)
        return True

    def outcome(self, message_id: str) -> MdnOutcome | None:
        with self.store.session() as session:
            doc = self._find(session, message_id)
            mdn = (doc.meta or {}).get("as2_mdn") if doc is not None else None
            if doc is None or not mdn:
                return None
            return MdnOutcome(
                message_id=message_id,
                document_id=doc.id,
                partner_id=doc.partner_id or "",
                delivered=bool(mdn["delivered"]),
                detail=str(mdn["detail"]),
                retryable=bool(mdn["retryable"]),
                evidence=self.store.blob_bytes(mdn["evidence_sha256"]),
                disposition=mdn.get("disposition"),
            )


def apply_mdn_outcome(store: Store, session: Session, doc: Document, retry: RetryBudget) -> None:
    """Act on a recorded async MDN once the document is ``sent``.

    Whichever commits last, the dispatcher recording the delivery or the MDN arriving, finds
    the other's write and calls this: a positive MDN becomes the document's evidence; a
    negative one a retry with backoff (``delivery_failed``) or ``dead``, on the delivery
    retry budget (``[worker] delivery_max_attempts``, ``delivery_backoff_seconds``).
    """
    meta = copy.deepcopy(doc.meta or {})
    mdn = meta.get("as2_mdn")
    if not mdn or mdn.get("applied") or doc.status != Status.SENT.value:
        return
    mdn["applied"] = True
    detail = {"message_id": mdn["message_id"], "detail": mdn["detail"]}
    if mdn["delivered"]:
        meta["evidence_sha256"] = mdn["evidence_sha256"]
        doc.meta = meta
        store.audit(session, doc, "mdn_received", Status.SENT, Status.SENT, detail)
        return
    doc.meta = meta
    doc.attempts = (doc.attempts or 0) + 1
    doc.last_error = f"negative MDN: {mdn['detail']}"
    if mdn["retryable"] and doc.attempts < retry.max_attempts:
        doc.next_attempt_at = utcnow() + dt.timedelta(seconds=retry.delay(doc.attempts))
        status = Status.DELIVERY_FAILED
    else:
        doc.next_attempt_at = None
        status = Status.DEAD
    store.transition(session, doc, status, "mdn_negative", detail=detail)


# ---------------------------------------------------------------- sending


class As2Outbound:
    """Builds the ``as2`` outbound channel of a partner (one As2Channel per relationship)."""

    def __init__(
        self,
        partners: As2Partners | None = None,
        *,
        pending: PendingMdnLog | None = None,
        timeout: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.partners = partners or As2Partners()
        self.pending: PendingMdnLog = pending or MemoryPendingMdns()
        self.timeout = timeout
        self.ssl_context = ssl_context

    def channel_for(self, partner: Partner) -> _As2Send:
        relationship = self.partners.get(partner)
        context = self.ssl_context
        out = partner.profile.outbound
        if isinstance(out, As2Out) and out.tls_ca is not None:
            context = _trusting(config_dir_of(partner) / out.tls_ca, partner)
        channel = As2Channel(
            relationship, pending=self.pending, timeout=self.timeout, ssl_context=context
        )
        return _As2Send(channel)


def _trusting(cafile: Path, partner: Partner) -> ssl.SSLContext:
    """A TLS client context trusting ``cafile`` (the partner's CA or self-signed server)."""
    try:
        return ssl.create_default_context(cafile=str(cafile))
    except (OSError, ssl.SSLError) as exc:
        raise partner.profile_source.error(
            f"{cafile}: not a usable CA certificate: {exc}", ("outbound", "tls_ca")
        ) from exc


@dataclass
class _As2Send:
    """As2Channel with the payload's Content-Type chosen from the document's file name."""

    channel: As2Channel

    def send(self, document: Outbound) -> Delivery:
        suffix = Path(document.filename).suffix.lower()
        content_type = _CONTENT_TYPES.get(suffix, "application/octet-stream")
        if document.meta.get("content_type") is None:
            document = replace(document, meta={**document.meta, "content_type": content_type})
        return self.channel.send(document)

    def close(self) -> None:
        self.channel.close()


# ---------------------------------------------------------------- certificate dates


@dataclass(frozen=True, slots=True)
class CertCheck:
    """A certificate problem at the profile line naming the file: ``error`` or ``warning``."""

    severity: str
    problem: ConfigError

    def __str__(self) -> str:
        return str(self.problem) if self.severity == "error" else self.problem.as_warning()


def certificate_checks(
    registry: Registry, *, now: dt.datetime | None = None, warn_days: int = WARN_DAYS
) -> list[CertCheck]:
    """Dates of every AS2 certificate the profiles name, and our keys against our certificates.

    Expired or not yet valid: error; expiring within ``warn_days``: warning. In a partner
    file holding several certificates (a rollover), an expired one beside a valid one is a
    warning (remove it), not an error. Missing files are the registry's own errors.
    """
    checks: list[CertCheck] = []
    for partner in registry:
        ids = partner.profile.inbound.as2
        if ids is None:
            continue
        source = partner.profile_source
        for key in ("partner_certificate", "our_certificate"):
            path = _file(partner, key)
            if path is None or not path.is_file():
                continue
            loc = ("inbound", "as2", key)
            try:
                certs = load_certificates(path)
            except ConfigError as exc:
                checks.append(CertCheck("error", source.error(f"{path}: {exc.detail}", loc)))
                continue
            findings = [check_validity(c, now=now, warn_days=warn_days) for c in certs]
            any_valid = any(not any(f.severity == "error" for f in found) for found in findings)
            for found in findings:
                for finding in found:
                    severity = finding.severity
                    message = finding.message
                    if severity == "error" and any_valid and len(certs) > 1:
                        severity, message = "warning", f"{message}; remove it from {path.name}"
                    checks.append(CertCheck(severity, source.error(message, loc)))
        key_path, cert_path = _file(partner, "our_private_key"), _file(partner, "our_certificate")
        if key_path is None or cert_path is None or not key_path.is_file():
            continue
        loc = ("inbound", "as2", "our_private_key")
        try:
            our_key = load_our_private_key(key_path)
        except ConfigError as exc:
            checks.append(CertCheck("error", source.error(f"{key_path}: {exc.detail}", loc)))
            continue
        try:
            ours = load_certificates(cert_path)[0]
        except ConfigError:
            continue  # reported above
        if not check_key_matches(our_key, ours):
            message = f"{ids.our_private_key} is not the key of {ids.our_certificate}"
            checks.append(CertCheck("error", source.error(message, loc)))
    checks.sort(key=lambda c: (c.problem.path or "", c.problem.line or 0))
    return checks
