"""The outbound dispatcher: deliver created documents over the right channel, then record it.

Routes: documents on the ``erp`` channel go to the ERP folder (``outbox/orders``); partner
documents go over the partner's outbound channel from its profile (``sftp_pickup``,
``folder``, ``sftp_push``, ``as2``, ``email``). An AS2 delivery keeps the partner's signed
MDN as evidence (a blob, ``meta["evidence_sha256"]``); a negative MDN is kept too.

A delivery is recorded only after the channel returned, so a crash in between delivers the
document again under the same name: the ERP folder and the pickup folder overwrite or keep
one copy, never two. A retryable failure goes back to the worker's backoff; a definitive one
(bad configuration, host key mismatch) makes the document ``dead`` at once.

Documents are delivered in batches: the worker hands over its claimed outbound documents
(``process_batch``), every file of a folder channel (ERP outbox, pickup, folder) is written
and fsynced, then each folder once, and all deliveries are recorded in one transaction,
each row still fenced by its claim. The failed attempts go back to the worker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..channels.as2.asyncmdn import PendingMdnLog
from ..channels.as2_binding import As2Outbound, apply_mdn_outcome, config_dir_of
from ..channels.base import (
    BatchChannel,
    Delivery,
    DeliveryError,
    Outbound,
    OutboundChannel,
    send_one,
)
from ..channels.email import EmailOutbound
from ..channels.folder import FolderOutbound
from ..channels.sftp_binding import sftp_endpoint
from ..channels.sftp_client import SftpPush
from ..channels.sftp_pickup import SftpPickup
from ..config import SmtpOutConfig
from ..errors import EdigateError, StoreError
from ..partners import Partner, Registry
from ..partners.profile import As2Out, EmailOut, FolderOut
from ..partners.profile import SftpPickup as SftpPickupSettings
from ..partners.profile import SftpPush as PushSettings
from ..store import PENDING_OUTBOUND, Direction, Document, RetryBudget, Status, Store
from ..store.statuses import ERP_CHANNEL
from ..store.store import about_document, doc_log
from ..store.transitions import Delivered, Held, held_by, orders_delivered, record_deliveries
from .erp import TEST_KEY, ErpFolder


@dataclass(frozen=True, slots=True)
class Pending:
    """The facts of an outbound document that delivery needs."""

    id: int
    channel: str
    partner_id: str | None
    doc_type: str | None
    filename: str
    parent_id: int | None
    blob_sha256: str = ""
    #: What its log lines say of it (partner, type, channel, file, PO, correlation ID).
    about: dict[str, Any] = field(default_factory=dict)
    #: How often an operator resent it (``operations.resend``): a new message each time.
    resends: int = 0
    #: An order from a partner's test interchange: the ERP gets it in its test folder.
    test: bool = False

    @classmethod
    def of(cls, doc: Document) -> Pending:
        return cls(
            doc.id,
            doc.channel,
            doc.partner_id,
            doc.doc_type,
            file_name(doc),
            doc.parent_id,
            doc.blob_sha256,
            about_document(doc) if doc_log.isEnabledFor(logging.INFO) else {},
            int((doc.meta or {}).get("resends", 0)),
            bool((doc.meta or {}).get(TEST_KEY)),
        )


def _about_parent(order: Pending) -> dict[str, Any]:
    """What the log line of the transaction an ERP order came from says of it."""
    keep = ("partner", "po", "correlation")
    return {k: v for k, v in order.about.items() if k in keep}


#: Per document of a batch: None when settled (delivered, or failed for good and recorded),
#: else the error the worker records as a failed attempt (retried with backoff).
Outcomes = dict[int, Exception | None]


class ErpChannel:
    """Canonical documents for the ERP, as files in its outbox folder."""

    def __init__(self, erp: ErpFolder) -> None:
        self.erp = erp

    def send(self, document: Outbound) -> Delivery:
        return send_one(self, document)

    def send_many(self, documents: Sequence[Outbound]) -> list[Delivery | DeliveryError]:
        """Write a batch into the outbox: each file fsynced, each folder fsynced once."""
        written = self.erp.deliver_many(
            [(_erp_kind(d.doc_type, d.meta.get(TEST_KEY)), d.filename, d.data) for d in documents]
        )
        return [
            Delivery(f"written to {path}", meta={"path": str(path)})
            if isinstance(path, Path)
            else DeliveryError(
                f"document {document.document_id}: cannot write {document.filename!r} into the "
                f"ERP outbox {self.erp.outbox}: {path.strerror or path}"
            )
            for document, path in zip(documents, written, strict=True)
        ]

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

    def label_for(self, doc: Pending) -> str:
        """The channel name ``doc`` goes out on now: the partner's outbound type as its
        profile says today (an operator may have changed it before a resend)."""
        if doc.channel == ERP_CHANNEL or doc.partner_id is None:
            return doc.channel
        partner = self.registry().get(doc.partner_id)
        outbound = partner.profile.outbound if partner is not None else None
        return outbound.type if outbound is not None else doc.channel

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
            # The partner's own folder, relative to the config folder like every profile
            # path (never to wherever the process was started): files go straight into it.
            folder = config_dir_of(partner) / settings.path
            key = f"folder:{folder}"
            if key not in self._cache:
                self._cache[key] = FolderOutbound(folder, per_partner=False)
            return self._cache[key]
        if isinstance(settings, PushSettings):
            key = f"push:{partner.id}"
            if key not in self._cache:
                endpoint = sftp_endpoint(partner, settings, self.client_key)
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
    """The worker lane that delivers outbound documents, a claimed batch at a time."""

    def __init__(self, store: Store, routes: Routes, *, retry: RetryBudget) -> None:
        self.store = store
        self.routes = routes
        #: The delivery retry budget, which a negative async MDN counts against too.
        self.retry = retry

    def process(self, doc_id: int, worker: str) -> None:
        """The lane's per-document call: deliver ``doc_id`` alone; its failed attempt is
        raised for the worker to record (batches go through :meth:`process_batch`)."""
        failed = self.process_batch([doc_id], worker)
        if doc_id in failed:
            raise failed[doc_id]

    def process_batch(self, ids: list[int], worker: str) -> dict[int, Exception]:
        """The lane's batch call (``Lane.process_batch``): deliver the documents ``ids`` the
        worker holds; returns those whose attempt failed, for the worker to record. Those it
        no longer holds are left to the worker that took them over."""
        with self.store.reading() as session:  # a read: the claims are committed
            pending = self._claimed(session, worker, ids)
        outcomes = self.deliver(pending, worker)
        return {doc_id: exc for doc_id, exc in outcomes.items() if exc is not None}

    def _claimed(self, session: Session, worker: str, ids: Sequence[int]) -> list[Pending]:
        """Those of the outbound documents ``ids`` that ``worker`` still holds."""
        stmt = select(Document).where(
            Document.id.in_(list(ids)),
            Document.claimed_by == worker,
            Document.direction == Direction.OUTBOUND.value,
            Document.status.in_([s.value for s in PENDING_OUTBOUND]),
        )
        return [Pending.of(doc) for doc in session.scalars(stmt.order_by(Document.id))]

    def deliver(self, pending: Sequence[Pending], worker: str) -> Outcomes:
        """Send each document over its channel (a batch per batch channel), then record
        every delivery in one transaction."""
        outcomes: Outcomes = {}
        groups: dict[int, tuple[OutboundChannel, list[Outbound], list[Pending]]] = {}
        contents = self.store.blobs_bytes(doc.blob_sha256 for doc in pending)
        for doc in pending:
            try:
                channel = self.routes.channel_for(doc)
                doc = replace(doc, channel=self.routes.label_for(doc))
                data = contents.get(doc.blob_sha256)
                if data is None:
                    raise StoreError(f"blob {doc.blob_sha256} of document {doc.id} is missing")
            except DeliveryError as exc:
                outcomes[doc.id] = self._failed(doc.id, worker, exc)
                continue
            except Exception as exc:  # a missing blob: the worker records the attempt
                outcomes[doc.id] = exc
                continue
            _, outbounds, docs = groups.setdefault(id(channel), (channel, [], []))
            outbounds.append(
                Outbound(
                    doc.id,
                    doc.partner_id or "",
                    doc.filename,
                    data,
                    doc.doc_type,
                    {
                        **({"resend": doc.resends} if doc.resends else {}),
                        **({TEST_KEY: True} if doc.test else {}),
                    },
                )
            )
            docs.append(doc)
        delivered: list[tuple[Pending, Delivery]] = []
        lease = _LeaseKeeper(self.store, worker, [doc.id for doc in pending])
        for channel, outbounds, docs in groups.values():
            for doc, result in zip(docs, _send(channel, outbounds, lease.keep), strict=True):
                if isinstance(result, Delivery):
                    delivered.append((doc, result))
                elif isinstance(result, DeliveryError):
                    outcomes[doc.id] = self._failed(doc.id, worker, result)
                else:
                    outcomes[doc.id] = result
        if delivered:
            self._record(delivered, worker)
            for doc, _ in delivered:
                outcomes[doc.id] = None
        return outcomes

    def _failed(self, doc_id: int, worker: str, exc: DeliveryError) -> DeliveryError | None:
        """Keep a negative MDN; a definitive failure is recorded now (dead), a retryable one
        is returned for the worker to record with its backoff."""
        evidence = getattr(exc, "evidence", None)
        if isinstance(evidence, bytes):  # a negative MDN: keep it for the operator
            self._keep_evidence(doc_id, worker, evidence, str(exc))
        if exc.retryable:
            return exc
        self.store.fail(doc_id, worker, str(exc), max_attempts=0)
        return None

    def _record(self, delivered: Sequence[tuple[Pending, Delivery]], worker: str) -> None:
        """One transaction for the batch; a row is updated only if ``worker`` still holds it.

        Plain deliveries are recorded with a few bulk statements (:func:`record_deliveries`);
        one with evidence or an AS2 MDN to settle goes through the ORM, one by one.
        """
        with self.store.session() as session:
            held = held_by(session, self.store, [doc.id for doc, _ in delivered], worker)
            plain: list[tuple[Pending, Delivery, Held]] = []
            for pending, delivery in delivered:
                row = held.get(pending.id)
                if row is None:
                    continue  # the lease passed to another worker: it records its own
                if delivery.evidence is None and "as2_mdn" not in row.meta:
                    plain.append((pending, delivery, row))
                else:
                    self._mark(session, self.store.get(session, pending.id), pending, delivery)
            record_deliveries(
                session,
                self.store,
                [
                    Delivered(
                        pending.id,
                        row.status,
                        Status.DELIVERED if pending.channel == ERP_CHANNEL else Status.SENT,
                        {**row.meta, "delivery": {"detail": d.detail, **d.meta}},
                        {"detail": d.detail},
                        pending.about,
                        pending.channel,
                    )
                    for pending, d, row in plain
                ],
                worker,
            )
            parents = {
                p.parent_id: p
                for p, _ in delivered
                if p.channel == ERP_CHANNEL and p.parent_id is not None and p.id in held
            }
            orders_delivered(
                session,
                self.store,
                {parent: order.id for parent, order in parents.items()},
                {parent: _about_parent(order) for parent, order in parents.items()},
            )

    def _mark(self, session: Session, doc: Document, pending: Pending, delivery: Delivery) -> None:
        """Record one delivery through the ORM (evidence to keep, an MDN to apply)."""
        meta = dict(doc.meta or {})
        meta["delivery"] = {"detail": delivery.detail, **delivery.meta}
        doc.meta = meta
        if delivery.evidence is not None:
            proof = self.store.put_blob(session, delivery.evidence)
            meta["evidence_sha256"] = proof.sha256
        final = Status.DELIVERED if pending.channel == ERP_CHANNEL else Status.SENT
        doc.last_error = None  # an earlier attempt's failure is history now (audit trail)
        doc.channel = pending.channel  # the one it went out on
        self.store.transition(session, doc, final, "delivered", detail={"detail": delivery.detail})
        if "as2_mdn" in meta:  # the async MDN came back before we got here
            apply_mdn_outcome(self.store, session, doc, self.retry)

    def _keep_evidence(self, doc_id: int, worker: str, evidence: bytes, error: str) -> None:
        with self.store.claimed(doc_id, worker) as held:
            if held is None:
                return
            session, doc = held
            proof = self.store.put_blob(session, evidence)
            meta = dict(doc.meta or {})
            meta["rejection_evidence_sha256"] = proof.sha256
            meta["rejection"] = error
            doc.meta = meta


log = logging.getLogger("edigate.dispatch")

#: Seconds between two renewals of a delivering batch's claims.
RENEW_CLAIMS_EVERY = 1.0


class _LeaseKeeper:
    """Renews a batch's claims while it is being delivered one document at a time.

    The deliveries are recorded together at the end: a batch of slow sends (an AS2 partner
    taking seconds per message, a partner's SFTP server timing out) could outlast the
    lease, and another worker would take the documents, those sent but not yet recorded
    included, and send them again. At most one UPDATE per :data:`RENEW_CLAIMS_EVERY`."""

    def __init__(self, store: Store, worker: str, ids: list[int]) -> None:
        self.store, self.worker, self.ids = store, worker, ids
        self.renewed = time.monotonic()

    def keep(self) -> None:
        """Best effort: the sends already made must still be recorded, so a renewal that
        fails (the database busy or down a moment) is logged, never raised."""
        if time.monotonic() - self.renewed < RENEW_CLAIMS_EVERY:
            return
        try:
            self.store.renew_claims(self.ids, self.worker)
        except Exception as exc:
            log.warning("worker %s: claims not renewed mid-batch: %s", self.worker, exc)
        self.renewed = time.monotonic()


def _send(
    channel: OutboundChannel, documents: Sequence[Outbound], keep_lease: Callable[[], None]
) -> list[Delivery | Exception]:
    """Each document's delivery or error: a batch channel takes them at once; one by one,
    the claims are renewed before each send (``keep_lease``)."""
    if isinstance(channel, BatchChannel):
        try:
            return list(channel.send_many(documents))
        except Exception as exc:  # the whole batch failed: each document's attempt failed
            return [exc] * len(documents)
    results: list[Delivery | Exception] = []
    for document in documents:
        keep_lease()
        try:
            results.append(channel.send(document))
        except Exception as exc:
            results.append(exc)
    return results


def _erp_kind(doc_type: str | None, test: bool | None = False) -> str:
    """The outbox folder of a document type: ``orders`` for orders, ``orders-test`` for
    those of partners' test interchanges (the ERP's production import never sees them)."""
    kind = {"order": "orders"}.get(doc_type or "", doc_type or "other")
    return f"{kind}-test" if test else kind


def file_name(doc: Document) -> str:
    """A stable, descriptive name: the same document always gets the same name."""
    kind = (doc.doc_type or "document").lower()
    if doc.channel == ERP_CHANNEL:
        key = doc.po_number or doc.invoice_number or doc.shipment_id or "doc"
        return f"{kind}-{doc.partner_id or 'unknown'}-{key}-{doc.id}.json"
    suffix = ".edi" if doc.format == "x12" else f".{doc.format or 'dat'}"
    return f"{kind}-{doc.interchange_control or doc.id}-{doc.id}{suffix}"
