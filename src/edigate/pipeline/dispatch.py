"""The outbound dispatcher: deliver created documents over the right channel, then record it.

Routes: documents on the ``erp`` channel go to the ERP folder (``outbox/orders``); partner
documents go over the partner's outbound channel from its profile (``sftp_pickup``,
``folder``, ``sftp_push``, ``as2``, ``email``). An AS2 delivery keeps the partner's signed
MDN as evidence (a blob, ``meta["evidence_sha256"]``); a negative MDN is kept too.

A delivery is recorded only after the channel returned, so a crash in between delivers the
document again under the same name: the ERP folder and the pickup folder overwrite or keep
one copy, never two. A retryable failure goes back to the worker's backoff; a definitive one
(bad configuration, host key mismatch) makes the document ``dead`` at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..channels.as2.asyncmdn import PendingMdnLog
from ..channels.as2_binding import As2Outbound, apply_mdn_outcome
from ..channels.base import Delivery, DeliveryError, Outbound, OutboundChannel
from ..channels.email import EmailOutbound
from ..channels.folder import FolderOutbound
from ..channels.sftp_client import SftpEndpoint, SftpPush
from ..channels.sftp_pickup import SftpPickup
from ..config import SmtpOutConfig
from ..errors import EdigateError
from ..partners import Partner, Registry
from ..partners.profile import As2Out, EmailOut, FolderOut
from ..partners.profile import SftpPickup as SftpPickupSettings
from ..partners.profile import SftpPush as PushSettings
from ..store import Document, Status, Store
from .erp import ErpFolder

ERP_CHANNEL = "erp"


@dataclass(frozen=True, slots=True)
class Pending:
    """The facts of an outbound document that delivery needs."""

    id: int
    channel: str
    partner_id: str | None
    doc_type: str | None
    filename: str
    parent_id: int | None


class ErpChannel:
    """Canonical documents for the ERP, as files in its outbox folder."""

    def __init__(self, erp: ErpFolder) -> None:
        self.erp = erp

    def send(self, document: Outbound) -> Delivery:
        kind = {"order": "orders"}.get(document.doc_type or "", document.doc_type or "other")
        path = self.erp.deliver(kind, document.filename, document.data)
        return Delivery(f"written to {path}", meta={"path": str(path)})

    def close(self) -> None:
        pass


class Routes:
    """Which channel carries a document; channels are built once and reused.

    ``smtp_out`` is the relay for partners reached by email; ``pending_mdns`` remembers AS2
    messages sent with an async MDN (the store-backed log in a gateway, so the AS2 endpoint
    that receives the MDN settles the document).
    """

    def __init__(
        self,
        erp: ErpFolder,
        registry: Callable[[], Registry],
        *,
        sftp_root: Path,
        client_key: Path | None = None,
        smtp_out: SmtpOutConfig | None = None,
        pending_mdns: PendingMdnLog | None = None,
    ) -> None:
        self.registry = registry
        self.sftp_root = sftp_root
        self.client_key = client_key
        self.smtp_out = smtp_out
        self._erp = ErpChannel(erp)
        self._pickup = SftpPickup(sftp_root)
        self._cache: dict[str, OutboundChannel] = {}
        self._keys: dict[str, object] = {}
        self.as2 = As2Outbound(pending=pending_mdns)

    def configure(
        self, *, smtp_out: SmtpOutConfig | None = None, pending_mdns: PendingMdnLog | None = None
    ) -> None:
        """Set what the gateway knows once it runs (the relay, the store-backed MDN log)."""
        if smtp_out is not None:
            self.smtp_out = smtp_out
            self._drop("email:")
        if pending_mdns is not None:
            self.as2.pending = pending_mdns
            self._drop("as2:")

    def _drop(self, prefix: str) -> None:
        for key in [k for k in self._cache if k.startswith(prefix)]:
            self._cache.pop(key).close()
            self._keys.pop(key, None)

    def _cached(
        self, key: str, settings: object, build: Callable[[], OutboundChannel]
    ) -> OutboundChannel:
        """The channel for ``key``, rebuilt when the partner's settings changed."""
        if key not in self._cache or self._keys.get(key) != settings:
            old = self._cache.pop(key, None)
            if old is not None:
                old.close()
            self._cache[key] = build()
            self._keys[key] = settings
        return self._cache[key]

    def channel_for(self, doc: Pending) -> OutboundChannel:
        """The channel for ``doc``; a configuration that cannot work is a definitive failure."""
        try:
            return self._channel_for(doc)
        except DeliveryError:
            raise
        except EdigateError as exc:
            raise DeliveryError(str(exc), retryable=False) from exc

    def _channel_for(self, doc: Pending) -> OutboundChannel:
        if doc.channel == ERP_CHANNEL:
            return self._erp
        if doc.partner_id is None:
            raise DeliveryError(f"document {doc.id} has no partner to deliver to", retryable=False)
        partner = self.registry().get(doc.partner_id)
        if partner is None:
            raise DeliveryError(f"partner {doc.partner_id} is not configured", retryable=False)
        return self._partner_channel(partner)

    def _partner_channel(self, partner: Partner) -> OutboundChannel:
        settings = partner.profile.outbound
        if isinstance(settings, SftpPickupSettings):
            return self._pickup
        if isinstance(settings, FolderOut):
            key = f"folder:{settings.path}"
            if key not in self._cache:
                self._cache[key] = FolderOutbound(Path(settings.path))
            return self._cache[key]
        if isinstance(settings, PushSettings):
            key = f"push:{partner.id}"
            if key not in self._cache:
                key_path = settings.key_path or (str(self.client_key) if self.client_key else None)
                endpoint = SftpEndpoint(
                    settings.host,
                    settings.username,
                    settings.host_key_fingerprint,
                    port=settings.port,
                    private_key_path=Path(key_path) if key_path else None,
                )
                self._cache[key] = SftpPush(endpoint, remote_dir=settings.folder)
            return self._cache[key]
        if isinstance(settings, As2Out):
            # As2Outbound caches the relationship itself (keys reloaded when files change).
            return self.as2.channel_for(partner)
        if isinstance(settings, EmailOut):
            relay = self.smtp_out or SmtpOutConfig()
            return self._cached(
                f"email:{partner.id}",
                (settings, relay),
                lambda: EmailOutbound(relay, settings.to, subject=settings.subject),
            )
        kind = settings.type if settings is not None else "none"
        raise DeliveryError(
            f"partner {partner.id}: outbound channel {kind!r} is not available in this gateway",
            retryable=False,
        )

    def close(self) -> None:
        for channel in self._cache.values():
            channel.close()
        self._cache.clear()


class Dispatcher:
    """The worker lane that delivers outbound documents."""

    def __init__(self, store: Store, routes: Routes, *, max_attempts: int = 8) -> None:
        self.store = store
        self.routes = routes
        self.max_attempts = max_attempts

    def process(self, doc_id: int, worker: str) -> None:
        with self.store.session() as session:
            doc = self.store.get(session, doc_id)
            pending = Pending(
                doc.id, doc.channel, doc.partner_id, doc.doc_type, file_name(doc), doc.parent_id
            )
            data = self.store.content(doc)
        try:
            channel = self.routes.channel_for(pending)
            delivery = channel.send(
                Outbound(doc_id, pending.partner_id or "", pending.filename, data, pending.doc_type)
            )
        except DeliveryError as exc:
            evidence = getattr(exc, "evidence", None)
            if isinstance(evidence, bytes):  # a negative MDN: keep it for the operator
                self._keep_evidence(doc_id, worker, evidence, str(exc))
            if exc.retryable:
                raise
            self.store.fail(doc_id, worker, str(exc), max_attempts=0)
            return
        with self.store.claimed(doc_id, worker) as held:
            if held is None:
                return
            session, doc = held
            meta = dict(doc.meta or {})
            meta["delivery"] = {"detail": delivery.detail, **delivery.meta}
            doc.meta = meta
            if delivery.evidence is not None:
                proof = self.store.blobs.put(delivery.evidence)
                meta["evidence_sha256"] = proof.sha256
            final = Status.DELIVERED if pending.channel == ERP_CHANNEL else Status.SENT
            self.store.transition(
                session, doc, final, "delivered", detail={"detail": delivery.detail}
            )
            if "as2_mdn" in meta:  # the async MDN came back before we got here
                apply_mdn_outcome(self.store, session, doc, max_attempts=self.max_attempts)
            if pending.channel == ERP_CHANNEL and pending.parent_id is not None:
                parent = self.store.get(session, pending.parent_id)
                if parent.status == Status.TRANSLATED.value:
                    self.store.transition(
                        session,
                        parent,
                        Status.DELIVERED,
                        "delivered_to_erp",
                        detail={"order": doc_id},
                    )

    def _keep_evidence(self, doc_id: int, worker: str, evidence: bytes, error: str) -> None:
        proof = self.store.blobs.put(evidence)
        with self.store.claimed(doc_id, worker) as held:
            if held is None:
                return
            _session, doc = held
            meta = dict(doc.meta or {})
            meta["rejection_evidence_sha256"] = proof.sha256
            meta["rejection"] = error
            doc.meta = meta


def file_name(doc: Document) -> str:
    """A stable, descriptive name: the same document always gets the same name."""
    kind = (doc.doc_type or "document").lower()
    if doc.channel == ERP_CHANNEL:
        key = doc.po_number or doc.invoice_number or doc.shipment_id or "doc"
        return f"{kind}-{doc.partner_id or 'unknown'}-{key}-{doc.id}.json"
    suffix = ".edi" if doc.format == "x12" else f".{doc.format or 'dat'}"
    return f"{kind}-{doc.interchange_control or doc.id}-{doc.id}{suffix}"
